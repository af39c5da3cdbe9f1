#pragma once
// The alert an email became, as the JSON object `email-test` prints and the email archive
// (GET /api/v1/emails/{id}) returns: status, severity, labels, annotations, starts_at,
// ends_at, fingerprint, summary and rule. Pure.

#include <string>
#include <string_view>

#include "plugin/core/alert.hpp"

namespace alertbridge::app {

// `alert` has been through normalize (severity and fingerprint are set).
std::string emailResultJson(const core::Alert& alert, std::string_view rule, core::TimePoint now,
                            bool pretty);

}  // namespace alertbridge::app
