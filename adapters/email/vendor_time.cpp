#include "adapters/email/vendor_time.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <sstream>

#include <fmt/format.h>

#include <date/date.h>
#include <date/tz.h>

#include "adapters/email/vendor_cursor.hpp"
#include "plugin/core/text.hpp"

namespace alertbridge::email {

using detail::Cursor;

namespace {

std::optional<int> abbreviationOffset(std::string_view abbr) {
    std::string a = core::asciiUpper(abbr);
    if (a == "UTC" || a == "GMT" || a == "Z") return 0;
    if (a == "CST" || a == "HKT" || a == "SGT" || a == "AWST") return 8 * 60;  // see header
    if (a == "JST" || a == "KST") return 9 * 60;
    return std::nullopt;
}

}  // namespace

namespace {

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};

// A run of ASCII letters at the cursor (possibly empty).
std::string_view word(Cursor& c) {
    std::size_t start = c.pos;
    while (!c.done() &&
           ((c.s[c.pos] >= 'A' && c.s[c.pos] <= 'Z') || (c.s[c.pos] >= 'a' && c.s[c.pos] <= 'z'))) {
        ++c.pos;
    }
    return c.s.substr(start, c.pos - start);
}

// "jul", "July", "JULY" -> 7; the full name or its first three letters only.
int monthNumber(std::string_view w) {
    static constexpr std::array<std::string_view, 12> kFull = {
        "january", "february", "march",     "april",   "may",      "june",
        "july",    "august",   "september", "october", "november", "december"};
    std::string lower = core::asciiLower(w);
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
        if (lower == kMonths[i] || lower == kFull[i]) return static_cast<int>(i) + 1;
    }
    return 0;
}

bool isWeekday(std::string_view w) {
    if (w.size() < 3) return false;
    std::string prefix = core::asciiLower(w.substr(0, 3));
    return std::find(kWeekdays.begin(), kWeekdays.end(), prefix) != kWeekdays.end();
}

struct Parsed {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    std::int64_t nanos = 0;
    bool year_after_time = false;  // date(1) / asctime order: "Tue Jul 23 20:15:02 CST 2024"
};

// The date: numeric (2024-07-23, 2024/07/23, 2024.07.23) or with an English month name
// ("July 23, 2024", "Tuesday, July 23, 2024", "Tue Jul 23 ... 2024").
std::optional<std::string> parseDate(Cursor& c, Parsed& p) {
    if (!c.done() && c.s[c.pos] >= '0' && c.s[c.pos] <= '9') {
        std::size_t start = c.pos;
        int first = 0;
        c.number(1, 2, first);
        if (c.pos - start <= 2 && !c.done()) {
            // Day or month first: "24 Jul 2024", "07/24/2024" (US: month first unless the
            // first number cannot be a month), "24.07.2024" (European: day first).
            char sep = c.s[c.pos];
            if (sep == '-' && c.pos + 1 < c.s.size() &&
                std::isalpha(static_cast<unsigned char>(c.s[c.pos + 1])) != 0) {
                // "24-Jul-2024 09:01:12", "24-JUL-24" is not accepted (two-digit year).
                ++c.pos;
                p.d = first;
                p.mo = monthNumber(word(c));
                if (p.mo == 0 || !c.take('-') || !c.number(4, 4, p.y)) {
                    return "expected \"day-month-year\"";
                }
                c.spaces();
                return std::nullopt;
            }
            if (sep == ' ') {
                c.spaces();
                p.d = first;
                p.mo = monthNumber(word(c));
                c.spaces();
                if (p.mo == 0 || !c.number(4, 4, p.y)) return "expected \"day month year\"";
                c.take(',');
                c.spaces();
                return std::nullopt;
            }
            if (sep == '/' || sep == '.' || sep == '-') {
                ++c.pos;
                int second = 0;
                if (!c.number(1, 2, second) || !c.take(sep) || !c.number(4, 4, p.y)) {
                    return "expected day, month and a four-digit year";
                }
                bool day_first = sep == '.' || first > 12;
                p.d = day_first ? first : second;
                p.mo = day_first ? second : first;
                if (!c.take('T') && !c.take(' ') && !c.take(',')) {
                    return "expected a time after the date";
                }
                c.spaces();
                return std::nullopt;
            }
        }
        c.pos = start;
        if (!c.number(4, 4, p.y)) return "expected a year";
        char sep = c.done() ? '\0' : c.s[c.pos];
        if (sep != '-' && sep != '/' && sep != '.') return "expected - / or . after the year";
        ++c.pos;
        if (!c.number(1, 2, p.mo) || !c.take(sep) || !c.number(1, 2, p.d)) {
            return "expected year, month and day";
        }
        if (!c.take('T') && !c.take(' ')) return "expected a time after the date";
        c.spaces();
        return std::nullopt;
    }
    std::string_view w = word(c);
    if (isWeekday(w) && monthNumber(w) == 0) {
        c.take(',');
        c.spaces();
        if (!c.done() && c.s[c.pos] >= '0' && c.s[c.pos] <= '9') {
            return parseDate(c, p);  // RFC 5322: "Wed, 24 Jul 2024 09:01:12 +0800"
        }
        w = word(c);
    }
    p.mo = monthNumber(w);
    if (p.mo == 0) return "expected a date";
    c.spaces();
    if (!c.number(1, 2, p.d)) return "expected the day after the month";
    if (c.take(',')) {  // "July 23, 2024"
        c.spaces();
        if (!c.number(4, 4, p.y)) return "expected a year after the day";
        c.take(',');
        c.spaces();
        return std::nullopt;
    }
    c.spaces();
    std::size_t before_year = c.pos;
    if (c.number(4, 4, p.y) && (c.done() || c.s[c.pos] == ' ')) {  // "Jul 23 2024 20:15:02"
        c.spaces();
        return std::nullopt;
    }
    c.pos = before_year;
    p.year_after_time = true;
    return std::nullopt;
}

// A local time and what the text said of its zone, to an instant (see the header).
core::TimePoint inZone(date::local_time<std::chrono::nanoseconds> local, std::optional<int> offset,
                       const ZoneHint& hint) {
    using namespace std::chrono;
    if (hint.ignore_zone) offset.reset();
    if (!offset) offset = hint.date_header_offset_minutes;
    if (offset) {
        auto utc = date::sys_time<nanoseconds>((local - minutes(*offset)).time_since_epoch());
        return core::TimePoint(duration_cast<core::Duration>(utc.time_since_epoch()));
    }
    if (hint.fallback != nullptr) {
        auto zoned = hint.fallback->to_sys(local, date::choose::earliest);
        return core::TimePoint(duration_cast<core::Duration>(zoned.time_since_epoch()));
    }
    return core::TimePoint(duration_cast<core::Duration>(local.time_since_epoch()));
}

// Chinese dates to the numeric form: "2024年7月24日 星期三 09时01分12秒" -> "2024-7-24 09:01:12";
// 上午/下午 become AM/PM after the time.
std::string fromChinese(std::string_view text) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kMap = {{
        {"\xE5\xB9\xB4", "-"},  // 年
        {"\xE6\x9C\x88", "-"},  // 月
        {"\xE6\x97\xA5", " "},  // 日
        {"\xE5\x8F\xB7", " "},  // 号
        {"\xE6\x97\xB6", ":"},  // 时
        {"\xE7\x82\xB9", ":"},  // 点
        {"\xE5\x88\x86", ":"},  // 分
        {"\xE7\xA7\x92", ""},   // 秒
    }};
    std::string out;
    std::string meridiem;
    for (std::size_t i = 0; i < text.size();) {
        auto rest = text.substr(i);
        if (rest.starts_with("\xE4\xB8\x8A\xE5\x8D\x88") ||  // 上午
            rest.starts_with("\xE4\xB8\x8B\xE5\x8D\x88")) {  // 下午
            meridiem = rest[2] == '\x8A' ? " AM" : " PM";
            i += 6;
            continue;
        }
        // 星期三 / 周三: a weekday, dropped.
        if (rest.starts_with("\xE6\x98\x9F\xE6\x9C\x9F")) {
            i += 9;
            continue;
        }
        bool mapped = false;
        for (auto [zh, ascii] : kMap) {
            if (rest.starts_with(zh)) {
                out += ascii;
                i += zh.size();
                mapped = true;
                break;
            }
        }
        if (!mapped) out += text[i++];
    }
    while (!out.empty() && (out.back() == ':' || out.back() == ' ')) out.pop_back();
    // "09:01:" from "09时01分": the last unit left a colon.
    return out + meridiem;
}

bool allDigits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

core::Result<core::TimePoint> parseVendorTime(std::string_view raw, const ZoneHint& hint) {
    while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) raw.remove_prefix(1);
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
    if (allDigits(raw) && (raw.size() == 10 || raw.size() == 13)) {  // epoch s or ms
        std::int64_t n = 0;
        std::from_chars(raw.data(), raw.data() + raw.size(), n);
        auto ms = raw.size() == 10 ? n * 1000 : n;
        if (ms < 0 || ms >= 7258118400000) return core::Error{"the year is outside 1970-2199"};
        return core::TimePoint(std::chrono::milliseconds(ms));
    }
    std::string converted;
    if (raw.find("\xE5\xB9\xB4") != std::string_view::npos) {  // 年
        converted = fromChinese(raw);
        raw = converted;
    }
    std::string_view text = raw;
    Cursor c{text};
    c.spaces();
    Parsed p;
    if (auto err = parseDate(c, p)) return core::Error{*err};
    if (!c.number(1, 2, p.h) || !c.take(':') || !c.number(2, 2, p.mi)) {
        return core::Error{"expected hours and minutes"};
    }
    if (c.take(':') && !c.number(2, 2, p.sec)) return core::Error{"expected seconds"};
    if (c.take('.') || c.take(',')) {
        int digits = 0;
        while (!c.done() && text[c.pos] >= '0' && text[c.pos] <= '9') {
            if (digits < 9) p.nanos = p.nanos * 10 + (text[c.pos] - '0');
            ++digits;
            ++c.pos;
        }
        if (digits == 0) return core::Error{"expected digits after the decimal point"};
        for (int i = digits; i < 9; ++i) p.nanos *= 10;
    }
    c.spaces();
    {  // AM / PM
        std::size_t save = c.pos;
        std::string meridiem = core::asciiUpper(word(c));
        if (meridiem == "AM" || meridiem == "PM") {
            if (p.h < 1 || p.h > 12)
                return core::Error{"expected an hour from 1 to 12 before " + meridiem};
            p.h = p.h % 12 + (meridiem == "PM" ? 12 : 0);
            c.spaces();
        } else {
            c.pos = save;
        }
    }

    // The zone: explicit offset, then abbreviation, then the hints. An abbreviation followed
    // by an offset ("UTC+08:00", "GMT+8") means the offset.
    std::optional<int> offset;
    auto read_offset = [&](bool short_hours) -> std::optional<std::string> {
        int sign = text[c.pos] == '-' ? -1 : 1;
        ++c.pos;
        int oh = 0, om = 0;
        if (!c.number(short_hours ? 1 : 2, 2, oh)) return "expected a zone offset";
        c.take(':');
        c.number(2, 2, om);
        if (oh > 14 || om > 59) return "no such zone offset";
        offset = sign * (oh * 60 + om);
        return std::nullopt;
    };
    auto at_sign = [&] { return !c.done() && (text[c.pos] == '+' || text[c.pos] == '-'); };
    if (c.take('Z')) {
        offset = 0;
    } else if (at_sign()) {
        if (auto err = read_offset(false)) return core::Error{*err};
    }
    c.spaces();
    std::string_view abbr = word(c);
    if (!abbr.empty() && !offset) {
        if (at_sign()) {
            if (auto err = read_offset(true)) return core::Error{*err};
        } else {
            offset = abbreviationOffset(abbr);
        }
    }
    if (p.year_after_time) {
        c.spaces();
        if (!c.number(4, 4, p.y)) return core::Error{"expected the year after the time"};
    }
    date::year_month_day ymd{date::year{p.y}, date::month{static_cast<unsigned>(p.mo)},
                             date::day{static_cast<unsigned>(p.d)}};
    if (!ymd.ok() || p.h > 23 || p.mi > 59 || p.sec > 60) {
        return core::Error{"no such date or time"};
    }
    if (p.y < 1970 || p.y >= 2200) return core::Error{"the year is outside 1970-2199"};
    using namespace std::chrono;
    auto local =
        date::local_days(ymd) + hours(p.h) + minutes(p.mi) + seconds(p.sec) + nanoseconds(p.nanos);
    return inZone(local, offset, hint);
}

core::Result<core::TimePoint> parseVendorTime(std::string_view text, std::string_view format,
                                              const ZoneHint& hint) {
    using namespace std::chrono;
    std::istringstream in{std::string(text)};
    // Microseconds, not nanoseconds: a year far outside ours must not overflow while parsing.
    date::local_time<microseconds> parsed{};
    std::string abbreviation;
    minutes parsed_offset{0};
    in >> date::parse(std::string(format), parsed, abbreviation, parsed_offset);
    if (in.fail()) {
        return core::Error{fmt::format("does not match the format \"{}\"", format)};
    }
    auto days = date::floor<date::days>(parsed);
    int year = static_cast<int>(date::year_month_day(days).year());
    if (year < 1970 || year >= 2200) return core::Error{"the year is outside 1970-2199"};
    auto local = date::local_time<nanoseconds>(parsed.time_since_epoch());
    std::optional<int> offset;
    if (format.find("%z") != std::string_view::npos ||
        format.find("%Ez") != std::string_view::npos ||
        format.find("%Oz") != std::string_view::npos) {
        offset = static_cast<int>(parsed_offset.count());
    } else if (!abbreviation.empty()) {
        offset = abbreviationOffset(abbreviation);
    }
    return inZone(local, offset, hint);
}

}  // namespace alertbridge::email
