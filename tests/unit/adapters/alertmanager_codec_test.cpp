#include "adapters/alertmanager/codec.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include <cstdlib>
#include <fstream>

#include "../test_util.hpp"

namespace alertbridge::alertmanager {
namespace {

using testing::at;
using testing::fixture;

const core::TimePoint kReceived = at("2026-11-25T00:20:00Z");

// The decoded batch as stable, reviewable JSON.
std::string render(const core::AlertBatch& batch) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    w.StartArray();
    for (const auto& a : batch) {
        w.StartObject();
        w.Key("fingerprint");
        w.String(core::fingerprintHex(a.labels.fingerprint()));
        w.Key("labels");
        w.StartObject();
        for (const auto& [k, v] : a.labels) {
            w.Key(k);
            w.String(v);
        }
        w.EndObject();
        w.Key("annotations");
        w.StartObject();
        for (const auto& [k, v] : a.annotations) {
            w.Key(k);
            w.String(v);
        }
        w.EndObject();
        w.Key("startsAt");
        w.String(core::formatRfc3339(a.starts_at));
        w.Key("endsAt");
        if (a.ends_at) {
            w.String(core::formatRfc3339(*a.ends_at));
        } else {
            w.Null();
        }
        w.Key("generatorURL");
        w.String(a.generator_url);
        w.Key("input");
        w.String(a.origin.input);
        w.EndObject();
    }
    w.EndArray();
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

// The strict view older tests were written against: the batch, or the first rejected
// alert's message as the error.
core::Result<core::AlertBatch> strict(core::Result<core::Decoded> r) {
    if (!r) return core::Error{r.error()};
    if (!r->rejected.empty()) return core::Error{r->rejected.front()};
    return std::move(r->alerts);
}
core::Result<core::AlertBatch> webhook(const std::string& body) {
    return strict(decodeWebhook(body, kReceived, core::LabelNames::kLegacy));
}
core::Result<core::AlertBatch> api(const std::string& body) {
    return strict(
        decodeApiV2(body, kReceived, {std::chrono::minutes(5), core::LabelNames::kLegacy}));
}

class WebhookGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(WebhookGolden, DecodesToGolden) {
    std::string name = GetParam();
    auto body = fixture("alertmanager/" + name);
    auto batch = webhook(body);
    ASSERT_TRUE(batch.ok()) << batch.error();
    // Every alert keeps Alertmanager's fingerprint.
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    ASSERT_EQ(batch->size(), doc["alerts"].Size());
    for (std::size_t i = 0; i < batch->size(); ++i) {
        EXPECT_EQ(core::fingerprintHex((*batch)[i].labels.fingerprint()),
                  doc["alerts"][static_cast<rapidjson::SizeType>(i)]["fingerprint"].GetString());
    }
    testing::expectGolden("alertmanager/" + name, render(*batch));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, WebhookGolden,
                         ::testing::Values("webhook-firing.json", "webhook-partial-resolved.json",
                                           "webhook-resolved.json",
                                           "webhook-resolved-all-at-once.json",
                                           "webhook-groupby-all.json",
                                           "webhook-max-alerts-truncated.json",
                                           "webhook-sidecar-origin.json"));

class ApiGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(ApiGolden, DecodesToGolden) {
    std::string name = GetParam();
    auto batch = api(fixture("alertmanager/" + name));
    ASSERT_TRUE(batch.ok()) << batch.error();
    testing::expectGolden("alertmanager/" + name, render(*batch));
}

// The GET answer is a superset of the postable alert: the decoder must take it too.
INSTANTIATE_TEST_SUITE_P(Fixtures, ApiGolden,
                         ::testing::Values("api-v2-post-alerts.json",
                                           "api-v2-post-alerts-resolve.json",
                                           "api-v2-get-alerts.json"));

TEST(WebhookDecode, EveryCapturedRequestBody) {
    std::ifstream in(std::string(ALERTBRIDGE_FIXTURES) + "/alertmanager/raw-capture.jsonl");
    std::string line;
    int decoded = 0;
    while (std::getline(in, line)) {
        rapidjson::Document rec;
        rec.Parse(line.c_str());
        ASSERT_FALSE(rec.HasParseError());
        std::string body = rec["body"].GetString();
        auto batch = webhook(body);
        ASSERT_TRUE(batch.ok()) << rec["path"].GetString() << ": " << batch.error();
        rapidjson::Document doc;
        doc.Parse(body.c_str());
        EXPECT_EQ(batch->size(), doc["alerts"].Size());
        ++decoded;
    }
    EXPECT_EQ(decoded, 9);
}

TEST(WebhookDecode, FiringHasNoEndAndResolvedHasItsEnd) {
    auto batch = webhook(fixture("alertmanager/webhook-partial-resolved.json"));
    ASSERT_TRUE(batch.ok());
    int resolved = 0;
    for (const auto& a : *batch) {
        if (a.ends_at) {
            ++resolved;
            EXPECT_LE(*a.ends_at, kReceived);
        }
    }
    EXPECT_EQ(resolved, 1);
}

struct BadCase {
    const char* body;
    const char* error;
};

TEST(WebhookDecode, RejectsWithFieldAndIndex) {
    const std::string ok_alert =
        R"({"status":"firing","labels":{"a":"b"},"startsAt":"2026-11-25T00:00:00Z","endsAt":"0001-01-01T00:00:00Z"})";
    for (auto c : std::initializer_list<BadCase>{
             {"{", "body is not valid JSON: Missing a name for object member. at byte 1"},
             {"[]", "body: expected a webhook JSON object"},
             {R"({"alerts":[]})", "version: is required and must be the string \"4\""},
             {R"({"version":"3","alerts":[]})",
              "version: unsupported webhook version \"3\" (expected \"4\")"},
             {R"({"version":"4"})", "alerts: is required and must be an array"},
             {R"({"version":"4","receiver":7,"alerts":[]})", "receiver: expected a string"},
         }) {
        auto r = webhook(c.body);
        ASSERT_FALSE(r.ok()) << c.body;
        EXPECT_EQ(r.error(), c.error);
    }
    auto bad = [&](const std::string& second, const char* want) {
        auto r = webhook(R"({"version":"4","alerts":[)" + ok_alert + "," + second + "]}");
        ASSERT_FALSE(r.ok()) << second;
        EXPECT_EQ(r.error(), want);
    };
    bad(R"({"status":"firing","startsAt":"2026-11-25T00:00:00Z"})",
        "alerts[1].labels: is required");
    bad(R"({"status":"burning","labels":{"a":"b"},"startsAt":"2026-11-25T00:00:00Z"})",
        "alerts[1].status: must be \"firing\" or \"resolved\", got \"burning\"");
    bad(R"({"status":"firing","labels":{"a":"b"},"startsAt":"yesterday"})",
        "alerts[1].startsAt: not an RFC 3339 timestamp");
    bad(R"({"status":"resolved","labels":{"a":"b"},"startsAt":"2026-11-25T00:00:00Z","endsAt":"0001-01-01T00:00:00Z"})",
        "alerts[1].endsAt: a resolved alert needs its end");
    bad(R"({"status":"firing","labels":{"bad-label":"x"},"startsAt":"2026-11-25T00:00:00Z"})",
        "alerts[1].labels: invalid label name \"bad-label\"");
    bad(R"({"status":"firing","labels":{"a":1},"startsAt":"2026-11-25T00:00:00Z"})",
        "alerts[1].labels.a: expected a string value");
    bad(R"({"status":"firing","labels":{"a":""},"startsAt":"2026-11-25T00:00:00Z"})",
        "alerts[1].labels: at least one label pair with a non-empty value is required");
    bad(R"({"status":"firing","labels":{"a":"b"},"annotations":[],"startsAt":"2026-11-25T00:00:00Z"})",
        "alerts[1].annotations: expected an object of strings");
    bad(R"("text")", "alerts[1]: expected an alert object");
}

TEST(ApiDecode, AlertmanagerDefaultsForMissingTimes) {
    auto r = api(R"([{"labels":{"a":"1"}},{"labels":{"a":"2"},"endsAt":"2026-11-25T00:30:00Z"},
                             {"labels":{"a":"3","empty":""},"startsAt":"2026-11-25T00:10:00Z"}])");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ((*r)[0].starts_at, kReceived);
    EXPECT_EQ(*(*r)[0].ends_at, kReceived + std::chrono::minutes(5));
    EXPECT_EQ((*r)[1].starts_at, at("2026-11-25T00:30:00Z")) << "start = end, as Alertmanager";
    EXPECT_EQ((*r)[2].labels.size(), 1u) << "empty label values are dropped";
    EXPECT_EQ((*r)[2].origin.kind, core::SourceKind::kAlertmanagerApi);
}

TEST(ApiDecode, RejectsWithIndex) {
    auto check = [](const std::string& body, const char* want) {
        auto r = api(body);
        ASSERT_FALSE(r.ok()) << body;
        EXPECT_EQ(r.error(), want);
    };
    check(R"({"labels":{}})", "body: expected a JSON array of alerts");
    check(R"([{"labels":{"a":"1"}},{"labels":{}}])",
          "[1].labels: at least one label pair with a non-empty value is required");
    check(
        R"([{"labels":{"a":"1"},"startsAt":"2026-11-25T00:10:00Z","endsAt":"2026-11-25T00:00:00Z"}])",
        "[0].endsAt: is before startsAt");
    check(R"([{"labels":{"a":"1"},"generatorURL":5}])", "[0].generatorURL: expected a string");
    check(R"([{"labels":{"a":"1"},"endsAt":12}])", "[0].endsAt: expected an RFC 3339 string");
}

TEST(PushEncoder, ExactBodyWithMarkerInLabelOrder) {
    core::Alert a;
    a.labels = core::LabelSet{{"alertname", "X"}, {"zone", "z"}};
    a.annotations = core::LabelSet{{"summary", "s \"q\""}};
    a.starts_at = at("2026-11-25T00:00:00.123Z");
    a.updated_at = at("2026-11-25T00:05:00Z");
    a.generator_url = "http://p/g";
    core::Alert r = a;
    r.labels.set("alertbridge_origin", "someone-else");  // ours overrides a forged one
    r.ends_at = at("2026-11-25T00:04:00Z");
    PushEncoder enc("am", "alertbridge_origin", "ab-1", 100);
    EXPECT_EQ(enc.encode({&a, &r}),
              R"([{"labels":{"alertbridge_origin":"ab-1","alertname":"X","zone":"z"},)"
              R"("annotations":{"summary":"s \"q\""},"startsAt":"2026-11-25T00:00:00.123Z",)"
              R"("endsAt":"9999-12-31T23:59:59.999Z","generatorURL":"http://p/g"},)"
              R"({"labels":{"alertbridge_origin":"ab-1","alertname":"X","zone":"z"},)"
              R"("annotations":{"summary":"s \"q\""},"startsAt":"2026-11-25T00:00:00.123Z",)"
              R"("endsAt":"2026-11-25T00:04:00.000Z","generatorURL":"http://p/g"}])");
}

// Each element is keyed by the labels it is shown under, and its span is the element
// alone: a backlog rebuilds a push from spans, and a relabelled alert's resolve of its old
// labels is an element of its own that a newer state under the new labels does not replace.
TEST(PushEncoder, KeysNameEachElementAndItsBytes) {
    core::Alert a;
    a.labels = core::LabelSet{{"alertname", "A"}, {"instance", "h1"}};
    a.starts_at = at("2026-11-25T00:00:00Z");
    a.updated_at = at("2026-11-25T00:05:00Z");
    core::Alert b = a;
    b.labels = core::LabelSet{{"alertname", "B"}, {"instance", "h2"}};
    b.superseded_labels = core::LabelSet{{"alertname", "B"}, {"instance", "old"}};
    PushEncoder enc("am", "alertbridge_origin", "ab-1", 100);
    std::vector<state::OutboxKey> keys;
    std::string body = enc.encode({&a, &b}, &keys);
    EXPECT_EQ(body, enc.encode({&a, &b})) << "the keys do not change the body";
    ASSERT_EQ(keys.size(), 3u);
    EXPECT_EQ(keys[0].key, a.labels.fingerprint());
    EXPECT_EQ(keys[1].key, b.superseded_labels->fingerprint());
    EXPECT_EQ(keys[2].key, b.labels.fingerprint());
    EXPECT_EQ(keys[0].begin, 1u);
    EXPECT_EQ(keys[2].end, body.size() - 1);
    std::vector<std::string> instances;
    for (const auto& k : keys) {
        auto one = "[" + body.substr(k.begin, k.end - k.begin) + "]";
        stampEndsAt(one, at("2026-11-25T01:00:00Z"));
        auto back = decodeApiV2(one, kReceived, {});
        ASSERT_TRUE(back.ok()) << one;
        ASSERT_EQ(back->alerts.size(), 1u) << one;
        instances.push_back(*back->alerts[0].labels.get("instance"));
    }
    EXPECT_EQ(instances, (std::vector<std::string>{"h1", "old", "h2"}));
}

// Found by the fuzzer: the placeholder text as a label name or value (even under a label
// named endsAt) is the user's data and must not be stamped.
TEST(PushEncoder, StampLeavesThePlaceholderTextInLabelsAlone) {
    core::Alert a;
    a.labels = core::LabelSet{{"9999-12-31T23:59:59.999Zalertname", "x"},
                              {"endsAt", "9999-12-31T23:59:59.999Z"},
                              {"note", "9999-12-31T23:59:59.999Z"}};
    a.annotations = core::LabelSet{{"endsAt", "9999-12-31T23:59:59.999Z"}};
    a.starts_at = at("2026-11-25T00:00:00Z");
    a.updated_at = at("2026-11-25T00:05:00Z");
    PushEncoder enc("am", "alertbridge_origin", "ab-1", 100, true);
    std::string body = enc.encode({&a, &a});
    stampEndsAt(body, at("2026-11-25T01:02:03.456Z"));
    auto back = decodeApiV2(body, kReceived, {});
    ASSERT_TRUE(back.ok()) << back.error();
    ASSERT_EQ(back->alerts.size(), 2u);
    for (const auto& b : back->alerts) {
        EXPECT_EQ(*b.labels.get("endsAt"), "9999-12-31T23:59:59.999Z");
        EXPECT_EQ(*b.labels.get("note"), "9999-12-31T23:59:59.999Z");
        EXPECT_NE(b.labels.get("9999-12-31T23:59:59.999Zalertname"), nullptr);
        EXPECT_EQ(*b.annotations.get("endsAt"), "9999-12-31T23:59:59.999Z");
        EXPECT_EQ(*b.ends_at, at("2026-11-25T01:02:03.456Z")) << "the alert's own endsAt is";
    }
}

// Found by the fuzzer: a start a sender's clock put after the end Alertmanager is given
// would make it refuse the whole push. It is shown as no later than the alert's receipt.
TEST(PushEncoder, AStartInTheFutureIsShownAsTheReceipt) {
    core::Alert a;
    a.labels = core::LabelSet{{"alertname", "Early"}};
    a.starts_at = at("2028-11-25T00:00:00Z");
    a.updated_at = at("2026-11-25T00:05:00Z");
    PushEncoder enc("am", "alertbridge_origin", "ab-1", 100);
    std::string body = enc.encode({&a});
    EXPECT_NE(body.find(R"("startsAt":"2026-11-25T00:05:00.000Z")"), std::string::npos) << body;
    stampEndsAt(body, at("2026-11-25T00:09:00Z"));
    auto back = decodeApiV2(body, kReceived, {});
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(back->rejected.empty()) << back->rejected.front();
}

TEST(PushEncoder, StampReplacesOnlyPlaceholders) {
    std::string body =
        R"([{"startsAt":"2026-11-25T00:00:00.000Z","endsAt":"9999-12-31T23:59:59.999Z"},)"
        R"({"startsAt":"2026-11-25T00:00:00.000Z","endsAt":"2026-11-25T00:04:00.000Z"},)"
        R"({"startsAt":"2026-11-25T00:00:00.000Z","endsAt":"9999-12-31T23:59:59.999Z"}])";
    stampEndsAt(body, at("2026-11-25T01:02:03.456Z"));
    EXPECT_EQ(body,
              R"([{"startsAt":"2026-11-25T00:00:00.000Z","endsAt":"2026-11-25T01:02:03.456Z"},)"
              R"({"startsAt":"2026-11-25T00:00:00.000Z","endsAt":"2026-11-25T00:04:00.000Z"},)"
              R"({"startsAt":"2026-11-25T00:00:00.000Z","endsAt":"2026-11-25T01:02:03.456Z"}])");
}

// One bad alert costs only itself: the others of the body are kept, and each rejected one
// is named by its index and field.
TEST(WebhookDecode, OneBadAlertDoesNotLoseTheGroup) {
    const std::string body =
        R"({"version":"4","alerts":[)"
        R"({"status":"firing","labels":{"alertname":"A","http.status":"500"},"startsAt":"2026-11-25T00:00:00Z"},)"
        R"({"status":"firing","labels":{"alertname":"B"},"startsAt":"4052-11-25T00:16:15.895Z"},)"
        R"({"status":"firing","labels":{"alertname":"C"},"startsAt":"2026-11-25T00:00:00Z"}]})";
    auto legacy = decodeWebhook(body, kReceived, core::LabelNames::kLegacy);
    ASSERT_TRUE(legacy.ok()) << legacy.error();
    ASSERT_EQ(legacy->alerts.size(), 1u);
    EXPECT_EQ(*legacy->alerts[0].labels.get("alertname"), "C");
    ASSERT_EQ(legacy->rejected.size(), 2u);
    EXPECT_EQ(legacy->rejected[0], "alerts[0].labels: invalid label name \"http.status\"");
    EXPECT_EQ(legacy->rejected[1], "alerts[1].startsAt: year 4052 is out of range (1970 to 2199)");
    // Alertmanager 0.27+ and Prometheus 3 take UTF-8 label names.
    auto utf8 = decodeWebhook(body, kReceived, core::LabelNames::kUtf8);
    ASSERT_TRUE(utf8.ok());
    ASSERT_EQ(utf8->alerts.size(), 2u);
    EXPECT_EQ(*utf8->alerts[0].labels.get("http.status"), "500");
    EXPECT_EQ(utf8->rejected.size(), 1u);
}

TEST(ApiDecode, KeepsTheValidAlertsOfABatchAndRangeChecksTimes) {
    const std::string body =
        std::string(R"([{"labels":{"a":"1"},"startsAt":"4052-11-25T00:16:15.895Z"},)"
                    R"({"labels":{"a":"2"},"endsAt":"1714-09-08T00:00:00Z"},)"
                    R"({"labels":{"a":"3","\u00e9t\u00e9":"x"}},)"
                    R"({"labels":{"a":"4","bad":")") +
        '\xff' + R"("}},{"labels":{"a":"5"},"endsAt":"0001-01-01T00:00:00Z"}])";
    auto r = decodeApiV2(body, kReceived, {std::chrono::minutes(5), core::LabelNames::kUtf8});
    ASSERT_TRUE(r.ok()) << r.error();
    ASSERT_EQ(r->rejected.size(), 3u);
    EXPECT_EQ(r->rejected[0], "[0].startsAt: year 4052 is out of range (1970 to 2199)");
    EXPECT_EQ(r->rejected[1], "[1].endsAt: year 1714 is out of range (1970 to 2199)");
    EXPECT_EQ(r->rejected[2], "[3].labels.bad: the value is not valid UTF-8");
    ASSERT_EQ(r->alerts.size(), 2u);
    EXPECT_EQ(*r->alerts[0].labels.get("a"), "3");
    EXPECT_EQ(*r->alerts[1].labels.get("a"), "5");
    EXPECT_EQ(*r->alerts[1].ends_at, kReceived + std::chrono::minutes(5))
        << "Go's zero time is \"no end\", as Alertmanager reads it";
}

TEST(PushEncoder, AnAlertWithUtf8NamesIsRefusedUnlessTheOutputTakesThem) {
    core::Alert a;
    a.labels = core::LabelSet{{"alertname", "X"}, {"http.status", "500"}};
    PushEncoder old_am("am", "alertbridge_origin", "ab-1", 100);
    EXPECT_EQ(old_am.refuses(a),
              "label name \"http.status\" needs utf8_label_names (Alertmanager 0.27 or later)");
    PushEncoder new_am("am", "alertbridge_origin", "ab-1", 100, /*utf8_label_names=*/true);
    EXPECT_EQ(new_am.refuses(a), "");
    core::Alert plain;
    plain.labels = core::LabelSet{{"alertname", "X"}};
    EXPECT_EQ(old_am.refuses(plain), "");
}

}  // namespace
}  // namespace alertbridge::alertmanager
