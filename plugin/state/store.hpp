#pragma once
// Store: durable state. Writes are queued to one writer thread that group-commits them:
// many requests share one transaction and one fsync, and each completion callback runs
// after the commit that holds its write. Reads use their own connections (WAL lets them
// run beside the writer). The embedded implementation is SQLite (sqlite_store.hpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/result.hpp"

namespace alertbridge::state {

using core::TimePoint;

struct EmailRecord;

struct JournalEntry {
    long long id = 0;
    std::string input;  // input id; decides the decoder on replay
    TimePoint received_at{};
    std::string body;  // the raw request body, byte for byte
    // For an email: its archive record, written in the same transaction with the journal
    // id as its id and `body` as its raw message (so the message is held once).
    std::shared_ptr<EmailRecord> email;
};

// One element of an outbox body as the host will hold it: its identity there (a hash of the
// labels it is shown under) and its bytes in the body. A backlog leaves out an element that
// a newer pending row of the same output replaces, so only the newest state goes out.
struct OutboxKey {
    std::uint64_t key = 0;
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
};

// Keys as stored: 16 bytes each (key, begin, end), little-endian.
std::string encodeOutboxKeys(const std::vector<OutboxKey>& keys);
// An empty vector for a blob that is not a whole number of keys or whose spans do not lie in
// `body_size` in order (a row written before keys existed has none).
std::vector<OutboxKey> decodeOutboxKeys(std::string_view blob, std::size_t body_size);

// What a row tells whom, and why: the notification it carries (core::Notification without
// the alert list), as the notification log records it once the row is finished.
struct NotificationMeta {
    // Stable across a restart: the engine derives it from the event or timer that made the
    // row (and the row's place among them), so re-applying the journal after a crash
    // produces the same key and the insert is a no-op. Empty: not deduplicated.
    std::string key;
    std::string receiver;
    std::string group_key;
    std::string reason;  // new | update | repeat | escalate | resolve
    int step = 0;
    // Not sent before this instant (a grouping window, an escalation step). State sinks
    // mirror the present and never defer; unset: at once.
    TimePoint not_before{};
};

struct OutboxInsert {
    std::string output;
    std::string body;  // the request body the output will send
    int alert_count = 0;
    std::vector<OutboxKey> keys;  // empty: the row cannot be coalesced
    NotificationMeta meta;
};

struct OutboxRow {
    long long id = 0;
    std::string output;
    std::string body;
    int alert_count = 0;
    int attempts = 0;
    TimePoint created_at{};
    std::vector<OutboxKey> keys;
    NotificationMeta meta;
};

// One finished notification as the notification log holds it: what went to whom, when,
// and how it ended (delivered, dropped, or superseded by a newer copy before it went).
// Kept for storage.notification_log_retention; the source for repeat intervals, for
// cancelling on acknowledgement and for time-to-acknowledge.
struct LoggedNotification {
    NotificationMeta meta;
    std::string output;
    int alert_count = 0;
    int attempts = 0;
    TimePoint created_at{};
    TimePoint finished_at{};
    std::string state;  // delivered | dropped | superseded
    std::string last_error;
};

struct NotificationQuery {
    std::string receiver;   // "" : any
    std::string group_key;  // "" : any
    std::size_t limit = 100;
};

struct PendingKeys {
    long long id = 0;
    std::vector<OutboxKey> keys;
};

// One version of an alert record. Record rows are append-only: a new version gets a new,
// higher row id (chosen by the pipeline) and the row it replaces is deleted in the same
// transaction, so a new alert costs one append at the end of the table instead of a write
// into a random page of a B-tree keyed by fingerprint.
struct RecordWrite {
    long long row_id = 0;
    long long replaces = 0;  // row id of the previous version; 0 if none is stored
    core::Fingerprint fingerprint = 0;
    std::string record;
};

// Changes committed atomically. A pipeline run yields outbox rows; a checkpoint yields
// alert records and the journal id up to which they reflect every input. State is the
// last checkpoint plus the journal after it, so the hot path writes only sequential rows
// (journal, outbox) and each alert record is written at most once per checkpoint.
struct StateDelta {
    std::vector<RecordWrite> upserts;
    std::vector<long long> deletes;  // row ids of records whose alert ended
    std::vector<OutboxInsert> outbox;
    long long checkpoint_journal_id = 0;  // 0: this delta moves no checkpoint
    // Engine state beyond the alerts (the incident book) as of the same journal id, stored
    // with the checkpoint that sets it. Unset: unchanged.
    std::optional<std::string> incidents_state;
    // The journal entry the outbox rows derive from (0: none, such as an expiry). Recorded
    // with them, so that a replay after a crash does not queue them a second time.
    long long outbox_journal_id = 0;
    // The instant the engine made these changes (the outbox rows' created_at); unset: when
    // the writer commits them.
    TimePoint at{};
    bool empty() const {
        return upserts.empty() && deletes.empty() && outbox.empty() && checkpoint_journal_id == 0 &&
               !incidents_state;
    }
};

// One email as received, with what the rules made of it. Kept for email.retention, so that
// the alert it became can be traced back to the message and the message parsed again.
struct EmailRecord {
    long long id = 0;  // the journal id of the raw message
    TimePoint received_at{};
    std::string sender;
    std::string subject;
    std::string message_id;
    std::string rule;  // the pack that took it, or "generic"
    core::Fingerprint fingerprint = 0;
    std::string status;    // firing | resolved
    std::string result;    // the alert as JSON (the email-test object)
    std::string warnings;  // one per line
    std::string raw;       // the message as received (empty in listings)
};

// kSuperseded: every element of the row was replaced by a newer pending row before it went
// out, so it was completed without being sent.
enum class OutboxState { kPending, kDelivered, kDropped, kSuperseded };

struct OutboxAttempt {
    std::vector<long long> ids;
    OutboxState state = OutboxState::kPending;
    TimePoint at{};
    std::string last_error;  // empty on success
};

// How a failed write is handled. kTransient (busy, a lock, an I/O error that may pass):
// retried soon. kFull (no space, a file size limit): retried with backoff until space is
// freed. kFatal (read-only file, corrupt page, the file gone): retried with the longest
// backoff, since only an operator can fix it. In every class the store refuses new
// journal appends until a write succeeds again, and keeps what it was asked to retry.
enum class StoreErrorClass { kTransient, kFull, kFatal };
std::string_view storeErrorClassName(StoreErrorClass c);

struct CommitStats {
    double seconds = 0;  // BEGIN to COMMIT, fsync included
    // The fsync of the log that made this commit durable (synchronous: full), reported with
    // the first commit it answered only, so each fsync is counted once; negative otherwise.
    double fsync_seconds = -1;
    std::size_t ops = 0;
    // Copies of the log into the file since the last stats: background thread, writer inline.
    std::uint64_t wal_copies = 0;
    std::uint64_t wal_inline_copies = 0;
    bool ok = true;
    StoreErrorClass error_class = StoreErrorClass::kTransient;  // when !ok
    std::string error;                                          // when !ok
};

struct OutboxBacklog {
    long long rows = 0;
    long long bytes = 0;  // request bodies waiting
};

// Read access for one thread. Not thread-safe; open one per thread.
class StoreReader {
  public:
    virtual ~StoreReader() = default;
    // The oldest pending rows of an output that are due at `now` (not_before passed),
    // whatever their ids (a row is pending until its completion commits, so no row can be
    // skipped): at most `limit` rows, and only while their alerts total at most
    // `max_alerts` (the first row always), so no body is read that the next send cannot take.
    // Rows in `skip` (sorted ids: sent, their completion not committed yet) are passed over.
    virtual core::Result<std::vector<OutboxRow>> pendingOutbox(
        std::string_view output, std::size_t limit, std::size_t max_alerts, TimePoint now,
        const std::vector<long long>& skip = {}) = 0;
    // The earliest not_before of an output's pending rows that are not due at `now`.
    virtual core::Result<std::optional<TimePoint>> nextDeferred(std::string_view output,
                                                                TimePoint now) = 0;
    // The notification log, newest first.
    virtual core::Result<std::vector<LoggedNotification>> notificationLog(
        const NotificationQuery& q) = 0;
    virtual core::Result<OutboxBacklog> pendingBacklog(std::string_view output) = 0;
    // The keys of up to `limit` pending rows of an output with id > after_id, in id order.
    virtual core::Result<std::vector<PendingKeys>> pendingKeys(std::string_view output,
                                                               long long after_id,
                                                               std::size_t limit) = 0;
    virtual core::Status forEachAlert(const std::function<void(long long row_id, core::Fingerprint,
                                                               std::string_view record)>& fn) = 0;
    // Journal entries with id > after_id, in id order.
    virtual core::Result<std::vector<JournalEntry>> journalAfter(long long after_id,
                                                                 std::size_t limit) = 0;
    // The journal id the stored alert records reflect (0 before the first checkpoint).
    virtual core::Result<long long> checkpointJournalId() = 0;
    // The incident book as the last checkpoint stored it ("" when none was).
    virtual core::Result<std::string> incidentsState() = 0;
    // The highest journal id whose outbox rows are stored (0: none recorded).
    virtual core::Result<long long> outboxJournalId() = 0;
    // Emails, newest first: those whose alert has `fingerprint` (0: any), without `raw`.
    virtual core::Result<std::vector<EmailRecord>> emails(core::Fingerprint fingerprint,
                                                          std::size_t limit) = 0;
    // One email with its raw message; an error when there is none with that id.
    virtual core::Result<EmailRecord> email(long long id) = 0;
};

// Alert records the checkpoints wrote, as given and as stored after packing with the
// store's dictionary (record_codec.hpp), and the dictionary packing uses (0: none yet).
struct RecordPackingStats {
    std::uint64_t records = 0;
    std::uint64_t raw_bytes = 0;
    std::uint64_t stored_bytes = 0;
    std::uint32_t dictionary = 0;
};

class Store {
  public:
    using Done = std::function<void(const core::Status&)>;
    using JournalDone = std::function<void(const core::Result<long long>&)>;

    virtual ~Store() = default;

    // All writes are asynchronous; callbacks run on the writer thread after the commit.
    virtual void appendJournal(JournalEntry entry, JournalDone done) = 0;
    virtual void applyDelta(StateDelta delta, Done done) = 0;
    // Records a delivery attempt; `done` (optional) runs once it is committed or failed.
    virtual void recordAttempt(OutboxAttempt attempt, Done done = nullptr) = 0;
    // Stores (or replaces, after a re-parse) an email's record. Not urgent.
    virtual void recordEmail(EmailRecord record) = 0;

    virtual std::unique_ptr<StoreReader> openReader() = 0;

    // Called after every commit attempt with its timing and outcome (metrics, health).
    virtual void onCommit(std::function<void(const CommitStats&)> fn) = 0;
    // False from a failed commit until a write succeeds again. While false, journal
    // appends are refused at once (the sender retries), and state changes wait queued.
    virtual bool writable() const = 0;
    // The failure that made the store unwritable ("" while writable).
    virtual std::string failure() const = 0;
    virtual RecordPackingStats recordPacking() const { return {}; }
    // Blocks until every write queued so far is committed.
    virtual void flush() = 0;
    virtual void stop() = 0;
};

}  // namespace alertbridge::state
