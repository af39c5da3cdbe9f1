// Firing and recovery words as vendors write them, negations, and names that stay the same
// between a problem mail and its recovery.

#include "adapters/email/status_words.hpp"

#include <gtest/gtest.h>

namespace alertbridge::email {
namespace {

std::string statusOf(std::string_view text) {
    auto hit = findStatus(text, commonStatusWords());
    if (!hit) return "none";
    return hit->status == Status::kResolved ? "resolved" : "firing";
}

TEST(StatusWords, SubjectsVendorsWrite) {
    EXPECT_EQ(statusOf("Problem: Backup recovery point is old"), "firing");
    EXPECT_EQ(statusOf("Resolved in 5m 12s: CPU high on web-01"), "resolved");
    EXPECT_EQ(statusOf("** RECOVERY Service Alert: db-01/MySQL is OK **"), "resolved");
    EXPECT_EQ(statusOf("** PROBLEM Service Alert: db-01/MySQL is CRITICAL **"), "firing");
    EXPECT_EQ(statusOf("【告警】数据库恢复模式异常"), "firing");
    EXPECT_EQ(statusOf("【恢复】数据库连接数过高"), "resolved");
    EXPECT_EQ(statusOf("[告警恢复] 交易前置机 CPU"), "resolved");
    EXPECT_EQ(statusOf("故障已恢复：核心交换机端口"), "resolved");
    EXPECT_EQ(statusOf("磁盘告警已恢复"), "resolved");
    EXPECT_EQ(statusOf("[OK] nightly job failed earlier"), "resolved");
    EXPECT_EQ(statusOf("[FIRING:2] HostDown"), "firing");
    EXPECT_EQ(statusOf("[RESOLVED] HostDown"), "resolved");
    EXPECT_EQ(statusOf("web-01 disk usage back to normal"), "resolved");
    EXPECT_EQ(statusOf("交易前置机 CPU使用率过高"), "none");
}

TEST(StatusWords, NegationsAreNotRecoveries) {
    EXPECT_EQ(statusOf("链路未恢复"), "none");
    EXPECT_EQ(statusOf("主机状态不正常"), "none");
    EXPECT_EQ(statusOf("故障恢复失败"), "firing");
    EXPECT_EQ(statusOf("issue not resolved"), "none");
    EXPECT_EQ(statusOf("unresolved incident"), "none");
    EXPECT_EQ(statusOf("abnormal traffic"), "none") << "a word inside a word is no word";
    EXPECT_EQ(statusOf("Token okay"), "none");
}

TEST(StatusWords, FieldValues) {
    EXPECT_EQ(statusOf("已恢复"), "resolved");
    EXPECT_EQ(statusOf("告警中"), "firing");
    EXPECT_EQ(statusOf("OK"), "resolved");
    EXPECT_EQ(statusOf("PROBLEM"), "firing");
    EXPECT_EQ(statusOf("Cleared"), "resolved");
}

TEST(StatusWords, Severity) {
    const auto& w = commonSeverityWords();
    EXPECT_EQ(findSeverity("Critical (5)", w), core::Severity::kCritical);
    EXPECT_EQ(findSeverity("告警级别为严重", w), core::Severity::kCritical);
    EXPECT_EQ(findSeverity("Minor", w), core::Severity::kWarning);
    EXPECT_EQ(findSeverity("提示", w), core::Severity::kInfo);
    EXPECT_FALSE(findSeverity("blue", w).has_value());
    EXPECT_FALSE(findSeverity("lowercase", w).has_value());
}

TEST(StatusWords, NamesWithoutStatus) {
    const auto& w = commonStatusWords();
    EXPECT_EQ(withoutStatusWords("【告警】CPU高 web01", w), "CPU高 web01");
    EXPECT_EQ(withoutStatusWords("【告警恢复】CPU高 web01", w), "CPU高 web01");
    EXPECT_EQ(withoutStatusWords("Problem: disk full on db-01", w), "disk full on db-01");
    EXPECT_EQ(withoutStatusWords("Resolved in 1h 2m: disk full on db-01", w), "disk full on db-01");
    EXPECT_EQ(withoutStatusWords("[FIRING:1] HostDown", w), "HostDown");
    EXPECT_EQ(withoutStatusWords("[RESOLVED] HostDown", w), "HostDown");
    EXPECT_EQ(withoutStatusWords("告警", w), "告警") << "nothing left: the text as it was";
}

}  // namespace
}  // namespace alertbridge::email
