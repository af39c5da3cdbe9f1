#pragma once
// Helpers shared by the unit tests: fixture files and fixed instants.

#include <fstream>
#include <sstream>
#include <string>

#include "plugin/core/time.hpp"

namespace alertbridge::testing {

inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string fixture(const std::string& name) {
    return readFile(std::string(ALERTBRIDGE_FIXTURES) + "/" + name);
}

inline core::TimePoint at(const char* rfc3339) { return core::parseRfc3339(rfc3339).value(); }

}  // namespace alertbridge::testing
