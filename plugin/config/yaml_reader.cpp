#include "plugin/config/yaml_reader.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "plugin/core/time.hpp"

namespace alertbridge::config {

std::string ConfigError::format() const {
    return fmt::format("{}:{}: {}: {}", file, line, path.empty() ? "(root)" : path, message);
}

namespace {

std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

int lineOf(const YAML::Node& n) {
    if (!n.IsDefined()) return 0;
    auto m = n.Mark();
    return m.line < 0 ? 0 : m.line + 1;
}

}  // namespace

std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates) {
    std::string best;
    std::size_t best_d = std::numeric_limits<std::size_t>::max();
    for (auto c : candidates) {
        auto d = editDistance(word, c);
        if (d < best_d) {
            best_d = d;
            best = std::string(c);
        }
    }
    std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    return best_d <= limit ? best : "";
}

void YamlReader::error(const YAML::Node& at, const std::string& path, std::string message) {
    errors_.push_back(ConfigError{file_, lineOf(at), path, std::move(message)});
}

void YamlReader::errorAt(int line, const std::string& path, std::string message) {
    errors_.push_back(ConfigError{file_, line, path, std::move(message)});
}

std::string YamlReader::join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string YamlReader::index(const std::string& path, std::size_t i) {
    return fmt::format("{}[{}]", path, i);
}

bool YamlReader::expectMap(const YAML::Node& node, const std::string& path,
                           const std::vector<std::string_view>& known) {
    if (!node.IsDefined() || node.IsNull()) return false;
    if (!node.IsMap()) {
        error(node, path, "expected a mapping of keys to values");
        return false;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
        auto key = it->first.as<std::string>("");
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        auto hint = didYouMean(key, known);
        error(it->first, join(path, key),
              hint.empty() ? fmt::format("unknown key \"{}\"", key)
                           : fmt::format("unknown key \"{}\" (did you mean \"{}\"?)", key, hint));
    }
    return true;
}

bool YamlReader::expectSequence(const YAML::Node& node, const std::string& path) {
    if (!node.IsDefined() || node.IsNull()) return false;
    if (!node.IsSequence()) {
        error(node, path, "expected a list");
        return false;
    }
    return true;
}

std::optional<std::string> YamlReader::scalar(const YAML::Node& map, const std::string& path,
                                              const char* key) {
    auto n = map[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    if (!n.IsScalar()) {
        error(n, join(path, key), "expected a single value, not a list or mapping");
        return std::nullopt;
    }
    return n.Scalar();
}

void YamlReader::readString(const YAML::Node& map, const std::string& path, const char* key,
                            std::string& out, bool required) {
    auto v = scalar(map, path, key);
    if (v) {
        out = *v;
    } else if (required && !(map[key].IsDefined() && !map[key].IsNull() && !map[key].IsScalar())) {
        error(map, join(path, key), "is required");
    }
}

void YamlReader::readDuration(const YAML::Node& map, const std::string& path, const char* key,
                              core::Duration& out, core::Duration min) {
    auto v = scalar(map, path, key);
    if (!v) return;
    auto d = core::parseDuration(*v);
    if (!d) {
        error(map[key], join(path, key), d.error());
    } else if (*d < min) {
        error(map[key], join(path, key),
              fmt::format("must be at least {}", core::formatDuration(min)));
    } else {
        out = *d;
    }
}

void YamlReader::readSize(const YAML::Node& map, const std::string& path, const char* key,
                          std::size_t& out, std::size_t min, std::size_t max) {
    auto v = scalar(map, path, key);
    if (!v) return;
    try {
        std::size_t pos = 0;
        long long n = std::stoll(*v, &pos);
        if (pos != v->size() || n < static_cast<long long>(min) ||
            n > static_cast<long long>(max)) {
            throw std::out_of_range("range");
        }
        out = static_cast<std::size_t>(n);
    } catch (const std::exception&) {
        error(map[key], join(path, key),
              fmt::format("must be a whole number from {} to {}, got \"{}\"", min, max, *v));
    }
}

void YamlReader::readBool(const YAML::Node& map, const std::string& path, const char* key,
                          bool& out) {
    auto v = scalar(map, path, key);
    if (!v) return;
    if (*v == "true") {
        out = true;
    } else if (*v == "false") {
        out = false;
    } else {
        error(map[key], join(path, key), fmt::format("must be true or false, got \"{}\"", *v));
    }
}

void YamlReader::checkString(const YAML::Node& map, const std::string& path, const char* key,
                             const std::function<std::string(const std::string&)>& check) {
    auto v = scalar(map, path, key);
    if (!v) return;
    auto problem = check(*v);
    if (!problem.empty()) error(map[key], join(path, key), problem);
}

void YamlReader::readScalars(const YAML::Node& map, const std::string& path, const char* key,
                             const std::function<void(const YAML::Node&, const std::string&)>& fn) {
    auto list = map[key];
    std::string lp = join(path, key);
    if (!expectSequence(list, lp)) return;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (!list[i].IsScalar()) {
            error(list[i], index(lp, i), "expected a single value");
            continue;
        }
        fn(list[i], index(lp, i));
    }
}

}  // namespace alertbridge::config
