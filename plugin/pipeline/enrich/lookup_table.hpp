#pragma once
// LookupTable: one immutable snapshot of a CMDB or whitelist table, indexed for the lookup
// its config asks for: exact (an open-addressing hash of the key column) or cidr (longest
// prefix, IPv4 and IPv6, flattened into disjoint ranges searched by bisection). Cells are
// interned, since owners, teams and apps repeat across rows. Built off the pipeline thread
// by a table source and swapped in whole; a built table is read-only and safe to share.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/core/result.hpp"

namespace alertbridge::pipeline {

// A table as a source read it: column names, then rows of cells (one per column), each
// with the line it came from (0 when the format has no lines).
struct TableData {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    std::vector<int> lines;
};

class LookupTable {
  public:
    static constexpr std::uint32_t kNoRow = 0xffffffffU;

    // Indexes `data` for `cfg`. `origin` (a path or URL) prefixes errors, which name the
    // row's line: "whitelist.csv:17: \"10.0.0.1/8\" has host bits set ...". Duplicate keys
    // keep the first row; each duplicate is a warning.
    static core::Result<std::shared_ptr<const LookupTable>> build(const config::TableConfig& cfg,
                                                                  const TableData& data,
                                                                  std::string_view origin);

    // The row whose key matches `key` (for cidr: the longest prefix containing the IP in
    // `key`, which may carry a port or brackets), or kNoRow.
    std::uint32_t find(std::string_view key) const;
    // True for a cidr table given a value that is not an IP address.
    bool unusableKey(std::string_view key) const;

    std::size_t rows() const { return key_spans_.size(); }
    // The value of the i-th configured output column for `row` ("" when the cell is empty).
    std::string_view cell(std::uint32_t row, std::size_t column) const {
        return values_[cells_[static_cast<std::size_t>(row) * out_columns_ + column]];
    }
    // The key as the source wrote it (for cidr tables, the prefix).
    std::string_view key(std::uint32_t row) const;
    // The heap memory the index and the cells use, in bytes.
    std::size_t memoryBytes() const;
    const std::vector<std::string>& warnings() const { return warnings_; }

  private:
    std::uint32_t findExact(std::string_view key) const;
    config::TableMatch match_ = config::TableMatch::kExact;
    std::size_t out_columns_ = 0;
    std::string key_pool_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> key_spans_;  // per row: offset, size
    std::vector<std::string> values_;                                 // interned cell values
    std::vector<std::uint32_t> cells_;                                // rows x out_columns_
    // exact: per slot, the key's hash in the high 32 bits and row + 1 in the low (0 = empty),
    // so a probe that meets another key rarely has to read that key
    std::vector<std::uint64_t> slots_;
    // cidr: disjoint ranges, each the start of a range and the row that owns it
    std::vector<std::uint32_t> v4_starts_;
    std::vector<std::uint32_t> v4_rows_;
    std::vector<unsigned __int128> v6_starts_;
    std::vector<std::uint32_t> v6_rows_;
    std::vector<std::string> warnings_;
};

// The current snapshot of every configured table, by index in config order. A source
// publishes from its own thread; the pipeline reads. Unset until a first load succeeds.
class TableSnapshots {
  public:
    explicit TableSnapshots(std::size_t tables) : tables_(tables) {}
    std::size_t size() const { return tables_.size(); }
    std::shared_ptr<const LookupTable> get(std::size_t i) const;
    void publish(std::size_t i, std::shared_ptr<const LookupTable> table);
    // Changes with every publish: a reader that cached the snapshots re-reads them only when
    // this moved, instead of taking the lock for every batch.
    std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  private:
    mutable std::mutex mu_;
    std::atomic<std::uint64_t> generation_{0};
    std::vector<std::shared_ptr<const LookupTable>> tables_;
};

}  // namespace alertbridge::pipeline
