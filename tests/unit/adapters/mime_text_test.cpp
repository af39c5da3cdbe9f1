#include "adapters/email/html_text.hpp"
#include "adapters/email/mime_text.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>

#include "../test_util.hpp"

namespace alertbridge::email {
namespace {

TEST(MimeText, EveryFixtureYieldsItsSubjectAndBodyText) {
    int checked = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(ALERTBRIDGE_FIXTURES) + "/email")) {
        if (entry.path().extension() != ".eml") continue;
        auto name = entry.path().filename().string();
        auto expected_path = entry.path();
        expected_path.replace_extension(".expected.json");
        rapidjson::Document want;
        want.Parse(testing::readFile(expected_path.string()).c_str());
        auto mail = parseMail(testing::readFile(entry.path().string()));
        ASSERT_TRUE(mail.ok()) << name << ": " << mail.error();
        EXPECT_EQ(mail->subject, want["subject"].GetString()) << name;
        for (const auto& s : want["body_must_contain"].GetArray()) {
            EXPECT_NE(mail->body.find(s.GetString()), std::string::npos)
                << name << " lacks \"" << s.GetString() << "\" in:\n"
                << mail->body;
        }
        ++checked;
    }
    EXPECT_EQ(checked, 15);
}

TEST(MimeText, StructureFacts) {
    auto fixture = [](const char* name) {
        return parseMail(testing::fixture(std::string("email/") + name)).value();
    };
    auto netis = fixture("07-netis-bpc-order-latency-mixed-attachment.eml");
    EXPECT_EQ(netis.attachments, 1) << "the CSV is counted, not read";
    EXPECT_FALSE(netis.body_from_html);
    auto veeam = fixture("12-veeam-job-failed-html-only.eml");
    EXPECT_TRUE(veeam.body_from_html);
    EXPECT_EQ(veeam.body.find('<'), std::string::npos) << veeam.body;
    auto qfusion = fixture("06-qfusion-rds-failover-multipart-alternative.eml");
    EXPECT_FALSE(qfusion.body_from_html) << "text/plain is preferred";
    auto h3c = fixture("13-h3c-imc-linkdown-gbk-base64.eml");
    EXPECT_NE(h3c.body.find("紧急"), std::string::npos) << "GBK body decoded";
    auto smartx = fixture("01-smartx-host-unknown-firing.eml");
    ASSERT_TRUE(smartx.date.has_value());
    EXPECT_EQ(smartx.date_offset_minutes, 8 * 60);
}

TEST(MimeText, ADateBeyondWhatTimesCanHoldIsIgnored) {
    // Found by the fuzzer: year 4221 overflowed the nanosecond clock.
    auto m = parseMail("Date: Tue, 23 Jul 4221 20:14:01 +0800\r\nSubject: x\r\n\r\nbody\r\n");
    ASSERT_TRUE(m.ok());
    EXPECT_FALSE(m->date.has_value());
    auto ok = parseMail("Date: Tue, 23 Jul 2024 20:14:01 +0800\r\nSubject: x\r\n\r\nbody\r\n");
    EXPECT_TRUE(ok->date.has_value());
}

TEST(MimeText, GarbageYieldsNoTextAndNoCrash) {
    for (std::string_view junk : {std::string_view(""), std::string_view("\0\x01\xff", 3),
                                  std::string_view("no header separator at all")}) {
        auto m = parseMail(junk);
        EXPECT_TRUE(!m.ok() || (m->subject.empty() && m->body.empty()))
            << "junk of " << junk.size() << " bytes";
    }
}

TEST(HtmlToText, TablesEntitiesAndScripts) {
    EXPECT_EQ(htmlToText("<html><head><style>p{color:red}</style><script>x()</script></head>"
                         "<body><p>Job&nbsp;failed &amp; retried</p>"
                         "<table><tr><td>Name</td><td>Status</td></tr>"
                         "<tr><td>DB-01</td><td>&#x5931;&#36133;</td></tr></table>"
                         "<div>a<br>b</div></body></html>"),
              "Job failed & retried\nName | Status\nDB-01 | 失败\na\nb");
    // libxml2 keeps an unknown entity as written and drops a reference to no character.
    EXPECT_EQ(htmlToText("x &bogus; &#9999999999; y"), "x &bogus; y");
    EXPECT_EQ(htmlToText("unclosed <b"), "unclosed");
}

}  // namespace
}  // namespace alertbridge::email
