#pragma once
// The fixture the store's unit tests share: a store on a fake clock in a folder of its own,
// with helpers to append to the journal, apply a state delta and read the file directly.

#include "plugin/state/sqlite_store.hpp"
#include "plugin/state/sqlite_schema.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <future>
#include <string>

#include "../test_util.hpp"

namespace alertbridge::state {

namespace fs = std::filesystem;
// Every pending row is due at this instant.
constexpr core::TimePoint kDue = core::TimePoint::max();

class StoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("alertbridge-store-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        options_.path = (dir_ / "sub" / "ab.db").string();
        open();
    }
    void TearDown() override {
        store_.reset();
        fs::remove_all(dir_);
    }
    void open() {
        auto s = openSqliteStore(options_, clock_);
        ASSERT_TRUE(s.ok()) << s.error();
        store_ = std::move(s).value();
    }
    long long journal(const std::string& body) {
        std::promise<core::Result<long long>> p;
        store_->appendJournal(JournalEntry{0, "alertmanager_api", clock_.now(), body, nullptr},
                              [&](const core::Result<long long>& r) { p.set_value(r); });
        auto r = p.get_future().get();
        EXPECT_TRUE(r.ok());
        return r.ok() ? *r : -1;
    }
    void apply(StateDelta d) {
        std::promise<bool> p;
        store_->applyDelta(std::move(d), [&](const core::Status& s) { p.set_value(s.ok()); });
        EXPECT_TRUE(p.get_future().get());
    }
    long long scalar(const std::string& sql) {
        sqlite3* db = nullptr;
        sqlite3_open(options_.path.c_str(), &db);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
        long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_finalize(st);
        sqlite3_close(db);
        return v;
    }
    void opensMigratedAndCarriesOn(const std::string& fixture, std::size_t pending_rows,
                                   bool rows_have_keys, bool rows_are_notifications = false);
    // Closes the store and puts a data_dir fixture's file in its place, unopened.
    void useFixture(const std::string& fixture) {
        store_.reset();
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "sub");
        fs::copy_file(std::string(ALERTBRIDGE_FIXTURES) + "/" + fixture + "/alertbridge.db",
                      options_.path);
    }

    fs::path dir_;
    SqliteOptions options_;
    core::FakeClock clock_{testing::at("2026-11-25T01:00:00Z")};
    std::unique_ptr<Store> store_;
};

}  // namespace alertbridge::state
