#include "store_test_fixture.hpp"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <random>

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

}  // namespace

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

namespace {

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
        out.reserve(rows.size());
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
    rest.reserve(unskipped.size());
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
    const auto newer = fmt::format("UPDATE meta SET value = '{}' WHERE key = 'schema_version'",
                                   kSchemaVersion + 1);
    sqlite3_exec(db, newer.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    auto s = openSqliteStore(options_, clock_);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find(fmt::format("schema version {}", kSchemaVersion + 1)),
              std::string::npos)
        << s.error();
}

}  // namespace
}  // namespace alertbridge::state
