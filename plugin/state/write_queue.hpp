#pragma once
// WriteQueue: the writes waiting for the store's writer thread, and the store's health
// between commits (failing or not, since when, and the backoff before the next try).
// Internal to plugin/state; every method is safe from any thread.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"
#include "plugin/state/store.hpp"

namespace alertbridge::state {

struct WriteOp {
    std::function<int()> apply;  // returns an SQLite result code; SQLITE_DONE is success
    std::function<void(const core::Status&)> done;
    // State changes derived from committed input must not be lost: on a failed commit
    // they go back to the queue and are tried again, rather than failing their caller.
    bool retry_on_failure = false;
    std::size_t weight = 1;  // rows written; bounds one transaction
    // Journal appends hold a sender's request open: they go before bulk work (state
    // checkpoints, outbox rows), which no one waits on.
    bool urgent = false;
};

struct WriteOutcome {
    core::Status status;
    StoreErrorClass cls = StoreErrorClass::kTransient;
};

class WriteQueue {
  public:
    // `path` names the store in log lines.
    WriteQueue(const core::Clock& clock, std::string path)
        : clock_(clock), path_(std::move(path)) {}

    // Queues `op`; once stopping, answers it with an error instead.
    void push(WriteOp op);
    // Puts a failed batch's state changes back at the head, in their order.
    void requeue(std::deque<WriteOp>& ops);
    // Takes the next batch: every urgent op, then bulk ops up to the row bound of one
    // commit. While failing, first waits out the backoff (an empty batch then asks for a
    // probe). False when the writer should exit.
    bool take(std::deque<WriteOp>& batch);
    void stop();
    bool stopping() const;

    // Records how commit number `seq` went (numbered in the writer's order): logs the first
    // failure and the recovery, and every tenth retry in between, so a full disk is one
    // clear line, not a line a second. Commits are answered on two threads (the syncer's
    // and the writer's), so a success reported late, for a commit older than the last
    // failure, does not end that failure.
    void note(const WriteOutcome& out, std::size_t ops, std::uint64_t seq);
    bool failing() const { return failing_.load(); }
    bool failingFull() const;
    std::string failure() const;  // "" while writable

  private:
    // Most rows one transaction writes: a large checkpoint is split across several
    // commits so that journal appends queued behind it wait for one slice, not all of it.
    static constexpr std::size_t kMaxRowsPerCommit = 4000;

    const core::Clock& clock_;
    std::string path_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<WriteOp> queue_;
    std::deque<WriteOp> urgent_;
    bool stopping_ = false;
    std::atomic<bool> failing_{false};
    StoreErrorClass failure_class_ = StoreErrorClass::kTransient;
    int failures_ = 0;
    std::uint64_t failed_seq_ = 0;  // the newest commit that failed
    std::string failure_;
};

}  // namespace alertbridge::state
