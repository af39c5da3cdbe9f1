#include "plugin/pipeline/deliver.hpp"

#include <algorithm>

namespace alertbridge::pipeline {

std::vector<state::OutboxInsert> encodeRows(const OutputEncoder& encoder,
                                            const std::vector<const core::Alert*>& alerts) {
    std::vector<state::OutboxInsert> rows;
    const std::size_t per_row = std::max<std::size_t>(1, encoder.maxAlertsPerRow());
    for (std::size_t i = 0; i < alerts.size(); i += per_row) {
        std::vector<const core::Alert*> chunk(
            alerts.begin() + static_cast<std::ptrdiff_t>(i),
            alerts.begin() + static_cast<std::ptrdiff_t>(std::min(alerts.size(), i + per_row)));
        rows.push_back(state::OutboxInsert{encoder.name(), encoder.encode(chunk),
                                           static_cast<int>(chunk.size())});
    }
    return rows;
}

void Deliver::run(core::AlertBatch& batch, Context& ctx) {
    if (batch.empty()) return;
    std::vector<const core::Alert*> ptrs;
    ptrs.reserve(batch.size());
    for (const auto& a : batch) ptrs.push_back(&a);
    for (const auto& out : outputs_) {
        for (auto& row : encodeRows(*out, ptrs)) ctx.delta.outbox.push_back(std::move(row));
    }
}

}  // namespace alertbridge::pipeline
