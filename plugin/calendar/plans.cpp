// Day plans: the calendar's answers laid out once, when the calendar is built, so that a
// query is a few array reads. An answer changes only at a window edge, so one day of one
// group is a short list of cells, one per interval between edges; most days look alike
// (a trading day with a night before and after, a weekend, a holiday) and share one list.
#include <map>

#include <fmt/format.h>

#include "plugin/calendar/calendar.hpp"

namespace alertbridge::calendar {

core::Status Calendar::buildPlans() {
    const std::size_t groups = def_.groups.size();
    if (groups >= kNoGroup) {
        return core::Error{fmt::format("calendar {}: too many groups", def_.name)};
    }
    segment_of_.assign(1440, 0);
    for (std::size_t k = 0; k < edges_.size(); ++k) {
        int end = k + 1 < edges_.size() ? edges_[k + 1] : 1440;
        for (int m = edges_[k]; m < end; ++m) {
            segment_of_[static_cast<std::size_t>(m)] = static_cast<std::uint16_t>(k);
        }
    }
    const std::size_t ndays = days_.size();
    const Day first = first_ - date::days{1};
    std::map<std::vector<Cell>, std::uint32_t> known;
    std::vector<Cell> plan(edges_.size());
    plan_of_.assign((groups + 1) * ndays, 0);
    for (std::size_t slot = 0; slot <= groups; ++slot) {
        std::optional<std::size_t> group;
        if (slot < groups) group = slot;
        for (std::size_t i = 0; i < ndays; ++i) {
            Day d = first + date::days{static_cast<int>(i)};
            for (std::size_t k = 0; k < edges_.size(); ++k) {
                State s = evaluate(group, d, edges_[k]);
                Cell c{s.phase, s.session, kNoDay, kNoGroup};
                if (s.trading_day) {
                    auto offset = (*s.trading_day - d).count();
                    if (offset <= kNoDay || offset > INT16_MAX) {
                        return core::Error{
                            fmt::format("calendar {}: {} has no trading day within 89 years",
                                        def_.name, date::format("%F", d))};
                    }
                    c.day_offset = static_cast<std::int16_t>(offset);
                }
                if (!s.group.empty()) {
                    c.group = static_cast<std::uint16_t>(findGroup(s.group).value_or(kNoGroup));
                }
                plan[k] = c;
            }
            auto [it, added] = known.try_emplace(plan, static_cast<std::uint32_t>(known.size()));
            if (added) cells_.insert(cells_.end(), plan.begin(), plan.end());
            plan_of_[slot * ndays + i] = it->second;
        }
    }
    return core::okStatus();
}

State Calendar::lookup(std::size_t slot, core::TimePoint t) const {
    auto local = toLocal(t);
    auto day = date::floor<date::days>(local);
    auto minute = date::floor<std::chrono::minutes>(local - day).count();
    Day d{day.time_since_epoch()};
    auto i = (d - (first_ - date::days{1})).count();
    // Outside the days held every answer is unknown (as evaluate() says for them).
    if (i < 0 || i >= static_cast<long>(days_.size())) {
        State s;
        if (slot < def_.groups.size()) s.group = def_.groups[slot].name;
        return s;
    }
    auto plan = plan_of_[slot * days_.size() + static_cast<std::size_t>(i)];
    const Cell& c = cells_[plan * edges_.size() + segment_of_[static_cast<std::size_t>(minute)]];
    State s{c.phase, c.session, std::nullopt, {}};
    if (c.day_offset != kNoDay) s.trading_day = d + date::days{c.day_offset};
    if (c.group != kNoGroup) s.group = def_.groups[c.group].name;
    return s;
}

State Calendar::at(std::size_t group, core::TimePoint t) const { return lookup(group, t); }

State Calendar::atAny(core::TimePoint t) const { return lookup(def_.groups.size(), t); }

State Calendar::evaluate(std::optional<std::size_t> group, Day d, int minute) const {
    if (group) return stateAt(*group, d, minute);
    State s = unionAt(leaves_, d, minute);
    if (s.phase == Phase::kUnknown) s.group = {};  // no group gave it
    return s;
}

}  // namespace alertbridge::calendar
