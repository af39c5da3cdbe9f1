#include "plugin/config/loader.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace alertbridge::config {
namespace {

std::vector<std::string> errorsOf(const std::string& yaml) {
    auto r = loadConfigFromString(yaml, "test.yml");
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.format());
    return out;
}

TEST(ConfigLoader, MinimalConfigLoadsWithDefaults) {
    auto r = loadConfigFromString(R"(
global: {instance: ab-1, data_dir: ./d, timezone: Asia/Shanghai, marker_label: alertbridge_origin}
listen: {http: "127.0.0.1:0"}
outputs:
  alertmanager:
    - {name: am, endpoint: "http://127.0.0.1:9093", resend_interval: 1m}
)",
                                  "test.yml");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().format();
    const auto& c = *r.config;
    EXPECT_EQ(c.global.instance, "ab-1");
    EXPECT_EQ(c.listen.http.port, 0);
    ASSERT_EQ(c.outputs.alertmanager.size(), 1u);
    EXPECT_EQ(c.outputs.alertmanager[0].endpoint.port, 9093);
    EXPECT_EQ(c.outputs.alertmanager[0].resend_interval, std::chrono::minutes(1));
    EXPECT_EQ(c.outputs.alertmanager[0].max_alerts_per_push, 1000u);
    EXPECT_EQ(c.global.resolve_timeout, std::chrono::minutes(5));
    EXPECT_TRUE(c.storage.synchronous_full);
}

TEST(ConfigLoader, EveryErrorAtOnceWithFileLineAndPath) {
    auto errors = errorsOf(R"(global:
  instnce: ab-1
  timezone: Mars/Olympus
  marker_label: bad-label
listen:
  http: "127.0.0.1"
outputs:
  alertmanager:
    - name: am
      endpoint: "ftp://127.0.0.1:9093"
      resend_interval: 1 minute
    - name: am
      endpoint: "http://127.0.0.1:9094"
      timeout: 1ms
)");
    std::vector<std::string> want = {
        "test.yml:2: global.instnce: unknown key \"instnce\" (did you mean \"instance\"?)",
        "test.yml:3: global.timezone: unknown time zone \"Mars/Olympus\" (use an IANA name "
        "such as Asia/Shanghai)",
        "test.yml:4: global.marker_label: \"bad-label\" is not a valid label name "
        "([a-zA-Z_][a-zA-Z0-9_]*)",
        "test.yml:6: listen.http: expected host:port",
        "test.yml:10: outputs.alertmanager[0].endpoint: the URL scheme must be http or https",
        "test.yml:11: outputs.alertmanager[0].resend_interval: not a valid duration string: "
        "\"1 minute\" (units: ms, s, m, h, d, w, y)",
        "test.yml:12: outputs.alertmanager[1].name: duplicate output name \"am\"",
        "test.yml:14: outputs.alertmanager[1].timeout: must be at least 100ms",
    };
    EXPECT_EQ(errors, want);
}

TEST(ConfigLoader, UnknownTopLevelKeyGetsHint) {
    EXPECT_EQ(errorsOf("global: {instance: x}\noutput:\n  alertmanager: []\n"),
              std::vector<std::string>{
                  "test.yml:2: output: unknown key \"output\" (did you mean \"outputs\"?)"});
    EXPECT_EQ(errorsOf("zzzzzz: 1\n"),
              std::vector<std::string>{"test.yml:1: zzzzzz: unknown key \"zzzzzz\""});
}

TEST(ConfigLoader, YamlSyntaxErrorHasLine) {
    auto errors = errorsOf("global:\n  instance: [unclosed\n");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].rfind("test.yml:", 0), 0u);
}

TEST(ConfigLoader, WrongShapes) {
    EXPECT_EQ(errorsOf("global: [1, 2]\n"),
              std::vector<std::string>{"test.yml:1: global: expected a mapping of keys to values"});
    EXPECT_EQ(errorsOf("outputs:\n  alertmanager: {name: am}\n"),
              std::vector<std::string>{"test.yml:2: outputs.alertmanager: expected a list"});
    EXPECT_EQ(errorsOf("outputs:\n  alertmanager:\n    - {endpoint: \"http://x:1\"}\n"),
              std::vector<std::string>{"test.yml:3: outputs.alertmanager[0].name: is required"});
    EXPECT_EQ(errorsOf("intake: {queue_capacity: lots}\n"),
              std::vector<std::string>{"test.yml:1: intake.queue_capacity: must be a whole "
                                       "number from 1 to 100000000, got \"lots\""});
    EXPECT_EQ(errorsOf("storage: {synchronous: sometimes}\n"),
              std::vector<std::string>{
                  "test.yml:1: storage.synchronous: must be full or normal, got \"sometimes\""});
}

TEST(ConfigLoader, AuthRules) {
    EXPECT_EQ(errorsOf("http_auth:\n  basic_auth: {username: u}\n"),
              std::vector<std::string>{
                  "test.yml:2: http_auth.basic_auth.password: is required (or password_file)"});
    EXPECT_EQ(errorsOf("http_auth:\n  basic_auth: {username: u, password: p}\n  bearer_token: t\n"),
              std::vector<std::string>{
                  "test.yml:2: http_auth: set basic_auth or a bearer token, not both"});
    auto missing = errorsOf("http_auth:\n  bearer_token_file: /nonexistent/token\n");
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_EQ(missing[0],
              "test.yml:2: http_auth.bearer_token_file: cannot read \"/nonexistent/token\"");
}

TEST(ConfigLoader, PasswordFileIsRelativeToTheConfigFile) {
    auto dir = std::filesystem::temp_directory_path() / "alertbridge-loader-test";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "pw") << "s3cret\n";
    std::ofstream(dir / "c.yml") << "http_auth:\n  basic_auth: {username: u, password_file: pw}\n";
    auto r = loadConfig((dir / "c.yml").string());
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().format();
    EXPECT_EQ(r.config->http_auth.basic_auth->password, "s3cret");
    std::filesystem::remove_all(dir);
}

TEST(ConfigLoader, WebhookSigningSecretFromAFile) {
    auto dir = std::filesystem::temp_directory_path() / "alertbridge-loader-signing";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "good.key") << "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n";
    std::ofstream(dir / "bad.key") << "not a key\n";
    auto with = [&](const std::string& entry) {
        std::ofstream(dir / "c.yml") << "outputs:\n  webhook:\n    - {name: w, endpoint: "
                                        "\"http://127.0.0.1:9/h\", "
                                     << entry << "}\n";
        return loadConfig((dir / "c.yml").string());
    };
    auto r = with("signing_secret_file: good.key");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().format();
    EXPECT_EQ(r.config->outputs.webhook[0].signing_secret,
              "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
    r = with("signing_secret_file: bad.key");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_NE(r.errors[0].format().find(
                  "c.yml:3: outputs.webhook[0].signing_secret_file: the file's key must be whsec_"),
              std::string::npos)
        << r.errors[0].format();
    r = with(
        "signing_secret_file: good.key, signing_secret: "
        "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_NE(r.errors[0].format().find("not both"), std::string::npos);
    r = with("signing_secret_file: missing.key");
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_NE(r.errors[0].format().find("cannot read"), std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST(ConfigLoader, MissingFile) {
    auto r = loadConfig("/nonexistent/alertbridge.yml");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].format(), "/nonexistent/alertbridge.yml:0: (root): cannot open the file");
}

TEST(ConfigLoader, StorageKeys) {
    auto r = loadConfigFromString(
        "storage: {synchronous: normal, journal_retention: 2h, outbox_retention: 1d, "
        "cache_mib: 16, checkpoint_interval: 10s}\n",
        "test.yml");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().format();
    const auto& s = r.config->storage;
    EXPECT_FALSE(s.synchronous_full);
    EXPECT_EQ(s.journal_retention, std::chrono::hours(2));
    EXPECT_EQ(s.outbox_retention, std::chrono::hours(24));
    EXPECT_EQ(s.cache_mib, 16u);
    EXPECT_EQ(s.checkpoint_interval, std::chrono::seconds(10));
}

TEST(ConfigLoader, NightingaleOutput) {
    auto r = loadConfigFromString(R"(outputs:
  nightingale:
    - name: n9e
      endpoint: "http://127.0.0.1:17000"
      basic_auth: {username: alertbridge, password: pw}
      version: v8
      rule_id: 9001
      notify_rule_ids: [3, 4]
      group_id: 7
)",
                                  "test.yml");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().format();
    const auto& n = r.config->outputs.nightingale.at(0);
    EXPECT_EQ(n.version, 8);
    EXPECT_EQ(n.rule_id, 9001);
    EXPECT_EQ(n.notify_rule_ids, (std::vector<long long>{3, 4}));
    EXPECT_EQ(n.group_id, 7);
    EXPECT_EQ(n.auth.basic_auth->username, "alertbridge");
}

TEST(ConfigLoader, NightingaleMistakes) {
    EXPECT_EQ(errorsOf(R"(outputs:
  alertmanager:
    - {name: main, endpoint: "http://127.0.0.1:9093"}
  nightingale:
    - name: main
      endpoint: "http://127.0.0.1:17000"
      version: v8
      rule_id: 9001
      notify_channels: [wecom]
    - name: old
      endpoint: "http://127.0.0.1:17001"
      version: v7
      notify_rule_ids: [x]
    - name: typo
      endpoint: "http://127.0.0.1:17002"
      version: 8
      rule_id: 1
      notify_rule_id: [3]
)"),
              (std::vector<std::string>{
                  "test.yml:5: outputs.nightingale[0].name: duplicate output name \"main\"",
                  "test.yml:9: outputs.nightingale[0].notify_channels: is for n9e v6/v7; with "
                  "v8+ it notifies a second time beside notify_rule_ids. Use notify_rule_ids",
                  "test.yml:10: outputs.nightingale[1].rule_id: is required: the id of a "
                  "dedicated, enabled placeholder rule",
                  "test.yml:13: outputs.nightingale[1].notify_rule_ids[0]: expected a notify "
                  "rule id (a whole number)",
                  "test.yml:13: outputs.nightingale[1].notify_rule_ids: notify rules exist from "
                  "n9e v8 on; use notify_channels and notify_groups with v6/v7",
                  "test.yml:18: outputs.nightingale[2].notify_rule_id: unknown key "
                  "\"notify_rule_id\" (did you mean \"notify_rule_ids\"?)",
                  "test.yml:16: outputs.nightingale[2].version: must be v6, v7, v8 or v9, got "
                  "\"8\"",
              }));
}

TEST(ConfigLoader, EmailSection) {
    auto r = loadConfigFromString(R"(listen: {http: "127.0.0.1:0", smtp: "127.0.0.1:2525"}
email:
  limits: {max_message_bytes: 1048576, max_recipients: 5, max_connections: 20, command_timeout: 1m}
  accept_recipients: ["@alerts.example", "noc@example.com"]
  generic: {resolve_timeout: 2h}
)",
                                  "test.yml");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().format();
    const auto& c = *r.config;
    EXPECT_EQ(c.listen.smtp->port, 2525);
    EXPECT_EQ(c.email.max_message_bytes, 1048576u);
    EXPECT_EQ(c.email.accept_recipients.size(), 2u);
    EXPECT_EQ(c.email.generic_resolve_timeout, std::chrono::hours(2));
    EXPECT_EQ(errorsOf("email:\n  accept_recipients: [ops]\n  limitz: {}\n"),
              (std::vector<std::string>{
                  "test.yml:3: email.limitz: unknown key \"limitz\" (did you mean \"limits\"?)",
                  "test.yml:2: email.accept_recipients[0]: expected an address "
                  "(ops@example.com) or a domain (@example.com)"}));
}

TEST(ConfigLoader, EmailIntakeSecurityAndImap) {
    auto errors = errorsOf(R"(email:
  allowed_clients: ["10.1.2.3/8", "intranet"]
  auth:
    users: [{username: appliance}]
  imap:
    - {name: a, endpoint: "pop3://mail", username: u, password: p, after: archive}
    - {name: a, endpoint: "imaps://mail:993", username: u, password: p, poll_interval: 1ms}
  tls: {cert_file: missing.pem}
)");
    EXPECT_EQ(errors,
              (std::vector<std::string>{
                  "test.yml:8: email.tls.cert_file: cannot read \"missing.pem\"",
                  "test.yml:8: email.tls.key_file: is required",
                  "test.yml:4: email.auth.users[0].password: is required (or password_file)",
                  "test.yml:6: email.imap[0].endpoint: expected imap://host[:port] or "
                  "imaps://host[:port]",
                  "test.yml:6: email.imap[0].after: expected mark_seen or move:<folder>",
                  "test.yml:7: email.imap[1].name: duplicate mailbox name \"a\"",
                  "test.yml:7: email.imap[1].poll_interval: must be at least 1s",
                  "test.yml:2: email.allowed_clients[0]: host bits are set; did you mean "
                  "10.0.0.0/8?",
                  "test.yml:2: email.allowed_clients[1]: not an IP address or CIDR prefix "
                  "(10.0.0.0/8, 2001:db8::/32)",
              }));
    EXPECT_EQ(errorsOf("email:\n  auth: {users: [{username: a, password: b}]}\n"),
              (std::vector<std::string>{"test.yml:2: email.auth: AUTH is offered only over TLS: "
                                        "set email.tls (cert_file, key_file)"}));
}

TEST(ConfigLoader, DidYouMean) {
    EXPECT_EQ(didYouMean("resend_intervall", {"resend_interval", "timeout"}), "resend_interval");
    EXPECT_EQ(didYouMean("qqqq", {"resend_interval", "timeout"}), "");
}

}  // namespace
}  // namespace alertbridge::config
