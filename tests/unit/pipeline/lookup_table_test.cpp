#include "plugin/pipeline/enrich/lookup_table.hpp"

#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace alertbridge::pipeline {
namespace {

config::TableConfig cidrTable() {
    config::TableConfig t;
    t.name = "whitelist";
    t.key_label = "ip";
    t.match = config::TableMatch::kCidr;
    t.columns = {{"customer", "customer"}};
    return t;
}

TableData rows(std::vector<std::vector<std::string>> cells) {
    TableData d;
    d.columns = {"cidr", "customer"};
    int line = 2;
    for (auto& r : cells) {
        d.rows.push_back(std::move(r));
        d.lines.push_back(line++);
    }
    return d;
}

std::string customer(const LookupTable& t, std::string_view ip) {
    auto row = t.find(ip);
    return row == LookupTable::kNoRow ? "-" : std::string(t.cell(row, 0));
}

TEST(CidrTable, TheLongestPrefixWins) {
    auto t = LookupTable::build(cidrTable(),
                                rows({{"10.0.0.0/8", "corp"},
                                      {"10.8.0.0/16", "broker-a"},
                                      {"10.8.1.0/24", "broker-a-trading"},
                                      {"10.8.1.21/32", "one-host"},
                                      {"10.9.0.0/16", "broker-b"}}),
                                "whitelist.csv")
                 .value();
    EXPECT_EQ(customer(*t, "10.8.1.21"), "one-host");
    EXPECT_EQ(customer(*t, "10.8.1.22"), "broker-a-trading");
    EXPECT_EQ(customer(*t, "10.8.2.1"), "broker-a");
    EXPECT_EQ(customer(*t, "10.9.255.255"), "broker-b");
    EXPECT_EQ(customer(*t, "10.10.0.1"), "corp");
    EXPECT_EQ(customer(*t, "10.255.255.255"), "corp");
    EXPECT_EQ(customer(*t, "11.0.0.0"), "-");
    EXPECT_EQ(customer(*t, "9.255.255.255"), "-");
    EXPECT_EQ(customer(*t, "10.8.1.255"), "broker-a-trading");  // last address of the /24
    EXPECT_EQ(customer(*t, "10.8.1.0"), "broker-a-trading");    // first address
}

TEST(CidrTable, OrderInTheFileDoesNotMatter) {
    auto t = LookupTable::build(cidrTable(),
                                rows({{"10.8.1.0/24", "inner"}, {"10.0.0.0/8", "outer"}}), "w.csv")
                 .value();
    EXPECT_EQ(customer(*t, "10.8.1.9"), "inner");
    EXPECT_EQ(customer(*t, "10.8.2.9"), "outer");
}

TEST(CidrTable, SlashZeroAndSlash32) {
    auto t = LookupTable::build(cidrTable(),
                                rows({{"0.0.0.0/0", "anything"},
                                      {"192.0.2.7/32", "exactly"},
                                      {"192.0.2.8", "bare-address"}}),
                                "w.csv")
                 .value();
    EXPECT_EQ(customer(*t, "192.0.2.7"), "exactly");
    EXPECT_EQ(customer(*t, "192.0.2.8"), "bare-address");
    EXPECT_EQ(customer(*t, "192.0.2.6"), "anything");
    EXPECT_EQ(customer(*t, "0.0.0.0"), "anything");
    EXPECT_EQ(customer(*t, "255.255.255.255"), "anything");
    EXPECT_EQ(customer(*t, "2001:db8::1"), "-");  // an IPv4 /0 does not cover IPv6
}

TEST(CidrTable, Ipv6PrefixesAndTheForms) {
    auto t = LookupTable::build(cidrTable(),
                                rows({{"2001:db8::/32", "v6-broker"},
                                      {"2001:db8:1::/48", "v6-trading"},
                                      {"::/0", "v6-any"},
                                      {"10.8.0.0/16", "v4"}}),
                                "w.csv")
                 .value();
    EXPECT_EQ(customer(*t, "2001:db8:1::5"), "v6-trading");
    EXPECT_EQ(customer(*t, "2001:db8:2::5"), "v6-broker");
    EXPECT_EQ(customer(*t, "2001:db9::1"), "v6-any");
    EXPECT_EQ(customer(*t, "[2001:db8:1::5]:443"), "v6-trading");  // bracketed with a port
    EXPECT_EQ(customer(*t, "[2001:db8:1::5]"), "v6-trading");
    EXPECT_EQ(customer(*t, "10.8.1.21:9100"), "v4");    // an IP with a port
    EXPECT_EQ(customer(*t, "::ffff:10.8.1.21"), "v4");  // IPv4-mapped is IPv4
    EXPECT_EQ(customer(*t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "v6-any");
}

TEST(CidrTable, GarbageKeysMissAndAreFlagged) {
    auto t = LookupTable::build(cidrTable(), rows({{"0.0.0.0/0", "any"}}), "w.csv").value();
    for (const char* bad : {"", "db01", "10.8.1", "10.8.1.256", "10.8.1.21:", "[::1", "1.2.3.4/8",
                            "10.8.1.21:99999", " 10.8.1.21"}) {
        EXPECT_EQ(t->find(bad), LookupTable::kNoRow) << bad;
        EXPECT_TRUE(t->unusableKey(bad)) << bad;
    }
}

TEST(CidrTable, ABadRowFailsTheLoadWithItsLine) {
    auto r = LookupTable::build(
        cidrTable(), rows({{"10.0.0.0/8", "a"}, {"10.8.1.1/16", "b"}, {"nonsense", "c"}}),
        "whitelist.csv");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("whitelist.csv:3: "), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("10.8.0.0/16"), std::string::npos) << r.error();  // the hint
    EXPECT_NE(r.error().find("and 1 more"), std::string::npos) << r.error();
}

TEST(CidrTable, ADuplicatePrefixKeepsTheFirstRowAndWarns) {
    auto t = LookupTable::build(
                 cidrTable(), rows({{"10.8.0.0/16", "first"}, {"10.8.0.0/16", "second"}}), "w.csv")
                 .value();
    EXPECT_EQ(customer(*t, "10.8.3.3"), "first");
    ASSERT_EQ(t->warnings().size(), 1u);
    EXPECT_NE(t->warnings()[0].find("w.csv:3: duplicate key"), std::string::npos);
}

TEST(CidrTable, AgreesWithALinearScanOnRandomPrefixes) {
    // Random nested and disjoint prefixes; every probe must give the longest prefix a
    // brute-force scan finds.
    std::mt19937 rng(7);
    std::vector<std::vector<std::string>> cells;
    std::vector<std::pair<std::uint32_t, int>> prefixes;
    for (int i = 0; i < 400; ++i) {
        int len = 8 + static_cast<int>(rng() % 25);
        std::uint32_t net =
            (0x0A000000U | (rng() & 0x00FFFFFFU)) & (len == 0 ? 0 : ~0U << (32 - len));
        prefixes.emplace_back(net, len);
        cells.push_back({fmt::format("{}.{}.{}.{}/{}", net >> 24, (net >> 16) & 255,
                                     (net >> 8) & 255, net & 255, len),
                         std::to_string(i)});
    }
    auto t = LookupTable::build(cidrTable(), rows(cells), "w.csv").value();
    for (int probe = 0; probe < 20000; ++probe) {
        std::uint32_t ip = 0x0A000000U | (rng() & 0x00FFFFFFU);
        int best = -1, best_len = -1;
        for (std::size_t i = 0; i < prefixes.size(); ++i) {
            auto [net, len] = prefixes[i];
            std::uint32_t mask = len == 0 ? 0 : ~0U << (32 - len);
            if ((ip & mask) == net && len > best_len) {
                best = static_cast<int>(i);
                best_len = len;
            }
        }
        // Duplicate prefixes keep the first row, which the scan also finds first.
        std::string want = best < 0 ? "-" : std::to_string(best);
        std::string text =
            fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
        ASSERT_EQ(customer(*t, text), want) << text;
    }
}

TEST(ExactTable, LooksUpTheKeyColumn) {
    config::TableConfig cfg;
    cfg.name = "cmdb";
    cfg.key_label = "ip";
    cfg.key_column = "ip";
    cfg.columns = {{"owner", "owner"}, {"team", "team"}};
    TableData d;
    d.columns = {"hostname", "ip", "owner", "team"};
    d.rows = {{"db01", "10.8.1.21", "li.na", "dba"},
              {"app01", "10.8.1.22", "wang.wei", ""},
              {"app02", "10.8.1.22", "someone.else", "ops"}};
    d.lines = {2, 3, 4};
    auto t = LookupTable::build(cfg, d, "cmdb.csv").value();
    auto row = t->find("10.8.1.21");
    ASSERT_NE(row, LookupTable::kNoRow);
    EXPECT_EQ(t->cell(row, 0), "li.na");
    EXPECT_EQ(t->cell(row, 1), "dba");
    row = t->find("10.8.1.22");
    EXPECT_EQ(t->cell(row, 0), "wang.wei");  // the first of the duplicates
    EXPECT_EQ(t->cell(row, 1), "");          // an empty cell
    EXPECT_EQ(t->find("10.8.1.2"), LookupTable::kNoRow);
    EXPECT_EQ(t->find("10.8.1.21:9100"), LookupTable::kNoRow);  // exact means exact
    EXPECT_FALSE(t->unusableKey("anything"));
    EXPECT_EQ(t->rows(), 3u);
    EXPECT_GT(t->memoryBytes(), 0u);
    ASSERT_EQ(t->warnings().size(), 1u);
    EXPECT_NE(
        t->warnings()[0].find("cmdb.csv:4: duplicate key \"10.8.1.22\" (first at cmdb.csv:3)"),
        std::string::npos)
        << t->warnings()[0];
}

TEST(ExactTable, UnknownColumnsAreNamed) {
    config::TableConfig cfg;
    cfg.name = "cmdb";
    cfg.key_label = "ip";
    cfg.key_column = "address";
    TableData d;
    d.columns = {"ip", "owner"};
    auto r = LookupTable::build(cfg, d, "cmdb.csv");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "cmdb.csv: key_column \"address\" is not a column (columns: ip, owner)");
    cfg.key_column = "";
    cfg.columns = {{"team", "team"}};
    r = LookupTable::build(cfg, d, "cmdb.csv");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("column \"team\" (for label team) is not a column"),
              std::string::npos);
}

TEST(ExactTable, RowsWithoutAKeyAreLeftOutAndSaidSo) {
    config::TableConfig cfg;
    cfg.name = "cmdb";
    cfg.key_label = "ip";
    cfg.columns = {{"owner", "owner"}};
    TableData d;
    d.columns = {"ip", "owner"};
    d.rows = {{"10.0.0.1", "a"}, {"", "b"}};
    d.lines = {2, 3};
    auto r = LookupTable::build(cfg, d, "cmdb.csv");
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ((*r)->rows(), 1U);
    ASSERT_EQ((*r)->warnings().size(), 1U);
    EXPECT_EQ((*r)->warnings()[0], "cmdb.csv:3: the key column \"ip\" is empty; row left out");
    // A key column empty in every row is a mistake (the wrong column), not a sparse table.
    d.rows = {{"", "a"}, {"", "b"}};
    r = LookupTable::build(cfg, d, "cmdb.csv");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "cmdb.csv: the key column \"ip\" is empty in every row");
}

}  // namespace
}  // namespace alertbridge::pipeline
