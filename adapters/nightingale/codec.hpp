#pragma once
// Nightingale (n9e) codecs: AlertCurEvent bodies <-> Alert, with no I/O. Pure functions and
// an immutable encoder; safe from any thread.
//
// Intake mapping (documented for users in config-examples/nightingale/README.md):
//   labels      tags_map, or the "k=v" strings of tags when there is no map; names are made
//               valid label names ([^a-zA-Z0-9_] -> _), empty values dropped
//               + rulename, rule_id, cluster, ident (target_ident), alertname (= rule_name)
//               + severity: 1, 2, 3 -> critical, warning, info
//   annotations annotations, plus rule_note, trigger_value (as value) and runbook_url
//   starts_at   first_trigger_time, else trigger_time (Unix seconds)
//   ends_at     last_eval_time when is_recovered is true; unset while firing
//   identity    hash + first_trigger_time: a firing event and its recovery are one alert
// Contacts (notify_users_obj, notify_groups_obj), callback URLs and notify rule bodies are
// never read, and scrubBody() removes them before the body is journaled.

#include <string>
#include <string_view>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/core/alert.hpp"
#include "plugin/core/result.hpp"
#include "plugin/pipeline/output.hpp"

namespace alertbridge::nightingale {

inline constexpr std::string_view kInput = "nightingale";

// One AlertCurEvent object, or a JSON array of them (batch webhooks, v8+ Callback channel).
// An event that cannot be read is listed in `rejected`; the others are kept.
core::Result<core::Decoded> decodeEvents(std::string_view body, core::TimePoint received_at);

// The body without the fields that carry personal data or credentials; what is journaled.
core::Result<std::string> scrubBody(std::string_view body);

// n9e renders rule_name, rule_note and annotation values as Go templates: "{{" must be
// written so that it renders as itself.
std::string escapeTemplate(std::string_view text);

// The stable event hash alertbridge uses for an alert pushed to n9e: 32 hex digits.
std::string eventHash(std::string_view instance, core::Fingerprint fp);

// Encodes one alert as the body of POST /v1/n9e/event.
class EventEncoder final : public pipeline::OutputEncoder {
  public:
    EventEncoder(const config::NightingaleOutput& cfg, std::string marker_label,
                 std::string instance)
        : cfg_(cfg), marker_label_(std::move(marker_label)), instance_(std::move(instance)) {}
    const std::string& name() const override { return cfg_.name; }
    std::size_t maxAlertsPerRow() const override { return 1; }
    bool showsIncidents() const override { return cfg_.incidents.incident_alerts; }
    bool showsMembers() const override { return cfg_.incidents.member_alerts; }
    using OutputEncoder::encode;
    std::string encode(const std::vector<const core::Alert*>& alerts,
                       std::vector<state::OutboxKey>* keys) const override;

  private:
    const config::NightingaleOutput& cfg_;
    std::string marker_label_;
    std::string instance_;
};

}  // namespace alertbridge::nightingale
