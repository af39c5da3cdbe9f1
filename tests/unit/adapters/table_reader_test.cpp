#include "adapters/lookup/table_reader.hpp"

#include <gtest/gtest.h>

namespace alertbridge::lookup {
namespace {

using config::TableFormat;

TEST(CsvTable, ReadsHeaderRowsAndLines) {
    auto t = readTable(
                 "\xEF\xBB\xBFip,owner,team\n"
                 "# a comment\n"
                 "10.8.1.21,li.na,dba\n"
                 "\n"
                 "10.8.1.22,\"wang, wei\",\"trading\n infra\"\n"
                 "10.8.1.23,\"say \"\"hi\"\"\",ops\r\n"
                 "10.8.1.24,,ops",
                 TableFormat::kCsv, "cmdb.csv")
                 .value();
    EXPECT_EQ(t.columns, (std::vector<std::string>{"ip", "owner", "team"}));
    ASSERT_EQ(t.rows.size(), 4u);
    EXPECT_EQ(t.rows[0], (std::vector<std::string>{"10.8.1.21", "li.na", "dba"}));
    EXPECT_EQ(t.rows[1], (std::vector<std::string>{"10.8.1.22", "wang, wei", "trading\n infra"}));
    EXPECT_EQ(t.rows[2], (std::vector<std::string>{"10.8.1.23", "say \"hi\"", "ops"}));
    EXPECT_EQ(t.rows[3], (std::vector<std::string>{"10.8.1.24", "", "ops"}));
    EXPECT_EQ(t.lines, (std::vector<int>{3, 5, 7, 8}));
}

TEST(CsvTable, ErrorsNameTheLine) {
    auto r = readTable("ip,owner\n10.0.0.1,a\n10.0.0.2,b\"c\n", TableFormat::kCsv, "cmdb.csv");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().rfind("cmdb.csv:3: ", 0), 0u) << r.error();
    r = readTable("ip,owner\n10.0.0.1,\"open\n", TableFormat::kCsv, "cmdb.csv");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "cmdb.csv:2: the file ends inside a quoted field");
    r = readTable("ip,ip\n", TableFormat::kCsv, "cmdb.csv");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "cmdb.csv:1: column \"ip\" appears twice");
    r = readTable("# only a comment\n", TableFormat::kCsv, "cmdb.csv");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "cmdb.csv: no header row");
}

TEST(YamlTable, ReadsAListOfMaps) {
    auto t = readTable(
                 "- {ip: 10.8.1.21, owner: li.na}\n"
                 "- ip: 10.8.1.22\n"
                 "  team: ops\n"
                 "  port: 9100\n",
                 TableFormat::kYaml, "cmdb.yaml")
                 .value();
    EXPECT_EQ(t.columns, (std::vector<std::string>{"ip", "owner", "team", "port"}));
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows[1], (std::vector<std::string>{"10.8.1.22", "", "ops", "9100"}));
    EXPECT_EQ(t.lines, (std::vector<int>{1, 2}));
    auto r = readTable("- {ip: 10.0.0.1}\n- [a, b]\n", TableFormat::kYaml, "cmdb.yaml");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "cmdb.yaml:2: expected a row (a map of column: value)");
    r = readTable("- {ip: 10.0.0.1\n", TableFormat::kYaml, "cmdb.yaml");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().rfind("cmdb.yaml:", 0), 0u);
}

TEST(JsonTable, ReadsAnArrayOrACommonEnvelope) {
    auto t = readTable(R"([{"ip":"10.8.1.21","owner":"li.na","port":9100,"up":true,"x":null}])",
                       TableFormat::kJson, "api")
                 .value();
    EXPECT_EQ(t.columns, (std::vector<std::string>{"ip", "owner", "port", "up", "x"}));
    EXPECT_EQ(t.rows[0], (std::vector<std::string>{"10.8.1.21", "li.na", "9100", "true", ""}));
    t = readTable(R"({"code":0,"data":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2","owner":"a"}]})",
                  TableFormat::kJson, "api")
            .value();
    ASSERT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.rows[0], (std::vector<std::string>{"10.0.0.1", ""}));
    auto r = readTable("[{\"ip\":\n\"10.0.0.1\",}]", TableFormat::kJson, "http://cmdb/api");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().rfind("http://cmdb/api:2: ", 0), 0u) << r.error();
    r = readTable(R"({"status":"ok"})", TableFormat::kJson, "api");
    ASSERT_FALSE(r);
    r = readTable(R"([{"ip":{"v4":"10.0.0.1"}}])", TableFormat::kJson, "api");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "api: row 1: \"ip\" must be a single value");
}

TEST(TableFormat, DetectedFromTheNameOrContentType) {
    EXPECT_EQ(detectFormat("cmdb.csv"), TableFormat::kCsv);
    EXPECT_EQ(detectFormat("/x/hosts.YML"), TableFormat::kYaml);
    EXPECT_EQ(detectFormat("http://cmdb/export.json?since=0"), TableFormat::kJson);
    EXPECT_EQ(detectFormat("http://cmdb/api/hosts", "application/json; charset=utf-8"),
              TableFormat::kJson);
    EXPECT_EQ(detectFormat("http://cmdb/hosts.json", "text/csv"), TableFormat::kCsv);
    EXPECT_EQ(detectFormat("http://cmdb/api/hosts", "text/plain"), TableFormat::kAuto);
    auto r = readTable("a", TableFormat::kAuto, "http://cmdb/api/hosts");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().find("set source.format"), std::string::npos);
}

}  // namespace
}  // namespace alertbridge::lookup
