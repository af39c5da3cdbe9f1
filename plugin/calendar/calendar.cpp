#include "plugin/calendar/calendar.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace alertbridge::calendar {

using core::Error;
using core::Result;

std::string_view phaseName(Phase p) {
    switch (p) {
        case Phase::kClosed:
            return "closed";
        case Phase::kBreak:
            return "break";
        case Phase::kPreOpen:
            return "pre_open";
        case Phase::kClosingAuction:
            return "closing_auction";
        case Phase::kContinuous:
            return "continuous";
        case Phase::kUnknown:
            return "unknown";
    }
    return "unknown";
}

std::optional<Phase> parsePhase(std::string_view s) {
    for (auto p : {Phase::kClosed, Phase::kBreak, Phase::kPreOpen, Phase::kClosingAuction,
                   Phase::kContinuous, Phase::kUnknown}) {
        if (phaseName(p) == s) return p;
    }
    return std::nullopt;
}

std::string_view sessionName(Session s) {
    switch (s) {
        case Session::kDay:
            return "day";
        case Session::kNight:
            return "night";
        case Session::kNone:
            return "";
    }
    return "";
}

int phaseRank(Phase p) {
    switch (p) {
        case Phase::kContinuous:
            return 3;
        case Phase::kPreOpen:
        case Phase::kClosingAuction:
            return 2;
        case Phase::kBreak:
            return 1;
        default:
            return 0;
    }
}

std::vector<Window> overlay(const std::vector<Window>& base, const Window& w) {
    std::vector<Window> out;
    for (const auto& b : base) {
        if (b.to <= w.from || w.to <= b.from) {
            out.push_back(b);
            continue;
        }
        if (b.from < w.from) out.push_back(Window{b.phase, b.from, w.from});
        if (w.to < b.to) out.push_back(Window{b.phase, w.to, b.to});
    }
    out.push_back(w);
    std::sort(out.begin(), out.end(),
              [](const Window& a, const Window& b) { return a.from < b.from; });
    return out;
}

Result<std::shared_ptr<const Calendar>> Calendar::build(CalendarDef def) {
    if (def.data.empty()) return Error{fmt::format("calendar {}: no data files", def.name)};
    std::shared_ptr<Calendar> c(new Calendar(std::move(def)));
    try {
        c->zone_ = date::locate_zone(c->def_.location);
    } catch (const std::exception& e) {
        return Error{
            fmt::format("calendar {}: unknown location \"{}\"", c->def_.name, c->def_.location)};
    }
    c->members_.resize(c->def_.groups.size());
    for (std::size_t g = 0; g < c->def_.groups.size(); ++g) {
        const auto& group = c->def_.groups[g];
        for (const auto& m : group.union_of) {
            auto idx = c->findGroup(m);
            if (!idx || !c->def_.groups[*idx].union_of.empty()) {
                return Error{
                    fmt::format("calendar {}: group {} joins \"{}\", which is not a "
                                "group with sessions of its own",
                                c->def_.name, group.name, m)};
            }
            c->members_[g].push_back(*idx);
        }
    }
    for (std::size_t g = 0; g < c->def_.groups.size(); ++g) {
        if (c->members_[g].empty()) c->leaves_.push_back(g);
    }
    c->index();
    if (auto built = c->buildPlans(); !built) return core::Error{built.error()};
    return std::shared_ptr<const Calendar>(std::move(c));
}

std::optional<std::size_t> Calendar::findGroup(std::string_view name) const {
    for (std::size_t g = 0; g < def_.groups.size(); ++g) {
        if (def_.groups[g].name == name) return g;
    }
    return std::nullopt;
}

std::optional<std::size_t> Calendar::groupFor(const core::LabelSet& labels) const {
    for (std::size_t g = 0; g < def_.groups.size(); ++g) {
        const auto& m = def_.groups[g].matchers;
        if (!m.empty() && core::matchesAll(m, labels)) return g;
    }
    return std::nullopt;
}

void Calendar::index() {
    using date::days;
    std::set<int> years;
    for (const auto& y : def_.data) years.insert(y.year);
    first_ = Day{date::year{*years.begin()} / date::January / 1};
    last_ = Day{date::year{*years.rbegin()} / date::December / 31};
    if (def_.valid_until && *def_.valid_until < last_) last_ = *def_.valid_until;
    std::set<Day> closed, off, no_night;
    std::vector<std::pair<DateRange, bool>> night_forced;
    auto each = [](const DateRange& r, auto&& fn) {
        for (Day d = r.from; d <= r.to; d += days{1}) fn(d);
    };
    for (const auto& y : def_.data) {
        for (const auto& c : y.closures) each(c.dates, [&](Day d) { closed.insert(d); });
        for (const auto& h : y.holidays) each(h.dates, [&](Day d) { off.insert(d); });
        for (const auto& n : y.no_night) each(n.dates, [&](Day d) { no_night.insert(d); });
        for (const auto& o : y.overrides) {
            if (o.closed.value_or(false)) each(o.dates, [&](Day d) { closed.insert(d); });
            if (o.night) night_forced.emplace_back(o.dates, *o.night);
        }
    }
    const auto count = static_cast<std::size_t>((last_ - first_).count() + 3);
    days_.assign(count, DayInfo{});
    auto day_at = [&](std::size_t i) { return first_ - days{1} + days{static_cast<int>(i)}; };
    for (std::size_t i = 0; i < count; ++i) {
        Day d = day_at(i);
        int y = static_cast<int>(date::year_month_day{d}.year());
        if (d < first_ || d > last_ || years.count(y) == 0) continue;
        unsigned wd = date::weekday{d}.c_encoding();
        bool trades = ((def_.trading_weekdays >> wd) & 1U) != 0 && closed.count(d) == 0;
        days_[i].trading = static_cast<std::int8_t>(trades ? 1 : 0);
    }
    // next/prev: known only when every day in between is known.
    std::int32_t next = -1;
    for (std::size_t k = count; k-- > 0;) {
        days_[k].next = next;
        if (days_[k].trading == 1) next = static_cast<std::int32_t>(k);
        if (days_[k].trading == -1) next = -1;
    }
    std::int32_t prev = -1;
    for (std::size_t k = 0; k < count; ++k) {
        days_[k].prev = prev;
        if (days_[k].trading == 1) prev = static_cast<std::int32_t>(k);
        if (days_[k].trading == -1) prev = -1;
    }
    for (std::size_t i = 0; i < count; ++i) {
        auto& info = days_[i];
        if (info.trading != 1) {
            info.night = info.trading;  // 0 or unknown
            continue;
        }
        if (info.next < 0) continue;  // unknown: the next trading day is past the data
        Day d = day_at(i);
        bool night = true;
        if (def_.night_rule == NightRule::kNoneBeforeHoliday) {
            for (auto k = i + 1; k < static_cast<std::size_t>(info.next); ++k) {
                if (off.count(day_at(k)) != 0 || closed.count(day_at(k)) != 0) night = false;
            }
        }
        if (no_night.count(d) != 0) night = false;
        for (const auto& [range, value] : night_forced) {
            if (range.contains(d)) night = value;
        }
        info.night = night ? 1 : 0;
    }
    std::set<int> edges{0};
    for (const auto& g : def_.groups) {
        for (const auto* ws : {&g.day, &g.night}) {
            for (const auto& w : *ws) {
                edges.insert(w.from % 1440);
                edges.insert(w.to % 1440);
            }
        }
    }
    edges_.assign(edges.begin(), edges.end());
    fixed_from_ = zone_->to_sys(date::local_days{(first_ - date::days{2}).time_since_epoch()},
                                date::choose::earliest);
    fixed_to_ = zone_->to_sys(date::local_days{(last_ + date::days{3}).time_since_epoch()},
                              date::choose::earliest);
    auto info = zone_->get_info(date::floor<std::chrono::seconds>(fixed_from_));
    // Compared in seconds: the last transition of a zone is far past what nanoseconds hold.
    fixed_ = info.end >= date::floor<std::chrono::seconds>(fixed_to_);
    fixed_offset_ = std::chrono::duration_cast<core::Duration>(info.offset);
}

const Calendar::DayInfo* Calendar::info(Day d) const {
    auto i = (d - (first_ - date::days{1})).count();
    if (i < 0 || i >= static_cast<long>(days_.size())) return nullptr;
    return &days_[static_cast<std::size_t>(i)];
}

std::optional<bool> Calendar::isTradingDay(Day d) const {
    const auto* i = info(d);
    if (i == nullptr || i->trading < 0) return std::nullopt;
    return i->trading == 1;
}

std::optional<bool> Calendar::hasNight(Day d) const {
    const auto* i = info(d);
    if (i == nullptr || i->night < 0) return std::nullopt;
    return i->night == 1;
}

std::optional<Day> Calendar::nextTradingDay(Day d) const {
    const auto* i = info(d);
    if (i == nullptr || i->next < 0) return std::nullopt;
    return first_ - date::days{1} + date::days{i->next};
}

std::optional<Day> Calendar::prevTradingDay(Day d) const {
    const auto* i = info(d);
    if (i == nullptr || i->prev < 0) return std::nullopt;
    return first_ - date::days{1} + date::days{i->prev};
}

date::local_time<core::Duration> Calendar::toLocal(core::TimePoint t) const {
    // The horizon of a zone without DST (Asia/Shanghai since 1991) has one offset: adding it
    // avoids a search of the zone's transitions on every alert.
    if (fixed_ && t >= fixed_from_ && t < fixed_to_) {
        return date::local_time<core::Duration>{t.time_since_epoch() + fixed_offset_};
    }
    return zone_->to_local(t);
}

Day Calendar::localDate(core::TimePoint t) const {
    auto local = toLocal(t);
    return Day{date::floor<date::days>(local).time_since_epoch()};
}

bool Calendar::expired(core::TimePoint t) const {
    Day d = localDate(t);
    return d < first_ || d > last_;
}

core::TimePoint Calendar::instant(Day d, int minute) const {
    date::local_time<std::chrono::minutes> lt{
        std::chrono::duration_cast<std::chrono::minutes>(d.time_since_epoch()) +
        std::chrono::minutes(minute)};
    auto sys = zone_->to_sys(lt, date::choose::earliest);
    return core::TimePoint(std::chrono::duration_cast<core::Duration>(sys.time_since_epoch()));
}

namespace {

const Window* covering(const std::vector<Window>& ws, int minute) {
    for (const auto& w : ws) {
        if (w.from <= minute && minute < w.to) return &w;
    }
    return nullptr;
}

State unknown() { return State{}; }

State unknownIn(const GroupDef& g) {
    return State{Phase::kUnknown, Session::kNone, std::nullopt, g.name};
}

}  // namespace

State Calendar::leafAt(std::size_t group, Day d, int minute) const {
    const auto& g = def_.groups[group];
    if (d < first_ || d > last_) return unknownIn(g);
    if (const auto* w = covering(g.day, minute)) {
        auto trading = isTradingDay(d);
        if (!trading) return unknownIn(g);
        if (*trading) return State{w->phase, Session::kDay, d, g.name};
    }
    if (const auto* w = covering(g.night, minute)) {
        auto night = hasNight(d);
        if (!night) return unknownIn(g);
        if (*night) return State{w->phase, Session::kNight, nextTradingDay(d), g.name};
    }
    if (const auto* w = covering(g.night, minute + 1440)) {
        Day before = d - date::days{1};
        auto night = hasNight(before);
        if (!night) return unknownIn(g);
        if (*night) return State{w->phase, Session::kNight, nextTradingDay(before), g.name};
    }
    // Closed: the trading day of the next session. Before the end of a trading day's day
    // session that is the day itself; after it, the next trading day.
    State s{Phase::kClosed, Session::kNone, std::nullopt, g.name};
    auto trading = isTradingDay(d);
    int day_end = g.day.empty() ? 0 : g.day.back().to;
    if (trading && *trading && minute < day_end) {
        s.trading_day = d;
    } else {
        s.trading_day = nextTradingDay(d);
    }
    return s;
}

State Calendar::unionAt(const std::vector<std::size_t>& members, Day d, int minute) const {
    std::optional<State> best;
    for (auto m : members) {
        State s = leafAt(m, d, minute);
        if (s.phase == Phase::kUnknown) return s;
        if (!best || phaseRank(s.phase) > phaseRank(best->phase)) {
            best = s;
        } else if (s.phase == Phase::kClosed && best->phase == Phase::kClosed &&
                   (!best->trading_day || (s.trading_day && *s.trading_day < *best->trading_day))) {
            best->trading_day = s.trading_day;
        }
    }
    return best.value_or(unknown());
}

State Calendar::stateAt(std::size_t group, Day d, int minute) const {
    if (members_[group].empty()) return leafAt(group, d, minute);
    State s = unionAt(members_[group], d, minute);
    s.group = def_.groups[group].name;
    return s;
}

std::vector<Transition> Calendar::transitions(core::TimePoint from, core::TimePoint to) const {
    std::vector<Transition> out;
    std::vector<State> last;
    last.reserve(def_.groups.size());
    for (std::size_t g = 0; g < def_.groups.size(); ++g) last.push_back(at(g, from));
    for (Day d = localDate(from); instant(d, 0) < to; d += date::days{1}) {
        for (int m : edges_) {
            auto t = instant(d, m);
            if (t <= from || t >= to) continue;
            for (std::size_t g = 0; g < def_.groups.size(); ++g) {
                State s = stateAt(g, d, m);
                if (s.phase != last[g].phase || s.session != last[g].session) {
                    out.push_back(Transition{t, g, s.phase, s.session});
                }
                last[g] = s;
            }
        }
    }
    return out;
}

}  // namespace alertbridge::calendar
