#include "plugin/core/label_set.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "../test_util.hpp"

namespace alertbridge::core {
namespace {

LabelSet fromJson(const rapidjson::Value& obj) {
    LabelSet ls;
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
        ls.set(it->name.GetString(), it->value.GetString());
    }
    return ls;
}

// Every alert Alertmanager reported with a fingerprint: ours must be identical.
TEST(Fingerprint, EqualsAlertmanagerForEveryFixtureAlert) {
    int checked = 0;
    for (const char* file :
         {"webhook-firing.json", "webhook-partial-resolved.json", "webhook-resolved.json",
          "webhook-resolved-all-at-once.json", "webhook-groupby-all.json",
          "webhook-max-alerts-truncated.json", "webhook-sidecar-origin.json"}) {
        rapidjson::Document doc;
        doc.Parse(testing::fixture(std::string("alertmanager/") + file).c_str());
        ASSERT_FALSE(doc.HasParseError()) << file;
        for (const auto& a : doc["alerts"].GetArray()) {
            EXPECT_EQ(fingerprintHex(fromJson(a["labels"]).fingerprint()),
                      a["fingerprint"].GetString())
                << file;
            ++checked;
        }
    }
    rapidjson::Document get;
    get.Parse(testing::fixture("alertmanager/api-v2-get-alerts.json").c_str());
    for (const auto& a : get.GetArray()) {
        EXPECT_EQ(fingerprintHex(fromJson(a["labels"]).fingerprint()),
                  a["fingerprint"].GetString());
        ++checked;
    }
    EXPECT_GE(checked, 19);
}

TEST(Fingerprint, KnownValues) {
    // Alertmanager's fingerprint of the empty label set is the FNV-1a offset basis.
    EXPECT_EQ(fingerprintHex(LabelSet{}.fingerprint()), "cbf29ce484222325");
    // Order of insertion does not matter.
    LabelSet a{{"b", "2"}, {"a", "1"}};
    LabelSet b{{"a", "1"}, {"b", "2"}};
    EXPECT_EQ(a.fingerprint(), b.fingerprint());
    // The separator keeps "ab"+"c" apart from "a"+"bc".
    EXPECT_NE((LabelSet{{"ab", "c"}}.fingerprint()), (LabelSet{{"a", "bc"}}.fingerprint()));
}

TEST(LabelSet, SetGetEraseKeepOrder) {
    LabelSet ls;
    ls.set("zeta", "1");
    ls.set("alpha", "2");
    ls.set("mid", "3");
    ls.set("alpha", "4");
    ASSERT_EQ(ls.size(), 3u);
    EXPECT_EQ(ls.pairs()[0].first, "alpha");
    EXPECT_EQ(*ls.get("alpha"), "4");
    EXPECT_TRUE(ls.erase("mid"));
    EXPECT_FALSE(ls.erase("mid"));
    EXPECT_EQ(ls.get("mid"), nullptr);
    EXPECT_EQ(ls.toString(), "{alpha=\"4\", zeta=\"1\"}");
}

TEST(LabelSet, FindsDuplicatesAfterUnsortedAppend) {
    LabelSet ls;
    ls.appendUnsorted("b", "1");
    ls.appendUnsorted("a", "1");
    EXPECT_FALSE(ls.sortAndFindDuplicate().has_value());
    ls.appendUnsorted("a", "2");
    EXPECT_EQ(ls.sortAndFindDuplicate(), "a");
    // Found by the fuzzer: a repeated empty name was taken for "no repeat", and hid the
    // repeats sorted after it.
    LabelSet empty;
    empty.appendUnsorted("", "1");
    empty.appendUnsorted("", "2");
    empty.appendUnsorted("x", "1");
    empty.appendUnsorted("x", "2");
    EXPECT_EQ(empty.sortAndFindDuplicate(), "");
}

TEST(LabelName, AlertmanagerRule) {
    EXPECT_TRUE(isValidLabelName("alertname"));
    EXPECT_TRUE(isValidLabelName("_x9"));
    EXPECT_FALSE(isValidLabelName(""));
    EXPECT_FALSE(isValidLabelName("9x"));
    EXPECT_FALSE(isValidLabelName("bad-label"));
    EXPECT_FALSE(isValidLabelName("标签"));
}

}  // namespace
}  // namespace alertbridge::core

namespace alertbridge::core {
namespace {

TEST(LabelSetMany, MergesLikeSetInALoop) {
    for (bool overwrite : {false, true}) {
        LabelSet a{{"alertname", "Down"}, {"instance", "10.0.0.1:9100"}, {"team", "ops"}};
        LabelSet b = a;
        std::vector<LabelSet::View> adds = {{"zone", "z1"},  {"team", "dba"}, {"app", "ctp"},
                                            {"owner", "li"}, {"empty", ""},   {"app", "later"},
                                            {"aaa", "first"}};
        for (const auto& [n, v] : adds) {
            if (v.empty() || (!overwrite && b.contains(n))) continue;
            b.set(n, v);
        }
        a.setMany(adds, overwrite);
        EXPECT_EQ(a.toString(), b.toString()) << "overwrite=" << overwrite;
    }
    LabelSet empty;
    std::vector<LabelSet::View> adds = {{"b", "2"}, {"a", "1"}};
    empty.setMany(adds, false);
    EXPECT_EQ(empty.toString(), R"({a="1", b="2"})");
}

}  // namespace
}  // namespace alertbridge::core
