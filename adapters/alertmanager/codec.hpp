#pragma once
// Alertmanager codecs: bytes <-> Alert, with no I/O. Decoders validate each alert strictly
// and name the offending field and index; an alert that fails is listed in `rejected` and
// the others are kept, as Alertmanager keeps the valid alerts of a batch. A body that is
// not readable at all is an error. Pure functions and an immutable encoder; safe from any
// thread.

#include <string>
#include <string_view>

#include "plugin/core/alert.hpp"
#include "plugin/config/config.hpp"
#include "plugin/core/result.hpp"
#include "plugin/pipeline/output.hpp"

namespace alertbridge::alertmanager {

inline constexpr std::string_view kApiInput = "alertmanager_api";
inline constexpr std::string_view kWebhookInput = "alertmanager_webhook";

struct DecodeOptions {
    core::Duration resolve_timeout = std::chrono::minutes(5);
    core::LabelNames label_names = core::LabelNames::kUtf8;
};

// POST /api/v2/alerts body: a JSON array of postable alerts. Missing startsAt and endsAt
// are filled in as Alertmanager does, from `received_at` and `resolve_timeout`.
core::Result<core::Decoded> decodeApiV2(std::string_view body, core::TimePoint received_at,
                                        const DecodeOptions& options);

// Webhook v4 body (what Alertmanager's webhook receiver sends). Firing alerts carry
// Alertmanager's zero endsAt, which means "no end known".
core::Result<core::Decoded> decodeWebhook(std::string_view body, core::TimePoint received_at,
                                          core::LabelNames names);

// The placeholder firing alerts carry in stored push bodies; the transport replaces it
// with "now + TTL" at send time, so a row sent late still fires for the full TTL.
inline constexpr std::string_view kEndsAtPlaceholder = "9999-12-31T23:59:59.999Z";

// Encodes alerts as a POST /api/v2/alerts body with the marker label added.
class PushEncoder final : public pipeline::OutputEncoder {
  public:
    PushEncoder(std::string name, std::string marker_label, std::string marker_value,
                std::size_t max_per_row, bool utf8_label_names = false,
                config::IncidentDisplay display = {})
        : name_(std::move(name)),
          marker_label_(std::move(marker_label)),
          marker_value_(std::move(marker_value)),
          max_per_row_(max_per_row),
          utf8_label_names_(utf8_label_names),
          display_(display) {}
    const std::string& name() const override { return name_; }
    std::size_t maxAlertsPerRow() const override { return max_per_row_; }
    bool showsIncidents() const override { return display_.incident_alerts; }
    bool showsMembers() const override { return display_.member_alerts; }
    using OutputEncoder::encode;
    std::string encode(const std::vector<const core::Alert*>& alerts,
                       std::vector<state::OutboxKey>* keys) const override;
    // Without utf8_label_names, a label name outside [a-zA-Z_][a-zA-Z0-9_]* (Alertmanager
    // before 0.27 answers 400 to the whole push for one).
    std::string refuses(const core::Alert& a) const override;

  private:
    std::string name_;
    std::string marker_label_;
    std::string marker_value_;
    std::size_t max_per_row_;
    bool utf8_label_names_;
    config::IncidentDisplay display_;
};

// Replaces every placeholder endsAt in `body` with `ends_at`, in place.
void stampEndsAt(std::string& body, core::TimePoint ends_at);

}  // namespace alertbridge::alertmanager
