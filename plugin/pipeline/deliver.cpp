#include "plugin/pipeline/deliver.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace alertbridge::pipeline {

std::vector<state::OutboxInsert> encodeRows(
    const OutputEncoder& encoder, const std::vector<const core::Alert*>& all,
    std::vector<std::pair<const core::Alert*, std::string>>* refused) {
    std::vector<const core::Alert*> alerts;
    alerts.reserve(all.size());
    for (const auto* a : all) {
        if (auto why = encoder.refuses(*a); !why.empty()) {
            if (refused != nullptr) refused->emplace_back(a, std::move(why));
            continue;
        }
        alerts.push_back(a);
    }
    std::vector<state::OutboxInsert> rows;
    const std::size_t per_row = std::max<std::size_t>(1, encoder.maxAlertsPerRow());
    for (std::size_t i = 0; i < alerts.size(); i += per_row) {
        std::vector<const core::Alert*> chunk(
            alerts.begin() + static_cast<std::ptrdiff_t>(i),
            alerts.begin() + static_cast<std::ptrdiff_t>(std::min(alerts.size(), i + per_row)));
        state::OutboxInsert row{encoder.name(), "", static_cast<int>(chunk.size()), {}};
        row.body = encoder.encode(chunk, &row.keys);
        rows.push_back(std::move(row));
    }
    return rows;
}

void Deliver::run(core::AlertBatch& batch, Context& ctx) {
    if (batch.empty()) return;
    std::vector<const core::Alert*> ptrs;
    ptrs.reserve(batch.size());
    for (const auto& a : batch) ptrs.push_back(&a);
    std::vector<std::pair<const core::Alert*, std::string>> refused;
    for (const auto& out : outputs_) {
        refused.clear();
        for (auto& row : encodeRows(*out, ptrs, &refused)) {
            ctx.delta.outbox.push_back(std::move(row));
        }
        if (refused.empty()) continue;
        metrics_.output(out->name())
            .alerts_unsupported->Increment(static_cast<double>(refused.size()));
        // The first, then one in a thousand: a sender that keeps posting such alerts must
        // not flood the log.
        if (refused_ % 1000 == 0) {
            spdlog::warn(
                "An alert cannot be taken by an output and is left out of its pushes. "
                "output={} fingerprint={} reason=\"{}\" left_out_so_far={}",
                out->name(), core::fingerprintHex(refused.front().first->fingerprint),
                refused.front().second, refused_ + refused.size());
        }
        refused_ += refused.size();
    }
}

}  // namespace alertbridge::pipeline
