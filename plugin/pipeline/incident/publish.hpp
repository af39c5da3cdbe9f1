#pragma once
// What the state sinks (Alertmanager, Nightingale) are shown of incidents, so a person sees
// in the host's UI what alertbridge made of the flood:
//   - one alert per incident: alertname="AlertbridgeIncident", alertbridge_incident="<id>",
//     alertbridge_role="incident", severity (its worst member's) and, from its first page
//     on, alertbridge_notify="page". Title, counts, resources and the grouping rule are
//     annotations, since they change while it is open;
//   - every member alert with alertbridge_role="member", and as annotations the incident it
//     is in (alertbridge_incident) and what holds it (alertbridge_suppressed="<kind>:<rule>").
//     A member can move to another incident (merges), so the id is not one of its labels:
//     an alert's labels name it at the host and must not change over its life.
// Pure functions.

#include <string>
#include <string_view>

#include "plugin/core/alert.hpp"
#include "plugin/core/incident.hpp"

namespace alertbridge::pipeline::incident {

inline constexpr std::string_view kIncidentAlertname = "AlertbridgeIncident";

// An incident's identity at a host that names alerts by an id of its own (n9e's hash): the
// same for its whole life, whatever labels it is shown under.
core::Fingerprint incidentFingerprint(std::uint64_t id);
// The labels an incident is shown under now.
core::LabelSet incidentLabels(const core::Incident& inc);
// The incident as one alert at `now` (resolved once the incident is).
core::Alert incidentAlert(const core::Incident& inc, core::TimePoint now);
// Marks a member alert (and the labels it supersedes, if any). `incident` 0: not placed.
void markMember(core::Alert& a, std::uint64_t incident, std::string_view suppressed);

}  // namespace alertbridge::pipeline::incident
