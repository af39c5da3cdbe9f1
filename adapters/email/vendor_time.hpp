#pragma once
// Times as appliances write them in mail bodies. One parser takes every layout seen:
//   2024-07-23 19:59:42.555142859 +0800 CST   (Go's time.String())
//   2024-07-23T20:05:11.031                    (ISO, no zone)
//   2024-07-23 20:12:00, 2024/07/23 21:10:30, 2024.07.23 20:15:02
//   ... followed optionally by Z, +hh:mm, +hhmm and/or a zone abbreviation.
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

}  // namespace alertbridge::email
