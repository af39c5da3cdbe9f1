#pragma once
// Alert: one alert as it moves through the pipeline. Provenance lives in `origin`, never in
// `labels`. A plain value type owned by whichever stage holds the batch.

#include <optional>
#include <string>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/label_set.hpp"
#include "plugin/core/severity.hpp"

namespace alertbridge::core {

// Which input produced an alert. Also the `source_kind` label value after normalize.
enum class SourceKind : std::uint8_t {
    kAlertmanagerApi = 0,
    kAlertmanagerWebhook = 1,
    kNightingale = 2,
    kEmail = 3,
};
std::string_view sourceKindName(SourceKind k);

struct Origin {
    std::string input;  // input id, e.g. "alertmanager_api"
    SourceKind kind = SourceKind::kAlertmanagerApi;
    TimePoint received_at{};
    long long journal_id = 0;  // the journal row holding the raw request (audit reference)
};

struct Alert {
    LabelSet labels;
    LabelSet annotations;
    TimePoint starts_at{};
    std::optional<TimePoint> ends_at;  // unset = firing until resolved
    TimePoint updated_at{};
    std::string generator_url;
    Origin origin;
    // Set by inputs whose host names an alert by something other than its labels (n9e's
    // event hash). When set, the fingerprint is derived from it, so that a firing event and
    // its recovery are one alert even if their tags differ.
    std::string identity;
    // Set by inputs that name an alert by some of its labels (an email rule's identity
    // labels). When set, the fingerprint is Alertmanager's fingerprint of these labels.
    LabelSet identity_labels;

    // Set by dedupe when an active alert comes again with other labels (a CMDB owner that
    // changed, a vendor mail with a new severity): the label set the hosts were shown
    // until now. An output whose host names alerts by their labels (Alertmanager) resolves
    // that copy in the same request. Never persisted.
    std::optional<LabelSet> superseded_labels;

    // Set by dedupe (and expiry): what this alert is news of. Never persisted.
    enum class Change : std::uint8_t { kNone, kNew, kUpdate, kResolve };
    Change change = Change::kNone;

    // Set by normalize.
    Fingerprint fingerprint = 0;
    Severity severity = Severity::kWarning;

    bool resolvedAt(TimePoint now) const { return ends_at.has_value() && *ends_at <= now; }
};

using AlertBatch = std::vector<Alert>;

// What a decoder made of one body: the alerts it could read, and one message for each alert
// it could not (naming its index and field). One bad alert never costs the others: a host
// that sent a group must not lose the whole group to one odd label. A body that cannot be
// read at all is an error instead.
struct Decoded {
    AlertBatch alerts;
    std::vector<std::string> rejected;
};

// The fingerprint that names the alert: from `identity`, else `identity_labels`, else all
// the labels as the sender gave them (Alertmanager's fingerprint).
Fingerprint identityFingerprint(const Alert& a);

}  // namespace alertbridge::core
