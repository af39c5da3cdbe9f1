#include "adapters/webhook/codec.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/core/time.hpp"

namespace alertbridge::webhook {

namespace {

bool isResolved(const core::Alert& a) { return a.change == core::Alert::Change::kResolve; }

// The pairs every alert of the notification shares (Alertmanager's commonLabels and
// commonAnnotations): the first alert's pairs that each other alert has with the same value.
core::LabelSet common(const std::vector<const core::Alert*>& alerts,
                      const core::LabelSet core::Alert::*field) {
    core::LabelSet out;
    if (alerts.empty()) return out;
    for (const auto& [k, v] : alerts.front()->*field) {
        bool shared = true;
        for (std::size_t i = 1; i < alerts.size() && shared; ++i) {
            const auto* other = (alerts[i]->*field).get(k);
            shared = other != nullptr && *other == v;
        }
        if (shared) out.set(k, v);
    }
    return out;
}

}  // namespace

std::string NotificationEncoder::encode(const std::vector<const core::Alert*>& alerts,
                                        std::vector<state::OutboxKey>* /*keys*/) const {
    return body(alerts, nullptr);
}

std::string NotificationEncoder::encodeMessage(
    const core::Notification& message, const std::vector<const core::Alert*>& alerts) const {
    return body(alerts, &message);
}

std::string NotificationEncoder::body(const std::vector<const core::Alert*>& alerts,
                                      const core::Notification* message) const {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&w](std::string_view s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    // The marker goes on every alert, so a webhook pointed back at an alertbridge intake
    // (its own or a peer's) is recognised there and never loops.
    auto labels = [&](const core::LabelSet& set) {
        w.StartObject();
        for (const auto& [k, v] : set) {
            if (k == marker_label_) continue;
            str(k);
            str(v);
        }
        str(marker_label_);
        str(marker_value_);
        w.EndObject();
    };
    auto pairs = [&](const core::LabelSet& set) {
        w.StartObject();
        for (const auto& [k, v] : set) {
            str(k);
            str(v);
        }
        w.EndObject();
    };
    bool any_firing = false;
    for (const auto* a : alerts) any_firing = any_firing || !isResolved(*a);
    const std::size_t shown =
        max_alerts_ == 0 ? alerts.size() : std::min(alerts.size(), max_alerts_);

    w.StartObject();
    w.Key("version");
    str("4");
    // A message about an incident names it; without incidents the output is the group.
    w.Key("groupKey");
    str(message != nullptr ? message->group_key : name_);
    w.Key("truncatedAlerts");
    w.Uint64(alerts.size() - shown);
    w.Key("status");
    str(any_firing ? "firing" : "resolved");
    w.Key("receiver");
    str(message != nullptr ? message->receiver : name_);
    w.Key("groupLabels");
    w.StartObject();
    w.EndObject();
    w.Key("commonLabels");
    labels(common(alerts, &core::Alert::labels));
    w.Key("commonAnnotations");
    pairs(common(alerts, &core::Alert::annotations));
    w.Key("externalURL");
    str(external_url_);
    w.Key("alerts");
    w.StartArray();
    for (std::size_t i = 0; i < shown; ++i) {
        const auto& a = *alerts[i];
        const bool resolved = isResolved(a);
        w.StartObject();
        w.Key("status");
        str(resolved ? "resolved" : "firing");
        w.Key("labels");
        labels(a.labels);
        w.Key("annotations");
        pairs(a.annotations);
        w.Key("startsAt");
        str(core::formatRfc3339(a.starts_at));
        // Alertmanager's zero time for "no end yet".
        w.Key("endsAt");
        if (resolved) {
            str(core::formatRfc3339(a.ends_at.value_or(a.updated_at)));
        } else {
            str("0001-01-01T00:00:00Z");
        }
        w.Key("generatorURL");
        str(a.generator_url);
        w.Key("fingerprint");
        str(core::fingerprintHex(a.fingerprint));
        w.EndObject();
    }
    w.EndArray();
    if (message != nullptr) {
        // What Alertmanager's body has no field for: why this message, and about what.
        w.Key("alertbridge");
        w.StartObject();
        w.Key("reason");
        str(core::notifyReasonName(message->reason));
        w.Key("incident");
        w.Uint64(message->incident);
        w.Key("step");
        w.Int(message->step);
        w.EndObject();
    }
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
}

}  // namespace alertbridge::webhook
