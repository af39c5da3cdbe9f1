#pragma once
// YamlReader: walks a yaml-cpp tree for the loader and collects every problem as
// "file:line: path: message" instead of stopping at the first. Single-threaded.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "plugin/core/clock.hpp"

namespace alertbridge::config {

struct ConfigError {
    std::string file;
    int line = 0;  // 1-based; 0 when unknown
    std::string path;
    std::string message;
    std::string format() const;
};

// The closest of `candidates` to `word` by edit distance, or "" if none is close.
std::string didYouMean(std::string_view word, const std::vector<std::string_view>& candidates);

class YamlReader {
  public:
    YamlReader(std::string file, std::vector<ConfigError>& errors)
        : file_(std::move(file)), errors_(errors) {}

    void error(const YAML::Node& at, const std::string& path, std::string message);
    void errorAt(int line, const std::string& path, std::string message);

    // True if `node` is a map (or absent/null, when `optional`); reports otherwise. Every key
    // not in `known` is reported with a "did you mean" hint.
    bool expectMap(const YAML::Node& node, const std::string& path,
                   const std::vector<std::string_view>& known);
    bool expectSequence(const YAML::Node& node, const std::string& path);
    // Calls `fn` on each scalar of the list at `key` of `map`; reports non-scalars.
    void readScalars(const YAML::Node& map, const std::string& path, const char* key,
                     const std::function<void(const YAML::Node&, const std::string&)>& fn);

    // Readers for one key of a map. Absent keys leave `out` unchanged (its default).
    // `required` reports a missing key at the map's line.
    void readString(const YAML::Node& map, const std::string& path, const char* key,
                    std::string& out, bool required = false);
    void readDuration(const YAML::Node& map, const std::string& path, const char* key,
                      core::Duration& out, core::Duration min = core::Duration::zero());
    void readSize(const YAML::Node& map, const std::string& path, const char* key, std::size_t& out,
                  std::size_t min, std::size_t max);
    void readBool(const YAML::Node& map, const std::string& path, const char* key, bool& out);

    // Calls `check` on the scalar value of `key`; a returned non-empty string is an error.
    void checkString(const YAML::Node& map, const std::string& path, const char* key,
                     const std::function<std::string(const std::string&)>& check);

    static std::string join(const std::string& path, std::string_view key);
    static std::string index(const std::string& path, std::size_t i);
    const std::string& file() const { return file_; }
    bool failed() const { return !errors_.empty(); }

  private:
    std::optional<std::string> scalar(const YAML::Node& map, const std::string& path,
                                      const char* key);
    std::string file_;
    std::vector<ConfigError>& errors_;
};

}  // namespace alertbridge::config
