#pragma once
// Logging: a sentence followed by key=value context, through spdlog, on stderr.
// Secrets are never passed in. Safe from any thread.

#include <string_view>

#include <spdlog/spdlog.h>

namespace alertbridge::core {

// Sets the level ("debug", "info", "warn", "error"). Returns false for an unknown level.
bool configureLogging(std::string_view level);

}  // namespace alertbridge::core
