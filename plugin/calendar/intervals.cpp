#include "plugin/calendar/intervals.hpp"

#include <algorithm>

namespace alertbridge::calendar {
namespace {

bool inAny(const std::vector<Range>& ranges, int v) {
    return std::any_of(ranges.begin(), ranges.end(),
                       [v](const Range& r) { return r.from <= v && v <= r.to; });
}

// Alertmanager's fields, in the spec's location.
bool plainMatches(const IntervalSpec& s, core::TimePoint t) {
    const auto* zone = s.zone != nullptr ? s.zone : date::locate_zone("UTC");
    auto local = zone->to_local(date::floor<std::chrono::seconds>(t));
    auto day = date::floor<date::days>(local);
    date::year_month_day ymd{day};
    if (!s.times.empty()) {
        auto minute = static_cast<int>(date::floor<std::chrono::minutes>(local - day).count());
        bool in = std::any_of(s.times.begin(), s.times.end(), [minute](const Range& r) {
            return r.from <= minute && minute < r.to;
        });
        if (!in) return false;
    }
    if (!s.weekdays.empty() &&
        !inAny(s.weekdays, static_cast<int>(date::weekday{day}.c_encoding()))) {
        return false;
    }
    if (!s.days_of_month.empty()) {
        auto dom = static_cast<int>(static_cast<unsigned>(ymd.day()));
        date::year_month_day_last month_end{ymd.year(), ymd.month() / date::last};
        auto last = static_cast<int>(static_cast<unsigned>(month_end.day()));
        bool in = std::any_of(s.days_of_month.begin(), s.days_of_month.end(), [&](Range r) {
            // Negative days count from the end of the month: -1 is the last day.
            if (r.from < 0) r.from = last + 1 + r.from;
            if (r.to < 0) r.to = last + 1 + r.to;
            return r.from <= dom && dom <= r.to;
        });
        if (!in) return false;
    }
    if (!s.months.empty() &&
        !inAny(s.months, static_cast<int>(static_cast<unsigned>(ymd.month())))) {
        return false;
    }
    if (!s.years.empty() && !inAny(s.years, static_cast<int>(ymd.year()))) return false;
    return true;
}

enum class Answer : std::uint8_t { kNo, kYes, kUnknown };

Answer answer(std::optional<bool> b) {
    if (!b) return Answer::kUnknown;
    return *b ? Answer::kYes : Answer::kNo;
}

// The session a group counts as being in at t, widened by lead and lag.
State widened(const Calendar& cal, std::size_t g, core::TimePoint t, const IntervalSpec& s) {
    State now = cal.at(g, t);
    if (now.phase == Phase::kUnknown || now.session != Session::kNone) return now;
    for (auto probe : {t + s.lead, t - s.lag}) {
        if (probe == t) continue;
        State other = cal.at(g, probe);
        if (other.phase == Phase::kUnknown) return other;
        if (other.session != Session::kNone) {
            now.session = other.session;
            return now;  // in the widened session; its phase is still closed
        }
    }
    return now;
}

Answer calendarMatches(const IntervalSpec& s, core::TimePoint t, const core::LabelSet* alert) {
    const Calendar& cal = *s.cal;
    if (cal.expired(t)) return Answer::kUnknown;
    Day date = cal.localDate(t);
    if (s.trading_day) {
        auto a = answer(cal.isTradingDay(date));
        if (a == Answer::kUnknown) return a;
        if ((a == Answer::kYes) != *s.trading_day) return Answer::kNo;
    }
    if (s.trading_night) {
        auto trades = cal.isTradingDay(date);
        if (!trades) return Answer::kUnknown;
        std::optional<bool> night = *trades ? cal.hasNight(date) : std::optional<bool>(false);
        if (!night) return Answer::kUnknown;
        if (*night != *s.trading_night) return Answer::kNo;
    }
    bool session_fields = !s.sessions.empty() || !s.phases.empty() || s.outside_sessions;
    if (!session_fields) return Answer::kYes;
    std::vector<std::size_t> groups;
    if (s.match_group_from_alert && alert != nullptr) {
        if (auto g = cal.groupFor(*alert)) groups.push_back(*g);
    }
    if (groups.empty()) {
        for (const auto& name : s.groups) {
            if (auto g = cal.findGroup(name)) groups.push_back(*g);
        }
    }
    if (groups.empty()) {
        for (std::size_t g = 0; g < cal.groupCount(); ++g) groups.push_back(g);
    }
    bool any_in = false;
    bool all_closed = true;
    for (auto g : groups) {
        State st = widened(cal, g, t, s);
        if (st.phase == Phase::kUnknown) return Answer::kUnknown;
        if (st.session != Session::kNone) all_closed = false;
        bool session_ok = s.sessions.empty() || std::find(s.sessions.begin(), s.sessions.end(),
                                                          st.session) != s.sessions.end();
        bool phase_ok = s.phases.empty() ||
                        std::find(s.phases.begin(), s.phases.end(), st.phase) != s.phases.end();
        if (session_ok && phase_ok) any_in = true;
    }
    if (s.outside_sessions && !all_closed) return Answer::kNo;
    if ((!s.sessions.empty() || !s.phases.empty()) && !any_in) return Answer::kNo;
    return Answer::kYes;
}

}  // namespace

bool matches(const IntervalSpec& spec, core::TimePoint t, const core::LabelSet* alert,
             Purpose purpose) {
    if (!plainMatches(spec, t)) return false;
    if (!spec.cal) return true;
    auto a = calendarMatches(spec, t, alert);
    if (a == Answer::kUnknown) return purpose == Purpose::kActive;
    return a == Answer::kYes;
}

bool matches(const TimeInterval& interval, core::TimePoint t, const core::LabelSet* alert,
             Purpose purpose) {
    return std::any_of(interval.specs.begin(), interval.specs.end(),
                       [&](const IntervalSpec& s) { return matches(s, t, alert, purpose); });
}

}  // namespace alertbridge::calendar
