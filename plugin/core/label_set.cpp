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

std::string_view LabelSet::sortAndFindDuplicate() {
    std::sort(pairs_.begin(), pairs_.end(),
              [](const Pair& a, const Pair& b) { return a.first < b.first; });
    for (size_t i = 1; i < pairs_.size(); ++i) {
        if (pairs_[i].first == pairs_[i - 1].first) return pairs_[i].first;
    }
    return {};
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

}  // namespace alertbridge::core
