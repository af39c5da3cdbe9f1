#pragma once
// `noise:` (incidents, storms, flapping, maintenance windows, suppress and inhibit rules,
// the notification policy and digests). Every mistake is an error at file:line; the
// maintenance windows file reports at its own lines.

#include <filesystem>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::config {

void loadNoise(YamlReader& r, const YAML::Node& n, const std::filesystem::path& base_dir,
               std::vector<ConfigError>& errors, NoiseConfig& out);

// Reads a maintenance windows file: a YAML list of {name, start, end, matchers}. Appends
// to `out`; errors name the file and line.
void loadMaintenanceFile(const std::string& path, std::vector<ConfigError>& errors,
                         std::vector<MaintenanceWindow>& out);

// The time intervals and digests the noise rules name exist.
void checkNoiseReferences(YamlReader& r, const Config& c);

}  // namespace alertbridge::config
