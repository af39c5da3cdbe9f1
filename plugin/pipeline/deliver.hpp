#pragma once
// Deliver: turns the alerts that reached the end of the pipeline into outbox rows, one or
// more per output (each row at most the output's maximum alerts per request). The rows are
// committed with the rest of the delta and then sent by the delivery workers.

#include <memory>
#include <vector>

#include "plugin/pipeline/output.hpp"
#include "plugin/pipeline/stage.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::pipeline {

class Deliver final : public Stage {
  public:
    // `states_only`: notification sinks get the incident stage's messages instead of every
    // change (the config has a noise section).
    Deliver(std::vector<std::shared_ptr<const OutputEncoder>> outputs, telemetry::Metrics& metrics,
            bool states_only = false)
        : outputs_(std::move(outputs)), metrics_(metrics), states_only_(states_only) {}
    std::string_view name() const override { return "deliver"; }
    void run(core::AlertBatch& batch, Context& ctx) override;

  private:
    std::vector<std::shared_ptr<const OutputEncoder>> outputs_;
    telemetry::Metrics& metrics_;
    bool states_only_ = false;
    std::uint64_t refused_ = 0;  // alerts left out for an output that cannot take them
};

// Splits the alerts the encoder can take into rows of at most encoder.maxAlertsPerRow()
// and encodes each. Alerts it refuses are left out; `refused` (if given) gets them.
// `chunks` (if given) gets the alerts of each row.
std::vector<state::OutboxInsert> encodeRows(
    const OutputEncoder& encoder, const std::vector<const core::Alert*>& alerts,
    std::vector<std::pair<const core::Alert*, std::string>>* refused = nullptr,
    std::vector<std::vector<const core::Alert*>>* chunks = nullptr);

// Why a row of these alerts goes out: a resolution when every alert in it ends, news when
// one of them is new, an update otherwise.
core::NotifyReason reasonOf(const std::vector<const core::Alert*>& row);

// What a row of these alerts tells: a resolution when every alert in it ends, news when
// one of them is new, an update otherwise.
core::Notification notice(const std::string& output, const std::vector<const core::Alert*>& row,
                          core::TimePoint at);

// One outbox row per notification sink for each message to people.
void messageRows(const std::vector<std::shared_ptr<const OutputEncoder>>& outputs,
                 const std::vector<core::Notification>& messages, state::StateDelta& delta);

}  // namespace alertbridge::pipeline
