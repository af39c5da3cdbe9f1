#pragma once
// The `noise:` section: how alerts become incidents and which incidents reach people.
// Every key is documented in config-examples/full.yml and the README ("Incidents").

#include <cstddef>
#include <string>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/matcher.hpp"

namespace date {
class time_zone;
}

namespace alertbridge::config {

// Limits a rule to some instants: it applies only inside one of `active` (when given) and
// never inside one of `mute`. Names refer to `time_intervals:`.
struct RuleTimes {
    std::vector<std::string> active_time_intervals;
    std::vector<std::string> mute_time_intervals;
};

// A resource that other resources hang off (a ToR switch, a SmartX cluster, a database):
// alerts that name the same value under any of `labels` within the window join one
// incident. The first label is the parent itself (a switch's own `device`); the others
// point at it (a host's `tor_switch`). A label may hold several values split by
// `separator` (a service's dependencies).
struct ParentDef {
    std::string name;
    std::vector<std::string> labels;
    std::vector<core::Matcher> matchers;  // only alerts matching these take part
    std::string separator;                // "": one value per label
    int line = 0;
};

// More than `threshold` new alerts within `window` that share the `scope` labels' values
// become one storm incident. An empty scope is the whole estate.
struct StormRule {
    std::string name;
    std::vector<std::string> scope;
    std::size_t threshold = 100;
    core::Duration window = std::chrono::minutes(2);
    std::vector<core::Matcher> matchers;
    RuleTimes times;
    int line = 0;
};

struct FlappingConfig {
    std::size_t threshold = 0;  // state changes within `window`; 0: off
    core::Duration window = std::chrono::minutes(30);
    // A flapping incident resolves only after its alerts stayed resolved this long.
    core::Duration settle = std::chrono::minutes(15);
};

// One entry of the change calendar: alerts matching every matcher are held between start
// and end, then notified if they still fire.
struct MaintenanceWindow {
    std::string name;
    core::TimePoint start{};
    core::TimePoint end{};
    std::vector<core::Matcher> matchers;
    std::string file;  // where it was written (the config or the windows file)
    int line = 0;
};

// Alerts matching `matchers` are recorded but not notified, while the rule applies.
struct SuppressRule {
    std::string name;
    std::vector<core::Matcher> matchers;
    RuleTimes times;
    int line = 0;
};

// Alertmanager's inhibit rule: a firing source mutes targets whose `equal` labels match it.
struct InhibitRule {
    std::string name;
    std::vector<core::Matcher> source_matchers;
    std::vector<core::Matcher> target_matchers;
    std::vector<std::string> equal;
    RuleTimes times;
    int line = 0;
};

enum class PolicyAction : std::uint8_t { kRecord = 0, kDigest = 1, kPage = 2 };

// The first rule whose matchers and times match an alert decides what its incident does.
struct PolicyRule {
    std::string name;
    std::vector<core::Matcher> matchers;
    RuleTimes times;
    PolicyAction action = PolicyAction::kRecord;
    std::string receiver;  // page: who is told (default "oncall")
    std::string digest;    // digest: which digest (default: the first)
    int line = 0;
};

// A periodic message per group (by default per team) that lists the incidents added to it
// since the last one. Sent at `offset` past each multiple of `interval`, in the timezone.
struct DigestDef {
    std::string name;
    std::vector<std::string> group_by{"team"};
    core::Duration interval = std::chrono::hours(24);
    core::Duration offset = std::chrono::hours(8);
    // With a location: at `offset` past local midnight there and every `interval` after it
    // (the interval divides a day), so a handover at 08:30 stays at 08:30 across a DST
    // change. Without: every `interval` since the Unix epoch (UTC), shifted by `offset`.
    std::string location;
    const date::time_zone* zone = nullptr;
    int line = 0;
};

struct NoiseConfig {
    bool enabled = false;  // the section is present
    // Alerts with the same values of these labels are one incident while it is open;
    // empty: every alert is its own group (until topology or a storm joins it).
    std::vector<std::string> group_by;
    core::Duration group_wait = std::chrono::seconds(30);
    core::Duration group_interval = std::chrono::minutes(5);
    core::Duration repeat_interval = std::chrono::hours(4);
    core::Duration resolve_wait = std::chrono::minutes(5);
    // An alert a maintenance window or suppress rule held is notified when the hold ends
    // only if it still fires this long after (quotes come back a moment after the open).
    core::Duration release_wait = std::chrono::minutes(2);
    core::Duration topology_window = std::chrono::minutes(10);
    std::vector<ParentDef> parents;
    std::vector<StormRule> storms;
    FlappingConfig flapping;
    std::vector<MaintenanceWindow> maintenance_windows;  // inline ones, then the file's
    std::string maintenance_windows_file;                // resolved path; "" none
    std::vector<SuppressRule> suppress;
    std::vector<InhibitRule> inhibit_rules;
    std::vector<PolicyRule> policy;
    PolicyAction default_action = PolicyAction::kRecord;
    std::vector<DigestDef> digests;
    int line = 0;
};

}  // namespace alertbridge::config
