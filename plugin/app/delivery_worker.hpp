#pragma once
// DeliveryWorker: one thread per output that drains the output's outbox in id order. It
// merges consecutive rows into one request (within the output's alert bound), records
// every attempt in the store, retries with exponential backoff and jitter, and drops what
// the host refuses for good. Rows are read from the store, so nothing pending is held in
// memory and a restart resumes where the store says. Re-sends (derived from active alerts)
// are offered only while the outbox is empty, so a backlog never grows with them.
// Public methods are thread-safe.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/core/clock.hpp"
#include "plugin/pipeline/output.hpp"
#include "plugin/state/store.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::app {

struct DeliveryOptions {
    std::string name;
    std::size_t max_alerts_per_send = 1000;
    config::Backoff backoff;
    core::Duration resend_interval = std::chrono::minutes(1);
};

class DeliveryWorker {
  public:
    DeliveryWorker(DeliveryOptions options, std::unique_ptr<pipeline::OutputTransport> transport,
                   state::Store& store, const core::Clock& clock, telemetry::Metrics& metrics);
    ~DeliveryWorker();

    void start();
    void stop();
    // New outbox rows were committed.
    void notify();
    // True when no outbox row is pending and no re-send is queued.
    bool idle() const { return idle_.load(); }
    // Queues re-send bodies if idle; returns whether they were taken.
    bool offerResend(std::vector<state::OutboxInsert> rows);
    const std::string& name() const { return options_.name; }

  private:
    struct Ephemeral {
        state::OutboxInsert row;
        core::TimePoint queued_at;
    };
    void loop();
    // Sends rows; returns true if the caller may continue at once, false to back off.
    bool deliver(const std::vector<state::OutboxRow>& rows);
    bool deliverResend();
    core::Duration nextBackoff();
    void waitFor(core::Duration d);

    DeliveryOptions options_;
    std::unique_ptr<pipeline::OutputTransport> transport_;
    state::Store& store_;
    const core::Clock& clock_;
    const telemetry::OutputMetrics& metrics_;
    std::unique_ptr<state::StoreReader> reader_;

    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool notified_ = false;
    std::deque<Ephemeral> resends_;
    std::atomic<bool> idle_{false};
    long long cursor_ = 0;
    int failures_ = 0;
    std::thread thread_;
};

}  // namespace alertbridge::app
