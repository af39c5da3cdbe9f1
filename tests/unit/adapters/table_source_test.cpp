// Table sources: files reloaded on change, the last good snapshot kept on a bad load, url
// sources that are down. Real files in a temporary folder; the url is a closed local port.

#include "adapters/lookup/table_source.hpp"

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "plugin/config/loader.hpp"

namespace alertbridge::lookup {
namespace {

namespace fs = std::filesystem;

class TableSourceTest : public ::testing::Test {
  protected:
    TableSourceTest() {
        dir_ = fs::temp_directory_path() /
               ("ab-table-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    ~TableSourceTest() override { fs::remove_all(dir_); }

    void write(const std::string& name, const std::string& text) {
        // Written whole and renamed into place, as operators are told to.
        std::ofstream(dir_ / (name + ".tmp")) << text;
        fs::rename(dir_ / (name + ".tmp"), dir_ / name);
    }

    void load(const std::string& enrich_yaml) {
        std::string yaml = "global: {data_dir: " + (dir_ / "data").string() + "}\n" + enrich_yaml;
        auto r = config::loadConfigFromString(yaml, (dir_ / "alertbridge.yml").string());
        ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors[0].format());
        config_ = std::move(*r.config);
        snapshots_ = std::make_shared<pipeline::TableSnapshots>(config_.enrich.tables.size());
        sources_ = std::make_unique<TableSources>(config_, snapshots_, metrics_, clock_);
    }

    std::string owner(std::string_view ip) {
        auto t = snapshots_->get(0);
        if (!t) return "(not loaded)";
        auto row = t->find(ip);
        return row == pipeline::LookupTable::kNoRow ? "-" : std::string(t->cell(row, 0));
    }

    double metric(const std::string& family, const std::string& labels) {
        std::string text = metrics_.serialize();
        std::string key = family + "{" + labels + "} ";
        auto at = text.find(key);
        if (at == std::string::npos) return -1;
        return std::stod(text.substr(at + key.size()));
    }

    fs::path dir_;
    core::SystemClock clock_;
    telemetry::Metrics metrics_;
    config::Config config_;
    std::shared_ptr<pipeline::TableSnapshots> snapshots_;
    std::unique_ptr<TableSources> sources_;
};

constexpr const char* kCmdb = R"(
enrich:
  file_check_interval: 100ms
  tables:
    - name: cmdb
      source: {file: cmdb.csv}
      key_label: ip
      columns: {owner: owner}
)";

TEST_F(TableSourceTest, AChangedFileIsReloaded) {
    write("cmdb.csv", "ip,owner\n10.8.1.21,li.na\n");
    load(kCmdb);
    EXPECT_TRUE(sources_->loadInitial().empty());
    EXPECT_EQ(owner("10.8.1.21"), "li.na");
    EXPECT_EQ(metric("alertbridge_enrich_table_rows", "table=\"cmdb\""), 1);
    EXPECT_EQ(metric("alertbridge_enrich_table_loaded", "table=\"cmdb\""), 1);
    EXPECT_GT(metric("alertbridge_enrich_table_last_reload_timestamp_seconds", "table=\"cmdb\""),
              1.7e9);

    EXPECT_TRUE(sources_->refresh(0));  // unchanged: nothing to do
    EXPECT_EQ(metric("alertbridge_enrich_table_reloads_total", "result=\"ok\",table=\"cmdb\""), 1);

    write("cmdb.csv", "ip,owner\n10.8.1.21,zhao.lei\n10.8.1.22,li.na\n");
    EXPECT_TRUE(sources_->refresh(0));
    EXPECT_EQ(owner("10.8.1.21"), "zhao.lei");
    EXPECT_EQ(owner("10.8.1.22"), "li.na");
    EXPECT_EQ(metric("alertbridge_enrich_table_rows", "table=\"cmdb\""), 2);
    EXPECT_EQ(metric("alertbridge_enrich_table_reloads_total", "result=\"ok\",table=\"cmdb\""), 2);
}

TEST_F(TableSourceTest, ABrokenFileKeepsTheLastGoodTableAndNamesTheLine) {
    write("cmdb.csv", "ip,owner\n10.8.1.21,li.na\n");
    load(kCmdb);
    ASSERT_TRUE(sources_->loadInitial().empty());
    write("cmdb.csv", "ip,owner\n10.8.1.21,zhao.lei\n10.8.1.22,\"unclosed\n");
    auto s = sources_->refresh(0);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find((dir_ / "cmdb.csv").string() + ":3: "), std::string::npos)
        << s.error();
    EXPECT_EQ(owner("10.8.1.21"), "li.na");  // the last good snapshot
    EXPECT_EQ(metric("alertbridge_enrich_table_reloads_total", "result=\"error\",table=\"cmdb\""),
              1);
    EXPECT_TRUE(sources_->refresh(0));  // the same broken file is not retried or recounted
    EXPECT_EQ(metric("alertbridge_enrich_table_reloads_total", "result=\"error\",table=\"cmdb\""),
              1);

    fs::remove(dir_ / "cmdb.csv");  // gone: still the last good snapshot
    EXPECT_FALSE(sources_->refresh(0));
    EXPECT_EQ(owner("10.8.1.21"), "li.na");

    write("cmdb.csv", "ip,owner\n10.8.1.21,zhao.lei\n");  // fixed
    EXPECT_TRUE(sources_->refresh(0));
    EXPECT_EQ(owner("10.8.1.21"), "zhao.lei");
}

TEST_F(TableSourceTest, ABrokenFileAtStartIsAnError) {
    write("cmdb.csv", "ip,owner\n10.8.1.21,li.na,extra\n");
    load(kCmdb);
    auto errors = sources_->loadInitial();
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].find("cmdb.csv:2: the row has 3 fields, the header 2"), std::string::npos)
        << errors[0];
}

TEST_F(TableSourceTest, AFileChangedUnderLoadTakesEffect) {
    write("cmdb.csv", "ip,owner\n10.8.1.21,v0\n");
    load(kCmdb);
    ASSERT_TRUE(sources_->loadInitial().empty());
    sources_->start();
    // Readers hammer the snapshot while the file changes underneath them.
    std::atomic<bool> stop{false};
    std::atomic<long> lookups{0};
    std::thread reader([&] {
        while (!stop.load()) {
            auto t = snapshots_->get(0);
            auto row = t->find("10.8.1.21");
            EXPECT_NE(row, pipeline::LookupTable::kNoRow);
            lookups.fetch_add(1);
        }
    });
    for (int v = 1; v <= 3; ++v) {
        write("cmdb.csv", "ip,owner\n10.8.1.21,v" + std::to_string(v) + "\n");
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (owner("10.8.1.21") != "v" + std::to_string(v) &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        EXPECT_EQ(owner("10.8.1.21"), "v" + std::to_string(v)) << "within 5 s";
    }
    stop.store(true);
    reader.join();
    sources_->stop();
    EXPECT_GT(lookups.load(), 0);
}

TEST_F(TableSourceTest, AUrlSourceDownAtStartLeavesTheTableUnloaded) {
    load(R"(
enrich:
  tables:
    - name: cmdb
      source: {url: "http://127.0.0.1:1/hosts.csv", timeout: 1s}
      key_label: ip
      columns: {owner: owner}
      default: {owner: unknown}
)");
    EXPECT_TRUE(sources_->loadInitial().empty());  // not an error: start-up goes on
    EXPECT_EQ(owner("10.8.1.21"), "(not loaded)");
    auto s = sources_->refresh(0);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find("GET http://127.0.0.1:1/hosts.csv"), std::string::npos) << s.error();
    EXPECT_EQ(metric("alertbridge_enrich_table_loaded", "table=\"cmdb\""), 0);
    EXPECT_EQ(metric("alertbridge_enrich_table_reloads_total", "result=\"error\",table=\"cmdb\""),
              1);
}

TEST_F(TableSourceTest, AUrlTableStartsFromItsCachedCopy) {
    fs::create_directories(dir_ / "data" / "tables");
    std::ofstream(dir_ / "data" / "tables" / "cmdb.csv") << "ip,owner\n10.8.1.21,cached\n";
    load(R"(
enrich:
  tables:
    - name: cmdb
      source: {url: "http://127.0.0.1:1/api/hosts", format: csv, timeout: 1s}
      key_label: ip
      columns: {owner: owner}
)");
    EXPECT_TRUE(sources_->loadInitial().empty());
    EXPECT_EQ(owner("10.8.1.21"), "cached");
    EXPECT_FALSE(sources_->refresh(0));  // the source is down: the copy stays
    EXPECT_EQ(owner("10.8.1.21"), "cached");
}

}  // namespace
}  // namespace alertbridge::lookup

namespace alertbridge::lookup {
namespace {

TEST_F(TableSourceTest, ATableBelowMinRowsIsRefused) {
    write("cmdb.csv", "ip,owner\n10.8.1.21,li.na\n10.8.1.22,li.na\n");
    load(R"(
enrich:
  tables:
    - name: cmdb
      source: {file: cmdb.csv, min_rows: 2}
      key_label: ip
      columns: {owner: owner}
)");
    ASSERT_TRUE(sources_->loadInitial().empty());
    write("cmdb.csv", "ip,owner\n");  // the export job wrote only its header
    auto s = sources_->refresh(0);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().find("0 rows, fewer than source.min_rows (2)"), std::string::npos)
        << s.error();
    EXPECT_EQ(owner("10.8.1.21"), "li.na");  // still the last good table
    EXPECT_EQ(metric("alertbridge_enrich_table_reloads_total", "result=\"error\",table=\"cmdb\""),
              1);
}

}  // namespace
}  // namespace alertbridge::lookup
