#include "plugin/state/record_packer.hpp"

#include <pthread.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/state/sqlite_util.hpp"

namespace alertbridge::state {

RecordPacker::RecordPacker(Options options, Install install, Run run)
    : options_(options), install_(std::move(install)), run_(std::move(run)) {
    samples_.reserve(options_.samples);
}

RecordPacker::~RecordPacker() {
    if (thread_.joinable()) thread_.join();
}

void RecordPacker::load(const RecordDictionaries& dicts, core::TimePoint newest_made_at,
                        std::uint32_t highest_id) {
    std::lock_guard lock(mu_);
    next_id_ = std::max(next_id_, highest_id + 1);
    if (dicts.empty()) return;
    current_ = dicts.rbegin()->second;
    made_at_ = newest_made_at;
    next_id_ = std::max(next_id_, dicts.rbegin()->first + 1);
    sampling_ = false;
    samples_.clear();
    reference_ = 0;
    stats_.dictionary = current_->id();
}

RecordPacker::Stats RecordPacker::stats() const {
    std::lock_guard lock(mu_);
    return stats_;
}

void RecordPacker::pack(std::vector<RecordWrite>& upserts, core::TimePoint now) {
    std::lock_guard lock(mu_);
    for (auto& w : upserts) {
        const std::size_t raw = w.record.size();
        if (sampling_ && !training_) {
            if (skip_ > 0) {
                --skip_;
            } else if (samples_.size() < options_.samples) {
                samples_.push_back(w.record);
            }
        }
        if (current_) {
            if (auto packed = current_->pack(w.record)) w.record = std::move(*packed);
        }
        measure(raw, w.record.size(), now);
    }
    if (sampling_ && !training_ && samples_.size() >= options_.samples) startTraining(now);
}

void RecordPacker::measure(std::size_t raw, std::size_t stored, core::TimePoint now) {
    ++stats_.records;
    stats_.raw_bytes += raw;
    stats_.stored_bytes += stored;
    if (!current_ || sampling_) return;
    window_raw_ += raw;
    window_stored_ += stored;
    if (++window_records_ < options_.window) return;
    const double ratio = static_cast<double>(window_raw_) /
                         static_cast<double>(std::max<std::size_t>(1, window_stored_));
    window_raw_ = window_stored_ = window_records_ = 0;
    if (reference_ == 0) {
        reference_ = ratio;
        return;
    }
    if (ratio < reference_ * options_.retrain_below && now - made_at_ >= options_.retrain_after) {
        spdlog::info(
            "Alert records pack less well than when their dictionary was made; training a new "
            "one. dictionary={} ratio={:.2f} was={:.2f}",
            current_->id(), ratio, reference_);
        sampling_ = true;
        samples_.clear();
    }
}

void RecordPacker::startTraining(core::TimePoint now) {
    training_ = true;
    sampling_ = false;
    auto job = [this, now, samples = std::move(samples_), capacity = options_.capacity] {
        auto dict = trainRecordDictionary(samples, capacity);
        std::size_t total = 0;
        for (const auto& s : samples) total += s.size();
        if (dict) {
            spdlog::info(
                "A dictionary for alert records was trained on this store's alerts. "
                "bytes={} samples={} sample_bytes={}",
                dict->size(), samples.size(), total);
        } else {
            spdlog::info(
                "No dictionary could be trained on the alert records yet; they are stored "
                "as they are. samples={}",
                samples.size());
        }
        std::lock_guard lock(mu_);
        training_ = false;
        auto d = dict ? RecordDictionary::load(next_id_, std::move(*dict)) : nullptr;
        if (!d) {
            // Too little in common yet: sample again after ten times as many records.
            skip_ = options_.samples * 10;
            sampling_ = true;
            return;
        }
        ++next_id_;
        // Stored before any record packed with it: queued while mu_ keeps pack() waiting.
        if (install_) install_(d, now);
        current_ = d;
        made_at_ = now;
        reference_ = 0;
        window_raw_ = window_stored_ = window_records_ = 0;
        stats_.dictionary = d->id();
    };
    samples_ = {};
    if (run_) {
        // Run in place by tests: the job takes mu_, which this thread holds.
        mu_.unlock();
        run_(job);
        mu_.lock();
        return;
    }
    if (thread_.joinable()) thread_.join();  // the last job has ended: it cleared training_
    thread_ = std::thread([job = std::move(job)] {
        pthread_setname_np(pthread_self(), "ab-dict");
        job();
    });
}

core::Result<RecordDictionaries> readRecordDictionaries(sqlite3* db,
                                                        core::TimePoint* newest_made_at) {
    Stmt q(db, "SELECT id, dict, made_at FROM record_dicts ORDER BY id");
    if (!q.get()) return core::Error{"cannot read the record dictionaries: " + q.error()};
    RecordDictionaries out;
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
        auto id = static_cast<std::uint32_t>(sqlite3_column_int64(q.get(), 0));
        auto d = RecordDictionary::load(id, std::string(q.column(1)));
        if (d) {
            out[id] = std::move(d);
            if (newest_made_at)
                *newest_made_at = core::fromUnixMillis(sqlite3_column_int64(q.get(), 2));
        } else {
            spdlog::warn(
                "A stored record dictionary is damaged; records packed with it are "
                "skipped. dictionary={}",
                id);
        }
    }
    if (rc != SQLITE_DONE) {
        return core::Error{
            fmt::format("cannot read the record dictionaries: {}", sqlite3_errmsg(db))};
    }
    return out;
}

core::Result<int> dropUnusedRecordDictionaries(sqlite3* db) {
    std::set<std::uint32_t> used;
    {
        // Only each record's first bytes matter, and the header is at most six.
        Stmt q(db, "SELECT substr(record, 1, 6) FROM alerts");
        if (!q.get()) return core::Error{"cannot read the alert records: " + q.error()};
        int rc;
        while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
            if (auto id = packedRecordDictionary(q.column(0))) used.insert(*id);
        }
        if (rc != SQLITE_DONE) {
            return core::Error{
                fmt::format("cannot read the alert records: {}", sqlite3_errmsg(db))};
        }
    }
    std::string keep = "(SELECT max(id) FROM record_dicts)";
    for (auto id : used) keep += fmt::format(",{}", id);
    auto sql = fmt::format("DELETE FROM record_dicts WHERE id NOT IN ({})", keep);
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(db);
        sqlite3_free(err);
        return core::Error{"cannot drop unused record dictionaries: " + msg};
    }
    return sqlite3_changes(db);
}

core::Status loadRecordDictionaries(sqlite3* db, RecordPacker& packer) {
    auto dropped = dropUnusedRecordDictionaries(db);
    if (!dropped) return core::Error{dropped.error()};
    if (*dropped > 0) {
        spdlog::info("Record dictionaries no stored alert uses were dropped. count={}", *dropped);
    }
    core::TimePoint made_at{};
    auto dicts = readRecordDictionaries(db, &made_at);
    if (!dicts) return core::Error{dicts.error()};
    // A row that did not load still holds its id: the next dictionary goes above it.
    Stmt highest(db, "SELECT coalesce(max(id), 0) FROM record_dicts");
    if (!highest.get() || sqlite3_step(highest.get()) != SQLITE_ROW) {
        return core::Error{
            fmt::format("cannot read the record dictionaries: {}", sqlite3_errmsg(db))};
    }
    packer.load(*dicts, made_at,
                static_cast<std::uint32_t>(sqlite3_column_int64(highest.get(), 0)));
    return core::okStatus();
}

}  // namespace alertbridge::state
