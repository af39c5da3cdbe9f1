#include "adapters/email/header_decode.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>

#include "../test_util.hpp"

namespace alertbridge::email {
namespace {

// The raw Subject field of a message, folding included.
std::string rawSubject(const std::string& eml) {
    std::size_t pos = 0;
    while (pos < eml.size()) {
        auto eol = eml.find('\n', pos);
        std::string_view line(eml.data() + pos,
                              (eol == std::string::npos ? eml.size() : eol) - pos);
        if (line.empty() || line == "\r") break;  // end of the header
        if (line.size() > 8 &&
            (line.substr(0, 8) == "Subject:" || line.substr(0, 8) == "subject:")) {
            std::size_t end = eol;
            while (end != std::string::npos && end + 1 < eml.size() &&
                   (eml[end + 1] == ' ' || eml[end + 1] == '\t')) {
                end = eml.find('\n', end + 1);
            }
            return eml.substr(pos + 8, (end == std::string::npos ? eml.size() : end) - pos - 8);
        }
        pos = eol == std::string::npos ? eml.size() : eol + 1;
    }
    return "";
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
    while (!s.empty() && s.front() == ' ') s.erase(s.begin());
    return s;
}

TEST(HeaderDecode, EveryFixtureSubject) {
    int checked = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(ALERTBRIDGE_FIXTURES) + "/email")) {
        if (entry.path().extension() != ".eml") continue;
        auto eml = testing::readFile(entry.path().string());
        auto expected_path = entry.path();
        expected_path.replace_extension(".expected.json");
        rapidjson::Document want;
        want.Parse(testing::readFile(expected_path.string()).c_str());
        ASSERT_TRUE(want.HasMember("subject")) << expected_path;
        EXPECT_EQ(trim(decodeHeader(rawSubject(eml))), want["subject"].GetString())
            << entry.path().filename();
        ++checked;
    }
    EXPECT_EQ(checked, 15);
}

TEST(HeaderDecode, CharacterSplitAcrossWords) {
    // U+4E25 (严, E4 B8 A5) split between two base64 words: 5LgA would be wrong; split bytes.
    // "5Lg=" is E4 B8, "pQ==" is A5.
    EXPECT_EQ(decodeHeader("=?UTF-8?B?5Lg=?= =?UTF-8?B?pQ==?="), "严");
    // The same in Q encoding, folded.
    EXPECT_EQ(decodeHeader("=?utf-8?q?=E4=B8?=\r\n =?utf-8?q?=A5=E9=87=8D?="), "严重");
}

TEST(HeaderDecode, AliasesAndChineseCharsets) {
    EXPECT_EQ(decodeHeader("=?UTF8?Q?caf=C3=A9?="), "café");
    // 中断 in GBK/GB2312 bytes: D6 D0 B6 CF.
    EXPECT_EQ(decodeHeader("=?GB2312?B?1tC2zw==?="), "中断");
    EXPECT_EQ(decodeHeader("=?gbk?Q?=D6=D0=B6=CF?="), "中断");
    EXPECT_EQ(toUtf8("\xD6\xD0", "GBK").value(), "中");
    EXPECT_FALSE(toUtf8("x", "no-such-charset").has_value());
}

TEST(HeaderDecode, SpacesBetweenWordsAndText) {
    EXPECT_EQ(decodeHeader("=?UTF-8?Q?a?=  =?UTF-8?Q?b?="), "ab");
    EXPECT_EQ(decodeHeader("Alarm: =?UTF-8?Q?=E5=91=8A=E8=AD=A6?= now"), "Alarm: 告警 now");
    EXPECT_EQ(decodeHeader("=?UTF-8?Q?a_b?= c"), "a b c");
    EXPECT_EQ(decodeHeader("plain subject"), "plain subject");
}

TEST(HeaderDecode, RawEightBitAndMalformed) {
    EXPECT_EQ(decodeHeader("\xE5\x91\x8A\xE8\xAD\xA6"), "告警") << "raw UTF-8";
    EXPECT_EQ(decodeHeader("\xB8\xE6\xBE\xAF"), "告警") << "raw GBK, read as GB18030";
    EXPECT_EQ(decodeHeader("=?UTF-8?X?abc?="), "=?UTF-8?X?abc?=") << "unknown encoding kept";
    EXPECT_EQ(decodeHeader("=?UTF-8?B?@@@?="), "=?UTF-8?B?@@@?=");
    EXPECT_EQ(decodeHeader("=?UTF-8?Q?=ZZ?="), "=?UTF-8?Q?=ZZ?=");
    EXPECT_EQ(decodeHeader("=?UTF-8?Q?unterminated"), "=?UTF-8?Q?unterminated");
}

}  // namespace
}  // namespace alertbridge::email
