#include "adapters/email/generic_rule.hpp"

#include <gtest/gtest.h>

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
    auto a = genericAlert(mail, "", received, std::chrono::hours(4));
    EXPECT_EQ(*a.labels.get("alertname"), mail.subject);
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
    auto a = genericAlert(empty, "", received, std::chrono::hours(1));
    EXPECT_EQ(*a.labels.get("alertname"), "(no subject)");
    EXPECT_EQ(*a.labels.get("email_from"), "appliance@dc.example") << "envelope sender";
    EXPECT_EQ(a.starts_at, received);
    MailText future;
    future.subject = "clock ahead";
    future.date = received + std::chrono::hours(1);
    EXPECT_EQ(genericAlert(future, "x@y", received, std::chrono::hours(1)).starts_at, received);
    MailText huge;
    huge.subject = "big";
    huge.body = std::string(kMaxDescriptionBytes + 10, 'x');
    auto big = genericAlert(huge, "x@y", received, std::chrono::hours(1));
    EXPECT_LT(big.annotations.get("description")->size(), kMaxDescriptionBytes + 20);
}

}  // namespace
}  // namespace alertbridge::email
