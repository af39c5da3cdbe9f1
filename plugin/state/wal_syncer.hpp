#pragma once
// WalSyncer: makes the writer's group commits durable on a thread of its own, so that the
// writer builds the next commit while the last one's fsync runs.
//
// With `synchronous: full`, SQLite would fsync the write-ahead log at the end of every
// commit, on the writer thread: the writer then sat idle for the flush (a third to a half of
// each commit here), and every request that arrived meanwhile waited for it and for a commit
// of its own after it. Instead the writer's connection runs at synchronous=NORMAL (SQLite
// still syncs the log before each checkpoint copies it, and the database file after, so the
// file is never torn) and hands each committed batch here. This thread fsyncs the log once
// for every batch that reached it, then answers them all. A batch is answered, and so an
// intake request acknowledged, only after an fsync that began after its commit wrote its
// frames, which is the promise `full` makes. A commit the checkpointer copied into the
// database file before that fsync is durable there: SQLite syncs the file after the copy,
// before the log may start again from its beginning.
//
// Other connections may read a committed batch before it is durable. What they act on (the
// delivery worker's pushes) is at most sent again after a power cut, never lost.

#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"

namespace alertbridge::state {

class WalSyncer {
  public:
    // Called once the batch is on disk, or with the reason it may not be, and how long the
    // fsync that decided it took (seconds on the clock given to open()). Every batch one
    // fsync answers gets the same duration; `first` is true for the first of them only, so
    // that whoever counts fsyncs counts each once.
    struct Synced {
        double seconds = 0;
        bool first = false;
    };
    using Finish = std::function<void(const core::Status&, Synced)>;

    // Syncs a descriptor's data: fdatasync(2), or what a test injects. 0 or -1 with errno.
    using SyncFn = std::function<int(int fd)>;

    // Opens the log of the database at `db_path` (the writer's connection must have it open
    // already) and syncs its folder once, so that the log's own entry survives a power cut.
    // `clock` times the fsyncs (the disk's latency, which bounds every answer's).
    static core::Result<std::unique_ptr<WalSyncer>> open(const std::string& db_path,
                                                         const core::Clock& clock,
                                                         SyncFn sync = nullptr);
    ~WalSyncer();  // finishes what was submitted, then stops
    WalSyncer(const WalSyncer&) = delete;
    WalSyncer& operator=(const WalSyncer&) = delete;

    void submit(Finish finish);

    // True from a failed sync until clear(). Linux may mark the pages a failed write-back
    // dropped as clean, so a later fsync succeeds without them: every batch finished in
    // between fails too. The owner clears it once the whole log was copied into the
    // database file and that file synced (a FULL checkpoint), which makes all of it durable.
    bool failed() const { return failed_.load(); }
    void clear() { failed_.store(false); }
    // Syncs and finishes everything submitted so far, then joins the thread.
    void stop();

  private:
    WalSyncer(std::string path, int fd, const core::Clock& clock, SyncFn sync);
    void loop();
    core::Status syncOnce();
    void noteIdentity();  // the device and inode of fd_, read once per descriptor

    std::string path_;
    int fd_;
    std::uint64_t dev_ = 0, ino_ = 0;
    const core::Clock& clock_;
    SyncFn sync_;
    std::atomic<bool> failed_{false};
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<Finish> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace alertbridge::state
