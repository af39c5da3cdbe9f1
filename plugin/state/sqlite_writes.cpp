#include "plugin/state/sqlite_writes.hpp"

#include <fmt/format.h>

#include "plugin/state/body_codec.hpp"

namespace alertbridge::state {

core::Status SqliteWrites::prepare() {
    struct Def {
        Stmt* stmt;
        const char* sql;
    };
    for (auto [stmt, sql] : std::initializer_list<Def>{
             {&ins_journal_,
              "INSERT INTO journal(id, input, received_at, body) VALUES(?4, ?1, ?2, ?3)"},
             {&set_checkpoint_,
              "UPDATE meta SET value = CAST(?1 AS TEXT) WHERE key = 'checkpoint_journal_id'"},
             {&set_incidents_,
              "INSERT INTO meta(key, value) VALUES('incidents_state', ?1) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
             {&set_outbox_journal_,
              "UPDATE meta SET value = CAST(max(CAST(value AS INTEGER), ?1) AS TEXT) "
              "WHERE key = 'outbox_journal_id'"},
             {&insert_alert_, "INSERT INTO alerts(id, fingerprint, record) VALUES(?1, ?2, ?3)"},
             {&delete_alert_, "DELETE FROM alerts WHERE id = ?1"},
             // A row whose key is already queued or logged is the same notification made
             // again (the journal re-applied after a crash): it is not queued twice.
             {&ins_outbox_,
              "INSERT OR IGNORE INTO outbox(output, created_at, alert_count, body, keys, nkey, "
              "not_before, receiver, group_key, reason, step) "
              "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 "
              "WHERE ?6 IS NULL OR NOT EXISTS (SELECT 1 FROM nflog WHERE key = ?6)"},
             {&attempt_,
              "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?2, "
              "last_error = ?3, state = ?4, finished_at = ?5, "
              "body = CASE WHEN ?4 IN ('delivered', 'superseded') THEN x'' ELSE body END, "
              "keys = CASE WHEN ?4 = 'pending' THEN keys ELSE NULL END WHERE id = ?1"},
             {&log_,
              "INSERT OR REPLACE INTO nflog(key, output, receiver, group_key, reason, step, "
              "alert_count, attempts, created_at, finished_at, state, last_error) "
              "SELECT nkey, output, coalesce(receiver, output), coalesce(group_key, output), "
              "coalesce(reason, 'update'), step, alert_count, attempts, created_at, "
              "finished_at, state, last_error FROM outbox "
              "WHERE id = ?1 AND nkey IS NOT NULL AND state != 'pending'"},
             {&prune_log_,
              "DELETE FROM nflog WHERE key IN (SELECT key FROM nflog WHERE finished_at < ?1 "
              "ORDER BY finished_at LIMIT 2000)"},
             {&prune_journal_,
              "DELETE FROM journal WHERE id IN (SELECT id FROM journal WHERE id <= "
              "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'checkpoint_journal_id') "
              "ORDER BY id LIMIT 2000) AND received_at < ?1"},
             {&prune_outbox_,
              "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state != 'pending' "
              "AND finished_at < ?1 ORDER BY finished_at LIMIT 2000)"},
             {&ins_email_,
              "INSERT OR REPLACE INTO emails(id, received_at, sender, subject, message_id, "
              "rule, fingerprint, status, result, warnings, raw) "
              "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"},
             {&prune_emails_,
              "DELETE FROM emails WHERE id IN (SELECT id FROM emails WHERE received_at < ?1 "
              "ORDER BY received_at LIMIT 2000)"},
             {&probe_,
              "INSERT INTO meta(key, value) VALUES('last_write_probe', CAST(?1 AS TEXT)) "
              "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
             {&ins_dict_, "INSERT INTO record_dicts(id, dict, made_at) VALUES(?1, ?2, ?3)"},
             {&begin_, "BEGIN IMMEDIATE"},
             {&commit_, "COMMIT"},
             {&rollback_, "ROLLBACK"},
         }) {
        *stmt = Stmt(db_, sql);
        if (!stmt->get()) {
            return core::Error{fmt::format("cannot prepare \"{}\": {}", sql, stmt->error())};
        }
    }
    return loadJournalId();
}

// Above every journal id the file holds or records: the rows, the checkpoint and the outbox
// marks, the archived emails (keyed by journal id), and the last id of the AUTOINCREMENT
// sequence a version-5 file had. Pruning removes only rows at or below the checkpoint, so
// an id once handed out stays at or below this even when the journal is empty.
core::Status SqliteWrites::loadJournalId() {
    Stmt q(db_,
           "SELECT max(coalesce((SELECT max(id) FROM journal), 0), "
           "coalesce((SELECT max(id) FROM emails), 0), "
           "coalesce((SELECT max(CAST(value AS INTEGER)) FROM meta WHERE key IN "
           "('checkpoint_journal_id', 'outbox_journal_id', 'journal_id_floor')), 0))");
    if (!q.get() || sqlite3_step(q.get()) != SQLITE_ROW) {
        return core::Error{fmt::format("cannot read the last journal id: {}", sqlite3_errmsg(db_))};
    }
    next_journal_id_ = sqlite3_column_int64(q.get(), 0) + 1;
    return core::okStatus();
}

void SqliteWrites::finalize() {
    for (Stmt* s : {&ins_journal_, &set_checkpoint_, &set_incidents_, &set_outbox_journal_,
                    &insert_alert_, &delete_alert_, &ins_outbox_, &attempt_, &log_, &prune_log_,
                    &prune_journal_, &prune_outbox_, &ins_email_, &prune_emails_, &probe_,
                    &ins_dict_, &begin_, &commit_, &rollback_}) {
        *s = Stmt();
    }
}

int SqliteWrites::journal(const JournalEntry& e, const std::optional<std::string>& frame,
                          long long& id) {
    ins_journal_.bind(1, e.input);
    ins_journal_.bind(2, millis(e.received_at));
    // Bound without a copy: both outlive the run.
    ins_journal_.bindBlob(3, frame ? std::string_view(*frame) : std::string_view(e.body));
    ins_journal_.bind(4, next_journal_id_);
    int rc = ins_journal_.run();
    if (rc != SQLITE_DONE) return rc;
    // Never given again, even if the transaction rolls back: a gap is harmless, a reuse not.
    id = next_journal_id_++;
    if (e.email) {
        e.email->id = id;
        return email(*e.email, e.body);
    }
    return rc;
}

int SqliteWrites::dictionary(std::uint32_t id, std::string_view bytes, long long made_at_ms) {
    ins_dict_.bind(1, static_cast<long long>(id));
    ins_dict_.bindBlob(2, bytes);
    ins_dict_.bind(3, made_at_ms);
    return ins_dict_.run();
}

int SqliteWrites::delta(const StateDelta& d, core::TimePoint now,
                        const std::vector<std::optional<std::string>>* frames) {
    for (auto id : d.deletes) {
        delete_alert_.bind(1, id);
        if (int rc = delete_alert_.run(); rc != SQLITE_DONE) return rc;
    }
    for (const auto& w : d.upserts) {
        if (w.replaces != 0) {
            delete_alert_.bind(1, w.replaces);
            if (int rc = delete_alert_.run(); rc != SQLITE_DONE) return rc;
        }
        insert_alert_.bind(1, w.row_id);
        insert_alert_.bind(2, static_cast<long long>(w.fingerprint));
        insert_alert_.bindBlob(3, w.record);
        if (int rc = insert_alert_.run(); rc != SQLITE_DONE) return rc;
    }
    for (std::size_t i = 0; i < d.outbox.size(); ++i) {
        const auto& o = d.outbox[i];
        ins_outbox_.bind(1, o.output);
        ins_outbox_.bind(2, millis(now));
        ins_outbox_.bind(3, static_cast<long long>(o.alert_count));
        std::optional<std::string> packed;
        const auto* frame = frames != nullptr ? &(*frames)[i] : &(packed = packFrame(o.body));
        ins_outbox_.bindBlob(4, *frame ? std::string_view(**frame) : std::string_view(o.body));
        // Bound without a copy, so it must live until the statement ran.
        const std::string keys = encodeOutboxKeys(o.keys);
        if (keys.empty()) {
            sqlite3_bind_null(ins_outbox_.get(), 5);
        } else {
            ins_outbox_.bindBlob(5, keys);
        }
        const auto& m = o.meta;
        if (m.key.empty()) {
            sqlite3_bind_null(ins_outbox_.get(), 6);
        } else {
            ins_outbox_.bind(6, m.key);
        }
        ins_outbox_.bind(7, millis(m.not_before));
        ins_outbox_.bind(8, m.receiver.empty() ? std::string_view(o.output) : m.receiver);
        ins_outbox_.bind(9, m.group_key.empty() ? std::string_view(o.output) : m.group_key);
        ins_outbox_.bind(10, m.reason.empty() ? std::string_view("update") : m.reason);
        ins_outbox_.bind(11, static_cast<long long>(m.step));
        if (int rc = ins_outbox_.run(); rc != SQLITE_DONE) return rc;
    }
    if (d.outbox_journal_id > 0 && !d.outbox.empty()) {
        set_outbox_journal_.bind(1, d.outbox_journal_id);
        if (int rc = set_outbox_journal_.run(); rc != SQLITE_DONE) return rc;
    }
    if (d.incidents_state) {
        set_incidents_.bind(1, std::string_view(*d.incidents_state));
        if (int rc = set_incidents_.run(); rc != SQLITE_DONE) return rc;
    }
    if (d.checkpoint_journal_id > 0) {
        set_checkpoint_.bind(1, d.checkpoint_journal_id);
        if (int rc = set_checkpoint_.run(); rc != SQLITE_DONE) return rc;
    }
    return SQLITE_DONE;
}

int SqliteWrites::attempt(const OutboxAttempt& a) {
    const char* state = a.state == OutboxState::kPending      ? "pending"
                        : a.state == OutboxState::kDelivered  ? "delivered"
                        : a.state == OutboxState::kSuperseded ? "superseded"
                                                              : "dropped";
    for (auto id : a.ids) {
        attempt_.bind(1, id);
        attempt_.bind(2, millis(a.at));
        if (a.last_error.empty()) {
            sqlite3_bind_null(attempt_.get(), 3);
        } else {
            attempt_.bind(3, a.last_error);
        }
        attempt_.bind(4, std::string_view(state));
        if (a.state == OutboxState::kPending) {
            sqlite3_bind_null(attempt_.get(), 5);
        } else {
            attempt_.bind(5, millis(a.at));
        }
        if (int rc = attempt_.run(); rc != SQLITE_DONE) return rc;
        if (a.state != OutboxState::kPending) {
            log_.bind(1, id);
            if (int rc = log_.run(); rc != SQLITE_DONE) return rc;
        }
    }
    return SQLITE_DONE;
}

int SqliteWrites::email(const EmailRecord& e) { return email(e, e.raw); }

int SqliteWrites::email(const EmailRecord& e, std::string_view raw) {
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
    ins_email_.bindBlob(11, raw);
    return ins_email_.run();
}

int SqliteWrites::probe(long long now_ms) {
    probe_.bind(1, now_ms);
    return probe_.run();
}

int SqliteWrites::prune(long long journal_before_ms, long long outbox_before_ms,
                        long long email_before_ms, long long log_before_ms, bool* more) {
    *more = false;
    for (auto [stmt, before] : {std::pair{&prune_log_, log_before_ms},
                                {&prune_journal_, journal_before_ms},
                                {&prune_outbox_, outbox_before_ms},
                                {&prune_emails_, email_before_ms}}) {
        stmt->bind(1, before);
        if (int rc = stmt->run(); rc != SQLITE_DONE) return rc;
        // A statement that removed its whole limit may have left more behind.
        if (sqlite3_changes(db_) >= kPruneChunk) *more = true;
    }
    return SQLITE_DONE;
}

}  // namespace alertbridge::state
