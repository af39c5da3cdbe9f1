#include "plugin/app/delivery_worker.hpp"

#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <random>

#include <spdlog/spdlog.h>

namespace alertbridge::app {

DeliveryWorker::DeliveryWorker(DeliveryOptions options,
                               std::unique_ptr<pipeline::OutputTransport> transport,
                               state::Store& store, const core::Clock& clock,
                               telemetry::Metrics& metrics)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      store_(store),
      clock_(clock),
      metrics_(metrics.output(options_.name)) {}

DeliveryWorker::~DeliveryWorker() { stop(); }

void DeliveryWorker::start() {
    reader_ = store_.openReader();
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), ("ab-out-" + options_.name).substr(0, 15).c_str());
        loop();
    });
}

void DeliveryWorker::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    {
        std::lock_guard lock(waiter_->mu);
        waiter_->stopping = true;
    }
    waiter_->cv.notify_all();
    if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::notify() {
    {
        std::lock_guard lock(mu_);
        notified_ = true;
    }
    cv_.notify_all();
}

void DeliveryWorker::queueResend(std::size_t slice, std::vector<state::OutboxInsert> rows) {
    if (rows.empty()) {
        queueResend(slice, std::function<std::vector<state::OutboxInsert>()>());
        return;
    }
    queueResend(slice, [rows = std::move(rows)] { return rows; });
}

void DeliveryWorker::queueResend(std::size_t slice,
                                 std::function<std::vector<state::OutboxInsert>()> job) {
    {
        std::lock_guard lock(mu_);
        auto it = std::find_if(resends_.begin(), resends_.end(),
                               [slice](const Resend& r) { return r.slice == slice; });
        if (!job) {
            // Nothing of this slice fires any more: an older copy must not go out either.
            if (it != resends_.end()) resends_.erase(it);
            return;
        }
        if (it != resends_.end()) {
            it->encode = std::move(job);
            it->rows.clear();
        } else {
            resends_.push_back(Resend{slice, std::move(job), {}});
        }
        notified_ = true;
    }
    cv_.notify_all();
}

std::size_t DeliveryWorker::queuedResends() const {
    std::lock_guard lock(mu_);
    return resends_.size();
}

void DeliveryWorker::waitFor(core::Duration d) {
    // In steps of at most a second, so the backlog the intake bound reads stays fresh
    // through a long backoff.
    // On the injected clock, like every other wait.
    auto until = clock_.now() + d;
    for (;;) {
        {
            std::unique_lock lock(mu_);
            auto step = std::min(until, clock_.now() + std::chrono::seconds(1));
            while (!stopping_ && clock_.now() < step) clock_.waitUntil(cv_, lock, step);
            if (stopping_) return;
        }
        if (clock_.now() >= until) return;
        refreshBacklog();
    }
}

void DeliveryWorker::refreshBacklog() {
    if (auto b = reader_->pendingBacklog(options_.name)) {
        metrics_.pending_rows->Set(static_cast<double>(b->rows));
        metrics_.pending_bytes->Set(static_cast<double>(b->bytes));
        backlog_bytes_.store(b->bytes);
    }
}

void DeliveryWorker::scanKeys() {
    // Rows commit in id order (one writer, ids never reused), so every pending row above
    // the last one seen is new. A failed read only costs coalescing, never a row.
    constexpr std::size_t kChunk = 5000;
    for (;;) {
        auto keys = reader_->pendingKeys(options_.name, coalescer_.scannedTo(), kChunk);
        if (!keys) {
            spdlog::warn(
                "Reading the outbox keys failed; the backlog is not coalesced now. "
                "output={} error=\"{}\"",
                options_.name, keys.error());
            return;
        }
        coalescer_.add(*keys);
        if (keys->size() < kChunk) return;
    }
}

core::Duration DeliveryWorker::nextBackoff() {
    // Exponential from backoff.initial, capped at backoff.max, with +-50% jitter.
    thread_local std::mt19937_64 rng{std::random_device{}()};
    double base = std::chrono::duration<double>(options_.backoff.initial).count() *
                  std::pow(2.0, std::min(failures_, 30));
    base = std::min(base, std::chrono::duration<double>(options_.backoff.max).count());
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    ++failures_;
    return std::chrono::duration_cast<core::Duration>(
        std::chrono::duration<double>(base * jitter(rng)));
}

void DeliveryWorker::complete(state::OutboxAttempt attempt) {
    if (attempt.state == state::OutboxState::kPending) {
        store_.recordAttempt(std::move(attempt));
        return;
    }
    // The next read must not see these rows as pending, and a kill must repeat no more than
    // the sends whose completion was not durable: the rows are skipped until their
    // completion commits, and at most completions_in_flight of them wait at once. While the
    // store cannot write it keeps retrying; a stop ends the wait (the rows stay pending
    // and go out again after the restart, which is the promise: at least once).
    // The callback holds only the shared waiter, so a worker stopped and freed by a reload
    // is never touched by a commit that ends later.
    const auto seq = ++completions_;
    completing_.emplace_back(seq, attempt.ids);
    store_.recordAttempt(std::move(attempt), [w = waiter_, seq](const core::Status&) {
        {
            std::lock_guard lock(w->mu);
            w->committed = std::max(w->committed, seq);
        }
        w->cv.notify_all();
    });
    awaitCompletions(std::max<std::size_t>(1, options_.completions_in_flight) - 1);
}

void DeliveryWorker::awaitCompletions(std::size_t at_most) {
    std::unique_lock lock(waiter_->mu);
    waiter_->cv.wait(lock, [&] {
        while (!completing_.empty() && completing_.front().first <= waiter_->committed) {
            completing_.pop_front();
        }
        return completing_.size() <= at_most || waiter_->stopping;
    });
}

std::vector<long long> DeliveryWorker::completingIds() const {
    std::vector<long long> ids;
    for (const auto& [seq, list] : completing_) ids.insert(ids.end(), list.begin(), list.end());
    std::sort(ids.begin(), ids.end());
    return ids;
}

void DeliveryWorker::loop() {
    if (!reader_) {
        spdlog::error("The delivery worker has no store connection and cannot run. output={}",
                      options_.name);
        return;
    }
    auto last_gauge = clock_.now() - std::chrono::hours(1);
    for (;;) {
        {
            std::lock_guard lock(mu_);
            if (stopping_) return;
            notified_ = false;
        }
        auto now = clock_.now();
        // Also when the clock went back: a gauge a second stale at most.
        if (now - last_gauge > std::chrono::seconds(1) || now < last_gauge) {
            refreshBacklog();
            last_gauge = now;
        }
        scanKeys();
        awaitCompletions(completing_.size());  // forgets the committed ones
        auto rows = reader_->pendingOutbox(options_.name, transport_->maxRowsPerSend(),
                                           options_.max_alerts_per_send, now, completingIds());
        if (!rows) {
            spdlog::error("Reading the outbox failed; retrying. output={} error=\"{}\"",
                          options_.name, rows.error());
            waitFor(std::chrono::seconds(1));
            continue;
        }
        bool has_resend;
        {
            std::lock_guard lock(mu_);
            has_resend = !resends_.empty();
        }
        if (rows->empty() && !has_resend && !completing_.empty()) {
            // What is pending may be only what is completing: wait for that, then look again.
            awaitCompletions(0);
            continue;
        }
        if (rows->empty() && !has_resend) {
            // A second at most, so the gauges stay fresh while idle; sooner when a deferred
            // notification falls due.
            auto until = clock_.now() + std::chrono::seconds(1);
            if (auto next = reader_->nextDeferred(options_.name, now); next && *next) {
                until = std::min(until, **next);
            }
            std::unique_lock lock(mu_);
            while (!stopping_ && !notified_ && clock_.now() < until) {
                clock_.waitUntil(cv_, lock, until);
            }
            continue;
        }
        // Outbox rows and re-sends take turns, so a steady stream of new alerts cannot
        // hold back the re-sends that keep the host's copies from expiring, nor the reverse.
        bool resend = has_resend && (rows->empty() || resend_turn_);
        resend_turn_ = !resend;
        bool progressed = resend ? deliverResend() : deliver(*rows);
        if (!progressed) waitFor(nextBackoff());
    }
}

bool DeliveryWorker::deliver(const std::vector<state::OutboxRow>& rows) {
    // Rows in order while the alert total stays within the bound, without what newer rows
    // replace; rows with nothing left are completed unsent first.
    auto plan = coalescer_.plan(rows, options_.max_alerts_per_send);
    if (!plan.superseded_ids.empty()) {
        metrics_.alerts_superseded->Increment(static_cast<double>(plan.left_out_unsent));
        state::OutboxAttempt done;
        done.ids = plan.superseded_ids;
        done.state = state::OutboxState::kSuperseded;
        done.at = clock_.now();
        complete(std::move(done));
        coalescer_.finished(rows, plan.superseded_ids);
    }
    if (plan.send_ids.empty()) return true;
    const auto& bodies = plan.bodies;
    const std::size_t alerts = plan.alerts;
    state::OutboxAttempt attempt;
    attempt.ids = plan.send_ids;
    auto started = clock_.now();
    metrics_.attempts->Increment();
    auto result = transport_->send(bodies, started);
    metrics_.request_duration->Observe(
        std::max(0.0, std::chrono::duration<double>(clock_.now() - started).count()));
    attempt.at = clock_.now();
    attempt.last_error = result.reason;
    switch (result.kind) {
        case core::Delivery::Kind::kOk:
            metrics_.ok->Increment();
            metrics_.alerts_sent->Increment(static_cast<double>(alerts));
            attempt.state = state::OutboxState::kDelivered;
            if (failures_ > 0) {
                spdlog::info("Delivery recovered. output={} after_failures={}", options_.name,
                             failures_);
            }
            failures_ = 0;
            complete(attempt);
            coalescer_.finished(rows, attempt.ids);
            metrics_.alerts_superseded->Increment(static_cast<double>(plan.left_out_sent));
            return true;
        case core::Delivery::Kind::kDrop:
            metrics_.drop->Increment();
            metrics_.alerts_dropped->Increment(static_cast<double>(alerts));
            spdlog::warn(
                "The host refused a delivery for good; it is dropped. output={} "
                "rows={} alerts={} reason=\"{}\"",
                options_.name, attempt.ids.size(), alerts, result.reason);
            attempt.state = state::OutboxState::kDropped;
            failures_ = 0;
            complete(attempt);
            coalescer_.finished(rows, attempt.ids);
            metrics_.alerts_superseded->Increment(static_cast<double>(plan.left_out_sent));
            return true;
        case core::Delivery::Kind::kRetry:
            metrics_.retry->Increment();
            if (failures_ == 0 || failures_ % 10 == 0) {
                spdlog::warn(
                    "Delivery failed; it will be retried. output={} rows={} alerts={} "
                    "attempt={} reason=\"{}\"",
                    options_.name, attempt.ids.size(), alerts, rows.front().attempts + 1,
                    result.reason);
            }
            attempt.state = state::OutboxState::kPending;
            complete(std::move(attempt));
            if (result.retry_after > core::Duration::zero()) {
                ++failures_;
                waitFor(result.retry_after);
                return true;
            }
            return false;
    }
    return false;
}

bool DeliveryWorker::deliverResend() {
    Resend item;
    {
        std::lock_guard lock(mu_);
        if (resends_.empty()) return true;
        item = std::move(resends_.front());
        resends_.pop_front();
    }
    if (item.encode) {
        item.rows = item.encode();
        item.encode = nullptr;
    }
    if (item.rows.empty()) return true;  // every alert of the slice was left out
    // One request per stored-size piece of the slice, merged as the transport allows.
    std::vector<std::string_view> bodies;
    std::size_t alerts = 0;
    for (const auto& r : item.rows) {
        bodies.push_back(r.body);
        alerts += static_cast<std::size_t>(r.alert_count);
    }
    metrics_.attempts->Increment();
    auto started = clock_.now();
    auto result = transport_->send(bodies, started);
    metrics_.request_duration->Observe(
        std::max(0.0, std::chrono::duration<double>(clock_.now() - started).count()));
    if (result.kind == core::Delivery::Kind::kOk) {
        metrics_.ok->Increment();
        metrics_.resent->Increment(static_cast<double>(alerts));
        failures_ = 0;
        return true;
    }
    if (result.kind == core::Delivery::Kind::kDrop) {
        metrics_.drop->Increment();
        metrics_.alerts_dropped->Increment(static_cast<double>(alerts));
        spdlog::warn(
            "The host refused a re-send; it is dropped. output={} alerts={} "
            "reason=\"{}\"",
            options_.name, alerts, result.reason);
        return true;
    }
    metrics_.retry->Increment();
    // Back at the front, unless a newer copy of the slice was queued meanwhile.
    std::lock_guard lock(mu_);
    bool newer = std::any_of(resends_.begin(), resends_.end(),
                             [&](const Resend& r) { return r.slice == item.slice; });
    if (!newer) resends_.push_front(std::move(item));
    return false;
}

}  // namespace alertbridge::app
