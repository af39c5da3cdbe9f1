#include "plugin/app/delivery_worker.hpp"

#include <pthread.h>

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
    if (thread_.joinable()) thread_.join();
}

void DeliveryWorker::notify() {
    {
        std::lock_guard lock(mu_);
        notified_ = true;
    }
    idle_.store(false);
    cv_.notify_all();
}

bool DeliveryWorker::offerResend(std::vector<state::OutboxInsert> rows) {
    if (!idle_.load() || rows.empty()) return false;
    {
        std::lock_guard lock(mu_);
        auto now = clock_.now();
        for (auto& r : rows) resends_.push_back(Ephemeral{std::move(r), now});
        notified_ = true;
    }
    idle_.store(false);
    cv_.notify_all();
    return true;
}

void DeliveryWorker::waitFor(core::Duration d) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, d, [this] { return stopping_; });
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

void DeliveryWorker::loop() {
    if (!reader_) {
        spdlog::error("The delivery worker has no store connection and cannot run. output={}",
                      options_.name);
        return;
    }
    auto last_gauge = std::chrono::steady_clock::now() - std::chrono::hours(1);
    for (;;) {
        {
            std::lock_guard lock(mu_);
            if (stopping_) return;
            notified_ = false;
        }
        auto steady = std::chrono::steady_clock::now();
        if (steady - last_gauge > std::chrono::seconds(1)) {
            if (auto n = reader_->countPendingOutbox(options_.name)) {
                metrics_.pending_rows->Set(static_cast<double>(*n));
            }
            last_gauge = steady;
        }
        auto rows = reader_->pendingOutbox(options_.name, cursor_, transport_->maxRowsPerSend());
        if (!rows) {
            spdlog::error("Reading the outbox failed; retrying. output={} error=\"{}\"",
                          options_.name, rows.error());
            waitFor(std::chrono::seconds(1));
            continue;
        }
        bool progressed;
        if (!rows->empty()) {
            progressed = deliver(*rows);
        } else {
            bool has_resend;
            {
                std::lock_guard lock(mu_);
                has_resend = !resends_.empty();
            }
            if (!has_resend) {
                idle_.store(true);
                metrics_.pending_rows->Set(0);
                std::unique_lock lock(mu_);
                cv_.wait_for(lock, std::chrono::seconds(1),
                             [this] { return stopping_ || notified_; });
                continue;
            }
            progressed = deliverResend();
        }
        if (!progressed) waitFor(nextBackoff());
    }
}

bool DeliveryWorker::deliver(const std::vector<state::OutboxRow>& rows) {
    // Take rows in order while the alert total stays within the bound (at least one row).
    std::vector<std::string_view> bodies;
    state::OutboxAttempt attempt;
    std::size_t alerts = 0;
    for (const auto& r : rows) {
        if (!bodies.empty() &&
            alerts + static_cast<std::size_t>(r.alert_count) > options_.max_alerts_per_send) {
            break;
        }
        bodies.push_back(r.body);
        attempt.ids.push_back(r.id);
        alerts += static_cast<std::size_t>(r.alert_count);
    }
    auto started = std::chrono::steady_clock::now();
    metrics_.attempts->Increment();
    auto result = transport_->send(bodies, clock_.now());
    metrics_.request_duration->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    attempt.at = clock_.now();
    attempt.last_error = result.reason;
    switch (result.kind) {
        case core::Delivery::Kind::kOk:
            metrics_.ok->Increment();
            metrics_.alerts_sent->Increment(static_cast<double>(alerts));
            attempt.state = state::OutboxState::kDelivered;
            cursor_ = attempt.ids.back();
            if (failures_ > 0) {
                spdlog::info("Delivery recovered. output={} after_failures={}", options_.name,
                             failures_);
            }
            failures_ = 0;
            store_.recordAttempt(std::move(attempt));
            return true;
        case core::Delivery::Kind::kDrop:
            metrics_.drop->Increment();
            metrics_.alerts_dropped->Increment(static_cast<double>(alerts));
            spdlog::warn(
                "The host refused a delivery for good; it is dropped. output={} "
                "rows={} alerts={} reason=\"{}\"",
                options_.name, attempt.ids.size(), alerts, result.reason);
            attempt.state = state::OutboxState::kDropped;
            cursor_ = attempt.ids.back();
            failures_ = 0;
            store_.recordAttempt(std::move(attempt));
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
            store_.recordAttempt(std::move(attempt));
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
    Ephemeral item;
    {
        std::lock_guard lock(mu_);
        item = std::move(resends_.front());
        resends_.pop_front();
    }
    // A re-send older than its interval is superseded by the next one.
    if (clock_.now() - item.queued_at > options_.resend_interval) return true;
    metrics_.attempts->Increment();
    auto started = std::chrono::steady_clock::now();
    auto result = transport_->send({item.row.body}, clock_.now());
    metrics_.request_duration->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (result.kind == core::Delivery::Kind::kOk) {
        metrics_.ok->Increment();
        metrics_.alerts_sent->Increment(item.row.alert_count);
        failures_ = 0;
        return true;
    }
    if (result.kind == core::Delivery::Kind::kDrop) {
        metrics_.drop->Increment();
        metrics_.alerts_dropped->Increment(item.row.alert_count);
        spdlog::warn(
            "The host refused a re-send; it is dropped. output={} alerts={} "
            "reason=\"{}\"",
            options_.name, item.row.alert_count, result.reason);
        return true;
    }
    metrics_.retry->Increment();
    std::lock_guard lock(mu_);
    resends_.push_front(std::move(item));
    return false;
}

}  // namespace alertbridge::app
