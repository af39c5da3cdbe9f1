#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "plugin/config/loader.hpp"

namespace alertbridge::config {
namespace {

std::string allErrors(const LoadResult& r) {
    std::string out;
    for (const auto& e : r.errors) out += e.format() + "\n";
    return out;
}

TEST(NoiseLoader, ReadsEveryKey) {
    auto r = loadConfigFromString(R"(
time_intervals:
  - name: open
    time_intervals: [{weekdays: ['monday:friday']}]
noise:
  group_by: [alertname, host]
  group_wait: 10s
  group_interval: 2m
  repeat_interval: 1h
  resolve_wait: 3m
  release_wait: 1m
  topology:
    window: 5m
    parents:
      - {name: tor, labels: [device, tor_switch]}
      - {name: dep, labels: [service, depends_on], separator: ",", matchers: ['env="prod"']}
  storms: [{name: site, scope: [site], threshold: 20, window: 1m}]
  flapping: {threshold: 5, window: 10m, settle: 20m}
  maintenance_windows:
    - {name: mw, start: 2026-03-14T22:00:00+08:00, end: 2026-03-15T02:00:00+08:00, matchers: ['site="a"']}
  suppress: [{name: s, matchers: ['alertname="X"'], mute_time_intervals: [open]}]
  inhibit_rules: [{source_matchers: ['a="1"'], target_matchers: ['b="2"'], equal: [host]}]
  policy:
    - {name: p, matchers: ['severity="critical"'], active_time_intervals: [open], action: page, receiver: ops}
    - {name: d, matchers: ['severity="warning"'], action: digest, digest: shift}
  default_action: record
  digests: [{name: shift, group_by: [team, site], interval: 12h, offset: 30m}]
)",
                                  "test.yml");
    ASSERT_TRUE(r.config) << allErrors(r);
    const auto& n = r.config->noise;
    EXPECT_TRUE(n.enabled);
    EXPECT_EQ(n.group_by, (std::vector<std::string>{"alertname", "host"}));
    EXPECT_EQ(n.group_wait, std::chrono::seconds(10));
    EXPECT_EQ(n.release_wait, std::chrono::minutes(1));
    ASSERT_EQ(n.parents.size(), 2U);
    EXPECT_EQ(n.parents[1].separator, ",");
    EXPECT_EQ(n.parents[1].matchers.size(), 1U);
    EXPECT_EQ(n.storms.at(0).threshold, 20U);
    EXPECT_EQ(n.flapping.threshold, 5U);
    ASSERT_EQ(n.maintenance_windows.size(), 1U);
    EXPECT_EQ(n.maintenance_windows[0].end - n.maintenance_windows[0].start, std::chrono::hours(4));
    EXPECT_EQ(n.inhibit_rules.at(0).name, "inhibit_0");
    ASSERT_EQ(n.policy.size(), 2U);
    EXPECT_EQ(n.policy[0].action, PolicyAction::kPage);
    EXPECT_EQ(n.policy[0].receiver, "ops");
    EXPECT_EQ(n.policy[1].digest, "shift");
    EXPECT_EQ(n.digests.at(0).group_by, (std::vector<std::string>{"team", "site"}));
}

TEST(NoiseLoader, MistakesAreErrorsAtTheirLine) {
    auto r = loadConfigFromString(R"(noise:
  group_wiat: 10s
  policy:
    - {name: p, action: shout}
    - {name: q, action: page, active_time_intervals: [nowhere]}
    - {name: r, action: digest, digest: nightly}
  maintenance_windows:
    - {name: mw, start: 2026-03-15T02:00:00+08:00, end: 2026-03-14T22:00:00+08:00, matchers: ['site="a"']}
    - {name: empty, start: 2026-03-14T22:00:00+08:00, end: 2026-03-15T02:00:00+08:00}
  topology:
    parents: [{name: x, labels: ["not a label"]}]
  digests:
    - {name: a, interval: 12h, offset: 30m, location: Mars/Olympus}
    - {name: b, interval: 7h, offset: 30m, location: Asia/Shanghai}
)",
                                  "test.yml");
    ASSERT_FALSE(r.config);
    auto text = allErrors(r);
    EXPECT_NE(text.find("test.yml:2: noise.group_wiat: unknown key \"group_wiat\" (did you mean "
                        "\"group_wait\"?)"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find(
            "test.yml:4: noise.policy[0].action: must be page, digest or record, got \"shout\""),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("time interval \"nowhere\" is not defined"), std::string::npos) << text;
    EXPECT_NE(text.find("digest \"nightly\" is not defined"), std::string::npos) << text;
    EXPECT_NE(text.find("test.yml:8: noise.maintenance_windows[0].end: must be after start"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("noise.maintenance_windows[1].matchers: give at least one matcher"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("\"not a label\" is not a valid label name"), std::string::npos) << text;
    EXPECT_NE(
        text.find("test.yml:13: noise.digests[0].location: unknown time zone \"Mars/Olympus\""),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("test.yml:14: noise.digests[1].location: with a location, interval must "
                        "divide a day"),
              std::string::npos)
        << text;
}

TEST(NoiseLoader, MaintenanceFileErrorsNameTheFile) {
    auto dir = std::filesystem::temp_directory_path() / "ab-noise-loader-test";
    std::filesystem::create_directories(dir);
    {
        std::ofstream f(dir / "maintenance.yml");
        f << "- name: ok\n  start: 2026-03-14T09:00:00+08:00\n  end: 2026-03-14T12:00:00+08:00\n"
             "  matchers: ['host=~\"a|b\"']\n"
             "- name: bad\n  start: tomorrow\n  end: 2026-03-14T12:00:00+08:00\n"
             "  matchers: ['host=\"c\"']\n";
    }
    {
        std::ofstream f(dir / "alertbridge.yml");
        f << "noise:\n  maintenance_windows_file: maintenance.yml\n";
    }
    auto r = loadConfig((dir / "alertbridge.yml").string());
    ASSERT_FALSE(r.config);
    auto text = allErrors(r);
    EXPECT_NE(text.find((dir / "maintenance.yml").string() + ":6: [1].start:"), std::string::npos)
        << text;
    {
        std::ofstream f(dir / "maintenance.yml");
        f << "- name: ok\n  start: 2026-03-14T09:00:00+08:00\n  end: 2026-03-14T12:00:00+08:00\n"
             "  matchers: ['host=~\"a|b\"']\n";
    }
    r = loadConfig((dir / "alertbridge.yml").string());
    ASSERT_TRUE(r.config) << allErrors(r);
    EXPECT_EQ(r.config->noise.maintenance_windows.size(), 1U);
    EXPECT_EQ(r.config->noise.maintenance_windows[0].file, (dir / "maintenance.yml").string());
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace alertbridge::config
