#include "plugin/calendar/report.hpp"

#include <set>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace alertbridge::calendar {
namespace {

std::string dayText(Day d) { return date::format("%F", d); }

constexpr auto kWeek = std::chrono::hours(24 * 7);

// The next change of every group within `span`, in time order.
std::vector<Transition> nextOfEach(const Calendar& cal, core::TimePoint at, core::Duration span) {
    std::vector<Transition> out;
    std::vector<bool> seen(cal.groupCount(), false);
    for (const auto& t : cal.transitions(at, at + span)) {
        if (seen[t.group]) continue;
        seen[t.group] = true;
        out.push_back(t);
    }
    return out;
}

std::string utcStamp(core::TimePoint t) {
    return date::format("%Y%m%dT%H%M%SZ", date::floor<std::chrono::seconds>(t));
}

// RFC 5545 3.1: lines of at most 75 octets, continued with CRLF and a space; never inside
// a UTF-8 sequence.
void line(std::string& out, const std::string& text) {
    std::size_t col = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (col + len > 75) {
            out += "\r\n ";
            col = 1;
        }
        out.append(text, i, len);
        col += len;
        i += len - 1;
    }
    out += "\r\n";
}

std::string escapeText(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == ';' || c == ',') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

std::string formatLocal(const Calendar& cal, core::TimePoint t) {
    auto secs = date::floor<std::chrono::seconds>(t);
    auto info = cal.zone()->get_info(secs);
    auto local = secs + info.offset;
    auto off = std::chrono::duration_cast<std::chrono::minutes>(info.offset).count();
    char sign = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    return fmt::format("{}{}{:02}:{:02}", date::format("%FT%T", local), sign, off / 60, off % 60);
}

std::string stateJson(const Calendar& cal, core::TimePoint at) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&w](const std::string& s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    auto state = [&](const State& s) {
        w.StartObject();
        w.Key("phase");
        str(std::string(phaseName(s.phase)));
        w.Key("session");
        if (s.session == Session::kNone) {
            w.Null();
        } else {
            str(std::string(sessionName(s.session)));
        }
        w.Key("trading_day");
        if (s.trading_day) {
            str(dayText(*s.trading_day));
        } else {
            w.Null();
        }
    };
    Day date = cal.localDate(at);
    w.StartObject();
    w.Key("at");
    str(formatLocal(cal, at));
    w.Key("calendar");
    str(cal.name());
    w.Key("date");
    str(dayText(date));
    w.Key("date_is_trading_day");
    if (auto t = cal.isTradingDay(date)) {
        w.Bool(*t);
    } else {
        w.Null();
    }
    w.Key("valid_until");
    str(dayText(cal.lastDay()));
    w.Key("expired");
    w.Bool(cal.expired(at));
    w.Key("groups");
    w.StartObject();
    for (std::size_t g = 0; g < cal.groupCount(); ++g) {
        w.Key(cal.groupName(g).c_str());
        state(cal.at(g, at));
        w.EndObject();
    }
    w.EndObject();
    w.Key("any");
    auto any = cal.atAny(at);
    state(any);
    w.Key("group");
    str(std::string(any.group));
    w.EndObject();
    w.Key("next_transitions");
    w.StartArray();
    for (const auto& t : nextOfEach(cal, at, kWeek)) {
        w.StartObject();
        w.Key("at");
        str(formatLocal(cal, t.at));
        w.Key("group");
        str(cal.groupName(t.group));
        w.Key("phase");
        str(std::string(phaseName(t.phase)));
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

std::string stateTable(const Calendar& cal, core::TimePoint at) {
    Day date = cal.localDate(at);
    auto trading = cal.isTradingDay(date);
    std::string out = fmt::format(
        "{} at {} ({})\n{} {}; answers are known until {}{}\n\n", cal.name(), formatLocal(cal, at),
        date::format("%A", date), dayText(date),
        !trading   ? "is outside the data"
        : *trading ? "is a trading day"
                   : "is not a trading day",
        dayText(cal.lastDay()), cal.expired(at) ? " (EXPIRED: every phase is unknown)" : "");
    auto row = [&](const std::string& name, const State& s) {
        out += fmt::format("  {:<22}{:<17}{:<9}{}\n", name, phaseName(s.phase),
                           s.session == Session::kNone ? "-" : sessionName(s.session),
                           s.trading_day ? dayText(*s.trading_day) : "unknown");
    };
    out += fmt::format("  {:<22}{:<17}{:<9}{}\n", "group", "phase", "session", "trading day");
    for (std::size_t g = 0; g < cal.groupCount(); ++g) row(cal.groupName(g), cal.at(g, at));
    auto any = cal.atAny(at);
    row("(any group)", any);
    // Over a long holiday, look further than a week, so the reader sees when it reopens.
    auto ts = nextOfEach(cal, at, std::chrono::hours(24 * 31));
    out += "\nnext change of each group:\n";
    for (const auto& t : ts) {
        out += fmt::format("  {}  {:<22}{}\n", formatLocal(cal, t.at), cal.groupName(t.group),
                           phaseName(t.phase));
    }
    return out;
}

std::string toIcs(const Calendar& cal, std::optional<std::size_t> group, core::TimePoint now) {
    std::string out;
    line(out, "BEGIN:VCALENDAR");
    line(out, "VERSION:2.0");
    line(out, "PRODID:-//alertbridge//trading sessions//EN");
    line(out, "CALSCALE:GREGORIAN");
    line(out, "X-WR-CALNAME:" + escapeText(cal.name()));
    const std::string stamp = "DTSTAMP:" + utcStamp(now);
    auto event = [&](const std::string& uid, const std::string& start, const std::string& end,
                     const std::string& summary) {
        line(out, "BEGIN:VEVENT");
        line(out, "UID:" + uid);
        line(out, stamp);
        line(out, start);
        line(out, end);
        line(out, "SUMMARY:" + escapeText(summary));
        line(out, "TRANSP:TRANSPARENT");
        line(out, "END:VEVENT");
    };
    const auto& def = cal.definition();
    for (std::size_t g = 0; g < cal.groupCount(); ++g) {
        const auto& gd = def.groups[g];
        if (!gd.union_of.empty() || (group && *group != g)) continue;
        for (Day d = cal.firstDay(); d <= cal.lastDay(); d += date::days{1}) {
            if (!cal.isTradingDay(d).value_or(false)) continue;
            if (!gd.day.empty()) {
                event(fmt::format("{}-{}-day-{}@alertbridge", cal.name(), gd.name, dayText(d)),
                      "DTSTART:" + utcStamp(cal.instant(d, gd.day.front().from)),
                      "DTEND:" + utcStamp(cal.instant(d, gd.day.back().to)),
                      fmt::format("{} day session ({})", gd.name, dayText(d)));
            }
            auto next = cal.nextTradingDay(d);
            if (!gd.night.empty() && cal.hasNight(d).value_or(false) && next) {
                event(
                    fmt::format("{}-{}-night-{}@alertbridge", cal.name(), gd.name, dayText(*next)),
                    "DTSTART:" + utcStamp(cal.instant(d, gd.night.front().from)),
                    "DTEND:" + utcStamp(cal.instant(d, gd.night.back().to)),
                    fmt::format("{} night session (trading day {})", gd.name, dayText(*next)));
            }
        }
    }
    // Closures and holidays as all-day events, once per date.
    std::set<Day> closed;
    for (const auto& y : def.data) {
        for (const auto& c : y.closures) {
            for (Day d = c.dates.from; d <= c.dates.to; d += date::days{1}) closed.insert(d);
        }
        for (const auto& h : y.holidays) {
            for (Day d = h.dates.from; d <= h.dates.to; d += date::days{1}) {
                auto compact = date::format("%Y%m%d", d);
                event(fmt::format("{}-holiday-{}@alertbridge", cal.name(), dayText(d)),
                      "DTSTART;VALUE=DATE:" + compact,
                      "DTEND;VALUE=DATE:" + date::format("%Y%m%d", d + date::days{1}),
                      fmt::format("{} (no trading)", h.name));
                closed.erase(d);
            }
        }
    }
    for (Day d : closed) {
        event(fmt::format("{}-closure-{}@alertbridge", cal.name(), dayText(d)),
              "DTSTART;VALUE=DATE:" + date::format("%Y%m%d", d),
              "DTEND;VALUE=DATE:" + date::format("%Y%m%d", d + date::days{1}), "Exchange closure");
    }
    line(out, "END:VCALENDAR");
    return out;
}

}  // namespace alertbridge::calendar
