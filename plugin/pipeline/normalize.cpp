#include "plugin/pipeline/normalize.hpp"

namespace alertbridge::pipeline {

void Normalize::run(core::AlertBatch& batch, Context& ctx) {
    for (auto& a : batch) {
        // Identity first, over the labels exactly as the sender gave them, so that the same
        // alert has the same fingerprint here and in Alertmanager.
        a.fingerprint = core::identityFingerprint(a);
        a.updated_at = ctx.now;

        const std::string* raw = a.labels.get(cfg_.severity_label);
        a.severity =
            raw ? cfg_.severity_map.map(*raw, cfg_.default_severity) : cfg_.default_severity;
        auto name = core::severityName(a.severity);
        if (raw == nullptr || *raw != name) {
            if (raw != nullptr) a.annotations.set("severity_raw", *raw);
            a.labels.set(cfg_.severity_label, name);
        }
        if (!cfg_.source_label.empty() && !a.labels.contains(cfg_.source_label)) {
            a.labels.set(cfg_.source_label, core::sourceKindName(a.origin.kind));
        }
    }
}

core::Alert normalized(const config::NormalizeConfig& cfg, core::Alert alert, core::TimePoint at) {
    core::AlertBatch batch{std::move(alert)};
    state::StateDelta delta;
    Context ctx{at, delta};
    Normalize(cfg).run(batch, ctx);
    return std::move(batch.front());
}

}  // namespace alertbridge::pipeline
