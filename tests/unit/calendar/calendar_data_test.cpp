// Calendar definitions and data files as check-config sees them: every mistake an error at
// its file:line, and printed facts that disagree with the night rule a warning naming the date.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "plugin/config/calendar_loader.hpp"
#include "plugin/config/loader.hpp"

namespace alertbridge::config {
namespace {

namespace fs = std::filesystem;

class CalendarDataTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("alertbridge-calendar-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string write(const std::string& name, const std::string& text) {
        auto p = dir_ / name;
        std::ofstream(p) << text;
        return p.string();
    }
    LoadResult load(const std::string& calendar_yaml) {
        return loadConfigFromString(kHead + calendar_yaml, (dir_ / "alertbridge.yml").string());
    }
    static std::string errors(const std::vector<ConfigError>& es) {
        std::string out;
        for (const auto& e : es) out += e.format() + "\n";
        return out;
    }
    static constexpr const char* kHead =
        "outputs:\n  alertmanager:\n    - name: am\n      endpoint: http://127.0.0.1:9093\n";
    static constexpr const char* kYear =
        "year: 2026\n"
        "closures:\n"
        "  - 2026-02-16..2026-02-20\n"
        "holidays:\n"
        "  - {name: spring, from: 2026-02-15, to: 2026-02-23}\n";
    std::string calendar(const std::string& data_file, const std::string& extra = "") {
        return "calendars:\n"
               "  - name: test\n"
               "    data: [" +
               data_file + "]\n" + extra +
               "    groups:\n"
               "      - name: g\n"
               "        matchers: ['product=\"x\"']\n"
               "        day: [{phase: continuous, from: \"09:00\", to: \"15:00\"}]\n"
               "        night: [{phase: continuous, from: \"21:00\", to: \"23:00\"}]\n";
    }
    fs::path dir_;
};

TEST_F(CalendarDataTest, AGoodFileLoads) {
    write("y.yaml", kYear);
    auto r = load(calendar("y.yaml"));
    EXPECT_TRUE(r.config) << errors(r.errors);
    ASSERT_EQ(r.config->calendars.size(), 1u);
    EXPECT_EQ(r.config->calendars[0].data[0].closures.size(), 1u);
}

TEST_F(CalendarDataTest, MistakesInADataFileAreErrorsAtTheirLine) {
    auto file = write("y.yaml",
                      "year: 2026\n"                          // 1
                      "closures:\n"                           // 2
                      "  - 2026-02-14\n"                      // 3: a Saturday
                      "  - 2025-03-02\n"                      // 4: another year
                      "  - {dates: 2026-03-02, mark: X}\n"    // 5: no such mark
                      "  - 2026-03-03\n"                      // 6
                      "  - 2026-03-03..2026-03-04\n"          // 7: overlaps line 6
                      "makeup_workdays: [2026-03-05]\n"       // 8: a Thursday
                      "holidays:\n"                           // 9
                      "  - {name: a, from: 2026-02-31}\n"     // 10: no such date
                      "overrides:\n"                          // 11
                      "  - {dates: 2026-03-09, reason: r}\n"  // 12: neither night nor closed
                      "colsures: []\n");                      // 13: a typo
    auto r = load(calendar("y.yaml"));
    EXPECT_FALSE(r.config);
    auto all = errors(r.errors);
    EXPECT_NE(all.find(file + ":3: closures: 2026-02-14 is a saturday"), std::string::npos) << all;
    EXPECT_NE(all.find(file + ":4: closures[1]: 2025-03-02 is not in the file's year 2026"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find(file + ":5: closures[2].mark"), std::string::npos) << all;
    EXPECT_NE(all.find(file + ":7: closures: 2026-03-03 is already a closure (line 6)"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find(file + ":8: makeup_workdays: 2026-03-05 is a thursday"), std::string::npos)
        << all;
    EXPECT_NE(all.find(file + ":10: holidays[0].from"), std::string::npos) << all;
    EXPECT_NE(all.find(file + ":12: overrides[0]: says neither night nor closed"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find(file + ":13: colsures"), std::string::npos) << all;
}

TEST_F(CalendarDataTest, MistakesInTheDefinitionAreErrorsAtTheirLine) {
    write("y.yaml", kYear);
    write("y2.yaml", kYear);
    auto r = load(
        "calendars:\n"                                                      // 5
        "  - name: test\n"                                                  // 6
        "    data: [y.yaml, y2.yaml, missing.yaml]\n"                       // 7
        "    location: Mars/Olympus\n"                                      // 8
        "    night_rule: sometimes\n"                                       // 9
        "    groups:\n"                                                     // 10
        "      - name: g\n"                                                 // 11
        "        matchers: ['product=~\"(\"']\n"                            // 12
        "        day: nosuch\n"                                             // 13
        "      - name: h\n"                                                 // 14
        "        day: [{phase: closed, from: \"09:00\", to: \"08:00\"}]\n"  // 15
        "      - name: u\n"                                                 // 16
        "        union_of: [g, nope]\n");                                   // 17
    EXPECT_FALSE(r.config);
    auto all = errors(r.errors);
    for (const char* want : {"alertbridge.yml:7: calendars[0].data[1]: a second file for 2026",
                             "missing.yaml:0: (root): not a calendar data file",
                             "alertbridge.yml:8: calendars[0].location: unknown time zone",
                             "alertbridge.yml:9: calendars[0].night_rule",
                             "alertbridge.yml:12: calendars[0].groups[0].matchers[0]",
                             "alertbridge.yml:13: calendars[0].groups[0].day: no template named",
                             "alertbridge.yml:15: calendars[0].groups[1].day[0].phase",
                             "alertbridge.yml:16: calendars[0].groups[2].union_of: \"nope\""}) {
        EXPECT_NE(all.find(want), std::string::npos) << want << "\n" << all;
    }
}

// A printed evening without a night that the rule does not give, and the reverse, are
// warnings naming the date; the printed list is followed.
TEST_F(CalendarDataTest, NoNightListsThatDisagreeWithTheRuleAreWarnings) {
    write("y.yaml", std::string(kYear) +
                        "no_night:\n"
                        "  - 2026-03-06\n");  // a plain Friday: the rule gives a night
    auto r = load(calendar("y.yaml"));
    ASSERT_TRUE(r.config) << errors(r.errors);
    auto all = errors(r.warnings);
    EXPECT_NE(all.find("y.yaml:7: no_night: 2026-03-06 is printed as an evening without a night"),
              std::string::npos)
        << all;
    EXPECT_NE(all.find("the night rule gives no night session on the evening of 2026-02-13"),
              std::string::npos)
        << all;
}

}  // namespace
}  // namespace alertbridge::config
