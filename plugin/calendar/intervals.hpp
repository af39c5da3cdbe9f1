#pragma once
// Alertmanager's time_intervals, plus fields that ask a trading-session calendar. One
// function, matches(), answers "is this instant in the interval" for the noise rules, routes
// and schedules that name an interval. Pure and immutable once built.
//
// The Alertmanager fields (times, weekdays, days_of_month, months, years, location) mean what
// they mean in Alertmanager: each list matches when any of its ranges does, a spec matches
// when every field it gives does, an interval when any of its specs does. The calendar
// fields AND with them:
//   calendar         the calendar the other calendar fields ask (required with any of them)
//   trading_day      whether the calendar date of t (in the calendar's location) trades
//   trading_night    whether a night session follows t's date (it trades and has one)
//   sessions         [day, night]: some considered group is in one of these sessions
//   phases           some considered group is in one of these phases
//   groups           the groups considered (default: every group)
//   outside_sessions every considered group is closed
//   match_group_from_alert  consider the alert's own group (from its labels) instead
//   lead, lag        a session counts from `lead` before it opens until `lag` after it closes
// A calendar that cannot answer (past its data) fails safe: an interval used to mute does
// not match, one used to activate does.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <date/tz.h>

#include "plugin/calendar/calendar.hpp"

namespace alertbridge::calendar {

struct Range {
    int from = 0;
    int to = 0;  // inclusive, except for times (minutes, end exclusive)
};

struct IntervalSpec {
    std::vector<Range> times;          // minutes of the day, [from, to)
    std::vector<Range> weekdays;       // 0 = Sunday
    std::vector<Range> days_of_month;  // 1..31, or negative from the end (-1 = last day)
    std::vector<Range> months;         // 1..12
    std::vector<Range> years;
    std::string location = "UTC";
    const date::time_zone* zone = nullptr;  // resolved by the loader

    std::string calendar;
    std::shared_ptr<const Calendar> cal;  // resolved when calendars are built
    std::optional<bool> trading_day;
    std::optional<bool> trading_night;
    std::vector<Session> sessions;
    std::vector<Phase> phases;
    std::vector<std::string> groups;
    bool outside_sessions = false;
    bool match_group_from_alert = false;
    core::Duration lead{};
    core::Duration lag{};
    int line = 0;

    bool usesCalendar() const {
        return trading_day || trading_night || !sessions.empty() || !phases.empty() ||
               !groups.empty() || outside_sessions || match_group_from_alert;
    }
};

struct TimeInterval {
    std::string name;
    std::vector<IntervalSpec> specs;
    int line = 0;
};

enum class Purpose : std::uint8_t { kMute, kActive };

// Whether t is in the interval. `alert` (may be null) gives the group for
// match_group_from_alert; `purpose` decides what an unknown answer counts as.
bool matches(const TimeInterval& interval, core::TimePoint t, const core::LabelSet* alert,
             Purpose purpose);
bool matches(const IntervalSpec& spec, core::TimePoint t, const core::LabelSet* alert,
             Purpose purpose);

}  // namespace alertbridge::calendar
