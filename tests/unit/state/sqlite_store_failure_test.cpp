#include "store_test_fixture.hpp"

#include <atomic>
#include <filesystem>
#include <future>
#include <random>

namespace alertbridge::state {
namespace {

// A store that cannot write refuses at once, says why, keeps the state changes it was
// given, and recovers by itself when room is made.
TEST_F(StoreTest, AFullStoreFailsClearlyKeepsStateChangesAndRecoversByItself) {
    store_.reset();
    options_.max_bytes = std::size_t{256} * 1024;
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
