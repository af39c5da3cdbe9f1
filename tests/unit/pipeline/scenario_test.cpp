// Scenario tests: every tests/scenarios/*.yml is a timeline on a simulated clock (alerts in
// at given seconds) and the messages to people that must come out, exactly and in order.
// They run the engine `serve` runs, through ReplaySession, as `replay` does.
//
//   config: |                 an alertbridge config (relative paths from the scenario file)
//   start: RFC 3339           t = 0
//   alerts:                   in order of t
//     - {t: 0, name: a, labels: {...}}          fires (endsAt t + 1h unless `ends` seconds)
//     - {t: 90, name: a, status: resolved}      resolves (endsAt = t)
//     - {t: 30, silence: s1, matchers: ['host="a"'], ends: 600}   a silence (id s1) until t=600
//     - {t: 60, expire: s1}                     expires it early
//   until: 7200               timers run up to here
//   expect:                   every message to people: t, reason, and optionally receiver,
//     - {t: 15, reason: new, firing: [a]}      the firing and the resolved alerts by name
//   incidents:                optional: [{members: [a, b], title_contains: "..."}]
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <yaml-cpp/yaml.h>

#include "plugin/app/replay_session.hpp"
#include "plugin/core/time.hpp"
#include "tests/unit/test_util.hpp"

namespace alertbridge {
namespace {

namespace fs = std::filesystem;

struct Got {
    double t = 0;
    std::string reason;
    std::string receiver;
    std::vector<std::string> firing;
    std::vector<std::string> resolved;
};

std::string describe(const Got& g) {
    return fmt::format("t={} {} to {} firing=[{}] resolved=[{}]", g.t, g.reason, g.receiver,
                       fmt::join(g.firing, ","), fmt::join(g.resolved, ","));
}

std::vector<std::string> names(const YAML::Node& n) {
    std::vector<std::string> out;
    for (const auto& v : n) out.push_back(v.as<std::string>());
    std::sort(out.begin(), out.end());
    return out;
}

std::string postable(const core::LabelSet& labels, core::TimePoint starts, core::TimePoint ends) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    w.StartObject();
    w.Key("labels");
    w.StartObject();
    for (const auto& [k, v] : labels) {
        w.Key(k.c_str());
        w.String(v.c_str());
    }
    w.EndObject();
    w.Key("startsAt");
    w.String(core::formatRfc3339(starts).c_str());
    w.Key("endsAt");
    w.String(core::formatRfc3339(ends).c_str());
    w.EndObject();
    return sb.GetString();
}

void runScenario(const fs::path& file) {
    SCOPED_TRACE(file.filename().string());
    YAML::Node doc = YAML::LoadFile(file.string());
    auto setup = app::setupFromString(doc["config"].as<std::string>(), file.string());
    for (const auto& e : setup.errors) ADD_FAILURE() << e.format();
    ASSERT_TRUE(setup.config.has_value());
    const auto start = core::parseRfc3339(doc["start"].as<std::string>()).value();
    std::string error;
    auto session = app::ReplaySession::open(setup, start, error);
    ASSERT_NE(session, nullptr) << error;

    auto seconds = [&](double t) {
        return start + std::chrono::milliseconds(static_cast<long long>(t * 1000.0));
    };
    std::map<std::string, core::LabelSet> labels_of;   // by scenario name
    std::map<std::string, core::TimePoint> since;      // the firing episode's start
    std::map<core::Fingerprint, std::string> name_of;  // filled from what was posted
    std::vector<Got> got;
    auto collect = [&](const std::vector<core::Notification>& notes) {
        for (const auto& n : notes) {
            if (!n.to_people) continue;
            Got g;
            g.t = std::chrono::duration<double>(n.at - start).count();
            g.reason = std::string(core::notifyReasonName(n.reason));
            g.receiver = n.receiver;
            for (const auto& a : n.alerts) {
                auto it = name_of.find(a.fingerprint);
                std::string name =
                    it == name_of.end() ? core::fingerprintHex(a.fingerprint) : it->second;
                (a.resolved ? g.resolved : g.firing).push_back(name);
            }
            std::sort(g.firing.begin(), g.firing.end());
            std::sort(g.resolved.begin(), g.resolved.end());
            got.push_back(std::move(g));
        }
    };
    for (const auto& a : doc["alerts"]) {
        const double t = a["t"].as<double>();
        if (a["silence"] || a["expire"]) {
            pipeline::incident::SilenceChange c;
            if (a["silence"]) {
                c.new_id = a["silence"].as<std::string>();
                std::string text;
                for (const auto& m : a["matchers"]) text += m.as<std::string>() + ",";
                text.pop_back();
                c.silence.matchers = core::parseMatchers(text).value();
                c.silence.starts_at = seconds(a["starts"] ? a["starts"].as<double>() : t);
                c.silence.ends_at = seconds(a["ends"].as<double>());
                c.silence.created_by = "scenario";
                c.silence.comment = "scenario";
            } else {
                c.op = pipeline::incident::SilenceChange::Op::kExpire;
                c.id = a["expire"].as<std::string>();
            }
            pipeline::incident::SilenceOutcome outcome;
            collect(session->silence(c, seconds(t), outcome));
            ASSERT_TRUE(outcome.ok()) << outcome.error;
            continue;
        }
        const auto name = a["name"].as<std::string>();
        if (a["labels"]) {
            core::LabelSet ls;
            for (auto it = a["labels"].begin(); it != a["labels"].end(); ++it) {
                ls.set(it->first.as<std::string>(), it->second.as<std::string>());
            }
            labels_of[name] = ls;
        }
        ASSERT_TRUE(labels_of.count(name)) << name << ": labels are needed the first time";
        const auto at = seconds(t);
        const bool resolved = a["status"] && a["status"].as<std::string>() == "resolved";
        if (!since.count(name)) since[name] = at;
        const auto ends = resolved ? at : seconds(a["ends"] ? a["ends"].as<double>() : t + 3600);
        auto posted = session->post(postable(labels_of[name], since[name], ends), at);
        ASSERT_EQ(posted.rejected, 0U) << name;
        if (resolved) since.erase(name);
        for (const auto& [n, ls] : labels_of) {
            core::Alert probe;
            probe.labels = ls;
            name_of[core::identityFingerprint(probe)] = n;
        }
        collect(posted.notifications);
    }
    collect(session->advance(seconds(doc["until"].as<double>())));

    std::vector<std::string> want_text, got_text;
    const auto expect = doc["expect"];
    for (std::size_t i = 0; i < std::max<std::size_t>(expect.size(), got.size()); ++i) {
        if (i >= got.size()) {
            ADD_FAILURE() << "missing message " << i << ": " << YAML::Dump(expect[i]);
            continue;
        }
        if (i >= expect.size()) {
            ADD_FAILURE() << "unexpected message " << i << ": " << describe(got[i]);
            continue;
        }
        const auto& e = expect[i];
        const auto& g = got[i];
        EXPECT_NEAR(e["t"].as<double>(), g.t, 0.001) << describe(g);
        EXPECT_EQ(e["reason"].as<std::string>(), g.reason) << describe(g);
        if (e["receiver"]) {
            EXPECT_EQ(e["receiver"].as<std::string>(), g.receiver) << describe(g);
        }
        if (e["firing"]) {
            EXPECT_EQ(names(e["firing"]), g.firing) << describe(g);
        }
        if (e["resolved"]) {
            EXPECT_EQ(names(e["resolved"]), g.resolved) << describe(g);
        }
    }

    // Incidents as they ended up (closed ones and those still open).
    const auto* book = session->engine().pipeline().incidents();
    if (!doc["incidents"] || book == nullptr) return;
    std::vector<const core::Incident*> all;
    for (const auto& inc : book->closed()) all.push_back(&inc);
    for (const auto& [id, inc] : book->open()) all.push_back(&inc);
    for (const auto& want : doc["incidents"]) {
        auto members = names(want["members"]);
        bool found = false;
        for (const auto* inc : all) {
            std::vector<std::string> have;
            for (const auto& [fp, m] : inc->members) {
                auto it = name_of.find(fp);
                have.push_back(it == name_of.end() ? core::fingerprintHex(fp) : it->second);
            }
            std::sort(have.begin(), have.end());
            if (have != members) continue;
            found = true;
            if (want["title_contains"]) {
                EXPECT_NE(inc->title.find(want["title_contains"].as<std::string>()),
                          std::string::npos)
                    << inc->title;
            }
        }
        EXPECT_TRUE(found) << "no incident holds exactly ["
                           << fmt::format("{}", fmt::join(members, ",")) << "]";
    }
}

TEST(ScenarioTest, EveryTimelineGivesItsMessages) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(ALERTBRIDGE_SCENARIOS)) {
        if (e.path().extension() == ".yml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    ASSERT_GE(files.size(), 8U);
    for (const auto& f : files) runScenario(f);
}

}  // namespace
}  // namespace alertbridge
