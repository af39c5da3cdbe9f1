// Every vendor fixture through the built-in rule packs, checked against its .expected.json:
// the pack, status, severity, identity labels and fingerprint, the start and end instants,
// the summary, the subject, the annotations and the body text.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <date/tz.h>
#include <filesystem>
#include <fmt/format.h>

#include "../test_util.hpp"
#include "email_sidecar.hpp"
#include "adapters/email/rule_pack.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::email {
namespace {

std::shared_ptr<const RuleSet> builtins() {
    std::vector<config::ConfigError> errors;
    auto set = RuleSet::compile({}, builtinRuleSources(), {},
                                RuleOptions{date::locate_zone("Asia/Shanghai")}, errors);
    for (const auto& e : errors) ADD_FAILURE() << e.format();
    return set;
}

// The one annotation whose expected value is a normalised time the pack does not produce:
// Veeam's job start is carried as Veeam writes it ("Tuesday, July 23, 2024 10:00:14 PM").
bool softAnnotation(const std::string& fixture, const std::string& key) {
    return fixture.starts_with("12-") && key == "job_start";
}

void checkFixture(const RuleSet& rules, const std::filesystem::path& eml, int& checked) {
    const auto name = eml.filename().string();
    SCOPED_TRACE(name);
    auto expected_path = eml;
    expected_path.replace_extension(".expected.json");
    rapidjson::Document want;
    want.Parse(testing::readFile(expected_path.string()).c_str());
    ASSERT_FALSE(want.HasParseError());

    auto mail = parseMail(testing::readFile(eml.string()));
    ASSERT_TRUE(mail.ok()) << mail.error();
    auto received = testing::at("2024-07-24T12:00:00Z");
    auto r = rules.apply(*mail, "", received);
    const core::Alert& a = r.alert;
    for (const auto& w : r.warnings) ADD_FAILURE() << "warning: " << w;

    EXPECT_EQ(r.rule, want["vendor"].GetString());
    bool resolved = std::string(want["status"].GetString()) == "resolved";
    EXPECT_EQ(a.ends_at.has_value() && resolved, resolved) << "status";
    if (!resolved && a.ends_at) {
        EXPECT_GT(*a.ends_at, received) << "a firing alert may only end by resolve_timeout";
    }
    EXPECT_EQ(core::severityName(a.severity), want["severity"].GetString());
    EXPECT_EQ(*a.annotations.get("severity_raw"), want["severity_raw"].GetString());

    for (const auto& m : want["labels"].GetObject()) {
        const auto* got = a.labels.get(m.name.GetString());
        ASSERT_NE(got, nullptr) << "label " << m.name.GetString();
        EXPECT_EQ(*got, m.value.GetString()) << "label " << m.name.GetString();
    }
    testing::expectAsSidecar(a, want, resolved);
    EXPECT_EQ(*a.annotations.get("summary"), want["summary"].GetString());
    for (const auto& m : want["annotations"].GetObject()) {
        if (softAnnotation(name, m.name.GetString())) continue;
        const auto* got = a.annotations.get(m.name.GetString());
        ASSERT_NE(got, nullptr) << "annotation " << m.name.GetString();
        EXPECT_EQ(*got, m.value.GetString()) << "annotation " << m.name.GetString();
    }
    for (const auto& s : want["body_must_contain"].GetArray()) {
        EXPECT_NE(mail->body.find(s.GetString()), std::string::npos) << s.GetString();
    }
    ++checked;
}

TEST(RulePackGolden, EveryVendorFixture) {
    auto rules = builtins();
    int checked = 0;
    for (const char* dir : {"email", "email_extra"}) {
        std::vector<std::filesystem::path> files;
        for (const auto& e :
             std::filesystem::directory_iterator(std::string(ALERTBRIDGE_FIXTURES) + "/" + dir)) {
            if (e.path().extension() == ".eml") files.push_back(e.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) checkFixture(*rules, f, checked);
    }
    EXPECT_EQ(checked, 17) << "15 vendor fixtures and the two Nagios ones";
}

TEST(RulePackGolden, PairsShareAFingerprint) {
    auto rules = builtins();
    auto fp = [&](const char* file) {
        auto mail = parseMail(testing::fixture(file)).value();
        return rules->apply(mail, "", testing::at("2024-07-24T12:00:00Z"))
            .alert.identity_labels.fingerprint();
    };
    EXPECT_EQ(fp("email/01-smartx-host-unknown-firing.eml"),
              fp("email/02-smartx-host-unknown-resolved.eml"));
    EXPECT_EQ(fp("email/03-ocp-tenant-cpu-firing.eml"), fp("email/04-ocp-tenant-cpu-cleared.eml"));
    EXPECT_EQ(fp("email/09-zabbix-problem.eml"), fp("email/10-zabbix-resolved.eml"));
    EXPECT_EQ(fp("email_extra/nagios-service-problem.eml"),
              fp("email_extra/nagios-service-recovery.eml"));
}

TEST(RulePackGolden, QFusionReadsItsHtmlAlternativeAlike) {
    // The fixture without its text/plain part: the HTML table must give the same alert.
    std::string raw = testing::fixture("email/06-qfusion-rds-failover-multipart-alternative.eml");
    const std::string boundary = "------=_Part_40231_1298311021.1721737869117\r\n";
    auto first = raw.find(boundary);
    auto second = raw.find(boundary, first + boundary.size());
    ASSERT_NE(second, std::string::npos);
    std::string html_only = raw.substr(0, first) + raw.substr(second);
    auto rules = builtins();
    auto now = testing::at("2024-07-24T12:00:00Z");
    auto plain = rules->apply(parseMail(raw).value(), "", now);
    auto html_mail = parseMail(html_only).value();
    ASSERT_TRUE(html_mail.body_from_html);
    auto html = rules->apply(html_mail, "", now);
    EXPECT_EQ(html.rule, "qfusion");
    EXPECT_EQ(html.alert.labels, plain.alert.labels);
    EXPECT_EQ(html.alert.starts_at, plain.alert.starts_at);
    EXPECT_EQ(*html.alert.annotations.get("summary"), *plain.alert.annotations.get("summary"));
    EXPECT_EQ(*html.alert.annotations.get("nodes"), "10.34.5.22 -> 10.34.5.23");
}

TEST(RulePackGolden, EveryBuiltinPackIsTried) {
    auto rules = builtins();
    EXPECT_EQ(rules->names(),
              (std::vector<std::string>{"colasoft", "dell_idrac", "h3c_imc", "hpe_ilo", "hpe_oa",
                                        "huawei_ibmc", "huawei_oceanstor", "nagios", "netis_bpc",
                                        "oceanbase_ocp", "qfusion", "sangfor_af", "smartx", "tdsql",
                                        "vcenter", "veeam", "zabbix"}));
}

}  // namespace
}  // namespace alertbridge::email
