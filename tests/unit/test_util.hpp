#pragma once
// Helpers shared by the unit tests: fixture files and fixed instants.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

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

// Compares `got` with tests/golden/<name>; ALERTBRIDGE_UPDATE_GOLDEN=1 rewrites the file.
inline void expectGolden(const std::string& name, const std::string& got) {
    std::string path = std::string(ALERTBRIDGE_GOLDEN) + "/" + name;
    if (std::getenv("ALERTBRIDGE_UPDATE_GOLDEN") != nullptr) {
        std::ofstream(path, std::ios::binary) << got;
        return;
    }
    EXPECT_EQ(readFile(path), got) << "golden file " << path;
}

inline core::TimePoint at(const char* rfc3339) { return core::parseRfc3339(rfc3339).value(); }

}  // namespace alertbridge::testing
