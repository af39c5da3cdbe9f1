#pragma once
// The `enrich:` section of the config: relabel_configs (validated as Prometheus validates
// them), lookup tables and classification. Called by the loader; reports into its reader.

#include <filesystem>
#include <functional>
#include <string>

#include "plugin/config/config.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::config {

// Reads basic_auth / bearer_token / bearer_token_file of a map whose keys were checked.
using AuthFieldsReader = std::function<void(const YAML::Node&, const std::string&, Auth&)>;

void loadEnrich(YamlReader& r, const YAML::Node& n, const std::filesystem::path& base_dir,
                const AuthFieldsReader& auth_fields, EnrichConfig& out);

}  // namespace alertbridge::config
