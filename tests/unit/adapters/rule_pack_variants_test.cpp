// The variant corpus (tests/fixtures/email_variants, written by its generate.py): each vendor's
// mail in the layouts its documentation and default templates show, firing and recovery. Every
// message must give its expected alert (pack, status, severity, resource, identity and
// fingerprint, start and end), a recovery must share its problem mail's fingerprint, and every
// built-in pack must have at least three fixtures across the corpora.

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <date/tz.h>
#include <filesystem>
#include <fmt/format.h>
#include <map>

#include "../test_util.hpp"
#include "email_sidecar.hpp"
#include "adapters/email/rule_pack.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::email {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const RuleSet> builtins() {
    std::vector<config::ConfigError> errors;
    auto set = RuleSet::compile({}, builtinRuleSources(), {},
                                RuleOptions{date::locate_zone("Asia/Shanghai")}, errors);
    for (const auto& e : errors) ADD_FAILURE() << e.format();
    return set;
}

std::vector<fs::path> messages(const std::string& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (e.path().extension() == ".eml") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

rapidjson::Document expectation(const fs::path& eml) {
    auto path = eml;
    path.replace_extension(".expected.json");
    rapidjson::Document want;
    want.Parse(testing::readFile(path.string()).c_str());
    EXPECT_FALSE(want.HasParseError()) << path;
    return want;
}

const std::string kVariants = std::string(ALERTBRIDGE_FIXTURES) + "/email_variants";

TEST(RulePackVariants, EveryVariantGivesItsAlert) {
    auto rules = builtins();
    auto received = testing::at("2024-07-24T12:00:00Z");
    std::map<std::string, std::uint64_t> fingerprints;
    std::map<std::string, std::string> partner;
    for (const auto& eml : messages(kVariants)) {
        const auto name = eml.filename().string();
        SCOPED_TRACE(name);
        auto want = expectation(eml);
        auto mail = parseMail(testing::readFile(eml.string()));
        ASSERT_TRUE(mail.ok()) << mail.error();
        auto r = rules->apply(*mail, "", received);
        const core::Alert& a = r.alert;
        EXPECT_EQ(r.rule, want["vendor"].GetString());
        if (want["warning"].IsString()) {
            ASSERT_FALSE(r.warnings.empty());
            EXPECT_NE(r.warnings.front().find(want["warning"].GetString()), std::string::npos)
                << r.warnings.front();
        } else {
            for (const auto& w : r.warnings) ADD_FAILURE() << "warning: " << w;
        }
        const bool resolved = std::string(want["status"].GetString()) == "resolved";
        EXPECT_EQ(a.ends_at.has_value() && *a.ends_at <= received, resolved) << "status";
        EXPECT_EQ(core::severityName(a.severity), want["severity"].GetString());
        const auto* resource = a.labels.get(want["resource_label"].GetString());
        ASSERT_NE(resource, nullptr) << "no " << want["resource_label"].GetString() << " label";
        EXPECT_EQ(*resource, want["resource"].GetString());
        testing::expectAsSidecar(a, want, resolved);
        fingerprints[name] = a.identity_labels.fingerprint();
        if (want["pairs_with"].IsString()) partner[name] = want["pairs_with"].GetString();
    }
    EXPECT_GE(fingerprints.size(), 6U);
    for (const auto& [name, other] : partner) {
        SCOPED_TRACE(fmt::format("{} and {}", name, other));
        if (other.starts_with("../")) {  // a fixture of the other corpora
            auto mail = parseMail(
                testing::readFile(std::string(ALERTBRIDGE_FIXTURES) + "/" + other.substr(3)));
            ASSERT_TRUE(mail.ok());
            EXPECT_EQ(fingerprints[name],
                      rules->apply(*mail, "", received).alert.identity_labels.fingerprint());
            continue;
        }
        ASSERT_EQ(fingerprints.count(other), 1U) << "its partner is missing";
        EXPECT_EQ(fingerprints[name], fingerprints[other]);
        EXPECT_EQ(partner[other], name) << "pairs are named both ways";
    }
}

TEST(RulePackVariants, EveryBuiltinPackHasThreeOrMoreFixtures) {
    std::map<std::string, int> count;
    for (const char* dir : {"/email", "/email_extra", "/email_variants"}) {
        for (const auto& eml : messages(std::string(ALERTBRIDGE_FIXTURES) + dir)) {
            count[expectation(eml)["vendor"].GetString()]++;
        }
    }
    for (const auto& name : builtins()->names()) {
        EXPECT_GE(count[name], 3) << name;
    }
}

}  // namespace
}  // namespace alertbridge::email
