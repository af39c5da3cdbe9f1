#pragma once
// Clock: the only place time is read. Production code takes a Clock&; tests drive a
// FakeClock and never sleep. Implementations are safe to call from any thread.

#include <atomic>
#include <chrono>

namespace alertbridge::core {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

class Clock {
  public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
  public:
    TimePoint now() const override { return std::chrono::system_clock::now(); }
};

class FakeClock final : public Clock {
  public:
    explicit FakeClock(TimePoint start) : now_(start.time_since_epoch().count()) {}
    TimePoint now() const override { return TimePoint(Duration(now_.load())); }
    void set(TimePoint t) { now_.store(t.time_since_epoch().count()); }
    void advance(Duration d) { now_.fetch_add(d.count()); }

  private:
    std::atomic<Duration::rep> now_;
};

}  // namespace alertbridge::core
