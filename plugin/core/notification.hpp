#pragma once
// Notification: one message about a group of alerts to one receiver, and why it went. The
// engine hands these out with its effects; `replay` writes them, and the notification log
// of the incident work will record them. For now a state sink's push is the message: the
// receiver and the group are the output, and the reason comes from what dedupe saw.

#include <string>
#include <string_view>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/label_set.hpp"

namespace alertbridge::core {

enum class NotifyReason : std::uint8_t { kNew, kUpdate, kRepeat, kEscalate, kResolve };

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
    }
    return "update";
}

struct NotifiedAlert {
    Fingerprint fingerprint = 0;
    bool resolved = false;
};

struct Notification {
    TimePoint at{};
    std::string key;  // the outbox row's stable key (see state::NotificationMeta)
    std::string receiver;
    std::string group_key;
    NotifyReason reason = NotifyReason::kNew;
    int step = 0;
    std::vector<NotifiedAlert> alerts;
};

}  // namespace alertbridge::core
