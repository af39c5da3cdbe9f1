#include "plugin/core/label_set.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace alertbridge::core {

LabelSet::LabelSet(std::initializer_list<Pair> pairs) {
    for (const auto& p : pairs) set(p.first, p.second);
}

void LabelSet::set(std::string_view name, std::string_view value) {
    auto it = std::lower_bound(pairs_.begin(), pairs_.end(), name,
                               [](const Pair& p, std::string_view n) { return p.first < n; });
    if (it != pairs_.end() && it->first == name) {
        it->second.assign(value);
    } else {
        pairs_.emplace(it, std::string(name), std::string(value));
    }
}

void LabelSet::setMany(std::vector<View>& adds, bool overwrite) {
    // Existing names are handled in place; what is left is new and merged in from the back,
    // so every pair moves at most once and nothing is allocated beyond the new strings.
    std::size_t fresh = 0;
    for (auto& add : adds) {
        if (add.second.empty()) {
            add.first = {};
            continue;
        }
        auto it = std::lower_bound(pairs_.begin(), pairs_.end(), add.first,
                                   [](const Pair& p, std::string_view n) { return p.first < n; });
        if (it != pairs_.end() && it->first == add.first) {
            if (overwrite) it->second.assign(add.second);
            add.first = {};  // done
            continue;
        }
        adds[fresh++] = add;
    }
    if (fresh == 0) return;
    adds.resize(fresh);
    // A few names: insertion sort, stable and without the buffer std::stable_sort takes.
    for (std::size_t k = 1; k < adds.size(); ++k) {
        View v = adds[k];
        std::size_t m = k;
        for (; m > 0 && v.first < adds[m - 1].first; --m) adds[m] = adds[m - 1];
        adds[m] = v;
    }
    // A name given twice: the first wins, or the last when overwriting (as set() in a loop).
    std::size_t out = 0;
    for (std::size_t k = 0; k < adds.size(); ++k) {
        if (out > 0 && adds[out - 1].first == adds[k].first) {
            if (overwrite) adds[out - 1] = adds[k];
            continue;
        }
        adds[out++] = adds[k];
    }
    adds.resize(out);
    fresh = out;
    std::size_t i = pairs_.size();
    pairs_.resize(pairs_.size() + fresh);
    std::size_t w = pairs_.size();
    std::size_t j = fresh;
    while (j > 0) {
        if (i > 0 && pairs_[i - 1].first > adds[j - 1].first) {
            pairs_[--w] = std::move(pairs_[--i]);
        } else {
            --j;
            --w;
            pairs_[w].first.assign(adds[j].first);
            pairs_[w].second.assign(adds[j].second);
        }
    }
}

bool LabelSet::erase(std::string_view name) {
    auto it = std::lower_bound(pairs_.begin(), pairs_.end(), name,
                               [](const Pair& p, std::string_view n) { return p.first < n; });
    if (it == pairs_.end() || it->first != name) return false;
    pairs_.erase(it);
    return true;
}

const std::string* LabelSet::get(std::string_view name) const {
    auto it = std::lower_bound(pairs_.begin(), pairs_.end(), name,
                               [](const Pair& p, std::string_view n) { return p.first < n; });
    if (it == pairs_.end() || it->first != name) return nullptr;
    return &it->second;
}

std::optional<std::string_view> LabelSet::sortAndFindDuplicate() {
    std::sort(pairs_.begin(), pairs_.end(),
              [](const Pair& a, const Pair& b) { return a.first < b.first; });
    for (size_t i = 1; i < pairs_.size(); ++i) {
        if (pairs_[i].first == pairs_[i - 1].first) return std::string_view(pairs_[i].first);
    }
    return std::nullopt;
}

Fingerprint LabelSet::fingerprint() const {
    constexpr std::uint64_t kOffset = 0xcbf29ce484222325ULL;
    constexpr std::uint64_t kPrime = 0x100000001b3ULL;
    std::uint64_t h = kOffset;
    auto mix = [&h](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= kPrime;
        }
        h ^= 0xffU;
        h *= kPrime;
    };
    for (const auto& [name, value] : pairs_) {
        mix(name);
        mix(value);
    }
    return h;
}

std::string LabelSet::toString() const {
    std::string out = "{";
    for (size_t i = 0; i < pairs_.size(); ++i) {
        if (i > 0) out += ", ";
        out += fmt::format("{}=\"{}\"", pairs_[i].first, pairs_[i].second);
    }
    out += "}";
    return out;
}

std::string fingerprintHex(Fingerprint fp) { return fmt::format("{:016x}", fp); }

bool isValidLabelName(std::string_view name) {
    if (name.empty()) return false;
    auto first_ok = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    };
    if (!first_ok(name[0])) return false;
    return std::all_of(name.begin() + 1, name.end(),
                       [&](char c) { return first_ok(c) || (c >= '0' && c <= '9'); });
}

bool isValidUtf8(std::string_view text) {
    std::size_t i = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    while (i < text.size()) {
        unsigned char c = p[i];
        std::size_t n;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= text.size() || (p[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
        static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

bool isValidLabelName(std::string_view name, LabelNames rule) {
    if (rule == LabelNames::kLegacy) return isValidLabelName(name);
    return !name.empty() && isValidUtf8(name);
}

}  // namespace alertbridge::core
