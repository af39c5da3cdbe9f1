#include "plugin/pipeline/deliver.hpp"

#include "plugin/pipeline/incident/publish.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

namespace alertbridge::pipeline {

std::vector<state::OutboxInsert> encodeRows(
    const OutputEncoder& encoder, const std::vector<const core::Alert*>& all,
    std::vector<std::pair<const core::Alert*, std::string>>* refused,
    std::vector<std::vector<const core::Alert*>>* chunks) {
    std::vector<const core::Alert*> alerts;
    alerts.reserve(all.size());
    for (const auto* a : all) {
        // Not news for an output that is told only of problems (send_resolved: false).
        if (a->change == core::Alert::Change::kResolve && !encoder.sendsResolved()) continue;
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
        state::OutboxInsert row{encoder.name(), "", static_cast<int>(chunk.size()), {}, {}};
        row.body = encoder.encode(chunk, &row.keys);
        // A state sink's push: the output is the receiver and the group (until incidents
        // route notifications to people), and it goes at once.
        row.meta.receiver = encoder.name();
        row.meta.group_key = encoder.name();
        row.meta.reason = core::notifyReasonName(reasonOf(chunk));
        rows.push_back(std::move(row));
        if (chunks != nullptr) chunks->push_back(std::move(chunk));
    }
    return rows;
}

core::NotifyReason reasonOf(const std::vector<const core::Alert*>& row) {
    bool all_resolved = true, any_new = false;
    for (const auto* a : row) {
        all_resolved = all_resolved && a->change == core::Alert::Change::kResolve;
        any_new = any_new || a->change == core::Alert::Change::kNew;
    }
    if (all_resolved) return core::NotifyReason::kResolve;
    return any_new ? core::NotifyReason::kNew : core::NotifyReason::kUpdate;
}

core::Notification notice(const std::string& output, const std::vector<const core::Alert*>& row,
                          core::TimePoint at) {
    core::Notification n{at, "", output, output, reasonOf(row), 0, {}};
    for (const auto* a : row) {
        core::NotifiedAlert told;
        told.fingerprint = a->fingerprint;
        told.resolved = a->change == core::Alert::Change::kResolve;
        n.alerts.push_back(std::move(told));
    }
    return n;
}

void messageRows(const std::vector<std::shared_ptr<const OutputEncoder>>& outputs,
                 const std::vector<core::Notification>& messages, state::StateDelta& delta) {
    for (const auto& n : messages) {
        std::vector<core::Alert> alerts;
        alerts.reserve(n.alerts.size());
        for (const auto& t : n.alerts) {
            core::Alert a;
            a.fingerprint = t.fingerprint;
            a.labels = t.labels;
            a.annotations = t.annotations;
            a.starts_at = t.starts_at;
            if (t.resolved) a.ends_at = t.ends_at;
            a.updated_at = n.at;
            a.change = t.resolved ? core::Alert::Change::kResolve : core::Alert::Change::kNew;
            alerts.push_back(std::move(a));
        }
        std::vector<const core::Alert*> ptrs;
        ptrs.reserve(alerts.size());
        for (const auto& a : alerts) ptrs.push_back(&a);
        for (const auto& out : outputs) {
            if (out->kind() != OutputKind::kNotification) continue;
            if (n.reason == core::NotifyReason::kResolve && !out->sendsResolved()) continue;
            state::OutboxInsert row{
                out->name(), out->encodeMessage(n, ptrs), static_cast<int>(ptrs.size()), {}, {}};
            row.meta.receiver = n.receiver;
            row.meta.group_key = n.group_key;
            row.meta.reason = core::notifyReasonName(n.reason);
            row.meta.step = n.step;
            delta.outbox.push_back(std::move(row));
        }
    }
}

void Deliver::run(core::AlertBatch& batch, Context& ctx) {
    if (batch.empty()) return;
    std::vector<const core::Alert*> ptrs;
    ptrs.reserve(batch.size());
    // With incidents, every alert is shown as a member of its incident.
    core::AlertBatch members;
    bool mark = false;
    for (const auto& out : outputs_) {
        mark = mark || (out->kind() == OutputKind::kState && out->showsMembers());
    }
    if (book_ != nullptr && !mark) return;  // nothing shows the alerts themselves
    if (book_ != nullptr) {
        members = batch;
        for (auto& a : members) {
            const auto* m = book_->member(a.fingerprint);
            incident::markMember(a, book_->incidentOf(a.fingerprint),
                                 m != nullptr ? std::string_view(m->suppressed) : "");
        }
    }
    for (const auto& a : book_ != nullptr ? members : batch) ptrs.push_back(&a);
    std::vector<std::pair<const core::Alert*, std::string>> refused;
    std::vector<std::vector<const core::Alert*>> chunks;
    bool to_state = false;
    for (const auto& out : outputs_) {
        if (book_ != nullptr &&
            (out->kind() == OutputKind::kNotification || !out->showsMembers())) {
            continue;
        }
        to_state = to_state || out->kind() == OutputKind::kState;
        refused.clear();
        chunks.clear();
        auto* want = ctx.notifications != nullptr ? &chunks : nullptr;
        for (auto& row : encodeRows(*out, ptrs, &refused, want)) {
            ctx.delta.outbox.push_back(std::move(row));
        }
        for (const auto& c : chunks) ctx.notifications->push_back(notice(out->name(), c, ctx.now));
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
    // The state outputs were just shown these versions: their next re-send can wait a round.
    if (index_ != nullptr && to_state) {
        const auto second =
            std::chrono::floor<std::chrono::seconds>(ctx.now).time_since_epoch().count();
        for (const auto& a : batch) {
            if (a.change != core::Alert::Change::kResolve) index_->markShown(a.fingerprint, second);
        }
    }
}

}  // namespace alertbridge::pipeline
