#include "adapters/email/vendor_time.hpp"

#include <gtest/gtest.h>

#include <date/tz.h>

#include "../test_util.hpp"

namespace alertbridge::email {
namespace {

using testing::at;

// Each layout as it stands in a fixture body, with the fixture's expected instant.
TEST(VendorTime, FixtureLayouts) {
    ZoneHint date_plus8{8 * 60, nullptr, false};
    struct Case {
        const char* text;
        const char* want;
    };
    for (auto c : std::initializer_list<Case>{
             {"2024-07-23 19:59:42.555142859 +0800 CST", "2024-07-23T19:59:42.555142859+08:00"},
             {"2024-07-23 20:04:17.102938475 +0800 CST", "2024-07-23T20:04:17.102938475+08:00"},
             {"2024-07-23T20:05:11.031", "2024-07-23T20:05:11.031+08:00"},
             {"2024-07-23 20:12:00", "2024-07-23T20:12:00+08:00"},
             {"2024/07/23 21:10:30", "2024-07-23T21:10:30+08:00"},
             {"2024.07.23 20:15:02", "2024-07-23T20:15:02+08:00"},
             {"2024-07-23 12:22:31Z", "2024-07-23T12:22:31Z"},
             {"2024-07-23 12:22:31 +00:00", "2024-07-23T12:22:31Z"},
             {"2024-07-23 22:18:03 UTC+08:00", "2024-07-23T22:18:03+08:00"},
             {"Tuesday, July 23, 2024 10:00:14 PM", "2024-07-23T22:00:14+08:00"},
             {"July 23, 2024 22:41:37", "2024-07-23T22:41:37+08:00"},
             {"Tue Jul 23 20:15:02 CST 2024", "2024-07-23T20:15:02+08:00"},
             {"Tue Jul 23 12:15:02 UTC 2024", "2024-07-23T12:15:02Z"},
             {"Jul 23 2024 12:00:00 AM", "2024-07-23T00:00:00+08:00"},
             {"2024-07-23 12:30:00 PM GMT+8", "2024-07-23T12:30:00+08:00"},
             {"2024-07-23 09:00:00 GMT-05:30", "2024-07-23T14:30:00Z"},
         }) {
        auto t = parseVendorTime(c.text, date_plus8);
        ASSERT_TRUE(t.ok()) << c.text << ": " << t.error();
        EXPECT_EQ(*t, at(c.want)) << c.text;
    }
}

// The other forms vendors print (issue: dd Mon yyyy, yyyy/MM/dd, Chinese dates, epoch).
TEST(VendorTime, MoreVendorLayouts) {
    ZoneHint date_plus8{8 * 60, nullptr, false};
    struct Case {
        const char* text;
        const char* want;
    };
    for (auto c : std::initializer_list<Case>{
             {"24 Jul 2024 09:01", "2024-07-24T09:01:00+08:00"},
             {"24 July 2024 09:01:12", "2024-07-24T09:01:12+08:00"},
             {"Wed, 24 Jul 2024 09:01:12 +0000", "2024-07-24T09:01:12Z"},
             {"2024年7月24日 09:01:12", "2024-07-24T09:01:12+08:00"},
             {"2024年07月24日 星期三 09:01", "2024-07-24T09:01:00+08:00"},
             {"2024年7月24日09时01分12秒", "2024-07-24T09:01:12+08:00"},
             {"2024年7月24日 下午3:05:00", "2024-07-24T15:05:00+08:00"},
             {"1721782872", "2024-07-24T01:01:12Z"},
             {"1721782872123", "2024-07-24T01:01:12.123Z"},
             {"07/24/2024 09:01:12", "2024-07-24T09:01:12+08:00"},
             {"24/07/2024 09:01:12", "2024-07-24T09:01:12+08:00"},
             {"24.07.2024 09:01", "2024-07-24T09:01:00+08:00"},
             {" 2024/07/24 09:01:12 ", "2024-07-24T09:01:12+08:00"},
             {"24-Jul-2024 09:01:12", "2024-07-24T09:01:12+08:00"},
             {"24-JUL-2024 09:01", "2024-07-24T09:01:00+08:00"},
             {"Jul 24, 2024 9:01:12 AM", "2024-07-24T09:01:12+08:00"},
         }) {
        auto t = parseVendorTime(c.text, date_plus8);
        ASSERT_TRUE(t.ok()) << c.text << ": " << t.error();
        EXPECT_EQ(*t, at(c.want)) << c.text;
    }
    EXPECT_FALSE(parseVendorTime("99999999999", date_plus8).ok()) << "11 digits: no epoch";
    EXPECT_FALSE(parseVendorTime("13/13/2024 00:00", date_plus8).ok());
}

TEST(VendorTime, ZoneRules) {
    // An abbreviation without an offset: CST is +08:00 here, UTC is UTC.
    EXPECT_EQ(parseVendorTime("2024-07-23 20:00:00 CST", {}).value(), at("2024-07-23T12:00:00Z"));
    EXPECT_EQ(parseVendorTime("2024-07-23 20:00:00 UTC", {}).value(), at("2024-07-23T20:00:00Z"));
    // A vendor that labels local time "UTC": its pack sets ignore_zone.
    ZoneHint ignore{8 * 60, nullptr, true};
    EXPECT_EQ(parseVendorTime("2024-07-23 22:18:03 UTC", ignore).value(),
              at("2024-07-23T22:18:03+08:00"));
    // No zone and no Date header: the configured zone, daylight saving included.
    ZoneHint shanghai{std::nullopt, date::locate_zone("Asia/Shanghai"), false};
    EXPECT_EQ(parseVendorTime("2024-07-23 20:00:00", shanghai).value(),
              at("2024-07-23T20:00:00+08:00"));
    ZoneHint newyork{std::nullopt, date::locate_zone("America/New_York"), false};
    EXPECT_EQ(parseVendorTime("2024-07-23 20:00:00", newyork).value(),
              at("2024-07-23T20:00:00-04:00"));
    EXPECT_EQ(parseVendorTime("2024-01-23 20:00:00", newyork).value(),
              at("2024-01-23T20:00:00-05:00"));
}

TEST(VendorTime, Rejects) {
    for (const char* bad :
         {"", "yesterday", "24-07-23 20:00", "2024-13-01 00:00", "2024-02-30 10:00", "2024-07-23",
          "2024-07-23 25:00", "2024-07-23 20:00:00 +8", "Tuesday", "Smarch 3, 2024 10:00",
          "July 23, 2024", "Tue Jul 23 20:15:02 CST", "2024-07-23 13:00 PM",
          "2024-07-23 10:00 UTC+99:00", "4221-07-23 20:14:00", "1969-12-31 23:59:59"}) {
        EXPECT_FALSE(parseVendorTime(bad, {}).ok()) << bad;
    }
}

TEST(VendorTime, ExplicitFormats) {
    ZoneHint plus8{8 * 60, nullptr, false};
    // Day first: no parser could tell 03/07 from 07/03 without being told.
    EXPECT_EQ(parseVendorTime("03/07/2024 20:15:02", "%d/%m/%Y %H:%M:%S", plus8).value(),
              at("2024-07-03T20:15:02+08:00"));
    EXPECT_EQ(parseVendorTime("23-Jul-2024 08:15 PM +0000", "%d-%b-%Y %I:%M %p %z", plus8).value(),
              at("2024-07-23T20:15:00Z"));
    EXPECT_EQ(parseVendorTime("2024年07月23日 20时15分", "%Y年%m月%d日 %H时%M分", plus8).value(),
              at("2024-07-23T20:15:00+08:00"));
    EXPECT_EQ(parseVendorTime("23/07/2024", "%d/%m/%Y %H:%M", plus8).error(),
              "does not match the format \"%d/%m/%Y %H:%M\"");
    EXPECT_FALSE(parseVendorTime("23/07/4221 10:00", "%d/%m/%Y %H:%M", plus8).ok());
}

TEST(VendorTime, Durations) {
    using std::chrono::seconds;
    struct Case {
        const char* text;
        long long secs;
    };
    for (auto c : std::initializer_list<Case>{{"5m 12s", 312},
                                              {"1d 2h 3m", 93780},
                                              {"4 分 34 秒", 274},
                                              {"1天2小时", 93600},
                                              {"0:41:23", 2483},
                                              {"3min", 180},
                                              {"2w", 1209600}}) {
        auto d = parseVendorDuration(c.text);
        ASSERT_TRUE(d.ok()) << c.text << ": " << d.error();
        EXPECT_EQ(*d, seconds(c.secs)) << c.text;
    }
    for (const char* bad :
         {"", "soon", "5 parsecs", "1:5", "12", "999999999w", "99999999d 99999999d"}) {
        EXPECT_FALSE(parseVendorDuration(bad).ok()) << bad;
    }
}

}  // namespace
}  // namespace alertbridge::email
