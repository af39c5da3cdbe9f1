#include "plugin/pipeline/runner.hpp"

#include "plugin/pipeline/dedupe.hpp"
#include "plugin/pipeline/deliver.hpp"
#include "plugin/pipeline/normalize.hpp"

namespace alertbridge::pipeline {

Pipeline::Pipeline(const config::Config& config, telemetry::Metrics& metrics,
                   std::vector<std::shared_ptr<const OutputEncoder>> outputs)
    : metrics_(metrics), outputs_(std::move(outputs)) {
    // The flow of ARCHITECTURE.md. Later stages (enrich, suppress, aggregate, route,
    // escalate) slot in between dedupe and deliver.
    stages_.push_back(std::make_unique<Normalize>(config.normalize));
    stages_.push_back(std::make_unique<Dedupe>(index_, metrics));
    stages_.push_back(std::make_unique<Deliver>(outputs_));
    deliver_ = stages_.back().get();
    metrics_.active_alerts().Set(0);
}

state::StateDelta Pipeline::process(core::AlertBatch batch, long long journal_id,
                                    core::TimePoint now) {
    state::StateDelta delta;
    Context ctx{now, delta};
    for (auto& stage : stages_) {
        if (batch.empty()) break;
        stage->run(batch, ctx);
    }
    if (journal_id > 0) delta.journal_processed.push_back(journal_id);
    metrics_.active_alerts().Set(static_cast<double>(index_.size()));
    return delta;
}

state::StateDelta Pipeline::expire(core::TimePoint now) {
    std::vector<core::Fingerprint> ended;
    index_.forEach([&](core::Fingerprint fp, const AlertIndex::Entry& e) {
        auto ends = e.endsAt();
        if (ends && *ends <= now) ended.push_back(fp);
    });
    state::StateDelta delta;
    if (ended.empty()) return delta;
    core::AlertBatch batch;
    batch.reserve(ended.size());
    for (auto fp : ended) {
        core::Alert a;
        if (decodeRecord(index_.find(fp)->bytes(), fp, a)) {
            a.updated_at = now;  // the resolution is news as of now
            batch.push_back(std::move(a));
        }
        index_.erase(fp);
        delta.deletes.push_back(fp);
    }
    metrics_.alerts_expired().Increment(static_cast<double>(ended.size()));
    Context ctx{now, delta};
    deliver_->run(batch, ctx);
    metrics_.active_alerts().Set(static_cast<double>(index_.size()));
    return delta;
}

std::vector<state::OutboxInsert> Pipeline::resend(std::size_t output, std::size_t slice,
                                                  std::size_t slices) const {
    std::vector<core::Alert> alerts;
    index_.forEach([&](core::Fingerprint fp, const AlertIndex::Entry& e) {
        if (slices > 1 && fp % slices != slice) return;
        core::Alert a;
        if (decodeRecord(e.bytes(), fp, a)) alerts.push_back(std::move(a));
    });
    std::vector<const core::Alert*> ptrs;
    ptrs.reserve(alerts.size());
    for (const auto& a : alerts) ptrs.push_back(&a);
    return encodeRows(*outputs_.at(output), ptrs);
}

bool Pipeline::restore(core::Fingerprint fp, std::string_view record) {
    core::Alert a;
    if (!decodeRecord(record, fp, a)) return false;
    index_.put(fp, record);
    metrics_.active_alerts().Set(static_cast<double>(index_.size()));
    return true;
}

}  // namespace alertbridge::pipeline
