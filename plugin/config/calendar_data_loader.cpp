// The calendar data files: one year of holidays, closures, evenings without a night session
// and overrides, read and checked with file:line (calendar_loader.hpp).
#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "plugin/config/calendar_loader.hpp"

namespace alertbridge::config {

namespace {

namespace fs = std::filesystem;
using calendar::DateRange;
using calendar::Day;
using calendar::Mark;

int lineOf(const YAML::Node& n) {
    return n.IsDefined() && n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
}

std::string dayText(Day d) { return date::format("%F", d); }

constexpr std::array<std::string_view, 7> kWeekdayNames = {
    "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

// Reads one data file. `r` reports into the data file's name.
class DataLoader {
  public:
    explicit DataLoader(YamlReader& r) : r_(r) {}

    void load(const YAML::Node& n, calendar::YearData& y) {
        if (!r_.expectMap(n, "",
                          {"year", "location", "sources", "holidays", "makeup_workdays", "closures",
                           "no_night", "overrides"})) {
            return;
        }
        if (!n["year"]) {
            r_.error(n, "year", "is required");
            return;
        }
        try {
            y.year = n["year"].as<int>();
        } catch (const YAML::Exception&) {
            r_.error(n["year"], "year", "must be a year such as 2026");
            return;
        }
        if (y.year < 1990 || y.year > 2199) {
            r_.error(n["year"], "year", fmt::format("{} is out of range", y.year));
            return;
        }
        r_.readString(n, "", "location", y.location);
        if (auto s = n["sources"]) {
            if (r_.expectSequence(s, "sources")) {
                for (const auto& v : s) y.sources.push_back(v.Scalar());
            }
        }
        y_ = &y;
        each(n, "holidays", [&](const YAML::Node& v, const std::string& p) {
            if (!r_.expectMap(v, p, {"name", "from", "to", "mark", "source"})) return;
            calendar::Holiday h;
            r_.readString(v, p, "name", h.name, true);
            auto from = day(v["from"], p + ".from", true);
            auto to = v["to"] ? day(v["to"], p + ".to", true) : from;
            if (!from || !to) return;
            if (*to < *from) return r_.error(v, p, "ends before it starts");
            h.dates = {*from, *to};
            h.mark = mark(v, p);
            h.line = lineOf(v);
            y.holidays.push_back(std::move(h));
        });
        ranges(n, "makeup_workdays", y.makeup, false);
        ranges(n, "closures", y.closures, false);
        ranges(n, "no_night", y.no_night, true);
        each(n, "overrides", [&](const YAML::Node& v, const std::string& p) {
            if (!r_.expectMap(v, p, {"dates", "night", "closed", "reason"})) return;
            calendar::Override o;
            auto dates = range(v["dates"], p + ".dates", false);
            if (!dates) return;
            o.dates = *dates;
            if (v["night"]) {
                bool b = false;
                r_.readBool(v, p, "night", b);
                o.night = b;
            }
            if (v["closed"]) {
                bool b = false;
                r_.readBool(v, p, "closed", b);
                o.closed = b;
            }
            r_.readString(v, p, "reason", o.reason, true);
            if (!o.night && !o.closed) r_.error(v, p, "says neither night nor closed");
            o.line = lineOf(v);
            y.overrides.push_back(std::move(o));
        });
        check(y);
    }

  private:
    void each(const YAML::Node& n, const char* key,
              const std::function<void(const YAML::Node&, const std::string&)>& fn) {
        auto list = n[key];
        if (!list || list.IsNull() || !r_.expectSequence(list, key)) return;
        for (std::size_t i = 0; i < list.size(); ++i) fn(list[i], YamlReader::index(key, i));
    }

    std::optional<Day> day(const YAML::Node& v, const std::string& p, bool in_year) {
        if (!v || !v.IsScalar()) {
            r_.error(v, p, "must be a date such as 2026-03-06");
            return std::nullopt;
        }
        auto d = parseDay(v.Scalar());
        if (!d) {
            r_.error(v, p, fmt::format("\"{}\" is not a date (YYYY-MM-DD)", v.Scalar()));
            return std::nullopt;
        }
        if (in_year && static_cast<int>(date::year_month_day{*d}.year()) != y_->year) {
            r_.error(v, p, fmt::format("{} is not in the file's year {}", v.Scalar(), y_->year));
            return std::nullopt;
        }
        return d;
    }

    // A date or "from..to" inside the year; `eve` also allows the last day of the year
    // before (an evening without a night session that a notice of this year prints).
    std::optional<DateRange> range(const YAML::Node& v, const std::string& p, bool eve) {
        if (!v || !v.IsScalar()) {
            r_.error(v, p, "must be a date or a range such as 2026-05-04..2026-05-05");
            return std::nullopt;
        }
        auto dr = parseDayRange(v.Scalar());
        if (!dr) {
            r_.error(v, p,
                     fmt::format("\"{}\" is not a date or a range (YYYY-MM-DD..YYYY-MM-DD)",
                                 v.Scalar()));
            return std::nullopt;
        }
        auto year_of = [](Day d) { return static_cast<int>(date::year_month_day{d}.year()); };
        Day eve_day{date::year{y_->year - 1} / date::December / 31};
        for (Day d : {dr->from, dr->to}) {
            if (year_of(d) != y_->year && !(eve && d == eve_day)) {
                r_.error(v, p,
                         fmt::format("{} is not in the file's year {}", dayText(d), y_->year));
                return std::nullopt;
            }
        }
        return dr;
    }

    Mark mark(const YAML::Node& v, const std::string& p) {
        if (!v["mark"]) return Mark::kNone;
        auto m = v["mark"].Scalar();
        if (m == "V") return Mark::kVerified;
        if (m == "D") return Mark::kDerived;
        r_.error(v["mark"], p + ".mark",
                 fmt::format(
                     "\"{}\" is not a mark: V (verified) or D (derived from a verified rule)", m));
        return Mark::kNone;
    }

    // Entries are a date, a range, or {dates, mark, source}.
    void ranges(const YAML::Node& n, const char* key, std::vector<calendar::MarkedRange>& out,
                bool eve) {
        each(n, key, [&](const YAML::Node& v, const std::string& p) {
            calendar::MarkedRange m;
            // (A yaml-cpp Node assigned to another overwrites the node it refers to, so it
            // is bound once here.)
            const YAML::Node dates = v.IsMap() ? v["dates"] : v;
            if (v.IsMap()) {
                if (!r_.expectMap(v, p, {"dates", "mark", "source"})) return;
                m.mark = mark(v, p);
            }
            auto dr = range(dates, v.IsMap() ? p + ".dates" : p, eve);
            if (!dr) return;
            m.dates = *dr;
            m.line = lineOf(v);
            out.push_back(m);
        });
    }

    void check(const calendar::YearData& y) {
        std::map<Day, int> closed;
        for (const auto& c : y.closures) {
            for (Day d = c.dates.from; d <= c.dates.to; d += date::days{1}) {
                unsigned wd = date::weekday{d}.c_encoding();
                if (wd == 0 || wd == 6) {
                    lineError(c.line, "closures",
                              fmt::format("{} is a {}: a closure is a weekday (weekends never "
                                          "trade)",
                                          dayText(d), weekdayName(wd)));
                }
                if (auto [it, fresh] = closed.emplace(d, c.line); !fresh) {
                    lineError(
                        c.line, "closures",
                        fmt::format("{} is already a closure (line {})", dayText(d), it->second));
                }
            }
        }
        for (const auto& m : y.makeup) {
            for (Day d = m.dates.from; d <= m.dates.to; d += date::days{1}) {
                unsigned wd = date::weekday{d}.c_encoding();
                if (wd != 0 && wd != 6) {
                    lineError(m.line, "makeup_workdays",
                              fmt::format("{} is a {}: a make-up workday is a weekend day",
                                          dayText(d), weekdayName(wd)));
                }
            }
        }
        for (std::size_t i = 0; i < y.holidays.size(); ++i) {
            for (std::size_t j = i + 1; j < y.holidays.size(); ++j) {
                const auto& a = y.holidays[i].dates;
                const auto& b = y.holidays[j].dates;
                if (a.from <= b.to && b.from <= a.to) {
                    lineError(y.holidays[j].line, "holidays",
                              fmt::format("overlaps {} (line {})", y.holidays[i].name,
                                          y.holidays[i].line));
                }
            }
        }
    }

    void lineError(int line, const char* path, std::string message) {
        r_.errorAt(line, path, std::move(message));
    }

    YamlReader& r_;
    const calendar::YearData* y_ = nullptr;
};

}  // namespace

std::string_view weekdayName(unsigned c_encoding) { return kWeekdayNames.at(c_encoding % 7); }

std::optional<unsigned> weekdayIndex(std::string_view s) {
    for (unsigned i = 0; i < kWeekdayNames.size(); ++i) {
        if (kWeekdayNames[i] == s) return i;
    }
    return std::nullopt;
}

std::optional<Day> parseDay(std::string_view s) {
    if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
    int y = 0;
    unsigned m = 0, d = 0;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
    }
    y = std::stoi(std::string(s.substr(0, 4)));
    m = static_cast<unsigned>(std::stoi(std::string(s.substr(5, 2))));
    d = static_cast<unsigned>(std::stoi(std::string(s.substr(8, 2))));
    date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
    if (!ymd.ok()) return std::nullopt;
    return Day{ymd};
}

std::optional<DateRange> parseDayRange(std::string_view s) {
    auto dots = s.find("..");
    if (dots == std::string_view::npos) {
        auto d = parseDay(s);
        if (!d) return std::nullopt;
        return DateRange{*d, *d};
    }
    auto from = parseDay(s.substr(0, dots));
    auto to = parseDay(s.substr(dots + 2));
    if (!from || !to || *to < *from) return std::nullopt;
    return DateRange{*from, *to};
}

std::optional<int> parseSessionTime(std::string_view s) {
    int extra = 0;
    if (s.size() == 7 && s.substr(5) == "+1") {
        extra = 1440;
        s = s.substr(0, 5);
    }
    if (s.size() != 5 || s[2] != ':') return std::nullopt;
    for (std::size_t i : {0, 1, 3, 4}) {
        if (s[i] < '0' || s[i] > '9') return std::nullopt;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m + extra;
}
calendar::YearData loadCalendarData(const std::string& path, std::vector<ConfigError>& errors) {
    calendar::YearData y;
    y.file = path;
    YamlReader r(path, errors);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec) || fs::file_size(path, ec) > std::uintmax_t{1} << 20) {
        errors.push_back(
            ConfigError{path, 0, "", "not a calendar data file (a YAML file under 1 MiB)"});
        return y;
    }
    std::ifstream in(path);
    if (!in) {
        errors.push_back(ConfigError{path, 0, "", "cannot open the calendar data file"});
        return y;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    YAML::Node root;
    try {
        root = YAML::Load(ss.str());
    } catch (const YAML::Exception& e) {
        errors.push_back(ConfigError{path, e.mark.line < 0 ? 0 : e.mark.line + 1, "", e.msg});
        return y;
    }
    if (!root.IsDefined() || root.IsNull()) {
        errors.push_back(ConfigError{path, 0, "", "the file is empty"});
        return y;
    }
    DataLoader(r).load(root, y);
    return y;
}

}  // namespace alertbridge::config
