// Elapsed times as appliances write them (vendor_time.hpp): "5m 12s", "1d 2h 3m",
// "4 分 34 秒", "1天2小时", "0:41:23".
#include <array>

#include "adapters/email/vendor_cursor.hpp"
#include "adapters/email/vendor_time.hpp"

namespace alertbridge::email {

using detail::Cursor;

core::Result<core::Duration> parseVendorDuration(std::string_view text) {
    // "5m 12s", "1d 2h 3m", "4 分 34 秒", "1天2小时", "0:41:23"
    using namespace std::chrono;
    Cursor c{text};
    c.spaces();
    core::Duration total{};
    bool any = false;
    int first = 0;
    if (c.number(1, 6, first) && c.take(':')) {  // h:mm[:ss]
        int mi = 0, sec = 0;
        if (!c.number(2, 2, mi)) return core::Error{"expected minutes after the colon"};
        if (c.take(':') && !c.number(2, 2, sec)) return core::Error{"expected seconds"};
        c.spaces();
        if (!c.done()) return core::Error{"unexpected text after the duration"};
        return duration_cast<core::Duration>(hours(first) + minutes(mi) + seconds(sec));
    }
    c.pos = 0;
    static constexpr std::array<std::pair<std::string_view, long long>, 15> kUnits = {{
        {"ms", 0},
        {"min", 60},
        {"d", 86400},
        {"h", 3600},
        {"m", 60},
        {"s", 1},
        {"w", 604800},
        {"小时", 3600},
        {"分钟", 60},
        {"天", 86400},
        {"时", 3600},
        {"分", 60},
        {"秒", 1},
        {"周", 604800},
        {"日", 86400},
    }};
    while (true) {
        c.spaces();
        if (c.done()) break;
        int n = 0;
        if (!c.number(1, 9, n)) return core::Error{"expected a number in the duration"};
        c.spaces();
        bool matched = false;
        for (const auto& [unit, secs] : kUnits) {
            if (text.substr(c.pos, unit.size()) == unit) {
                c.pos += unit.size();
                // Held in nanoseconds: anything near a century is not an alert's age.
                if (secs * static_cast<long long>(n) > 100LL * 366 * 86400) {
                    return core::Error{"the duration is longer than a century"};
                }
                total += secs == 0 ? duration_cast<core::Duration>(milliseconds(n))
                                   : duration_cast<core::Duration>(seconds(n * secs));
                if (total > hours(24 * 366 * 100)) {
                    return core::Error{"the duration is longer than a century"};
                }
                matched = true;
                break;
            }
        }
        if (!matched) return core::Error{"expected a unit (d h m s, 天 小时 分 秒) after a number"};
        any = true;
    }
    if (!any) return core::Error{"empty duration"};
    return total;
}

}  // namespace alertbridge::email
