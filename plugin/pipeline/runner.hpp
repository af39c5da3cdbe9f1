#pragma once
// Pipeline: the stages of ARCHITECTURE.md composed in order, plus the timers that belong
// to them (expiry of alerts whose endsAt passed, re-sends that keep hosts' copies alive).
// Owned by one thread (the pipeline strand); no method is thread-safe. Time is passed in.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/pipeline/alert_index.hpp"
#include "plugin/pipeline/enrich/lookup_table.hpp"
#include "plugin/pipeline/incident/book.hpp"
#include "plugin/pipeline/output.hpp"
#include "plugin/pipeline/stage.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::pipeline {

// One decoded, journaled batch and the instant it is applied at.
struct Arrival {
    core::AlertBatch alerts;
    long long journal_id = 0;
    core::TimePoint now{};
};

class Pipeline {
  public:
    // `tables` holds the enrich tables' snapshots, which sources refresh in the background;
    // null: none loaded (every lookup misses).
    Pipeline(const config::Config& config, telemetry::Metrics& metrics,
             std::vector<std::shared_ptr<const OutputEncoder>> outputs,
             std::shared_ptr<const TableSnapshots> tables = nullptr);

    // Live reload: swaps in the stages built from `config` (held for as long as they run),
    // the outputs' encoders and the enrich tables. Every active alert, the checkpoint state
    // and the counters stay. Throws (and keeps the old stages) if a stage cannot be built,
    // which the loader's checks rule out.
    void reconfigure(std::shared_ptr<const config::Config> config,
                     std::vector<std::shared_ptr<const OutputEncoder>> outputs,
                     std::shared_ptr<const TableSnapshots> tables, core::TimePoint now = {});
    std::size_t outputCount() const { return outputs_.size(); }

    // Runs one decoded, journaled batch through every stage. The returned delta holds the
    // outbox rows; state changes wait in the index for the next checkpoint().
    // `notifications` (if given) gets one entry per outbox row: what it tells whom, and why.
    state::StateDelta process(core::AlertBatch batch, long long journal_id, core::TimePoint now,
                              std::vector<core::Notification>* notifications = nullptr);
    // Several batches in order: each runs through every stage before deliver at its own
    // instant, then deliver runs once over everything that came through, at the last one's.
    // The outputs get the same alerts in the same order as from one process() per batch,
    // in a row per output (within its row bound) instead of a row per batch.
    state::StateDelta processAll(std::vector<Arrival> arrivals,
                                 std::vector<core::Notification>* notifications = nullptr);

    // Resolves every active alert whose endsAt has passed and queues its resolution.
    state::StateDelta expire(core::TimePoint now,
                             std::vector<core::Notification>* notifications = nullptr);

    // Request bodies that re-send the firing alerts of slice `slice` of `slices` (by
    // fingerprint: AlertIndex::partOf) to output `output`. Re-sends are derived state:
    // never journaled. A slice walks only the index tables that hold it, so it costs about
    // its own alerts, and no moment of the cycle walks the whole index (at two million
    // alerts such a walk held the engine for a tenth of a second or more). Each slice takes
    // the alerts active when it runs, except those whose change was pushed less than
    // `recent` seconds before clock second `second` (AlertIndex::Entry::shownWithin): the
    // output was just shown them. With `recent` at most one interval, no alert goes
    // unshown for two intervals, well inside the 4 x interval its endsAt allows. Not with
    // incidents: there a re-send also tells the host an alert's new incident.
    std::vector<state::OutboxInsert> resend(std::size_t output, std::size_t slice,
                                            std::size_t slices, long long second = 0,
                                            long long recent = 0) const;
    // The same as work to run elsewhere: the slice's records are copied now and decoded and
    // encoded when the job runs (on the output's delivery thread), so that a round of
    // thousands of alerts never holds the engine thread. Empty when the slice has none.
    using ResendJob = std::function<std::vector<state::OutboxInsert>()>;
    ResendJob resendJob(std::size_t output, std::size_t slice, std::size_t slices,
                        long long second = 0, long long recent = 0) const;

    // One step of a checkpoint pass, at most `max_rows` rows. The first step of a pass
    // snapshots what changed; the last one records the journal id the snapshot reflects.
    // Empty when nothing moved. Steps are cheap to interleave with batches.
    state::StateDelta checkpointStep(std::size_t max_rows);
    bool checkpointRunning() const { return checkpoint_running_; }
    // Every step of a whole pass at once (start-up, shutdown, tests).
    std::vector<state::StateDelta> checkpoint(std::size_t max_rows);
    std::size_t pendingChanges() const { return index_.pendingChanges(); }

    // Loads one persisted record at start-up. Returns false for an unreadable record.
    bool restore(long long row_id, core::Fingerprint fp, std::string_view record);
    // The incident book as the last checkpoint saved it (false: unreadable; left empty).
    bool restoreIncidents(std::string_view state) { return book_ && book_->load(state); }
    // The journal id the loaded records reflect; replay continues after it.
    void restoredCheckpoint(long long journal_id) {
        applied_journal_id_ = checkpointed_id_ = journal_id;
    }

    // Incidents (null unless the config has a noise section): their timers, and the
    // messages to people they send.
    const incident::IncidentBook* incidents() const { return book_.get(); }
    incident::IncidentBook* incidents() { return book_.get(); }
    std::optional<core::TimePoint> nextIncidentDeadline() const {
        return book_ ? book_->nextDeadline() : std::nullopt;
    }
    // Fires the incident book's timers up to `now`; its messages become outbox rows for
    // the notification sinks (and entries of `notifications`, if given).
    state::StateDelta advanceIncidents(core::TimePoint now,
                                       std::vector<core::Notification>* notifications);

    // A silence change from journal entry `journal_id` (0: none), applied to the incident
    // book at `now`; what it releases goes out as rows. Without a noise section there is no
    // book and the answer is 404.
    state::StateDelta changeSilence(const incident::SilenceChange& change, long long journal_id,
                                    core::TimePoint now,
                                    std::vector<core::Notification>* notifications,
                                    incident::SilenceOutcome& outcome);

    std::size_t activeAlerts() const { return index_.size(); }
    const AlertIndex& index() const { return index_; }

  private:
    void buildStages(const config::Config& config,
                     std::vector<std::shared_ptr<const OutputEncoder>> outputs,
                     std::shared_ptr<const TableSnapshots> tables, core::TimePoint now);

    // The config the stages read, after a reload (the first one is the caller's).
    std::shared_ptr<const config::Config> held_;
    telemetry::Metrics& metrics_;
    std::vector<std::shared_ptr<const OutputEncoder>> outputs_;
    AlertIndex index_;
    std::unique_ptr<incident::IncidentBook> book_;
    std::vector<core::Notification> messages_;  // the book's, until the step ends
    // Turns what the book said during this step into rows, and hands the messages on; then
    // shows the incidents that changed to the state sinks (publishIncidents).
    void flushMessages(state::StateDelta& delta, std::vector<core::Notification>* notifications,
                       core::TimePoint now);
    void publishIncidents(core::TimePoint now, state::StateDelta& delta);
    // The labels each incident was last shown under: a change (it starts to page, a worse
    // severity) resolves the old set in the same push, and an incident merged away or
    // closed is resolved under them.
    std::map<std::uint64_t, core::LabelSet> published_;
    std::vector<std::unique_ptr<Stage>> stages_;
    std::vector<telemetry::StageMetrics> stage_metrics_;  // one per stage
    // Runs stage `i` on the batch and counts what it received, passed and dropped.
    void runStage(std::size_t i, core::AlertBatch& batch, Context& ctx);
    long long applied_journal_id_ = 0;  // highest journal id whose batch has run
    long long checkpointed_id_ = 0;
    bool checkpoint_running_ = false;
    long long checkpoint_target_ = 0;
    std::vector<long long> checkpoint_deletes_;
    std::optional<std::string> checkpoint_incidents_;  // the book as of the pass's start
};

}  // namespace alertbridge::pipeline
