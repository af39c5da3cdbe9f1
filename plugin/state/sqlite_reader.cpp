#include "plugin/state/sqlite_reader.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/state/body_codec.hpp"
#include "plugin/state/record_packer.hpp"
#include "plugin/state/sqlite_errors.hpp"

namespace alertbridge::state {
namespace {

using core::Error;
using core::Result;
using core::Status;

class SqliteReader final : public StoreReader {
  public:
    explicit SqliteReader(sqlite3* db)
        : db_(db),
          // From the index alone (outbox_due covers it): reading a column after the body
          // would walk the body's overflow pages.
          due_(db,
               "SELECT id, alert_count FROM outbox "
               "WHERE output = ?1 AND state = 'pending' AND not_before <= ?3 "
               "ORDER BY id LIMIT ?2"),
          pending_(db,
                   "SELECT id, output, body, alert_count, attempts, created_at, keys, nkey, "
                   "receiver, group_key, reason, step, not_before FROM outbox WHERE id = ?1"),
          deferred_(db,
                    "SELECT min(not_before) FROM outbox "
                    "WHERE output = ?1 AND state = 'pending' AND not_before > ?2"),
          log_(db,
               "SELECT key, receiver, group_key, reason, step, 0, output, alert_count, attempts, "
               "created_at, finished_at, state, last_error FROM nflog "
               "WHERE (?1 = '' OR receiver = ?1) AND (?2 = '' OR group_key = ?2) "
               "ORDER BY finished_at DESC, key LIMIT ?3"),
          keys_(db,
                "SELECT id, keys FROM outbox "
                "WHERE output = ?1 AND state = 'pending' AND id > ?2 ORDER BY id LIMIT ?3"),
          count_(db,
                 "SELECT count(*), coalesce(sum(length(body)), 0) FROM outbox "
                 "WHERE output = ?1 AND state = 'pending'"),
          alerts_(db, "SELECT id, fingerprint, record FROM alerts ORDER BY id"),
          journal_(db,
                   "SELECT id, input, received_at, body FROM journal "
                   "WHERE id > ?1 ORDER BY id LIMIT ?2"),
          checkpoint_(db,
                      "SELECT CAST(value AS INTEGER) FROM meta "
                      "WHERE key = 'checkpoint_journal_id'"),
          outbox_journal_(db,
                          "SELECT CAST(value AS INTEGER) FROM meta "
                          "WHERE key = 'outbox_journal_id'"),
          emails_(db,
                  "SELECT id, received_at, sender, subject, message_id, rule, fingerprint, status, "
                  "result, warnings, '' FROM emails WHERE ?1 = 0 OR fingerprint = ?1 "
                  "ORDER BY id DESC LIMIT ?2"),
          email_(db,
                 "SELECT id, received_at, sender, subject, message_id, rule, fingerprint, status, "
                 "result, warnings, raw FROM emails WHERE id = ?1") {}

    // Empty when every statement prepared; else the first error.
    std::string prepareError() const {
        for (const Stmt* s : statements()) {
            if (s->get() == nullptr) return s->error();
        }
        return "";
    }
    ~SqliteReader() override {
        for (Stmt* s : statements()) *s = Stmt();
        sqlite3_close(db_);
    }

    Result<std::vector<OutboxRow>> pendingOutbox(std::string_view output, std::size_t limit,
                                                 std::size_t max_alerts, core::TimePoint now,
                                                 const std::vector<long long>& skip) override {
        std::vector<OutboxRow> rows;
        Txn t(db_);
        if (!t.ok) return Error{sqlite3_errmsg(db_)};
        // First which rows: the oldest due ones while their alerts stay within the bound
        // (the first one always), without touching a body. Then only those rows' bodies.
        std::vector<long long> ids;
        due_.bind(1, output);
        due_.bind(2, static_cast<long long>(limit) + static_cast<long long>(skip.size()));
        due_.bind(3, millis(now));
        std::size_t alerts = 0;
        int rc;
        while ((rc = sqlite3_step(due_.get())) == SQLITE_ROW && ids.size() < limit) {
            const long long id = sqlite3_column_int64(due_.get(), 0);
            if (std::binary_search(skip.begin(), skip.end(), id)) continue;
            auto n = static_cast<std::size_t>(std::max(0, sqlite3_column_int(due_.get(), 1)));
            if (!ids.empty() && alerts + n > max_alerts) break;
            alerts += n;
            ids.push_back(id);
        }
        sqlite3_reset(due_.get());
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error{sqlite3_errmsg(db_)};
        for (auto id : ids) {
            pending_.bind(1, id);
            rc = sqlite3_step(pending_.get());
            if (rc == SQLITE_ROW) {
                auto* s = pending_.get();
                OutboxRow r;
                r.id = sqlite3_column_int64(s, 0);
                r.output = std::string(pending_.column(1));
                r.body = unpackBody(pending_.column(2));
                r.alert_count = sqlite3_column_int(s, 3);
                r.attempts = sqlite3_column_int(s, 4);
                r.created_at = core::fromUnixMillis(sqlite3_column_int64(s, 5));
                r.keys = decodeOutboxKeys(pending_.column(6), r.body.size());
                r.meta = metaRow(pending_, 7);
                rows.push_back(std::move(r));
            }
            sqlite3_reset(pending_.get());
            if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        }
        return rows;
    }

    Result<std::optional<core::TimePoint>> nextDeferred(std::string_view output,
                                                        core::TimePoint now) override {
        deferred_.bind(1, output);
        deferred_.bind(2, millis(now));
        std::optional<core::TimePoint> at;
        int rc = sqlite3_step(deferred_.get());
        if (rc == SQLITE_ROW && sqlite3_column_type(deferred_.get(), 0) != SQLITE_NULL) {
            at = core::fromUnixMillis(sqlite3_column_int64(deferred_.get(), 0));
        }
        sqlite3_reset(deferred_.get());
        if (rc != SQLITE_ROW) return Error{sqlite3_errmsg(db_)};
        return at;
    }

    Result<std::vector<LoggedNotification>> notificationLog(const NotificationQuery& q) override {
        std::vector<LoggedNotification> out;
        log_.bind(1, q.receiver);
        log_.bind(2, q.group_key);
        log_.bind(3, static_cast<long long>(q.limit));
        int rc;
        while ((rc = sqlite3_step(log_.get())) == SQLITE_ROW) {
            auto* s = log_.get();
            LoggedNotification n;
            n.meta = metaRow(log_, 0);
            n.output = std::string(log_.column(6));
            n.alert_count = sqlite3_column_int(s, 7);
            n.attempts = sqlite3_column_int(s, 8);
            n.created_at = core::fromUnixMillis(sqlite3_column_int64(s, 9));
            n.finished_at = core::fromUnixMillis(sqlite3_column_int64(s, 10));
            n.state = std::string(log_.column(11));
            n.last_error = std::string(log_.column(12));
            out.push_back(std::move(n));
        }
        sqlite3_reset(log_.get());
        if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        return out;
    }

    Result<std::vector<PendingKeys>> pendingKeys(std::string_view output, long long after_id,
                                                 std::size_t limit) override {
        std::vector<PendingKeys> rows;
        keys_.bind(1, output);
        keys_.bind(2, after_id);
        keys_.bind(3, static_cast<long long>(limit));
        int rc;
        while ((rc = sqlite3_step(keys_.get())) == SQLITE_ROW) {
            // The body may be stored packed, so its unpacked size is not known here; the
            // keys are checked against it when the row itself is read.
            rows.push_back(PendingKeys{
                sqlite3_column_int64(keys_.get(), 0),
                decodeOutboxKeys(keys_.column(1), std::numeric_limits<std::size_t>::max())});
        }
        sqlite3_reset(keys_.get());
        if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        return rows;
    }

    Result<OutboxBacklog> pendingBacklog(std::string_view output) override {
        count_.bind(1, output);
        OutboxBacklog b;
        int rc = sqlite3_step(count_.get());
        if (rc == SQLITE_ROW) {
            b.rows = sqlite3_column_int64(count_.get(), 0);
            b.bytes = sqlite3_column_int64(count_.get(), 1);
        }
        sqlite3_reset(count_.get());
        if (rc != SQLITE_ROW) return Error{sqlite3_errmsg(db_)};
        return b;
    }

    Status forEachAlert(
        const std::function<void(long long, core::Fingerprint, std::string_view)>& fn) override {
        Txn t(db_);
        if (!t.ok) return Error{sqlite3_errmsg(db_)};
        // Packed records are given unpacked; one whose dictionary is missing or damaged is
        // given as stored, which the pipeline counts as damaged.
        auto dicts = readRecordDictionaries(db_);
        if (!dicts) return Error{dicts.error()};
        int rc;
        while ((rc = sqlite3_step(alerts_.get())) == SQLITE_ROW) {
            auto stored = alerts_.column(2);
            std::optional<std::string> raw;
            if (isPackedRecord(stored)) raw = unpackRecord(stored, *dicts);
            fn(sqlite3_column_int64(alerts_.get(), 0),
               static_cast<core::Fingerprint>(sqlite3_column_int64(alerts_.get(), 1)),
               raw ? std::string_view(*raw) : stored);
        }
        sqlite3_reset(alerts_.get());
        if (rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        return core::okStatus();
    }

    Result<long long> checkpointJournalId() override { return metaId(checkpoint_); }
    Result<long long> outboxJournalId() override { return metaId(outbox_journal_); }

    // Read once, at start-up: a statement of its own, finalized on return.
    Result<std::string> incidentsState() override {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db_, "SELECT value FROM meta WHERE key = 'incidents_state'", -1,
                               &raw, nullptr) != SQLITE_OK) {
            return Error{sqlite3_errmsg(db_)};
        }
        std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
        int rc = sqlite3_step(raw);
        if (rc == SQLITE_DONE) return std::string();
        if (rc != SQLITE_ROW) return Error{sqlite3_errmsg(db_)};
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
        return std::string(text != nullptr ? text : "",
                           static_cast<std::size_t>(sqlite3_column_bytes(raw, 0)));
    }

    Result<std::vector<JournalEntry>> journalAfter(long long after_id, std::size_t limit) override {
        std::vector<JournalEntry> out;
        Txn t(db_);
        if (!t.ok) return Error{sqlite3_errmsg(db_)};
        journal_.bind(1, after_id);
        journal_.bind(2, static_cast<long long>(limit));
        int rc;
        while ((rc = sqlite3_step(journal_.get())) == SQLITE_ROW) {
            JournalEntry e;
            e.id = sqlite3_column_int64(journal_.get(), 0);
            e.input = std::string(journal_.column(1));
            e.received_at = core::fromUnixMillis(sqlite3_column_int64(journal_.get(), 2));
            e.body = unpackBody(journal_.column(3));
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
    std::array<Stmt*, 12> statements() {
        return {&due_,     &pending_,    &deferred_,       &log_,    &keys_, &count_, &alerts_,
                &journal_, &checkpoint_, &outbox_journal_, &emails_, &email_};
    }
    std::array<const Stmt*, 12> statements() const {
        return {&due_,     &pending_,    &deferred_,       &log_,    &keys_, &count_, &alerts_,
                &journal_, &checkpoint_, &outbox_journal_, &emails_, &email_};
    }

    // Columns first..first+5: key, receiver, group_key, reason, step, not_before.
    static NotificationMeta metaRow(const Stmt& s, int first) {
        NotificationMeta m;
        m.key = std::string(s.column(first));
        m.receiver = std::string(s.column(first + 1));
        m.group_key = std::string(s.column(first + 2));
        m.reason = std::string(s.column(first + 3));
        m.step = sqlite3_column_int(s.get(), first + 4);
        m.not_before = core::fromUnixMillis(sqlite3_column_int64(s.get(), first + 5));
        return m;
    }

    // A numeric value from meta; 0 when the key is absent.
    Result<long long> metaId(Stmt& stmt) {
        long long id = 0;
        int rc = sqlite3_step(stmt.get());
        if (rc == SQLITE_ROW) id = sqlite3_column_int64(stmt.get(), 0);
        sqlite3_reset(stmt.get());
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error{sqlite3_errmsg(db_)};
        return id;
    }

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
    // A failed BEGIN is reported by the caller; a failed COMMIT of a read transaction
    // loses nothing (the next BEGIN would fail and say why), so it is only logged.
    struct Txn {
        explicit Txn(sqlite3* db)
            : db(db), ok(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK) {}
        ~Txn() {
            if (ok && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
                spdlog::warn("A store read transaction did not end cleanly. error=\"{}\"",
                             sqlite3_errmsg(db));
                sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            }
        }
        sqlite3* db;
        bool ok;
    };
    sqlite3* db_;
    Stmt due_, pending_, deferred_, log_, keys_, count_, alerts_, journal_, checkpoint_,
        outbox_journal_, emails_, email_;
};

}  // namespace

std::unique_ptr<StoreReader> openSqliteReader(const std::string& path, bool synchronous_full) {
    auto db = openDb(path, synchronous_full, 2);
    if (!db) {
        spdlog::error("Cannot open a read connection to the store. error=\"{}\"", db.error());
        return nullptr;
    }
    auto reader = std::make_unique<SqliteReader>(*db);
    if (auto e = reader->prepareError(); !e.empty()) {
        spdlog::error("Cannot prepare the store's read statements. error=\"{}\"", e);
        return nullptr;
    }
    return reader;
}

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
    // secure_delete=FAST: Debian builds SQLite with secure_delete on, which zeroes every
    // freed page through the log, so a prune or a finished push wrote its bytes again.
    // FAST still clears deleted content inside b-tree pages, at no extra I/O.
    std::string pragmas = fmt::format(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA cache_size=-{};"
        "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=4000; PRAGMA secure_delete=FAST;",
        synchronous_full ? "FULL" : "NORMAL", cache_mib * 1024);
    char* err = nullptr;
    if (sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        if (isDamage(sqlite3_extended_errcode(db))) msg += "; " + damageAdvice(path);
        sqlite3_close(db);
        return Error{fmt::format("cannot configure the database \"{}\": {}", path, msg)};
    }
    return db;
}

}  // namespace alertbridge::state
