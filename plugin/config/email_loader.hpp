#pragma once
// The `email:` section of the config. Called by the loader; reports into its reader.

#include <filesystem>
#include <functional>
#include <string>

#include "plugin/config/config.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::config {

// Reads password / password_file of a map whose keys were checked.
using PasswordReader = std::function<void(const YAML::Node&, const std::string&, std::string&)>;

void loadEmail(YamlReader& r, const YAML::Node& n, const std::filesystem::path& base_dir,
               const PasswordReader& read_password, EmailConfig& out);

}  // namespace alertbridge::config
