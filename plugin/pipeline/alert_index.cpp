#include "plugin/pipeline/alert_index.hpp"

#include <algorithm>
#include <cstring>

#include "plugin/core/time.hpp"

namespace alertbridge::pipeline {
namespace {

// Record layout, version 1:
//   u8 version, u8 severity, u8 source kind, u8 has_ends,
//   i64 starts_ms, i64 ends_ms, i64 updated_ms, i64 received_ms,
//   str input, str generator_url, varint n_labels, (str, str)..., varint n_annotations, ...
// where str = varint length + bytes. Little-endian, as the machines that run it.
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kEndsOffset = 4 + 8;
constexpr std::size_t kHeader = 4 + 4 * 8;

void putVarint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

void putI64(std::string& out, std::int64_t v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out.append(b, 8);
}

void putStr(std::string& out, std::string_view s) {
    putVarint(out, s.size());
    out.append(s);
}

struct Reader {
    std::string_view in;
    std::size_t pos = 0;
    bool ok = true;

    std::uint64_t varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= in.size()) break;
            auto b = static_cast<std::uint8_t>(in[pos++]);
            v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return v;
        }
        ok = false;
        return 0;
    }
    std::int64_t i64() {
        if (pos + 8 > in.size()) {
            ok = false;
            return 0;
        }
        std::int64_t v;
        std::memcpy(&v, in.data() + pos, 8);
        pos += 8;
        return v;
    }
    std::string_view str() {
        auto n = varint();
        if (!ok || pos + n > in.size()) {
            ok = false;
            return {};
        }
        auto s = in.substr(pos, n);
        pos += n;
        return s;
    }
};

}  // namespace

std::string encodeRecord(const core::Alert& a) {
    std::string out;
    std::size_t size = kHeader + a.origin.input.size() + a.generator_url.size() + 8;
    for (const auto& [k, v] : a.labels) size += k.size() + v.size() + 2;
    for (const auto& [k, v] : a.annotations) size += k.size() + v.size() + 4;
    out.reserve(size);
    out.push_back(static_cast<char>(kVersion));
    out.push_back(static_cast<char>(a.severity));
    out.push_back(static_cast<char>(a.origin.kind));
    out.push_back(a.ends_at ? 1 : 0);
    putI64(out, core::toUnixMillis(a.starts_at));
    putI64(out, a.ends_at ? core::toUnixMillis(*a.ends_at) : 0);
    putI64(out, core::toUnixMillis(a.updated_at));
    putI64(out, core::toUnixMillis(a.origin.received_at));
    putStr(out, a.origin.input);
    putStr(out, a.generator_url);
    putVarint(out, a.labels.size());
    for (const auto& [k, v] : a.labels) {
        putStr(out, k);
        putStr(out, v);
    }
    putVarint(out, a.annotations.size());
    for (const auto& [k, v] : a.annotations) {
        putStr(out, k);
        putStr(out, v);
    }
    return out;
}

bool decodeRecord(std::string_view record, core::Fingerprint fp, core::Alert& out) {
    if (record.size() < kHeader || static_cast<std::uint8_t>(record[0]) != kVersion) return false;
    Reader r{record, 4};
    out = core::Alert{};
    out.fingerprint = fp;
    out.severity = static_cast<core::Severity>(record[1]);
    out.origin.kind = static_cast<core::SourceKind>(record[2]);
    bool has_ends = record[3] != 0;
    out.starts_at = core::fromUnixMillis(r.i64());
    auto ends = r.i64();
    if (has_ends) out.ends_at = core::fromUnixMillis(ends);
    out.updated_at = core::fromUnixMillis(r.i64());
    out.origin.received_at = core::fromUnixMillis(r.i64());
    out.origin.input = std::string(r.str());
    out.generator_url = std::string(r.str());
    auto n = r.varint();
    for (std::uint64_t i = 0; r.ok && i < n; ++i) {
        auto k = r.str();
        auto v = r.str();
        out.labels.appendUnsorted(std::string(k), std::string(v));
    }
    n = r.varint();
    for (std::uint64_t i = 0; r.ok && i < n; ++i) {
        auto k = r.str();
        auto v = r.str();
        out.annotations.appendUnsorted(std::string(k), std::string(v));
    }
    return r.ok && r.pos == record.size();
}

AlertIndex::Entry::Entry(std::string_view bytes)
    : data_(new char[bytes.size()]), size_(static_cast<std::uint32_t>(bytes.size())) {
    std::memcpy(data_.get(), bytes.data(), bytes.size());
}

std::optional<core::TimePoint> AlertIndex::Entry::endsAt() const {
    if (size_ < kHeader || data_[3] == 0) return std::nullopt;
    std::int64_t v;
    std::memcpy(&v, data_.get() + kEndsOffset, 8);
    return core::fromUnixMillis(v);
}

const AlertIndex::Entry* AlertIndex::find(core::Fingerprint fp) const {
    const auto& t = table(fp);
    auto it = t.find(fp);
    return it == t.end() ? nullptr : &it->second;
}

void AlertIndex::markDirty(core::Fingerprint fp, Entry& e) {
    // An entry already dirty is listed already: in dirty_list_, or in the running pass.
    if (e.dirty_) return;
    e.dirty_ = true;
    ++dirty_count_;
    dirty_list_.push_back(fp);
}

void AlertIndex::scheduleExpiry(core::Fingerprint fp, const Entry& e) {
    auto ends = e.endsAt();
    if (!ends) return;
    auto later = [](const auto& a, const auto& b) { return a.first > b.first; };
    expiry_.emplace_back(core::toUnixMillis(*ends), fp);
    std::push_heap(expiry_.begin(), expiry_.end(), later);
    if (expiry_.size() > 2 * size_ + 1024) {
        // Mostly stale entries from re-sends: rebuild from the live alerts.
        expiry_.clear();
        forEach([this](core::Fingerprint f, const Entry& entry) {
            if (auto t = entry.endsAt()) expiry_.emplace_back(core::toUnixMillis(*t), f);
        });
        std::make_heap(expiry_.begin(), expiry_.end(), later);
    }
}

void AlertIndex::put(core::Fingerprint fp, std::string_view record) {
    auto [it, added] = table(fp).try_emplace(fp);
    if (added) ++size_;
    auto& e = it->second;
    long long row_id = e.row_id_;
    bool was_dirty = e.dirty_;
    bool shown = e.shown_;
    std::uint16_t shown_at = e.shown_at_;
    e = Entry(record);
    e.row_id_ = row_id;
    e.dirty_ = was_dirty;
    e.shown_ = shown;
    e.shown_at_ = shown_at;
    markDirty(fp, e);
    scheduleExpiry(fp, e);
}

void AlertIndex::load(core::Fingerprint fp, std::string_view record, long long row_id) {
    auto [it, added] = table(fp).try_emplace(fp);
    if (added) ++size_;
    auto& e = it->second;
    if (e.row_id_ != 0) deleted_rows_.push_back(e.row_id_);  // an older duplicate version
    e = Entry(record);
    e.row_id_ = row_id;
    next_row_id_ = std::max(next_row_id_, row_id + 1);
    scheduleExpiry(fp, e);
}

// The push mark sits in the entry's padding: an index of millions pays nothing for it.
static_assert(sizeof(AlertIndex::Entry) == 24, "an index entry grew");

void AlertIndex::markShown(core::Fingerprint fp, long long second) {
    auto& t = table(fp);
    auto it = t.find(fp);
    if (it == t.end()) return;
    it->second.shown_ = true;
    it->second.shown_at_ = static_cast<std::uint16_t>(second);
}

bool AlertIndex::erase(core::Fingerprint fp) {
    auto& t = table(fp);
    auto it = t.find(fp);
    if (it == t.end()) return false;
    if (it->second.dirty_) --dirty_count_;
    if (it->second.row_id_ != 0) deleted_rows_.push_back(it->second.row_id_);
    t.erase(it);
    --size_;
    return true;
}

std::vector<long long> AlertIndex::beginCheckpoint() {
    // Whatever a previous pass left is still dirty and listed again below.
    checkpoint_list_.swap(dirty_list_);
    dirty_list_.clear();
    checkpoint_pos_ = 0;
    std::vector<long long> deletes;
    deletes.swap(deleted_rows_);
    std::sort(deletes.begin(), deletes.end());
    return deletes;
}

bool AlertIndex::takeCheckpointChunk(std::size_t max, std::vector<state::RecordWrite>& upserts) {
    std::size_t taken = 0;
    while (checkpoint_pos_ < checkpoint_list_.size() && taken < max) {
        auto fp = checkpoint_list_[checkpoint_pos_++];
        auto& t = table(fp);
        auto it = t.find(fp);
        if (it == t.end() || !it->second.dirty_) continue;  // erased or written since
        auto& e = it->second;
        upserts.push_back(state::RecordWrite{next_row_id_, e.row_id_, fp, std::string(e.bytes())});
        e.row_id_ = next_row_id_++;
        e.dirty_ = false;
        --dirty_count_;
        ++taken;
    }
    if (checkpoint_pos_ < checkpoint_list_.size()) return false;
    std::vector<core::Fingerprint>().swap(checkpoint_list_);
    checkpoint_pos_ = 0;
    return true;
}

std::vector<core::Fingerprint> AlertIndex::expiredBy(core::TimePoint now) {
    std::vector<core::Fingerprint> out;
    const long long now_ms = core::toUnixMillis(now);
    auto later = [](const auto& a, const auto& b) { return a.first > b.first; };
    while (!expiry_.empty() && expiry_.front().first <= now_ms) {
        auto [ends_ms, fp] = expiry_.front();
        std::pop_heap(expiry_.begin(), expiry_.end(), later);
        expiry_.pop_back();
        const auto* e = find(fp);
        if (e == nullptr) continue;
        auto ends = e->endsAt();
        if (ends && core::toUnixMillis(*ends) == ends_ms) out.push_back(fp);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::optional<core::TimePoint> AlertIndex::nextExpiry() const {
    if (expiry_.empty()) return std::nullopt;
    return core::TimePoint(std::chrono::milliseconds(expiry_.front().first));
}

void AlertIndex::forEach(const std::function<void(core::Fingerprint, const Entry&)>& fn) const {
    for (const auto& t : tables_) {
        for (const auto& [fp, e] : t) fn(fp, e);
    }
}

void AlertIndex::forEachInPart(
    std::size_t part, std::size_t parts,
    const std::function<void(core::Fingerprint, const Entry&)>& fn) const {
    constexpr unsigned kTop = 32 - kShardBits;  // bits of the top 32 below a table's own
    for (std::uint64_t s = 0; s < tables_.size(); ++s) {
        const std::size_t first = partOfMixed(s << kTop, parts);
        const std::size_t last = partOfMixed(((s + 1) << kTop) - 1, parts);
        if (part < first || part > last) continue;
        for (const auto& [fp, e] : tables_[s]) {
            if (first == last || partOf(fp, parts) == part) fn(fp, e);
        }
    }
}

}  // namespace alertbridge::pipeline
