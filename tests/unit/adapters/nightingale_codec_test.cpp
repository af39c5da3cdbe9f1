#include "adapters/nightingale/codec.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "../test_util.hpp"
#include "plugin/config/loader.hpp"
#include "plugin/pipeline/normalize.hpp"

namespace alertbridge::nightingale {
namespace {

using testing::at;
using testing::fixture;

const core::TimePoint kReceived = at("2026-03-10T02:00:00Z");

// The strict view: the alerts, or the first rejected event's message as the error.
core::Result<core::AlertBatch> decodeStrict(const std::string& body) {
    auto r = decodeEvents(body, kReceived);
    if (!r) return core::Error{r.error()};
    if (!r->rejected.empty()) return core::Error{r->rejected.front()};
    return std::move(r->alerts);
}

core::AlertBatch decodeFixture(const std::string& name) {
    auto r = decodeStrict(fixture("nightingale/" + name));
    EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error());
    return r.ok() ? std::move(r).value() : core::AlertBatch{};
}

std::string render(const core::AlertBatch& batch) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    w.StartArray();
    for (const auto& a : batch) {
        w.StartObject();
        w.Key("identity");
        w.String(a.identity);
        for (auto [name, set] : {std::pair{"labels", &a.labels}, {"annotations", &a.annotations}}) {
            w.Key(name);
            w.StartObject();
            for (const auto& [k, v] : *set) {
                w.Key(k);
                w.String(v);
            }
            w.EndObject();
        }
        w.Key("startsAt");
        w.String(core::formatRfc3339(a.starts_at));
        w.Key("endsAt");
        if (a.ends_at) {
            w.String(core::formatRfc3339(*a.ends_at));
        } else {
            w.Null();
        }
        w.EndObject();
    }
    w.EndArray();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

class EventGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(EventGolden, DecodesToGolden) {
    testing::expectGolden(std::string("nightingale/") + GetParam(),
                          render(decodeFixture(GetParam())));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, EventGolden,
                         ::testing::Values("webhook-event-firing.json",
                                           "webhook-event-recovered.json",
                                           "webhook-event-firing-v6.json",
                                           "callback-channel-body-firing.json"));

core::Fingerprint normalizedFingerprint(core::Alert a) {
    config::NormalizeConfig cfg;
    core::AlertBatch batch{std::move(a)};
    state::StateDelta delta;
    pipeline::Context ctx{kReceived, delta};
    pipeline::Normalize(cfg).run(batch, ctx);
    return batch[0].fingerprint;
}

TEST(EventDecode, FiringAndRecoveryAreOneAlert) {
    auto firing = decodeFixture("webhook-event-firing.json");
    auto recovered = decodeFixture("webhook-event-recovered.json");
    ASSERT_EQ(firing.size(), 1u);
    ASSERT_EQ(recovered.size(), 1u);
    EXPECT_FALSE(firing[0].ends_at.has_value());
    ASSERT_TRUE(recovered[0].ends_at.has_value());
    EXPECT_EQ(normalizedFingerprint(firing[0]), normalizedFingerprint(recovered[0]));
    // The array form (v8+ Callback channel) is the same event.
    auto array = decodeFixture("callback-channel-body-firing.json");
    ASSERT_EQ(array.size(), 1u);
    EXPECT_EQ(normalizedFingerprint(array[0]), normalizedFingerprint(firing[0]));
}

TEST(EventDecode, MapsTheDocumentedFields) {
    auto a = decodeFixture("webhook-event-firing.json").at(0);
    EXPECT_EQ(*a.labels.get("severity"), "critical");
    EXPECT_EQ(*a.labels.get("rulename"), "CTP front order RTT p99 high");
    EXPECT_EQ(*a.labels.get("rule_id"), "213");
    EXPECT_EQ(*a.labels.get("cluster"), "vm-prod-sh");
    EXPECT_EQ(*a.labels.get("ident"), "trade-gw-01");
    EXPECT_EQ(*a.annotations.get("value"), "87.31 ms");
    EXPECT_EQ(a.starts_at, core::TimePoint(std::chrono::seconds(1773105135)));
}

TEST(EventDecode, TagsWhenThereIsNoMap) {
    auto r = decodeStrict(
        R"({"hash":"h1","rule_id":5,"severity":3,"tags":["a.b=1","9x=2","empty=","k=v=w"],
            "trigger_time":1773105000,"is_recovered":false})");
    ASSERT_TRUE(r.ok()) << r.error();
    const auto& l = (*r)[0].labels;
    EXPECT_EQ(*l.get("a_b"), "1");
    EXPECT_EQ(*l.get("_9x"), "2");
    EXPECT_EQ(l.get("empty"), nullptr);
    EXPECT_EQ(*l.get("k"), "v=w");
    EXPECT_EQ(*l.get("severity"), "info");
    EXPECT_EQ((*r)[0].identity, "n9e:h1");
}

TEST(EventDecode, RejectsWithFieldAndIndex) {
    auto check = [](const std::string& body, const char* want) {
        auto r = decodeStrict(body);
        ASSERT_FALSE(r.ok()) << body;
        EXPECT_EQ(r.error(), want);
    };
    check("7", "body: expected an n9e event object or an array of them");
    check(R"({"rule_id":1,"severity":1})", "event.hash: is required (the event's identity)");
    check(R"({"hash":"h","rule_id":1,"severity":4})", "event.severity: must be 1, 2 or 3, got 4");
    check(R"([{"hash":"h","rule_id":1,"severity":1},{"hash":"h","rule_id":"x","severity":1}])",
          "[1].rule_id: expected a whole number");
    check(R"({"hash":"h","rule_id":1,"severity":1,"tags":["novalue"]})",
          "event.tags[0]: expected a \"k=v\" string");
    check(R"({"hash":"h","rule_id":1,"severity":1,"is_recovered":"yes"})",
          "event.is_recovered: expected true or false");
    check(R"({"hash":"h","rule_id":1,"severity":1,"trigger_time":70000000000})",
          "event.trigger_time: 70000000000 is out of range (Unix seconds from 1970 to 2199)");
    check(R"({"hash":"h","rule_id":1,"severity":1,"first_trigger_time":-5})",
          "event.first_trigger_time: -5 is out of range (Unix seconds from 1970 to 2199)");
}

TEST(EventDecode, OneBadEventOfABatchCostsOnlyItself) {
    auto r = decodeEvents(
        R"([{"hash":"h1","rule_id":1,"severity":1},{"hash":"h2","rule_id":1,"severity":9},)"
        R"({"hash":"h3","rule_id":1,"severity":2,"last_eval_time":99999999999999}])",
        kReceived);
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->alerts.size(), 1u);
    EXPECT_EQ(r->alerts[0].identity, "n9e:h1");
    ASSERT_EQ(r->rejected.size(), 2u);
    EXPECT_EQ(r->rejected[0], "[1].severity: must be 1, 2 or 3, got 9");
    EXPECT_EQ(r->rejected[1],
              "[2].last_eval_time: 99999999999999 is out of range (Unix seconds from 1970 to "
              "2199)");
}

// Found by the fuzzer: a body that repeats a private key kept the second copy.
TEST(EventScrub, RemovesEveryCopyOfARepeatedKey) {
    auto scrubbed =
        scrubBody(R"({"hash":"h","rule_id":1,"severity":1,"callbacks":["http://x/?token=a"],)"
                  R"("callbacks":["http://x/?token=b"],"notify_users_obj":[{"phone":"1"}],)"
                  R"("notify_users_obj":[{"phone":"2"}]})");
    ASSERT_TRUE(scrubbed.ok());
    EXPECT_EQ(scrubbed->find("token"), std::string::npos) << *scrubbed;
    EXPECT_EQ(scrubbed->find("phone"), std::string::npos) << *scrubbed;
}

// Found by the fuzzer: scrubbing must not reorder what is left, or a repeated field the
// decoder reads first would change between intake and replay.
TEST(EventScrub, KeepsTheOrderOfWhatIsLeft) {
    const std::string raw =
        R"({"hash":"h","rule_id":1,"severity":1,"notify_users_obj":[],"trigger_time":1773105150,)"
        R"("x":1,"trigger_time":false})";
    auto scrubbed = scrubBody(raw);
    ASSERT_TRUE(scrubbed.ok());
    EXPECT_EQ(*scrubbed, R"({"hash":"h","rule_id":1,"severity":1,"trigger_time":1773105150,"x":1,)"
                         R"("trigger_time":false})");
    auto a = decodeStrict(raw);
    auto b = decodeStrict(*scrubbed);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(render(*a), render(*b));
}

TEST(EventScrub, RemovesContactsAndTokens) {
    std::string raw = fixture("nightingale/webhook-event-firing-v6.json");
    ASSERT_NE(raw.find("13800000012"), std::string::npos) << "the fixture carries a phone";
    auto scrubbed = scrubBody(raw);
    ASSERT_TRUE(scrubbed.ok());
    for (const char* secret : {"13800000012", "wecom_robot_token", "notify_users_obj",
                               "notify_groups_obj", "@example-futures.cn"}) {
        EXPECT_EQ(scrubbed->find(secret), std::string::npos) << secret;
    }
    // What is journaled still decodes to the same alert.
    auto a = decodeStrict(raw);
    auto b = decodeStrict(*scrubbed);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(render(*a), render(*b));
}

TEST(EventTemplate, EscapesGoTemplates) {
    EXPECT_EQ(escapeTemplate("value {{ $value }} ok"), "value {{\"{{\"}} $value }} ok");
    EXPECT_EQ(escapeTemplate("no braces { }"), "no braces { }");
    EXPECT_EQ(eventHash("ab-1", 42).size(), 32u);
    EXPECT_EQ(eventHash("ab-1", 42), eventHash("ab-1", 42));
    EXPECT_NE(eventHash("ab-1", 42), eventHash("ab-2", 42));
}

// The push body has every key of the fixture, with the same JSON type, and the values
// alertbridge controls are right.
class EventPushBody : public ::testing::Test {
  protected:
    static rapidjson::Document parse(const std::string& s) {
        rapidjson::Document d;
        d.Parse(s.c_str());
        EXPECT_FALSE(d.HasParseError()) << s;
        return d;
    }
    static void expectShape(const rapidjson::Document& want, const rapidjson::Document& got,
                            const std::set<std::string>& ignore) {
        for (auto it = want.MemberBegin(); it != want.MemberEnd(); ++it) {
            std::string k = it->name.GetString();
            if (ignore.count(k)) continue;
            ASSERT_TRUE(got.HasMember(k.c_str())) << "missing key " << k;
            EXPECT_EQ(got[k.c_str()].GetType(), it->value.GetType()) << "type of " << k;
        }
        for (auto it = got.MemberBegin(); it != got.MemberEnd(); ++it) {
            std::string k = it->name.GetString();
            EXPECT_TRUE(want.HasMember(k.c_str()) || k == "status") << "extra key " << k;
        }
    }
    core::Alert alert() {
        core::Alert a;
        a.labels = core::LabelSet{{"alertname", "CTPFrontRTT {{ bad }}"},
                                  {"ident", "trade-gw-01"},
                                  {"service", "ctp-frontend"},
                                  {"severity", "critical"},
                                  {"alertbridge_origin", "someone"}};
        a.annotations = core::LabelSet{{"summary", "RTT high"}, {"value", "87 ms"}};
        a.starts_at = core::TimePoint(std::chrono::seconds(1773105150));
        a.updated_at = core::TimePoint(std::chrono::seconds(1773105160));
        a.severity = core::Severity::kCritical;
        a.fingerprint = 0x1234;
        return a;
    }
    config::NightingaleOutput cfg(int version) {
        config::NightingaleOutput c;
        c.name = "n9e";
        c.version = version;
        c.rule_id = 301;
        c.group_id = 7;
        c.group_name = "trading-infra";
        c.notify_rule_ids = {5};
        c.notify_channels = {"wecom", "email"};
        c.notify_groups = {"4"};
        return c;
    }
};

TEST_F(EventPushBody, V8FiringMatchesTheFixture) {
    auto c = cfg(8);
    EventEncoder enc(c, "alertbridge_origin", "ab-1");
    auto a = alert();
    auto got = parse(enc.encode({&a}));
    expectShape(parse(fixture("nightingale/event-push-request.json")), got, {});
    EXPECT_EQ(got["rule_id"].GetInt(), 301);
    EXPECT_EQ(got["datasource_id"].GetInt(), 0);
    EXPECT_EQ(got["callbacks"].Size(), 0u);
    EXPECT_EQ(got["notify_recovered"].GetInt(), 1);
    EXPECT_EQ(got["severity"].GetInt(), 1);
    EXPECT_FALSE(got["is_recovered"].GetBool());
    EXPECT_EQ(got["trigger_time"].GetInt64(), 1773105150);
    EXPECT_FALSE(got.HasMember("notify_channels")) << "v8 would notify twice";
    EXPECT_STREQ(got["rule_name"].GetString(), "CTPFrontRTT {{\"{{\"}} bad }}");
    std::set<std::string> tags;
    for (const auto& t : got["tags"].GetArray()) tags.insert(t.GetString());
    EXPECT_TRUE(tags.count("alertbridge_origin=ab-1")) << "our marker, not a forged one";
    EXPECT_FALSE(tags.count("alertbridge_origin=someone"));
    EXPECT_TRUE(tags.count("service=ctp-frontend"));
}

TEST_F(EventPushBody, RecoveryKeepsHashAndTriggerTime) {
    auto c = cfg(8);
    EventEncoder enc(c, "alertbridge_origin", "ab-1");
    auto firing = alert();
    auto recovered = alert();
    recovered.ends_at = core::TimePoint(std::chrono::seconds(1773105690));
    recovered.updated_at = core::TimePoint(std::chrono::seconds(1773105700));
    auto f = parse(enc.encode({&firing}));
    auto r = parse(enc.encode({&recovered}));
    expectShape(parse(fixture("nightingale/event-push-recovery-request.json")), r, {});
    EXPECT_STREQ(r["hash"].GetString(), f["hash"].GetString());
    EXPECT_TRUE(r["is_recovered"].GetBool());
    EXPECT_EQ(r["notify_recovered"].GetInt(), 1);
    EXPECT_EQ(r["trigger_time"].GetInt64(), f["trigger_time"].GetInt64());
    EXPECT_EQ(r["last_eval_time"].GetInt64(), 1773105690);
}

TEST_F(EventPushBody, V6V7UsesChannelsAndGroupsOnly) {
    auto c = cfg(7);
    EventEncoder enc(c, "alertbridge_origin", "ab-1");
    auto a = alert();
    auto got = parse(enc.encode({&a}));
    // rule_hash is copied from a real event of the rule (v7.6-7.7 only); we cannot know it.
    expectShape(parse(fixture("nightingale/event-push-request-v6v7.json")), got, {"rule_hash"});
    EXPECT_FALSE(got.HasMember("notify_rule_ids"));
    EXPECT_EQ(got["notify_channels"].Size(), 2u);
    EXPECT_STREQ(got["notify_groups"][0].GetString(), "4");
}

}  // namespace
}  // namespace alertbridge::nightingale
