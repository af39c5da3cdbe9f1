#pragma once
// Webhook notifications: the first notification sink. Each notification goes out once as
// the JSON body Alertmanager's webhook receiver sends (version 4), which IM bridges,
// ticketing systems and scripts already read. No I/O; immutable; safe from any thread.
//
// A notification sink differs from a state sink (Alertmanager, Nightingale): its host keeps
// no copy of the alerts, so nothing is re-sent to keep a copy alive, and a row is never
// replaced by a newer one before it goes (people read each message in turn).

#include <string>

#include "plugin/config/config.hpp"
#include "plugin/pipeline/output.hpp"

namespace alertbridge::webhook {

class NotificationEncoder final : public pipeline::OutputEncoder {
  public:
    NotificationEncoder(const config::WebhookOutput& cfg, std::string marker_label,
                        std::string marker_value, std::string external_url)
        : name_(cfg.name),
          max_alerts_(cfg.max_alerts),
          send_resolved_(cfg.send_resolved),
          marker_label_(std::move(marker_label)),
          marker_value_(std::move(marker_value)),
          external_url_(std::move(external_url)) {}

    const std::string& name() const override { return name_; }
    pipeline::OutputKind kind() const override { return pipeline::OutputKind::kNotification; }
    // One message per notification: every alert of it is in the one body (the message
    // itself lists at most max_alerts and counts the rest in truncatedAlerts).
    std::size_t maxAlertsPerRow() const override { return kAllInOneRow; }
    bool sendsResolved() const override { return send_resolved_; }
    using OutputEncoder::encode;
    // The body of one notification (no keys: a notification is never coalesced).
    std::string encode(const std::vector<const core::Alert*>& alerts,
                       std::vector<state::OutboxKey>* keys) const override;

    // A message to people from the incident stage: its group and receiver, and an
    // "alertbridge" object with the reason and the incident.
    std::string encodeMessage(const core::Notification& message,
                              const std::vector<const core::Alert*>& alerts) const override;

    // Rows carry what the notification log records; the body gets it from there.
    static constexpr std::size_t kAllInOneRow = 1000000;

  private:
    std::string body(const std::vector<const core::Alert*>& alerts,
                     const core::Notification* message) const;

    std::string name_;
    std::size_t max_alerts_;  // 0: all
    bool send_resolved_;
    std::string marker_label_;
    std::string marker_value_;
    std::string external_url_;
};

}  // namespace alertbridge::webhook
