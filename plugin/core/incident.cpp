#include "plugin/core/incident.hpp"

#include <algorithm>

namespace alertbridge::core {

std::string_view notifyLevelName(NotifyLevel l) {
    switch (l) {
        case NotifyLevel::kPage:
            return "page";
        case NotifyLevel::kDigest:
            return "digest";
        case NotifyLevel::kRecord:
            break;
    }
    return "record";
}

std::string_view incidentStateName(IncidentState s) {
    switch (s) {
        case IncidentState::kAcknowledged:
            return "acknowledged";
        case IncidentState::kResolved:
            return "resolved";
        case IncidentState::kOpen:
            break;
    }
    return "open";
}

Severity Incident::severity() const {
    Severity s = Severity::kInfo;
    for (const auto& [fp, m] : members) s = std::min(s, m.severity);  // critical is 0
    return s;
}

NotifyLevel Incident::level() const {
    NotifyLevel l = NotifyLevel::kRecord;
    for (const auto& [fp, m] : members) {
        if (m.firing) l = std::max(l, m.level());
    }
    return l;
}

}  // namespace alertbridge::core
