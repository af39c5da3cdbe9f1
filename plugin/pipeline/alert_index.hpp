#pragma once
// AlertIndex: the active alerts, keyed by fingerprint, in a compact form. Each alert is one
// heap block: a fixed header (times, severity) followed by length-prefixed strings. The
// same bytes are the record persisted in the store, so a restart loads them as they are.
// Owned by the pipeline thread; not thread-safe.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plugin/core/alert.hpp"
#include "plugin/state/store.hpp"

namespace alertbridge::pipeline {

// Serialises an alert (labels, annotations, times, severity, source) to the record format.
std::string encodeRecord(const core::Alert& a);
// Parses a record; returns false for a record of an unknown version or a damaged one.
bool decodeRecord(std::string_view record, core::Fingerprint fp, core::Alert& out);

class AlertIndex {
  public:
    // The compact value; holds exactly one allocation.
    class Entry {
      public:
        Entry() = default;
        explicit Entry(std::string_view bytes);
        std::string_view bytes() const { return {data_.get(), size_}; }
        // ends_at from the header, without decoding the rest.
        std::optional<core::TimePoint> endsAt() const;
        // Whether a change of this alert was pushed less than `recent` seconds before
        // clock second `second` (markShown). Kept in 16 bits of the second: a mark 18 hours
        // old may read as recent once, which costs one skipped re-send, never a lost alert.
        bool shownWithin(long long second, long long recent) const {
            if (!shown_) return false;
            const auto elapsed = static_cast<std::uint16_t>(second - shown_at_);
            return static_cast<long long>(elapsed) < recent;
        }

      private:
        friend class AlertIndex;
        std::unique_ptr<char[]> data_;
        std::uint32_t size_ = 0;
        bool dirty_ = false;          // changed since the last checkpoint
        bool shown_ = false;          // a change of it was pushed (shown_at_ says when)
        std::uint16_t shown_at_ = 0;  // that clock second, modulo 2^16
        long long row_id_ = 0;        // the stored version's row; 0 when not stored yet
    };

    const Entry* find(core::Fingerprint fp) const;
    void put(core::Fingerprint fp, std::string_view record);
    // Loads a version the store already holds.
    void load(core::Fingerprint fp, std::string_view record, long long row_id);
    bool erase(core::Fingerprint fp);
    // Records that the alert's current version was pushed to the state outputs in clock
    // second `second`, so that re-sends can skip it for a while (Entry::shownWithin).
    // Kept when put() replaces the version; nothing for an alert not in the index.
    void markShown(core::Fingerprint fp, long long second);
    std::size_t size() const { return size_; }
    void forEach(const std::function<void(core::Fingerprint, const Entry&)>& fn) const;
    // The alerts of part `part` of `parts` (1 <= parts < 2^32): a fixed split of all
    // fingerprints into nearly equal parts, by the hash that picks the tables, so that a
    // part is found in the few tables it spans (about 1/parts of the index) rather than by
    // a walk of all of it. partOf() tells the part of one fingerprint.
    void forEachInPart(std::size_t part, std::size_t parts,
                       const std::function<void(core::Fingerprint, const Entry&)>& fn) const;
    static std::size_t partOf(core::Fingerprint fp, std::size_t parts) {
        return partOfMixed(mixed(fp) >> 32, parts);
    }

    // Checkpoints run in passes. beginCheckpoint() snapshots what changed so far and
    // returns the row ids of removed alerts; takeCheckpointChunk() then hands out a new
    // version (with a new row id) of up to `max` changed alerts at a time, clearing their
    // dirty marks, and returns true once the snapshot is exhausted. Alerts changed during
    // a pass are written by it (if not reached yet) or by the next one.
    std::vector<long long> beginCheckpoint();
    bool takeCheckpointChunk(std::size_t max, std::vector<state::RecordWrite>& upserts);
    bool checkpointInProgress() const { return checkpoint_pos_ < checkpoint_list_.size(); }
    std::size_t pendingChanges() const { return dirty_count_ + deleted_rows_.size(); }

    // Fingerprints of alerts whose endsAt is at or before `now`, each once. They stay in
    // the index; the caller erases them. Cost is proportional to what expired, not to size.
    std::vector<core::Fingerprint> expiredBy(core::TimePoint now);
    // When expiredBy() may next find something (it may then find nothing: an alert that
    // changed since keeps its old entry until then). None when no alert can expire.
    std::optional<core::TimePoint> nextExpiry() const;

  private:
    // The alerts, in 256 tables by the fingerprint's top bits. One table of a million
    // alerts stops the engine for about half a second each time it doubles (every entry
    // is moved); 256 tables each grow by their own few thousand, at different moments, so
    // no single arrival waits more than a few milliseconds.
    using Table = std::unordered_map<core::Fingerprint, Entry>;
    static constexpr unsigned kShardBits = 8;
    Table& table(core::Fingerprint fp) { return tables_[shardOf(fp)]; }
    const Table& table(core::Fingerprint fp) const { return tables_[shardOf(fp)]; }
    // Mixed first: the tables pick buckets from the low bits, the shard from the top.
    static std::uint64_t mixed(core::Fingerprint fp) { return fp * 0x9E3779B97F4A7C15ULL; }
    static std::size_t shardOf(core::Fingerprint fp) {
        return static_cast<std::size_t>(mixed(fp) >> (64 - kShardBits));
    }
    // The part of a mixed hash's top 32 bits: rising with the hash, so each part is one
    // run of it and each table (one run of the top bits) holds a run of parts.
    static std::size_t partOfMixed(std::uint64_t top32, std::size_t parts) {
        return static_cast<std::size_t>((top32 * parts) >> 32);
    }
    std::array<Table, std::size_t{1} << kShardBits> tables_;
    std::size_t size_ = 0;
    void markDirty(core::Fingerprint fp, Entry& e);
    void scheduleExpiry(core::Fingerprint fp, const Entry& e);

    std::vector<long long> deleted_rows_;
    std::vector<core::Fingerprint> dirty_list_;  // each dirty entry once
    std::vector<core::Fingerprint> checkpoint_list_;
    std::size_t checkpoint_pos_ = 0;
    std::size_t dirty_count_ = 0;
    // Min-heap of (endsAt in ms, fingerprint). Entries are not removed when an alert
    // changes or ends; a popped entry counts only if it still matches the alert.
    std::vector<std::pair<long long, core::Fingerprint>> expiry_;
    long long next_row_id_ = 1;
};

}  // namespace alertbridge::pipeline
