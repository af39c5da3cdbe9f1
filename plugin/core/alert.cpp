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

Fingerprint identityFingerprint(const Alert& a) {
    if (!a.identity.empty()) return LabelSet{{"__identity__", a.identity}}.fingerprint();
    if (!a.identity_labels.empty()) return a.identity_labels.fingerprint();
    return a.labels.fingerprint();
}

}  // namespace alertbridge::core
