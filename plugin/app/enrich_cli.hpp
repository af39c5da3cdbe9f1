#pragma once
// The enrich side of the command line: enrich-test (what each relabel rule, table and
// classify rule does to one label set) and the table checks check-config makes.

#include <string>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::app {

// Loads every file table of `cfg` now; each failure becomes an error at the table's line.
// url tables are not fetched (check-config opens no socket).
std::vector<config::ConfigError> checkTables(const config::Config& cfg);

// alertbridge enrich-test --config FILE [--input ID] label=value...
// Prints the steps and the resulting labels; returns the process exit code.
int enrichTest(const std::string& config_file, const std::string& input,
               const std::vector<std::string>& label_args);

}  // namespace alertbridge::app
