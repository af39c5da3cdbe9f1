#include "plugin/core/alert.hpp"

namespace alertbridge::core {

std::string_view sourceKindName(SourceKind k) {
    switch (k) {
        case SourceKind::kAlertmanagerApi:
            return "alertmanager_api";
        case SourceKind::kAlertmanagerWebhook:
            return "alertmanager_webhook";
        case SourceKind::kNightingale:
            return "nightingale";
        case SourceKind::kEmail:
            return "email";
    }
    return "unknown";
}

}  // namespace alertbridge::core
