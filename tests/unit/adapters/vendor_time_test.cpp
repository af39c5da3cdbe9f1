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
         }) {
        auto t = parseVendorTime(c.text, date_plus8);
        ASSERT_TRUE(t.ok()) << c.text << ": " << t.error();
        EXPECT_EQ(*t, at(c.want)) << c.text;
    }
}

TEST(VendorTime, ZoneRules) {
    // An abbreviation without an offset: CST is +08:00 here, UTC is UTC.
    EXPECT_EQ(parseVendorTime("2024-07-23 20:00:00 CST", {}).value(), at("2024-07-23T12:00:00Z"));
    EXPECT_EQ(parseVendorTime("2024-07-23 20:00:00 UTC", {}).value(), at("2024-07-23T20:00:00Z"));
    // A vendor that labels local time "UTC" (OceanStor in the fixtures): the pack ignores it.
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
          "2024-07-23 25:00", "2024-07-23 20:00:00 +8"}) {
        EXPECT_FALSE(parseVendorTime(bad, {}).ok()) << bad;
    }
}

}  // namespace
}  // namespace alertbridge::email
