// The syncer answers every batch after an fsync of the log that began after the batch was
// handed over, in the order they were handed over; after a failed fsync it fails every
// batch until its owner clears it, because a later fsync may succeed without the pages the
// failed one dropped.
#include "plugin/state/wal_syncer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "plugin/state/sqlite_util.hpp"

namespace alertbridge::state {
namespace {

namespace fs = std::filesystem;

class WalSyncerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("alertbridge-sync-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        path_ = (dir_ / "ab.db").string();
        auto db = openDb(path_, false, 2);
        ASSERT_TRUE(db.ok()) << db.error();
        db_ = *db;
        ASSERT_EQ(sqlite3_exec(db_, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    }
    void TearDown() override {
        if (db_) sqlite3_close(db_);
        fs::remove_all(dir_);
    }
    core::Status finishOne(WalSyncer& s) {
        std::promise<core::Status> p;
        s.submit([&](const core::Status& st, WalSyncer::Synced) { p.set_value(st); });
        return p.get_future().get();
    }

    core::FakeClock clock_{core::TimePoint{} + std::chrono::hours(24)};
    fs::path dir_;
    std::string path_;
    sqlite3* db_ = nullptr;
};

TEST_F(WalSyncerTest, AnswersEveryBatchInOrderAfterASyncThatFollowsIt) {
    std::atomic<int> syncs{0};
    std::atomic<int> submitted{0};
    std::mutex m;
    std::vector<std::pair<int, int>> answered;  // batch, submitted when its sync began
    std::vector<int> submitted_at_sync;
    auto s = WalSyncer::open(path_, clock_, [&](int fd) {
        {
            std::lock_guard lock(m);
            submitted_at_sync.push_back(submitted.load());
        }
        ++syncs;
        return ::fdatasync(fd);
    });
    ASSERT_TRUE(s.ok()) << s.error();
    for (int i = 0; i < 200; ++i) {
        ++submitted;
        (*s)->submit([&, i](const core::Status& st, WalSyncer::Synced) {
            EXPECT_TRUE(st.ok()) << st.error();
            std::lock_guard lock(m);
            answered.emplace_back(i, submitted_at_sync.back());
        });
    }
    (*s)->stop();
    ASSERT_EQ(answered.size(), 200u);
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(answered[i].first, i);
        // The sync that answered batch i began after batch i was handed over.
        EXPECT_GT(answered[i].second, i) << "batch " << i;
    }
    EXPECT_GE(syncs.load(), 1);
    EXPECT_LE(syncs.load(), 200);
}

// Each fsync is timed on the clock, and reported once: with the first batch it answers.
TEST_F(WalSyncerTest, TimesEachSyncOnItsClockAndReportsItOnce) {
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    int syncs = 0;
    auto s = WalSyncer::open(path_, clock_, [&](int fd) {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return release; });
        ++syncs;
        clock_.advance(std::chrono::milliseconds(3 * syncs));
        return ::fdatasync(fd);
    });
    ASSERT_TRUE(s.ok()) << s.error();
    std::vector<WalSyncer::Synced> got;
    for (int i = 0; i < 5; ++i) {
        (*s)->submit([&](const core::Status& st, WalSyncer::Synced how) {
            EXPECT_TRUE(st.ok()) << st.error();
            got.push_back(how);  // on the syncer's thread, one at a time
        });
    }
    {
        std::lock_guard lock(m);
        release = true;
    }
    cv.notify_all();
    (*s)->stop();
    ASSERT_EQ(got.size(), 5u);
    // The first sync took the first batch (or more); whatever waited meanwhile took the second.
    int firsts = 0;
    for (const auto& g : got) firsts += g.first ? 1 : 0;
    EXPECT_EQ(firsts, syncs);
    EXPECT_TRUE(got.front().first);
    EXPECT_DOUBLE_EQ(got.front().seconds, 0.003);
    for (std::size_t i = 1; i < got.size(); ++i) {
        if (!got[i].first) {
            EXPECT_DOUBLE_EQ(got[i].seconds, got[i - 1].seconds);
        }
    }
    EXPECT_DOUBLE_EQ(got.back().seconds, 0.003 * syncs);
}

TEST_F(WalSyncerTest, AFailedSyncFailsEveryLaterBatchUntilCleared) {
    std::atomic<bool> fail{false};
    auto s = WalSyncer::open(path_, clock_, [&](int fd) {
        if (fail.load()) {
            errno = EIO;
            return -1;
        }
        return ::fdatasync(fd);
    });
    ASSERT_TRUE(s.ok()) << s.error();
    auto& syncer = **s;
    EXPECT_TRUE(finishOne(syncer).ok());
    fail = true;
    auto failed = finishOne(syncer);
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.error().find("fsync of the write-ahead log"), std::string::npos)
        << failed.error();
    EXPECT_NE(failed.error().find("Input/output error"), std::string::npos) << failed.error();
    EXPECT_TRUE(syncer.failed());
    // The disk answers again, but what the failed write-back dropped is not proved written.
    fail = false;
    auto later = finishOne(syncer);
    ASSERT_FALSE(later.ok());
    EXPECT_NE(later.error().find("an earlier sync"), std::string::npos) << later.error();
    syncer.clear();
    EXPECT_FALSE(syncer.failed());
    EXPECT_TRUE(finishOne(syncer).ok());
}

TEST_F(WalSyncerTest, AStoreWithoutALogIsAClearError) {
    sqlite3_close(db_);  // the last connection removes the log
    db_ = nullptr;
    ASSERT_FALSE(fs::exists(path_ + "-wal"));
    auto s = WalSyncer::open(path_, clock_);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().find("cannot open the write-ahead log"), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("ab.db-wal"), std::string::npos) << s.error();
}

TEST_F(WalSyncerTest, ALogSQLiteRemovedAfterCopyingItCountsAsSynced) {
    int syncs = 0;
    auto s = WalSyncer::open(path_, clock_, [&](int fd) {
        ++syncs;
        return ::fdatasync(fd);
    });
    ASSERT_TRUE(s.ok()) << s.error();
    sqlite3_close(db_);  // checkpoints all of it, syncs the file, removes the log
    db_ = nullptr;
    ASSERT_FALSE(fs::exists(path_ + "-wal"));
    EXPECT_TRUE(finishOne(**s).ok());
    EXPECT_EQ(syncs, 0);
}

TEST_F(WalSyncerTest, FollowsALogReplacedAtItsPath) {
    std::vector<ino_t> synced;
    auto s = WalSyncer::open(path_, clock_, [&](int fd) {
        struct stat st {};
        ::fstat(fd, &st);
        synced.push_back(st.st_ino);
        return ::fdatasync(fd);
    });
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_TRUE(finishOne(**s).ok());
    auto wal = path_ + "-wal";
    fs::copy_file(wal, wal + ".new");
    fs::rename(wal + ".new", wal);
    EXPECT_TRUE(finishOne(**s).ok());
    struct stat now {};
    ASSERT_EQ(::stat(wal.c_str(), &now), 0);
    ASSERT_EQ(synced.size(), 2u);
    EXPECT_NE(synced[0], synced[1]);
    EXPECT_EQ(synced[1], now.st_ino);
}

}  // namespace
}  // namespace alertbridge::state
