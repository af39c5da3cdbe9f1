#pragma once
// Notification: one message about a group of alerts to one receiver, and why it went. The
// engine hands these out with its effects; `replay` writes them. Two kinds: a state sink's
// push (the receiver and the group are the output, the reason comes from what dedupe saw)
// and a message to people from the incident stage (to_people: a page, an update, a repeat,
// a resolution or a digest).

#include <string>
#include <string_view>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/label_set.hpp"

namespace alertbridge::core {

enum class NotifyReason : std::uint8_t { kNew, kUpdate, kRepeat, kEscalate, kResolve, kDigest };

inline std::string_view notifyReasonName(NotifyReason r) {
    switch (r) {
        case NotifyReason::kNew:
            return "new";
        case NotifyReason::kUpdate:
            return "update";
        case NotifyReason::kRepeat:
            return "repeat";
        case NotifyReason::kEscalate:
            return "escalate";
        case NotifyReason::kResolve:
            return "resolve";
        case NotifyReason::kDigest:
            return "digest";
    }
    return "update";
}

struct NotifiedAlert {
    Fingerprint fingerprint = 0;
    bool resolved = false;
    // Set on messages to people (the incident stage fills them): the alert as it was told,
    // for the notification sinks' bodies. Empty on a state sink's push.
    LabelSet labels;
    LabelSet annotations;
    TimePoint starts_at{};
    TimePoint ends_at{};  // when resolved
};

struct Notification {
    TimePoint at{};
    std::string key;  // the outbox row's stable key (see state::NotificationMeta)
    std::string receiver;
    std::string group_key;
    NotifyReason reason = NotifyReason::kNew;
    int step = 0;
    std::vector<NotifiedAlert> alerts;
    // A message to people (an incident's page, update, repeat or resolution, or a digest),
    // as opposed to a state sink's push, which mirrors state and reaches no one.
    bool to_people = false;
    std::uint64_t incident = 0;  // the incident it is about (0: none, or a digest)
};

}  // namespace alertbridge::core
