#pragma once
// `alertbridge calendar`: what a trading-session calendar says at an instant (a table, or
// one JSON object with --json), or its sessions as iCalendar (--ics). The instant defaults to
// the clock's now; nothing else reads time.

#include <optional>
#include <string>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"

namespace alertbridge::app {

struct CalendarCommand {
    std::string config_file;
    std::string calendar;  // empty: the only (or first) calendar
    std::string at;        // RFC 3339; seconds and the offset may be left out
    std::string group;     // --ics: one group's sessions only
    bool json = false;
    bool ics = false;
};

int calendarCommand(const CalendarCommand& cmd, const core::Clock& clock);

// "2026-03-06T22:00:00+08:00", "2026-03-06T22:00+08:00", "2026-03-06T14:00Z", or without an
// offset, "2026-03-06T22:00" (a wall-clock time in `zone`).
core::Result<core::TimePoint> parseInstant(const std::string& text, const std::string& zone);

}  // namespace alertbridge::app
