#include "plugin/state/sqlite_checkpointer.hpp"

#include <sqlite3.h>

#include <pthread.h>

#include <spdlog/spdlog.h>

#include "plugin/state/sqlite_util.hpp"

namespace alertbridge::state {

namespace {
constexpr int kMaxPasses = 4;
constexpr int kFewFrames = 64;
}  // namespace

core::Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::string& path,
                                                                      bool synchronous_full) {
    auto db = openDb(path, synchronous_full, 1);
    if (!db) return core::Error{"the WAL checkpointer: " + db.error()};
    // Its own connection never writes, so it never checkpoints on its own either.
    sqlite3_wal_autocheckpoint(*db, 0);
    std::unique_ptr<WalCheckpointer> c(new WalCheckpointer(*db));
    c->thread_ = std::thread([p = c.get()] {
        pthread_setname_np(pthread_self(), "ab-walckpt");
        p->loop();
    });
    return c;
}

WalCheckpointer::WalCheckpointer(sqlite3* db) : db_(db) {}

WalCheckpointer::~WalCheckpointer() {
    detach();
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    sqlite3_close(db_);
}

void WalCheckpointer::attach(sqlite3* writer, int wake_pages, int backstop_pages) {
    writer_ = writer;
    wake_pages_ = wake_pages;
    backstop_pages_ = backstop_pages;
    sqlite3_wal_hook(writer, &WalCheckpointer::onCommit, this);
}

void WalCheckpointer::detach() {
    if (writer_ != nullptr) sqlite3_wal_hook(writer_, nullptr, nullptr);
    writer_ = nullptr;
}

// On the writer thread, after each commit, with the number of pages in the log.
int WalCheckpointer::onCommit(void* self, sqlite3* db, const char* name, int pages) {
    auto* c = static_cast<WalCheckpointer*>(self);
    // The thread has copied; restartLog(), after this commit is handed on, copies the rest.
    if (c->copied_.load()) return SQLITE_OK;
    if (pages >= c->backstop_pages_) {
        // Behind: copy inline, as SQLite's own auto-checkpoint would (PASSIVE never waits).
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        std::lock_guard lock(c->mu_);
        ++c->backstops_;
        return SQLITE_OK;
    }
    // A log shorter than at the last wake has been started again from its beginning.
    if (pages >= c->wake_pages_ &&
        (pages < c->woken_at_ || pages - c->woken_at_ >= c->wake_pages_)) {
        c->woken_at_ = pages;
        {
            std::lock_guard lock(c->mu_);
            if (c->wanted_) return SQLITE_OK;
            c->wanted_ = true;
        }
        c->cv_.notify_all();
    }
    return SQLITE_OK;
}

void WalCheckpointer::restartLog() {
    if (writer_ == nullptr || !copied_.exchange(false)) return;
    // What was written while the thread copied: a few commits' frames. Once all of the log
    // is copied, the next write starts it again from its beginning.
    sqlite3_wal_checkpoint_v2(writer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    woken_at_ = 0;
}

void WalCheckpointer::loop() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return stopping_ || wanted_; });
        if (stopping_) return;
        wanted_ = false;
        running_ = true;
        lock.unlock();
        int log = 0, copied = 0;
        int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        // Again over what was written meanwhile, while a pass still copied more than a few
        // frames: what is left for the writer's own copy shrinks with each pass.
        for (int pass = 1, before = 0;
             pass < kMaxPasses && rc == SQLITE_OK && copied - before > kFewFrames; ++pass) {
            before = copied;
            rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        }
        // Otherwise the writer's sync, at the end of its restartLog(), flushed every page
        // this thread copied, and the commits queued behind the writer waited for it.
        if (rc == SQLITE_OK && copied > 0) syncDatabase();
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            spdlog::warn(
                "Copying the write-ahead log into the store failed; retried at the next "
                "commit. error=\"{}\"",
                sqlite3_errmsg(db_));
        }
        copied_.store(true);
        lock.lock();
        running_ = false;
        ++completed_;
        cv_.notify_all();
    }
}

void WalCheckpointer::syncDatabase() {
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
        file == nullptr || file->pMethods == nullptr) {
        return;
    }
    // A failure here is not the commit's: the writer's own sync, before the log starts
    // again, decides whether the copy is durable, and fails the copy if it is not.
    if (int rc = file->pMethods->xSync(file, SQLITE_SYNC_NORMAL); rc != SQLITE_OK) {
        spdlog::warn("Syncing the store's file after copying the log failed. error={}",
                     sqlite3_errstr(rc));
        return;
    }
    file_syncs_.fetch_add(1);
}

void WalCheckpointer::drain() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stopping_ || (!wanted_ && !running_); });
}

std::uint64_t WalCheckpointer::completed() const {
    std::lock_guard lock(mu_);
    return completed_;
}

std::uint64_t WalCheckpointer::backstops() const {
    std::lock_guard lock(mu_);
    return backstops_;
}

}  // namespace alertbridge::state
