#include "plugin/core/time.hpp"

#include <charconv>
#include <cstdint>

#include <date/date.h>
#include <fmt/format.h>

namespace alertbridge::core {
namespace {

bool readInt(std::string_view s, size_t pos, size_t len, int& out) {
    if (pos + len > s.size()) return false;
    const char* b = s.data() + pos;
    auto [p, ec] = std::from_chars(b, b + len, out);
    return ec == std::errc() && p == b + len;
}

}  // namespace

Result<TimePoint> parseRfc3339(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (s.size() < 20 || !readInt(s, 0, 4, y) || s[4] != '-' || !readInt(s, 5, 2, mo) ||
        s[7] != '-' || !readInt(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') ||
        !readInt(s, 11, 2, h) || s[13] != ':' || !readInt(s, 14, 2, mi) || s[16] != ':' ||
        !readInt(s, 17, 2, sec)) {
        return Error{"not an RFC 3339 timestamp"};
    }
    size_t pos = 19;
    std::int64_t nanos = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
            ++digits;
            ++pos;
        }
        if (digits == 0) return Error{"not an RFC 3339 timestamp: empty fraction"};
        for (size_t i = digits; i < 9; ++i) nanos *= 10;
    }
    int offset_minutes = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh = 0, om = 0;
        if (!readInt(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !readInt(s, pos + 4, 2, om) || oh > 23 || om > 59) {
            return Error{"not an RFC 3339 timestamp: bad zone offset"};
        }
        offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return Error{"not an RFC 3339 timestamp: missing zone (Z or +hh:mm)"};
    }
    if (pos != s.size()) return Error{"not an RFC 3339 timestamp: trailing characters"};
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
        return Error{"not an RFC 3339 timestamp: field out of range"};
    }
    date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                             date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) return Error{"not an RFC 3339 timestamp: no such date"};
    // Go's zero time (year 1), which Alertmanager writes for "no end", is outside the
    // nanosecond range of system_clock: it stands for itself.
    if (y == 1) return TimePoint::min();
    // Anything else must fit the clock with room for the arithmetic done on it (an endsAt
    // plus four re-send intervals): a wrapped value would be a silent lie.
    if (y < kMinYear || y > kMaxYear) {
        return Error{fmt::format("year {} is out of range ({} to {})", y, kMinYear, kMaxYear)};
    }
    using namespace std::chrono;
    auto t = date::sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) - minutes(offset_minutes);
    return time_point_cast<Duration>(t) + duration_cast<Duration>(nanoseconds(nanos));
}

bool isZeroTime(TimePoint t) { return t == TimePoint::min(); }

Result<TimePoint> fromUnixSeconds(long long secs) {
    // 1970-01-01 and 2200-01-01 in Unix seconds.
    constexpr long long kMax = 7258118400LL;
    if (secs < 0 || secs >= kMax) {
        return Error{fmt::format("{} is out of range (Unix seconds from {} to {})", secs, kMinYear,
                                 kMaxYear)};
    }
    return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::seconds(secs)));
}

std::string formatRfc3339(TimePoint t) {
    if (isZeroTime(t)) return "0001-01-01T00:00:00Z";
    auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
    // The calendar arithmetic of date::format, without its stream and locale per call
    // (every pushed alert formats two times; the stream was most of an encode).
    auto day = std::chrono::floor<date::days>(ms);
    date::year_month_day ymd{day};
    int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) return date::format("%FT%TZ", ms);
    date::hh_mm_ss<std::chrono::milliseconds> hms{ms - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year,
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                       hms.subseconds().count());
}

Result<Duration> parseDuration(std::string_view s) {
    using namespace std::chrono;
    if (s == "0") return Duration::zero();
    if (s.empty()) return Error{"empty duration"};
    milliseconds total{0};
    size_t pos = 0;
    int last_rank = 100;
    while (pos < s.size()) {
        long long n = 0;
        if (s[pos] < '0' || s[pos] > '9') {
            return Error{fmt::format("not a valid duration string: \"{}\"", s)};
        }
        auto [p, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), n);
        if (ec != std::errc() || p == s.data() + pos) {
            return Error{fmt::format("not a valid duration string: \"{}\"", s)};
        }
        pos = static_cast<size_t>(p - s.data());
        std::string_view rest = s.substr(pos);
        struct Unit {
            std::string_view name;
            milliseconds size;
            int rank;
        };
        static constexpr Unit kUnits[] = {
            {"ms", milliseconds(1), 0}, {"s", seconds(1), 1}, {"m", minutes(1), 2},
            {"h", hours(1), 3},         {"d", hours(24), 4},  {"w", hours(24 * 7), 5},
            {"y", hours(24 * 365), 6},
        };
        const Unit* unit = nullptr;
        for (const auto& u : kUnits) {
            if (rest.substr(0, u.name.size()) == u.name &&
                !(u.name == "m" && rest.substr(0, 2) == "ms")) {
                unit = &u;
                break;
            }
        }
        if (unit == nullptr) {
            return Error{fmt::format(
                "not a valid duration string: \"{}\" (units: ms, s, m, h, d, w, y)", s)};
        }
        if (unit->rank >= last_rank) {
            return Error{fmt::format(
                "not a valid duration string: \"{}\" (units must go from largest to smallest)", s)};
        }
        last_rank = unit->rank;
        // A century is more than any interval means; past it the nanosecond clock would
        // wrap, so such a value is refused rather than turned into a negative one.
        constexpr long long kMaxMillis = 100LL * 365 * 24 * 3600 * 1000;
        if (n > kMaxMillis / unit->size.count() ||
            total.count() + n * unit->size.count() > kMaxMillis) {
            return Error{fmt::format("duration \"{}\" is out of range (at most 100y)", s)};
        }
        total += unit->size * n;
        pos += unit->name.size();
    }
    return duration_cast<Duration>(total);
}

std::string formatDuration(Duration d) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(d).count();
    if (ms == 0) return "0s";
    std::string out;
    const std::pair<long long, const char*> units[] = {
        {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
    for (auto [size, name] : units) {
        if (ms >= size) {
            out += std::to_string(ms / size) + name;
            ms %= size;
        }
    }
    return out;
}

}  // namespace alertbridge::core
