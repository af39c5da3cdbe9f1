// Fuzz target: what the operator writes. The input is read as alertbridge.yml (every
// section, the enrich rules and their matchers, relabel regexes and table definitions) and
// as a user's email rule pack (RE2 regexes, templates, time formats). Invariants: a file
// either loads or reports at least one error with a line, and nothing crashes or hangs.

#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/email/rule_pack.hpp"
#include "plugin/config/loader.hpp"

using namespace alertbridge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto loaded = config::loadConfigFromString(text, "fuzz.yml");
    if (!loaded.config && loaded.errors.empty()) __builtin_trap();
    std::vector<config::ConfigError> errors;
    auto rules =
        email::RuleSet::compile({email::RuleSource{"fuzz-pack.yml", text}}, {}, {}, {}, errors);
    (void)rules;
    return 0;
}
