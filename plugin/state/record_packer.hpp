#pragma once
// RecordPacker: when the store trains a dictionary for its alert records, and packing each
// record a checkpoint writes with the newest one (record_codec.hpp says why).
//
// A store starts without a dictionary and stores its first records as they are, while it
// keeps the first `samples` of them. Once it has them, a dictionary is trained off the
// caller's thread (a few tens of milliseconds for 2,000 records) and used from the next
// checkpoint step on. It is stored before the first record packed with it: `install`
// queues its row while packing waits, so the row is ahead of every such record in the
// writer's order of commits.
//
// An estate changes (new services, new label values), and a dictionary trained on last
// month's alerts packs this month's less well. The packer measures the ratio over each
// `window` records and, when it falls below `retrain_below` of what the dictionary first
// achieved, and the dictionary is at least `retrain_after` old on the store's clock,
// samples afresh and trains a new one. Records packed with an older dictionary still
// read; dictionaries no record names are dropped when the store opens.
//
// Internal to plugin/state. Safe from any thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"
#include "plugin/state/record_codec.hpp"
#include "plugin/state/store.hpp"

namespace alertbridge::state {

class RecordPacker {
  public:
    struct Options {
        std::size_t samples = 2000;
        std::size_t capacity = std::size_t{16} * 1024;  // bytes of dictionary
        std::size_t window = 10000;
        double retrain_below = 0.6;
        core::Duration retrain_after = std::chrono::hours(24);
    };
    // Runs a training job; a thread of its own when empty (tests run it in place).
    using Run = std::function<void(std::function<void()>)>;
    // Queues a new dictionary's row (made at the given time) for the writer.
    using Install =
        std::function<void(const std::shared_ptr<const RecordDictionary>&, core::TimePoint)>;

    RecordPacker(Options options, Install install, Run run = nullptr);
    ~RecordPacker();  // waits for a training job still running
    RecordPacker(const RecordPacker&) = delete;
    RecordPacker& operator=(const RecordPacker&) = delete;

    // The dictionaries the store holds, and when the newest was made; it packs from now on.
    // `highest_id`: the highest id stored, loadable or not; a new dictionary goes above it.
    void load(const RecordDictionaries& dicts, core::TimePoint newest_made_at,
              std::uint32_t highest_id);

    // Packs `upserts` in place with the newest dictionary (those it does not shrink stay as
    // they are), and samples them while a dictionary is due.
    void pack(std::vector<RecordWrite>& upserts, core::TimePoint now);

    using Stats = RecordPackingStats;
    Stats stats() const;

  private:
    void startTraining(core::TimePoint now);                                 // with mu_ held
    void measure(std::size_t raw, std::size_t stored, core::TimePoint now);  // with mu_ held

    const Options options_;
    Install install_;
    Run run_;
    mutable std::mutex mu_;
    std::shared_ptr<const RecordDictionary> current_;
    core::TimePoint made_at_{};
    std::uint32_t next_id_ = 1;
    bool sampling_ = true;
    bool training_ = false;
    std::size_t skip_ = 0;  // records to pass before sampling again, after a failed training
    std::vector<std::string> samples_;
    double reference_ = 0;  // the ratio of the current dictionary's first window
    std::size_t window_raw_ = 0, window_stored_ = 0, window_records_ = 0;
    Stats stats_;
    std::thread thread_;
};

// The dictionaries a store file holds (id, bytes, when made). A row zstd cannot load is
// left out; records naming it then read as damaged.
core::Result<RecordDictionaries> readRecordDictionaries(sqlite3* db,
                                                        core::TimePoint* newest_made_at = nullptr);
// Deletes the dictionaries no stored record names, except the newest. Returns how many.
core::Result<int> dropUnusedRecordDictionaries(sqlite3* db);
// At open, before the writer starts: drops the unused dictionaries and has `packer` pack
// with the newest.
core::Status loadRecordDictionaries(sqlite3* db, RecordPacker& packer);

}  // namespace alertbridge::state
