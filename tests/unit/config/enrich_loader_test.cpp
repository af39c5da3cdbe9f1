#include "plugin/config/loader.hpp"

#include <gtest/gtest.h>

namespace alertbridge::config {
namespace {

std::vector<std::string> errorsOf(const std::string& yaml) {
    auto r = loadConfigFromString(yaml, "test.yml");
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.format());
    return out;
}

TEST(EnrichConfig, TheIssueShapeLoads) {
    auto r = loadConfigFromString(R"(
enrich:
  relabel_configs:
    - source_labels: [instance]
      regex: '(.+):\d+'
      target_label: ip
    - {name: no-watchdog, source_labels: [alertname], regex: Watchdog, action: DROP}
  tables:
    - name: cmdb
      source: {file: cmdb.csv}
      key_label: ip
      key_column: ip
      match: exact
      columns: {owner: owner, team: team, app: app}
    - name: customer_whitelist
      source: {file: whitelist.csv}
      key_label: ip
      match: cidr
      set: {whitelist: "Y"}
      default: {whitelist: "N"}
    - name: remote
      source: {url: "http://cmdb.internal/api/hosts", interval: 5m, bearer_token: t0k}
      key_label: hostname
      columns: {owner: owner}
  classify:
    - matchers: ['whitelist="Y"']
      set: {alert_class: business}
    - {name: trading, matchers: ['service=~"ctp-.*"', 'alertname!="Watchdog"'], set: {alert_class: business}}
)",
                                  "/etc/alertbridge/alertbridge.yml");
    ASSERT_TRUE(r.errors.empty()) << r.errors.front().format();
    const auto& e = r.config->enrich;
    ASSERT_EQ(e.relabel_configs.size(), 2u);
    EXPECT_EQ(e.relabel_configs[0].name, "0");
    EXPECT_EQ(e.relabel_configs[0].separator, ";");
    EXPECT_EQ(e.relabel_configs[0].replacement, "$1");
    EXPECT_EQ(e.relabel_configs[0].line, 4);
    EXPECT_EQ(e.relabel_configs[1].name, "no-watchdog");
    EXPECT_EQ(e.relabel_configs[1].action, RelabelAction::kDrop);  // case-insensitive
    ASSERT_EQ(e.tables.size(), 3u);
    EXPECT_EQ(e.tables[0].source.file, "/etc/alertbridge/cmdb.csv");  // beside the config
    EXPECT_EQ(e.tables[0].columns.size(), 3u);
    EXPECT_EQ(e.tables[1].match, TableMatch::kCidr);
    EXPECT_EQ(e.tables[1].set.toString(), R"({whitelist="Y"})");
    EXPECT_EQ(e.tables[1].default_labels.toString(), R"({whitelist="N"})");
    EXPECT_EQ(e.tables[2].source.interval, std::chrono::minutes(5));
    EXPECT_EQ(e.tables[2].source.auth.bearer_token, "t0k");
    ASSERT_EQ(e.classify.size(), 2u);
    EXPECT_EQ(e.classify[1].name, "trading");
    EXPECT_EQ(e.classify[1].matchers.size(), 2u);
    EXPECT_EQ(e.classify_default.toString(), R"({alert_class="system"})");
}

TEST(EnrichConfig, RelabelMistakesAsPrometheusReportsThem) {
    auto errors = errorsOf(R"(enrich:
  relabel_configs:
    - {source_labels: [a], action: replase}
    - {source_labels: [a], regex: '(', target_label: b}
    - {source_labels: [a], action: hashmod, target_label: s}
    - {source_labels: [a], action: replace}
    - {source_labels: [a], target_label: '1bad'}
    - {source_labels: [a], target_label: b, action: keepequal, regex: x}
    - {regex: x, action: labeldrop, target_label: y}
    - {action: labelmap, regex: '(.*)', replacement: '-$1'}
    - {source_labels: [a], target_label: 'b-c', action: lowercase}
    - {action: drop, regex: x}
    - {source_labels: ['bad-name'], target_label: x}
    - {source_labels: [a], target_label: x, target_lable: y}
    - {source_labels: [a], target_label: x, inputs: [nightingale], email_rules: [smartx]}
)");
    std::vector<std::string> want = {
        "test.yml:3: enrich.relabel_configs[0].action: unknown action \"replase\" (did you mean "
        "replace?)",
        "test.yml:4: enrich.relabel_configs[1].regex: invalid regex \"(\": missing ): (",
        "test.yml:5: enrich.relabel_configs[2].modulus: hashmod needs a modulus above zero",
        "test.yml:6: enrich.relabel_configs[3].target_label: the replace action needs "
        "target_label",
        "test.yml:7: enrich.relabel_configs[4].target_label: \"1bad\" is not a valid target_label "
        "for replace (a label name, which may use $1 or ${name})",
        "test.yml:8: enrich.relabel_configs[5].regex: the keepequal action takes only "
        "source_labels and target_label",
        "test.yml:9: enrich.relabel_configs[6].target_label: the labeldrop action takes only regex",
        "test.yml:10: enrich.relabel_configs[7].replacement: \"-$1\" is not a valid replacement "
        "for labelmap",
        "test.yml:11: enrich.relabel_configs[8].target_label: \"b-c\" is not a valid label name "
        "for lowercase",
        "test.yml:12: enrich.relabel_configs[9].source_labels: the drop action needs source_labels "
        "(without them it compares the empty string)",
        "test.yml:13: enrich.relabel_configs[10].source_labels: \"bad-name\" is not a valid label "
        "name",
        "test.yml:14: enrich.relabel_configs[11].target_lable: unknown key \"target_lable\" (did "
        "you mean \"target_label\"?)",
        "test.yml:15: enrich.relabel_configs[12].email_rules: email_rules applies only to the "
        "email input, which inputs leaves out",
    };
    EXPECT_EQ(errors, want);
}

TEST(EnrichConfig, TableAndClassifyMistakes) {
    auto errors = errorsOf(R"(enrich:
  tables:
    - {name: cmdb, key_label: ip, columns: {owner: owner}}
    - {name: cmdb, source: {file: a.csv, interval: 5m}, key_label: ip, set: {x: "1"}}
    - {name: w, source: {file: a.csv, url: "http://x/"}, key_label: ip, set: {x: "1"}}
    - {name: v, source: {url: "ftp://x/"}, key_label: ip, match: prefix, set: {x: "1"}}
    - {name: u, source: {file: a.csv}, key_label: ip}
    - {name: 't t', source: {file: a.csv}, key_label: 'i p', columns: {owner: 'own er'}, set: {'a-b': "1"}}
  classify:
    - {matchers: ['whitelist=="Y"'], set: {alert_class: business}}
    - {matchers: ['a="b"']}
)");
    std::vector<std::string> want = {
        "test.yml:3: enrich.tables[0].source: is required ({file: PATH} or {url: URL})",
        "test.yml:4: enrich.tables[1].name: duplicate table name \"cmdb\"",
        "test.yml:4: enrich.tables[1].source.interval: applies to url sources only",
        "test.yml:5: enrich.tables[2].source: give exactly one of file and url",
        "test.yml:6: enrich.tables[3].source.url: the URL scheme must be http or https",
        "test.yml:6: enrich.tables[3].match: must be exact or cidr, got \"prefix\"",
        "test.yml:7: enrich.tables[4]: the table sets nothing: give columns, set or default",
        "test.yml:8: enrich.tables[5].name: use letters, digits, '_' and '-'",
        "test.yml:8: enrich.tables[5].key_label: is not a valid label name",
        "test.yml:8: enrich.tables[5].columns.owner: expected a valid label name for the column",
        "test.yml:8: enrich.tables[5].set.a-b: is not a valid label name "
        "([a-zA-Z_][a-zA-Z0-9_]*)",
        "test.yml:10: enrich.classify[0].matchers: line 10: stray quote in value \"=\"Y\"\"",
        "test.yml:11: enrich.classify[1].set: give at least one label to set",
    };
    EXPECT_EQ(errors, want);
}

}  // namespace
}  // namespace alertbridge::config
