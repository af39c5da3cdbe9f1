#pragma once
// The `outputs:` section of the config (Alertmanager and Nightingale outputs, their names
// unique across both). Called by the loader; reports into its reader.

#include "plugin/config/config.hpp"
#include "plugin/config/enrich_loader.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::config {

void loadOutputs(YamlReader& r, const YAML::Node& n, const AuthFieldsReader& auth_fields,
                 OutputsConfig& out);

}  // namespace alertbridge::config
