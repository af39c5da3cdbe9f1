#pragma once
// What a calendar says, for people and programs: the state of every group at an instant (one
// JSON object, or a table), and the sessions of the data's horizon as iCalendar (RFC 5545).
// Pure functions of the calendar and the instants given.

#include <optional>
#include <string>

#include "plugin/calendar/calendar.hpp"

namespace alertbridge::calendar {

// "2026-03-06T22:00:00+08:00": the instant in the calendar's offset at that instant.
std::string formatLocal(const Calendar& cal, core::TimePoint t);

// {"at", "calendar", "date", "date_is_trading_day", "valid_until", "expired", "groups",
//  "any", "next_transitions"} (README "Calendar"); next_transitions holds the next change of
// every group within 7 days, in time order.
std::string stateJson(const Calendar& cal, core::TimePoint at);
std::string stateTable(const Calendar& cal, core::TimePoint at);

// One VEVENT per session of every group with sessions of its own (or of `group` alone),
// and one all-day VEVENT per closure and holiday, over the data's horizon. UIDs are stable
// across runs; `now` is the DTSTAMP.
std::string toIcs(const Calendar& cal, std::optional<std::size_t> group, core::TimePoint now);

}  // namespace alertbridge::calendar
