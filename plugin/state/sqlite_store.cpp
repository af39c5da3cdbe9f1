#include "plugin/state/sqlite_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <pthread.h>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/core/time.hpp"

namespace alertbridge::state {
namespace {

using core::Error;
using core::Result;
using core::Status;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal(
  id INTEGER PRIMARY KEY,
  input TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS alerts(
  id INTEGER PRIMARY KEY,
  fingerprint INTEGER NOT NULL,
  record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY,
  output TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  alert_count INTEGER NOT NULL,
  body BLOB NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  last_error TEXT,
  finished_at INTEGER);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(output, id) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS emails(
  id INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  sender TEXT NOT NULL,
  subject TEXT NOT NULL,
  message_id TEXT NOT NULL,
  rule TEXT NOT NULL,
  fingerprint INTEGER NOT NULL,
  status TEXT NOT NULL,
  result TEXT NOT NULL,
  warnings TEXT NOT NULL,
  raw BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS emails_by_fingerprint ON emails(fingerprint, id);
CREATE INDEX IF NOT EXISTS emails_by_time ON emails(received_at);
INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1');
INSERT OR IGNORE INTO meta(key, value) VALUES('checkpoint_journal_id', '0');
)sql";

// RAII handle for a prepared statement.
class Stmt {
  public:
    Stmt() = default;
    Stmt(sqlite3* db, const char* sql) {
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK) {
            error_ = sqlite3_errmsg(db);
            s_ = nullptr;
        }
    }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt(Stmt&& o) noexcept : s_(o.s_), error_(std::move(o.error_)) { o.s_ = nullptr; }
    Stmt& operator=(Stmt&& o) noexcept {
        std::swap(s_, o.s_);
        std::swap(error_, o.error_);
        return *this;
    }
    ~Stmt() { sqlite3_finalize(s_); }
    sqlite3_stmt* get() const { return s_; }
    const std::string& error() const { return error_; }
    void bind(int i, long long v) { sqlite3_bind_int64(s_, i, v); }
    void bind(int i, std::string_view v) {
        sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void bindBlob(int i, std::string_view v) {
        sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    // Steps a statement that returns no rows and resets it.
    int run() {
        int rc = sqlite3_step(s_);
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
        return rc == SQLITE_ROW ? SQLITE_DONE : rc;
    }
    std::string_view column(int i) const {
        auto p = static_cast<const char*>(sqlite3_column_blob(s_, i));
        return {p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s_, i))};
    }

  private:
    sqlite3_stmt* s_ = nullptr;
    std::string error_;
};

Result<sqlite3*> openDb(const std::string& path, bool synchronous_full, std::size_t cache_mib) {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        return Error{fmt::format("cannot open the database \"{}\": {}", path, msg)};
    }
    sqlite3_busy_timeout(db, 5000);
    std::string pragmas = fmt::format(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA cache_size=-{};"
        "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=4000;",
        synchronous_full ? "FULL" : "NORMAL", cache_mib * 1024);
    char* err = nullptr;
    if (sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        sqlite3_close(db);
        return Error{fmt::format("cannot configure the database \"{}\": {}", path, msg)};
    }
    return db;
}

long long millis(TimePoint t) { return core::toUnixMillis(t); }

class SqliteReader final : public StoreReader {
  public:
    explicit SqliteReader(sqlite3* db)
        : db_(db),
          pending_(db,
                   "SELECT id, output, body, alert_count, attempts, created_at FROM outbox "
                   "WHERE output = ?1 AND state = 'pending' AND id > ?2 ORDER BY id LIMIT ?3"),
          count_(db, "SELECT count(*) FROM outbox WHERE output = ?1 AND state = 'pending'"),
          alerts_(db, "SELECT id, fingerprint, record FROM alerts ORDER BY id"),
          journal_(db,
                   "SELECT id, input, received_at, body FROM journal "
                   "WHERE id > ?1 ORDER BY id LIMIT ?2"),
          checkpoint_(db,
                      "SELECT CAST(value AS INTEGER) FROM meta "
                      "WHERE key = 'checkpoint_journal_id'"),
          emails_(db,
                  "SELECT id, received_at, sender, subject, message_id, rule, fingerprint, status, "
                  "result, warnings, '' FROM emails WHERE ?1 = 0 OR fingerprint = ?1 "
                  "ORDER BY id DESC LIMIT ?2"),
          email_(db,
                 "SELECT id, received_at, sender, subject, message_id, rule, fingerprint, status, "
                 "result, warnings, raw FROM emails WHERE id = ?1") {}

    // Empty when every statement prepared; else the first error.
    std::string prepareError() const {
        for (const Stmt* s :
             {&pending_, &count_, &alerts_, &journal_, &checkpoint_, &emails_, &email_}) {
            if (s->get() == nullptr) return s->error();
        }
        return "";
    }
    ~SqliteReader() override {
        pending_ = Stmt();
        count_ = Stmt();
        alerts_ = Stmt();
        journal_ = Stmt();
        checkpoint_ = Stmt();
        emails_ = Stmt();
        email_ = Stmt();
        sqlite3_close(db_);
    }

    Result<std::vector<OutboxRow>> pendingOutbox(std::string_view output, long long after_id,
                                                 std::size_t limit) override {
        std::vector<OutboxRow> rows;
        Txn t(db_);
        pending_.bind(1, output);
        pending_.bind(2, after_id);
        pending_.bind(3, static_cast<long long>(limit));
        int rc;
        while ((rc = sqlite3_step(pending_.get())) == SQLITE_ROW) {
            auto* s = pending_.get();
            OutboxRow r;
            r.id = sqlite3_column_int64(s, 0);
            r.output = std::string(pending_.column(1));
            r.body = std::string(pending_.column(2));
            r.alert_count = sqlite3_column_int(s, 3);
            r.attempts = sqlite3_column_int(s, 4);
            r.created_at = core::fromUnixMillis(sqlite3_column_int64(s, 5));
            rows.push_back(std::move(r));
        }
        sqlite3_reset(pending_.get());
        if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        return rows;
    }

    Result<long long> countPendingOutbox(std::string_view output) override {
        count_.bind(1, output);
        long long n = 0;
        int rc = sqlite3_step(count_.get());
        if (rc == SQLITE_ROW) n = sqlite3_column_int64(count_.get(), 0);
        sqlite3_reset(count_.get());
        if (rc != SQLITE_ROW) return Error{sqlite3_errmsg(db_)};
        return n;
    }

    Status forEachAlert(
        const std::function<void(long long, core::Fingerprint, std::string_view)>& fn) override {
        Txn t(db_);
        int rc;
        while ((rc = sqlite3_step(alerts_.get())) == SQLITE_ROW) {
            fn(sqlite3_column_int64(alerts_.get(), 0),
               static_cast<core::Fingerprint>(sqlite3_column_int64(alerts_.get(), 1)),
               alerts_.column(2));
        }
        sqlite3_reset(alerts_.get());
        if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        return core::okStatus();
    }

    Result<long long> checkpointJournalId() override {
        long long id = 0;
        int rc = sqlite3_step(checkpoint_.get());
        if (rc == SQLITE_ROW) id = sqlite3_column_int64(checkpoint_.get(), 0);
        sqlite3_reset(checkpoint_.get());
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        return id;
    }

    Result<std::vector<JournalEntry>> journalAfter(long long after_id, std::size_t limit) override {
        std::vector<JournalEntry> out;
        Txn t(db_);
        journal_.bind(1, after_id);
        journal_.bind(2, static_cast<long long>(limit));
        int rc;
        while ((rc = sqlite3_step(journal_.get())) == SQLITE_ROW) {
            JournalEntry e;
            e.id = sqlite3_column_int64(journal_.get(), 0);
            e.input = std::string(journal_.column(1));
            e.received_at = core::fromUnixMillis(sqlite3_column_int64(journal_.get(), 2));
            e.body = std::string(journal_.column(3));
            out.push_back(std::move(e));
        }
        sqlite3_reset(journal_.get());
        if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        return out;
    }

    Result<std::vector<EmailRecord>> emails(core::Fingerprint fingerprint,
                                            std::size_t limit) override {
        std::vector<EmailRecord> out;
        emails_.bind(1, static_cast<long long>(fingerprint));
        emails_.bind(2, static_cast<long long>(limit));
        int rc;
        while ((rc = sqlite3_step(emails_.get())) == SQLITE_ROW) out.push_back(emailRow(emails_));
        sqlite3_reset(emails_.get());
        if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        return out;
    }

    Result<EmailRecord> email(long long id) override {
        email_.bind(1, id);
        int rc = sqlite3_step(email_.get());
        std::optional<EmailRecord> found;
        if (rc == SQLITE_ROW) found = emailRow(email_);
        sqlite3_reset(email_.get());
        if (rc == SQLITE_DONE) return Error{fmt::format("no email has id {}", id)};
        if (!found) return Error{sqlite3_errmsg(db_)};
        return std::move(*found);
    }

  private:
    static EmailRecord emailRow(const Stmt& s) {
        EmailRecord r;
        r.id = sqlite3_column_int64(s.get(), 0);
        r.received_at = core::fromUnixMillis(sqlite3_column_int64(s.get(), 1));
        r.sender = std::string(s.column(2));
        r.subject = std::string(s.column(3));
        r.message_id = std::string(s.column(4));
        r.rule = std::string(s.column(5));
        r.fingerprint = static_cast<core::Fingerprint>(sqlite3_column_int64(s.get(), 6));
        r.status = std::string(s.column(7));
        r.result = std::string(s.column(8));
        r.warnings = std::string(s.column(9));
        r.raw = std::string(s.column(10));
        return r;
    }

    // A read transaction, so that a multi-row read sees one snapshot.
    struct Txn {
        explicit Txn(sqlite3* db) : db(db) { sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr); }
        ~Txn() { sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr); }
        sqlite3* db;
    };
    sqlite3* db_;
    Stmt pending_, count_, alerts_, journal_, checkpoint_, emails_, email_;
};

class SqliteStore final : public Store {
  public:
    SqliteStore(sqlite3* db, SqliteOptions options, const core::Clock& clock)
        : db_(db), options_(std::move(options)), clock_(clock) {}

    Status init() {
        char* err = nullptr;
        if (sqlite3_exec(db_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : "unknown error";
            sqlite3_free(err);
            return Error{fmt::format("cannot create the schema: {}", msg)};
        }
        struct Def {
            Stmt* stmt;
            const char* sql;
        };
        for (auto [stmt, sql] : std::initializer_list<Def>{
                 {&ins_journal_,
                  "INSERT INTO journal(input, received_at, body) VALUES(?1, ?2, ?3)"},
                 {&set_checkpoint_,
                  "UPDATE meta SET value = CAST(?1 AS TEXT) WHERE key = 'checkpoint_journal_id'"},
                 {&insert_alert_, "INSERT INTO alerts(id, fingerprint, record) VALUES(?1, ?2, ?3)"},
                 {&delete_alert_, "DELETE FROM alerts WHERE id = ?1"},
                 {&ins_outbox_,
                  "INSERT INTO outbox(output, created_at, alert_count, body) VALUES(?1, ?2, ?3, "
                  "?4)"},
                 {&attempt_,
                  "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?2, "
                  "last_error = ?3, state = ?4, finished_at = ?5 WHERE id = ?1"},
                 {&prune_journal_,
                  "DELETE FROM journal WHERE id IN (SELECT id FROM journal WHERE received_at < ?1 "
                  "AND id <= (SELECT CAST(value AS INTEGER) FROM meta "
                  "WHERE key = 'checkpoint_journal_id') ORDER BY id LIMIT 2000)"},
                 {&prune_outbox_,
                  "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state != 'pending' "
                  "AND finished_at < ?1 LIMIT 2000)"},
                 {&ins_email_,
                  "INSERT OR REPLACE INTO emails(id, received_at, sender, subject, message_id, "
                  "rule, fingerprint, status, result, warnings, raw) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
                 {&prune_emails_,
                  "DELETE FROM emails WHERE id IN (SELECT id FROM emails WHERE received_at < ?1 "
                  "ORDER BY received_at LIMIT 2000)"},
                 {&begin_, "BEGIN IMMEDIATE"},
                 {&commit_, "COMMIT"},
                 {&rollback_, "ROLLBACK"},
             }) {
            *stmt = Stmt(db_, sql);
            if (!stmt->get())
                return Error{fmt::format("cannot prepare \"{}\": {}", sql, stmt->error())};
        }
        writer_ = std::thread([this] {
            pthread_setname_np(pthread_self(), "ab-store");
            writerLoop();
        });
        return core::okStatus();
    }

    ~SqliteStore() override {
        stop();
        for (Stmt* s : {&ins_journal_, &set_checkpoint_, &insert_alert_, &delete_alert_,
                        &ins_outbox_, &attempt_, &prune_journal_, &prune_outbox_, &ins_email_,
                        &prune_emails_, &begin_, &commit_, &rollback_}) {
            *s = Stmt();
        }
        sqlite3_close(db_);
    }

    void appendJournal(JournalEntry entry, JournalDone done) override {
        auto shared = std::make_shared<std::pair<JournalEntry, long long>>(std::move(entry), 0);
        enqueue(Op{[this, shared]() -> int {
                       auto& e = shared->first;
                       ins_journal_.bind(1, e.input);
                       ins_journal_.bind(2, millis(e.received_at));
                       ins_journal_.bindBlob(3, e.body);
                       int rc = ins_journal_.run();
                       shared->second = sqlite3_last_insert_rowid(db_);
                       // The body is on disk; drop our copy before the commit completes.
                       std::string().swap(e.body);
                       return rc;
                   },
                   [shared, done = std::move(done)](const Status& s) {
                       if (s.ok()) {
                           done(shared->second);
                       } else {
                           done(Error{s.error()});
                       }
                   },
                   false, 1, /*urgent=*/true});
    }

    void applyDelta(StateDelta delta, Done done) override {
        auto shared = std::make_shared<StateDelta>(std::move(delta));
        enqueue(Op{[this, shared]() -> int {
                       const long long now = millis(clock_.now());
                       for (auto id : shared->deletes) {
                           delete_alert_.bind(1, id);
                           if (int rc = delete_alert_.run(); rc != SQLITE_DONE) return rc;
                       }
                       for (const auto& w : shared->upserts) {
                           if (w.replaces != 0) {
                               delete_alert_.bind(1, w.replaces);
                               if (int rc = delete_alert_.run(); rc != SQLITE_DONE) return rc;
                           }
                           insert_alert_.bind(1, w.row_id);
                           insert_alert_.bind(2, static_cast<long long>(w.fingerprint));
                           insert_alert_.bindBlob(3, w.record);
                           if (int rc = insert_alert_.run(); rc != SQLITE_DONE) return rc;
                       }
                       for (const auto& o : shared->outbox) {
                           ins_outbox_.bind(1, o.output);
                           ins_outbox_.bind(2, now);
                           ins_outbox_.bind(3, static_cast<long long>(o.alert_count));
                           ins_outbox_.bindBlob(4, o.body);
                           if (int rc = ins_outbox_.run(); rc != SQLITE_DONE) return rc;
                       }
                       if (shared->checkpoint_journal_id > 0) {
                           set_checkpoint_.bind(1, shared->checkpoint_journal_id);
                           if (int rc = set_checkpoint_.run(); rc != SQLITE_DONE) return rc;
                       }
                       return SQLITE_DONE;
                   },
                   std::move(done), /*retry_on_failure=*/true,
                   1 + shared->upserts.size() + shared->deletes.size() + shared->outbox.size()});
    }

    void recordAttempt(OutboxAttempt a) override {
        auto shared = std::make_shared<OutboxAttempt>(std::move(a));
        enqueue(Op{[this, shared]() -> int {
                       const char* state = shared->state == OutboxState::kPending     ? "pending"
                                           : shared->state == OutboxState::kDelivered ? "delivered"
                                                                                      : "dropped";
                       for (auto id : shared->ids) {
                           attempt_.bind(1, id);
                           attempt_.bind(2, millis(shared->at));
                           if (shared->last_error.empty()) {
                               sqlite3_bind_null(attempt_.get(), 3);
                           } else {
                               attempt_.bind(3, shared->last_error);
                           }
                           attempt_.bind(4, std::string_view(state));
                           if (shared->state == OutboxState::kPending) {
                               sqlite3_bind_null(attempt_.get(), 5);
                           } else {
                               attempt_.bind(5, millis(shared->at));
                           }
                           if (int rc = attempt_.run(); rc != SQLITE_DONE) return rc;
                       }
                       return SQLITE_DONE;
                   },
                   nullptr, /*retry_on_failure=*/true});
    }

    void recordEmail(EmailRecord e) override {
        auto shared = std::make_shared<EmailRecord>(std::move(e));
        enqueue(Op{[this, shared]() -> int {
                       const auto& e = *shared;
                       ins_email_.bind(1, e.id);
                       ins_email_.bind(2, millis(e.received_at));
                       ins_email_.bind(3, e.sender);
                       ins_email_.bind(4, e.subject);
                       ins_email_.bind(5, e.message_id);
                       ins_email_.bind(6, e.rule);
                       ins_email_.bind(7, static_cast<long long>(e.fingerprint));
                       ins_email_.bind(8, e.status);
                       ins_email_.bind(9, e.result);
                       ins_email_.bind(10, e.warnings);
                       ins_email_.bindBlob(11, e.raw);
                       return ins_email_.run();
                   },
                   nullptr, /*retry_on_failure=*/true});
    }

    std::unique_ptr<StoreReader> openReader() override {
        auto db = openDb(options_.path, options_.synchronous_full, 2);
        if (!db) {
            spdlog::error("Cannot open a read connection to the store. error={}", db.error());
            return nullptr;
        }
        auto reader = std::make_unique<SqliteReader>(*db);
        if (auto e = reader->prepareError(); !e.empty()) {
            spdlog::error("Cannot prepare the store's read statements. error=\"{}\"", e);
            return nullptr;
        }
        return reader;
    }

    void onCommit(std::function<void(const CommitStats&)> fn) override {
        std::lock_guard lock(mu_);
        on_commit_ = std::move(fn);
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

    void writerLoop() {
        std::deque<Op> batch;
        auto last_prune = std::chrono::steady_clock::now();
        for (;;) {
            {
                std::unique_lock lock(mu_);
                cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !urgent_.empty(); });
                if (queue_.empty() && urgent_.empty() && stopping_) return;
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
            }
            auto started = std::chrono::steady_clock::now();
            bool prune = started - last_prune >= options_.prune_interval;
            Status status = commit(batch, prune);
            if (prune) last_prune = started;
            CommitStats stats{
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                batch.size()};
            std::function<void(const CommitStats&)> hook;
            {
                std::lock_guard lock(mu_);
                hook = on_commit_;
            }
            if (hook) hook(stats);
            std::deque<Op> again;
            for (auto& op : batch) {
                if (!status.ok() && op.retry_on_failure && !stopping()) {
                    again.push_back(std::move(op));
                } else if (op.done) {
                    op.done(status);
                }
            }
            batch.clear();
            if (!again.empty()) {
                std::this_thread::sleep_for(std::chrono::seconds(1));
                std::lock_guard lock(mu_);
                for (auto it = again.rbegin(); it != again.rend(); ++it) {
                    queue_.push_front(std::move(*it));
                }
            }
        }
    }

    bool stopping() {
        std::lock_guard lock(mu_);
        return stopping_;
    }

    Status commit(std::deque<Op>& batch, bool prune) {
        if (begin_.run() != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        for (auto& op : batch) {
            if (op.apply() != SQLITE_DONE) {
                std::string msg = sqlite3_errmsg(db_);
                rollback_.run();
                spdlog::error("A store transaction failed and was rolled back. error=\"{}\" ops={}",
                              msg, batch.size());
                return Error{msg};
            }
        }
        if (prune) {
            auto now = clock_.now();
            prune_journal_.bind(1, millis(now - options_.journal_retention));
            prune_journal_.run();
            prune_outbox_.bind(1, millis(now - options_.outbox_retention));
            prune_outbox_.run();
            prune_emails_.bind(1, millis(now - options_.email_retention));
            prune_emails_.run();
        }
        if (commit_.run() != SQLITE_DONE) {
            std::string msg = sqlite3_errmsg(db_);
            rollback_.run();
            return Error{msg};
        }
        return core::okStatus();
    }

    sqlite3* db_;
    SqliteOptions options_;
    const core::Clock& clock_;
    Stmt ins_journal_, set_checkpoint_, insert_alert_, delete_alert_, ins_outbox_, attempt_,
        prune_journal_, prune_outbox_, ins_email_, prune_emails_, begin_, commit_, rollback_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Op> queue_;
    std::deque<Op> urgent_;
    bool stopping_ = false;
    std::function<void(const CommitStats&)> on_commit_;
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
