// Intake: admitting a decoded request (the marker-label loop guard, the store's health, the
// output backlog and intake queue bounds), journaling it, answering once it is durable, and
// handing it to the engine thread.
#include "plugin/app/daemon.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/core/time.hpp"

namespace alertbridge::app {

namespace {

net::HttpResponse busy(const std::string& message, const char* retry_after) {
    net::HttpResponse res{503, "application/json", jsonString(message), {}};
    res.headers.emplace_back("Retry-After", retry_after);
    return res;
}

}  // namespace

void Daemon::submit(const InputDef& input, std::string body, core::TimePoint received_at,
                    core::Decoded decoded, const net::Responder& respond) {
    const std::size_t accepted = decoded.alerts.size();
    accept(
        input, std::move(body), received_at, std::move(decoded.alerts), nullptr,
        [respond, &input, accepted, rejected = std::move(decoded.rejected)](
            Outcome outcome, long long, const std::string& reason) {
            switch (outcome) {
                case Outcome::kStored:
                case Outcome::kNothingToStore:
                    if (!rejected.empty()) {
                        respond(partialReply(input, accepted, rejected));
                    } else {
                        respond(net::HttpResponse{200, "application/json", "", {}});
                    }
                    return;
                case Outcome::kFull:
                    respond(busy(reason + "; retry later", "1"));
                    return;
                case Outcome::kStoreError:
                    respond(busy("the request could not be stored; retry later: " + reason, "5"));
                    return;
            }
        });
}

// What one accepted request holds in memory until the pipeline has run it: its body and
// its decoded alerts. Emails count their raw message twice (the decoded text is made from
// it, and the archive record may be written with it).
std::size_t Daemon::heldBytes(const std::string& body, const core::AlertBatch& batch) {
    std::size_t n = body.size();
    for (const auto& a : batch) {
        n += sizeof(core::Alert);
        for (const auto& [k, v] : a.labels) n += k.size() + v.size() + 64;
        for (const auto& [k, v] : a.annotations) n += k.size() + v.size() + 64;
    }
    return n;
}

std::string Daemon::backlogFull() const {
    auto set = outputSet();
    if (!set) return "";
    for (std::size_t i = 0; i < set->workers.size(); ++i) {
        auto bytes = set->workers[i]->backlogBytes();
        const auto& def = set->defs[i];
        if (bytes >= static_cast<long long>(def.max_backlog_bytes)) {
            return fmt::format(
                "output {} has {} bytes waiting (max_backlog_bytes {}); its host is not taking "
                "them",
                def.name, bytes, def.max_backlog_bytes);
        }
    }
    return "";
}

void Daemon::accept(const InputDef& input, std::string body, core::TimePoint received_at,
                    core::AlertBatch batch, std::shared_ptr<state::EmailRecord> email,
                    Accepted done) {
    const auto& m = metrics_.input(input.id);
    done = [this, &m, received_at, done = std::move(done)](Outcome outcome, long long id,
                                                           const std::string& reason) {
        auto took = std::chrono::duration<double>(clock_.now() - received_at).count();
        m.request_duration->Observe(std::max(0.0, took));
        done(outcome, id, reason);
    };
    // Timers the batch starts (and the keys of what they send) must come out the same when
    // a restore applies the entry again, at the instant the journal kept.
    received_at = core::journalInstant(received_at);
    auto dropped = dropOwnMarker(batch, config_.global);
    if (dropped > 0) {
        m.loop_dropped->Increment(static_cast<double>(dropped));
        spdlog::debug(
            "Alerts carrying this instance's marker label were dropped. input={} "
            "count={}",
            input.id, dropped);
    }
    if (batch.empty()) {
        done(Outcome::kNothingToStore, 0, "");
        return;
    }
    if (!store_->writable()) {
        // Refused before it is queued: the sender retries, and nothing waits on a store
        // that cannot write. The writer probes and clears this once a write succeeds.
        m.reject("store_error");
        done(Outcome::kStoreError, 0, store_->failure());
        return;
    }
    if (auto full = backlogFull(); !full.empty()) {
        m.reject("backlog_full");
        done(Outcome::kFull, 0, full);
        return;
    }
    const std::size_t n = batch.size();
    const std::size_t bytes = heldBytes(body, batch) + (email ? body.size() : 0);
    if (inflight_bytes_.fetch_add(bytes) + bytes > config_.intake.queue_max_bytes) {
        inflight_bytes_.fetch_sub(bytes);
        m.reject("bytes_full");
        done(Outcome::kFull, 0,
             fmt::format("the intake queue holds its bound of {} bytes (intake.queue_max_bytes)",
                         config_.intake.queue_max_bytes));
        return;
    }
    if (inflight_.fetch_add(n) + n > config_.intake.queue_capacity) {
        inflight_.fetch_sub(n);
        inflight_bytes_.fetch_sub(bytes);
        m.reject("queue_full");
        done(Outcome::kFull, 0, "the intake queue is full");
        return;
    }
    publishQueue();
    auto shared = std::make_shared<core::AlertBatch>(std::move(batch));
    state::JournalEntry entry{0, std::string(input.id), received_at, std::move(body),
                              std::move(email)};
    store_->appendJournal(
        std::move(entry), [this, shared, n, bytes, &m, received_at,
                           done = std::move(done)](const core::Result<long long>& id) {
            if (!id) {
                release(n, bytes);
                m.reject("store_error");
                done(Outcome::kStoreError, 0, id.error());
                return;
            }
            m.alerts_accepted->Increment(static_cast<double>(n));
            metrics_.journalBatches().Increment();
            long long journal_id = *id;
            // Counted before the pacer holds it: its answer may go out on another thread
            // before answer() returns.
            const bool hold = behind();
            if (hold) metrics_.acksHeld().Increment();
            pacer_.answer(hold, [done, journal_id] { done(Outcome::kStored, journal_id, ""); });
            // At received_at, the instant the journal holds, so a restore that
            // applies the same entry computes the same state.
            {
                std::lock_guard lock(mu_);
                tasks_.push_back(Task{[this, shared, journal_id, n, bytes, received_at] {
                                          queueArrival(std::move(*shared), journal_id, n, bytes,
                                                       received_at);
                                      },
                                      /*arrival=*/true});
            }
            cv_.notify_one();
        });
}

void Daemon::release(std::size_t alerts, std::size_t bytes) {
    if (alerts > 0) inflight_.fetch_sub(alerts);
    inflight_bytes_.fetch_sub(bytes);
    publishQueue();
    if (pacer_.held() > 0) pacer_.resume(behind());
}

void Daemon::publishQueue() {
    // Read under the lock: two threads releasing at once (the engine its bytes, the store
    // its alerts) could otherwise leave the count the first one read, after the second
    // one's answer went out with the queue empty.
    std::lock_guard lock(queue_gauges_mu_);
    metrics_.queueDepth().Set(static_cast<double>(inflight_.load()));
    metrics_.queueBytes().Set(static_cast<double>(inflight_bytes_.load()));
}

void Daemon::publishStore() {
    // Read and set under one lock: the writer's thread and the syncer's report commits, and
    // /metrics reads, each from the state as they see it; the last to set it read it last.
    std::lock_guard lock(store_gauge_mu_);
    metrics_.storeWritable().Set(store_ && store_->writable() ? 1 : 0);
}

void Daemon::publishRecordPacking() {
    if (!store_) return;
    // Read under the lock: two scrapes at once must not add the same bytes twice, nor
    // the older reading after the newer (a difference below zero).
    std::lock_guard lock(store_gauge_mu_);
    auto p = store_->recordPacking();
    auto& [raw, stored] = record_bytes_seen_;
    if (p.raw_bytes > raw)
        metrics_.recordBytes(false).Increment(static_cast<double>(p.raw_bytes - raw));
    if (p.stored_bytes > stored) {
        metrics_.recordBytes(true).Increment(static_cast<double>(p.stored_bytes - stored));
    }
    raw = std::max(raw, p.raw_bytes);
    stored = std::max(stored, p.stored_bytes);
    metrics_.recordDictionary().Set(p.dictionary);
}

bool Daemon::behind() const {
    return inflight_bytes_.load() > config_.intake.queue_max_bytes / 16 ||
           inflight_.load() > config_.intake.queue_capacity / 16;
}

}  // namespace alertbridge::app
