#pragma once
// TableSources: keeps every enrich table's snapshot fresh, off the pipeline thread.
//   file: stat'ed every enrich.file_check_interval; a change (mtime, size or inode) is read,
//         parsed and indexed, then published. Editors that save by rename are seen too.
//   url:  fetched in full every source.interval with libcurl (basic or bearer auth, a CA
//         file for https). A failed fetch is retried sooner (10 s, doubling up to the
//         interval). Each good copy is also written to <data_dir>/tables/, so a restart
//         while the source is down starts from the last good table instead of none.
// A load with fewer rows than source.min_rows counts as failed (a truncated export, an API
// that answered an empty list). A failed load never replaces a snapshot: the last good one stays,
// the error (origin:line or the HTTP error) is logged once per change and counted. One thread per
// table, so a slow server cannot delay a file's reload. Pipeline readers never wait on any of this.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"
#include "plugin/pipeline/enrich/lookup_table.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::lookup {

// Reads and indexes one table from its source now, on the caller's thread (check-config,
// enrich-test). A url source is fetched once.
core::Result<std::shared_ptr<const pipeline::LookupTable>> loadTableOnce(
    const config::TableConfig& table);

class TableSources {
  public:
    TableSources(const config::Config& config, std::shared_ptr<pipeline::TableSnapshots> snapshots,
                 telemetry::Metrics& metrics, const core::Clock& clock);
    ~TableSources();
    TableSources(const TableSources&) = delete;
    TableSources& operator=(const TableSources&) = delete;

    // Loads every file table, and every url table's cached copy, on the caller's thread.
    // Returns the file tables' errors: start-up refuses a broken file, as check-config does.
    std::vector<std::string> loadInitial();
    void start();
    void stop();

    // One check of table `i` on the caller's thread: a file is reloaded if it changed, a url
    // is fetched. Returns the error of a failed load (tests, and the threads).
    core::Status refresh(std::size_t i);

  private:
    struct FileStamp {
        long long mtime_ns = -1;
        long long size = -1;
        unsigned long long inode = 0;
        friend bool operator==(const FileStamp&, const FileStamp&) = default;
    };
    struct Slot {
        const config::TableConfig* cfg;
        const telemetry::EnrichTableMetrics* metrics;
        FileStamp seen;  // the stamp last tried (good or not), so an error is logged once
        std::thread thread;
    };
    core::Status refreshFile(std::size_t i);
    core::Status refreshUrl(std::size_t i);
    // Counts and logs a failed load of table `i` (`what` went wrong); returns the error.
    core::Status failed(std::size_t i, std::string_view what, const std::string& error);
    core::Status install(std::size_t i, std::string_view bytes, config::TableFormat format,
                         std::string_view origin);
    std::string cachePath(const config::TableConfig& t) const;
    void run(std::size_t i);

    const config::Config& config_;
    std::shared_ptr<pipeline::TableSnapshots> snapshots_;
    const core::Clock& clock_;
    std::vector<Slot> slots_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
};

}  // namespace alertbridge::lookup
