#pragma once
// Times as appliances write them in mail bodies. One parser takes every layout seen:
//   2024-07-23 19:59:42.555142859 +0800 CST   (Go's time.String())
//   2024-07-23T20:05:11.031                    (ISO, no zone)
//   2024-07-23 20:12:00, 2024/07/23 21:10:30, 2024.07.23 20:15:02
//   Tuesday, July 23, 2024 10:00:14 PM         (Windows / .NET long date)
//   Tue Jul 23 20:15:02 CST 2024               (date(1), Nagios $LONGDATETIME$)
//   ... followed optionally by AM/PM, then Z, +hh:mm, +hhmm, a zone abbreviation, or an
//   abbreviation with an offset (UTC+08:00, GMT+8: the offset counts).
// The zone: an explicit offset in the text wins; else a known abbreviation (CST is China
// Standard Time, +08:00, in this deployment; UTC/GMT); else the Date header's offset;
// else the configured time zone at that local time. `ignore_zone` is for vendors that
// label local time wrongly (a pack sets it). Pure; safe from any thread.

#include <optional>
#include <string_view>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"

namespace date {
class time_zone;
}

namespace alertbridge::email {

struct ZoneHint {
    std::optional<int> date_header_offset_minutes;  // from the message's Date header
    const date::time_zone* fallback = nullptr;      // global.timezone; nullptr = UTC
    bool ignore_zone = false;                       // disregard any zone in the text
};

core::Result<core::TimePoint> parseVendorTime(std::string_view text, const ZoneHint& hint);

// The same, with an explicit strftime-style layout (date::parse: %d/%m/%Y %H:%M:%S, %b, %p,
// %z, %Z ...) for layouts no parser can guess, such as day-first dates. A %z offset wins;
// otherwise the zone comes as above.
core::Result<core::TimePoint> parseVendorTime(std::string_view text, std::string_view format,
                                              const ZoneHint& hint);

// Elapsed times as appliances write them: "5m 12s", "1d 2h 3m", "4 分 34 秒", "0:41:23".
core::Result<core::Duration> parseVendorDuration(std::string_view text);

}  // namespace alertbridge::email
