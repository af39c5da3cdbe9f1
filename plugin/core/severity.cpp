#include "plugin/core/severity.hpp"

#include <algorithm>
#include <cctype>

#include "plugin/core/text.hpp"

namespace alertbridge::core {
namespace {}  // namespace

std::string_view severityName(Severity s) {
    switch (s) {
        case Severity::kCritical:
            return "critical";
        case Severity::kWarning:
            return "warning";
        case Severity::kInfo:
            return "info";
    }
    return "warning";
}

bool parseSeverityName(std::string_view name, Severity& out) {
    for (Severity s : {Severity::kCritical, Severity::kWarning, Severity::kInfo}) {
        if (name == severityName(s)) {
            out = s;
            return true;
        }
    }
    return false;
}

SeverityMap SeverityMap::defaults() {
    SeverityMap m;
    // Words seen from Prometheus rule conventions, Zabbix, n9e and syslog-style sources.
    for (auto w : {"critical", "crit", "fatal", "emergency", "emerg", "alert", "disaster", "high",
                   "page", "p0", "p1", "sev1", "1"}) {
        m.add(w, Severity::kCritical);
    }
    for (auto w : {"warning", "warn", "major", "minor", "average", "medium", "error", "err", "p2",
                   "p3", "sev2", "sev3", "2"}) {
        m.add(w, Severity::kWarning);
    }
    for (auto w : {"info", "information", "informational", "notice", "low", "none", "debug", "ok",
                   "p4", "p5", "sev4", "3"}) {
        m.add(w, Severity::kInfo);
    }
    return m;
}

void SeverityMap::add(std::string_view word, Severity s) { words_[core::asciiLower(word)] = s; }

Severity SeverityMap::map(std::string_view word, Severity fallback) const {
    auto it = words_.find(core::asciiLower(word));
    return it == words_.end() ? fallback : it->second;
}

}  // namespace alertbridge::core
