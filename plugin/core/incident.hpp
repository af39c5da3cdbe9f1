#pragma once
// Incident: alerts that belong to one problem, and what people were told about it. Built and
// owned by the incident stage on the engine thread; read elsewhere only through copies.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/severity.hpp"

namespace alertbridge::core {

// What the notification policy does with an alert, weakest first.
enum class NotifyLevel : std::uint8_t { kRecord = 0, kDigest = 1, kPage = 2 };
std::string_view notifyLevelName(NotifyLevel l);

enum class IncidentState : std::uint8_t { kOpen, kAcknowledged, kResolved };
std::string_view incidentStateName(IncidentState s);

struct IncidentMember {
    Fingerprint fingerprint = 0;
    LabelSet labels;  // as enriched
    LabelSet annotations;
    TimePoint starts_at{};  // the alert's own startsAt
    Severity severity = Severity::kWarning;
    bool firing = true;
    TimePoint joined_at{};
    TimePoint changed_at{};
    std::string via;  // how it joined: "new", "group", "parent:<name>=<value>", "storm:<rule>"
    // What the policy wants for it, the rule that said so, and where a page or digest goes.
    NotifyLevel wanted = NotifyLevel::kRecord;
    std::string policy_rule;
    std::string receiver;
    std::string digest;
    // While a maintenance window, suppress or inhibit rule holds it: "<kind>:<rule>".
    std::string suppressed;
    bool notified = false;  // has been in a message to people while firing
    // The most basic parent rule (by config order) this alert is itself the parent of; the
    // incident's title comes from its most basic member. SIZE_MAX: none.
    std::size_t root_rank = static_cast<std::size_t>(-1);

    NotifyLevel level() const { return suppressed.empty() ? wanted : NotifyLevel::kRecord; }
};

struct TimelineEntry {
    TimePoint at{};
    std::string what;
};

struct Incident {
    std::uint64_t id = 0;
    std::string group_key;  // the group, parent or storm scope it was opened for
    std::string kind;       // "alert", "group", "topology" or "storm"
    std::string title;
    std::string why;  // the rule that grouped it, for people
    IncidentState state = IncidentState::kOpen;
    TimePoint created_at{};
    std::optional<TimePoint> first_notified_at;
    std::optional<TimePoint> acknowledged_at;
    std::optional<TimePoint> resolved_at;
    std::map<Fingerprint, IncidentMember> members;
    std::vector<TimelineEntry> timeline;  // bounded: the first entries and the last ones
    bool flapping = false;
    bool storm = false;

    // Notification state.
    bool paged = false;
    bool digested = false;
    bool digest_queued = false;
    std::string receiver;
    std::optional<TimePoint> last_notified_at;
    std::optional<TimePoint> due;         // a page or update is queued for then
    std::optional<TimePoint> resolve_at;  // every member resolved; closes then
    std::optional<TimePoint> repeat_at;
    std::size_t firing = 0;
    int messages = 0;

    Severity severity() const;
    NotifyLevel level() const;  // the strongest level among firing members
};

}  // namespace alertbridge::core
