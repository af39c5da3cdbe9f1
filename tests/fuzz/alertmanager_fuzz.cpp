// Fuzz target: the Alertmanager decoders (API v2 and webhook v4, with both label-name
// rules) and the push encoder fed with what they accept. Invariants: an accepted alert,
// pushed and read back as Alertmanager would read it, is accepted again (no push is
// refused for one alert) and keeps its labels, annotations and start; and nothing crashes
// or wraps a time (UBSan).

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "adapters/alertmanager/codec.hpp"
#include "plugin/core/time.hpp"

using namespace alertbridge;

namespace {

const core::TimePoint kNow = core::parseRfc3339("2026-11-25T08:00:00Z").value();

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void roundTrip(const core::AlertBatch& alerts) {
    alertmanager::PushEncoder enc("am", "alertbridge_origin", "fuzz", 1000, true);
    std::vector<core::Alert> copies(alerts.begin(), alerts.end());
    std::vector<const core::Alert*> ptrs;
    for (auto& a : copies) {
        a.updated_at = kNow;
        ptrs.push_back(&a);
    }
    std::vector<state::OutboxKey> keys;
    std::string body = enc.encode(ptrs, &keys);
    // Each element's span, pushed alone as a coalesced backlog rebuilds it, is that alert.
    check(keys.size() == copies.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        std::string one = "[" + body.substr(keys[i].begin, keys[i].end - keys[i].begin) + "]";
        alertmanager::stampEndsAt(one, kNow + std::chrono::minutes(4));
        auto alone = alertmanager::decodeApiV2(one, kNow, {});
        check(alone.ok() && alone->alerts.size() == 1);
        auto labels = copies[i].labels;
        labels.set("alertbridge_origin", "fuzz");
        check(alone->alerts[0].labels == labels);
        check(keys[i].key == copies[i].labels.fingerprint());
    }
    alertmanager::stampEndsAt(body, kNow + std::chrono::minutes(4));
    auto back = alertmanager::decodeApiV2(body, kNow, {});
    check(back.ok());
    check(back->rejected.empty());
    check(back->alerts.size() == copies.size());
    for (std::size_t i = 0; i < copies.size(); ++i) {
        const auto& a = copies[i];
        const auto& b = back->alerts[i];
        auto labels = a.labels;
        labels.set("alertbridge_origin", "fuzz");
        check(b.labels == labels);
        check(b.annotations == a.annotations);
        // A start in the future is shown as no later than the alert was received.
        auto starts = std::min(a.starts_at, a.updated_at);
        if (a.ends_at) starts = std::min(starts, *a.ends_at);
        check(core::formatRfc3339(b.starts_at) == core::formatRfc3339(starts));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    for (auto names : {core::LabelNames::kUtf8, core::LabelNames::kLegacy}) {
        auto api = alertmanager::decodeApiV2(body, kNow, {std::chrono::minutes(5), names});
        if (api) roundTrip(api->alerts);
        auto hook = alertmanager::decodeWebhook(body, kNow, names);
        if (hook) {
            roundTrip(hook->alerts);
            for (const auto& a : hook->alerts) check(!a.ends_at || *a.ends_at <= kNow);
        }
    }
    return 0;
}
