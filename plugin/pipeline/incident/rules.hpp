#pragma once
// NoiseRules: the `noise:` config compiled for the incident stage. Pure questions about one
// alert at one instant: which group and parents it has, whether a maintenance window or a
// suppress rule holds it, and what the notification policy wants for it. Immutable once
// built; the time intervals it names are copied in, so it outlives any config.

#include <optional>
#include <string>
#include <vector>

#include "plugin/calendar/intervals.hpp"
#include "plugin/config/config.hpp"
#include "plugin/core/incident.hpp"

namespace alertbridge::pipeline::incident {

// A parent an alert names: "<parent rule>=<value>", and whether the alert is the parent
// itself (it names it under the rule's first label).
struct Link {
    std::string key;
    bool self = false;
    std::size_t rank = 0;  // the parent rule's place in the config (earlier: more basic)
};

struct PolicyDecision {
    core::NotifyLevel level = core::NotifyLevel::kRecord;
    std::string rule;  // "" : the default action
    std::string receiver;
    std::string digest;
};

class NoiseRules {
  public:
    NoiseRules(const config::NoiseConfig& noise,
               const std::vector<calendar::TimeInterval>& intervals);

    const config::NoiseConfig& config() const { return cfg_; }

    // The group key: the group_by labels' values, or the fingerprint when group_by is empty.
    std::string groupKey(const core::LabelSet& labels, core::Fingerprint fp) const;
    std::vector<Link> links(const core::LabelSet& labels) const;
    // A storm rule's scope key for this alert ("" : the rule does not count it).
    std::optional<std::string> stormScope(std::size_t rule, const core::LabelSet& labels,
                                          core::TimePoint now) const;

    // "maintenance:<name>" or "suppress:<name>" when one holds the alert now, else "".
    std::string heldBy(const core::LabelSet& labels, core::TimePoint now) const;
    PolicyDecision policy(const core::LabelSet& labels, core::TimePoint now) const;
    // Whether an inhibit rule applies now (its times).
    bool inhibitActive(std::size_t rule, const core::LabelSet& labels, core::TimePoint now) const;

    // The next start or end of a maintenance window after `now`, if any.
    std::optional<core::TimePoint> nextWindowEdge(core::TimePoint now) const;

  private:
    struct CompiledTimes {
        std::vector<const calendar::TimeInterval*> active;
        std::vector<const calendar::TimeInterval*> mute;
    };
    CompiledTimes compile(const config::RuleTimes& t) const;
    static bool applies(const CompiledTimes& t, const core::LabelSet& labels, core::TimePoint now);

    config::NoiseConfig cfg_;
    std::vector<calendar::TimeInterval> intervals_;
    std::vector<CompiledTimes> storm_times_, suppress_times_, inhibit_times_, policy_times_;
    std::vector<core::TimePoint> edges_;  // every window start and end, sorted
};

}  // namespace alertbridge::pipeline::incident
