#pragma once
// Deliver: turns the alerts that reached the end of the pipeline into outbox rows, one or
// more per output (each row at most the output's maximum alerts per request). The rows are
// committed with the rest of the delta and then sent by the delivery workers.

#include <memory>
#include <vector>

#include "plugin/pipeline/alert_index.hpp"
#include "plugin/pipeline/incident/book.hpp"
#include "plugin/pipeline/output.hpp"
#include "plugin/pipeline/stage.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::pipeline {

class Deliver final : public Stage {
  public:
    // With the incident book (the config has a noise section), notification sinks get the
    // book's messages instead of every change, and state sinks see each alert marked as a
    // member of its incident (pipeline/incident/publish.hpp), or not at all if they show
    // only incidents. With `index`, each firing alert pushed to the state outputs is marked
    // there as shown (AlertIndex::markShown), so that re-sends need not repeat it at once.
    Deliver(std::vector<std::shared_ptr<const OutputEncoder>> outputs, telemetry::Metrics& metrics,
            const incident::IncidentBook* book = nullptr, AlertIndex* index = nullptr)
        : outputs_(std::move(outputs)), metrics_(metrics), book_(book), index_(index) {}
    std::string_view name() const override { return "deliver"; }
    void run(core::AlertBatch& batch, Context& ctx) override;

  private:
    std::vector<std::shared_ptr<const OutputEncoder>> outputs_;
    telemetry::Metrics& metrics_;
    const incident::IncidentBook* book_ = nullptr;
    AlertIndex* index_ = nullptr;
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
