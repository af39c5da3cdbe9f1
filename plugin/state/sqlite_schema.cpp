#include "plugin/state/sqlite_schema.hpp"

#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace alertbridge::state {
namespace {

using core::Error;
using core::Result;

// Tables of the current version. An id is never handed out twice, even after pruning empties
// a table, so nothing that remembers an id (the checkpoint's journal id, the email archive, a
// delivery worker) can be fooled. Outbox ids are AUTOINCREMENT for that. Journal ids are
// given by the writer (SqliteWrites), above every id the file holds or records: an
// AUTOINCREMENT table rewrites its row of sqlite_sequence with every insert, one page of
// about seven in each group commit of one-alert posts.
constexpr const char* kTables = R"sql(
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
CREATE TABLE IF NOT EXISTS record_dicts(
  id INTEGER PRIMARY KEY,
  dict BLOB NOT NULL,
  made_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  output TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  alert_count INTEGER NOT NULL,
  body BLOB NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  last_error TEXT,
  finished_at INTEGER,
  keys BLOB,
  nkey TEXT,
  not_before INTEGER NOT NULL DEFAULT 0,
  receiver TEXT,
  group_key TEXT,
  reason TEXT,
  step INTEGER NOT NULL DEFAULT 0);
-- What the delivery worker asks of pending rows, answered from the index alone (the
-- columns after the body would cost a walk through its overflow pages; `state` is there so
-- that SQLite 3.40 sees the index as covering). It replaced
-- outbox_pending(output, id), same rows; no schema version change either way.
DROP INDEX IF EXISTS outbox_pending;
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(output, id, not_before, alert_count, state)
  WHERE state = 'pending';
-- Finished rows by age, for pruning: without it the prune walked every row of the outbox
-- (and the overflow pages of each body, since state and finished_at sit after it).
CREATE INDEX IF NOT EXISTS outbox_done ON outbox(finished_at) WHERE state != 'pending';
CREATE UNIQUE INDEX IF NOT EXISTS outbox_by_key ON outbox(nkey) WHERE nkey IS NOT NULL;
CREATE TABLE IF NOT EXISTS nflog(
  key TEXT PRIMARY KEY,
  output TEXT NOT NULL,
  receiver TEXT NOT NULL,
  group_key TEXT NOT NULL,
  reason TEXT NOT NULL,
  step INTEGER NOT NULL,
  alert_count INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  last_error TEXT) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nflog_by_time ON nflog(finished_at);
CREATE INDEX IF NOT EXISTS nflog_by_group ON nflog(group_key, receiver, finished_at);
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
INSERT OR IGNORE INTO meta(key, value) VALUES('checkpoint_journal_id', '0');
INSERT OR IGNORE INTO meta(key, value) VALUES('outbox_journal_id', '0');
)sql";

// Version 1 to 2: SQLite cannot add AUTOINCREMENT to a table, so journal and outbox are
// copied into new tables with the same columns and rows.
constexpr const char* kFrom1 = R"sql(
ALTER TABLE journal RENAME TO journal_v1;
ALTER TABLE outbox RENAME TO outbox_v1;
DROP INDEX IF EXISTS outbox_pending;
)sql";
constexpr const char* kFrom1Copy = R"sql(
INSERT INTO journal(id, input, received_at, body)
  SELECT id, input, received_at, body FROM journal_v1;
INSERT INTO outbox(id, output, created_at, alert_count, body, state, attempts, last_attempt_at,
                   last_error, finished_at)
  SELECT id, output, created_at, alert_count, body, state, attempts, last_attempt_at,
         last_error, finished_at FROM outbox_v1;
DROP TABLE journal_v1;
DROP TABLE outbox_v1;
)sql";

// Version 2 to 3: the element keys that let a backlog coalesce. Rows written before have
// none and go out whole.
constexpr const char* kFrom2 = "ALTER TABLE outbox ADD COLUMN keys BLOB;";

// Version 3 to 4: notifications in the outbox (a stable key, a not-before time, whom and
// why) and the notification log (kTables creates it). Rows written before have no key.
constexpr const char* kFrom3 = R"sql(
ALTER TABLE outbox ADD COLUMN nkey TEXT;
ALTER TABLE outbox ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN receiver TEXT;
ALTER TABLE outbox ADD COLUMN group_key TEXT;
ALTER TABLE outbox ADD COLUMN reason TEXT;
ALTER TABLE outbox ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
)sql";

// From versions 2-5 to 6: the journal loses AUTOINCREMENT (the writer gives its ids), copied
// into a new table with the same rows. The last id its sequence handed out is kept in meta
// as a floor for the writer's next id.
constexpr const char* kFrom5 = R"sql(
INSERT INTO meta(key, value)
  SELECT 'journal_id_floor', CAST(seq AS TEXT) FROM sqlite_sequence WHERE name = 'journal'
  ON CONFLICT(key) DO UPDATE SET value = excluded.value;
ALTER TABLE journal RENAME TO journal_v5;
)sql";
constexpr const char* kFrom5Copy = R"sql(
INSERT INTO journal(id, input, received_at, body)
  SELECT id, input, received_at, body FROM journal_v5;
DROP TABLE journal_v5;
)sql";

// Every outbox id that was ever handed out stays below the next one, and a file written by
// version 1 may have reused ids.
constexpr const char* kSeed = R"sql(
INSERT INTO sqlite_sequence(name, seq) SELECT 'outbox', 0
  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox');
UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(id), 0) FROM outbox))
  WHERE name = 'outbox';
)sql";

Result<bool> exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(db);
        sqlite3_free(err);
        return Error{msg};
    }
    return true;
}

// The version recorded in meta; 0 when the file has no meta table (a new file).
Result<int> readVersion(sqlite3* db) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                           -1, &st, nullptr) != SQLITE_OK) {
        return Error{sqlite3_errmsg(db)};
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) return Error{sqlite3_errmsg(db)};
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
                           nullptr) != SQLITE_OK) {
        return Error{sqlite3_errmsg(db)};
    }
    rc = sqlite3_step(st);
    std::string text;
    if (rc == SQLITE_ROW) {
        auto p = sqlite3_column_text(st, 0);
        text = p ? reinterpret_cast<const char*>(p) : "";
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return Error{"the meta table has no schema_version"};
    if (rc != SQLITE_ROW) return Error{sqlite3_errmsg(db)};
    try {
        std::size_t used = 0;
        int v = std::stoi(text, &used);
        if (used != text.size() || v < 1) throw std::invalid_argument(text);
        return v;
    } catch (const std::exception&) {
        return Error{fmt::format("schema_version \"{}\" is not a version number", text)};
    }
}

Result<int> migrateLocked(sqlite3* db) {
    auto version = readVersion(db);
    if (!version) return Error{version.error()};
    if (*version > kSchemaVersion) {
        return Error{fmt::format(
            "the store was written by a newer alertbridge (schema version {}; this release "
            "reads up to {}); run that release or restore a backup",
            *version, kSchemaVersion)};
    }
    if (*version == 1) {
        if (auto r = exec(db, kFrom1); !r) return Error{"migrating from version 1: " + r.error()};
    }
    if (*version == 2) {
        if (auto r = exec(db, kFrom2); !r) return Error{"migrating from version 2: " + r.error()};
    }
    if (*version == 2 || *version == 3) {
        if (auto r = exec(db, kFrom3); !r) {
            return Error{fmt::format("migrating from version {}: {}", *version, r.error())};
        }
    }
    if (*version >= 2 && *version <= 5) {
        if (auto r = exec(db, kFrom5); !r) {
            return Error{fmt::format("migrating from version {}: {}", *version, r.error())};
        }
    }
    if (auto r = exec(db, kTables); !r) return Error{"creating the tables: " + r.error()};
    if (*version == 1) {
        if (auto r = exec(db, kFrom1Copy); !r) {
            return Error{"migrating from version 1: " + r.error()};
        }
    }
    if (*version >= 2 && *version <= 5) {
        if (auto r = exec(db, kFrom5Copy); !r) {
            return Error{fmt::format("migrating from version {}: {}", *version, r.error())};
        }
    }
    if (auto r = exec(db, kSeed); !r) return Error{"seeding the id sequence: " + r.error()};
    auto set = fmt::format(
        "INSERT INTO meta(key, value) VALUES('schema_version', '{}') "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        kSchemaVersion);
    if (auto r = exec(db, set.c_str()); !r) return Error{r.error()};
    return *version;
}

// After a failed migration: the error that caused it is what the caller reports. Should the
// rollback fail as well, nothing half-applied is kept (SQLite undoes a transaction left
// open when its connection closes, and a store that failed to open is closed), but the
// log says so, for whoever reads why the store would not open.
void rollBack(sqlite3* db) {
    if (auto r = exec(db, "ROLLBACK"); !r) {
        spdlog::warn("Rolling back a failed schema migration failed too. error=\"{}\"", r.error());
    }
}

}  // namespace

Result<int> migrateSchema(sqlite3* db) {
    if (auto r = exec(db, "BEGIN IMMEDIATE"); !r) return Error{r.error()};
    auto result = migrateLocked(db);
    if (!result) {
        rollBack(db);
        return result;
    }
    if (auto r = exec(db, "COMMIT"); !r) {
        rollBack(db);
        return Error{r.error()};
    }
    return result;
}

}  // namespace alertbridge::state
