#pragma once
// One incident as JSON: what `replay --incidents` writes and GET /api/v1/incidents/{id}
// will answer. Times are RFC 3339, or seconds since `origin` when one is given (replay).

#include <optional>
#include <string>

#include "plugin/core/incident.hpp"

namespace alertbridge::app {

std::string incidentJson(const core::Incident& inc,
                         std::optional<core::TimePoint> origin = std::nullopt);

}  // namespace alertbridge::app
