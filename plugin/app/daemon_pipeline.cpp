// The pipeline side of the daemon: restore after a restart, the pipeline thread's loop,
// commits of its state changes, checkpoints, expiry and re-send slices.
#include <pthread.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "plugin/app/daemon.hpp"

namespace alertbridge::app {

core::Status Daemon::restore() {
    auto reader = store_->openReader();
    if (!reader) return core::Error{"cannot open a read connection to the store"};
    std::size_t restored = 0, damaged = 0;
    auto s =
        reader->forEachAlert([&](long long row, core::Fingerprint fp, std::string_view record) {
            if (pipeline_->restore(row, fp, record)) {
                ++restored;
            } else {
                ++damaged;
            }
        });
    if (!s) return core::Error{"cannot read active alerts: " + s.error()};
    if (damaged > 0) {
        spdlog::warn("Some stored alerts could not be read and were skipped. count={}", damaged);
    }

    // Requests journaled after the last checkpoint run again, in order.
    auto checkpoint_id = reader->checkpointJournalId();
    if (!checkpoint_id) return core::Error{"cannot read the checkpoint: " + checkpoint_id.error()};
    pipeline_->restoredCheckpoint(*checkpoint_id);
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
            runBatch(std::move(batch).value(), e.id, 0);
            ++replayed;
        }
    }
    checkpointAll();
    store_->flush();
    spdlog::info("State restored. active_alerts={} replayed_requests={} checkpoint={}",
                 pipeline_->activeAlerts(), replayed, *checkpoint_id);
    return core::okStatus();
}

void Daemon::post(std::function<void()> task) {
    {
        std::lock_guard lock(mu_);
        tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
}

void Daemon::pipelineLoop() {
    auto next_tick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    std::deque<std::function<void()>> batch;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            cv_.wait_until(lock, next_tick, [this] { return stopping_ || !tasks_.empty(); });
            if (stopping_ && tasks_.empty()) return;
            batch.swap(tasks_);
        }
        for (auto& t : batch) t();
        batch.clear();
        if (std::chrono::steady_clock::now() >= next_tick) {
            tick();
            next_tick = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        }
    }
}

void Daemon::runBatch(core::AlertBatch batch, long long journal_id, std::size_t counted) {
    for (auto& a : batch) a.origin.journal_id = journal_id;
    auto delta = pipeline_->process(std::move(batch), journal_id, clock_.now());
    if (journal_id <= replayed_outbox_id_) {
        // Replay after a crash: this entry's outbox rows were committed before it, and are
        // delivered or still pending. Queuing them again would only send them twice.
        delta.outbox.clear();
    } else {
        delta.outbox_journal_id = journal_id;
    }
    commitDelta(std::move(delta), counted);
}

void Daemon::commitDelta(state::StateDelta delta, std::size_t counted) {
    if (delta.empty()) {
        if (counted > 0) inflight_.fetch_sub(counted);
        return;
    }
    bool has_outbox = !delta.outbox.empty();
    store_->applyDelta(std::move(delta), [this, has_outbox, counted](const core::Status& s) {
        if (counted > 0) release(counted, 0);
        if (!s.ok()) return;  // only when stopping: the journal replays it on the next start
        if (has_outbox) {
            for (auto& w : workers_) w->notify();
        }
    });
}

// Runs on the pipeline thread. Each step is committed before the next is taken, so a
// pass holds at most one step's records in memory and never monopolises the writer.
void Daemon::checkpointStep() {
    auto d = pipeline_->checkpointStep(2000);
    if (!pipeline_->checkpointRunning()) last_checkpoint_ = std::chrono::steady_clock::now();
    if (d.empty()) return;
    bool more = pipeline_->checkpointRunning();
    store_->applyDelta(std::move(d), [this, more](const core::Status& s) {
        if (s.ok() && more) post([this] { checkpointStep(); });
    });
}

// The whole pass at once; only while no pipeline thread runs (start-up, shutdown).
void Daemon::checkpointAll() {
    for (auto& d : pipeline_->checkpoint(2000)) commitDelta(std::move(d), 0);
    last_checkpoint_ = std::chrono::steady_clock::now();
}

void Daemon::tick() {
    auto now = clock_.now();
    checkCalendars(now, false);
    commitDelta(pipeline_->expire(now), 0);
    if (!pipeline_->checkpointRunning() && (std::chrono::steady_clock::now() - last_checkpoint_ >=
                                                config_.storage.checkpoint_interval ||
                                            pipeline_->pendingChanges() > 100000)) {
        checkpointStep();
    }
    // Each second of the clock owns one slice of the firing alerts (by fingerprint), so
    // every alert is re-sent once per resend_interval. A tick that comes late (a busy
    // pipeline thread) queues every second it missed, so no slice is ever skipped. The
    // worker keeps one copy per slice (the newest), so a busy or unreachable output delays
    // a slice but never loses it, and memory holds at most one encoded copy of the firing
    // alerts. After a restart the first full round ends within one interval, well inside
    // the 4x TTL the hosts were given.
    const long long second =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    if (last_resend_second_ == 0 || second < last_resend_second_) last_resend_second_ = second - 1;
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
        if (outputs_[i].resend_interval == core::Duration::zero()) continue;
        auto secs =
            std::chrono::duration_cast<std::chrono::seconds>(outputs_[i].resend_interval).count();
        const auto slices = static_cast<long long>(std::max<long long>(1, secs));
        const long long from = std::max(last_resend_second_ + 1, second - slices + 1);
        for (long long s = from; s <= second; ++s) {
            auto slice = static_cast<std::size_t>(s % slices);
            workers_[i]->queueResend(slice,
                                     pipeline_->resend(i, slice, static_cast<std::size_t>(slices)));
        }
    }
    last_resend_second_ = second;
}

}  // namespace alertbridge::app
