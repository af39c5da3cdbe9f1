#pragma once
// Store: durable state. Writes are queued to one writer thread that group-commits them:
// many requests share one transaction and one fsync, and each completion callback runs
// after the commit that holds its write. Reads use their own connections (WAL lets them
// run beside the writer). The embedded implementation is SQLite (sqlite_store.hpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/result.hpp"

namespace alertbridge::state {

using core::TimePoint;

struct JournalEntry {
    long long id = 0;
    std::string input;  // input id; decides the decoder on replay
    TimePoint received_at{};
    std::string body;  // the raw request body, byte for byte
};

struct OutboxInsert {
    std::string output;
    std::string body;  // the request body the output will send
    int alert_count = 0;
};

struct OutboxRow {
    long long id = 0;
    std::string output;
    std::string body;
    int alert_count = 0;
    int attempts = 0;
    TimePoint created_at{};
};

// Everything one pipeline run changed; committed atomically.
struct StateDelta {
    std::vector<std::pair<core::Fingerprint, std::string>> upserts;  // fingerprint -> record
    std::vector<core::Fingerprint> deletes;
    std::vector<OutboxInsert> outbox;
    std::vector<long long> journal_processed;
    bool empty() const {
        return upserts.empty() && deletes.empty() && outbox.empty() && journal_processed.empty();
    }
};

enum class OutboxState { kPending, kDelivered, kDropped };

struct OutboxAttempt {
    std::vector<long long> ids;
    OutboxState state = OutboxState::kPending;
    TimePoint at{};
    std::string last_error;  // empty on success
};

struct CommitStats {
    double seconds = 0;  // BEGIN to COMMIT, fsync included
    std::size_t ops = 0;
};

// Read access for one thread. Not thread-safe; open one per thread.
class StoreReader {
  public:
    virtual ~StoreReader() = default;
    virtual core::Result<std::vector<OutboxRow>> pendingOutbox(std::string_view output,
                                                               long long after_id,
                                                               std::size_t limit) = 0;
    virtual core::Result<long long> countPendingOutbox(std::string_view output) = 0;
    virtual core::Status forEachAlert(
        const std::function<void(core::Fingerprint, std::string_view record)>& fn) = 0;
    virtual core::Result<std::vector<JournalEntry>> unprocessedJournal(long long after_id,
                                                                       std::size_t limit) = 0;
};

class Store {
  public:
    using Done = std::function<void(const core::Status&)>;
    using JournalDone = std::function<void(const core::Result<long long>&)>;

    virtual ~Store() = default;

    // All writes are asynchronous; callbacks run on the writer thread after the commit.
    virtual void appendJournal(JournalEntry entry, JournalDone done) = 0;
    virtual void applyDelta(StateDelta delta, Done done) = 0;
    virtual void recordAttempt(OutboxAttempt attempt) = 0;

    virtual std::unique_ptr<StoreReader> openReader() = 0;

    // Called after every commit with its timing (metrics).
    virtual void onCommit(std::function<void(const CommitStats&)> fn) = 0;
    // Blocks until every write queued so far is committed.
    virtual void flush() = 0;
    virtual void stop() = 0;
};

}  // namespace alertbridge::state
