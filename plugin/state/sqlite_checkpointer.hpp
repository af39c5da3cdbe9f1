#pragma once
// WalCheckpointer: copies the write-ahead log back into the database file on its own
// thread and connection, so that a commit never waits for that copy and its fsync (with
// SQLite's automatic checkpoint, the commit that crosses the threshold does it, and every
// request queued behind that commit waits tens of milliseconds).
//
// The writer connection's WAL hook wakes the thread once the log holds `wake_pages`, and
// again each time it grew by that much more. The thread's checkpoint is PASSIVE: it never
// blocks the writer or a reader. Writes go on while it copies, so it rarely copies the whole
// log, and a log that is never wholly copied is never started again from its beginning.
// So the thread copies again what was written during its last pass, while that pass copied
// more than a few frames (up to four passes), and then the writer copies the rest itself
// (restartLog: one short PASSIVE checkpoint, two fsyncs, with no commit open), after it
// has handed its commit to the syncer, so that no request of that commit waits for it;
// its next write starts the log again. Measured at 454 requests of 100 alerts a second:
// the writer's copy took 3.8-4.1 ms at the median after one pass, 1.7-1.9 ms after up to
// four, and was made inside the commit before, holding that commit's answers.
// SQLite syncs the database file only at the end of a copy that reached the end of the
// log, which is the writer's; so the thread syncs the file itself after its passes, and
// the writer's sync flushes only the pages of its own short copy. At 515 requests of 100
// alerts a second the writer's syncs of the file went from 258 to 92 ms in 16 s (median
// 1.18 to 0.65 ms, 90th percentile 4.5 to 1.2 ms).
// Past `backstop_pages` the writer checkpoints inline, so the log stays bounded even if
// this thread falls behind.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "plugin/core/result.hpp"

struct sqlite3;

namespace alertbridge::state {

class WalCheckpointer {
  public:
    // Opens its own connection to `path` and starts the thread.
    static core::Result<std::unique_ptr<WalCheckpointer>> start(const std::string& path,
                                                                bool synchronous_full);
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    // Installs the hook on the writer's connection (replacing SQLite's auto-checkpoint).
    // detach() must run before that connection closes or this object goes.
    void attach(sqlite3* writer, int wake_pages, int backstop_pages);
    void detach();

    // On the writer's thread, with no transaction open: once the thread has copied the log,
    // copies what was written meanwhile, so that the next write starts the log again.
    void restartLog();
    bool restartDue() const { return copied_.load(); }

    // Blocks until no checkpoint is wanted or running (tests).
    void drain();
    std::uint64_t completed() const;
    std::uint64_t backstops() const;
    // Syncs of the database file made by the thread after its passes (tests).
    std::uint64_t fileSyncs() const { return file_syncs_.load(); }

  private:
    explicit WalCheckpointer(sqlite3* db);
    static int onCommit(void* self, sqlite3* db, const char* name, int pages);
    void loop();
    void syncDatabase();  // flushes the pages a pass copied into the database file

    sqlite3* db_;
    sqlite3* writer_ = nullptr;
    int wake_pages_ = 1000;
    int backstop_pages_ = 16000;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool wanted_ = false;
    bool running_ = false;
    bool stopping_ = false;
    std::uint64_t completed_ = 0;
    std::uint64_t backstops_ = 0;      // inline checkpoints on the writer (this thread behind)
    int woken_at_ = 0;                 // log pages at the last wake (writer thread only)
    std::atomic<bool> copied_{false};  // the thread finished a copy the writer has not closed
    std::atomic<std::uint64_t> file_syncs_{0};
    std::thread thread_;
};

}  // namespace alertbridge::state
