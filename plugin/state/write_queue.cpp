#include "plugin/state/write_queue.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/state/sqlite_errors.hpp"

namespace alertbridge::state {

void WriteQueue::push(WriteOp op) {
    std::unique_lock lock(mu_);
    if (stopping_) {
        lock.unlock();
        if (op.done) op.done(core::Error{"the store is shutting down"});
        return;
    }
    (op.urgent ? urgent_ : queue_).push_back(std::move(op));
    lock.unlock();
    cv_.notify_one();
}

void WriteQueue::requeue(std::deque<WriteOp>& ops) {
    std::lock_guard lock(mu_);
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) queue_.push_front(std::move(*it));
    ops.clear();
}

bool WriteQueue::take(std::deque<WriteOp>& batch) {
    std::unique_lock lock(mu_);
    if (failing_.load()) {
        // Wait out the backoff, then retry what is queued or probe with a small write. A
        // commit answered on the syncer's thread may end the failure meanwhile.
        auto until = clock_.now() + backoff(failure_class_, failures_);
        while (!stopping_ && failing_.load() && clock_.now() < until) {
            clock_.waitUntil(cv_, lock, until);
        }
    }
    if (!failing_.load()) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !urgent_.empty(); });
    }
    if (queue_.empty() && urgent_.empty() && stopping_) return false;
    std::size_t rows = 0;
    while (!urgent_.empty()) {
        rows += urgent_.front().weight;
        batch.push_back(std::move(urgent_.front()));
        urgent_.pop_front();
    }
    while (!queue_.empty() &&
           (batch.empty() || rows + queue_.front().weight <= kMaxRowsPerCommit)) {
        rows += queue_.front().weight;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return true;
}

void WriteQueue::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
}

bool WriteQueue::stopping() const {
    std::lock_guard lock(mu_);
    return stopping_;
}

bool WriteQueue::failingFull() const {
    std::lock_guard lock(mu_);
    return failing_.load() && failure_class_ == StoreErrorClass::kFull;
}

std::string WriteQueue::failure() const {
    std::lock_guard lock(mu_);
    return failing_.load() ? failure_ : std::string();
}

void WriteQueue::note(const WriteOutcome& out, std::size_t ops, std::uint64_t seq) {
    std::unique_lock lock(mu_);
    if (out.status.ok()) {
        if (!failing_.load() || seq < failed_seq_) return;
        spdlog::info("The store is writable again. after_failures={} last_error=\"{}\"", failures_,
                     failure_);
        failing_.store(false);
        failures_ = 0;
        failure_.clear();
        lock.unlock();
        cv_.notify_all();  // a writer backing off goes back to waiting for work
        return;
    }
    failed_seq_ = std::max(failed_seq_, seq);
    failure_class_ = out.cls;
    failure_ = fmt::format("{} ({})", out.status.error(), storeErrorClassName(out.cls));
    if (!failing_.load()) {
        spdlog::error(
            "The store cannot write; intake answers 503 (SMTP 451) and queued state changes "
            "wait until it can. class={} error=\"{}\" ops={} file={}",
            storeErrorClassName(out.cls), out.status.error(), ops, path_);
    } else if (failures_ % 10 == 0) {
        spdlog::warn("The store still cannot write. class={} error=\"{}\" attempts={}",
                     storeErrorClassName(out.cls), out.status.error(), failures_ + 1);
    }
    failing_.store(true);
    ++failures_;
}

}  // namespace alertbridge::state
