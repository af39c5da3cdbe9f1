#pragma once
// Clock: the only place time is read, and the only way to wait for a moment of it.
// Production code takes a Clock&; tests drive a FakeClock and never sleep. Implementations
// are safe to call from any thread.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace alertbridge::core {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

class Clock {
  public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    // Blocks on `cv` (with `lock` held on entry and on return) until it is notified or the
    // clock reaches `deadline`. May return early; callers check their condition and the
    // time again.
    virtual void waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                           TimePoint deadline) const = 0;
};

class SystemClock final : public Clock {
  public:
    TimePoint now() const override { return std::chrono::system_clock::now(); }
    void waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                   TimePoint deadline) const override {
        cv.wait_until(lock, deadline);
    }
};

// Time moves only when set() or advance() is called, and then every waiter wakes to look.
class FakeClock final : public Clock {
  public:
    explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
    TimePoint now() const override { return TimePoint(Duration(now_.load())); }
    void set(TimePoint t) {
        now_.store(t.time_since_epoch().count());
        wakeAll();
    }
    void advance(Duration d) {
        now_.fetch_add(d.count());
        wakeAll();
    }
    void waitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                   TimePoint deadline) const override {
        {
            std::lock_guard g(mu_);
            waiters_.emplace_back(&cv, lock.mutex());
        }
        // The waiter's own mutex is held from this check until wait() releases it, and
        // wakeAll() takes that mutex to notify: a move of the clock cannot slip between.
        if (now() < deadline) cv.wait(lock);
        std::lock_guard g(mu_);
        auto it = std::find(waiters_.begin(), waiters_.end(), std::pair{&cv, lock.mutex()});
        if (it != waiters_.end()) waiters_.erase(it);
    }

  private:
    void wakeAll() const {
        std::vector<std::pair<std::condition_variable*, std::mutex*>> waiters;
        {
            std::lock_guard g(mu_);
            waiters = waiters_;
        }
        for (auto [cv, m] : waiters) {
            std::lock_guard g(*m);
            cv->notify_all();
        }
    }

    std::atomic<Duration::rep> now_;
    mutable std::mutex mu_;
    mutable std::vector<std::pair<std::condition_variable*, std::mutex*>> waiters_;
};

}  // namespace alertbridge::core
