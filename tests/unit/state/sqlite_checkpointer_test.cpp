// The WAL is copied back on the checkpointer's own thread once it holds the wake size, and
// by the writer itself only past the backstop; either way the log is then started again,
// so its file stays bounded under steady writes. The writer's short copy of what was
// written during the thread's copy happens outside its commits.
#include "plugin/state/sqlite_checkpointer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "plugin/state/sqlite_util.hpp"

namespace alertbridge::state {
namespace {

namespace fs = std::filesystem;

class CheckpointerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("alertbridge-ckpt-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        path_ = (dir_ / "ab.db").string();
        auto db = openDb(path_, true, 2);
        ASSERT_TRUE(db.ok()) << db.error();
        db_ = *db;
        ASSERT_EQ(sqlite3_exec(db_, "CREATE TABLE t(x BLOB); PRAGMA journal_size_limit = 1048576",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
    }
    void TearDown() override {
        ckpt_.reset();
        sqlite3_close(db_);
        fs::remove_all(dir_);
    }
    // `n` commits of one 8 KiB row each: about two log pages per commit.
    void write(int n) {
        const std::string blob(8192, 'x');
        for (int i = 0; i < n; ++i) {
            sqlite3_stmt* st = nullptr;
            ASSERT_EQ(sqlite3_prepare_v2(db_, "INSERT INTO t(x) VALUES(?1)", -1, &st, nullptr),
                      SQLITE_OK);
            sqlite3_bind_blob(st, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_STATIC);
            ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
            sqlite3_finalize(st);
            if (ckpt_) ckpt_->restartLog();  // as the store's writer does after each commit
        }
    }
    std::uintmax_t walBytes() const {
        std::error_code ec;
        auto n = fs::file_size(path_ + "-wal", ec);
        return ec ? 0 : n;
    }

    fs::path dir_;
    std::string path_;
    sqlite3* db_ = nullptr;
    std::unique_ptr<WalCheckpointer> ckpt_;
};

TEST_F(CheckpointerTest, TheLogIsCopiedOffTheWritersThreadAndStartsAgain) {
    auto c = WalCheckpointer::start(path_, true);
    ASSERT_TRUE(c.ok()) << c.error();
    ckpt_ = std::move(*c);
    ckpt_->attach(db_, 50, 1000000);
    for (int round = 0; round < 20; ++round) {
        write(40);
        ckpt_->drain();
    }
    EXPECT_GE(ckpt_->completed(), 10u);
    EXPECT_EQ(ckpt_->backstops(), 0u) << "the writer never copied inline";
    // 800 commits of 8 KiB (6.5 MB written): the log was started again each time it had
    // been copied, so it holds about one round, never the whole history.
    EXPECT_LT(walBytes(), 2u * 1024 * 1024) << walBytes();
    int count = 0;
    sqlite3_exec(
        db_, "SELECT count(*) FROM t",
        [](void* p, int, char** v, char**) {
            *static_cast<int*>(p) = std::stoi(v[0]);
            return 0;
        },
        &count, nullptr);
    EXPECT_EQ(count, 800);
}

// The commit that follows the thread's copy is not held by the writer's short copy: it
// only marks it due, and restartLog() (after the commit is handed on) makes it, once.
TEST_F(CheckpointerTest, TheWritersShortCopyComesAfterItsCommit) {
    auto c = WalCheckpointer::start(path_, true);
    ASSERT_TRUE(c.ok()) << c.error();
    auto* ckpt = c->get();
    ckpt->attach(db_, 50, 1000000);
    write(40);  // ckpt_ unset: nothing restarts the log yet
    ckpt->drain();
    ASSERT_TRUE(ckpt->restartDue());
    // The log's header carries a salt that changes each time the log starts again.
    auto salt = [&] {
        std::ifstream f(path_ + "-wal", std::ios::binary);
        std::string head(24, '\0');
        f.read(head.data(), 24);
        return head.substr(16, 8);
    };
    const auto first = salt();
    write(1);
    EXPECT_TRUE(ckpt->restartDue()) << "the commit itself did not copy";
    EXPECT_EQ(salt(), first) << "the log was not started again inside the commit";
    ckpt->restartLog();
    EXPECT_FALSE(ckpt->restartDue());
    write(1);  // starts the log again from its beginning
    EXPECT_NE(salt(), first);
    ckpt->restartLog();  // nothing due: no copy
    ckpt_ = std::move(*c);
}

// The thread makes its own copy durable: the writer's sync before the log starts again
// then has only the pages of its short copy to flush.
TEST_F(CheckpointerTest, TheThreadSyncsTheFileItCopiedInto) {
    auto c = WalCheckpointer::start(path_, true);
    ASSERT_TRUE(c.ok()) << c.error();
    ckpt_ = std::move(*c);
    ckpt_->attach(db_, 50, 1000000);
    write(40);
    ckpt_->drain();
    ASSERT_GE(ckpt_->completed(), 1u);
    // A sync after each pass that copied frames, and only then.
    EXPECT_GE(ckpt_->fileSyncs(), 1u);
    EXPECT_LE(ckpt_->fileSyncs(), ckpt_->completed());
}

TEST_F(CheckpointerTest, PastTheBackstopTheWriterCopiesInline) {
    auto c = WalCheckpointer::start(path_, true);
    ASSERT_TRUE(c.ok()) << c.error();
    ckpt_ = std::move(*c);
    ckpt_->attach(db_, 1000000, 40);  // the thread is never woken
    write(200);
    EXPECT_GT(ckpt_->backstops(), 0u);
    EXPECT_EQ(ckpt_->completed(), 0u);
    EXPECT_LT(walBytes(), 2u * 1024 * 1024) << walBytes();
}

TEST_F(CheckpointerTest, DetachedTheHookIsGone) {
    auto c = WalCheckpointer::start(path_, true);
    ASSERT_TRUE(c.ok()) << c.error();
    ckpt_ = std::move(*c);
    ckpt_->attach(db_, 10, 20);
    ckpt_->detach();
    write(50);
    EXPECT_EQ(ckpt_->backstops(), 0u);
    EXPECT_EQ(ckpt_->completed(), 0u);
}

}  // namespace
}  // namespace alertbridge::state
