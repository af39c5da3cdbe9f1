#include "plugin/state/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <future>

#include "../test_util.hpp"

namespace alertbridge::state {
namespace {

namespace fs = std::filesystem;

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
        store_->appendJournal(JournalEntry{0, "alertmanager_api", clock_.now(), body},
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

    fs::path dir_;
    SqliteOptions options_;
    core::FakeClock clock_{testing::at("2026-11-25T01:00:00Z")};
    std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, JournalAfterTheCheckpointIsWhatReplays) {
    auto a = journal("[1]");
    auto b = journal("[2]");
    EXPECT_LT(a, b);
    auto reader = store_->openReader();
    auto cp = reader->checkpointJournalId();
    ASSERT_TRUE(cp.ok()) << cp.error();
    EXPECT_EQ(*cp, 0);
    auto pending = reader->journalAfter(0, 10).value();
    ASSERT_EQ(pending.size(), 2u);
    EXPECT_EQ(pending[0].body, "[1]");
    EXPECT_EQ(pending[0].input, "alertmanager_api");
    EXPECT_EQ(pending[0].received_at, clock_.now());
    apply(StateDelta{{{1, 0, 7, "rec"}}, {}, {}, a});
    store_.reset();
    open();
    reader = store_->openReader();
    EXPECT_EQ(reader->checkpointJournalId().value(), a);
    pending = reader->journalAfter(a, 10).value();
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].id, b);
}

TEST_F(StoreTest, AlertsAndOutboxSurviveReopen) {
    apply(StateDelta{{{1, 0, 0xfffffffffffffff1ULL, "rec-1"}, {2, 0, 42, "rec-2"}},
                     {},
                     {{"am", "[a]", 1}, {"am", "[b]", 2}, {"other", "[c]", 1}},
                     0});
    // A new version of the first replaces it; the second ends.
    apply(StateDelta{{{3, 1, 0xfffffffffffffff1ULL, "rec-1b"}}, {2}, {}, 0});
    store_.reset();
    open();
    auto reader = store_->openReader();
    std::vector<std::tuple<long long, core::Fingerprint, std::string>> alerts;
    ASSERT_TRUE(reader->forEachAlert([&](long long row, core::Fingerprint fp, std::string_view r) {
        alerts.emplace_back(row, fp, std::string(r));
    }));
    ASSERT_EQ(alerts.size(), 1u);
    EXPECT_EQ(std::get<0>(alerts[0]), 3);
    EXPECT_EQ(std::get<1>(alerts[0]), 0xfffffffffffffff1ULL) << "all 64 bits of a fingerprint";
    EXPECT_EQ(std::get<2>(alerts[0]), "rec-1b");
    auto rows = reader->pendingOutbox("am", 0, 10).value();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].body, "[b]");
    EXPECT_EQ(rows[1].alert_count, 2);
    EXPECT_EQ(reader->countPendingOutbox("am").value(), 2);
    EXPECT_EQ(reader->pendingOutbox("am", rows[0].id, 10).value().size(), 1u);
}

TEST_F(StoreTest, AttemptsAreRecorded) {
    apply(StateDelta{{}, {}, {{"am", "[a]", 1}}, 0});
    auto reader = store_->openReader();
    auto id = reader->pendingOutbox("am", 0, 1).value().at(0).id;
    store_->recordAttempt(
        OutboxAttempt{{id}, OutboxState::kPending, clock_.now(), "HTTP 503: busy"});
    store_->recordAttempt(OutboxAttempt{{id}, OutboxState::kPending, clock_.now(), "refused"});
    store_->recordAttempt(OutboxAttempt{{id}, OutboxState::kDelivered, clock_.now(), ""});
    store_->flush();
    EXPECT_EQ(reader->pendingOutbox("am", 0, 1).value().size(), 0u);
    auto row = reader->pendingOutbox("am", 0, 1);
    EXPECT_EQ(scalar("SELECT attempts FROM outbox WHERE id = " + std::to_string(id)), 3);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM outbox WHERE state = 'delivered' AND last_error IS NULL"), 1);
}

TEST_F(StoreTest, CommitHookReportsTiming) {
    std::atomic<int> commits{0};
    store_->onCommit([&](const CommitStats& s) {
        EXPECT_GE(s.seconds, 0.0);
        ++commits;
    });
    journal("[1]");
    EXPECT_GE(commits.load(), 1);
}

TEST_F(StoreTest, UnwritableFolderIsAClearError) {
    SqliteOptions bad;
    bad.path = "/proc/alertbridge-cannot-be-here/ab.db";
    auto s = openSqliteStore(bad, clock_);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find("cannot create the data folder"), std::string::npos) << s.error();
}

TEST_F(StoreTest, EmailsAreKeptByAlertReplacedOnRewriteAndPrunedAfterRetention) {
    auto rec = [&](long long id, core::Fingerprint fp, std::string rule) {
        EmailRecord e;
        e.id = id;
        e.received_at = clock_.now();
        e.sender = "zabbix@dc.example";
        e.subject = "Problem: x";
        e.rule = std::move(rule);
        e.fingerprint = fp;
        e.status = "firing";
        e.result = "{}";
        e.warnings = "w1\nw2";
        e.raw = std::string("Subject: x\r\n\r\n\xff body");
        return e;
    };
    store_->recordEmail(rec(10, 0xabc, "generic"));
    store_->recordEmail(rec(11, 0xdef, "zabbix"));
    store_->recordEmail(rec(10, 0xabc, "zabbix"));  // a replay writes the same id again
    store_->flush();
    auto reader = store_->openReader();
    auto all = reader->emails(0, 10).value();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, 11) << "newest first";
    EXPECT_TRUE(all[0].raw.empty()) << "listings leave the message out";
    auto mine = reader->emails(0xabc, 10).value();
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_EQ(mine[0].rule, "zabbix");
    auto one = reader->email(10).value();
    EXPECT_EQ(one.raw, std::string("Subject: x\r\n\r\n\xff body")) << "bytes kept as sent";
    EXPECT_EQ(one.warnings, "w1\nw2");
    EXPECT_EQ(reader->email(99).error(), "no email has id 99");

    // Pruning runs with a commit (here every one) and removes what is past retention.
    store_.reset();
    options_.prune_interval = core::Duration::zero();
    open();
    journal("[3]");
    store_->flush();
    EXPECT_EQ(scalar("SELECT count(*) FROM emails"), 2) << "within retention";
    clock_.advance(options_.email_retention + std::chrono::hours(1));
    journal("[4]");
    store_->flush();
    EXPECT_EQ(scalar("SELECT count(*) FROM emails"), 0);
}

}  // namespace
}  // namespace alertbridge::state
