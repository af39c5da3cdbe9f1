// Relabel rules, action by action, against the behaviour Prometheus documents for each
// (relabel_config in the Prometheus configuration reference) and its edge cases.

#include "plugin/pipeline/enrich/relabel.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include "plugin/config/loader.hpp"

namespace alertbridge::pipeline {
namespace {

using config::RelabelAction;

struct Case {
    const char* name;
    // The rule as YAML (one item of enrich.relabel_configs), so the loader's defaults apply.
    const char* rule;
    core::LabelSet in;
    // nullopt: the alert is dropped.
    std::optional<core::LabelSet> out;
    RuleResult result = RuleResult::kApplied;
    const char* input = "alertmanager_api";
};

Relabeler compile(const std::string& rule_yaml) {
    std::string yaml = "enrich:\n  relabel_configs:\n    - " + rule_yaml + "\n";
    auto r = config::loadConfigFromString(yaml, "relabel.yml");
    if (!r.config) {
        std::string all;
        for (const auto& e : r.errors) all += e.format() + "\n";
        throw std::runtime_error(all);
    }
    return Relabeler::compile(r.config->enrich.relabel_configs).value();
}

class RelabelCases : public ::testing::TestWithParam<Case> {};

TEST_P(RelabelCases, BehavesAsPrometheus) {
    const Case& c = GetParam();
    Relabeler r = compile(c.rule);
    core::LabelSet labels = c.in;
    RuleResult got = r.applyOne(0, labels, c.input);
    if (!c.out) {
        EXPECT_EQ(got, RuleResult::kDropped) << c.name;
        return;
    }
    EXPECT_EQ(got, c.result) << c.name;
    EXPECT_EQ(labels.toString(), c.out->toString()) << c.name;
}

const core::LabelSet kNode{
    {"alertname", "NodeDown"}, {"instance", "10.8.1.21:9100"}, {"job", "node"}, {"env", "prod"}};

INSTANTIATE_TEST_SUITE_P(
    Actions, RelabelCases,
    ::testing::Values(
        // replace
        Case{"replace takes the IP out of instance",
             R"({source_labels: [instance], regex: '(.+):\d+', target_label: ip})", kNode,
             core::LabelSet{{"alertname", "NodeDown"},
                            {"env", "prod"},
                            {"instance", "10.8.1.21:9100"},
                            {"ip", "10.8.1.21"},
                            {"job", "node"}}},
        Case{"replace: defaults copy the whole value ($1 of (.*))",
             "{source_labels: [job], target_label: service}", kNode,
             core::LabelSet{{"alertname", "NodeDown"},
                            {"env", "prod"},
                            {"instance", "10.8.1.21:9100"},
                            {"job", "node"},
                            {"service", "node"}}},
        Case{"replace joins source labels with the separator",
             "{source_labels: [env, job], separator: '/', target_label: key}", kNode,
             core::LabelSet{{"alertname", "NodeDown"},
                            {"env", "prod"},
                            {"instance", "10.8.1.21:9100"},
                            {"job", "node"},
                            {"key", "prod/node"}}},
        Case{"replace: the regex is anchored, so a partial match does nothing",
             "{source_labels: [job], regex: 'nod', target_label: x, replacement: hit}", kNode,
             kNode},
        Case{"replace: no match, no change",
             "{source_labels: [job], regex: 'mysql', target_label: job, replacement: db}", kNode,
             kNode},
        Case{
            "replace: ${name} from a named group and literal text",
            R"({source_labels: [instance], regex: '(?P<host>[^:]+):(?P<port>\d+)', target_label: endpoint, replacement: 'host=${host} port=${port}'})",
            kNode,
            core::LabelSet{{"alertname", "NodeDown"},
                           {"endpoint", "host=10.8.1.21 port=9100"},
                           {"env", "prod"},
                           {"instance", "10.8.1.21:9100"},
                           {"job", "node"}}},
        Case{"replace: $1x names group '1x' (Go's rule), which expands to nothing",
             R"({source_labels: [job], regex: '(.*)', target_label: x, replacement: '$1x-${1}y'})",
             kNode,
             core::LabelSet{{"alertname", "NodeDown"},
                            {"env", "prod"},
                            {"instance", "10.8.1.21:9100"},
                            {"job", "node"},
                            {"x", "-nodey"}}},
        Case{"replace: $$ is a literal dollar",
             R"({source_labels: [job], target_label: x, replacement: 'cost$$1'})", kNode,
             core::LabelSet{{"alertname", "NodeDown"},
                            {"env", "prod"},
                            {"instance", "10.8.1.21:9100"},
                            {"job", "node"},
                            {"x", "cost$1"}}},
        Case{"replace with an empty result deletes the target",
             "{source_labels: [job], regex: 'node', target_label: env, replacement: ''}", kNode,
             core::LabelSet{
                 {"alertname", "NodeDown"}, {"instance", "10.8.1.21:9100"}, {"job", "node"}}},
        Case{"replace: an empty source label still matches (.*), giving an empty value",
             "{source_labels: [missing], target_label: env}", kNode,
             core::LabelSet{
                 {"alertname", "NodeDown"}, {"instance", "10.8.1.21:9100"}, {"job", "node"}}},
        Case{
            "replace: a target expanded from the value",
            R"({source_labels: [job], regex: '(.*)', target_label: 'team_${1}', replacement: 'yes'})",
            kNode,
            core::LabelSet{{"alertname", "NodeDown"},
                           {"env", "prod"},
                           {"instance", "10.8.1.21:9100"},
                           {"job", "node"},
                           {"team_node", "yes"}}},
        Case{"replace: a target that expands to an invalid name is skipped and counted",
             R"({source_labels: [instance], regex: '(.*)', target_label: '${1}', replacement: x})",
             kNode, kNode, RuleResult::kInvalidLabel},
        // keep / drop
        Case{"keep: a matching alert stays", "{source_labels: [env], regex: prod, action: keep}",
             kNode, kNode},
        Case{"keep: a non-matching alert is dropped",
             "{source_labels: [env], regex: staging, action: keep}", kNode, std::nullopt},
        Case{"keep: an absent label is the empty string",
             "{source_labels: [missing], regex: '.+', action: keep}", kNode, std::nullopt},
        Case{"drop: a matching alert is dropped",
             "{source_labels: [alertname], regex: 'Node.*', action: drop}", kNode, std::nullopt},
        Case{"drop: anchored, so a substring does not drop",
             "{source_labels: [alertname], regex: 'Node', action: drop}", kNode, kNode},
        Case{"drop: empty matches an absent label",
             "{source_labels: [missing], regex: '', action: drop}", kNode, std::nullopt},
        // keepequal / dropequal
        Case{"keepequal keeps when the target equals the joined sources",
             "{source_labels: [job], target_label: service, action: keepequal}",
             core::LabelSet{{"job", "ctp"}, {"service", "ctp"}},
             core::LabelSet{{"job", "ctp"}, {"service", "ctp"}}},
        Case{"keepequal drops when they differ",
             "{source_labels: [job], target_label: service, action: keepequal}",
             core::LabelSet{{"job", "ctp"}, {"service", "md"}}, std::nullopt},
        Case{"dropequal drops when equal",
             "{source_labels: [job], target_label: service, action: dropequal}",
             core::LabelSet{{"job", "ctp"}, {"service", "ctp"}}, std::nullopt},
        Case{"dropequal keeps when they differ",
             "{source_labels: [job], target_label: service, action: dropequal}",
             core::LabelSet{{"job", "ctp"}, {"service", "md"}},
             core::LabelSet{{"job", "ctp"}, {"service", "md"}}},
        // hashmod: md5 of the value, last 8 bytes big-endian, modulo
        Case{"hashmod of 10.8.1.21:9100 modulo 8",
             "{source_labels: [instance], modulus: 8, target_label: shard, action: hashmod}",
             core::LabelSet{{"instance", "10.8.1.21:9100"}},
             core::LabelSet{{"instance", "10.8.1.21:9100"}, {"shard", "2"}}},
        Case{"hashmod of baz modulo 1000 is 976, as in Prometheus's own tests",
             "{source_labels: [c], modulus: 1000, target_label: d, action: hashmod}",
             core::LabelSet{{"c", "baz"}}, core::LabelSet{{"c", "baz"}, {"d", "976"}}},
        Case{"hashmod of the empty string modulo 1000",
             "{source_labels: [missing], modulus: 1000, target_label: shard, action: hashmod}",
             core::LabelSet{{"a", "b"}}, core::LabelSet{{"a", "b"}, {"shard", "958"}}},
        // labelmap
        Case{"labelmap copies matching names under the replacement",
             R"({regex: '__meta_cmdb_(.+)', action: labelmap})",
             core::LabelSet{{"__meta_cmdb_owner", "li.na"}, {"job", "node"}},
             core::LabelSet{{"__meta_cmdb_owner", "li.na"}, {"job", "node"}, {"owner", "li.na"}}},
        Case{"labelmap with a replacement that yields an invalid name skips that label",
             R"({regex: '(job)', replacement: '${2}', action: labelmap})",
             core::LabelSet{{"job", "node"}}, core::LabelSet{{"job", "node"}},
             RuleResult::kInvalidLabel},
        // labeldrop / labelkeep
        Case{"labeldrop removes matching names", "{regex: 'env|job', action: labeldrop}", kNode,
             core::LabelSet{{"alertname", "NodeDown"}, {"instance", "10.8.1.21:9100"}}},
        Case{"labelkeep keeps only matching names",
             "{regex: 'alertname|instance', action: labelkeep}", kNode,
             core::LabelSet{{"alertname", "NodeDown"}, {"instance", "10.8.1.21:9100"}}},
        Case{"labelkeep that keeps nothing drops the alert (no labels left)",
             "{regex: 'nothing', action: labelkeep}", kNode, std::nullopt},
        // lowercase / uppercase
        Case{"lowercase writes the lower-cased value to the target",
             "{source_labels: [host], target_label: host, action: lowercase}",
             core::LabelSet{{"host", "DB-Primary-01"}}, core::LabelSet{{"host", "db-primary-01"}}},
        Case{"uppercase of two joined labels",
             "{source_labels: [env, job], target_label: tag, action: uppercase}", kNode,
             core::LabelSet{{"alertname", "NodeDown"},
                            {"env", "prod"},
                            {"instance", "10.8.1.21:9100"},
                            {"job", "node"},
                            {"tag", "PROD;NODE"}}},
        Case{"lowercase of an empty value deletes the target",
             "{source_labels: [missing], target_label: job, action: lowercase}", kNode,
             core::LabelSet{
                 {"alertname", "NodeDown"}, {"env", "prod"}, {"instance", "10.8.1.21:9100"}}},
        // scoping
        Case{"a rule for other inputs does nothing",
             "{source_labels: [env], regex: prod, action: drop, inputs: [nightingale]}", kNode,
             kNode, RuleResult::kOutOfScope},
        Case{"a rule for this input applies",
             "{source_labels: [env], regex: prod, action: drop, inputs: [nightingale]}", kNode,
             std::nullopt, RuleResult::kApplied, "nightingale"},
        Case{"a rule for one email pack skips another pack's alerts",
             "{target_label: team, replacement: dba, email_rules: [tdsql]}",
             core::LabelSet{{"email_rule", "smartx"}}, core::LabelSet{{"email_rule", "smartx"}},
             RuleResult::kOutOfScope, "email"},
        Case{"a rule for one email pack applies to its alerts",
             "{target_label: team, replacement: dba, email_rules: [tdsql]}",
             core::LabelSet{{"email_rule", "tdsql"}},
             core::LabelSet{{"email_rule", "tdsql"}, {"team", "dba"}}, RuleResult::kApplied,
             "email"}),
    [](const ::testing::TestParamInfo<Case>& info) { return "case" + std::to_string(info.index); });

TEST(ExpandTemplate, FollowsGoRegexpExpand) {
    re2::RE2 re("^(?:(?P<a>x)(y)?)$");
    std::vector<std::string_view> groups{"x", "x", std::string_view()};
    EXPECT_EQ(expandTemplate("$1", re, groups), "x");
    EXPECT_EQ(expandTemplate("${a}-$a", re, groups), "x-x");
    EXPECT_EQ(expandTemplate("[$2]", re, groups), "[]");     // did not take part
    EXPECT_EQ(expandTemplate("[$9]", re, groups), "[]");     // no such group
    EXPECT_EQ(expandTemplate("[$nope]", re, groups), "[]");  // no such name
    EXPECT_EQ(expandTemplate("$", re, groups), "$");         // malformed: literal
    EXPECT_EQ(expandTemplate("${a", re, groups), "${a");     // unclosed brace: literal
    EXPECT_EQ(expandTemplate("a$-b", re, groups), "a$-b");   // no name: literal
    EXPECT_EQ(expandTemplate("$01", re, groups), "");        // leading zero: a name, not 1
}

}  // namespace
}  // namespace alertbridge::pipeline
