#include "plugin/core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

namespace alertbridge::core {

bool configureLogging(std::string_view level) {
    auto lvl = spdlog::level::from_str(std::string(level));
    if (lvl == spdlog::level::off && level != "off") return false;
    if (!spdlog::get("alertbridge")) {
        spdlog::set_default_logger(spdlog::stderr_logger_mt("alertbridge"));
    }
    spdlog::set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
    spdlog::set_level(lvl);
    return true;
}

}  // namespace alertbridge::core
