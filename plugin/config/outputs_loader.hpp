#pragma once
// The `outputs:` section of the config (Alertmanager and Nightingale outputs, their names
// unique across both). Called by the loader; reports into its reader.

#include "plugin/config/config.hpp"
#include "plugin/config/enrich_loader.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::config {

// Reads a secret from a file named in the config (relative to it), reporting at `at`.
using SecretFileReader = std::function<void(const YAML::Node& at, const std::string& p,
                                            const std::string& file, std::string& out)>;

void loadOutputs(YamlReader& r, const YAML::Node& n, const AuthFieldsReader& auth_fields,
                 const SecretFileReader& secret_file, OutputsConfig& out);

}  // namespace alertbridge::config
