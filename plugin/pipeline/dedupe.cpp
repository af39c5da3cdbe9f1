#include "plugin/pipeline/dedupe.hpp"

namespace alertbridge::pipeline {

Dedupe::Dedupe(AlertIndex& index, telemetry::Metrics& metrics)
    : index_(index),
      new_(metrics.dedupe("new")),
      changed_(metrics.dedupe("changed")),
      repeat_(metrics.dedupe("repeat")),
      resolved_(metrics.dedupe("resolved")),
      resolved_unknown_(metrics.dedupe("resolved_unknown")) {}

void Dedupe::run(core::AlertBatch& batch, Context& ctx) {
    core::AlertBatch out;
    out.reserve(batch.size());
    for (auto& a : batch) {
        const auto* entry = index_.find(a.fingerprint);
        core::Alert prev;
        bool known = entry != nullptr && decodeRecord(entry->bytes(), a.fingerprint, prev);
        if (known && prev.starts_at < a.starts_at) a.starts_at = prev.starts_at;

        if (a.resolvedAt(ctx.now)) {
            if (!known) {
                // Already resolved here, or never seen: nothing to tell anyone.
                resolved_unknown_.Increment();
                continue;
            }
            resolved_.Increment();
            index_.erase(a.fingerprint);
            // Resolve what the hosts were shown: the stored labels and annotations.
            prev.ends_at = a.ends_at;
            prev.updated_at = a.updated_at;
            prev.starts_at = a.starts_at;
            prev.change = core::Alert::Change::kResolve;
            out.push_back(std::move(prev));
            continue;
        }

        index_.put(a.fingerprint, encodeRecord(a));
        if (!known) {
            new_.Increment();
            a.change = core::Alert::Change::kNew;
            out.push_back(std::move(a));
        } else if (prev.labels != a.labels || prev.annotations != a.annotations ||
                   prev.generator_url != a.generator_url) {
            changed_.Increment();
            if (prev.labels != a.labels) a.superseded_labels = std::move(prev.labels);
            a.change = core::Alert::Change::kUpdate;
            out.push_back(std::move(a));
        } else {
            repeat_.Increment();
        }
    }
    batch.swap(out);
}

}  // namespace alertbridge::pipeline
