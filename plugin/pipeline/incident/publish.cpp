#include "plugin/pipeline/incident/publish.hpp"

#include <set>

#include <fmt/format.h>

namespace alertbridge::pipeline::incident {

namespace {

constexpr std::size_t kResourcesShown = 8;

// What a member alert is about, by the first resource label it has.
std::string resourceOf(const core::LabelSet& labels) {
    for (const char* name : {"device", "host", "link", "cluster", "service", "instance"}) {
        auto v = labels.get(name);
        if (v && !v->empty()) return fmt::format("{}={}", name, *v);
    }
    auto v = labels.get("alertname");
    return v ? std::string(*v) : std::string("?");
}

}  // namespace

core::Fingerprint incidentFingerprint(std::uint64_t id) {
    core::LabelSet identity;
    identity.set("alertname", kIncidentAlertname);
    identity.set("alertbridge_incident", std::to_string(id));
    return identity.fingerprint();
}

core::LabelSet incidentLabels(const core::Incident& inc) {
    core::LabelSet labels;
    labels.set("alertname", kIncidentAlertname);
    labels.set("alertbridge_incident", std::to_string(inc.id));
    labels.set("alertbridge_role", "incident");
    labels.set("severity", core::severityName(inc.severity()));
    if (inc.paged) labels.set("alertbridge_notify", "page");
    return labels;
}

core::Alert incidentAlert(const core::Incident& inc, core::TimePoint now) {
    core::Alert a;
    a.labels = incidentLabels(inc);
    a.fingerprint = incidentFingerprint(inc.id);
    a.severity = inc.severity();
    std::set<std::string> resources;
    std::size_t held = 0;
    for (const auto& [fp, m] : inc.members) {
        if (resources.size() < kResourcesShown) resources.insert(resourceOf(m.labels));
        if (m.firing && !m.suppressed.empty()) ++held;
    }
    const std::size_t n = inc.members.size();
    std::string on = fmt::format("{}", fmt::join(resources, ", "));
    if (n > resources.size()) on += ", ...";
    a.annotations.set("summary", inc.title);
    a.annotations.set(
        "description",
        fmt::format("{} alert{} ({} firing{}) on {}; {}", n, n == 1 ? "" : "s", inc.firing,
                    held > 0 ? fmt::format(", {} held", held) : std::string(), on,
                    inc.why.empty() ? std::string("one alert") : "grouped by " + inc.why));
    a.annotations.set("alertbridge_members", std::to_string(n));
    a.annotations.set("alertbridge_firing", std::to_string(inc.firing));
    a.annotations.set("alertbridge_kind", inc.kind);
    a.annotations.set("alertbridge_state", core::incidentStateName(inc.state));
    a.starts_at = inc.created_at;
    a.updated_at = now;
    if (inc.state == core::IncidentState::kResolved) {
        a.ends_at = inc.resolved_at.value_or(now);
        a.change = core::Alert::Change::kResolve;
    } else {
        a.change = core::Alert::Change::kUpdate;
    }
    return a;
}

void markMember(core::Alert& a, std::uint64_t incident, std::string_view suppressed) {
    a.labels.set("alertbridge_role", "member");
    if (a.superseded_labels) a.superseded_labels->set("alertbridge_role", "member");
    if (incident != 0) a.annotations.set("alertbridge_incident", std::to_string(incident));
    if (!suppressed.empty()) a.annotations.set("alertbridge_suppressed", suppressed);
}

}  // namespace alertbridge::pipeline::incident
