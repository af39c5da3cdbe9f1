// The engine side of the daemon: restore after a restart, the engine thread's loop (it
// waits on the injected clock until the engine's next deadline or the next task), and
// carrying out what the engine asks: store writes, checkpoints, re-send copies, gauges.
#include <pthread.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "plugin/app/daemon.hpp"

namespace alertbridge::app {

namespace {
// Under load the engine applies what arrived at most once per interval, or as soon as this
// many alerts wait: every turn costs each output an outbox row, its completion and its log
// entry (about ten pages of the store's log whatever the row holds), so one-alert requests
// arriving a thousand times a second made as many rows, and the commits every request waits
// on twice as long. An engine idle for an interval applies a batch at once; a timer that
// falls due applies what waits first. A state sink sees changes up to 5 ms later.
constexpr core::Duration kApplyInterval = std::chrono::milliseconds(5);
constexpr std::size_t kApplyAlerts = 200;
}  // namespace

core::Status Daemon::restore() {
    auto reader = store_->openReader();
    if (!reader) return core::Error{"cannot open a read connection to the store"};
    std::size_t restored = 0, damaged = 0;
    auto s =
        reader->forEachAlert([&](long long row, core::Fingerprint fp, std::string_view record) {
            if (engine_->pipeline().restore(row, fp, record)) {
                ++restored;
            } else {
                ++damaged;
            }
        });
    if (!s) return core::Error{"cannot read active alerts: " + s.error()};
    if (damaged > 0) {
        spdlog::warn("Some stored alerts could not be read and were skipped. count={}", damaged);
    }

    // The incident book as of the checkpoint, before the journal after it runs again.
    auto incidents = reader->incidentsState();
    if (!incidents) return core::Error{"cannot read the incidents: " + incidents.error()};
    if (!incidents->empty() && engine_->pipeline().incidents() != nullptr) {
        if (engine_->pipeline().restoreIncidents(*incidents)) {
            spdlog::info("Incidents restored. open={}",
                         engine_->pipeline().incidents()->open().size());
        } else {
            spdlog::warn(
                "The stored incidents could not be read; open incidents start afresh from the "
                "alerts that fire.");
        }
    }
    // Requests journaled after the last checkpoint run again, in order.
    auto checkpoint_id = reader->checkpointJournalId();
    if (!checkpoint_id) return core::Error{"cannot read the checkpoint: " + checkpoint_id.error()};
    engine_->pipeline().restoredCheckpoint(*checkpoint_id);
    auto outbox_id = reader->outboxJournalId();
    if (!outbox_id) return core::Error{"cannot read the outbox mark: " + outbox_id.error()};
    replayed_outbox_id_ = *outbox_id;
    std::size_t replayed = 0;
    long long after = *checkpoint_id;
    for (;;) {
        auto entries = reader->journalAfter(after, 500);
        if (!entries) return core::Error{"cannot read the journal: " + entries.error()};
        if (entries->empty()) break;
        for (auto& e : *entries) {
            after = e.id;
            if (e.input == kSilenceInput) {
                applySilence(e.body, e.id, e.received_at, nullptr);
                ++replayed;
                continue;
            }
            const InputDef* input = findInput(e.input);
            core::Result<core::AlertBatch> batch = core::Error{"unknown input"};
            if (e.input == email::kInput) {
                // Parsed once for both the alert and its archive record (if the crash beat it).
                auto decoded = decodeEmail(e.body, "", e.received_at, /*count=*/false);
                batch = core::AlertBatch{decoded.result.alert};
                store_->recordEmail(emailRecord(decoded, e.id, e.received_at, e.body));
            } else if (input != nullptr) {
                // The same alerts as when it arrived: a rejected one is rejected again.
                auto decoded = input->decode(e.body, e.received_at, decode_);
                if (decoded) {
                    batch = std::move(decoded->alerts);
                } else {
                    batch = core::Error{decoded.error()};
                }
            }
            if (!batch) {
                spdlog::error(
                    "A journal entry could not be decoded on replay and is skipped. "
                    "id={} input={} error=\"{}\"",
                    e.id, e.input, batch.error());
                continue;
            }
            dropOwnMarker(*batch, config_.global);
            // At the instant it arrived: timers due before it (an alert that ended in
            // between) fire first, and its alerts age from then, not from the restart.
            handle(engine_->advance(e.received_at), 0);
            runBatch(std::move(batch).value(), e.id, 0, e.received_at);
            ++replayed;
        }
    }
    handle(engine_->advance(clock_.now()), 0);
    checkpointAll();
    store_->flush();
    spdlog::info("State restored. active_alerts={} replayed_requests={} checkpoint={}",
                 engine_->pipeline().activeAlerts(), replayed, *checkpoint_id);
    return core::okStatus();
}

void Daemon::post(std::function<void()> task) {
    {
        std::lock_guard lock(mu_);
        tasks_.push_back(Task{std::move(task)});
    }
    cv_.notify_one();
}

void Daemon::engineLoop() {
    std::deque<Task> batch;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            for (;;) {
                if (stopping_ || !tasks_.empty()) break;
                const auto now = clock_.now();
                auto deadline = engine_->nextDeadline();
                if (!arrivals_.events.empty() && arrivals_.counted < kApplyAlerts) {
                    deadline = deadline ? std::min(*deadline, next_apply_) : next_apply_;
                }
                if (deadline && now >= *deadline) break;
                // No deadline: an hour is as good as forever, since a task wakes it.
                clock_.waitUntil(cv_, lock, deadline.value_or(now + std::chrono::hours(1)));
            }
            if (stopping_ && tasks_.empty()) {
                applyArrivals();
                return;
            }
            batch.swap(tasks_);
        }
        for (auto& t : batch) {
            // Any other task (a reload, a snapshot, a checkpoint step) sees every batch
            // queued before it applied.
            if (!t.arrival) applyArrivals();
            t.run();
        }
        batch.clear();
        const auto now = clock_.now();
        const auto deadline = engine_->nextDeadline();
        // A timer that is due fires after the batches that arrived before it, as restore
        // orders them; otherwise batches wait for the apply interval to end.
        if (now >= next_apply_ || arrivals_.counted >= kApplyAlerts ||
            (deadline && now >= *deadline)) {
            applyArrivals();
        }
        if (arrivals_.events.empty()) handle(engine_->advance(now), 0);
    }
}

void Daemon::runBatch(core::AlertBatch batch, long long journal_id, std::size_t counted,
                      core::TimePoint now) {
    for (auto& a : batch) a.origin.journal_id = journal_id;
    auto effects = engine_->apply(engine::AlertsArrived{std::move(batch), journal_id}, now);
    if (journal_id <= replayed_outbox_id_) {
        // Replay after a crash: this entry's outbox rows were committed before it, and are
        // delivered or still pending. Queuing them again would only send them twice.
        effects.delta.outbox.clear();
    } else {
        effects.delta.outbox_journal_id = journal_id;
    }
    handle(std::move(effects), counted);
}

void Daemon::queueArrival(core::AlertBatch batch, long long journal_id, std::size_t counted,
                          std::size_t bytes, core::TimePoint now) {
    for (auto& a : batch) a.origin.journal_id = journal_id;
    arrivals_.events.emplace_back(engine::AlertsArrived{std::move(batch), journal_id}, now);
    arrivals_.last_id = std::max(arrivals_.last_id, journal_id);
    arrivals_.counted += counted;
    arrivals_.bytes += bytes;
}

void Daemon::applyArrivals() {
    if (arrivals_.events.empty()) return;
    next_apply_ = clock_.now() + kApplyInterval;
    Arrivals a;
    std::swap(a, arrivals_);
    auto effects = engine_->applyAll(std::move(a.events));
    // Entries committed after the restore: above every id whose rows are stored already.
    if (a.last_id <= replayed_outbox_id_) {
        effects.delta.outbox.clear();
    } else {
        effects.delta.outbox_journal_id = a.last_id;
    }
    handle(std::move(effects), a.counted);
    release(0, a.bytes);
}

void Daemon::handle(engine::Effects effects, std::size_t counted) {
    commitDelta(std::move(effects.delta), counted);
    // Re-sends start once the engine does (after restore), when the workers exist. The
    // engine and the set are swapped together on this thread, so their numbering agrees.
    if (!effects.resends.empty()) {
        auto set = outputSet();
        for (const auto& r : effects.resends) {
            set->workers.at(r.output)->queueResend(r.slice, engine_->resendJob(r));
        }
    }
    if (effects.housekeep) {
        checkCalendars(clock_.now(), false);
        countSilences(clock_.now());
    }
    if (effects.checkpoint && !engine_->pipeline().checkpointRunning()) checkpointStep();
}

void Daemon::commitDelta(state::StateDelta delta, std::size_t counted) {
    if (delta.empty()) {
        // Through release(): it may be the last release a held answer waits for.
        if (counted > 0) release(counted, 0);
        return;
    }
    bool has_outbox = !delta.outbox.empty();
    store_->applyDelta(std::move(delta), [this, has_outbox, counted](const core::Status& s) {
        if (counted > 0) release(counted, 0);
        if (!s.ok()) return;  // only when stopping: the journal replays it on the next start
        if (has_outbox) {
            if (auto set = outputSet()) {
                for (const auto& w : set->workers) w->notify();
            }
        }
    });
}

// Runs on the pipeline thread. Each step is committed before the next is taken, so a
// pass holds at most one step's records in memory and never monopolises the writer.
void Daemon::checkpointStep() {
    auto d = engine_->pipeline().checkpointStep(256);
    if (d.empty()) return;
    bool more = engine_->pipeline().checkpointRunning();
    store_->applyDelta(std::move(d), [this, more](const core::Status& s) {
        if (s.ok() && more) post([this] { checkpointStep(); });
    });
}

// The whole pass at once; only while no pipeline thread runs (start-up, shutdown).
void Daemon::checkpointAll() {
    for (auto& d : engine_->pipeline().checkpoint(2000)) commitDelta(std::move(d), 0);
}

}  // namespace alertbridge::app
