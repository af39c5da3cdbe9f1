#pragma once
// The calendar's vocabulary: phases, sessions, windows and the facts of one data file. Plain
// data, shared by the config loader (which reads and checks it) and the calendar (which
// answers questions with it).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <date/date.h>

#include "plugin/core/matcher.hpp"

namespace alertbridge::calendar {

using Day = date::sys_days;  // a calendar date (in the calendar's location)

// In order of how "active" a market is, for answers across groups: continuous ranks
// highest, then the auctions, then a break, then closed. Unknown is outside that order.
enum class Phase : std::uint8_t {
    kClosed,
    kBreak,
    kPreOpen,
    kClosingAuction,
    kContinuous,
    kUnknown
};
enum class Session : std::uint8_t { kNone, kDay, kNight };

std::string_view phaseName(Phase p);
std::optional<Phase> parsePhase(std::string_view s);
std::string_view sessionName(Session s);  // "" for kNone
int phaseRank(Phase p);                   // for "the most active": higher is more active

// A phase over [from, to), in minutes after midnight of the day the session is anchored
// on; `to` may pass 1440 ("02:30+1" is 1590).
struct Window {
    Phase phase = Phase::kClosed;
    int from = 0;
    int to = 0;
};

// `base` with `w` laid over it: the parts of base's windows under w give way to it.
std::vector<Window> overlay(const std::vector<Window>& base, const Window& w);

struct DateRange {
    Day from;
    Day to;  // inclusive
    bool contains(Day d) const { return from <= d && d <= to; }
};

// How sure the data is of a fact, as the shipped files mark it: verified by two sources
// (V), derived from a verified rule (D), or not marked (a user's own data).
enum class Mark : std::uint8_t { kNone, kVerified, kDerived };

struct Holiday {
    std::string name;
    DateRange dates;
    Mark mark = Mark::kNone;
    int line = 0;
};

struct MarkedRange {
    DateRange dates;
    Mark mark = Mark::kNone;
    int line = 0;
};

// An ad hoc notice: a cancelled night, an extra closure, or a night forced on.
struct Override {
    DateRange dates;
    std::optional<bool> night;
    std::optional<bool> closed;
    std::string reason;
    int line = 0;
};

// One data file: the facts of one year.
struct YearData {
    std::string file;
    int year = 0;
    std::string location;
    std::vector<std::string> sources;
    std::vector<Holiday> holidays;      // State Council days off, weekend days included
    std::vector<MarkedRange> makeup;    // make-up workdays: never trading days
    std::vector<MarkedRange> closures;  // weekday exchange closures (authoritative)
    std::vector<MarkedRange> no_night;  // evenings without a night session, as printed
    std::vector<Override> overrides;
};

enum class NightRule : std::uint8_t { kNoneBeforeHoliday, kEveryTradingDay };

struct GroupDef {
    std::string name;
    std::vector<core::Matcher> matchers;  // on alert labels; all must match
    std::vector<Window> day;
    std::vector<Window> night;          // empty: no night session
    std::vector<std::string> union_of;  // an exchange group: in session when any member is
    int line = 0;
};

struct CalendarDef {
    std::string name;
    std::string location = "Asia/Shanghai";
    std::vector<YearData> data;
    std::uint8_t trading_weekdays = 0x3e;  // bit 0 = Sunday ... bit 6 = Saturday; Mon-Fri
    std::optional<Day> valid_until;
    NightRule night_rule = NightRule::kNoneBeforeHoliday;
    std::vector<GroupDef> groups;  // in match order
    int line = 0;
};

}  // namespace alertbridge::calendar
