#pragma once
// LabelSet: name -> value pairs kept sorted by name with unique names. Its fingerprint is
// Alertmanager's (FNV-1a 64 over "name\xff value\xff" in name order), so an alert has the
// same identity here as in Alertmanager. A plain value type; not thread-safe to mutate.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace alertbridge::core {

using Fingerprint = std::uint64_t;

class LabelSet {
  public:
    using Pair = std::pair<std::string, std::string>;

    LabelSet() = default;
    LabelSet(std::initializer_list<Pair> pairs);

    // Inserts or replaces. Keeps the order invariant.
    void set(std::string_view name, std::string_view value);
    bool erase(std::string_view name);
    const std::string* get(std::string_view name) const;
    bool contains(std::string_view name) const { return get(name) != nullptr; }

    // Appends without checking order; call sortAndCheck() afterwards. Used by decoders
    // that read many pairs at once.
    void appendUnsorted(std::string name, std::string value) {
        pairs_.emplace_back(std::move(name), std::move(value));
    }
    // Sorts by name. Returns the first duplicated name (which may be the empty name), or
    // nothing if every name is unique.
    std::optional<std::string_view> sortAndFindDuplicate();

    // Sets several labels in one pass: each of `adds` (unique names, any order; an empty
    // value sets nothing) is added, or replaces the existing value when `overwrite`.
    // Cheaper than set() in a loop once more than one label is new.
    using View = std::pair<std::string_view, std::string_view>;
    void setMany(std::vector<View>& adds, bool overwrite);

    // Room for `n` labels, so that adding several in a row does not reallocate each time.
    void reserve(std::size_t n) { pairs_.reserve(n); }

    Fingerprint fingerprint() const;

    const std::vector<Pair>& pairs() const { return pairs_; }
    size_t size() const { return pairs_.size(); }
    bool empty() const { return pairs_.empty(); }
    auto begin() const { return pairs_.begin(); }
    auto end() const { return pairs_.end(); }

    friend bool operator==(const LabelSet&, const LabelSet&) = default;

    // {a="b", c="d"}: the form Alertmanager uses in logs and group keys.
    std::string toString() const;

  private:
    std::vector<Pair> pairs_;
};

// 16 lower-case hex digits, as Alertmanager prints fingerprints.
std::string fingerprintHex(Fingerprint fp);

// Alertmanager's label name rule: [a-zA-Z_][a-zA-Z0-9_]*.
bool isValidLabelName(std::string_view name);

// Which label names an input accepts. kUtf8 is Alertmanager 0.27+ and Prometheus 3: any
// non-empty valid UTF-8 string. kLegacy is [a-zA-Z_][a-zA-Z0-9_]*, which older hosts
// (Alertmanager 0.25, Debian's) require.
enum class LabelNames : std::uint8_t { kUtf8, kLegacy };
bool isValidLabelName(std::string_view name, LabelNames rule);
bool isValidUtf8(std::string_view text);

}  // namespace alertbridge::core
