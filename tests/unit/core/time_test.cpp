#include "plugin/core/time.hpp"

#include <date/date.h>
#include <gtest/gtest.h>

#include <random>

#include "plugin/core/severity.hpp"
#include "plugin/core/url.hpp"

namespace alertbridge::core {
namespace {

using namespace std::chrono;

TEST(Rfc3339, AcceptsEveryFormTheHostsWrite) {
    auto base = parseRfc3339("2026-11-25T00:16:15Z").value();
    struct Case {
        const char* text;
        nanoseconds offset;
    };
    for (auto c : std::initializer_list<Case>{
             {"2026-11-25T00:16:15Z", 0ns},
             {"2026-11-25T00:16:15.8Z", 800ms},
             {"2026-11-25T00:16:15.895Z", 895ms},
             {"2026-11-25T00:35:44.514732048Z", 1169s + 514732048ns},
             {"2026-11-25T08:16:15+08:00", 0ns},
             {"2026-11-24T19:16:15.5-05:00", 500ms},
         }) {
        auto t = parseRfc3339(c.text);
        ASSERT_TRUE(t.ok()) << c.text << ": " << t.error();
        EXPECT_EQ(duration_cast<nanoseconds>(*t - base), c.offset) << c.text;
    }
}

TEST(Rfc3339, ZeroTimeIsRecognised) {
    auto t = parseRfc3339("0001-01-01T00:00:00Z");
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(isZeroTime(*t));
    EXPECT_EQ(formatRfc3339(*t), "0001-01-01T00:00:00Z");
}

TEST(Rfc3339, RejectsMalformed) {
    for (const char* bad : {"", "2026-11-25", "2026-11-25T00:16:15", "2026-11-25 00:16:15Z",
                            "2026-13-25T00:16:15Z", "2026-02-30T00:16:15Z", "2026-11-25T00:16:15.Z",
                            "2026-11-25T00:16:15Zjunk", "2026-11-25T00:16:15+0800"}) {
        EXPECT_FALSE(parseRfc3339(bad).ok()) << bad;
    }
}

TEST(Rfc3339, FormatsMillisecondsUtc) {
    EXPECT_EQ(formatRfc3339(parseRfc3339("2026-11-25T08:16:15.8956+08:00").value()),
              "2026-11-25T00:16:15.895Z");
}

TEST(Duration, PrometheusSyntax) {
    EXPECT_EQ(parseDuration("30s").value(), seconds(30));
    EXPECT_EQ(parseDuration("1h30m").value(), minutes(90));
    EXPECT_EQ(parseDuration("500ms").value(), milliseconds(500));
    EXPECT_EQ(parseDuration("1d").value(), hours(24));
    EXPECT_EQ(parseDuration("0").value(), Duration::zero());
    for (const char* bad : {"", "5", "1x", "30m1h", "m", "-5s", "1.5h"}) {
        EXPECT_FALSE(parseDuration(bad).ok()) << bad;
    }
    EXPECT_EQ(formatDuration(minutes(90) + milliseconds(5)), "1h30m5ms");
}

TEST(Severity, DefaultsAndOverrides) {
    auto m = SeverityMap::defaults();
    EXPECT_EQ(m.map("CRITICAL", Severity::kInfo), Severity::kCritical);
    EXPECT_EQ(m.map("P2", Severity::kInfo), Severity::kWarning);
    EXPECT_EQ(m.map("notice", Severity::kCritical), Severity::kInfo);
    EXPECT_EQ(m.map("whatever", Severity::kWarning), Severity::kWarning);
    m.add("严重", Severity::kCritical);
    EXPECT_EQ(m.map("严重", Severity::kInfo), Severity::kCritical);
}

TEST(Url, EndpointsAndListenAddresses) {
    auto u = parseUrl("http://127.0.0.1:9093/am/").value();
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 9093);
    EXPECT_EQ(u.path, "/am");
    EXPECT_EQ(parseUrl("http://am.local").value().port, 80);
    EXPECT_FALSE(parseUrl("ftp://x").ok());
    EXPECT_FALSE(parseUrl("http://user:pw@x").ok());
    EXPECT_FALSE(parseUrl("127.0.0.1:9093").ok());
    EXPECT_EQ(parseHostPort("[::1]:0").value().host, "::1");
    EXPECT_EQ(parseHostPort("127.0.0.1:0").value().port, 0);
    EXPECT_FALSE(parseHostPort("127.0.0.1").ok());
    EXPECT_FALSE(parseHostPort("127.0.0.1:70000").ok());
    EXPECT_FALSE(parseHostPort(":9095").ok());
}

// Times and durations from outside are range-checked where they are parsed: a value past
// the nanosecond clock is an error naming it, never a wrapped time.
TEST(Time, OutOfRangeYearsAndDurationsAreErrorsNotWrappedValues) {
    EXPECT_EQ(parseRfc3339("4052-11-25T00:16:15.895Z").error(),
              "year 4052 is out of range (1970 to 2199)");
    EXPECT_EQ(parseRfc3339("1714-09-08T00:00:00Z").error(),
              "year 1714 is out of range (1970 to 2199)");
    EXPECT_TRUE(isZeroTime(parseRfc3339("0001-01-01T00:00:00Z").value()));
    EXPECT_EQ(formatRfc3339(parseRfc3339("2199-12-31T23:59:59Z").value()),
              "2199-12-31T23:59:59.000Z");
    EXPECT_EQ(formatRfc3339(parseRfc3339("1970-01-01T00:00:00+08:00").value()),
              "1969-12-31T16:00:00.000Z");
    EXPECT_EQ(parseDuration("99999999999999999y").error(),
              "duration \"99999999999999999y\" is out of range (at most 100y)");
    EXPECT_FALSE(parseDuration("101y").ok());
    EXPECT_FALSE(parseDuration("100y1d").ok());
    EXPECT_EQ(parseDuration("100y").value(), std::chrono::hours(24 * 365 * 100));
    EXPECT_EQ(fromUnixSeconds(-1).error(), "-1 is out of range (Unix seconds from 1970 to 2199)");
    EXPECT_FALSE(fromUnixSeconds(7258118400LL).ok());
    EXPECT_EQ(toUnixMillis(fromUnixSeconds(1773105135).value()), 1773105135000LL);
}

// formatRfc3339 does the calendar arithmetic itself; it must agree with date::format over
// the whole clock range, before 1970 included, to the millisecond.
TEST(Time, FormatAgreesWithTheCalendarLibrary) {
    std::mt19937_64 rng(7);
    const long long lo = -86'400'000LL * 365 * 3, hi = 7'258'118'399'999LL;  // 1967 to 2199
    std::uniform_int_distribution<long long> ms(lo, hi);
    for (int i = 0; i < 20000; ++i) {
        TimePoint t{std::chrono::milliseconds(ms(rng))};
        auto want = date::format("%FT%TZ", std::chrono::floor<std::chrono::milliseconds>(t));
        ASSERT_EQ(formatRfc3339(t), want);
    }
    for (const char* s : {"2024-02-29T23:59:59.999Z", "2100-03-01T00:00:00.001Z",
                          "2000-02-29T12:00:00Z", "1970-01-01T00:00:00Z"}) {
        auto t = parseRfc3339(s).value();
        EXPECT_EQ(formatRfc3339(t),
                  date::format("%FT%TZ", std::chrono::floor<std::chrono::milliseconds>(t)));
    }
}

}  // namespace
}  // namespace alertbridge::core
