// The shipped cn-futures calendar (config-examples/full.yml and its data files) on the cases
// a trading calendar must get right, every holiday of 2025 and 2026, and every minute of both
// years.
#include "plugin/calendar/calendar.hpp"

#include <gtest/gtest.h>

#include "../test_util.hpp"
#include "plugin/app/setup.hpp"
#include "plugin/config/calendar_loader.hpp"
#include "plugin/pipeline/enrich/calendar_labels.hpp"

namespace alertbridge::calendar {
namespace {

using testing::at;

const Calendar& shipped() {
    static const std::shared_ptr<const Calendar> cal = [] {
        auto s = app::loadSetup(std::string(ALERTBRIDGE_EXAMPLES) + "/full.yml");
        for (const auto& e : s.errors) ADD_FAILURE() << e.format();
        EXPECT_TRUE(s.warnings.empty()) << s.warnings.front().format();
        EXPECT_EQ(s.calendars.size(), 1u);
        return s.calendars.at(0);
    }();
    return *cal;
}

// Every minute, or every 7th under the sanitizers (the sweeps below are long).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kMinuteStep = 7;
#else
constexpr int kMinuteStep = 1;
#endif

Day day(const char* s) { return config::parseDay(s).value(); }

std::string text(const std::optional<Day>& d) { return d ? date::format("%F", *d) : "null"; }

struct Expect {
    const char* at;
    const char* group;
    const char* phase;
    const char* session;      // "" for none
    const char* trading_day;  // "null" for unknown
};

void check(const Expect& e) {
    const auto& cal = shipped();
    auto g = cal.findGroup(e.group);
    ASSERT_TRUE(g) << e.group;
    auto s = cal.at(*g, at(e.at));
    EXPECT_EQ(phaseName(s.phase), e.phase) << e.at << " " << e.group;
    EXPECT_EQ(sessionName(s.session), e.session) << e.at << " " << e.group;
    EXPECT_EQ(text(s.trading_day), e.trading_day) << e.at << " " << e.group;
}

// Section 4 of the design: the cases a correct calendar must get right.
TEST(ShippedCalendar, TheTrickyCases) {
    for (const auto& e : std::vector<Expect>{
             // 1: Friday night belongs to Monday.
             {"2026-03-06T22:00:00+08:00", "n2300", "continuous", "night", "2026-03-09"},
             {"2026-03-06T22:00:00+08:00", "shfe-base", "continuous", "night", "2026-03-09"},
             {"2026-03-06T22:00:00+08:00", "shfe-precious", "continuous", "night", "2026-03-09"},
             // 2: after midnight on Saturday; the 23:00 groups have closed.
             {"2026-03-07T00:30:00+08:00", "shfe-base", "continuous", "night", "2026-03-09"},
             {"2026-03-07T00:30:00+08:00", "shfe-precious", "continuous", "night", "2026-03-09"},
             {"2026-03-07T00:30:00+08:00", "n2300", "closed", "", "2026-03-09"},
             // 3: half-open ends.
             {"2026-03-07T01:00:00+08:00", "shfe-base", "closed", "", "2026-03-09"},
             {"2026-03-07T00:59:59+08:00", "shfe-base", "continuous", "night", "2026-03-09"},
             {"2026-03-07T02:29:00+08:00", "shfe-precious", "continuous", "night", "2026-03-09"},
             {"2026-03-07T02:30:00+08:00", "shfe-precious", "closed", "", "2026-03-09"},
             // 4: the evening before Spring Festival has no night session.
             {"2026-02-13T22:00:00+08:00", "shfe-precious", "closed", "", "2026-02-24"},
             {"2026-02-13T22:00:00+08:00", "n2300", "closed", "", "2026-02-24"},
             // 6: a make-up Saturday is a workday, not a trading day.
             {"2026-02-14T10:00:00+08:00", "n2300", "closed", "", "2026-02-24"},
             {"2026-02-14T10:00:00+08:00", "cffex-index", "closed", "", "2026-02-24"},
             // 8: the first trading day after a holiday opens with the 08:55 call auction.
             {"2026-02-24T08:56:00+08:00", "shfe-precious", "pre_open", "day", "2026-02-24"},
             {"2026-02-24T08:56:00+08:00", "n2300", "pre_open", "day", "2026-02-24"},
             {"2026-02-24T08:56:00+08:00", "commodity-day-only", "pre_open", "day", "2026-02-24"},
             {"2026-02-24T08:56:00+08:00", "cffex-index", "closed", "", "2026-02-24"},
             {"2026-02-24T09:25:00+08:00", "cffex-bond", "pre_open", "day", "2026-02-24"},
             {"2026-02-24T00:30:00+08:00", "shfe-precious", "closed", "", "2026-02-24"},
             // 9: the night session resumes the same evening.
             {"2026-02-24T20:57:00+08:00", "shfe-precious", "pre_open", "night", "2026-02-25"},
             {"2026-02-24T21:30:00+08:00", "shfe-precious", "continuous", "night", "2026-02-25"},
             // 11: the night before a make-up Saturday belongs to Monday.
             {"2026-10-09T21:30:00+08:00", "n2300", "continuous", "night", "2026-10-12"},
             // 13: different breaks and closes per group.
             {"2026-03-06T10:20:00+08:00", "n2300", "break", "day", "2026-03-06"},
             {"2026-03-06T10:20:00+08:00", "cffex-index", "continuous", "day", "2026-03-06"},
             {"2026-03-06T11:30:00+08:00", "n2300", "break", "day", "2026-03-06"},
             {"2026-03-06T11:30:00+08:00", "cffex-index", "break", "day", "2026-03-06"},
             {"2026-03-06T11:30:00+08:00", "cffex-bond", "break", "day", "2026-03-06"},
             {"2026-03-06T15:10:00+08:00", "cffex-bond", "continuous", "day", "2026-03-06"},
             {"2026-03-06T15:10:00+08:00", "cffex-index", "closed", "", "2026-03-09"},
             {"2026-03-06T15:10:00+08:00", "n2300", "closed", "", "2026-03-09"},
             {"2026-03-06T14:58:00+08:00", "cffex-index-options", "closing_auction", "day",
              "2026-03-06"},
             {"2026-03-06T14:58:00+08:00", "cffex-index", "continuous", "day", "2026-03-06"},
             // 14: the instant in UTC, whatever the host's zone.
             {"2026-03-06T13:30:00Z", "n2300", "continuous", "night", "2026-03-09"},
             // 15: GFEX has no night session.
             {"2026-03-06T21:30:00+08:00", "commodity-day-only", "closed", "", "2026-03-09"},
             // Exchange groups: in session whenever one of their product groups is.
             {"2026-03-06T21:30:00+08:00", "dce", "continuous", "night", "2026-03-09"},
             {"2026-03-06T23:30:00+08:00", "dce", "closed", "", "2026-03-09"},
             {"2026-03-07T01:30:00+08:00", "shfe", "continuous", "night", "2026-03-09"},
             {"2026-03-07T01:30:00+08:00", "ine", "continuous", "night", "2026-03-09"},
             {"2026-03-06T15:10:00+08:00", "cffex", "continuous", "day", "2026-03-06"},
             {"2026-03-06T21:30:00+08:00", "gfex", "closed", "", "2026-03-09"},
             {"2026-03-06T21:30:00+08:00", "cffex", "closed", "", "2026-03-09"},
         }) {
        check(e);
    }
}

TEST(ShippedCalendar, CaseFourNextOpenIsTheAuctionAfterTheHoliday) {
    const auto& cal = shipped();
    auto ts = cal.transitions(at("2026-02-13T22:00:00+08:00"), at("2026-02-25T00:00:00+08:00"));
    ASSERT_FALSE(ts.empty());
    EXPECT_EQ(ts.front().at, at("2026-02-24T08:55:00+08:00"));
    EXPECT_EQ(ts.front().phase, Phase::kPreOpen);
    EXPECT_EQ(cal.atAny(at("2026-02-13T22:00:00+08:00")).phase, Phase::kClosed);
}

// Case 15: the group comes from the alert's labels; an alert that names an exchange and no
// product belongs to its exchange, never to a day-only group.
TEST(ShippedCalendar, AlertsFindTheirGroup) {
    const auto& cal = shipped();
    auto group = [&](core::LabelSet l) {
        auto g = cal.groupFor(l);
        return g ? cal.groupName(*g) : std::string("any");
    };
    EXPECT_EQ(group({{"exchange", "GFEX"}, {"product", "lc"}}), "commodity-day-only");
    EXPECT_EQ(group({{"exchange", "SHFE"}, {"product", "rb"}}), "n2300");
    EXPECT_EQ(group({{"exchange", "SHFE"}, {"product", "au"}}), "shfe-precious");
    EXPECT_EQ(group({{"exchange", "CZCE"}, {"product", "AP"}}), "commodity-day-only");
    EXPECT_EQ(group({{"exchange", "DCE"}}), "dce");
    EXPECT_EQ(group({{"exchange", "shfe"}}), "shfe");
    EXPECT_EQ(group({{"exchange", "CFFEX"}, {"product", "IO"}}), "cffex-index-options");
    EXPECT_EQ(group({{"alertname", "HostDown"}}), "any");
    auto t = at("2026-03-06T21:30:00+08:00");
    EXPECT_EQ(cal.at(*cal.groupFor({{"exchange", "GFEX"}, {"product", "lc"}}), t).phase,
              Phase::kClosed);
    EXPECT_EQ(cal.at(*cal.groupFor({{"exchange", "SHFE"}, {"product", "rb"}}), t).phase,
              Phase::kContinuous);
    EXPECT_EQ(cal.at(*cal.groupFor({{"exchange", "DCE"}}), t).phase, Phase::kContinuous);
}

TEST(ShippedCalendar, AnyGroupIsTheMostActive) {
    const auto& cal = shipped();
    auto s = cal.atAny(at("2026-03-07T01:30:00+08:00"));
    EXPECT_EQ(s.phase, Phase::kContinuous);
    EXPECT_EQ(s.group, "shfe-precious");
    EXPECT_EQ(text(s.trading_day), "2026-03-09");
    s = cal.atAny(at("2026-03-07T03:00:00+08:00"));
    EXPECT_EQ(s.phase, Phase::kClosed);
    EXPECT_EQ(text(s.trading_day), "2026-03-09");
    EXPECT_EQ(cal.atAny(at("2026-03-06T15:10:00+08:00")).phase, Phase::kContinuous);  // bonds
    EXPECT_EQ(cal.atAny(at("2026-03-06T10:20:00+08:00")).phase, Phase::kContinuous);  // cffex
    EXPECT_EQ(cal.atAny(at("2026-03-06T12:00:00+08:00")).phase, Phase::kBreak);
}

TEST(ShippedCalendar, HolidaysOf2025And2026) {
    const auto& cal = shipped();
    // First trading days after a holiday: trading, no night before, the 08:55 auction.
    for (const char* d : {"2025-01-02", "2025-02-05", "2025-04-07", "2025-05-06", "2025-06-03",
                          "2025-10-09", "2026-01-05", "2026-02-24", "2026-04-07", "2026-05-06",
                          "2026-06-22", "2026-09-28", "2026-10-08"}) {
        EXPECT_EQ(cal.isTradingDay(day(d)), true) << d;
        auto prev = cal.prevTradingDay(day(d));
        if (std::string(d) != "2025-01-02") {  // before it is 2024, outside the data
            ASSERT_TRUE(prev) << d;
            EXPECT_EQ(cal.hasNight(*prev), false) << "no night session precedes " << d;
        }
        auto morning = std::string(d) + "T08:56:00+08:00";
        EXPECT_EQ(cal.at(*cal.findGroup("n2300"), at(morning.c_str())).phase, Phase::kPreOpen) << d;
        auto evening = std::string(d) + "T21:30:00+08:00";
        EXPECT_EQ(cal.at(*cal.findGroup("n2300"), at(evening.c_str())).phase, Phase::kContinuous)
            << "the night resumes on the evening of " << d;
    }
    // Evenings without a night session.
    for (const char* d :
         {"2025-01-27", "2025-04-03", "2025-04-30", "2025-05-30", "2025-09-30", "2025-12-31",
          "2026-02-13", "2026-04-03", "2026-04-30", "2026-06-18", "2026-09-24", "2026-09-30"}) {
        EXPECT_EQ(cal.hasNight(day(d)), false) << d;
        auto evening = std::string(d) + "T21:30:00+08:00";
        EXPECT_EQ(cal.at(*cal.findGroup("shfe-precious"), at(evening.c_str())).phase,
                  Phase::kClosed)
            << d;
    }
    // A Friday before an ordinary weekend trades at night.
    EXPECT_EQ(cal.hasNight(day("2026-03-06")), true);
    // Make-up workdays never trade.
    for (const char* d :
         {"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11", "2026-01-04",
          "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}) {
        EXPECT_EQ(cal.isTradingDay(day(d)), false) << d;
    }
    auto count = [&](int year) {
        int n = 0;
        for (Day d = Day{date::year{year} / 1 / 1}; d <= Day{date::year{year} / 12 / 31};
             d += date::days{1}) {
            n += cal.isTradingDay(d).value_or(false) ? 1 : 0;
        }
        return n;
    };
    EXPECT_EQ(count(2025), 243);
    EXPECT_EQ(count(2026), 242);
}

// Past the data, every answer is unknown: never open, never closed.
TEST(ShippedCalendar, TheHorizonIsUnknown) {
    const auto& cal = shipped();
    auto n2300 = *cal.findGroup("n2300");
    // The last evening of the data: whether it has a night depends on next year's holidays.
    EXPECT_EQ(cal.hasNight(day("2026-12-31")), std::nullopt);
    check({"2026-12-31T10:00:00+08:00", "n2300", "continuous", "day", "2026-12-31"});
    check({"2026-12-31T21:30:00+08:00", "n2300", "unknown", "", "null"});
    check({"2027-01-04T10:00:00+08:00", "n2300", "unknown", "", "null"});
    check({"2024-12-31T10:00:00+08:00", "n2300", "unknown", "", "null"});
    EXPECT_EQ(cal.atAny(at("2027-01-04T10:00:00+08:00")).phase, Phase::kUnknown);
    EXPECT_TRUE(cal.expired(at("2027-01-01T00:00:00+08:00")));
    EXPECT_FALSE(cal.expired(at("2026-12-31T23:59:00+08:00")));
    EXPECT_EQ(cal.isTradingDay(day("2027-01-04")), std::nullopt);
    (void)n2300;
}

// Every minute of 2025 and 2026 for every group (every 7th minute under the sanitizers):
// trading days are trading days, a night always belongs to a later trading day, a day
// session to its own date, and the transitions list is exactly the minutes where the answer
// changes.
TEST(ShippedCalendar, EveryMinuteOfTwoYears) {
    const auto& cal = shipped();
    const int step = kMinuteStep;
    auto from = at("2025-01-01T00:00:00+08:00");
    auto to = at("2027-01-01T00:00:00+08:00");
    for (std::size_t g = 0; g < cal.groupCount(); ++g) {
        State prev = cal.at(g, from);
        std::size_t changes = 0;
        for (auto t = from; t < to; t += std::chrono::minutes(step)) {
            State s = cal.at(g, t);
            Day date = cal.localDate(t);
            if (s.trading_day) {
                ASSERT_EQ(cal.isTradingDay(*s.trading_day), true) << text(s.trading_day);
            }
            if (s.session == Session::kNight) {
                ASSERT_TRUE(s.trading_day);
                ASSERT_GE(*s.trading_day, date);
                ASSERT_GT(*s.trading_day, date - date::days{1});
                auto anchor = cal.prevTradingDay(*s.trading_day);
                ASSERT_TRUE(anchor && cal.hasNight(*anchor).value_or(false));
            }
            if (s.session == Session::kDay) {
                ASSERT_EQ(*s.trading_day, date);
            }
            if (s.phase != Phase::kClosed && s.phase != Phase::kUnknown) {
                ASSERT_NE(s.session, Session::kNone);
            }
            if (s.phase != prev.phase || s.session != prev.session) ++changes;
            prev = s;
        }
        if (step == 1) {
            auto ts = cal.transitions(from, to);
            auto mine = std::count_if(ts.begin(), ts.end(),
                                      [&](const Transition& x) { return x.group == g; });
            EXPECT_EQ(static_cast<std::size_t>(mine), changes) << cal.groupName(g);
        }
    }
}

// The tables at() reads agree with the rules at every minute the data holds, one day either
// side, for every group and for "any" (every 7th minute under the sanitizers).
TEST(ShippedCalendar, TablesAgreeWithTheRules) {
    const auto& cal = shipped();
    const int step = kMinuteStep;
    auto same = [](const State& a, const State& b) {
        return a.phase == b.phase && a.session == b.session && a.trading_day == b.trading_day &&
               a.group == b.group;
    };
    std::size_t compared = 0;
    for (Day d = cal.firstDay() - date::days{2}; d <= cal.lastDay() + date::days{2};
         d += date::days{1}) {
        for (int m = 0; m < 1440; m += step) {
            auto t = cal.instant(d, m);
            for (std::size_t g = 0; g <= cal.groupCount(); ++g) {
                std::optional<std::size_t> group;
                if (g < cal.groupCount()) group = g;
                State fast = group ? cal.at(*group, t) : cal.atAny(t);
                State rule = cal.evaluate(group, d, m);
                ASSERT_TRUE(same(fast, rule))
                    << date::format("%F", d) << " minute " << m << " group "
                    << (group ? cal.groupName(g) : "any") << ": " << phaseName(fast.phase) << "/"
                    << phaseName(rule.phase) << " " << text(fast.trading_day) << "/"
                    << text(rule.trading_day) << " " << fast.group << "/" << rule.group;
                ++compared;
            }
        }
    }
    EXPECT_GT(compared, 730u * 1440u * cal.groupCount() / static_cast<unsigned>(step));
}

TEST(Windows, AnOverlayCutsWhatItCovers) {
    std::vector<Window> day{{Phase::kContinuous, 780, 900}};
    auto out = overlay(day, Window{Phase::kClosingAuction, 897, 900});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].to, 897);
    EXPECT_EQ(out[1].phase, Phase::kClosingAuction);
    out = overlay(day, Window{Phase::kBreak, 800, 810});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[2].from, 810);
}

}  // namespace
}  // namespace alertbridge::calendar

namespace alertbridge::pipeline {
namespace {

using testing::at;

// The labels come from the alert's startsAt, never from now: every re-post of a firing alert
// carries the same ones, whatever the market does meanwhile.
TEST(CalendarLabelsStage, LabelsFollowTheStartAndTheAlertsGroup) {
    auto s = app::loadSetup(std::string(ALERTBRIDGE_EXAMPLES) + "/full.yml");
    ASSERT_FALSE(s.calendars.empty());
    config::CalendarLabels cl;
    cl.calendar = "cn-futures";
    cl.labels = {{"market_phase", "phase"},
                 {"market_session", "session"},
                 {"trading_day", "trading_day"},
                 {"market_group", "group"}};
    CalendarLabels stage(cl, s.calendars[0]);
    auto labelled = [&](core::LabelSet labels, const char* starts) {
        core::Alert a;
        a.labels = std::move(labels);
        a.starts_at = at(starts);
        a.updated_at = at("2026-03-09T10:00:00+08:00");  // a later re-post: not used
        stage.apply(a);
        return a.labels;
    };
    auto rb = labelled({{"exchange", "SHFE"}, {"product", "rb"}}, "2026-03-06T21:30:00+08:00");
    EXPECT_EQ(*rb.get("market_phase"), "continuous");
    EXPECT_EQ(*rb.get("market_session"), "night");
    EXPECT_EQ(*rb.get("trading_day"), "2026-03-09");
    EXPECT_EQ(*rb.get("market_group"), "n2300");
    // Closed: no session label, even one the sender set.
    auto closed = labelled({{"exchange", "GFEX"}, {"product", "lc"}, {"market_session", "day"}},
                           "2026-03-06T21:30:00+08:00");
    EXPECT_EQ(*closed.get("market_phase"), "closed");
    EXPECT_EQ(closed.get("market_session"), nullptr);
    EXPECT_EQ(*closed.get("trading_day"), "2026-03-09");
    // No exchange: any group.
    auto host = labelled({{"alertname", "HostDown"}}, "2026-03-07T01:30:00+08:00");
    EXPECT_EQ(*host.get("market_phase"), "continuous");
    EXPECT_EQ(*host.get("market_group"), "any");
    // The same alert again (a cached group) gives the same labels.
    EXPECT_EQ(labelled({{"exchange", "SHFE"}, {"product", "rb"}}, "2026-03-06T21:30:00+08:00"), rb);
    // Past the data: unknown and no trading day.
    auto late = labelled({{"exchange", "DCE"}}, "2027-01-05T10:00:00+08:00");
    EXPECT_EQ(*late.get("market_phase"), "unknown");
    EXPECT_EQ(late.get("trading_day"), nullptr);
}

}  // namespace
}  // namespace alertbridge::pipeline
