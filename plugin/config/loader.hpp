#pragma once
// loadConfig: YAML file -> validated Config, with every error at once as
// "file:line: path: message". Pure apart from reading the file and referenced secret files.

#include <optional>
#include <string>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::config {

struct LoadResult {
    std::optional<Config> config;  // set only when errors is empty
    std::vector<ConfigError> errors;
    std::vector<ConfigError> warnings;  // worth a look, not a reason to refuse the file
};

LoadResult loadConfig(const std::string& path);
LoadResult loadConfigFromString(const std::string& yaml, const std::string& file_name);

}  // namespace alertbridge::config
