// The incident book on its own: saved and loaded, it carries on as if never stopped.
#include <functional>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/app/setup.hpp"
#include "plugin/pipeline/incident/book.hpp"
#include "tests/unit/test_util.hpp"

namespace alertbridge::pipeline::incident {
namespace {

std::shared_ptr<const NoiseRules> rules() {
    auto setup = app::setupFromString(R"(
noise:
  group_by: [alertname]
  group_wait: 15s
  group_interval: 1m
  resolve_wait: 5m
  repeat_interval: 1h
  topology:
    parents: [{name: tor, labels: [device, tor_switch]}]
  storms: [{name: site, scope: [site], threshold: 3, window: 2m}]
  flapping: {threshold: 4, window: 30m, settle: 15m}
  policy:
    - {name: critical, matchers: ['severity="critical"'], action: page}
    - {name: warning, matchers: ['severity="warning"'], action: digest}
  digests: [{name: shift, interval: 12h, offset: 30m}]
)",
                                      "book.yml");
    EXPECT_TRUE(setup.config.has_value());
    return std::make_shared<const NoiseRules>(setup.config->noise, setup.config->time_intervals);
}

core::Alert alert(std::string name, std::string host, std::string severity,
                  core::Alert::Change change, core::Fingerprint fp) {
    core::Alert a;
    a.labels.set("alertname", name);
    a.labels.set("host", host);
    a.labels.set("severity", severity);
    a.labels.set("tor_switch", "tor-1");
    a.labels.set("site", "a");
    a.fingerprint = fp;
    a.severity = severity == "critical" ? core::Severity::kCritical : core::Severity::kWarning;
    a.change = change;
    return a;
}

using Notes = std::vector<core::Notification>;

std::string describe(const Notes& notes) {
    std::string out;
    for (const auto& n : notes) {
        out += std::string(core::notifyReasonName(n.reason)) + " " + n.group_key + " @" +
               std::to_string(n.at.time_since_epoch().count()) + " [" +
               std::to_string(n.alerts.size()) + "]\n";
    }
    return out;
}

// Runs the same story twice: straight through, and saved and loaded into a new book at
// `stop`. Both must say the same things at the same instants.
TEST(IncidentBookTest, SavedAndLoadedItCarriesOnAsIfNeverStopped) {
    const auto t0 = testing::at("2026-03-09T01:00:00Z");
    auto s = [&](int seconds) { return t0 + std::chrono::seconds(seconds); };
    using C = core::Alert::Change;
    struct Step {
        int at;
        core::Alert a;
    };
    std::vector<Step> story = {
        {0, alert("HostDown", "h1", "critical", C::kNew, 1)},
        {5, alert("HostDown", "h2", "critical", C::kNew, 2)},
        {10, alert("DiskWarn", "h3", "warning", C::kNew, 3)},
        {20, alert("SwitchDown", "tor-1", "critical", C::kNew, 4)},
        {400, alert("HostDown", "h1", "critical", C::kResolve, 1)},
        {420, alert("HostDown", "h1", "critical", C::kNew, 1)},
        {900, alert("HostDown", "h1", "critical", C::kResolve, 1)},
        {900, alert("HostDown", "h2", "critical", C::kResolve, 2)},
        {900, alert("SwitchDown", "tor-1", "critical", C::kResolve, 4)},
    };
    for (int stop : {30, 410, 905}) {
        SCOPED_TRACE("stopped at " + std::to_string(stop));
        IncidentBook straight(rules());
        IncidentBook first(rules());
        std::unique_ptr<IncidentBook> second;
        Notes a, b;
        for (const auto& step : story) {
            if (!second && step.at > stop) {
                first.advance(s(stop), &b);
                second = std::make_unique<IncidentBook>(rules());
                ASSERT_TRUE(second->load(first.save()));
                EXPECT_EQ(second->save(), first.save());
            }
            core::AlertBatch batch{step.a};
            straight.observe(batch, s(step.at), &a);
            (second ? *second : first).observe(batch, s(step.at), &b);
        }
        straight.advance(s(50000), &a);
        (second ? *second : first).advance(s(50000), &b);
        EXPECT_EQ(describe(a), describe(b));
        EXPECT_FALSE(a.empty());
    }
}

TEST(IncidentBookTest, StateFromAnotherVersionIsRefused) {
    IncidentBook book(rules());
    EXPECT_FALSE(book.load(R"({"version": 99})"));
    EXPECT_FALSE(book.load("not json"));
    EXPECT_TRUE(book.open().empty());
}

// Every value of a real saved book replaced by one of the wrong type, and every array cut
// short by one: load() refuses or accepts it, never reads out of bounds or aborts, and a
// refused load leaves the book empty.
TEST(IncidentBookTest, DamagedStateIsRefusedNotFatal) {
    const auto t0 = testing::at("2026-03-09T01:00:00Z");
    using C = core::Alert::Change;
    IncidentBook book(rules());
    Notes notes;
    book.observe({alert("HostDown", "h1", "critical", C::kNew, 1),
                  alert("HostDown", "h2", "critical", C::kNew, 2),
                  alert("DiskWarn", "h3", "warning", C::kNew, 3)},
                 t0, &notes);
    core::Silence quiet;
    quiet.matchers = core::parseMatchers("host=\"h9\"").value();
    quiet.starts_at = t0;
    quiet.ends_at = t0 + std::chrono::hours(1);
    quiet.created_by = "ops";
    quiet.comment = "test";
    ASSERT_TRUE(book.setSilence(quiet, "s1", t0, &notes).ok());
    book.advance(t0 + std::chrono::seconds(30), &notes);
    const std::string saved = book.save();

    rapidjson::Document doc;
    doc.Parse(saved.c_str());
    ASSERT_FALSE(doc.HasParseError());
    // Every value, by its path of member names and indexes.
    std::vector<std::vector<std::string>> paths;
    std::function<void(const rapidjson::Value&, std::vector<std::string>)> walk =
        [&](const rapidjson::Value& v, std::vector<std::string> path) {
            paths.push_back(path);
            if (v.IsObject()) {
                for (const auto& m : v.GetObject()) {
                    auto p = path;
                    p.push_back(m.name.GetString());
                    walk(m.value, p);
                }
            } else if (v.IsArray()) {
                for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
                    auto p = path;
                    p.push_back("#" + std::to_string(i));
                    walk(v[i], p);
                }
            }
        };
    walk(doc, {});
    auto find = [](rapidjson::Value& v, const std::vector<std::string>& path) {
        rapidjson::Value* cur = &v;
        for (const auto& step : path) {
            cur = step[0] == '#'
                      ? &(*cur)[static_cast<rapidjson::SizeType>(std::stoul(step.substr(1)))]
                      : &(*cur)[step.c_str()];
        }
        return cur;
    };
    const auto shared = rules();
    std::size_t refused = 0, tried = 0;
    for (const auto& path : paths) {
        if (path.empty()) continue;
        for (int how = 0; how < 2; ++how) {
            rapidjson::Document copy;
            copy.CopyFrom(doc, copy.GetAllocator());
            auto* v = find(copy, path);
            if (how == 0) {
                v->SetObject();  // a type nothing in the state has at a leaf
            } else if (v->IsArray() && !v->Empty()) {
                v->PopBack();
            } else {
                continue;
            }
            rapidjson::StringBuffer sb;
            rapidjson::Writer<rapidjson::StringBuffer> w(sb);
            copy.Accept(w);
            IncidentBook other(shared);
            ++tried;
            if (!other.load(sb.GetString())) {
                ++refused;
                EXPECT_TRUE(other.open().empty());
                EXPECT_TRUE(other.silences().empty());
            }
        }
    }
    EXPECT_GT(tried, 100U);
    EXPECT_GT(refused, tried / 2);
}

}  // namespace
}  // namespace alertbridge::pipeline::incident
