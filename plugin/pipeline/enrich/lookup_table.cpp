#include "plugin/pipeline/enrich/lookup_table.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "plugin/core/cidr.hpp"

namespace alertbridge::pipeline {
namespace {

using U128 = unsigned __int128;

std::uint32_t v4Bits(const core::IpAddress& ip) {
    return (std::uint32_t{ip.bytes[12]} << 24) | (std::uint32_t{ip.bytes[13]} << 16) |
           (std::uint32_t{ip.bytes[14]} << 8) | std::uint32_t{ip.bytes[15]};
}

U128 v6Bits(const core::IpAddress& ip) {
    U128 v = 0;
    for (auto b : ip.bytes) v = (v << 8) | b;
    return v;
}

template <typename K>
struct Prefix {
    K lo;
    K hi;
    std::uint32_t row;
};

template <typename K>
Prefix<K> prefixRange(K network, int bits, std::uint32_t row) {
    constexpr int kWidth = std::numeric_limits<K>::digits;
    K host_mask = bits >= kWidth ? K{0} : (bits == 0 ? ~K{0} : (K{1} << (kWidth - bits)) - 1);
    return {network, static_cast<K>(network | host_mask), row};
}

// Turns nested-or-disjoint prefixes into disjoint ranges, each owned by the innermost
// prefix that covers it (LookupTable::kNoRow where none does). Prefixes are sorted by
// start, outer before inner, so a stack of open prefixes is always a chain of containers.
template <typename K>
void flatten(std::vector<Prefix<K>>& prefixes, std::vector<K>& starts,
             std::vector<std::uint32_t>& rows) {
    std::sort(prefixes.begin(), prefixes.end(), [](const Prefix<K>& a, const Prefix<K>& b) {
        if (a.lo != b.lo) return a.lo < b.lo;
        if (a.hi != b.hi) return a.hi > b.hi;
        return a.row < b.row;
    });
    auto emit = [&](K start, std::uint32_t row) {
        if (!starts.empty() && starts.back() == start) {
            rows.back() = row;  // a later breakpoint at the same place supersedes
        } else if (rows.empty() || rows.back() != row) {
            starts.push_back(start);
            rows.push_back(row);
        }
        if (rows.size() >= 2 && rows[rows.size() - 2] == rows.back()) {
            starts.pop_back();  // merged with the range before
            rows.pop_back();
        }
    };
    starts.push_back(0);
    rows.push_back(LookupTable::kNoRow);
    std::vector<const Prefix<K>*> open;
    auto close_until = [&](const K* next_lo) {
        while (!open.empty() && (next_lo == nullptr || open.back()->hi < *next_lo)) {
            K hi = open.back()->hi;
            open.pop_back();
            if (hi == std::numeric_limits<K>::max()) continue;
            emit(static_cast<K>(hi + 1), open.empty() ? LookupTable::kNoRow : open.back()->row);
        }
    };
    for (const auto& p : prefixes) {
        close_until(&p.lo);
        emit(p.lo, p.row);
        open.push_back(&p);
    }
    close_until(nullptr);
}

template <typename K>
std::uint32_t bisect(const std::vector<K>& starts, const std::vector<std::uint32_t>& rows, K key) {
    if (starts.empty()) return LookupTable::kNoRow;
    auto it = std::upper_bound(starts.begin(), starts.end(), key);
    return rows[static_cast<std::size_t>(it - starts.begin()) - 1];
}

std::size_t hashKey(std::string_view s) { return std::hash<std::string_view>{}(s); }

std::string columnList(const std::vector<std::string>& columns) {
    std::string out;
    for (const auto& c : columns) {
        if (!out.empty()) out += ", ";
        out += c;
    }
    return out;
}

}  // namespace

core::Result<std::shared_ptr<const LookupTable>> LookupTable::build(const config::TableConfig& cfg,
                                                                    const TableData& data,
                                                                    std::string_view origin) {
    auto where = [&](std::size_t row) {
        int line = row < data.lines.size() ? data.lines[row] : 0;
        return line > 0 ? fmt::format("{}:{}", origin, line)
                        : fmt::format("{}: row {}", origin, row + 1);
    };
    if (data.columns.empty()) {
        return core::Error{fmt::format("{}: the table has no columns", origin)};
    }
    auto column_of = [&](const std::string& name) -> std::optional<std::size_t> {
        auto it = std::find(data.columns.begin(), data.columns.end(), name);
        if (it == data.columns.end()) return std::nullopt;
        return static_cast<std::size_t>(it - data.columns.begin());
    };
    std::size_t key_col = 0;
    if (!cfg.key_column.empty()) {
        auto k = column_of(cfg.key_column);
        if (!k) {
            return core::Error{fmt::format("{}: key_column \"{}\" is not a column (columns: {})",
                                           origin, cfg.key_column, columnList(data.columns))};
        }
        key_col = *k;
    }
    std::vector<std::size_t> out_cols;
    for (const auto& [column, label] : cfg.columns) {
        auto k = column_of(column);
        if (!k) {
            return core::Error{
                fmt::format("{}: column \"{}\" (for label {}) is not a column (columns: {})",
                            origin, column, label, columnList(data.columns))};
        }
        out_cols.push_back(*k);
    }

    auto t = std::make_shared<LookupTable>();
    t->match_ = cfg.match;
    t->out_columns_ = out_cols.size();
    t->key_spans_.reserve(data.rows.size());
    t->cells_.reserve(data.rows.size() * out_cols.size());
    std::unordered_map<std::string, std::uint32_t> interned;
    t->values_.emplace_back();  // id 0: the empty cell
    std::vector<std::string> errors;
    std::vector<Prefix<std::uint32_t>> v4;
    std::vector<Prefix<U128>> v6;
    std::vector<std::size_t> source_row;  // table row -> data row, for messages
    std::size_t without_key = 0;

    for (std::size_t r = 0; r < data.rows.size() && errors.size() < 20; ++r) {
        const auto& row = data.rows[r];
        if (row.size() != data.columns.size()) {
            errors.push_back(fmt::format("{}: the row has {} fields, the header {}", where(r),
                                         row.size(), data.columns.size()));
            continue;
        }
        const std::string& key = row[key_col];
        if (key.empty()) {
            // A resource without this key (a switch in a CMDB keyed by IP) cannot be looked
            // up by it: the row is left out, and said so. Every row without one is an error.
            ++without_key;
            if (t->warnings_.size() < 20) {
                t->warnings_.push_back(
                    fmt::format("{}: the key column \"{}\" is empty; row left out", where(r),
                                data.columns[key_col]));
            }
            continue;
        }
        auto row_id = static_cast<std::uint32_t>(t->key_spans_.size());
        if (cfg.match == config::TableMatch::kCidr) {
            auto c = core::parseCidr(key);
            if (!c) {
                errors.push_back(fmt::format("{}: {}", where(r), c.error()));
                continue;
            }
            if (c->address.v4) {
                v4.push_back(
                    prefixRange<std::uint32_t>(v4Bits(c->address), c->prefix - 96, row_id));
            } else {
                v6.push_back(prefixRange<U128>(v6Bits(c->address), c->prefix, row_id));
            }
        }
        source_row.push_back(r);
        t->key_spans_.emplace_back(static_cast<std::uint32_t>(t->key_pool_.size()),
                                   static_cast<std::uint32_t>(key.size()));
        t->key_pool_ += key;
        for (std::size_t col : out_cols) {
            const std::string& v = row[col];
            if (v.empty()) {
                t->cells_.push_back(0);
                continue;
            }
            auto [it, added] =
                interned.try_emplace(v, static_cast<std::uint32_t>(t->values_.size()));
            if (added) t->values_.push_back(v);
            t->cells_.push_back(it->second);
        }
    }
    if (errors.empty() && without_key > 0 && t->key_spans_.empty()) {
        errors.push_back(fmt::format("{}: the key column \"{}\" is empty in every row", origin,
                                     data.columns[key_col]));
    }
    if (!errors.empty()) {
        std::string msg = errors.front();
        if (errors.size() > 1) msg += fmt::format(" (and {} more errors)", errors.size() - 1);
        return core::Error{msg};
    }
    auto duplicate = [&](std::uint32_t kept, std::uint32_t dropped) {
        if (t->warnings_.size() >= 20) return;
        t->warnings_.push_back(
            fmt::format("{}: duplicate key \"{}\" (first at {}); the first row is used",
                        where(source_row[dropped]), t->key(dropped), where(source_row[kept])));
    };
    if (cfg.match == config::TableMatch::kCidr) {
        auto dedupe = [&](auto& prefixes) {
            std::sort(prefixes.begin(), prefixes.end(), [](const auto& a, const auto& b) {
                if (a.lo != b.lo) return a.lo < b.lo;
                if (a.hi != b.hi) return a.hi > b.hi;
                return a.row < b.row;
            });
            std::size_t out = 0;
            for (std::size_t i = 0; i < prefixes.size(); ++i) {
                if (out > 0 && prefixes[out - 1].lo == prefixes[i].lo &&
                    prefixes[out - 1].hi == prefixes[i].hi) {
                    duplicate(prefixes[out - 1].row, prefixes[i].row);
                    continue;
                }
                prefixes[out++] = prefixes[i];
            }
            prefixes.resize(out);
        };
        dedupe(v4);
        dedupe(v6);
        flatten(v4, t->v4_starts_, t->v4_rows_);
        flatten(v6, t->v6_starts_, t->v6_rows_);
        t->v4_starts_.shrink_to_fit();
        t->v4_rows_.shrink_to_fit();
        t->v6_starts_.shrink_to_fit();
        t->v6_rows_.shrink_to_fit();
    } else {
        std::size_t n = 16;
        while (n < t->key_spans_.size() * 2) n <<= 1;
        t->slots_.assign(n, 0);
        for (std::uint32_t row = 0; row < t->key_spans_.size(); ++row) {
            std::string_view k = t->key(row);
            std::size_t h = hashKey(k);
            std::uint64_t tag = static_cast<std::uint64_t>(h >> 32) << 32;
            for (std::size_t i = h & (n - 1);; i = (i + 1) & (n - 1)) {
                std::uint64_t s = t->slots_[i];
                if (s == 0) {
                    t->slots_[i] = tag | (row + 1);
                    break;
                }
                auto other = static_cast<std::uint32_t>(s) - 1;
                if ((s & ~0xffffffffULL) == tag && t->key(other) == k) {
                    duplicate(other, row);
                    break;
                }
            }
        }
    }
    return std::shared_ptr<const LookupTable>(std::move(t));
}

std::string_view LookupTable::key(std::uint32_t row) const {
    const auto& [off, size] = key_spans_[row];
    return std::string_view(key_pool_).substr(off, size);
}

std::uint32_t LookupTable::findExact(std::string_view key) const {
    if (slots_.empty()) return kNoRow;
    std::size_t mask = slots_.size() - 1;
    std::size_t h = hashKey(key);
    std::uint64_t tag = static_cast<std::uint64_t>(h >> 32) << 32;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
        std::uint64_t s = slots_[i];
        if (s == 0) return kNoRow;
        auto row = static_cast<std::uint32_t>(s) - 1;
        if ((s & ~0xffffffffULL) == tag && this->key(row) == key) return row;
    }
}

std::uint32_t LookupTable::find(std::string_view key) const {
    if (match_ == config::TableMatch::kExact) return findExact(key);
    auto ip = core::parseIp(key);
    if (!ip) return kNoRow;
    if (ip->v4) return bisect(v4_starts_, v4_rows_, v4Bits(*ip));
    return bisect(v6_starts_, v6_rows_, v6Bits(*ip));
}

bool LookupTable::unusableKey(std::string_view key) const {
    return match_ == config::TableMatch::kCidr && !core::parseIp(key).has_value();
}

std::size_t LookupTable::memoryBytes() const {
    std::size_t n = key_pool_.capacity() + key_spans_.capacity() * sizeof(key_spans_[0]) +
                    values_.capacity() * sizeof(std::string) + cells_.capacity() * 4 +
                    slots_.capacity() * 8 + v4_starts_.capacity() * 4 + v4_rows_.capacity() * 4 +
                    v6_starts_.capacity() * sizeof(U128) + v6_rows_.capacity() * 4;
    for (const auto& v : values_) {
        if (v.capacity() > 15) n += v.capacity() + 1;  // beyond the small-string buffer
    }
    return n;
}

std::shared_ptr<const LookupTable> TableSnapshots::get(std::size_t i) const {
    std::lock_guard lock(mu_);
    return tables_[i];
}

void TableSnapshots::publish(std::size_t i, std::shared_ptr<const LookupTable> table) {
    std::shared_ptr<const LookupTable> old;  // freed outside the lock
    {
        std::lock_guard lock(mu_);
        old = std::move(tables_[i]);
        tables_[i] = std::move(table);
        generation_.fetch_add(1, std::memory_order_release);
    }
}

}  // namespace alertbridge::pipeline
