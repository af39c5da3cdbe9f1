#include "plugin/config/interval_loader.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

#include <fmt/format.h>

#include "plugin/config/calendar_loader.hpp"

namespace alertbridge::config {
namespace {

using calendar::Range;

int lineOf(const YAML::Node& n) {
    return n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}

constexpr std::array<std::string_view, 12> kMonths = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::optional<int> number(std::string_view s) {
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

class IntervalLoader {
  public:
    explicit IntervalLoader(YamlReader& r) : r_(r) {}

    void load(const YAML::Node& n, std::vector<calendar::TimeInterval>& out) {
        if (!n || n.IsNull() || !r_.expectSequence(n, "time_intervals")) return;
        std::set<std::string> names;
        for (std::size_t i = 0; i < n.size(); ++i) {
            auto p = YamlReader::index("time_intervals", i);
            const auto& v = n[i];
            if (!r_.expectMap(v, p, {"name", "time_intervals"})) continue;
            calendar::TimeInterval ti;
            ti.line = lineOf(v);
            r_.readString(v, p, "name", ti.name, true);
            if (!ti.name.empty() && !names.insert(ti.name).second) {
                r_.error(v["name"], p + ".name", fmt::format("\"{}\" is defined twice", ti.name));
            }
            auto specs = v["time_intervals"];
            if (!specs) {
                r_.error(v, p + ".time_intervals", "is required");
            } else if (r_.expectSequence(specs, p + ".time_intervals")) {
                for (std::size_t k = 0; k < specs.size(); ++k) {
                    spec(specs[k], YamlReader::index(p + ".time_intervals", k), ti.specs);
                }
            }
            out.push_back(std::move(ti));
        }
    }

  private:
    void spec(const YAML::Node& n, const std::string& p, std::vector<calendar::IntervalSpec>& out) {
        if (!r_.expectMap(
                n, p,
                {"times", "weekdays", "days_of_month", "months", "years", "location", "calendar",
                 "trading_day", "trading_night", "sessions", "phases", "groups", "outside_sessions",
                 "match_group_from_alert", "lead", "lag"})) {
            return;
        }
        calendar::IntervalSpec s;
        s.line = lineOf(n);
        if (auto t = n["times"]; t && r_.expectSequence(t, p + ".times")) {
            for (std::size_t i = 0; i < t.size(); ++i)
                times(t[i], YamlReader::index(p + ".times", i), s);
        }
        ranges(n, p, "weekdays", s.weekdays, [](const std::string& x) -> std::optional<int> {
            auto i = weekdayIndex(lower(x));
            return i ? std::optional<int>(static_cast<int>(*i)) : std::nullopt;
        });
        ranges(n, p, "days_of_month", s.days_of_month,
               [](const std::string& x) -> std::optional<int> {
                   auto v = number(x);
                   if (!v || *v == 0 || *v < -31 || *v > 31) return std::nullopt;
                   return v;
               });
        ranges(n, p, "months", s.months, [](const std::string& x) -> std::optional<int> {
            auto l = lower(x);
            for (std::size_t i = 0; i < kMonths.size(); ++i) {
                if (kMonths[i] == l) return static_cast<int>(i + 1);
            }
            auto v = number(x);
            if (!v || *v < 1 || *v > 12) return std::nullopt;
            return v;
        });
        ranges(n, p, "years", s.years, [](const std::string& x) -> std::optional<int> {
            auto v = number(x);
            if (!v || *v < 1970 || *v > 2199) return std::nullopt;
            return v;
        });
        r_.checkString(n, p, "location", [&](const std::string& v) -> std::string {
            try {
                s.zone = date::locate_zone(v == "Local" ? "UTC" : v);
                s.location = v;
            } catch (const std::exception&) {
                return fmt::format("unknown time zone \"{}\"", v);
            }
            return "";
        });
        if (s.zone == nullptr) s.zone = date::locate_zone("UTC");
        r_.readString(n, p, "calendar", s.calendar);
        if (n["trading_day"]) {
            bool b = false;
            r_.readBool(n, p, "trading_day", b);
            s.trading_day = b;
        }
        if (n["trading_night"]) {
            bool b = false;
            r_.readBool(n, p, "trading_night", b);
            s.trading_night = b;
        }
        list(n, p, "sessions", [&](const std::string& x) {
            if (x == "day")
                s.sessions.push_back(calendar::Session::kDay);
            else if (x == "night")
                s.sessions.push_back(calendar::Session::kNight);
            else
                return false;
            return true;
        });
        list(n, p, "phases", [&](const std::string& x) {
            auto ph = calendar::parsePhase(x);
            if (ph) s.phases.push_back(*ph);
            return ph.has_value();
        });
        list(n, p, "groups", [&](const std::string& x) {
            s.groups.push_back(x);
            return true;
        });
        r_.readBool(n, p, "outside_sessions", s.outside_sessions);
        r_.readBool(n, p, "match_group_from_alert", s.match_group_from_alert);
        r_.readDuration(n, p, "lead", s.lead);
        r_.readDuration(n, p, "lag", s.lag);
        for (auto [key, d] : {std::pair{"lead", s.lead}, std::pair{"lag", s.lag}}) {
            if (d > std::chrono::hours(4)) {
                r_.error(n[key], p + "." + key, "must be at most 4h (a session's gap is longer)");
            }
        }
        if (s.calendar.empty() && (s.usesCalendar() || s.lead.count() != 0 || s.lag.count() != 0)) {
            r_.error(n, p + ".calendar", "is required with the calendar fields");
        }
        out.push_back(std::move(s));
    }

    void times(const YAML::Node& v, const std::string& p, calendar::IntervalSpec& s) {
        if (!r_.expectMap(v, p, {"start_time", "end_time"})) return;
        std::string a, b;
        r_.readString(v, p, "start_time", a, true);
        r_.readString(v, p, "end_time", b, true);
        auto from = parseSessionTime(a);
        auto to = parseSessionTime(b);
        if (!from || !to || *from >= 1440 || *to > 1440 || *from >= *to) {
            r_.error(v, p,
                     fmt::format("{}..{} is not a time range: HH:MM from 00:00 to 24:00, start "
                                 "before end",
                                 a, b));
            return;
        }
        s.times.push_back(Range{*from, *to});
    }

    template <typename Parse>
    void ranges(const YAML::Node& n, const std::string& p, const char* key, std::vector<Range>& out,
                Parse parse) {
        auto list = n[key];
        if (!list || !r_.expectSequence(list, p + "." + key)) return;
        for (std::size_t i = 0; i < list.size(); ++i) {
            auto text = list[i].Scalar();
            auto colon = text.find(':');
            auto a = parse(text.substr(0, colon));
            auto b = colon == std::string::npos ? a : parse(text.substr(colon + 1));
            bool ordered = a && b && ((*a < 0) != (*b < 0) || *a <= *b);
            if (!ordered) {
                r_.error(list[i], YamlReader::index(p + "." + key, i),
                         fmt::format("\"{}\" is not a {} or a range of them", text, key));
                continue;
            }
            out.push_back(Range{*a, *b});
        }
    }

    template <typename Take>
    void list(const YAML::Node& n, const std::string& p, const char* key, Take take) {
        auto l = n[key];
        if (!l || !r_.expectSequence(l, p + "." + key)) return;
        for (std::size_t i = 0; i < l.size(); ++i) {
            if (!take(l[i].Scalar())) {
                r_.error(l[i], YamlReader::index(p + "." + key, i),
                         fmt::format("\"{}\" is not one of the {}", l[i].Scalar(), key));
            }
        }
    }

    YamlReader& r_;
};

}  // namespace

void loadTimeIntervals(YamlReader& r, const YAML::Node& n,
                       std::vector<calendar::TimeInterval>& out) {
    IntervalLoader(r).load(n, out);
}

void checkIntervalCalendars(YamlReader& r, const Config& c) {
    for (const auto& ti : c.time_intervals) {
        for (const auto& s : ti.specs) {
            if (s.calendar.empty()) continue;
            auto def = std::find_if(c.calendars.begin(), c.calendars.end(),
                                    [&](const auto& d) { return d.name == s.calendar; });
            if (def == c.calendars.end()) {
                r.errorAt(s.line, "time_intervals." + ti.name,
                          fmt::format("no calendar is named \"{}\" (calendars:)", s.calendar));
                continue;
            }
            for (const auto& g : s.groups) {
                bool known = std::any_of(def->groups.begin(), def->groups.end(),
                                         [&](const auto& x) { return x.name == g; });
                if (!known) {
                    r.errorAt(s.line, "time_intervals." + ti.name,
                              fmt::format("calendar {} has no group \"{}\"", s.calendar, g));
                }
            }
        }
    }
}

}  // namespace alertbridge::config
