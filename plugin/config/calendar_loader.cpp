#include "plugin/config/calendar_loader.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "plugin/calendar/calendar.hpp"

namespace alertbridge::config {
namespace {

namespace fs = std::filesystem;
using calendar::Day;
using calendar::Window;

int lineOf(const YAML::Node& n) {
    return n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}

std::string dayText(Day d) { return date::format("%F", d); }

// Reads `calendars:` in alertbridge.yml.
class DefLoader {
  public:
    DefLoader(YamlReader& r, fs::path base_dir, std::vector<ConfigError>& errors,
              std::vector<ConfigError>& warnings)
        : r_(r), base_dir_(std::move(base_dir)), errors_(errors), warnings_(warnings) {}

    void load(const YAML::Node& n, std::vector<calendar::CalendarDef>& out) {
        if (!n || n.IsNull() || !r_.expectSequence(n, "calendars")) return;
        std::set<std::string> names;
        for (std::size_t i = 0; i < n.size(); ++i) {
            auto p = YamlReader::index("calendars", i);
            calendar::CalendarDef def;
            std::size_t before = errors_.size();
            one(n[i], p, def);
            if (!def.name.empty() && !names.insert(def.name).second) {
                r_.error(n[i]["name"], p + ".name",
                         fmt::format("\"{}\" is defined twice", def.name));
            }
            if (errors_.size() == before) crossCheck(def);
            out.push_back(std::move(def));
        }
    }

  private:
    void one(const YAML::Node& n, const std::string& p, calendar::CalendarDef& def) {
        if (!r_.expectMap(n, p,
                          {"name", "location", "data", "trading_weekdays", "valid_until",
                           "night_rule", "templates", "groups"})) {
            return;
        }
        def.line = lineOf(n);
        r_.readString(n, p, "name", def.name, true);
        r_.readString(n, p, "location", def.location);
        try {
            date::locate_zone(def.location);
        } catch (const std::exception&) {
            r_.error(n["location"], p + ".location",
                     fmt::format("unknown time zone \"{}\"", def.location));
        }
        if (auto w = n["trading_weekdays"]; w && r_.expectSequence(w, p + ".trading_weekdays")) {
            def.trading_weekdays = 0;
            for (std::size_t i = 0; i < w.size(); ++i) weekdays(w[i], p, def.trading_weekdays);
        }
        if (n["valid_until"]) {
            auto d = parseDay(n["valid_until"].Scalar());
            if (!d) {
                r_.error(n["valid_until"], p + ".valid_until", "must be a date (YYYY-MM-DD)");
            }
            def.valid_until = d;
        }
        r_.checkString(n, p, "night_rule", [&](const std::string& v) -> std::string {
            if (v == "none_before_holiday") {
                def.night_rule = calendar::NightRule::kNoneBeforeHoliday;
            } else if (v == "every_trading_day") {
                def.night_rule = calendar::NightRule::kEveryTradingDay;
            } else {
                return fmt::format(
                    "\"{}\" is not a night rule: none_before_holiday or "
                    "every_trading_day",
                    v);
            }
            return "";
        });
        data(n["data"], p + ".data", def);
        std::map<std::string, std::vector<Window>> templates;
        if (auto t = n["templates"]; t && !t.IsNull()) {
            if (!t.IsMap()) {
                r_.error(t, p + ".templates", "must be a map of template name to windows");
            } else {
                for (const auto& kv : t) {
                    auto name = kv.first.Scalar();
                    templates[name] = windows(kv.second, fmt::format("{}.templates.{}", p, name));
                }
            }
        }
        auto groups = n["groups"];
        if (!groups || !r_.expectSequence(groups, p + ".groups")) {
            if (!groups) r_.error(n, p + ".groups", "is required");
            return;
        }
        for (std::size_t i = 0; i < groups.size(); ++i) {
            group(groups[i], YamlReader::index(p + ".groups", i), templates, def);
        }
        for (std::size_t i = 0; i < def.groups.size(); ++i) {
            for (const auto& m : def.groups[i].union_of) {
                auto it = std::find_if(def.groups.begin(), def.groups.end(),
                                       [&](const auto& g) { return g.name == m; });
                if (it == def.groups.end() || !it->union_of.empty()) {
                    r_.errorAt(def.groups[i].line,
                               YamlReader::index(p + ".groups", i) + ".union_of",
                               fmt::format("\"{}\" is not a group with sessions of its own", m));
                }
            }
        }
    }

    void weekdays(const YAML::Node& v, const std::string& p, std::uint8_t& mask) {
        auto text = v.Scalar();
        auto colon = text.find(':');
        auto a = weekdayIndex(text.substr(0, colon));
        auto b = colon == std::string::npos ? a : weekdayIndex(text.substr(colon + 1));
        if (!a || !b || *b < *a) {
            r_.error(v, p + ".trading_weekdays",
                     fmt::format("\"{}\" is not a weekday or a range such as monday:friday", text));
            return;
        }
        for (unsigned d = *a; d <= *b; ++d) mask = static_cast<std::uint8_t>(mask | (1U << d));
    }

    void data(const YAML::Node& n, const std::string& p, calendar::CalendarDef& def) {
        if (!n) return r_.error(n, p, "is required: the calendar's data files, one per year");
        if (!r_.expectSequence(n, p)) return;
        std::map<int, std::string> years;
        for (std::size_t i = 0; i < n.size(); ++i) {
            fs::path file = n[i].Scalar();
            if (!file.is_absolute()) file = base_dir_ / file;
            auto y = loadCalendarData(file.string(), errors_);
            if (y.year == 0) continue;
            if (auto [it, fresh] = years.emplace(y.year, file.string()); !fresh) {
                r_.error(n[i], YamlReader::index(p, i),
                         fmt::format("a second file for {} (the first is {})", y.year, it->second));
                continue;
            }
            if (!y.location.empty() && y.location != def.location) {
                r_.error(n[i], YamlReader::index(p, i),
                         fmt::format("{} is for {}, not the calendar's location {}", file.string(),
                                     y.location, def.location));
            }
            def.data.push_back(std::move(y));
        }
        if (def.data.empty() && n.size() == 0) r_.error(n, p, "names no file");
    }

    std::vector<Window> windows(const YAML::Node& n, const std::string& p) {
        std::vector<Window> out;
        if (!r_.expectSequence(n, p)) return out;
        for (std::size_t i = 0; i < n.size(); ++i) {
            auto q = YamlReader::index(p, i);
            const auto& v = n[i];
            if (!r_.expectMap(v, q, {"phase", "from", "to"})) continue;
            Window w;
            std::string phase, from, to;
            r_.readString(v, q, "phase", phase, true);
            r_.readString(v, q, "from", from, true);
            r_.readString(v, q, "to", to, true);
            auto ph = calendar::parsePhase(phase);
            if (!ph || *ph == calendar::Phase::kClosed || *ph == calendar::Phase::kUnknown) {
                r_.error(v["phase"], q + ".phase",
                         fmt::format("\"{}\" is not a session phase: pre_open, continuous, break "
                                     "or closing_auction",
                                     phase));
                continue;
            }
            auto f = parseSessionTime(from);
            auto t = parseSessionTime(to);
            if (!f || !t || *f >= 1440) {
                r_.error(v, q, "from and to are times such as \"09:00\", \"02:30+1\"");
                continue;
            }
            if (*t <= *f || *t - *f > 1440) {
                r_.error(v, q, fmt::format("{}..{} is empty or longer than a day", from, to));
                continue;
            }
            w.phase = *ph;
            w.from = *f;
            w.to = *t;
            out.push_back(w);
        }
        std::sort(out.begin(), out.end(),
                  [](const Window& a, const Window& b) { return a.from < b.from; });
        for (std::size_t i = 1; i < out.size(); ++i) {
            if (out[i].from < out[i - 1].to) r_.error(n, p, "windows overlap");
        }
        return out;
    }

    // A template name or a list of windows.
    std::vector<Window> sessions(const YAML::Node& v, const std::string& p,
                                 const std::map<std::string, std::vector<Window>>& templates) {
        if (v.IsScalar()) {
            auto it = templates.find(v.Scalar());
            if (it == templates.end()) {
                r_.error(v, p, fmt::format("no template named \"{}\"", v.Scalar()));
                return {};
            }
            return it->second;
        }
        return windows(v, p);
    }

    void group(const YAML::Node& n, const std::string& p,
               const std::map<std::string, std::vector<Window>>& templates,
               calendar::CalendarDef& def) {
        if (!r_.expectMap(n, p,
                          {"name", "matchers", "day", "day_overrides", "night", "union_of"})) {
            return;
        }
        calendar::GroupDef g;
        g.line = lineOf(n);
        r_.readString(n, p, "name", g.name, true);
        for (const auto& other : def.groups) {
            if (other.name == g.name) r_.error(n["name"], p + ".name", "is defined twice");
        }
        if (auto m = n["matchers"]; m && r_.expectSequence(m, p + ".matchers")) {
            for (std::size_t i = 0; i < m.size(); ++i) {
                auto parsed = core::parseMatchers(m[i].Scalar());
                if (!parsed) {
                    r_.error(m[i], YamlReader::index(p + ".matchers", i), parsed.error());
                    continue;
                }
                for (auto& x : *parsed) g.matchers.push_back(std::move(x));
            }
        }
        if (auto u = n["union_of"]; u && r_.expectSequence(u, p + ".union_of")) {
            for (const auto& v : u) g.union_of.push_back(v.Scalar());
            if (n["day"] || n["night"]) {
                r_.error(n, p, "a union of groups has no sessions of its own (no day or night)");
            }
        } else if (!n["day"]) {
            r_.error(n, p + ".day", "is required (a template name or windows)");
        }
        if (n["day"]) g.day = sessions(n["day"], p + ".day", templates);
        if (n["day_overrides"]) {
            for (const auto& o : windows(n["day_overrides"], p + ".day_overrides")) {
                g.day = calendar::overlay(g.day, o);
            }
        }
        if (n["night"]) g.night = sessions(n["night"], p + ".night", templates);
        if (!g.day.empty()) {
            for (const auto& w : g.day) {
                if (w.to > 1440) r_.error(n["day"], p + ".day", "a day window ends after midnight");
            }
            for (const auto& w : g.night) {
                if (w.to - 1440 > g.day.front().from) {
                    r_.error(n["night"], p + ".night", "the night runs into the next day session");
                }
                if (w.from < g.day.back().to) {
                    r_.error(n["night"], p + ".night",
                             "the night starts before the day session ends");
                }
            }
        }
        def.groups.push_back(std::move(g));
    }

    // The printed evenings without a night against the night rule: a warning naming each
    // date where they disagree (the printed list is followed).
    void crossCheck(const calendar::CalendarDef& def) {
        calendar::CalendarDef bare = def;
        for (auto& y : bare.data) y.no_night.clear();
        auto rule = calendar::Calendar::build(bare);
        if (!rule) {
            errors_.push_back(ConfigError{r_.file(), def.line, "calendars", rule.error()});
            return;
        }
        const auto& cal = **rule;
        for (const auto& y : def.data) {
            std::set<Day> listed;
            for (const auto& r : y.no_night) {
                for (Day d = r.dates.from; d <= r.dates.to; d += date::days{1}) {
                    listed.insert(d);
                    if (cal.hasNight(d).value_or(false)) {
                        warnings_.push_back(ConfigError{
                            y.file, r.line, "no_night",
                            fmt::format(
                                "{} is printed as an evening without a night session, "
                                "but the night rule gives one; the printed list is followed",
                                dayText(d))});
                    }
                }
            }
            if (y.no_night.empty()) continue;
            Day from{date::year{y.year} / date::January / 1};
            Day to{date::year{y.year} / date::December / 31};
            for (Day d = from; d <= to; d += date::days{1}) {
                if (cal.isTradingDay(d).value_or(false) && !cal.hasNight(d).value_or(true) &&
                    listed.count(d) == 0) {
                    warnings_.push_back(ConfigError{
                        y.file, 0, "no_night",
                        fmt::format("the night rule gives no night session on the evening of {}, "
                                    "which no_night does not print",
                                    dayText(d))});
                }
            }
        }
    }

    YamlReader& r_;
    fs::path base_dir_;
    std::vector<ConfigError>& errors_;
    std::vector<ConfigError>& warnings_;
};

}  // namespace

void loadCalendars(YamlReader& r, const YAML::Node& n, const std::filesystem::path& base_dir,
                   std::vector<ConfigError>& errors, std::vector<ConfigError>& warnings,
                   std::vector<calendar::CalendarDef>& out) {
    DefLoader(r, base_dir, errors, warnings).load(n, out);
}

void loadCalendarLabels(YamlReader& r, const YAML::Node& n, const std::string& path,
                        std::optional<CalendarLabels>& out) {
    if (!r.expectMap(n, path, {"calendar", "match_group_from_alert", "labels"})) return;
    CalendarLabels cl;
    cl.line = lineOf(n);
    r.readString(n, path, "calendar", cl.calendar, true);
    r.readBool(n, path, "match_group_from_alert", cl.match_group_from_alert);
    auto labels = n["labels"];
    if (!labels || !labels.IsMap()) {
        // The usual three, under their usual names.
        cl.labels = {{"market_phase", "phase"},
                     {"market_session", "session"},
                     {"trading_day", "trading_day"}};
        if (labels) r.error(labels, path + ".labels", "must be a map of label name to field");
    } else {
        for (const auto& kv : labels) {
            auto name = kv.first.Scalar();
            auto field = kv.second.Scalar();
            auto p = fmt::format("{}.labels.{}", path, name);
            if (!core::isValidLabelName(name)) {
                r.error(kv.first, p, fmt::format("\"{}\" is not a valid label name", name));
            }
            if (field != "phase" && field != "session" && field != "trading_day" &&
                field != "group") {
                r.error(kv.second, p,
                        fmt::format("\"{}\" is not a field: phase, session, trading_day or group",
                                    field));
            }
            cl.labels.emplace_back(name, field);
        }
    }
    out = std::move(cl);
}

void checkCalendarNames(YamlReader& r, const Config& c) {
    if (!c.enrich.calendar_labels) return;
    const auto& name = c.enrich.calendar_labels->calendar;
    for (const auto& def : c.calendars) {
        if (def.name == name) return;
    }
    r.errorAt(c.enrich.calendar_labels->line, "enrich.calendar_labels.calendar",
              fmt::format("no calendar is named \"{}\" (calendars:)", name));
}

}  // namespace alertbridge::config
