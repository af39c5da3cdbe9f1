#include "plugin/app/outbox_coalescer.hpp"

#include <algorithm>

namespace alertbridge::app {

void OutboxCoalescer::add(const std::vector<state::PendingKeys>& rows) {
    for (const auto& r : rows) {
        for (const auto& k : r.keys) {
            auto& newest = newest_[k.key];
            newest = std::max(newest, r.id);
        }
        scanned_ = std::max(scanned_, r.id);
    }
}

bool OutboxCoalescer::superseded(const state::OutboxRow& row, const state::OutboxKey& k) const {
    auto it = newest_.find(k.key);
    return it != newest_.end() && it->second > row.id;
}

SendPlan OutboxCoalescer::plan(const std::vector<state::OutboxRow>& rows,
                               std::size_t max_alerts) const {
    SendPlan p;
    for (const auto& r : rows) {
        std::size_t live = 0;
        for (const auto& k : r.keys) live += superseded(r, k) ? 0 : 1;
        if (!r.keys.empty() && live == 0) {
            p.superseded_ids.push_back(r.id);
            p.left_out_unsent += r.keys.size();
            continue;
        }
        // A row without keys (written before they existed) or with all of them live goes
        // out whole; alert_count counts alerts, not the extra element of a relabelled one.
        bool whole =
            r.keys.empty() || live == r.keys.size() || r.body.empty() || r.body.front() != '[';
        std::size_t alerts = whole ? static_cast<std::size_t>(r.alert_count) : live;
        if (!p.send_ids.empty() && p.alerts + alerts > max_alerts) break;
        p.send_ids.push_back(r.id);
        p.alerts += alerts;
        if (whole) {
            p.bodies.push_back(r.body);
            continue;
        }
        std::string& body = p.rebuilt.emplace_back("[");
        for (const auto& k : r.keys) {
            if (superseded(r, k)) {
                ++p.left_out_sent;
                continue;
            }
            if (body.size() > 1) body += ',';
            body.append(r.body, k.begin, k.end - k.begin);
        }
        body += ']';
        p.bodies.emplace_back(body);
    }
    return p;
}

void OutboxCoalescer::finished(const std::vector<state::OutboxRow>& rows,
                               const std::vector<long long>& ids) {
    for (const auto& r : rows) {
        if (std::find(ids.begin(), ids.end(), r.id) == ids.end()) continue;
        for (const auto& k : r.keys) {
            auto it = newest_.find(k.key);
            if (it != newest_.end() && it->second == r.id) newest_.erase(it);
        }
    }
}

}  // namespace alertbridge::app
