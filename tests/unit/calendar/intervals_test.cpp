// time_intervals: Alertmanager's fields as Alertmanager reads them, and the calendar fields
// on the shipped cn-futures calendar (the design's examples, lead and lag, the fail-safe
// answer past the data).
#include "plugin/calendar/intervals.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../test_util.hpp"
#include "plugin/app/setup.hpp"

namespace alertbridge::calendar {
namespace {

using testing::at;

// The intervals of a config made of full.yml's calendars and `intervals`.
class IntervalsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string full;
        {
            std::ifstream in(std::string(ALERTBRIDGE_EXAMPLES) + "/full.yml");
            std::stringstream ss;
            ss << in.rdbuf();
            full = ss.str();
        }
        auto cal = full.substr(full.find("\ncalendars:\n") + 1);
        cal = cal.substr(0, cal.find("\ntime_intervals:\n") + 1);  // the example's own
        std::string dir = std::string(ALERTBRIDGE_EXAMPLES) + "/calendars/";
        for (auto pos = cal.find("calendars/cn-futures-"); pos != std::string::npos;
             pos = cal.find("calendars/cn-futures-", pos + dir.size())) {
            cal.replace(pos, std::string("calendars/").size(), dir);
        }
        yaml_ =
            "outputs:\n  alertmanager:\n    - name: am\n      endpoint: http://127.0.0.1:9093\n" +
            cal + kIntervals;
        setup_ = app::setupFromString(yaml_, "intervals.yml");
        for (const auto& e : setup_.errors) ADD_FAILURE() << e.format();
    }
    const TimeInterval& interval(const std::string& name) {
        for (const auto& ti : setup_.config->time_intervals) {
            if (ti.name == name) return ti;
        }
        throw std::runtime_error("no interval " + name);
    }
    bool in(const std::string& name, const char* t, const core::LabelSet* alert = nullptr,
            Purpose purpose = Purpose::kMute) {
        return matches(interval(name), at(t), alert, purpose);
    }
    static constexpr const char* kIntervals = R"(
time_intervals:
  - name: office
    time_intervals:
      - times: [{start_time: "09:00", end_time: "17:00"}]
        weekdays: ['monday:friday']
        location: Asia/Shanghai
  - name: month-end-utc
    time_intervals:
      - days_of_month: ['-1']
        months: ['february', '3']
        years: ['2026']
  - name: night-session
    time_intervals:
      - {calendar: cn-futures, sessions: [night]}
  - name: market-open
    time_intervals:
      - {calendar: cn-futures, phases: [pre_open, continuous, closing_auction]}
  - name: shfe-metals-night
    time_intervals:
      - calendar: cn-futures
        groups: [shfe-base, shfe-precious]
        sessions: [night]
        phases: [continuous]
  - name: outside-sessions
    time_intervals:
      - {calendar: cn-futures, outside_sessions: true}
  - name: trading-day-office-hours
    time_intervals:
      - calendar: cn-futures
        trading_day: true
        times: [{start_time: "08:30", end_time: "17:30"}]
        location: Asia/Shanghai
  - name: night-tonight
    time_intervals:
      - {calendar: cn-futures, trading_night: true}
  - name: my-product-at-night
    time_intervals:
      - {calendar: cn-futures, match_group_from_alert: true, sessions: [night]}
  - name: night-desk
    time_intervals:
      - {calendar: cn-futures, sessions: [night], groups: [n2300], lead: 30m, lag: 30m}
)";
    std::string yaml_;
    app::Setup setup_;
};

TEST_F(IntervalsTest, AlertmanagerFieldsAsAlertmanagerReadsThem) {
    EXPECT_FALSE(in("office", "2026-03-06T08:59:00+08:00"));
    EXPECT_TRUE(in("office", "2026-03-06T09:00:00+08:00"));
    EXPECT_TRUE(in("office", "2026-03-06T16:59:59+08:00"));
    EXPECT_FALSE(in("office", "2026-03-06T17:00:00+08:00")) << "end exclusive";
    EXPECT_FALSE(in("office", "2026-03-07T10:00:00+08:00")) << "Saturday";
    EXPECT_TRUE(in("office", "2026-03-06T01:00:00Z")) << "09:00 in Shanghai";
    // UTC by default; -1 is the last day of the month.
    EXPECT_TRUE(in("month-end-utc", "2026-02-28T23:59:00Z"));
    EXPECT_FALSE(in("month-end-utc", "2026-02-28T23:59:00-01:00")) << "March 1st in UTC";
    EXPECT_TRUE(in("month-end-utc", "2026-03-31T12:00:00Z"));
    EXPECT_FALSE(in("month-end-utc", "2026-04-30T12:00:00Z"));
    EXPECT_FALSE(in("month-end-utc", "2025-02-28T12:00:00Z"));
}

TEST_F(IntervalsTest, TheDesignsExamples) {
    EXPECT_TRUE(in("night-session", "2026-03-06T22:00:00+08:00"));
    EXPECT_TRUE(in("night-session", "2026-03-06T20:56:00+08:00")) << "the night's call auction";
    EXPECT_FALSE(in("night-session", "2026-02-13T22:00:00+08:00")) << "before Spring Festival";
    EXPECT_FALSE(in("night-session", "2026-03-06T10:00:00+08:00"));
    EXPECT_TRUE(in("market-open", "2026-03-06T10:00:00+08:00"));
    EXPECT_FALSE(in("market-open", "2026-03-06T12:00:00+08:00")) << "lunch break everywhere";
    EXPECT_TRUE(in("shfe-metals-night", "2026-03-07T00:30:00+08:00"));
    EXPECT_FALSE(in("shfe-metals-night", "2026-03-06T20:57:00+08:00")) << "auction, not continuous";
    EXPECT_FALSE(in("shfe-metals-night", "2026-03-07T02:45:00+08:00"));
    EXPECT_TRUE(in("outside-sessions", "2026-03-07T03:00:00+08:00"));
    EXPECT_TRUE(in("outside-sessions", "2026-02-17T10:00:00+08:00")) << "a holiday";
    EXPECT_FALSE(in("outside-sessions", "2026-03-06T22:00:00+08:00"));
    EXPECT_FALSE(in("outside-sessions", "2026-03-06T12:00:00+08:00")) << "lunch is in session";
    EXPECT_TRUE(in("trading-day-office-hours", "2026-03-06T10:00:00+08:00"));
    EXPECT_FALSE(in("trading-day-office-hours", "2026-02-14T10:00:00+08:00")) << "make-up Saturday";
    EXPECT_FALSE(in("trading-day-office-hours", "2026-03-06T18:00:00+08:00"));
    EXPECT_TRUE(in("night-tonight", "2026-03-06T16:00:00+08:00"));
    EXPECT_FALSE(in("night-tonight", "2026-02-13T16:00:00+08:00"));
    EXPECT_FALSE(in("night-tonight", "2026-03-07T16:00:00+08:00")) << "no trading on Saturday";
}

// Case 15: the alert's own product decides, not any group.
TEST_F(IntervalsTest, TheAlertsGroup) {
    core::LabelSet lc{{"exchange", "GFEX"}, {"product", "lc"}};
    core::LabelSet rb{{"exchange", "SHFE"}, {"product", "rb"}};
    core::LabelSet front{{"exchange", "DCE"}};
    EXPECT_FALSE(in("my-product-at-night", "2026-03-06T21:30:00+08:00", &lc));
    EXPECT_TRUE(in("my-product-at-night", "2026-03-06T21:30:00+08:00", &rb));
    EXPECT_TRUE(in("my-product-at-night", "2026-03-06T21:30:00+08:00", &front));
    EXPECT_FALSE(in("my-product-at-night", "2026-03-06T23:30:00+08:00", &front));
}

TEST_F(IntervalsTest, LeadAndLagWidenTheSession) {
    EXPECT_FALSE(in("night-desk", "2026-03-06T20:24:00+08:00"));
    EXPECT_TRUE(in("night-desk", "2026-03-06T20:25:00+08:00")) << "30 minutes before 20:55";
    EXPECT_TRUE(in("night-desk", "2026-03-06T23:29:00+08:00")) << "30 minutes after 23:00";
    EXPECT_FALSE(in("night-desk", "2026-03-06T23:31:00+08:00"));
    EXPECT_FALSE(in("night-desk", "2026-02-13T20:30:00+08:00")) << "no night tonight";
}

// Past the data nothing is known: a mute does not mute, an activation activates.
TEST_F(IntervalsTest, UnknownFailsSafe) {
    EXPECT_FALSE(in("outside-sessions", "2027-01-05T03:00:00+08:00", nullptr, Purpose::kMute));
    EXPECT_TRUE(in("outside-sessions", "2027-01-05T03:00:00+08:00", nullptr, Purpose::kActive));
    EXPECT_TRUE(in("night-session", "2026-12-31T21:30:00+08:00", nullptr, Purpose::kActive));
    EXPECT_FALSE(in("night-session", "2026-12-31T21:30:00+08:00", nullptr, Purpose::kMute));
}

TEST(IntervalErrors, MistakesAreErrorsAtTheirLine) {
    auto s = app::setupFromString(
        "outputs:\n  alertmanager:\n    - name: am\n      endpoint: http://127.0.0.1:9093\n"
        "time_intervals:\n"                                                // 5
        "  - name: bad\n"                                                  // 6
        "    time_intervals:\n"                                            // 7
        "      - times: [{start_time: \"17:00\", end_time: \"09:00\"}]\n"  // 8
        "        weekdays: ['monday:funday']\n"                            // 9
        "        sessions: [evening]\n"                                    // 10
        "      - {calendar: nosuch, outside_sessions: true}\n"             // 11
        "      - {phases: [continuous]}\n",                                // 12
        "bad.yml");
    std::string all;
    for (const auto& e : s.errors) all += e.format() + "\n";
    for (const char* want : {"bad.yml:8: time_intervals[0].time_intervals[0].times[0]",
                             "bad.yml:9: time_intervals[0].time_intervals[0].weekdays[0]",
                             "bad.yml:10: time_intervals[0].time_intervals[0].sessions[0]",
                             "bad.yml:11: time_intervals.bad: no calendar is named \"nosuch\"",
                             "bad.yml:12: time_intervals[0].time_intervals[2].calendar: is "
                             "required"}) {
        EXPECT_NE(all.find(want), std::string::npos) << want << "\n" << all;
    }
}

}  // namespace
}  // namespace alertbridge::calendar
