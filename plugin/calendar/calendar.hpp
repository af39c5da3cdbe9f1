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

#include <compare>
#include <cstdint>
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

    // From tables built once (see plans.cpp): a few array reads per call.
    State at(std::size_t group, core::TimePoint t) const;
    State atAny(core::TimePoint t) const;  // the most active group
    // The same answer from the rules, without the tables, for a local date and minute of
    // the day (group: none for "any"). The tables are built from it; tests compare the two.
    State evaluate(std::optional<std::size_t> group, Day d, int minute) const;
    // Every change of phase of every group in [from, to), in time order.
    std::vector<Transition> transitions(core::TimePoint from, core::TimePoint to) const;

  private:
    struct DayInfo {
        std::int8_t trading = -1;  // 1, 0, -1 unknown
        std::int8_t night = -1;
        std::int32_t next = -1;  // index of the next trading day, -1 unknown
        std::int32_t prev = -1;
    };
    // One cell of a day plan: the answer over one interval between window edges, with the
    // trading day as an offset from the date (so that alike days share a plan).
    struct Cell {
        Phase phase = Phase::kUnknown;
        Session session = Session::kNone;
        std::int16_t day_offset = kNoDay;
        std::uint16_t group = kNoGroup;  // index of the group named in the answer
        auto operator<=>(const Cell&) const = default;
    };
    static constexpr std::int16_t kNoDay = INT16_MIN;
    static constexpr std::uint16_t kNoGroup = UINT16_MAX;

    explicit Calendar(CalendarDef def) : def_(std::move(def)) {}
    void index();
    core::Status buildPlans();
    State lookup(std::size_t slot, core::TimePoint t) const;
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
    // Day plans: segment_of_[minute] is the interval between edges holding that minute;
    // plan_of_[slot * days_.size() + day] names a plan (slot: a group, or "any" last), and
    // plan p is cells_[p * edges_.size() ...]. Alike days share one plan.
    std::vector<std::uint16_t> segment_of_;
    std::vector<std::uint32_t> plan_of_;
    std::vector<Cell> cells_;
    // When the zone keeps one offset over the horizon, that offset (see toLocal()).
    bool fixed_ = false;
    core::TimePoint fixed_from_{};
    core::TimePoint fixed_to_{};
    core::Duration fixed_offset_{};
};

}  // namespace alertbridge::calendar
