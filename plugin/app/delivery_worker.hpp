#pragma once
// DeliveryWorker: one thread per output that drains the output's outbox oldest first. It
// merges consecutive rows into one request (within the output's alert bound), records
// every attempt in the store, retries with exponential backoff and jitter, and drops what
// the host refuses for good. Rows are read from the store, so nothing pending is held in
// memory and a restart resumes where the store says. There is no read cursor: the worker
// takes the oldest pending rows, and a row stays pending until its completion commits, so
// no row can be skipped whatever its id. A notification sink's worker waits for each
// completion before the next send, so a kill -9 repeats at most the one request that was in
// flight; a state sink's worker sends the next request while the previous completion
// commits (its rows are skipped meanwhile), so a kill -9 repeats at most two, which the
// host takes as the same state again.
// A backlog coalesces: an element (one alert as the host names it) that a newer pending row
// also holds is left out, and a row with nothing left is completed unsent (superseded).
// Re-sends (derived from the active alerts, never journaled) are queued one entry per
// slice: a newer copy of a slice replaces the queued one, so a backlog holds only the
// newest state, and a slice is never skipped. Re-sends and outbox rows take turns, so
// neither starves the other under sustained intake.
// A row with a not_before time (a notification held for a grouping window or an escalation
// step) is not due before it; the worker wakes for it. State sinks never defer: their rows
// mirror the present, and coalescing assumes every pending row is due.
// Finished rows with a key enter the notification log in the same commit as their state.
// Public methods are thread-safe.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plugin/app/outbox_coalescer.hpp"
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
    // Finished sends whose completion may still be committing when the next one goes: 1
    // for a notification sink (people must not get a message twice), 2 for a state sink.
    std::size_t completions_in_flight = 1;
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
    // Queues the re-send of one slice of the firing alerts, replacing an older copy of the
    // same slice that has not gone out yet.
    void queueResend(std::size_t slice, std::vector<state::OutboxInsert> rows);
    // The same, encoded on this worker's thread when the copy is taken to be sent; an empty
    // job means nothing of the slice fires any more.
    void queueResend(std::size_t slice, std::function<std::vector<state::OutboxInsert>()> job);
    const std::string& name() const { return options_.name; }
    // Request bodies waiting in the outbox, as last counted (at most a second old).
    long long backlogBytes() const { return backlog_bytes_.load(); }
    std::size_t queuedResends() const;

  private:
    struct Resend {
        std::size_t slice = 0;
        std::function<std::vector<state::OutboxInsert>()> encode;  // run once, when taken
        std::vector<state::OutboxInsert> rows;
    };
    void loop();
    // Sends rows; returns true if the caller may continue at once, false to back off.
    bool deliver(const std::vector<state::OutboxRow>& rows);
    bool deliverResend();
    // Records an attempt; a delivered or dropped one is waited for until it is durable.
    void complete(state::OutboxAttempt attempt);
    core::Duration nextBackoff();
    void refreshBacklog();  // the outbox backlog gauges and backlogBytes()
    void scanKeys();        // newly committed pending rows into coalescer_
    void waitFor(core::Duration d);

    DeliveryOptions options_;
    std::unique_ptr<pipeline::OutputTransport> transport_;
    state::Store& store_;
    const core::Clock& clock_;
    const telemetry::OutputMetrics& metrics_;
    std::unique_ptr<state::StoreReader> reader_;
    OutboxCoalescer coalescer_;  // worker thread only

    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool notified_ = false;
    std::deque<Resend> resends_;
    bool resend_turn_ = false;
    std::atomic<long long> backlog_bytes_{0};
    int failures_ = 0;
    // Completions waited for until durable (see complete()); shared with the callbacks.
    struct Waiter {
        std::mutex mu;
        std::condition_variable cv;
        std::uint64_t committed = 0;  // the highest completion committed
        bool stopping = false;
    };
    std::shared_ptr<Waiter> waiter_ = std::make_shared<Waiter>();
    std::uint64_t completions_ = 0;  // worker thread only
    // Rows whose completion is not committed yet, by completion: skipped by the next reads.
    std::deque<std::pair<std::uint64_t, std::vector<long long>>> completing_;
    std::vector<long long> completingIds() const;  // sorted
    void awaitCompletions(std::size_t at_most);    // until at most that many are in flight
    std::thread thread_;
};

}  // namespace alertbridge::app
