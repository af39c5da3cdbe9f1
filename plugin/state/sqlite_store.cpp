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
#include "plugin/state/sqlite_checkpointer.hpp"
#include "plugin/state/sqlite_errors.hpp"
#include "plugin/state/sqlite_reader.hpp"
#include "plugin/state/sqlite_schema.hpp"
#include "plugin/state/sqlite_util.hpp"
#include "plugin/state/sqlite_writes.hpp"

namespace alertbridge::state {

namespace {

using core::Error;
using core::Result;
using core::Status;

class SqliteStore final : public Store {
  public:
    SqliteStore(sqlite3* db, SqliteOptions options, const core::Clock& clock)
        : db_(db), options_(std::move(options)), clock_(clock), writes_(db) {}

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
        auto shared = std::make_shared<StateDelta>(std::move(delta));
        std::size_t weight =
            1 + shared->upserts.size() + shared->deletes.size() + shared->outbox.size();
        enqueue(Op{[this, shared]() -> int {
                       return writes_.delta(*shared,
                                            shared->at != TimePoint{} ? shared->at : clock_.now());
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

    bool writable() const override { return !failing_.load(); }
    std::string failure() const override {
        std::lock_guard lock(mu_);
        return failing_.load() ? failure_ : std::string();
    }

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
        {
            std::lock_guard lock(mu_);
            if (stopping_) return;
            stopping_ = true;
        }
        cv_.notify_all();
        if (writer_.joinable()) writer_.join();
    }

  private:
    struct Op {
        std::function<int()> apply;  // returns an SQLite result code; SQLITE_DONE is success
        Done done;
        // State changes derived from committed input must not be lost: on a failed commit
        // they go back to the queue and are tried again, rather than failing their caller.
        bool retry_on_failure = false;
        std::size_t weight = 1;  // rows written; bounds one transaction
        // Journal appends hold a sender's request open: they go before bulk work (state
        // checkpoints, outbox rows), which no one waits on.
        bool urgent = false;
    };

    // Most rows one transaction writes: a large checkpoint is split across several
    // commits so that journal appends queued behind it wait for one slice, not all of it.
    static constexpr std::size_t kMaxRowsPerCommit = 4000;

    struct Outcome {
        Status status;
        StoreErrorClass cls = StoreErrorClass::kTransient;
    };

    void enqueue(Op op) {
        std::unique_lock lock(mu_);
        if (stopping_) {
            lock.unlock();
            if (op.done) op.done(Error{"the store is shutting down"});
            return;
        }
        (op.urgent ? urgent_ : queue_).push_back(std::move(op));
        lock.unlock();
        cv_.notify_one();
    }

    // Takes the next batch; false when the writer should exit.
    bool take(std::deque<Op>& batch) {
        std::unique_lock lock(mu_);
        auto has_work = [&] { return stopping_ || !queue_.empty() || !urgent_.empty(); };
        if (failing_.load()) {
            // Wait out the backoff, then retry what is queued or probe with a small write.
            auto until = clock_.now() + backoff(failure_class_, failures_);
            while (!stopping_ && clock_.now() < until) clock_.waitUntil(cv_, lock, until);
        } else {
            cv_.wait(lock, has_work);
        }
        if (queue_.empty() && urgent_.empty() && stopping_) return false;
        std::size_t rows = 0;
        while (!urgent_.empty()) {
            rows += urgent_.front().weight;
            batch.push_back(std::move(urgent_.front()));
            urgent_.pop_front();
        }
        while (!queue_.empty() &&
               (batch.empty() || rows + queue_.front().weight <= kMaxRowsPerCommit)) {
            rows += queue_.front().weight;
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        return true;
    }

    void writerLoop() {
        std::deque<Op> batch;
        auto last_prune = clock_.now();
        while (take(batch)) {
            auto started = clock_.now();
            if (batch.empty() && failing_.load() && failure_class_ == StoreErrorClass::kFull) {
                prune();  // what is past retention may make room for the probe
                last_prune = started;
            }
            Outcome out = batch.empty() ? probe() : commit(batch);
            CommitStats stats{
                std::max(0.0, std::chrono::duration<double>(clock_.now() - started).count()),
                batch.size(),
                checkpointer_->completed() - wal_reported_.first,
                checkpointer_->backstops() - wal_reported_.second,
                out.status.ok(),
                out.cls,
                out.status.ok() ? std::string() : out.status.error()};
            wal_reported_.first += stats.wal_copies;
            wal_reported_.second += stats.wal_inline_copies;
            noteOutcome(out, batch.size());
            std::function<void(const CommitStats&)> hook;
            {
                std::lock_guard lock(mu_);
                hook = on_commit_;
            }
            if (hook) hook(stats);
            std::deque<Op> again;
            for (auto& op : batch) {
                if (!out.status.ok() && op.retry_on_failure && !stopping()) {
                    again.push_back(std::move(op));
                } else if (op.done) {
                    op.done(out.status);
                }
            }
            batch.clear();
            if (!again.empty()) {
                std::lock_guard lock(mu_);
                for (auto it = again.rbegin(); it != again.rend(); ++it) {
                    queue_.push_front(std::move(*it));
                }
            }
            // Pruning waits until the batch is answered. A full store prunes at once: what
            // is past retention may make room. (A clock set back restarts the interval.)
            if (started < last_prune) last_prune = started;
            if ((out.status.ok() &&
                 (prune_more_ || started - last_prune >= options_.prune_interval)) ||
                (!out.status.ok() && out.cls == StoreErrorClass::kFull)) {
                prune();
                last_prune = started;
            }
        }
    }

    // Tracks the store's health: logs the first failure and the recovery, and every tenth
    // retry in between, so a full disk is one clear line, not a line a second.
    void noteOutcome(const Outcome& out, std::size_t ops) {
        std::lock_guard lock(mu_);
        if (out.status.ok()) {
            if (failing_.load()) {
                spdlog::info("The store is writable again. after_failures={} last_error=\"{}\"",
                             failures_, failure_);
            }
            failing_.store(false);
            failures_ = 0;
            failure_.clear();
            return;
        }
        failure_class_ = out.cls;
        failure_ = fmt::format("{} ({})", out.status.error(), storeErrorClassName(out.cls));
        if (!failing_.load()) {
            spdlog::error(
                "The store cannot write; intake answers 503 (SMTP 451) and queued state changes "
                "wait until it can. class={} error=\"{}\" ops={} file={}",
                storeErrorClassName(out.cls), out.status.error(), ops, options_.path);
        } else if (failures_ % 10 == 0) {
            spdlog::warn("The store still cannot write. class={} error=\"{}\" attempts={}",
                         storeErrorClassName(out.cls), out.status.error(), failures_ + 1);
        }
        failing_.store(true);
        ++failures_;
    }

    bool stopping() {
        std::lock_guard lock(mu_);
        return stopping_;
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

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Op> queue_;
    std::deque<Op> urgent_;
    bool stopping_ = false;
    std::atomic<bool> failing_{false};
    StoreErrorClass failure_class_ = StoreErrorClass::kTransient;
    int failures_ = 0;
    std::string failure_;
    std::function<void(const CommitStats&)> on_commit_;
    std::unique_ptr<WalCheckpointer> checkpointer_;
    std::pair<std::uint64_t, std::uint64_t> wal_reported_;  // writer thread only
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
