#pragma once
// Pipeline: the stages of ARCHITECTURE.md composed in order, plus the timers that belong
// to them (expiry of alerts whose endsAt passed, re-sends that keep hosts' copies alive).
// Owned by one thread (the pipeline strand); no method is thread-safe. Time is passed in.

#include <memory>
#include <string>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/pipeline/alert_index.hpp"
#include "plugin/pipeline/output.hpp"
#include "plugin/pipeline/stage.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::pipeline {

class Pipeline {
  public:
    Pipeline(const config::Config& config, telemetry::Metrics& metrics,
             std::vector<std::shared_ptr<const OutputEncoder>> outputs);

    // Runs one decoded, journaled batch through every stage. The returned delta holds the
    // state changes and outbox rows, and marks the journal entry processed.
    state::StateDelta process(core::AlertBatch batch, long long journal_id, core::TimePoint now);

    // Resolves every active alert whose endsAt has passed and queues its resolution.
    state::StateDelta expire(core::TimePoint now);

    // Request bodies that re-send the firing alerts of slice `slice` of `slices` (by
    // fingerprint) to output `output`. Re-sends are derived state: never journaled.
    std::vector<state::OutboxInsert> resend(std::size_t output, std::size_t slice,
                                            std::size_t slices) const;

    // Loads one persisted record at start-up. Returns false for an unreadable record.
    bool restore(core::Fingerprint fp, std::string_view record);

    std::size_t activeAlerts() const { return index_.size(); }
    const AlertIndex& index() const { return index_; }
    const std::vector<std::unique_ptr<Stage>>& stages() const { return stages_; }

  private:
    telemetry::Metrics& metrics_;
    std::vector<std::shared_ptr<const OutputEncoder>> outputs_;
    AlertIndex index_;
    std::vector<std::unique_ptr<Stage>> stages_;
    Stage* deliver_ = nullptr;
};

}  // namespace alertbridge::pipeline
