// The key/value pairs of a message in every layout vendors write them: text lines, HTML
// tables of each shape, definition lists; and the charset decisions for lying labels.

#include "adapters/email/mail_pairs.hpp"

#include <gtest/gtest.h>

#include "adapters/email/body_charset.hpp"
#include "adapters/email/html_text.hpp"
#include "adapters/email/mime_text.hpp"

namespace alertbridge::email {
namespace {

std::string value(const MailPairs& p, std::string_view key) {
    const auto* pair = p.find(normalizeKey(key));
    return pair != nullptr ? pair->value : "<none>";
}

TEST(MailPairs, KeysAreComparedNormalised) {
    EXPECT_EQ(normalizeKey("Event Time:"), "eventtime");
    EXPECT_EQ(normalizeKey("event_time"), "eventtime");
    EXPECT_EQ(normalizeKey("EVENT-TIME："), "eventtime");
    EXPECT_EQ(normalizeKey("开始时间（北京时间）"), "开始时间");
    EXPECT_EQ(normalizeKey("Start Time (UTC)"), "starttime");
    EXPECT_EQ(normalizeKey("告警\xE3\x80\x80级别"), "告警级别");  // ideographic space
}

TEST(MailPairs, EveryTextLayout) {
    MailPairs p;
    addTextPairs(
        "Host: db-01\n"
        "告警级别：严重\n"
        "status=RESOLVED\n"
        "【告警对象】trade-fe-02\n"
        "Metric\tcpu_usage\n"
        "  - 集群: ob-prod\n"
        "1、主机IP：10.1.2.3\n"
        "Problem started at 20:15:02 on 2024.07.23\n"
        "URL: http://x.example/a?b=c\n"
        "http://only.example/link\n"
        "恢复时间：\n"
        "恢复时间：2024-07-23 21:00:00\n",
        p);
    EXPECT_EQ(value(p, "host"), "db-01");
    EXPECT_EQ(p.find("host")->layout, Layout::kColon);
    EXPECT_EQ(p.find("host")->line, 1);
    EXPECT_EQ(value(p, "告警级别"), "严重");
    EXPECT_EQ(p.find(normalizeKey("告警级别"))->layout, Layout::kWideColon);
    EXPECT_EQ(value(p, "Status"), "RESOLVED");
    EXPECT_EQ(value(p, "告警对象"), "trade-fe-02");
    EXPECT_EQ(p.find(normalizeKey("告警对象"))->layout, Layout::kBracket);
    EXPECT_EQ(value(p, "metric"), "cpu_usage");
    EXPECT_EQ(value(p, "集群"), "ob-prod");
    EXPECT_EQ(value(p, "主机IP"), "10.1.2.3");
    EXPECT_EQ(value(p, "url"), "http://x.example/a?b=c");
    EXPECT_EQ(value(p, "恢复时间"), "2024-07-23 21:00:00") << "a later value fills an empty key";
    for (const auto& pair : p.all()) {
        EXPECT_EQ(pair.key.find("started"), std::string::npos) << "a clock is not a separator";
        EXPECT_NE(pair.key, "http");
    }
}

TEST(MailPairs, SeveralEqualsPairsOnALine) {
    MailPairs p;
    addLinePairs("host=db-01 severity=critical msg=\"disk full\"; ip=10.0.0.1", 3, p);
    EXPECT_EQ(value(p, "host"), "db-01");
    EXPECT_EQ(value(p, "severity"), "critical");
    EXPECT_EQ(value(p, "msg"), "disk full");
    EXPECT_EQ(value(p, "ip"), "10.0.0.1");
    EXPECT_EQ(p.size(), 4U);
}

TEST(MailPairs, ProseIsNotAKey) {
    MailPairs p;
    addTextPairs(
        "Dear administrator, the following alarm was raised on your system today: see "
        "below\n<b>x</b>: y\n2024-07-23 20:15:02 something\n",
        p);
    EXPECT_TRUE(p.empty()) << p.all().front().key;
}

TEST(HtmlPairs, TablesOfEveryShape) {
    MailPairs p;
    auto text = readHtml(
        "<html><head><meta charset='utf-8'><title>Alarm</title></head><body>"
        "<table><tr><th>Host</th><td><b>db-01</b></td></tr>"
        "<tr><td>Severity:</td><td>&nbsp;Critical&nbsp;</td></tr>"
        "<tr><td>告警级别</td><td>严重</td><td>告警状态</td><td>已恢复</td></tr></table>"
        "<table><tr><th>设备</th><th>接口</th><th>状态</th></tr>"
        "<tr><td>sw-01</td><td>Gi1/0/1</td><td>down</td></tr></table>"
        "<table><tr><td>主机：web-09<br>IP：10.9.9.9</td></tr></table>"
        "<dl><dt>Cluster</dt><dd>prod-a</dd></dl>"
        "<p>开始时间：2024-07-23 20:00:00</p>"
        "<table><tr><td><table><tr><td>Inner</td><td>x</td></tr></table></td><td>y</td></tr>"
        "</table>"
        "</body></html>",
        &p);
    EXPECT_EQ(value(p, "host"), "db-01");
    EXPECT_EQ(p.find("host")->layout, Layout::kTableHeader);
    EXPECT_EQ(value(p, "severity"), "Critical");
    EXPECT_EQ(p.find("severity")->layout, Layout::kTableRow);
    EXPECT_EQ(value(p, "告警状态"), "已恢复");
    EXPECT_EQ(value(p, "接口"), "Gi1/0/1");
    EXPECT_EQ(p.find(normalizeKey("接口"))->layout, Layout::kTableColumn);
    EXPECT_EQ(value(p, "主机"), "web-09");
    EXPECT_EQ(value(p, "IP"), "10.9.9.9");
    EXPECT_EQ(value(p, "cluster"), "prod-a");
    EXPECT_EQ(p.find("cluster")->layout, Layout::kDefinition);
    EXPECT_EQ(value(p, "开始时间"), "2024-07-23 20:00:00");
    EXPECT_EQ(value(p, "inner"), "x");
    EXPECT_NE(text.find("Host | db-01"), std::string::npos) << text;
    EXPECT_NE(text.find("Alarm"), std::string::npos);
}

TEST(HtmlPairs, AHeaderCellNamesTheDataCellsAfterIt) {
    MailPairs p;
    readHtml("<table><tr><th>Host</th><td>db-01</td><td>(primary)</td></tr></table>", &p);
    EXPECT_EQ(value(p, "host"), "db-01 (primary)");
}

TEST(HtmlPairs, TwoColumnTablesWithAHeaderRowAreStillRows) {
    MailPairs p;
    readHtml(
        "<table><tr><th>Name</th><th>Value</th></tr><tr><td>Host</td><td>db-01</td></tr>"
        "</table>",
        &p);
    EXPECT_EQ(value(p, "host"), "db-01");
}

TEST(HtmlPairs, DeepAndBrokenMarkupIsSafe) {
    std::string deep;
    for (int i = 0; i < 5000; ++i) deep += "<div><table><tr><td>";
    deep += "x: y";
    MailPairs p;
    (void)readHtml(deep, &p);
    (void)readHtml("<table><tr><td>a</td><td", &p);
    (void)readHtml(std::string_view("\0<\xff>", 4), &p);
    SUCCEED();
}

TEST(BodyCharset, TheMostTrustworthySignalWins) {
    // 告警恢复 in GB18030 and in UTF-8.
    const std::string gbk = "\xB8\xE6\xBE\xAF\xBB\xD6\xB8\xB4";
    const std::string utf8 = "告警恢复";
    auto r = decodeText(utf8, "gbk", false);
    EXPECT_EQ(r.text, utf8);
    EXPECT_NE(r.warning.find("UTF-8"), std::string::npos);
    r = decodeText(gbk, "gb2312", false);
    EXPECT_EQ(r.text, utf8);
    EXPECT_TRUE(r.warning.empty());
    // A GB18030-only character (U+20087, four bytes in GB18030) in a part labelled gb2312.
    r = decodeText(gbk + "\x95\x32\x90\x31", "gb2312", false);
    EXPECT_EQ(r.text, utf8 + "\xF0\xA0\x82\x87");
    EXPECT_TRUE(r.warning.empty()) << "gb2312 is read as GB18030, its superset";
    // UTF-8 labelled but not UTF-8; HTML whose <meta> is right.
    r = decodeText("<meta charset=\"gbk\"><p>" + gbk, "utf-8", true);
    EXPECT_NE(r.text.find(utf8), std::string::npos);
    EXPECT_NE(r.warning.find("<meta>"), std::string::npos);
    // HTML whose <meta> lies and MIME label is right: the label wins.
    r = decodeText("<meta charset=\"utf-8\"><p>" + gbk, "gb18030", true);
    EXPECT_NE(r.text.find(utf8), std::string::npos);
    EXPECT_TRUE(r.warning.empty());
    // No label at all.
    EXPECT_EQ(decodeText(gbk + gbk + gbk, "", false).text, utf8 + utf8 + utf8);
    EXPECT_EQ(decodeText(utf8, "", false).text, utf8);
    EXPECT_EQ(
        metaCharset("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=GB2312\">"),
        "GB2312");
}

TEST(BodyCharset, ALyingLabelIsAWarningOfTheMessage) {
    std::string raw =
        "Subject: x\r\nContent-Type: text/plain; "
        "charset=gbk\r\n\r\n主机：db-01\r\n状态：告警恢复\r\n";
    auto mail = parseMail(raw).value();
    EXPECT_EQ(mail.pairs.find(normalizeKey("状态"))->value, "告警恢复");
    ASSERT_EQ(mail.warnings.size(), 1U);
    EXPECT_NE(mail.warnings[0].find("labelled gbk"), std::string::npos) << mail.warnings[0];
}

}  // namespace
}  // namespace alertbridge::email
