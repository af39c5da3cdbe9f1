// The webhook notification sink: its body is what Alertmanager's webhook receiver sends
// (our own decoder of those bodies reads it back), and its config is checked with lines.
#include "adapters/webhook/codec.hpp"
#include "adapters/webhook/signing.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "../test_util.hpp"
#include "adapters/alertmanager/codec.hpp"
#include "plugin/config/loader.hpp"
#include "plugin/pipeline/deliver.hpp"

namespace alertbridge::webhook {
namespace {

using testing::at;

core::Alert alert(const std::string& instance, const std::string& severity,
                  core::Alert::Change change) {
    core::Alert a;
    a.labels.set("alertname", "CTPFrontDown");
    a.labels.set("instance", instance);
    a.labels.set("severity", severity);
    a.labels.set("exchange", "SHFE");
    a.annotations.set("summary", "front " + instance + " is down");
    a.annotations.set("runbook_url", "https://wiki.example/ctp");
    a.starts_at = at("2026-03-10T01:00:00Z");
    a.updated_at = at("2026-03-10T01:05:00Z");
    a.generator_url = "http://prometheus:9090/graph";
    a.change = change;
    if (change == core::Alert::Change::kResolve) a.ends_at = at("2026-03-10T01:04:30Z");
    a.fingerprint = a.labels.fingerprint();
    return a;
}

config::WebhookOutput output(std::size_t max_alerts = 0, bool send_resolved = true) {
    config::WebhookOutput o;
    o.name = "oncall-bridge";
    o.max_alerts = max_alerts;
    o.send_resolved = send_resolved;
    return o;
}

TEST(WebhookEncoder, BodyIsAnAlertmanagerWebhookThatDecodesBack) {
    NotificationEncoder enc(output(), "alertbridge_origin", "ab-1", "http://alertbridge:9095");
    EXPECT_EQ(enc.kind(), pipeline::OutputKind::kNotification);
    auto firing = alert("10.0.0.1:9100", "critical", core::Alert::Change::kNew);
    auto resolved = alert("10.0.0.2:9100", "critical", core::Alert::Change::kResolve);
    std::vector<state::OutboxKey> keys;
    auto body = enc.encode({&firing, &resolved}, &keys);
    EXPECT_TRUE(keys.empty()) << "a notification is never coalesced";

    rapidjson::Document doc;
    doc.Parse(body.c_str());
    ASSERT_FALSE(doc.HasParseError()) << body;
    EXPECT_STREQ(doc["version"].GetString(), "4");
    EXPECT_STREQ(doc["status"].GetString(), "firing");
    EXPECT_STREQ(doc["receiver"].GetString(), "oncall-bridge");
    EXPECT_STREQ(doc["groupKey"].GetString(), "oncall-bridge");
    EXPECT_STREQ(doc["externalURL"].GetString(), "http://alertbridge:9095");
    EXPECT_EQ(doc["truncatedAlerts"].GetUint64(), 0u);
    // Shared by both alerts, with the marker; instance differs and is not common.
    const auto& common = doc["commonLabels"];
    EXPECT_STREQ(common["alertname"].GetString(), "CTPFrontDown");
    EXPECT_STREQ(common["alertbridge_origin"].GetString(), "ab-1");
    EXPECT_FALSE(common.HasMember("instance"));
    EXPECT_TRUE(doc["commonAnnotations"].HasMember("runbook_url"));
    EXPECT_FALSE(doc["commonAnnotations"].HasMember("summary"));
    const auto& alerts = doc["alerts"];
    ASSERT_EQ(alerts.Size(), 2u);
    EXPECT_STREQ(alerts[0]["status"].GetString(), "firing");
    EXPECT_STREQ(alerts[0]["endsAt"].GetString(), "0001-01-01T00:00:00Z");
    EXPECT_STREQ(alerts[1]["status"].GetString(), "resolved");
    EXPECT_STREQ(alerts[1]["endsAt"].GetString(), "2026-03-10T01:04:30.000Z");
    EXPECT_EQ(alerts[0]["fingerprint"].GetString(), core::fingerprintHex(firing.fingerprint));

    // Alertmanager's own webhook decoder reads it: the same labels (plus the marker), the
    // same times, the same status.
    auto back =
        alertmanager::decodeWebhook(body, at("2026-03-10T01:06:00Z"), core::LabelNames::kUtf8);
    ASSERT_TRUE(back.ok()) << back.error();
    ASSERT_EQ(back->alerts.size(), 2u);
    EXPECT_EQ(*back->alerts[0].labels.get("instance"), "10.0.0.1:9100");
    EXPECT_EQ(*back->alerts[0].labels.get("alertbridge_origin"), "ab-1");
    EXPECT_FALSE(back->alerts[0].ends_at.has_value());
    EXPECT_EQ(back->alerts[1].ends_at, at("2026-03-10T01:04:30Z"));
    EXPECT_EQ(back->alerts[0].starts_at, firing.starts_at);
}

TEST(WebhookEncoder, AllResolvedIsResolvedAndMaxAlertsTruncates) {
    NotificationEncoder enc(output(2), "alertbridge_origin", "ab-1", "");
    std::vector<core::Alert> all;
    for (int i = 0; i < 5; ++i) {
        all.push_back(alert("10.0.0." + std::to_string(i) + ":9100", "warning",
                            core::Alert::Change::kResolve));
    }
    std::vector<const core::Alert*> ptrs;
    for (const auto& a : all) ptrs.push_back(&a);
    rapidjson::Document doc;
    doc.Parse(enc.encode(ptrs).c_str());
    EXPECT_STREQ(doc["status"].GetString(), "resolved");
    EXPECT_EQ(doc["alerts"].Size(), 2u);
    EXPECT_EQ(doc["truncatedAlerts"].GetUint64(), 3u);
}

TEST(WebhookEncoder, OneRowPerNotificationAndResolvesOnlyWhenAsked) {
    auto a = alert("10.0.0.1:9100", "critical", core::Alert::Change::kNew);
    auto b = alert("10.0.0.2:9100", "critical", core::Alert::Change::kResolve);
    NotificationEncoder all(output(), "m", "v", "");
    auto rows = pipeline::encodeRows(all, {&a, &b});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].alert_count, 2);
    EXPECT_TRUE(rows[0].keys.empty());
    EXPECT_EQ(rows[0].meta.reason, "new");

    NotificationEncoder problems(output(0, false), "m", "v", "");
    rows = pipeline::encodeRows(problems, {&a, &b});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].alert_count, 1);
    EXPECT_TRUE(pipeline::encodeRows(problems, {&b}).empty());
}

TEST(WebhookConfig, LoadsAndChecksWithLines) {
    auto r = config::loadConfigFromString(R"(outputs:
  webhook:
    - name: im-bridge
      endpoint: "http://127.0.0.1:8060/dingtalk/ops/send"
      bearer_token: secret
      max_alerts: 20
      send_resolved: false
)",
                                          "test.yml");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().format();
    const auto& w = r.config->outputs.webhook.at(0);
    EXPECT_EQ(w.endpoint.path, "/dingtalk/ops/send");
    EXPECT_EQ(w.max_alerts, 20u);
    EXPECT_FALSE(w.send_resolved);
    EXPECT_EQ(w.auth.bearer_token, "secret");

    auto bad = config::loadConfigFromString(R"(outputs:
  alertmanager:
    - {name: am, endpoint: "http://127.0.0.1:9093"}
  webhook:
    - name: am
      endpoint: "ftp://x"
      resend_interval: 1m
      max_alerts: -1
      signing_secret: "not a key!"
)",
                                            "test.yml");
    std::vector<std::string> errors;
    for (const auto& e : bad.errors) errors.push_back(e.format());
    ASSERT_EQ(errors.size(), 5u) << ::testing::PrintToString(errors);
    EXPECT_NE(errors[0].find("test.yml:"), std::string::npos);
    auto has = [&](const std::string& s) {
        for (const auto& e : errors) {
            if (e.find(s) != std::string::npos) return true;
        }
        return false;
    };
    EXPECT_TRUE(has("test.yml:5: outputs.webhook[0].name: duplicate output name \"am\""));
    EXPECT_TRUE(has("test.yml:6: outputs.webhook[0].endpoint:"));
    EXPECT_TRUE(has("test.yml:7: outputs.webhook[0].resend_interval: unknown key"));
    EXPECT_TRUE(has("test.yml:8: outputs.webhook[0].max_alerts:"));
    EXPECT_TRUE(has("test.yml:9: outputs.webhook[0].signing_secret: must be whsec_ followed by"));
}

// The signing fixture of the IM reference (an incident-acknowledged event) and the Standard
// Webhooks project's own test vector.
TEST(WebhookSigning, StandardWebhooksVectors) {
    auto key = decodeSigningSecret("whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
    ASSERT_TRUE(key);
    EXPECT_EQ(key->size(), 32U);
    const std::string body =
        R"({"type":"incident.acknowledged","event_id":"inc-20261125-0007.ack.1","event_time":"2026-11-25T13:05:02Z","incident":{"id":"inc-20261125-0007","title":"[P1] CTPFrontDown SHFE ctp-frontend","severity":"critical","status":"acknowledged","source":"alertmanager","dedup_key":"CTPFrontDown/SHFE/ctp-frontend","labels":{"alertname":"CTPFrontDown","exchange":"SHFE","service":"ctp-frontend","team":"trading-infra","severity":"critical"},"alert_count":2,"started_at":"2026-11-25T13:03:12Z","acknowledged_at":"2026-11-25T13:05:02Z","resolved_at":null,"acknowledged_by":[{"id":"zhang.san","name":"张三","via":"dingtalk-link"}],"escalation":{"policy":"ctp-frontend-p1","step":1,"loop":0},"links":{"detail":"https://alertbridge.example.com/incidents/inc-20261125-0007","resolve":"https://alertbridge.example.com/a/inc-20261125-0007/resolve?t=Zk2Rw8vTq4mE6uHj"}},"actor":{"id":"zhang.san","name":"张三"}})";
    EXPECT_EQ(signRequest(*key, "msg_inc-20261125-0007_ack_1", "1795611902", body),
              "v1,9T+qBjNYDiRFTXsw/PVIfnLoyy11QG+noGFPCSDUbs0=");
    auto vector_key = decodeSigningSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    ASSERT_TRUE(vector_key);
    EXPECT_EQ(signRequest(*vector_key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                          R"({"test": 2432232314})"),
              "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    EXPECT_FALSE(decodeSigningSecret("whsec_"));
    EXPECT_FALSE(decodeSigningSecret("whsec_not base64!"));
    // One id for every attempt of a body; another body, another id.
    EXPECT_EQ(messageId("{}"), messageId("{}"));
    EXPECT_NE(messageId("{}"), messageId("[]"));
    EXPECT_EQ(messageId("{}").size(), 4U + 32U);
}

}  // namespace
}  // namespace alertbridge::webhook
