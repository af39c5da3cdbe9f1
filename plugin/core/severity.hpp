#pragma once
// Severity: the three levels every alert is normalised to. The word tables that map host
// and vendor vocabularies onto them live in config (normalize.severity_map); this file
// holds the default table. Pure; safe from any thread.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace alertbridge::core {

enum class Severity : std::uint8_t { kCritical = 0, kWarning = 1, kInfo = 2 };

std::string_view severityName(Severity s);
bool parseSeverityName(std::string_view name, Severity& out);

// Lower-cased word -> severity. Built from defaults plus config overrides.
class SeverityMap {
  public:
    static SeverityMap defaults();
    void add(std::string_view word, Severity s);
    // Case-insensitive lookup; returns `fallback` for unknown or empty words.
    Severity map(std::string_view word, Severity fallback) const;

  private:
    std::map<std::string, Severity, std::less<>> words_;
};

}  // namespace alertbridge::core
