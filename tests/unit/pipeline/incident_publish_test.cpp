// What an Alertmanager output is shown of incidents (pipeline/incident/publish.hpp), through
// the engine `serve` runs: members marked, one alert per incident, the paging label set
// replacing the quiet one in the same push, re-sends that keep both alive, and the
// resolution under the labels it was shown with.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "adapters/alertmanager/codec.hpp"
#include "plugin/config/loader.hpp"
#include "plugin/engine/engine.hpp"
#include "tests/unit/test_util.hpp"

namespace alertbridge {
namespace {

using std::chrono::seconds;

struct Shown {
    std::string role, incident, notify, suppressed;
    bool resolved = false;
};

// Every element of every row: its role, incident (label or annotation) and state.
std::vector<Shown> shown(const std::vector<state::OutboxInsert>& rows) {
    std::vector<Shown> out;
    for (const auto& row : rows) {
        rapidjson::Document d;
        d.Parse(row.body.c_str());
        for (const auto& a : d.GetArray()) {
            Shown s;
            const auto& l = a["labels"];
            const auto& n = a["annotations"];
            auto get = [](const rapidjson::Value& o, const char* k) {
                return o.HasMember(k) ? std::string(o[k].GetString()) : std::string();
            };
            s.role = get(l, "alertbridge_role");
            s.incident = s.role == "incident" ? get(l, "alertbridge_incident")
                                              : get(n, "alertbridge_incident");
            s.notify = get(l, "alertbridge_notify");
            s.suppressed = get(n, "alertbridge_suppressed");
            s.resolved = std::string(a["endsAt"].GetString()) != alertmanager::kEndsAtPlaceholder;
            out.push_back(s);
        }
    }
    return out;
}

std::size_t count(const std::vector<Shown>& all, const std::string& role, bool resolved,
                  const std::string& notify = "") {
    std::size_t n = 0;
    for (const auto& s : all) {
        n += s.role == role && s.resolved == resolved && s.notify == notify ? 1 : 0;
    }
    return n;
}

// An engine with one Alertmanager output re-sent every `resend`, started at `t0`.
struct Rig {
    Rig(const config::Config& config, core::Duration resend, core::TimePoint t0) {
        auto encoder =
            std::make_shared<alertmanager::PushEncoder>("am", "alertbridge_origin", "ab-1", 100);
        engine::EngineOptions o;
        o.resend_intervals = {resend};
        engine = std::make_unique<engine::Engine>(
            std::make_unique<pipeline::Pipeline>(
                config, metrics,
                std::vector<std::shared_ptr<const pipeline::OutputEncoder>>{encoder}),
            o);
        engine->start(t0);
    }
    telemetry::Metrics metrics;
    std::unique_ptr<engine::Engine> engine;
};

TEST(IncidentPublish, AlertmanagerSeesIncidentsAndMarkedMembers) {
    const auto t0 = testing::at("2026-03-09T14:00:00Z");
    auto loaded = config::loadConfigFromString(R"(global: {instance: ab-1}
noise:
  group_by: [alertname]
  group_wait: 10s
  resolve_wait: 30s
  maintenance_windows:
    - {name: swap, start: 2026-03-09T13:00:00Z, end: 2026-03-09T15:00:00Z, matchers: ['instance="c"']}
  policy:
    - {name: critical, matchers: ['severity="critical"'], action: page}
)",
                                               "t.yml");
    ASSERT_TRUE(loaded.config.has_value());
    Rig rig(*loaded.config, seconds(4), t0);
    auto& engine = *rig.engine;
    auto alert = [&](const std::string& instance, bool resolved = false) {
        core::Alert a;
        a.labels = core::LabelSet{
            {"alertname", "FrontDown"}, {"instance", instance}, {"severity", "critical"}};
        a.starts_at = t0;
        if (resolved) a.ends_at = t0 + seconds(60);
        return a;
    };

    auto first = engine.apply(engine::AlertsArrived{{alert("a"), alert("b"), alert("c")}, 1}, t0);
    auto got = shown(first.delta.outbox);
    EXPECT_EQ(count(got, "member", false), 3U);
    EXPECT_EQ(count(got, "incident", false), 1U);  // not paging yet
    for (const auto& s : got) EXPECT_EQ(s.incident, "1");
    std::size_t held = 0;
    for (const auto& s : got) held += s.suppressed == "maintenance:swap" ? 1 : 0;
    EXPECT_EQ(held, 1U);

    // The page: the paging label set, and the quiet one resolved in the same row.
    auto paged = shown(engine.advance(t0 + seconds(10)).delta.outbox);
    EXPECT_EQ(count(paged, "incident", false, "page"), 1U);
    EXPECT_EQ(count(paged, "incident", true), 1U);

    // A re-send round shows the paging incident and every member again.
    std::vector<state::OutboxInsert> resent;
    for (const auto& r : engine.advance(t0 + seconds(15)).resends) {
        auto rows = engine.resendRows(r);
        resent.insert(resent.end(), rows.begin(), rows.end());
    }
    auto again = shown(resent);
    EXPECT_EQ(count(again, "incident", false, "page"), 1U);
    EXPECT_EQ(count(again, "member", false), 3U);

    // Everything ends: the incident resolves resolve_wait later, under its paging labels.
    engine.apply(engine::AlertsArrived{{alert("a", true), alert("b", true), alert("c", true)}, 2},
                 t0 + seconds(60));
    auto closed = shown(engine.advance(t0 + seconds(91)).delta.outbox);
    EXPECT_EQ(count(closed, "incident", true, "page"), 1U);
    EXPECT_EQ(count(closed, "incident", false, "page"), 0U);
}

// Two incidents that a switch alert links become one: the one merged away is resolved at
// Alertmanager under the labels it was shown with, and its members say where they are now.
TEST(IncidentPublish, AnIncidentMergedAwayIsResolvedAtTheHost) {
    const auto t0 = testing::at("2026-03-09T14:00:00Z");
    auto loaded = config::loadConfigFromString(R"(global: {instance: ab-1}
noise:
  group_by: [alertname, host]
  group_wait: 10s
  topology:
    window: 10m
    parents:
      - {name: tor, labels: [device, tor_switch]}
      - {name: rack, labels: [rack]}
  policy:
    - {name: critical, matchers: ['severity="critical"'], action: page}
)",
                                               "t.yml");
    ASSERT_TRUE(loaded.config.has_value());
    Rig rig(*loaded.config, seconds(60), t0);
    auto& engine = *rig.engine;
    auto alert = [&](core::LabelSet labels) {
        core::Alert a;
        labels.set("severity", "critical");
        a.labels = std::move(labels);
        a.starts_at = t0;
        return a;
    };
    // Two hosts in two racks: two incidents.
    engine.apply(
        engine::AlertsArrived{{alert({{"alertname", "HostDown"},
                                      {"host", "h1"},
                                      {"rack", "r1"},
                                      {"tor_switch", "sw1"}}),
                               alert({{"alertname", "HostDown"}, {"host", "h2"}, {"rack", "r2"}})},
                              1},
        t0);
    // A switch in r2 that h1 hangs off: both incidents name one of its parents.
    auto merged = engine.apply(
        engine::AlertsArrived{
            {alert({{"alertname", "SwitchDown"}, {"device", "sw1"}, {"rack", "r2"}})}, 2},
        t0 + seconds(5));
    auto got = shown(merged.delta.outbox);
    EXPECT_EQ(count(got, "incident", true), 1U) << "the incident merged away, resolved";
    EXPECT_EQ(count(got, "incident", false), 1U) << "the one that stays";
    ASSERT_EQ(engine.pipeline().incidents()->open().size(), 1U);
    const auto survivor = std::to_string(engine.pipeline().incidents()->open().begin()->first);
    for (const auto& s : got) {
        if (s.role != "incident") continue;
        if (s.resolved) {
            EXPECT_NE(s.incident, survivor);
        } else {
            EXPECT_EQ(s.incident, survivor);
        }
    }
    // A re-send shows every member in the surviving incident.
    std::vector<state::OutboxInsert> resent;
    for (const auto& r : engine.advance(t0 + seconds(61)).resends) {
        auto rows = engine.resendRows(r);
        resent.insert(resent.end(), rows.begin(), rows.end());
    }
    auto again = shown(resent);
    EXPECT_EQ(count(again, "member", false), 3U);
    for (const auto& s : again) EXPECT_EQ(s.incident, survivor);
}

}  // namespace
}  // namespace alertbridge
