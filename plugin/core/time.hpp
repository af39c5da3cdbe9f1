#pragma once
// RFC 3339 timestamps as the hosts write them, and Prometheus-style durations.
// Pure functions; safe from any thread.

#include <optional>
#include <string>
#include <string_view>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"

namespace alertbridge::core {

// Years a time from outside may carry. Year 1 is Go's zero time; every other year outside
// these is refused where it is parsed, never wrapped.
inline constexpr int kMinYear = 1970;
inline constexpr int kMaxYear = 2199;

// Parses RFC 3339 with 0 to 9 fractional digits and `Z` or a `+hh:mm` offset, the forms
// Go's RFC3339Nano and Prometheus emit. Alertmanager's zero time (0001-01-01T00:00:00Z)
// parses to a time point far in the past; use isZeroTime() to recognise it. Other years
// outside kMinYear..kMaxYear are an error. Durations are at most 100 years.
Result<TimePoint> parseRfc3339(std::string_view text);
bool isZeroTime(TimePoint t);

// Millisecond precision, UTC, `Z` suffix: the form Alertmanager's API v2 renders.
std::string formatRfc3339(TimePoint t);

// Prometheus duration syntax: a sequence of <number><unit> with units ms, s, m, h, d, w, y,
// largest first, e.g. "1h30m", "500ms". "0" alone is allowed.
Result<Duration> parseDuration(std::string_view text);
std::string formatDuration(Duration d);

inline long long toUnixMillis(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
// The instant as the journal stores it (whole milliseconds): what the engine is given for a
// journaled event, so a restore that applies the entry again sees the very same instant.
inline TimePoint journalInstant(TimePoint t) {
    return std::chrono::floor<std::chrono::milliseconds>(t);
}
// Unix seconds from outside (n9e), checked against kMinYear..kMaxYear.
Result<TimePoint> fromUnixSeconds(long long seconds);
inline TimePoint fromUnixMillis(long long ms) {
    return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::milliseconds(ms)));
}

}  // namespace alertbridge::core
