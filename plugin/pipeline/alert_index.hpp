#pragma once
// AlertIndex: the active alerts, keyed by fingerprint, in a compact form. Each alert is one
// heap block: a fixed header (times, severity) followed by length-prefixed strings. The
// same bytes are the record persisted in the store, so a restart loads them as they are.
// Owned by the pipeline thread; not thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "plugin/core/alert.hpp"

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

      private:
        std::unique_ptr<char[]> data_;
        std::uint32_t size_ = 0;
    };

    const Entry* find(core::Fingerprint fp) const;
    void put(core::Fingerprint fp, std::string_view record);
    bool erase(core::Fingerprint fp);
    std::size_t size() const { return map_.size(); }
    void reserve(std::size_t n) { map_.reserve(n); }
    void forEach(const std::function<void(core::Fingerprint, const Entry&)>& fn) const;

  private:
    std::unordered_map<core::Fingerprint, Entry> map_;
};

}  // namespace alertbridge::pipeline
