#pragma once
// Timers: the engine's deadlines, one per key. Setting a key again moves its deadline;
// due(now) hands out every key whose deadline has come, in deadline order (ties in key
// order), so the same inputs fire the same timers in the same order on every run. Owned by
// the engine thread; not thread-safe. Time is passed in: nothing here reads a clock.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "plugin/core/clock.hpp"

namespace alertbridge::engine {

// What a timer is for, and which one of its kind (an output's index, say).
enum class TimerKind : std::uint8_t {
    kExpiry,      // the earliest endsAt among active alerts
    kResend,      // an output's next re-send slice
    kCheckpoint,  // the next checkpoint of the active alerts
    kHousekeep,   // once a minute: gauges computed from the instant (calendar expiry)
    kIncident,    // the incident book's next deadline (group wait, repeat, digest, ...)
};

struct TimerKey {
    TimerKind kind = TimerKind::kExpiry;
    std::uint32_t index = 0;
    auto operator<=>(const TimerKey&) const = default;
};

class Timers {
  public:
    void set(TimerKey key, core::TimePoint at);
    void cancel(TimerKey key);
    std::optional<core::TimePoint> deadline(TimerKey key) const;
    std::optional<core::TimePoint> next() const;
    // Removes and returns the earliest timer if it is due at or before `now`.
    std::optional<std::pair<core::TimePoint, TimerKey>> popDue(core::TimePoint now);
    std::size_t size() const { return at_.size(); }

  private:
    std::map<TimerKey, core::TimePoint> at_;
    std::set<std::pair<core::TimePoint, TimerKey>> queue_;
};

}  // namespace alertbridge::engine
