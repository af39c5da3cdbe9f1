#pragma once
// Normalize: computes each alert's Alertmanager-compatible fingerprint over the labels as
// received, maps severity onto critical|warning|info, and adds the source kind label.

#include "plugin/config/config.hpp"
#include "plugin/pipeline/stage.hpp"

namespace alertbridge::pipeline {

class Normalize final : public Stage {
  public:
    explicit Normalize(const config::NormalizeConfig& cfg) : cfg_(cfg) {}
    std::string_view name() const override { return "normalize"; }
    void run(core::AlertBatch& batch, Context& ctx) override;

  private:
    const config::NormalizeConfig& cfg_;
};

// One alert as the normalize stage leaves it (fingerprint, severity, source kind): what
// email-test, enrich-test and the email archive show, from the same code the pipeline runs.
core::Alert normalized(const config::NormalizeConfig& cfg, core::Alert alert, core::TimePoint at);

}  // namespace alertbridge::pipeline
