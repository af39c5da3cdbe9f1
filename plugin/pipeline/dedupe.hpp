#pragma once
// Dedupe: the same fingerprint updates the same active alert, with Alertmanager's merge
// rules (earliest startsAt kept; newest annotations and endsAt win). Only alerts that are
// new, changed or resolved pass on; repeats and re-sends are counted and stop here.
// State changes stay in the index (marked dirty) until the next checkpoint.

#include "plugin/pipeline/alert_index.hpp"
#include "plugin/pipeline/stage.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::pipeline {

class Dedupe final : public Stage {
  public:
    Dedupe(AlertIndex& index, telemetry::Metrics& metrics);
    std::string_view name() const override { return "dedupe"; }
    void run(core::AlertBatch& batch, Context& ctx) override;

  private:
    AlertIndex& index_;
    telemetry::Counter& new_;
    telemetry::Counter& changed_;
    telemetry::Counter& repeat_;
    telemetry::Counter& resolved_;
    telemetry::Counter& resolved_unknown_;
};

}  // namespace alertbridge::pipeline
