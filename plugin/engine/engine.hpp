#pragma once
// Engine: the one owner of alert state and of every timer, on one thread. Its inputs are
// events (alert batches now; acks, silences and schedule overrides later), each journaled
// before it is applied, and the instants at which it is asked to catch up:
//   apply(event, now)   runs an event through the stages;
//   advance(now)        fires every timer that is due, in deadline order;
//   nextDeadline()      the instant the caller must call advance() again.
// It never reads a clock and never waits: `serve` calls it as the clock moves, restore
// calls it at each journal entry's received_at, and `replay` at each trace line's time, so
// the three run the same code and differ only in where `now` comes from.
//
// What an event or a timer asks of the outside world comes back as Effects for the caller
// to carry out (store writes, re-send copies for the delivery workers, a checkpoint pass).

#include <memory>
#include <optional>
#include <unordered_map>
#include <variant>
#include <vector>

#include "plugin/engine/timers.hpp"
#include "plugin/pipeline/runner.hpp"

namespace alertbridge::engine {

// A decoded batch from any intake, with the journal entry that holds it (0: none).
struct AlertsArrived {
    core::AlertBatch alerts;
    long long journal_id = 0;
};
using Event = std::variant<AlertsArrived>;

// One slice (by fingerprint) of the firing alerts whose copy output `output` is due for.
struct ResendSlice {
    std::size_t output = 0;
    std::size_t slice = 0;
    std::size_t slices = 1;
    // Alerts whose change was pushed less than `recent` seconds before clock second
    // `second` are left out (Pipeline::resend).
    long long second = 0;
    long long recent = 0;
};

struct Effects {
    state::StateDelta delta;  // for the store: alert changes and outbox rows
    // What the outbox rows tell whom and why, one per row (only when the engine was built
    // to report them: the daemon does not read them yet, replay writes them).
    std::vector<core::Notification> notifications;
    std::vector<ResendSlice> resends;  // copies due (derived state: never stored)
    bool checkpoint = false;           // a checkpoint pass is due
    bool housekeep = false;            // the minute's gauges are due
};

// The active alerts as they were at one instant: their records (the compact form the index
// keeps), copied on the engine thread and read anywhere after. Immutable once published.
struct AlertSnapshot {
    core::TimePoint at{};
    std::vector<std::pair<core::Fingerprint, std::string>> records;
    // Why each alert was or was not told (only with a noise section): its incident, how it
    // joined, what the policy wanted and by which rule, what holds it.
    struct Why {
        std::uint64_t incident = 0;
        std::string incident_title;
        bool incident_paged = false;
        std::string via;
        std::string policy;
        std::string policy_rule;
        std::string suppressed;
        bool notified = false;
    };
    std::unordered_map<core::Fingerprint, Why> why;
};

// What a live reload hands the engine: the new config (held while the stages built from it
// run), the outputs' encoders and re-send intervals in the same order as the delivery
// workers, and the enrich tables' snapshots.
struct Reconfiguration {
    std::shared_ptr<const config::Config> config;
    std::vector<std::shared_ptr<const pipeline::OutputEncoder>> outputs;
    std::vector<core::Duration> resend_intervals;
    std::shared_ptr<const pipeline::TableSnapshots> tables;
};

struct EngineOptions {
    std::vector<core::Duration> resend_intervals;  // per output; zero: no re-sends
    core::Duration checkpoint_interval = std::chrono::seconds(30);
    std::size_t checkpoint_after_changes = 100000;  // or sooner, when this many wait
    bool report_notifications = false;
};

class Engine {
  public:
    Engine(std::unique_ptr<pipeline::Pipeline> pipeline, EngineOptions options);

    // Arms the periodic timers (re-sends, checkpoints, housekeeping) from `now`. Until then
    // only alert timers run: restore applies the journal first, then starts.
    void start(core::TimePoint now);
    bool started() const { return started_; }

    Effects apply(Event event, core::TimePoint now);
    // Events that arrived together (the daemon hands over everything queued since its last
    // turn), each at its own instant, with one delivery for all of them: the outputs get
    // the same alerts in the same order as from apply() per event, in one row per output
    // (within its row bound) instead of one per event. Its rows are keyed by the last
    // journal id among them.
    Effects applyAll(std::vector<std::pair<Event, core::TimePoint>> events);
    // Live reload on the engine thread: new stages and outputs, the same alerts and alert
    // timers; re-send rounds start again from `now`.
    void reconfigure(Reconfiguration r, core::TimePoint now);
    Effects advance(core::TimePoint now);
    // A silence change (journal entry `journal_id`, 0: none) at `now`; `outcome` is the
    // answer for whoever asked.
    Effects changeSilence(const pipeline::incident::SilenceChange& change, long long journal_id,
                          core::TimePoint now, pipeline::incident::SilenceOutcome& outcome);
    std::optional<core::TimePoint> nextDeadline() const { return timers_.next(); }

    // A copy of the active alerts, for readers on other threads.
    std::shared_ptr<const AlertSnapshot> snapshot(core::TimePoint now) const;

    // The copy a re-send slice asks for, built from the alerts as they are now.
    std::vector<state::OutboxInsert> resendRows(const ResendSlice& r) const;
    pipeline::Pipeline::ResendJob resendJob(const ResendSlice& r) const;

    pipeline::Pipeline& pipeline() { return *pipeline_; }
    const pipeline::Pipeline& pipeline() const { return *pipeline_; }
    const Timers& timers() const { return timers_; }

  private:
    void armExpiry();
    void armIncidents();
    void armResends(core::TimePoint now);
    void resendsDue(std::size_t output, core::TimePoint now, Effects& out);

    std::unique_ptr<pipeline::Pipeline> pipeline_;
    EngineOptions options_;
    Timers timers_;
    bool started_ = false;
    // Per output: the last second of the clock whose slice was handed out.
    std::vector<long long> resent_through_;
    // The clock second each output's rounds (re)started: a push before it may have gone to
    // an output that a reload has since replaced, so it does not excuse a re-send.
    std::vector<long long> rounds_from_;
    std::uint64_t unjournaled_ = 0;  // events applied without a journal entry
};

}  // namespace alertbridge::engine
