#pragma once
// Calendar: a trading-session calendar built from its definition and data files, answering
// "what is the market doing at this instant" for one product group or for any group. Pure:
// every answer is a function of the instant given, never of a clock. Immutable once built;
// safe to share between threads.
//
// Semantics (README "Calendar"):
// - A trading day is a trading weekday that is not a closure (nor closed by an override).
// - The night session on the evening of trading day D belongs to the next trading day N. It
//   exists when the night rule allows it (no holiday or closure strictly between D and N),
//   the notices do not list D as an evening without a night, and no override says otherwise.
// - A group's phase at t is that of the session window covering t, else closed. Windows are
//   half-open, in the calendar's location.
// - Outside the data (before its first year, past its last year or past valid_until) every
//   answer is unknown. An answer that needs a day outside the data is unknown too, so the
//   last evening of the data has no known night until next year's file is added.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <date/tz.h>

#include "plugin/calendar/types.hpp"
#include "plugin/core/clock.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/result.hpp"

namespace alertbridge::calendar {

struct State {
    Phase phase = Phase::kUnknown;
    Session session = Session::kNone;
    std::optional<Day> trading_day;  // the day the instant belongs to; closed: the next one
    // The group that gave the answer (for "any", the most active one); a view of the
    // calendar's own name, valid while the calendar lives.
    std::string_view group;
};

struct Transition {
    core::TimePoint at;
    std::size_t group = 0;
    Phase phase = Phase::kClosed;  // the phase from `at` on
    Session session = Session::kNone;
};

class Calendar {
  public:
    // Fails when the location is not a known zone, a union names an unknown group, or the
    // data is empty. The loader has checked the rest.
    static core::Result<std::shared_ptr<const Calendar>> build(CalendarDef def);

    const std::string& name() const { return def_.name; }
    const CalendarDef& definition() const { return def_; }
    const date::time_zone* zone() const { return zone_; }
    std::size_t groupCount() const { return def_.groups.size(); }
    const std::string& groupName(std::size_t g) const { return def_.groups[g].name; }
    std::optional<std::size_t> findGroup(std::string_view name) const;
    // The first group whose matchers all match the labels (none: "any group").
    std::optional<std::size_t> groupFor(const core::LabelSet& labels) const;

    // The first and last day answers are known for (valid_until or the last data year).
    Day firstDay() const { return first_; }
    Day lastDay() const { return last_; }
    bool expired(core::TimePoint t) const;
    Day localDate(core::TimePoint t) const;

    // The instant of a wall-clock minute of day d in the location (minute may pass 1440).
    core::TimePoint instant(Day d, int minute) const;

    std::optional<bool> isTradingDay(Day d) const;
    // Whether the evening of trading day d has a night session (false when d does not trade).
    std::optional<bool> hasNight(Day d) const;
    std::optional<Day> nextTradingDay(Day d) const;  // strictly after d
    std::optional<Day> prevTradingDay(Day d) const;  // strictly before d

    State at(std::size_t group, core::TimePoint t) const;
    State atAny(core::TimePoint t) const;  // the most active group
    // Every change of phase of every group in [from, to), in time order.
    std::vector<Transition> transitions(core::TimePoint from, core::TimePoint to) const;

  private:
    struct DayInfo {
        std::int8_t trading = -1;  // 1, 0, -1 unknown
        std::int8_t night = -1;
        std::int32_t next = -1;  // index of the next trading day, -1 unknown
        std::int32_t prev = -1;
    };
    explicit Calendar(CalendarDef def) : def_(std::move(def)) {}
    void index();
    const DayInfo* info(Day d) const;
    date::local_time<core::Duration> toLocal(core::TimePoint t) const;
    State leafAt(std::size_t group, Day d, int minute) const;
    State unionAt(const std::vector<std::size_t>& members, Day d, int minute) const;
    State stateAt(std::size_t group, Day d, int minute) const;

    CalendarDef def_;
    const date::time_zone* zone_ = nullptr;
    Day first_{};
    Day last_{};
    std::vector<DayInfo> days_;                      // first_ - 1 .. last_ + 1
    std::vector<std::vector<std::size_t>> members_;  // per group: leaf groups of a union
    std::vector<std::size_t> leaves_;                // groups with sessions of their own
    std::vector<int> edges_;  // minutes of the day at which some window starts or ends
    // When the zone keeps one offset over the horizon, that offset (see toLocal()).
    bool fixed_ = false;
    core::TimePoint fixed_from_{};
    core::TimePoint fixed_to_{};
    core::Duration fixed_offset_{};
};

}  // namespace alertbridge::calendar
