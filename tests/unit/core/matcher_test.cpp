#include "plugin/core/matcher.hpp"

#include <gtest/gtest.h>

namespace alertbridge::core {
namespace {

struct ParseCase {
    const char* text;
    std::vector<std::string> want;  // toString() of each matcher; empty: an error
    const char* error = "";         // a substring of the error
};

class MatcherParse : public ::testing::TestWithParam<ParseCase> {};

TEST_P(MatcherParse, ParsesAlertmanagerSyntax) {
    const auto& c = GetParam();
    auto got = parseMatchers(c.text);
    if (c.want.empty()) {
        ASSERT_FALSE(got) << c.text;
        EXPECT_NE(got.error().find(c.error), std::string::npos) << got.error();
        return;
    }
    ASSERT_TRUE(got) << c.text << ": " << got.error();
    std::vector<std::string> strs;
    for (const auto& m : *got) strs.push_back(m.toString());
    EXPECT_EQ(strs, c.want) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MatcherParse,
    ::testing::Values(
        ParseCase{R"(whitelist="Y")", {R"(whitelist="Y")"}},
        ParseCase{R"(alertname!="Watchdog")", {R"(alertname!="Watchdog")"}},
        ParseCase{R"(service=~"ctp-.*")", {R"(service=~"ctp-.*")"}},
        ParseCase{R"(service!~"md|td")", {R"(service!~"md|td")"}},
        ParseCase{"severity=critical", {R"(severity="critical")"}},
        ParseCase{R"(  team = "dba"  )", {R"(team="dba")"}},
        ParseCase{R"({env="prod", service=~"ctp-.*"})", {R"(env="prod")", R"(service=~"ctp-.*")"}},
        ParseCase{"{env=prod,job=node}", {R"(env="prod")", R"(job="node")"}},
        ParseCase{R"(a="x, y")", {R"(a="x, y")"}},
        ParseCase{R"(a="say \"hi\"")", {R"(a="say \"hi\"")"}},
        ParseCase{R"(host=~"db\d+")", {R"(host=~"db\\d+")"}},
        ParseCase{R"(team="")", {R"(team="")"}}, ParseCase{"", {}, "expected a matcher"},
        ParseCase{R"(1abc="x")", {}, "not a valid label name"},
        ParseCase{R"(a=~"(")", {}, "invalid regex"}, ParseCase{R"(a=="x")", {}, "stray quote"},
        ParseCase{R"(a "x")", {}, "expected one of = != =~ !~"},
        ParseCase{R"({a="x")", {}, "missing closing brace"},
        ParseCase{R"(a="x)", {}, "unterminated"}, ParseCase{R"(a="x" b="y")", {}, "unexpected"}));

TEST(Matcher, MatchesAsAlertmanagerDoes) {
    LabelSet labels{{"service", "ctp-front"}, {"whitelist", "Y"}, {"alertname", "Down"}};
    auto m = [](const char* text) { return parseMatchers(text).value(); };
    EXPECT_TRUE(matchesAll(m(R"(service=~"ctp-.*")"), labels));
    EXPECT_FALSE(matchesAll(m(R"(service=~"ctp")"), labels));  // anchored
    EXPECT_TRUE(matchesAll(m(R"(alertname!="Watchdog")"), labels));
    EXPECT_TRUE(matchesAll(m(R"(team="")"), labels));  // absent is empty
    EXPECT_FALSE(matchesAll(m(R"(team!="")"), labels));
    EXPECT_TRUE(matchesAll(m(R"(team!~".+")"), labels));
    EXPECT_TRUE(matchesAll(m(R"({whitelist="Y", service!~"md-.*"})"), labels));
    EXPECT_FALSE(matchesAll(m(R"({whitelist="Y", alertname="Up"})"), labels));
    EXPECT_TRUE(matchesAll({}, labels));
}

}  // namespace
}  // namespace alertbridge::core
