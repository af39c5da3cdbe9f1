// The engine on a simulated clock: timers fire in deadline order, alert expiry is a timer,
// re-send slices are never skipped however late the engine is advanced, and the periodic
// timers only start with start(). Nothing here sleeps or reads a clock.
#include "plugin/engine/engine.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "../test_util.hpp"
#include "adapters/alertmanager/codec.hpp"
#include "plugin/config/loader.hpp"

namespace alertbridge::engine {
namespace {

using namespace std::chrono;
using testing::at;

TEST(Timers, FireInDeadlineOrderAndMoveWhenSetAgain) {
    Timers t;
    auto due_by = [&t](core::TimePoint now) {
        std::vector<TimerKey> keys;
        while (auto d = t.popDue(now)) keys.push_back(d->second);
        return keys;
    };
    auto t0 = at("2026-03-09T00:00:00Z");
    t.set({TimerKind::kResend, 1}, t0 + seconds(5));
    t.set({TimerKind::kResend, 0}, t0 + seconds(5));
    t.set({TimerKind::kExpiry, 0}, t0 + seconds(9));
    t.set({TimerKind::kCheckpoint, 0}, t0 + seconds(1));
    t.set({TimerKind::kCheckpoint, 0}, t0 + seconds(7));  // moved, not added
    EXPECT_EQ(t.size(), 4u);
    EXPECT_EQ(t.next(), t0 + seconds(5));
    EXPECT_TRUE(due_by(t0 + seconds(4)).empty());
    auto due = due_by(t0 + seconds(7));
    ASSERT_EQ(due.size(), 3u);
    EXPECT_EQ(due[0], (TimerKey{TimerKind::kResend, 0}));  // ties in key order
    EXPECT_EQ(due[1], (TimerKey{TimerKind::kResend, 1}));
    EXPECT_EQ(due[2], (TimerKey{TimerKind::kCheckpoint, 0}));
    t.cancel({TimerKind::kExpiry, 0});
    EXPECT_EQ(t.next(), std::nullopt);
    EXPECT_EQ(t.size(), 0u);
}

// One engine with an Alertmanager output re-sent every 4 s, and a way to make alerts.
struct Rig {
    Rig() : t0(at("2026-03-09T14:00:00Z")) {
        config = config::loadConfigFromString("global: {instance: ab-1}\n", "t.yml").config.value();
        auto encoder =
            std::make_shared<alertmanager::PushEncoder>("am", "alertbridge_origin", "ab-1", 100);
        EngineOptions o;
        o.resend_intervals = {seconds(4)};
        o.checkpoint_interval = seconds(30);
        o.report_notifications = true;
        engine = std::make_unique<Engine>(
            std::make_unique<pipeline::Pipeline>(
                config, metrics,
                std::vector<std::shared_ptr<const pipeline::OutputEncoder>>{encoder}),
            o);
    }

    core::Alert alert(const std::string& instance, std::optional<core::TimePoint> ends = {}) const {
        core::Alert a;
        a.labels = core::LabelSet{{"alertname", "HostDown"}, {"instance", instance}};
        a.starts_at = t0 - minutes(1);
        if (ends) a.ends_at = *ends;
        a.origin.kind = core::SourceKind::kAlertmanagerApi;
        return a;
    }

    core::TimePoint t0;
    config::Config config;
    telemetry::Metrics metrics;
    std::unique_ptr<Engine> engine;
};

class EngineTest : public ::testing::Test {
  protected:
    core::Alert alert(const std::string& instance, std::optional<core::TimePoint> ends = {}) {
        return rig_.alert(instance, ends);
    }
    Rig rig_;
    core::TimePoint t0_ = rig_.t0;
    std::unique_ptr<Engine>& engine_ = rig_.engine;
};

TEST_F(EngineTest, AnAlertEndsWhenItsEndsAtComesAndNotBefore) {
    auto ends = t0_ + minutes(4);
    auto fx = engine_->apply(AlertsArrived{{alert("10.0.0.1", ends)}, 1}, t0_);
    EXPECT_EQ(fx.delta.outbox.size(), 1u);  // new: pushed
    EXPECT_EQ(fx.delta.at, t0_) << "the outbox rows' created_at is the engine's now";
    EXPECT_EQ(engine_->nextDeadline(), ends) << "not started: only the alert's own timer";
    EXPECT_TRUE(engine_->advance(ends - milliseconds(1)).delta.outbox.empty());
    EXPECT_EQ(engine_->pipeline().activeAlerts(), 1u);
    EXPECT_EQ(fx.delta.outbox[0].meta.key, "am/j1/0") << "keyed by the journal entry";
    EXPECT_EQ(fx.delta.outbox[0].meta.reason, "new");
    EXPECT_EQ(fx.notifications.at(0).key, "am/j1/0");
    auto ended = engine_->advance(ends);
    ASSERT_EQ(ended.delta.outbox.size(), 1u);
    EXPECT_NE(ended.delta.outbox[0].body.find("\"endsAt\""), std::string::npos);
    EXPECT_EQ(ended.delta.outbox[0].meta.key,
              fmt::format("am/x{}/0", ends.time_since_epoch().count()))
        << "keyed by the expiry's own deadline, however late the engine ran";
    EXPECT_EQ(ended.delta.outbox[0].meta.reason, "resolve");
    EXPECT_EQ(engine_->pipeline().activeAlerts(), 0u);
    EXPECT_EQ(engine_->nextDeadline(), std::nullopt);
}

// Advanced late, or from one replayed post to the next, the engine still ends each alert
// at its own endsAt, in order.
TEST_F(EngineTest, ALateAdvanceEndsEachAlertAtItsOwnEndsAt) {
    engine_->apply(
        AlertsArrived{{alert("10.0.0.1", t0_ + minutes(4)), alert("10.0.0.2", t0_ + minutes(2)),
                       alert("10.0.0.3", t0_ + hours(2))},
                      1},
        t0_);
    auto fx = engine_->advance(t0_ + hours(1));
    ASSERT_EQ(fx.notifications.size(), 2u);
    EXPECT_EQ(fx.notifications[0].at, t0_ + minutes(2));
    EXPECT_EQ(fx.notifications[0].reason, core::NotifyReason::kResolve);
    EXPECT_EQ(fx.notifications[1].at, t0_ + minutes(4));
    EXPECT_EQ(engine_->pipeline().activeAlerts(), 1u);
    EXPECT_EQ(engine_->nextDeadline(), t0_ + hours(2));
}

// Batches applied together go out as one row per output, with the same alerts in the same
// order as separate applies would send, keyed by the last journal entry; each batch still
// runs at its own instant (its alerts' timers are its own).
TEST_F(EngineTest, BatchesAppliedTogetherShareOneRowPerOutput) {
    Rig separate;
    std::vector<std::string> bodies;
    auto a1 = alert("10.0.0.1", t0_ + minutes(4));
    auto a2 = alert("10.0.0.2", t0_ + minutes(2));
    auto a1_again = alert("10.0.0.1", t0_ + minutes(6));  // a repeat: no news
    auto a2_done = alert("10.0.0.2", t0_ + milliseconds(1500));
    for (auto [batch, id, t] :
         {std::tuple{a1, 7, 0}, {a2, 8, 1}, {a1_again, 9, 2}, {a2_done, 10, 3}}) {
        auto fx = separate.engine->apply(AlertsArrived{{batch}, id}, t0_ + seconds(t));
        for (const auto& row : fx.delta.outbox) bodies.push_back(row.body);
    }
    ASSERT_EQ(bodies.size(), 3u);  // new, new, resolve

    std::vector<std::pair<Event, core::TimePoint>> events;
    events.emplace_back(AlertsArrived{{a1}, 7}, t0_);
    events.emplace_back(AlertsArrived{{a2}, 8}, t0_ + seconds(1));
    events.emplace_back(AlertsArrived{{a1_again}, 9}, t0_ + seconds(2));
    events.emplace_back(AlertsArrived{{a2_done}, 10}, t0_ + seconds(3));
    auto fx = engine_->applyAll(std::move(events));
    ASSERT_EQ(fx.delta.outbox.size(), 1u);
    const auto& row = fx.delta.outbox[0];
    EXPECT_EQ(row.meta.key, "am/j10/0");
    EXPECT_EQ(row.alert_count, 3);
    EXPECT_EQ(row.meta.reason, "new");
    EXPECT_EQ(fx.delta.at, t0_ + seconds(3));
    std::string joined = "[";
    for (const auto& b : bodies)
        joined += (joined.size() > 1 ? "," : "") + b.substr(1, b.size() - 2);
    EXPECT_EQ(row.body, joined + "]") << "the same elements in the same order";
    // a2 resolved in the batch; a1 ends at the repeat's endsAt, as in the separate run.
    EXPECT_EQ(engine_->pipeline().activeAlerts(), 1u);
    EXPECT_EQ(engine_->nextDeadline(), separate.engine->nextDeadline());
    EXPECT_EQ(engine_->pipeline().index().size(), separate.engine->pipeline().index().size());
    EXPECT_TRUE(engine_->advance(t0_ + minutes(5)).delta.outbox.empty());
    EXPECT_EQ(engine_->advance(t0_ + minutes(6)).delta.outbox.size(), 1u);
}

TEST_F(EngineTest, AnUpdatedEndsAtMovesTheTimer) {
    engine_->apply(AlertsArrived{{alert("10.0.0.1", t0_ + minutes(4))}, 1}, t0_);
    engine_->apply(AlertsArrived{{alert("10.0.0.1", t0_ + minutes(5))}, 2}, t0_ + minutes(1));
    // The old deadline may wake the engine, but nothing ends then.
    EXPECT_TRUE(engine_->advance(t0_ + minutes(4)).delta.outbox.empty());
    EXPECT_EQ(engine_->pipeline().activeAlerts(), 1u);
    EXPECT_EQ(engine_->nextDeadline(), t0_ + minutes(5));
    EXPECT_EQ(engine_->advance(t0_ + minutes(5)).delta.outbox.size(), 1u);
}

TEST_F(EngineTest, ResendSlicesAreNeverSkippedHoweverLateTheEngineRuns) {
    engine_->apply(AlertsArrived{{alert("10.0.0.1"), alert("10.0.0.2")}, 1}, t0_);
    EXPECT_FALSE(engine_->started());
    EXPECT_TRUE(engine_->advance(t0_ + seconds(3)).resends.empty()) << "not started";
    auto start = t0_ + seconds(3);
    engine_->start(start);
    EXPECT_EQ(engine_->nextDeadline(), start) << "housekeeping first";
    auto first = engine_->advance(start);
    EXPECT_TRUE(first.housekeep);
    EXPECT_TRUE(first.resends.empty());
    // On time: one slice a second, each of the 4 slices once in 4 seconds.
    std::vector<std::size_t> slices;
    for (int s = 1; s <= 4; ++s) {
        for (const auto& r : engine_->advance(start + seconds(s)).resends) {
            EXPECT_EQ(r.slices, 4u);
            slices.push_back(r.slice);
        }
    }
    std::sort(slices.begin(), slices.end());
    EXPECT_EQ(slices, (std::vector<std::size_t>{0, 1, 2, 3}));
    // Late by 2.5 s: the two seconds passed are both handed out.
    EXPECT_EQ(engine_->advance(start + seconds(6) + milliseconds(500)).resends.size(), 2u);
    // Late by an hour: one full round, not 3,600 slices.
    auto late = engine_->advance(start + hours(1));
    EXPECT_EQ(late.resends.size(), 4u);
    // The copies hold every firing alert exactly once over a round.
    std::size_t alerts = 0;
    for (const auto& r : late.resends) {
        for (const auto& row : engine_->resendRows(r)) alerts += row.alert_count;
    }
    EXPECT_EQ(alerts, 2u);
}

// A push of a change shows the alert to the output, so the re-send round leaves it out
// until a whole interval has passed since (never two intervals without a showing); a push
// from before the rounds began (at start, or at a reload that may have replaced the
// output) excuses nothing.
TEST_F(EngineTest, ARoundLeavesOutWhatAChangeShowedWithinTheInterval) {
    engine_->apply(AlertsArrived{{alert("10.0.0.9")}, 1}, t0_ - seconds(2));  // before start
    engine_->start(t0_);
    engine_->advance(t0_);
    engine_->apply(AlertsArrived{{alert("10.0.0.1")}, 2}, t0_ + milliseconds(1500));
    std::map<std::string, std::vector<int>> resent;  // instance -> seconds after t0
    auto run = [&](int from, int to) {
        for (int s = from; s <= to; ++s) {
            for (const auto& r : engine_->advance(t0_ + seconds(s)).resends) {
                EXPECT_EQ(r.second,
                          duration_cast<seconds>((t0_ + seconds(s)).time_since_epoch()).count());
                for (const auto& row : engine_->resendRows(r)) {
                    for (const char* ip : {"10.0.0.1", "10.0.0.9"}) {
                        if (row.body.find(ip) != std::string::npos) resent[ip].push_back(s);
                    }
                }
            }
        }
    };
    run(1, 12);
    ASSERT_EQ(resent["10.0.0.9"].size(), 3u) << "shown before the rounds began: every round";
    EXPECT_LE(resent["10.0.0.9"][0], 4);
    const auto& one = resent["10.0.0.1"];  // pushed in second 1
    ASSERT_EQ(one.size(), 2u);
    EXPECT_GE(one[0], 1 + 4) << "not within an interval of its push";
    EXPECT_LE(one[0], 1 + 8) << "nor two intervals after it";
    EXPECT_EQ(one[1], one[0] + 4);
    // A change pushed just before a reload is re-sent at its slice's first turn after it,
    // here a second at which it would otherwise have been left out.
    const int p = one[0] % 4 == 1 ? 14 : 13;  // its turn comes 1-3 s after the push
    auto changed = alert("10.0.0.1");
    changed.annotations.set("summary", "changed");
    engine_->apply(AlertsArrived{{changed}, 3}, t0_ + seconds(p) + milliseconds(100));
    auto encoder =
        std::make_shared<alertmanager::PushEncoder>("am", "alertbridge_origin", "ab-1", 100);
    engine_->reconfigure(
        Reconfiguration{
            std::make_shared<const config::Config>(rig_.config), {encoder}, {seconds(4)}, nullptr},
        t0_ + seconds(p) + milliseconds(500));
    resent.clear();
    run(p + 1, p + 4);
    ASSERT_EQ(resent["10.0.0.1"].size(), 1u);
    EXPECT_LT(resent["10.0.0.1"][0], p + 4);
    EXPECT_EQ(resent["10.0.0.9"].size(), 1u);
}

// Marks keep 16 bits of the second: an interval over 9 hours excuses nothing.
TEST(EngineResends, AnIntervalOverNineHoursExcusesNothing) {
    for (auto [interval, excused] : {std::pair{hours(9), 1LL}, std::pair{hours(10), 0LL}}) {
        Rig rig;
        EngineOptions o;
        o.resend_intervals = {interval};
        auto encoder =
            std::make_shared<alertmanager::PushEncoder>("am", "alertbridge_origin", "ab-1", 100);
        Engine engine(std::make_unique<pipeline::Pipeline>(
                          rig.config, rig.metrics,
                          std::vector<std::shared_ptr<const pipeline::OutputEncoder>>{encoder}),
                      o);
        engine.start(rig.t0);
        engine.advance(rig.t0);
        auto due = engine.advance(rig.t0 + seconds(1)).resends;
        ASSERT_EQ(due.size(), 1u);
        EXPECT_EQ(due[0].recent, excused);
    }
}

TEST_F(EngineTest, CheckpointsAreTimersOnTheSameClock) {
    engine_->start(t0_);
    engine_->advance(t0_);
    EXPECT_FALSE(engine_->advance(t0_ + seconds(29)).checkpoint);
    EXPECT_TRUE(engine_->advance(t0_ + seconds(30)).checkpoint);
    EXPECT_FALSE(engine_->advance(t0_ + seconds(59)).checkpoint);
    EXPECT_TRUE(engine_->advance(t0_ + seconds(60)).checkpoint);
}

// A live reload swaps the stages and outputs between two events: every alert and its
// expiry timer stay, the new rules apply to what comes next, and each output's re-send
// rounds start again from the reload.
TEST_F(EngineTest, AReloadKeepsEveryAlertAndItsTimers) {
    engine_->start(t0_);
    auto ends = t0_ + minutes(10);
    engine_->apply(AlertsArrived{{alert("10.0.0.1", ends), alert("10.0.0.2", ends)}, 1}, t0_);
    auto next = std::make_shared<const config::Config>(
        config::loadConfigFromString("global: {instance: ab-1}\n"
                                     "enrich:\n  relabel_configs:\n"
                                     "    - {target_label: tier, replacement: reloaded}\n",
                                     "t.yml")
            .config.value());
    auto a = std::make_shared<alertmanager::PushEncoder>("am", "alertbridge_origin", "ab-1", 100);
    auto b = std::make_shared<alertmanager::PushEncoder>("am2", "alertbridge_origin", "ab-1", 100);
    engine_->reconfigure(Reconfiguration{next, {a, b}, {seconds(4), seconds(2)}, nullptr},
                         t0_ + seconds(30));
    EXPECT_EQ(engine_->pipeline().activeAlerts(), 2u);
    EXPECT_EQ(engine_->pipeline().outputCount(), 2u);
    auto fx = engine_->apply(AlertsArrived{{alert("10.0.0.3", ends)}, 2}, t0_ + seconds(31));
    ASSERT_EQ(fx.delta.outbox.size(), 2u) << "one row per output";
    EXPECT_NE(fx.delta.outbox[1].body.find("\"tier\":\"reloaded\""), std::string::npos);
    EXPECT_EQ(fx.delta.outbox[1].meta.key, "am2/j2/1");
    // The second output's first round (2 slices, one a second) covers every firing alert.
    std::set<std::size_t> slices;
    for (int s = 31; s <= 33; ++s) {
        for (const auto& r : engine_->advance(t0_ + seconds(s)).resends) {
            if (r.output == 1) slices.insert(r.slice);
        }
    }
    EXPECT_EQ(slices, (std::set<std::size_t>{0, 1}));
    auto ended = engine_->advance(ends);
    EXPECT_EQ(ended.delta.outbox.size(), 2u) << "the three alerts end, on both outputs";
    EXPECT_EQ(engine_->pipeline().activeAlerts(), 0u);
}

TEST(Engine, TheSameInputsGiveTheSameOutputs) {
    auto run = [] {
        Rig rig;
        std::vector<std::string> out;
        rig.engine->start(rig.t0);
        for (int i = 0; i < 50; ++i) {
            auto t = rig.t0 + seconds(i * 7);
            auto late = rig.alert("10.0.1." + std::to_string(i % 9), t + seconds(20 + i % 5));
            std::vector<Effects> effects;
            effects.push_back(rig.engine->advance(t));
            effects.push_back(rig.engine->apply(AlertsArrived{{late}, i + 1}, t));
            for (const auto& fx : effects) {
                for (const auto& row : fx.delta.outbox) out.push_back(row.meta.key + row.body);
                for (const auto& r : fx.resends) out.push_back(std::to_string(r.slice));
            }
        }
        return out;
    };
    auto a = run();
    EXPECT_GT(a.size(), 50u);
    EXPECT_EQ(a, run());
}

TEST(FakeClock, AWaiterWakesWhenTheClockReachesItsDeadline) {
    core::FakeClock clock(at("2026-03-09T00:00:00Z"));
    std::mutex mu;
    std::condition_variable cv;
    auto deadline = clock.now() + minutes(5);
    bool reached = false;
    std::thread waiter([&] {
        std::unique_lock lock(mu);
        while (clock.now() < deadline) clock.waitUntil(cv, lock, deadline);
        reached = true;
    });
    clock.advance(minutes(2));
    clock.advance(minutes(3));
    waiter.join();  // returns only if the second advance woke it
    EXPECT_TRUE(reached);
}

}  // namespace
}  // namespace alertbridge::engine
