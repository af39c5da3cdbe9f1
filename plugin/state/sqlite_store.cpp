#include "plugin/state/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <pthread.h>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/state/body_codec.hpp"
#include "plugin/state/record_packer.hpp"
#include "plugin/state/sqlite_checkpointer.hpp"
#include "plugin/state/sqlite_errors.hpp"
#include "plugin/state/sqlite_reader.hpp"
#include "plugin/state/sqlite_schema.hpp"
#include "plugin/state/sqlite_util.hpp"
#include "plugin/state/sqlite_writes.hpp"
#include "plugin/state/wal_syncer.hpp"
#include "plugin/state/write_queue.hpp"

namespace alertbridge::state {

namespace {

using core::Error;
using core::Result;
using core::Status;

class SqliteStore final : public Store {
  public:
    SqliteStore(sqlite3* db, SqliteOptions options, const core::Clock& clock)
        : db_(db),
          options_(std::move(options)),
          clock_(clock),
          writes_(db),
          queue_(clock, options_.path),
          packer_(
              RecordPacker::Options{},
              [this](const std::shared_ptr<const RecordDictionary>& d, core::TimePoint made_at) {
                  enqueue(Op{[this, d, at = millis(made_at)]() -> int {
                                 return writes_.dictionary(d->id(), d->bytes(), at);
                             },
                             nullptr, /*retry_on_failure=*/true});
              },
              options_.train_records) {}

    Status init() {
        if (auto intact = checkIntact(db_, options_.path); !intact) {
            return Error{"the store " + intact.error()};
        }
        auto from = migrateSchema(db_);
        if (!from) return Error{fmt::format("the store \"{}\": {}", options_.path, from.error())};
        if (*from != 0 && *from != kSchemaVersion) {
            spdlog::info("The store was migrated to the current schema. file={} from={} to={}",
                         options_.path, *from, kSchemaVersion);
        }
        if (options_.max_bytes > 0) {
            auto pragma = fmt::format("PRAGMA max_page_count = {}",
                                      std::max<std::size_t>(16, options_.max_bytes / 4096));
            if (sqlite3_exec(db_, pragma.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
                return Error{fmt::format("cannot bound the store's size: {}", sqlite3_errmsg(db_))};
            }
        }
        if (auto s = writes_.prepare(); !s) return s;
        if (auto s = loadRecordDictionaries(db_, packer_); !s)
            return Error{"the store: " + s.error()};
        if (options_.synchronous_full) {
            // The log is synced on a thread of its own (wal_syncer.hpp); the writer's
            // connection then needs SQLite's own sync only around checkpoints.
            auto syncer = WalSyncer::open(options_.path, clock_, options_.sync_log);
            if (!syncer) return Error{"the store: " + syncer.error()};
            if (sqlite3_exec(db_, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr) !=
                SQLITE_OK) {
                return Error{fmt::format("the store: {}", sqlite3_errmsg(db_))};
            }
            syncer_ = std::move(*syncer);
        }
        // The log is copied back on a thread of its own, off the commit path: woken at
        // 4 MiB of log, inline only past 64 MiB (then the file is cut back to 64 MiB).
        auto ckpt = WalCheckpointer::start(options_.path, options_.synchronous_full);
        if (!ckpt) return Error{ckpt.error()};
        checkpointer_ = std::move(*ckpt);
        checkpointer_->attach(db_, 1000, 16000);
        sqlite3_exec(db_, "PRAGMA journal_size_limit = 67108864", nullptr, nullptr, nullptr);
        writer_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "ab-store");
            writerLoop();
        });
        return core::okStatus();
    }

    ~SqliteStore() override {
        stop();
        syncer_.reset();
        checkpointer_.reset();  // its hook is on db_: gone before db_ closes
        writes_.finalize();
        sqlite3_close(db_);
    }

    void appendJournal(JournalEntry entry, JournalDone done) override {
        // Compressed here, on the caller's thread: the commit every waiting request shares
        // then only copies bytes. A packed body no longer needs the raw one (an email keeps
        // it: its archive record holds the message as received).
        struct Pending {
            JournalEntry entry;
            std::optional<std::string> frame;
            long long id = 0;
        };
        auto shared = std::make_shared<Pending>();
        shared->frame = packFrame(entry.body);
        if (shared->frame && !entry.email) std::string().swap(entry.body);
        shared->entry = std::move(entry);
        enqueue(Op{[this, shared]() -> int {
                       int rc = writes_.journal(shared->entry, shared->frame, shared->id);
                       // The body is on disk; drop our copy before the commit completes.
                       if (!shared->frame) std::string().swap(shared->entry.body);
                       return rc;
                   },
                   [shared, done = std::move(done)](const Status& s) {
                       if (s.ok()) {
                           done(shared->id);
                       } else {
                           done(Error{s.error()});
                       }
                   },
                   false, 1, /*urgent=*/true});
    }

    void applyDelta(StateDelta delta, Done done) override {
        // Outbox bodies are packed here, on the caller's thread, as journal bodies are: the
        // writer's commit, which journal appends may be waiting behind, only copies them.
        struct Pending {
            StateDelta delta;
            std::vector<std::optional<std::string>> frames;
        };
        auto shared = std::make_shared<Pending>();
        shared->frames.reserve(delta.outbox.size());
        for (auto& o : delta.outbox) {
            shared->frames.push_back(packFrame(o.body));
            if (shared->frames.back()) std::string().swap(o.body);
        }
        // Records are packed here too (a new dictionary's row is queued ahead of them).
        packer_.pack(delta.upserts, clock_.now());
        shared->delta = std::move(delta);
        const auto& d = shared->delta;
        std::size_t weight = 1 + d.upserts.size() + d.deletes.size() + d.outbox.size();
        enqueue(Op{[this, shared]() -> int {
                       const auto& d = shared->delta;
                       return writes_.delta(d, d.at != TimePoint{} ? d.at : clock_.now(),
                                            &shared->frames);
                   },
                   std::move(done), /*retry_on_failure=*/true, weight});
    }

    void recordAttempt(OutboxAttempt a, Done done) override {
        auto shared = std::make_shared<OutboxAttempt>(std::move(a));
        enqueue(Op{[this, shared]() -> int { return writes_.attempt(*shared); }, std::move(done),
                   /*retry_on_failure=*/true});
    }

    void recordEmail(EmailRecord e) override {
        auto shared = std::make_shared<EmailRecord>(std::move(e));
        enqueue(Op{[this, shared]() -> int { return writes_.email(*shared); }, nullptr,
                   /*retry_on_failure=*/true});
    }

    std::unique_ptr<StoreReader> openReader() override {
        return openSqliteReader(options_.path, options_.synchronous_full);
    }

    void onCommit(std::function<void(const CommitStats&)> fn) override {
        std::lock_guard lock(mu_);
        on_commit_ = std::move(fn);
    }

    bool writable() const override { return !queue_.failing(); }
    RecordPackingStats recordPacking() const override { return packer_.stats(); }
    std::string failure() const override { return queue_.failure(); }

    void flush() override {
        std::mutex m;
        std::condition_variable cv;
        bool done = false;
        enqueue(Op{[]() -> int { return SQLITE_DONE; },
                   [&](const Status&) {
                       std::lock_guard lock(m);
                       done = true;
                       cv.notify_all();
                   },
                   false});
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return done; });
    }

    void stop() override {
        queue_.stop();
        if (writer_.joinable()) writer_.join();
    }

  private:
    using Op = WriteOp;
    using Outcome = WriteOutcome;

    void enqueue(Op op) { queue_.push(std::move(op)); }

    // Wakes the writer with an empty write (it runs whatever recovery is due first).
    void wake() {
        enqueue(Op{[]() -> int { return SQLITE_DONE; }, nullptr, false});
    }

    void writerLoop() {
        std::deque<Op> batch;
        auto last_prune = clock_.now();
        while (queue_.take(batch)) {
            auto started = clock_.now();
            if (batch.empty() && queue_.failingFull()) {
                prune();  // what is past retention may make room for the probe
                last_prune = started;
            }
            Outcome out = recoverSync();
            if (out.status.ok()) out = batch.empty() ? probe() : commit(batch);
            CommitStats stats;
            const std::uint64_t seq = ++commit_seq_;
            stats.ops = batch.size();
            stats.wal_copies = checkpointer_->completed() - wal_reported_.first;
            stats.wal_inline_copies = checkpointer_->backstops() - wal_reported_.second;
            wal_reported_.first += stats.wal_copies;
            wal_reported_.second += stats.wal_inline_copies;
            if (out.status.ok() && syncer_) {
                // Answered once the log is on disk; meanwhile this thread goes on.
                auto handed = std::make_shared<std::deque<Op>>(std::move(batch));
                batch.clear();
                syncer_->submit([this, handed, stats, started, seq](const Status& synced,
                                                                    WalSyncer::Synced how) mutable {
                    if (!synced.ok()) wake();  // the writer copies the log, then probes
                    if (how.first) stats.fsync_seconds = how.seconds;
                    finish(*handed, Outcome{synced}, std::move(stats), started, seq,
                           /*committed=*/true);
                });
            } else {
                finish(batch, out, std::move(stats), started, seq, /*committed=*/false);
            }
            // After the batch is handed on: its answers do not wait for this copy.
            if (out.status.ok()) checkpointer_->restartLog();
            // Pruning waits until the batch is committed. A full store prunes at once: what
            // is past retention may make room. (A clock set back restarts the interval.)
            if (started < last_prune) last_prune = started;
            if ((out.status.ok() &&
                 (prune_more_ || started - last_prune >= options_.prune_interval)) ||
                (!out.status.ok() && out.cls == StoreErrorClass::kFull)) {
                prune();
                last_prune = started;
            }
        }
        if (syncer_) syncer_->stop();  // answers what it holds before the writer exits
    }

    // Reports one commit and answers its batch: on this thread, or on the syncer's once the
    // log is on disk. A failed commit's state changes go back to the queue. A batch whose
    // sync failed (`committed`) is in the file all the same: its state changes are answered
    // as done (recoverSync makes them durable before anything else is answered), and its
    // journal appends fail, so that their senders retry. `seq` numbers commits in the
    // writer's order: a success reported late does not end a newer failure.
    void finish(std::deque<Op>& batch, const Outcome& out, CommitStats stats, TimePoint started,
                std::uint64_t seq, bool committed) {
        stats.seconds =
            std::max(0.0, std::chrono::duration<double>(clock_.now() - started).count());
        stats.ok = out.status.ok();
        stats.error_class = out.cls;
        if (!out.status.ok()) stats.error = out.status.error();
        queue_.note(out, batch.size(), seq);
        std::function<void(const CommitStats&)> hook;
        {
            std::lock_guard lock(mu_);
            hook = on_commit_;
        }
        if (hook) hook(stats);
        std::deque<Op> again;
        for (auto& op : batch) {
            if (committed && op.retry_on_failure) {
                if (op.done) op.done(core::okStatus());
            } else if (!out.status.ok() && op.retry_on_failure && !queue_.stopping()) {
                again.push_back(std::move(op));
            } else if (op.done) {
                op.done(out.status);
            }
        }
        batch.clear();
        queue_.requeue(again);
    }

    // After a failed sync (WalSyncer::failed) nothing more is answered until the whole log
    // is copied into the database file and that file synced: a FULL checkpoint.
    Outcome recoverSync() {
        if (!syncer_ || !syncer_->failed()) return Outcome{core::okStatus()};
        int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_FULL, nullptr, nullptr);
        if (rc != SQLITE_OK) {
            return Outcome{
                Error{fmt::format("copying the log after a failed sync: {}", sqlite3_errmsg(db_))}};
        }
        spdlog::info(
            "The whole log was copied into the database file and synced after a "
            "failed sync. file={}",
            options_.path);
        syncer_->clear();
        return Outcome{core::okStatus()};
    }

    Outcome failed(const char* what) {
        auto f = describeFailure(db_, what, options_.path);
        writes_.rollback();
        return Outcome{Error{std::move(f.message)}, f.cls};
    }

    Outcome commit(std::deque<Op>& batch) {
        if (writes_.begin() != SQLITE_DONE) return failed("BEGIN");
        for (auto& op : batch) {
            if (op.apply() != SQLITE_DONE) return failed("write");
        }
        if (writes_.commit() != SQLITE_DONE) return failed("COMMIT");
        return Outcome{core::okStatus()};
    }

    // A small write that tells whether the store can write again when nothing is queued.
    Outcome probe() {
        if (writes_.begin() != SQLITE_DONE) return failed("BEGIN");
        if (writes_.probe(millis(clock_.now())) != SQLITE_DONE) return failed("probe");
        if (writes_.commit() != SQLITE_DONE) return failed("COMMIT");
        return Outcome{core::okStatus()};
    }

    // Removes what is past retention, in a transaction of its own: a failed prune never
    // fails a batch, and it is retried at the next interval.
    // One chunk per table: when a table had more, prune_more_ asks for another chunk after
    // the next commit, so a backlog is worked off between batches instead of stalling one.
    void prune() {
        auto now = clock_.now();
        prune_more_ = false;
        int rc = writes_.begin();
        if (rc == SQLITE_DONE) {
            rc = writes_.prune(millis(now - options_.journal_retention),
                               millis(now - options_.outbox_retention),
                               millis(now - options_.email_retention),
                               millis(now - options_.notification_log_retention), &prune_more_);
        }
        if (rc == SQLITE_DONE) rc = writes_.commit();
        if (rc != SQLITE_DONE) {
            spdlog::warn(
                "Removing old journal, outbox and email rows failed; retried later. "
                "error=\"{}\"",
                sqlite3_errmsg(db_));
            writes_.rollback();
        }
    }

    sqlite3* db_;
    bool prune_more_ = false;  // the last prune left rows past retention behind
    SqliteOptions options_;
    const core::Clock& clock_;
    SqliteWrites writes_;

    WriteQueue queue_;
    RecordPacker packer_;
    mutable std::mutex mu_;  // guards on_commit_
    std::function<void(const CommitStats&)> on_commit_;
    std::unique_ptr<WalCheckpointer> checkpointer_;
    std::unique_ptr<WalSyncer> syncer_;  // with synchronous: full; null otherwise
    std::pair<std::uint64_t, std::uint64_t> wal_reported_;  // writer thread only
    std::uint64_t commit_seq_ = 0;                          // writer thread only
    std::thread writer_;
};

}  // namespace

Result<std::unique_ptr<Store>> openSqliteStore(const SqliteOptions& options,
                                               const core::Clock& clock) {
    std::error_code ec;
    auto dir = std::filesystem::path(options.path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec) {
        return Error{
            fmt::format("cannot create the data folder \"{}\": {}", dir.string(), ec.message())};
    }
    auto db = openDb(options.path, options.synchronous_full, options.cache_mib);
    if (!db) return Error{db.error()};
    auto store = std::make_unique<SqliteStore>(*db, options, clock);
    if (auto s = store->init(); !s) return Error{s.error()};
    return std::unique_ptr<Store>(std::move(store));
}

}  // namespace alertbridge::state
