// The rule-pack compiler's errors (each with file:line) and the engine's behaviour on
// messages the fixtures do not cover.

#include "adapters/email/rule_pack.hpp"

#include <gtest/gtest.h>

#include "../test_util.hpp"
#include "adapters/email/html_text.hpp"
#include "plugin/app/setup.hpp"

namespace alertbridge::email {
namespace {

const char* kMinimal = R"(name: ups
match: {subject: '^UPS '}
extract:
  - {in: subject, regex: '^UPS (?P<state>on battery|on mains)'}
  - {regex: '(?m)^Unit: (?P<unit>\S+)', optional: true}
severity: {from: '{{state}}', map: {on battery: critical, on mains: info}}
status: {from: '{{state}}', resolved: [on mains]}
labels: {alertname: UpsPower, resource: '{{unit}}'}
identity: [source, alertname, resource]
summary: 'UPS {{unit}} {{state}}'
)";

std::vector<std::string> errorsOf(const std::string& yaml) {
    std::vector<config::ConfigError> errors;
    checkPack(RuleSource{"ups.yml", yaml}, errors);
    std::vector<std::string> out;
    for (const auto& e : errors) out.push_back(e.format());
    return out;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return text.replace(at, from.size(), to);
}

TEST(RulePackCompile, TheMinimalPackIsValid) {
    EXPECT_EQ(errorsOf(kMinimal), std::vector<std::string>{});
}

TEST(RulePackCompile, EveryMistakeIsReportedAtItsLine) {
    struct Case {
        std::string from, to, want;
    };
    for (const auto& c : std::vector<Case>{
             {"match: {subject: '^UPS '}", "match: {subject: '^UPS ('}",
              "ups.yml:2: match.subject: invalid regular expression: missing ): ^UPS ("},
             {"match: {subject: '^UPS '}", "match: {sbject: '^UPS '}",
              "ups.yml:2: match.sbject: unknown key \"sbject\" (did you mean \"subject\"?)"},
             {"summary: 'UPS {{unit}} {{state}}'", "summary: 'UPS {{unti}}'",
              "ups.yml:10: summary: unknown field \"unti\" (did you mean \"unit\"?)"},
             {"summary: 'UPS {{unit}} {{state}}'", "summary: 'UPS {{#unit}}'",
              "ups.yml:10: summary: invalid template: Unclosed section \"unit\" at 4"},
             {"map: {on battery: critical, on mains: info}", "map: {on battery: fatal}",
              "ups.yml:6: severity.map.on battery: expected critical, warning or info"},
             {"identity: [source, alertname, resource]", "identity: [source, host]",
              "ups.yml:9: identity[1]: \"host\" is not a label of this pack (source or one of "
              "labels)"},
             {"labels: {alertname: UpsPower,", "labels: {severity: high, alertname: UpsPower,",
              "ups.yml:8: labels.severity: is set by the rule engine (use the pack's severity, "
              "name or source)"},
             {"  - {regex: '(?m)^Unit: (?P<unit>\\S+)', optional: true}",
              "  - {regex: '(?m)^Unit: \\S+'}",
              "ups.yml:5: extract[1].regex: captures nothing: name the parts to keep, as in "
              "(?P<host>\\S+)"},
             {"  - {in: subject,", "  - {in: unit,",
              "ups.yml:4: extract[0].in: \"unit\" is neither subject, from, body nor a field "
              "captured by an earlier extract"},
             {"name: ups", "name: ups pack",
              "ups.yml:1: name: use letters, digits and _ (it becomes a label value)"},
             {"status: {from: '{{state}}', resolved: [on mains]}", "status: {from: '{{state}}'}",
              "ups.yml:7: status: set resolved: the words in `from` that close the alert (the "
              "common words are tried after them)"},
             {"summary: 'UPS {{unit}} {{state}}'", "summary: [a, b]",
              "ups.yml:10: summary: expected a template such as \"{{host}}\""},
         }) {
        auto errors = errorsOf(replaced(kMinimal, c.from, c.to));
        ASSERT_FALSE(errors.empty()) << c.to;
        EXPECT_EQ(errors.front(), c.want) << c.to;
    }
    EXPECT_EQ(errorsOf("name: [unclosed\n"),
              (std::vector<std::string>{"ups.yml:2: (root): end of sequence flow not found"}));
    EXPECT_EQ(errorsOf("- a\n- b\n"),
              (std::vector<std::string>{"ups.yml:1: (root): a rule pack is a mapping (name, "
                                        "match, extract, labels, ...)"}));
}

std::shared_ptr<const RuleSet> only(const std::string& yaml) {
    std::vector<config::ConfigError> errors;
    auto set = RuleSet::compile({RuleSource{"ups.yml", yaml}}, {}, {}, RuleOptions{}, errors);
    EXPECT_TRUE(errors.empty()) << errors.front().format();
    return set;
}

MailText mail(std::string subject, std::string body) {
    MailText m;
    m.subject = std::move(subject);
    m.body = std::move(body);
    return m;
}

TEST(RulePackApply, FieldsTemplatesAndStatus) {
    auto set = only(kMinimal);
    auto now = testing::at("2024-07-24T00:00:00Z");
    auto r = set->apply(mail("UPS on battery", "Unit: ups-a1\n"), "", now);
    EXPECT_EQ(r.rule, "ups");
    EXPECT_EQ(*r.alert.labels.get("resource"), "ups-a1");
    EXPECT_EQ(*r.alert.annotations.get("summary"), "UPS ups-a1 on battery");
    EXPECT_EQ(r.alert.severity, core::Severity::kCritical);
    EXPECT_FALSE(r.alert.ends_at.has_value()) << "firing, no resolve_timeout";
    EXPECT_EQ(r.alert.starts_at, now) << "no time field and no Date header: received";

    auto back = set->apply(mail("UPS on mains", "Unit: ups-a1\n"), "", now);
    ASSERT_TRUE(back.alert.ends_at.has_value());
    EXPECT_EQ(back.alert.identity_labels, r.alert.identity_labels);
    // An optional field that is missing leaves its label out; the template renders empty.
    auto bare = set->apply(mail("UPS on battery", "no unit line"), "", now);
    EXPECT_FALSE(bare.alert.labels.contains("resource"));
    EXPECT_EQ(*bare.alert.annotations.get("summary"), "UPS  on battery");
}

// A pack that asks for its fields by key finds them in any layout, says where each came
// from, narrows a value with its regex, and declines without a required one.
TEST(RulePackApply, FieldsByKeyInAnyLayout) {
    auto pack =
        replaced(kMinimal, "  - {regex: '(?m)^Unit: (?P<unit>\\S+)', optional: true}\n", "");
    pack = replaced(pack, "extract:", R"(fields:
  unit: {keys: [Unit, 设备, UPS Name], required: true}
  load: {keys: [Load, 负载], regex: '(\d+)%'}
extract:)");
    auto set = only(pack);
    auto now = testing::at("2024-07-24T00:00:00Z");
    for (const char* body : {"Unit: ups-a1\nLoad: 41% of 10 kVA\n", "设备：ups-a1\n负载=41%\n",
                             "【UPS Name】ups-a1\n"}) {
        SCOPED_TRACE(body);
        MailText m = mail("UPS on battery", body);
        addTextPairs(m.body, m.pairs);
        auto r = set->apply(m, "", now);
        ASSERT_EQ(r.rule, "ups");
        EXPECT_EQ(*r.alert.labels.get("resource"), "ups-a1");
        ASSERT_FALSE(r.fields.empty());
        EXPECT_EQ(r.fields[0].field, "unit");
        EXPECT_NE(r.fields[0].from.find("line 1"), std::string::npos) << r.fields[0].from;
        for (const auto& f : r.fields) {
            if (f.field == "load") EXPECT_EQ(f.value, "41") << "narrowed by its regex";
        }
    }
    MailText html = mail("UPS on battery", "");
    (void)readHtml("<table><tr><th>UPS Name</th><td>ups-b2</td></tr></table>", &html.pairs);
    auto r = set->apply(html, "", now);
    EXPECT_EQ(*r.alert.labels.get("resource"), "ups-b2");
    EXPECT_NE(r.fields[0].from.find("th/td"), std::string::npos) << r.fields[0].from;
    auto none = set->apply(mail("UPS on battery", "nothing labelled"), "", now);
    EXPECT_EQ(none.rule, "generic");
    EXPECT_EQ(none.misses[0].reason, "matched, but has no unit field (keys: Unit, 设备, UPS Name)");
    EXPECT_EQ(errorsOf(replaced(pack, "[Unit, 设备, UPS Name]", "[]")).front(),
              "ups.yml:4: fields.unit: expected the list of keys this field is written under, "
              "such as [Host, 主机, 主机名]");
    EXPECT_EQ(errorsOf(replaced(pack, "regex: '(\\d+)%'", "regex: '(\\d+'")).front(),
              "ups.yml:5: fields.load.regex: invalid regular expression: missing ): (\\d+");
}

// The status from words: a field's value that holds a word, else the subject.
TEST(RulePackApply, StatusWordsWithinTextsAndSubjects) {
    auto pack = replaced(kMinimal, "status: {from: '{{state}}', resolved: [on mains]}",
                         "status: {resolved: [on mains]}");
    auto set = only(pack);
    auto now = testing::at("2024-07-24T00:00:00Z");
    EXPECT_FALSE(set->apply(mail("UPS on battery", "Unit: a\n"), "", now).alert.ends_at);
    EXPECT_TRUE(set->apply(mail("UPS on battery [RESOLVED]", "Unit: a\n"), "", now).alert.ends_at);
    EXPECT_FALSE(
        set->apply(mail("UPS on battery, not resolved", "Unit: a\n"), "", now).alert.ends_at);
}

// `topic` is the subject without its status words: one name for a problem and its recovery.
TEST(RulePackApply, TopicNamesAProblemAndItsRecoveryAlike) {
    auto pack =
        replaced(kMinimal, "labels: {alertname: UpsPower,", "labels: {alertname: '{{topic}}',");
    pack = replaced(pack, "match: {subject: '^UPS '}", "match: {subject: 'UPS '}");
    auto set = only(pack);
    auto now = testing::at("2024-07-24T00:00:00Z");
    auto a = set->apply(mail("【告警】UPS on battery", "Unit: a\n"), "", now);
    auto b = set->apply(mail("【告警恢复】UPS on battery", "Unit: a\n"), "", now);
    EXPECT_EQ(*a.alert.labels.get("alertname"), "UPS on battery");
    EXPECT_EQ(a.alert.identity_labels, b.alert.identity_labels);
}

TEST(RulePackApply, ARequiredExtractThatFailsFallsThroughToGeneric) {
    auto set = only(replaced(kMinimal, "optional: true", "optional: false"));
    auto r =
        set->apply(mail("UPS on battery", "no unit line"), "", testing::at("2024-07-24T00:00:00Z"));
    EXPECT_EQ(r.rule, "generic");
    ASSERT_EQ(r.misses.size(), 1u);
    EXPECT_EQ(r.misses[0].reason, "matched, but body has no match for /(?m)^Unit: (?P<unit>\\S+)/");
    EXPECT_EQ(*r.alert.labels.get("email_rule"), "generic");
}

TEST(RulePackApply, UnreadableFieldsAreWarningsNotFailures) {
    auto pack = replaced(kMinimal, "summary: 'UPS {{unit}} {{state}}'",
                         "summary: 'UPS {{unit}} {{state}}'\ntime: {starts_at: '{{unit}}'}");
    auto set = only(pack);
    auto now = testing::at("2024-07-24T00:00:00Z");
    auto r = set->apply(mail("UPS on battery", "Unit: yesterday\n"), "", now);
    EXPECT_EQ(r.rule, "ups");
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(r.warnings[0], "starts_at \"yesterday\" is not a time: expected a date");
    EXPECT_EQ(r.alert.starts_at, now);
}

TEST(RulePackApply, ACaptureMayRefineTheFieldItReads) {
    // `in: unit` capturing `unit` again: the new value replaces the one being read.
    auto pack = replaced(kMinimal, "  - {regex: '(?m)^Unit: (?P<unit>\\S+)', optional: true}",
                         "  - {regex: '(?m)^Unit: (?P<unit>\\S+)', optional: true}\n"
                         "  - {in: unit, regex: '^ups-(?P<unit>\\w+)-(?P<rack>\\w+)$', "
                         "optional: true}");
    auto set = only(pack);
    auto r = set->apply(mail("UPS on battery", "Unit: ups-a1-r7\n"), "",
                        testing::at("2024-07-24T00:00:00Z"));
    EXPECT_EQ(*r.alert.labels.get("resource"), "a1");
}

TEST(RulePackApply, ATimeFormatReadsDayFirstDates) {
    auto pack = replaced(kMinimal, "summary: 'UPS {{unit}} {{state}}'",
                         "summary: 'UPS {{unit}} {{state}}'\n"
                         "time: {starts_at: '{{unit}}', format: '%d/%m/%Y-%H:%M'}");
    auto set = only(pack);
    MailText m = mail("UPS on battery", "Unit: 03/07/2024-20:15\n");
    m.date = testing::at("2024-07-03T12:16:00Z");
    m.date_offset_minutes = 8 * 60;
    auto r = set->apply(m, "", testing::at("2024-07-24T00:00:00Z"));
    EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
    EXPECT_EQ(r.alert.starts_at, testing::at("2024-07-03T20:15:00+08:00"));
    EXPECT_EQ(errorsOf(replaced(kMinimal, "summary: 'UPS {{unit}} {{state}}'",
                                "summary: x\ntime: {format: 'dd/mm/yyyy'}")),
              (std::vector<std::string>{"ups.yml:11: time.format: expected a strftime-style "
                                        "layout such as \"%d/%m/%Y %H:%M:%S\""}));
}

TEST(RulePackApply, UsersPacksComeFirstAndReplaceBuiltinsOfTheSameName) {
    std::vector<config::ConfigError> errors;
    auto mine = replaced(kMinimal, "name: ups", "name: zabbix");
    auto set = RuleSet::compile({RuleSource{"mine.yml", mine}}, builtinRuleSources(), {"nagios"},
                                RuleOptions{}, errors);
    ASSERT_TRUE(errors.empty()) << errors.front().format();
    auto names = set->names();
    EXPECT_EQ(names.front(), "zabbix");
    EXPECT_EQ(std::count(names.begin(), names.end(), "zabbix"), 1);
    EXPECT_EQ(std::count(names.begin(), names.end(), "nagios"), 0);
}

TEST(EmailRulesSetup, ConfigNamesFilesAndBuiltinsWithLines) {
    auto s = app::setupFromString(
        "email:\n  rules: [does-not-exist.yml]\n  disable_builtin_rules: [zabix]\n", "ab.yml");
    std::vector<std::string> got;
    for (const auto& e : s.errors) got.push_back(e.format());
    ASSERT_EQ(got.size(), 2u);
    EXPECT_TRUE(got[0].starts_with("ab.yml:2: email.rules[0]: cannot read ")) << got[0];
    EXPECT_TRUE(got[0].ends_with("does-not-exist.yml")) << got[0];
    EXPECT_EQ(got[1],
              "ab.yml:3: email.disable_builtin_rules[0]: no built-in rule pack is named "
              "\"zabix\" (did you mean \"zabbix\"?)");
    auto ok = app::setupFromString("email:\n  disable_builtin_rules: [zabbix]\n", "ab.yml");
    ASSERT_TRUE(ok.config.has_value());
    EXPECT_EQ(ok.email_rules->names().size(), 16u);
}

}  // namespace
}  // namespace alertbridge::email
