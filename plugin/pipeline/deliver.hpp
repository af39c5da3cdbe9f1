#pragma once
// Deliver: turns the alerts that reached the end of the pipeline into outbox rows, one or
// more per output (each row at most the output's maximum alerts per request). The rows are
// committed with the rest of the delta and then sent by the delivery workers.

#include <memory>
#include <vector>

#include "plugin/pipeline/output.hpp"
#include "plugin/pipeline/stage.hpp"

namespace alertbridge::pipeline {

class Deliver final : public Stage {
  public:
    explicit Deliver(std::vector<std::shared_ptr<const OutputEncoder>> outputs)
        : outputs_(std::move(outputs)) {}
    std::string_view name() const override { return "deliver"; }
    void run(core::AlertBatch& batch, Context& ctx) override;

  private:
    std::vector<std::shared_ptr<const OutputEncoder>> outputs_;
};

// Splits `alerts` into rows of at most encoder.maxAlertsPerRow() and encodes each.
std::vector<state::OutboxInsert> encodeRows(const OutputEncoder& encoder,
                                            const std::vector<const core::Alert*>& alerts);

}  // namespace alertbridge::pipeline
