#include "store_test_fixture.hpp"

#include <atomic>
#include <filesystem>
#include <future>
#include <random>

namespace alertbridge::state {
namespace {

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
