#include "adapters/email/vendor_time.hpp"

#include <charconv>
#include <cstdint>

#include <date/date.h>
#include <date/tz.h>

#include "plugin/core/text.hpp"

namespace alertbridge::email {
namespace {

struct Cursor {
    std::string_view s;
    std::size_t pos = 0;

    bool number(int min_digits, int max_digits, int& out) {
        std::size_t start = pos;
        while (pos < s.size() && pos - start < static_cast<std::size_t>(max_digits) &&
               s[pos] >= '0' && s[pos] <= '9') {
            ++pos;
        }
        if (pos - start < static_cast<std::size_t>(min_digits)) return false;
        std::from_chars(s.data() + start, s.data() + pos, out);
        return true;
    }
    bool take(char c) {
        if (pos < s.size() && s[pos] == c) {
            ++pos;
            return true;
        }
        return false;
    }
    void spaces() {
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
    }
    bool done() const { return pos >= s.size(); }
};

std::optional<int> abbreviationOffset(std::string_view abbr) {
    std::string a = core::asciiUpper(abbr);
    if (a == "UTC" || a == "GMT" || a == "Z") return 0;
    if (a == "CST" || a == "HKT" || a == "SGT" || a == "AWST") return 8 * 60;  // see header
    if (a == "JST" || a == "KST") return 9 * 60;
    return std::nullopt;
}

}  // namespace

core::Result<core::TimePoint> parseVendorTime(std::string_view text, const ZoneHint& hint) {
    Cursor c{text};
    c.spaces();
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!c.number(4, 4, y)) return core::Error{"expected a year"};
    char sep = c.pos < text.size() ? text[c.pos] : '\0';
    if (sep != '-' && sep != '/' && sep != '.')
        return core::Error{"expected - / or . after the year"};
    ++c.pos;
    if (!c.number(1, 2, mo) || !c.take(sep) || !c.number(1, 2, d)) {
        return core::Error{"expected year, month and day"};
    }
    if (!c.take('T') && !c.take(' ')) return core::Error{"expected a time after the date"};
    c.spaces();
    if (!c.number(1, 2, h) || !c.take(':') || !c.number(2, 2, mi)) {
        return core::Error{"expected hours and minutes"};
    }
    if (c.take(':') && !c.number(2, 2, sec)) return core::Error{"expected seconds"};
    std::int64_t nanos = 0;
    if (c.take('.') || c.take(',')) {
        int digits = 0;
        while (!c.done() && text[c.pos] >= '0' && text[c.pos] <= '9') {
            if (digits < 9) nanos = nanos * 10 + (text[c.pos] - '0');
            ++digits;
            ++c.pos;
        }
        if (digits == 0) return core::Error{"expected digits after the decimal point"};
        for (int i = digits; i < 9; ++i) nanos *= 10;
    }
    date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                             date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return core::Error{"no such date or time"};
    using namespace std::chrono;
    auto local = date::local_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + nanoseconds(nanos);

    // The zone: explicit offset, then abbreviation, then the hints.
    std::optional<int> offset;
    c.spaces();
    if (c.take('Z')) {
        offset = 0;
    } else if (!c.done() && (text[c.pos] == '+' || text[c.pos] == '-')) {
        int sign = text[c.pos] == '-' ? -1 : 1;
        ++c.pos;
        int oh = 0, om = 0;
        if (!c.number(2, 2, oh)) return core::Error{"expected a zone offset"};
        c.take(':');
        c.number(2, 2, om);
        offset = sign * (oh * 60 + om);
    }
    c.spaces();
    std::size_t abbr_start = c.pos;
    while (!c.done() && ((text[c.pos] >= 'A' && text[c.pos] <= 'Z') ||
                         (text[c.pos] >= 'a' && text[c.pos] <= 'z'))) {
        ++c.pos;
    }
    if (!offset && c.pos > abbr_start)
        offset = abbreviationOffset(text.substr(abbr_start, c.pos - abbr_start));
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

}  // namespace alertbridge::email
