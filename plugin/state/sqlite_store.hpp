#pragma once
// SqliteStore: the embedded Store. One SQLite file in WAL mode under global.data_dir.
// Owns one writer thread; every public method is safe from any thread.

#include <functional>
#include <memory>
#include <string>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"
#include "plugin/state/store.hpp"

namespace alertbridge::state {

struct SqliteOptions {
    std::string path;  // the database file; its folder is created if missing
    bool synchronous_full = true;
    std::size_t cache_mib = 8;
    core::Duration journal_retention = std::chrono::hours(1);
    core::Duration outbox_retention = std::chrono::hours(24);
    core::Duration email_retention = std::chrono::hours(24 * 7);
    core::Duration notification_log_retention = std::chrono::hours(120);
    // Largest the database file may grow (0: no bound). A write past it fails as a full
    // disk would: intake answers 503 until pruning frees room.
    std::size_t max_bytes = 0;
    // How often a commit also removes what is past retention (tests set zero: every commit).
    core::Duration prune_interval = std::chrono::seconds(10);
    // How the write-ahead log is synced with `synchronous_full` (tests inject failures);
    // fdatasync(2) when empty.
    std::function<int(int fd)> sync_log;
    // Runs the training of a dictionary for alert records (record_packer.hpp); a thread of
    // its own when empty (tests run it in place).
    std::function<void(std::function<void()>)> train_records;
};

// Opens (and creates or migrates) the database and starts the writer thread.
core::Result<std::unique_ptr<Store>> openSqliteStore(const SqliteOptions& options,
                                                     const core::Clock& clock);

}  // namespace alertbridge::state
