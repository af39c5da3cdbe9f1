#include "plugin/state/sqlite_store.hpp"
#include "plugin/state/sqlite_schema.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <random>

#include "../test_util.hpp"

namespace alertbridge::state {
namespace {

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
    apply(StateDelta{
        {{1, 0, 0xfffffffffffffff1ULL, "rec-1"}, {2, 0, 42, "rec-2"}},
        {},
        {{"am", "[a]", 1, {}, {}}, {"am", "[b]", 2, {}, {}}, {"other", "[c]", 1, {}, {}}},
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
    auto rows = reader->pendingOutbox("am", 10, 1000000, kDue).value();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].body, "[b]");
    EXPECT_EQ(rows[1].alert_count, 2);
    auto backlog = reader->pendingBacklog("am").value();
    EXPECT_EQ(backlog.rows, 2);
    EXPECT_EQ(backlog.bytes, 6);
    EXPECT_EQ(reader->pendingOutbox("am", 1, 1000000, kDue).value().size(), 1u);
}

// A journal entry or outbox row of a batch is stored as a zstd frame, read back as it came.
TEST_F(StoreTest, BodiesAreStoredPackedAndReadBackAsGiven) {
    std::string body = "[";
    for (int i = 0; i < 100; ++i) {
        if (i > 0) body += ",";
        body += R"({"labels":{"alertname":"HostDown","host":"h)" + std::to_string(i) + R"("}})";
    }
    body += "]";
    auto id = journal(body);
    EXPECT_LT(scalar("SELECT length(body) FROM journal WHERE id = " + std::to_string(id)) * 4,
              static_cast<long long>(body.size()));
    auto reader = store_->openReader();
    auto back = reader->journalAfter(id - 1, 1).value();
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].body, body);

    // So is an outbox row, and its element keys still point into the body as it was.
    const auto first = static_cast<std::uint32_t>(body.find('{'));
    const auto first_end = static_cast<std::uint32_t>(body.find('}') + 2);
    apply(StateDelta{{}, {}, {{"am", body, 100, {{42, first, first_end}}, {}}}, 0});
    EXPECT_LT(scalar("SELECT length(body) FROM outbox") * 4, static_cast<long long>(body.size()));
    auto rows = reader->pendingOutbox("am", 10, 1000000, kDue).value();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].body, body);
    ASSERT_EQ(rows[0].keys.size(), 1u);
    EXPECT_EQ(rows[0].body.substr(first, first_end - first),
              R"({"labels":{"alertname":"HostDown","host":"h0"}})");
    auto keyed = reader->pendingKeys("am", 0, 10).value();
    ASSERT_EQ(keyed.size(), 1u);
    ASSERT_EQ(keyed[0].keys.size(), 1u);
    EXPECT_EQ(keyed[0].keys[0].key, 42u);
}

TEST_F(StoreTest, AttemptsAreRecorded) {
    apply(StateDelta{{}, {}, {{"am", "[a]", 1, {}, {}}}, 0});
    auto reader = store_->openReader();
    auto id = reader->pendingOutbox("am", 1, 1000000, kDue).value().at(0).id;
    auto attempt = [&](OutboxState state, std::string error) {
        OutboxAttempt a;
        a.ids = {id};
        a.state = state;
        a.at = clock_.now();
        a.last_error = std::move(error);
        return a;
    };
    store_->recordAttempt(attempt(OutboxState::kPending, "HTTP 503: busy"));
    store_->recordAttempt(attempt(OutboxState::kPending, "refused"));
    std::promise<bool> committed;
    store_->recordAttempt(attempt(OutboxState::kDelivered, ""),
                          [&](const core::Status& s) { committed.set_value(s.ok()); });
    EXPECT_TRUE(committed.get_future().get()) << "the completion callback runs after the commit";
    EXPECT_EQ(reader->pendingOutbox("am", 1, 1000000, kDue).value().size(), 0u);
    EXPECT_EQ(scalar("SELECT attempts FROM outbox WHERE id = " + std::to_string(id)), 3);
    EXPECT_EQ(
        scalar("SELECT count(*) FROM outbox WHERE state = 'delivered' AND last_error IS NULL"), 1);
    EXPECT_EQ(scalar("SELECT length(body) FROM outbox WHERE id = " + std::to_string(id)), 0)
        << "a delivered row keeps its record, not its body";
    EXPECT_EQ(scalar("SELECT keys IS NULL FROM outbox WHERE id = " + std::to_string(id)), 1);

    // A dropped row keeps its body: it is what the output refused.
    apply(StateDelta{{}, {}, {{"am", "[refused]", 1, {}, {}}}, 0});
    id = reader->pendingOutbox("am", 1, 1000000, kDue).value().at(0).id;
    store_->recordAttempt(attempt(OutboxState::kDropped, "HTTP 400: bad alert"));
    store_->flush();
    EXPECT_EQ(scalar("SELECT length(body) FROM outbox WHERE id = " + std::to_string(id)), 9);
}

// With synchronous: full (the default) the fsync that made a commit durable is reported
// too, with the first commit it answered.
TEST_F(StoreTest, CommitHookReportsTiming) {
    std::atomic<int> commits{0};
    std::atomic<int> fsyncs{0};
    store_->onCommit([&](const CommitStats& s) {
        EXPECT_GE(s.seconds, 0.0);
        EXPECT_TRUE(s.ok);
        if (s.fsync_seconds >= 0) {
            EXPECT_LE(s.fsync_seconds, s.seconds);
            ++fsyncs;
        }
        ++commits;
    });
    journal("[1]");
    journal("[2]");
    EXPECT_GE(commits.load(), 2);
    EXPECT_GE(fsyncs.load(), 1);
    EXPECT_LE(fsyncs.load(), commits.load());
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

namespace alertbridge::state {
namespace {

// A backlog past retention larger than one prune chunk is worked off a chunk per commit,
// not a chunk per prune_interval (at 2,000 rows per 10 s a busy journal outgrew its prune).
TEST_F(StoreTest, PruneWorksOffABacklogAChunkPerCommit) {
    store_.reset();
    options_.prune_interval = std::chrono::hours(1);
    options_.journal_retention = std::chrono::seconds(2);
    open();
    constexpr int kRows = 4500;
    std::atomic<long long> last{0};
    for (int i = 0; i < kRows; ++i) {
        store_->appendJournal(JournalEntry{0, "alertmanager_api", clock_.now(), "[x]", nullptr},
                              [&](const core::Result<long long>& r) {
                                  if (r.ok()) last = std::max(last.load(), *r);
                              });
    }
    store_->flush();
    apply(StateDelta{{}, {}, {}, last.load()});  // all of it behind the checkpoint
    ASSERT_EQ(scalar("SELECT count(*) FROM journal"), kRows);
    clock_.advance(std::chrono::hours(2));  // past retention and one prune_interval
    for (int i = 0; i < 6; ++i) {
        journal("[new " + std::to_string(i) + "]");
        store_->flush();
    }
    // Only the first prune was due by the interval; the rest came from the backlog.
    EXPECT_EQ(scalar("SELECT count(*) FROM journal WHERE body = '[x]'"), 0);
    EXPECT_EQ(scalar("SELECT count(*) FROM journal WHERE body != '[x]'"), 6)
        << "entries after the checkpoint stay";
}

// Ids never go backwards, even once pruning has emptied every table: rows written after a
// quiet period land above the checkpoint and above every outbox row ever handed out.
TEST_F(StoreTest, IdsNeverGoBackAfterPruningEmptiesTheTables) {
    store_.reset();
    options_.prune_interval = core::Duration::zero();
    options_.journal_retention = std::chrono::seconds(2);
    options_.outbox_retention = std::chrono::seconds(2);
    open();
    long long last = 0;
    for (int i = 0; i < 5; ++i) last = journal("[" + std::to_string(i) + "]");
    apply(StateDelta{{},
                     {},
                     {{"am", "[a]", 1, {}, {}}, {"am", "[b]", 1, {}, {}}, {"am", "[c]", 1, {}, {}}},
                     last});
    auto reader = store_->openReader();
    auto rows = reader->pendingOutbox("am", 10, 1000000, kDue).value();
    ASSERT_EQ(rows.size(), 3u);
    OutboxAttempt done;
    for (const auto& r : rows) done.ids.push_back(r.id);
    done.state = OutboxState::kDelivered;
    done.at = clock_.now();
    store_->recordAttempt(done);
    store_->flush();

    clock_.advance(std::chrono::seconds(25));  // a quiet period longer than every retention
    journal("[prune]");                        // commits, and prunes with it
    store_->flush();
    journal("[prune again]");  // the first prune ran before this entry's own checkpoint
    apply(StateDelta{{}, {}, {}, last + 2});
    clock_.advance(std::chrono::seconds(25));
    journal("[x]");
    store_->flush();
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox"), 0) << "delivered rows were pruned";
    EXPECT_LE(scalar("SELECT count(*) FROM journal"), 1) << "checkpointed entries were pruned";

    auto next = journal("[after the quiet period]");
    EXPECT_GT(next, last + 3) << "a journal id is never reused";
    EXPECT_GT(next, reader->checkpointJournalId().value());
    apply(StateDelta{{}, {}, {{"am", "[new]", 1, {}, {}}}, 0});
    auto fresh = reader->pendingOutbox("am", 10, 1000000, kDue).value();
    ASSERT_EQ(fresh.size(), 1u) << "the new row is pending, whatever the ids";
    EXPECT_GT(fresh[0].id, rows.back().id) << "an outbox id is never reused";
    EXPECT_EQ(fresh[0].body, "[new]");
    // And after a restart, too.
    store_.reset();
    open();
    EXPECT_GT(journal("[after restart]"), next);
}

// A store written by an earlier release (left by kill -9 with an entry after its checkpoint
// and rows still to deliver; both fixtures were made the same way) opens, is migrated, and
// carries on.
void StoreTest::opensMigratedAndCarriesOn(const std::string& fixture, std::size_t pending_rows,
                                          bool rows_have_keys, bool rows_are_notifications) {
    useFixture(fixture);
    open();
    EXPECT_EQ(scalar("SELECT value FROM meta WHERE key = 'schema_version'"), kSchemaVersion);
    auto reader = store_->openReader();
    EXPECT_EQ(reader->checkpointJournalId().value(), 4);
    auto replay = reader->journalAfter(4, 10).value();
    ASSERT_EQ(replay.size(), 1u) << "the entry after the checkpoint is still there to replay";
    EXPECT_EQ(replay[0].input, "alertmanager_api");
    EXPECT_NE(replay[0].body.find("FixtureAfter"), std::string::npos);
    auto pending = reader->pendingOutbox("am", 100, 1000000, kDue).value();
    ASSERT_EQ(pending.size(), pending_rows);
    EXPECT_EQ(pending[0].keys.empty(), !rows_have_keys)
        << "rows from before element keys existed go out whole";
    if (rows_are_notifications) {
        EXPECT_FALSE(pending[0].meta.key.empty()) << "a version 4 row is a keyed notification";
        EXPECT_EQ(pending[0].meta.receiver, "am");
    } else {
        EXPECT_TRUE(pending[0].meta.key.empty()) << "rows from before notification keys";
        EXPECT_EQ(pending[0].meta.receiver, "") << "no receiver recorded before version 4";
    }
    int alerts = 0;
    ASSERT_TRUE(
        reader->forEachAlert([&](long long, core::Fingerprint, std::string_view) { ++alerts; }));
    EXPECT_EQ(alerts, 8);
    EXPECT_EQ(reader->emails(0, 10).value().size(), 2u);
    EXPECT_EQ(journal("[next]"), 6);
    // The next outbox id is above every one the file handed out.
    const long long next_row = scalar("SELECT max(id) FROM outbox") + 1;
    apply(StateDelta{{}, {}, {{"am", "[n1,n2]", 1, {{7, 1, 3}, {9, 4, 6}}, {}}}, 0});
    auto last = reader->pendingOutbox("am", 100, 1000000, kDue).value().back();
    EXPECT_EQ(last.id, next_row);
    ASSERT_EQ(last.keys.size(), 2u) << "new rows keep their keys";
    EXPECT_EQ(last.keys[1].key, 9u);
    EXPECT_EQ(last.keys[1].begin, 4u);
    auto keyed = reader->pendingKeys("am", next_row - 1, 10).value();
    ASSERT_EQ(keyed.size(), 1u);
    EXPECT_EQ(keyed[0].id, next_row);
    // Opening again is a no-op migration.
    store_.reset();
    open();
    EXPECT_EQ(scalar("SELECT count(*) FROM journal"), 6);
}

TEST_F(StoreTest, AStoreFromSchemaOneIsMigratedAndCarriesOn) {
    opensMigratedAndCarriesOn("datadir-v1", 5, false);
}

TEST_F(StoreTest, AStoreFromSchemaTwoIsMigratedAndCarriesOn) {
    opensMigratedAndCarriesOn("datadir-v2", 5, false);
}

TEST_F(StoreTest, AStoreFromSchemaThreeIsMigratedAndCarriesOn) {
    opensMigratedAndCarriesOn("datadir-v3", 4, true);
}

// Version 4 wrote bodies raw; version 5 reads them as they are and packs what it writes.
TEST_F(StoreTest, AStoreFromSchemaFourIsMigratedAndCarriesOn) {
    opensMigratedAndCarriesOn("datadir-v4", 3, true, true);
}

// Version 5 gave journal ids by AUTOINCREMENT; version 6 copies the journal into a table
// without it and gives ids itself, above every one the file handed out.
TEST_F(StoreTest, AStoreFromSchemaFiveIsMigratedAndCarriesOn) {
    opensMigratedAndCarriesOn("datadir-v5", 4, true, true);
    EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_sequence WHERE name = 'journal'"), 0)
        << "the journal no longer has a sequence row to rewrite with every insert";
    EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_master WHERE name = 'journal_v5'"), 0);
}

// The last id a version-5 sequence handed out bounds the next one even when no row or mark
// records it any more.
TEST_F(StoreTest, TheLastIdOfAVersionFiveSequenceIsNeverGivenAgain) {
    useFixture("datadir-v5");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE sqlite_sequence SET seq = 700 WHERE name = 'journal'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    open();
    EXPECT_EQ(journal("[next]"), 701);
    store_.reset();
    open();
    EXPECT_EQ(journal("[after a restart]"), 702);
}

// A notification is queued once per key, even when the journal is applied again after a
// crash (the same key comes back), and once it is logged; the log records how each ended.
TEST_F(StoreTest, KeyedNotificationsAreQueuedOnceAndLogged) {
    options_.prune_interval = core::Duration::zero();
    store_.reset();
    open();
    auto row = [](std::string key, std::string body) {
        OutboxInsert o{"am", std::move(body), 1, {}, {}};
        o.meta.key = std::move(key);
        o.meta.receiver = "oncall";
        o.meta.group_key = "{}:{alertname=\"X\"}";
        o.meta.reason = "new";
        o.meta.step = 2;
        return o;
    };
    apply(StateDelta{{}, {}, {row("am/j7/0", "[a]"), row("am/j7/1", "[b]")}, 0});
    apply(StateDelta{{}, {}, {row("am/j7/0", "[a again]"), row("am/j8/0", "[c]")}, 0});
    auto reader = store_->openReader();
    auto rows = reader->pendingOutbox("am", 10, 1000000, kDue).value();
    ASSERT_EQ(rows.size(), 3u) << "the second am/j7/0 is the same notification";
    EXPECT_EQ(rows[0].body, "[a]");
    EXPECT_EQ(rows[0].meta.key, "am/j7/0");
    EXPECT_EQ(rows[0].meta.receiver, "oncall");
    EXPECT_EQ(rows[0].meta.reason, "new");
    EXPECT_EQ(rows[0].meta.step, 2);
    EXPECT_EQ(rows[2].meta.key, "am/j8/0");

    std::promise<void> done;
    OutboxAttempt a{{rows[0].id, rows[1].id}, OutboxState::kDelivered, clock_.now(), ""};
    store_->recordAttempt(a, [&](const core::Status&) { done.set_value(); });
    done.get_future().wait();
    auto log = reader->notificationLog({}).value();
    ASSERT_EQ(log.size(), 2u) << "finished rows with a key are logged";
    EXPECT_EQ(log[0].state, "delivered");
    EXPECT_EQ(log[0].meta.group_key, "{}:{alertname=\"X\"}");
    EXPECT_EQ(log[0].attempts, 1);
    EXPECT_EQ(reader->notificationLog({"oncall", "", 1}).value().size(), 1u);
    EXPECT_EQ(reader->notificationLog({"nobody", "", 10}).value().size(), 0u);

    // Delivered, then pruned from the outbox: the log still stops a third copy.
    clock_.advance(std::chrono::hours(25));
    journal("[a commit, and the prune after it]");
    journal("[a commit the writer takes after that prune]");
    EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE nkey = 'am/j7/0'"), 0)
        << "the delivered row was pruned after outbox_retention";
    apply(StateDelta{{}, {}, {row("am/j7/0", "[a, a third time]")}, 0});
    EXPECT_EQ(reader->pendingOutbox("am", 10, 1000000, kDue).value().size(), 1u) << "only am/j8/0";
    // Past the log's own retention the key is forgotten.
    clock_.advance(std::chrono::hours(120));
    journal("[another commit]");
    journal("[and one after its prune]");
    EXPECT_EQ(reader->notificationLog({}).value().size(), 0u);
}

// A row held until its not_before is not due before it, and the worker learns when it is.
TEST_F(StoreTest, DeferredNotificationsWaitForTheirTime) {
    OutboxInsert later{"am", "[later]", 1, {}, {}};
    later.meta.not_before = clock_.now() + std::chrono::minutes(5);
    apply(StateDelta{{}, {}, {later, {"am", "[now]", 1, {}, {}}}, 0});
    auto reader = store_->openReader();
    auto due = reader->pendingOutbox("am", 10, 1000000, clock_.now()).value();
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].body, "[now]");
    EXPECT_EQ(reader->nextDeferred("am", clock_.now()).value(), later.meta.not_before);
    EXPECT_EQ(reader->pendingOutbox("am", 10, 1000000, later.meta.not_before).value().size(), 2u);
    EXPECT_FALSE(reader->nextDeferred("am", later.meta.not_before).value().has_value());
}

// The worker reads only the rows its next send can take: while their alerts stay within the
// bound, and the first one whatever its size (it goes out alone).
TEST_F(StoreTest, PendingRowsAreReadWithinTheAlertBound) {
    apply(StateDelta{{},
                     {},
                     {{"am", "[big]", 1500, {}, {}},
                      {"am", "[a]", 400, {}, {}},
                      {"am", "[b]", 500, {}, {}},
                      {"am", "[c]", 200, {}, {}},
                      {"n9e", "[x]", 1, {}, {}}},
                     0});
    auto reader = store_->openReader();
    auto bodies = [&](std::size_t max_alerts) {
        std::vector<std::string> out;
        // Held first: value() of a temporary would not outlive the loop's range.
        auto rows = reader->pendingOutbox("am", 64, max_alerts, kDue).value();
        for (const auto& r : rows) out.push_back(r.body);
        return out;
    };
    EXPECT_EQ(bodies(1000), (std::vector<std::string>{"[big]"}));
    EXPECT_EQ(bodies(100000), (std::vector<std::string>{"[big]", "[a]", "[b]", "[c]"}));
    EXPECT_EQ(bodies(1900), (std::vector<std::string>{"[big]", "[a]"}));
    // The row sets are read from the index (rows of another output are not counted).
    EXPECT_EQ(reader->pendingOutbox("n9e", 64, 1, kDue).value().size(), 1u);
    // Rows whose completion is still committing are passed over, and not counted.
    auto all = reader->pendingOutbox("am", 64, 100000, kDue).value();
    std::vector<std::string> rest;
    auto unskipped = reader->pendingOutbox("am", 2, 1000, kDue, {all[0].id, all[2].id}).value();
    for (const auto& r : unskipped) rest.push_back(r.body);
    EXPECT_EQ(rest, (std::vector<std::string>{"[a]", "[c]"}));
}

// Keys that do not fit their body (a damaged row) are read as none: the row goes out whole.
TEST(OutboxKeys, RoundTripAndRefuseWhatDoesNotFit) {
    std::vector<OutboxKey> keys{{1, 1, 5}, {0xffffffffffffffffULL, 6, 10}};
    auto blob = encodeOutboxKeys(keys);
    EXPECT_EQ(blob.size(), 32u);
    auto back = decodeOutboxKeys(blob, 11);
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[1].key, 0xffffffffffffffffULL);
    EXPECT_EQ(back[1].end, 10u);
    EXPECT_TRUE(decodeOutboxKeys(blob, 9).empty()) << "past the body";
    EXPECT_TRUE(decodeOutboxKeys(blob.substr(0, 20), 11).empty()) << "not whole keys";
    EXPECT_TRUE(decodeOutboxKeys(encodeOutboxKeys({{1, 6, 10}, {2, 1, 5}}), 11).empty())
        << "out of order";
}

TEST_F(StoreTest, AVersionOneFileWhoseIdsWereReusedIsSeededAboveTheCheckpoint) {
    useFixture("datadir-v1");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    // What the old release left after a prune emptied the journal behind a checkpoint.
    ASSERT_EQ(sqlite3_exec(db,
                           "DELETE FROM journal; DELETE FROM emails;"
                           "UPDATE meta SET value = '900' WHERE key = 'checkpoint_journal_id'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    open();
    EXPECT_EQ(journal("[next]"), 901);
}

TEST_F(StoreTest, AStoreFromANewerReleaseIsRefusedWithItsVersion) {
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "UPDATE meta SET value = '7' WHERE key = 'schema_version'", nullptr, nullptr,
                 nullptr);
    sqlite3_close(db);
    auto s = openSqliteStore(options_, clock_);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find("schema version 7"), std::string::npos) << s.error();
}

}  // namespace
}  // namespace alertbridge::state

namespace alertbridge::state {
namespace {

// A store that cannot write refuses at once, says why, keeps the state changes it was
// given, and recovers by itself when room is made.
TEST_F(StoreTest, AFullStoreFailsClearlyKeepsStateChangesAndRecoversByItself) {
    store_.reset();
    options_.max_bytes = 256 * 1024;
    options_.prune_interval = std::chrono::hours(1);  // only the full store's own prune runs
    options_.journal_retention = std::chrono::seconds(1);
    open();
    std::vector<CommitStats> failures;
    std::mutex m;
    store_->onCommit([&](const CommitStats& s) {
        std::lock_guard lock(m);
        if (!s.ok) failures.push_back(s);
    });
    // Bodies that do not compress, so each fills what it says.
    std::string body(20000, ' ');
    std::mt19937 rng(11);
    for (auto& c : body) c = static_cast<char>('!' + rng() % 90);
    long long last = 0;
    int refused = 0;
    for (int i = 0; i < 40 && refused == 0; ++i) {
        std::promise<core::Result<long long>> p;
        store_->appendJournal(JournalEntry{0, "alertmanager_api", clock_.now(), body, nullptr},
                              [&](const core::Result<long long>& r) { p.set_value(r); });
        auto r = p.get_future().get();
        if (r.ok()) {
            last = *r;
        } else {
            ++refused;
            EXPECT_NE(r.error().find("full"), std::string::npos) << r.error();
        }
    }
    ASSERT_EQ(refused, 1) << "the bound was reached";
    EXPECT_FALSE(store_->writable());
    EXPECT_NE(store_->failure().find("(full)"), std::string::npos) << store_->failure();
    {
        std::lock_guard lock(m);
        ASSERT_FALSE(failures.empty());
        EXPECT_EQ(failures.front().error_class, StoreErrorClass::kFull);
    }
    // A state change queued while full is kept and retried, not failed.
    std::promise<bool> applied;
    store_->applyDelta(StateDelta{{}, {}, {}, last},
                       [&](const core::Status& s) { applied.set_value(s.ok()); });
    auto fut = applied.get_future();
    EXPECT_EQ(fut.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
    // A small write fits, so the probe may clear the flag; a large one still does not.
    // The writer backs off on the injected clock: time moves only as the test moves it.
    auto ready = [&] {
        return fut.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready;
    };
    for (int i = 0; i < 200 && !ready(); ++i) clock_.advance(std::chrono::seconds(1));
    ASSERT_EQ(fut.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_TRUE(fut.get());
    auto big = [&] {
        std::promise<core::Result<long long>> p;
        store_->appendJournal(JournalEntry{0, "alertmanager_api", clock_.now(), body, nullptr},
                              [&](const core::Result<long long>& r) { p.set_value(r); });
        auto f = p.get_future();
        // While the writer backs off, only the test's clock ends the wait.
        while (f.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
            clock_.advance(std::chrono::milliseconds(500));
        }
        return f.get();
    };
    EXPECT_FALSE(big().ok()) << "still full";
    // Time passes: the checkpointed entries are past retention, and the full store prunes
    // them, which makes room. It recovers without anyone touching it.
    clock_.advance(std::chrono::minutes(1));
    bool stored = false;
    for (int i = 0; i < 3 && !stored; ++i) stored = big().ok();
    EXPECT_TRUE(stored);
    EXPECT_TRUE(store_->writable());
    EXPECT_EQ(store_->failure(), "");
    EXPECT_GT(journal("[after]"), last);
}

// With synchronous: full the log is synced on the syncer's thread. When an fsync fails, the
// batch it covered was committed but may not be on disk: its journal append fails (the
// sender retries), the store refuses intake, and it is writable again only after the whole
// log was copied into the database file and synced, even though the next fsync succeeds.
TEST_F(StoreTest, AFailedLogSyncRefusesIntakeUntilTheLogIsCopiedIntoTheFile) {
    store_.reset();
    std::atomic<bool> fail{false};
    std::atomic<int> syncs{0};
    options_.sync_log = [&](int fd) {
        ++syncs;
        if (fail.load()) {
            errno = EIO;
            return -1;
        }
        return ::fdatasync(fd);
    };
    open();
    long long first = journal("[first]");
    EXPECT_GT(syncs.load(), 0) << "answered after a sync of its own";
    fail = true;
    auto append = [&](const std::string& body) {
        std::promise<core::Result<long long>> p;
        store_->appendJournal(JournalEntry{0, "alertmanager_api", clock_.now(), body, nullptr},
                              [&](const core::Result<long long>& r) { p.set_value(r); });
        auto f = p.get_future();
        while (f.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
            clock_.advance(std::chrono::milliseconds(500));  // the writer's backoff
        }
        return f.get();
    };
    auto lost = append("[unsynced]");
    ASSERT_FALSE(lost.ok());
    EXPECT_NE(lost.error().find("Input/output error"), std::string::npos) << lost.error();
    EXPECT_FALSE(store_->writable());
    EXPECT_NE(store_->failure().find("fsync of the write-ahead log"), std::string::npos)
        << store_->failure();
    fail = false;
    core::Result<long long> again = core::Error{"not tried"};
    for (int i = 0; i < 20 && !again.ok(); ++i) again = append("[again]");
    ASSERT_TRUE(again.ok()) << again.error();
    EXPECT_TRUE(store_->writable());
    EXPECT_GT(*again, first);
    // The committed batch stays in the journal: a restart replays it (alerts are
    // idempotent), and the sender's retry is the second copy. Nothing is in the log
    // file that the database file does not hold as well, up to the recovery.
    EXPECT_EQ(scalar("SELECT count(*) FROM journal WHERE CAST(body AS TEXT) = '[unsynced]'"), 1);
}

}  // namespace
}  // namespace alertbridge::state
