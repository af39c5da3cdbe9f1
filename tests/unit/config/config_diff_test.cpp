// What a reload compares: sections and outputs by their parsed content, so comments, key
// order and formatting are not changes, and a value that did change is.
#include "plugin/config/config_diff.hpp"

#include <gtest/gtest.h>

namespace alertbridge::config {
namespace {

TEST(ConfigDiff, OnlyRealChangesCount) {
    const std::string before =
        "global: {instance: ab-1, data_dir: /var/lib/ab}\n"
        "listen:\n  http: \"127.0.0.1:9095\"\n"
        "outputs:\n  alertmanager:\n"
        "    - {name: am, endpoint: \"http://127.0.0.1:9093\"}\n"
        "    - {name: am2, endpoint: \"http://127.0.0.1:9094\"}\n";
    const std::string reordered =
        "# the same, written differently\n"
        "listen: {http: \"127.0.0.1:9095\"}\n"
        "global:\n  data_dir: /var/lib/ab   # moved\n  instance: ab-1\n"
        "outputs:\n  alertmanager:\n"
        "    - endpoint: \"http://127.0.0.1:9093\"\n      name: am\n"
        "    - {name: am2, endpoint: \"http://127.0.0.1:9099\"}\n";
    EXPECT_TRUE(changedRestartSections(before, reordered).empty());
    auto a = outputEntries(before), b = outputEntries(reordered);
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a.at("am"), b.at("am")) << "key order and flow style do not count";
    EXPECT_NE(a.at("am2"), b.at("am2")) << "a new endpoint does";

    const std::string moved = before + "storage: {synchronous: normal}\n";
    EXPECT_EQ(changedRestartSections(before, moved), std::vector<std::string>{"storage"});
    auto listen = before;
    listen.replace(listen.find("9095"), 4, "9096");
    EXPECT_EQ(changedRestartSections(before, listen), std::vector<std::string>{"listen"});
    // The same name under another type is another output.
    auto n9e = outputEntries(
        "outputs:\n  nightingale:\n    - {name: am, endpoint: \"http://127.0.0.1:9093\"}\n");
    EXPECT_NE(n9e.at("am"), a.at("am"));
    EXPECT_TRUE(outputEntries("outputs: [").empty()) << "an unparsable text has none";
}

}  // namespace
}  // namespace alertbridge::config
