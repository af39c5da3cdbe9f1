#include "adapters/email/generic_rule.hpp"

#include <gtest/gtest.h>

#include <date/tz.h>

#include "../test_util.hpp"

namespace alertbridge::email {
namespace {

using testing::at;

TEST(GenericRule, KeywordSeverity) {
    EXPECT_EQ(keywordSeverity("[严重] 集群告警", ""), core::Severity::kCritical);
    EXPECT_EQ(keywordSeverity("Alarm changed status from Green to Red", ""),
              core::Severity::kCritical);
    EXPECT_EQ(keywordSeverity("[Failed] backup job", ""), core::Severity::kWarning);
    EXPECT_EQ(keywordSeverity("日报", "提示：磁盘使用率 70%"), core::Severity::kInfo);
    EXPECT_EQ(keywordSeverity("something happened", "nothing to see"), core::Severity::kWarning)
        << "the default";
}

TEST(GenericRule, AlertFromAMail) {
    MailText mail;
    mail.subject = "[紧急] 交易前置机 fe-sh-01 CPU";
    mail.from = "Zabbix <Zabbix@DC.example>";
    mail.body = "CPU 96%";
    mail.message_id = "<1@dc>";
    mail.date = at("2026-11-25T01:00:00Z");
    auto received = at("2026-11-25T01:00:05Z");
    auto a = genericAlert(mail, "", received, GenericOptions{std::chrono::hours(4)});
    EXPECT_EQ(*a.labels.get("alertname"), "交易前置机 fe-sh-01 CPU") << "no severity word";
    EXPECT_EQ(*a.labels.get("email_rule"), "generic");
    EXPECT_EQ(*a.labels.get("email_from"), "zabbix@dc.example");
    EXPECT_EQ(*a.labels.get("severity"), "critical");
    EXPECT_EQ(*a.annotations.get("summary"), mail.subject);
    EXPECT_EQ(*a.annotations.get("description"), "CPU 96%");
    EXPECT_EQ(a.starts_at, *mail.date);
    EXPECT_EQ(*a.ends_at, received + std::chrono::hours(4));
    EXPECT_EQ(a.origin.kind, core::SourceKind::kEmail);
}

TEST(GenericRule, NothingIsDropped) {
    MailText empty;
    empty.return_path = "<appliance@dc.example>";
    auto received = at("2026-11-25T01:00:05Z");
    auto a = genericAlert(empty, "", received, GenericOptions{std::chrono::hours(1)});
    EXPECT_EQ(*a.labels.get("alertname"), "(no subject)");
    EXPECT_EQ(*a.labels.get("email_from"), "appliance@dc.example") << "envelope sender";
    EXPECT_EQ(a.starts_at, received);
    MailText future;
    future.subject = "clock ahead";
    future.date = received + std::chrono::hours(1);
    EXPECT_EQ(
        genericAlert(future, "x@y", received, GenericOptions{std::chrono::hours(1)}).starts_at,
        received);
    MailText huge;
    huge.subject = "big";
    huge.body = std::string(kMaxDescriptionBytes + 10, 'x');
    auto big = genericAlert(huge, "x@y", received, GenericOptions{std::chrono::hours(1)});
    EXPECT_LT(big.annotations.get("description")->size(), kMaxDescriptionBytes + 20);
}

// An unknown vendor's problem mail and its recovery, in two different layouts (a text body
// with full-width colons, then an HTML table): fields by key, status from the subject and
// the status field, one fingerprint.
TEST(GenericRule, AnUnknownVendorsMailResolvesAcrossLayouts) {
    const std::string firing =
        "From: NMS <nms@dc.example>\r\nDate: Wed, 24 Jul 2024 09:05:00 +0800\r\n"
        "Subject: =?UTF-8?B?44CQ5ZGK6K2m44CR5qC45b+D5Lqk5o2i5py656uv5Y+jRG93bg==?=\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
        "告警名称：端口Down\r\n设备名称：core-sw-01\r\n告警级别：紧急\r\n"
        "发生时间：2024年7月24日 09:01:12\r\n";
    const std::string resolved =
        "From: NMS <nms@dc.example>\r\nSubject: =?UTF-8?B?5ZGK6K2m5oGi5aSN?=\r\n"
        "Content-Type: text/html; charset=UTF-8\r\n\r\n"
        "<table><tr><th>Alarm Name</th><td>端口Down</td></tr>"
        "<tr><th>Device</th><td>core-sw-01</td></tr><tr><th>Status</th><td>Cleared</td></tr>"
        "<tr><th>Severity</th><td>Critical</td></tr>"
        "<tr><th>Start Time</th><td>2024-07-24 09:01:12</td></tr>"
        "<tr><th>Recovery Time</th><td>2024-07-24 09:30:00</td></tr></table>";
    auto received = at("2024-07-24T02:00:00Z");
    GenericOptions opt{std::chrono::hours(4), date::locate_zone("Asia/Shanghai")};
    std::vector<FieldOrigin> fields;
    std::vector<std::string> warnings;
    auto a = genericAlert(parseMail(firing).value(), "", received, opt, &fields, &warnings);
    auto b = genericAlert(parseMail(resolved).value(), "", received, opt);
    EXPECT_TRUE(warnings.empty());
    EXPECT_EQ(*a.labels.get("alertname"), "端口Down");
    EXPECT_EQ(*a.labels.get("resource"), "core-sw-01");
    EXPECT_EQ(a.severity, core::Severity::kCritical);
    EXPECT_EQ(a.starts_at, at("2024-07-24T09:01:12+08:00"));
    EXPECT_GT(*a.ends_at, received) << "firing";
    EXPECT_EQ(b.severity, core::Severity::kCritical);
    EXPECT_EQ(b.starts_at, at("2024-07-24T09:01:12+08:00"));
    EXPECT_EQ(*b.ends_at, at("2024-07-24T09:30:00+08:00")) << "resolved at its recovery time";
    EXPECT_EQ(a.identity_labels, b.identity_labels);
    ASSERT_FALSE(fields.empty());
    EXPECT_EQ(fields[0].field, "alertname");
    EXPECT_NE(fields[0].from.find("告警名称"), std::string::npos) << fields[0].from;
}

TEST(GenericRule, TheSubjectAloneStillPairs) {
    auto received = at("2024-07-24T02:00:00Z");
    MailText problem, ok;
    problem.subject = "[FIRING:1] Disk full on db-01";
    ok.subject = "[RESOLVED] Disk full on db-01";
    problem.from = ok.from = "x@dc.example";
    auto a = genericAlert(problem, "", received, GenericOptions{});
    auto b = genericAlert(ok, "", received, GenericOptions{});
    EXPECT_EQ(a.identity_labels, b.identity_labels);
    EXPECT_GT(*a.ends_at, received);
    EXPECT_EQ(*b.ends_at, received);
}

}  // namespace
}  // namespace alertbridge::email
