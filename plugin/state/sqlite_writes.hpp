#pragma once
// SqliteWrites: the writer connection's prepared statements and the row-level writes the
// store's operations are made of. Used only by the store's writer thread. Internal to
// plugin/state. Each write returns an SQLite result code; SQLITE_DONE is success.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plugin/state/sqlite_util.hpp"
#include "plugin/state/store.hpp"

namespace alertbridge::state {

class SqliteWrites {
  public:
    explicit SqliteWrites(sqlite3* db) : db_(db) {}
    core::Status prepare();
    void finalize();

    int begin() { return begin_.run(); }
    int commit() { return commit_.run(); }
    // Ends a failed transaction; harmless when SQLite already rolled it back.
    void rollback() {
        if (!sqlite3_get_autocommit(db_)) rollback_.run();
    }

    // Appends an entry and sets `id` to its row id.
    // `frame`: the body as a zstd frame, packed by the caller beforehand (packFrame); empty:
    // the body is stored as it is.
    int journal(const JournalEntry& e, const std::optional<std::string>& frame, long long& id);
    // `frames`, when given: the outbox bodies packed beforehand, one per row (empty: that
    // body is stored as it is); otherwise they are packed here.
    int delta(const StateDelta& d, core::TimePoint now,
              const std::vector<std::optional<std::string>>* frames = nullptr);
    int attempt(const OutboxAttempt& a);
    // Stores an email's record, or replaces it when the same journal entry is recorded
    // again (a restart re-parses what the crash left unrecorded).
    int email(const EmailRecord& e);
    int email(const EmailRecord& e, std::string_view raw);
    int probe(long long now_ms);
    // Stores a record dictionary (record_packer.hpp), before any record packed with it.
    int dictionary(std::uint32_t id, std::string_view bytes, long long made_at_ms);
    // Removes up to kPruneChunk rows per table that are past retention; `more` says some
    // table gave its whole chunk, so another call would find more.
    int prune(long long journal_before_ms, long long outbox_before_ms, long long email_before_ms,
              long long log_before_ms, bool* more);
    static constexpr int kPruneChunk = 2000;  // the LIMIT of each prune statement

  private:
    core::Status loadJournalId();

    sqlite3* db_;
    long long next_journal_id_ = 1;  // the id the next journal entry gets
    Stmt ins_journal_, set_checkpoint_, set_incidents_, set_outbox_journal_, insert_alert_,
        delete_alert_, ins_outbox_, attempt_, log_, prune_log_, prune_journal_, prune_outbox_,
        ins_email_, prune_emails_, probe_, ins_dict_, begin_, commit_, rollback_;
};

}  // namespace alertbridge::state
