// IncidentBook: where an alert goes (rejoin, storm, group, parent), merges and storms
// (see book.hpp). Split from book.cpp so each file holds one idea.
#include <algorithm>

#include <fmt/format.h>

#include "plugin/core/time.hpp"
#include "plugin/pipeline/incident/book.hpp"

namespace alertbridge::pipeline::incident {
IncidentBook::Id IncidentBook::place(const core::Alert& a, core::TimePoint now, std::string& via) {
    const auto& cfg = rules_->config();
    std::set<Id> found;
    // A storm holds what happens in its scope. An alert from outside that would page is
    // not pulled in through a group or a parent: it pages on its own.
    std::vector<std::string> scopes;
    for (std::size_t r = 0; r < cfg.storms.size(); ++r) {
        if (auto sc = rules_->stormScope(r, a.labels, now)) scopes.push_back(std::move(*sc));
    }
    const bool pages = rules_->policy(a.labels, now).level == core::NotifyLevel::kPage;
    auto consider = [&](Id id, std::string why) {
        id = resolveId(id);
        auto it = open_.find(id);
        if (it == open_.end()) return false;
        if (it->second.storm && pages &&
            std::find(scopes.begin(), scopes.end(), it->second.group_key) == scopes.end()) {
            return true;  // still open, just not for this alert
        }
        if (found.insert(id).second && via.empty()) via = std::move(why);
        return true;
    };
    for (const auto& scope : scopes) {
        auto it = storms_.find(scope);
        if (it == storms_.end() || it->second.incident == 0) continue;
        if (it->second.last + it->second.window < now) continue;
        consider(it->second.incident, "storm:" + it->second.rule);
    }
    const std::string group = rules_->groupKey(a.labels, a.fingerprint);
    if (auto it = by_group_.find(group); it != by_group_.end()) {
        if (!consider(it->second, "group")) by_group_.erase(it);
    }
    const auto links = rules_->links(a.labels);
    for (const auto& l : links) {
        auto it = by_link_.find(l.key);
        if (it == by_link_.end()) continue;
        auto& ids = it->second;
        ids.erase(std::remove_if(ids.begin(), ids.end(),
                                 [&](const auto& e) {
                                     return open_.count(resolveId(e.first)) == 0 ||
                                            e.second + cfg.topology_window < now;
                                 }),
                  ids.end());
        for (const auto& e : ids) consider(e.first, "parent:" + l.key);
    }
    Id id = 0;
    if (found.empty()) {
        via = "new";
        id = openIncident(group, links.empty() ? "alert" : "topology", now);
    } else {
        id = survivor(found);
        for (Id other : found) {
            if (other != id) merge(id, other, now, via);
        }
        if (via.rfind("parent:", 0) == 0) absorbed("topology:" + via.substr(7, via.find('=') - 7));
        if (via == "group") absorbed("group:group_by");
    }
    auto g = by_group_.find(group);
    if (g == by_group_.end() || open_.count(resolveId(g->second)) == 0) by_group_[group] = id;
    // Only an alert the policy would tell someone about opens a parent's window: noise
    // joins a burst but never starts one (else a disk warning nine minutes before a
    // switch fails would close the switch's window early).
    const bool opens = pages || rules_->policy(a.labels, now).level != core::NotifyLevel::kRecord;
    for (const auto& l : links) {
        if (!opens) break;
        auto& ids = by_link_[l.key];
        bool named = false;
        for (const auto& e : ids) named = named || resolveId(e.first) == id;
        if (!named) ids.emplace_back(id, now);
    }
    return id;
}

// Which of several incidents the others merge into: the first one people were told about
// (they know its id), else the oldest.
IncidentBook::Id IncidentBook::survivor(const std::set<Id>& ids) const {
    Id best = 0;
    std::optional<core::TimePoint> best_told;
    for (Id id : ids) {
        auto it = open_.find(id);
        if (it == open_.end()) continue;
        const auto& told = it->second.first_notified_at;
        if (best == 0 || (told && (!best_told || *told < *best_told))) {
            if (best == 0 || told) {
                best = id;
                best_told = told;
            }
        }
    }
    return best;
}

IncidentBook::Id IncidentBook::openIncident(const std::string& group_key, const std::string& kind,
                                            core::TimePoint now) {
    Id id = next_id_++;
    core::Incident inc;
    inc.id = id;
    inc.group_key = group_key;
    inc.kind = kind;
    inc.created_at = now;
    open_.emplace(id, std::move(inc));
    ++stats_.opened;
    counted("opened");
    return id;
}

void IncidentBook::merge(Id into, Id from, core::TimePoint now, const std::string& why) {
    auto src_it = open_.find(from);
    if (src_it == open_.end() || into == from) return;
    core::Incident src = std::move(src_it->second);
    open_.erase(src_it);
    auto& dst = open_.at(into);
    for (auto& [fp, m] : src.members) {
        by_fp_[fp] = into;
        if (held_.erase({from, fp}) > 0) held_.insert({into, fp});
        dst.members.try_emplace(fp, std::move(m));
    }
    dst.firing = 0;
    for (const auto& [fp, m] : dst.members) dst.firing += m.firing ? 1 : 0;
    dst.resolve_at.reset();
    dst.paged = dst.paged || src.paged;
    dst.digested = dst.digested || src.digested;
    dst.flapping = dst.flapping || src.flapping;
    if (dst.receiver.empty()) dst.receiver = src.receiver;
    auto earliest = [](std::optional<core::TimePoint>& a, const std::optional<core::TimePoint>& b) {
        if (b && (!a || *b < *a)) a = b;
    };
    earliest(dst.first_notified_at, src.first_notified_at);
    earliest(dst.repeat_at, src.repeat_at);
    if (src.last_notified_at &&
        (!dst.last_notified_at || *dst.last_notified_at < *src.last_notified_at)) {
        dst.last_notified_at = src.last_notified_at;
    }
    dst.messages += src.messages;
    note(dst, now, fmt::format("incident {} merged in ({})", from, why));
    changed_.insert(from);  // shown resolved at the hosts: its members are in `into` now
    merged_into_[from] = into;
    if (auto w = wake_at_.find(from); w != wake_at_.end()) {
        wakes_.erase({w->second, from});
        wake_at_.erase(w);
    }
    ++stats_.merged;
    counted("merged");
    // What is pending is decided afresh: a merged-in page does not jump the group interval
    // of a paged incident, and a first page already queued is not put off.
    auto queued = dst.due;
    earliest(queued, src.due);
    dst.due.reset();
    review(dst, now);
    if (!dst.paged && queued && dst.due && *queued < *dst.due) {
        dst.due = queued;
        rearm(dst);
    }
}

void IncidentBook::countStorms(const core::Alert& a, Id id, core::TimePoint now) {
    const auto& cfg = rules_->config();
    for (std::size_t r = 0; r < cfg.storms.size(); ++r) {
        const auto& rule = cfg.storms[r];
        auto scope = rules_->stormScope(r, a.labels, now);
        if (!scope) continue;
        auto& st = storms_[*scope];
        st.recent.emplace_back(now, a.fingerprint);
        while (!st.recent.empty() && st.recent.front().first + rule.window < now) {
            st.recent.pop_front();
        }
        const Id mine = resolveId(id);
        const Id storm = st.incident != 0 ? resolveId(st.incident) : 0;
        if (storm != 0 && open_.count(storm) != 0 && st.last + rule.window >= now) {
            st.last = now;
            if (mine != storm) merge(storm, mine, now, "storm:" + rule.name);
            id = storm;
            continue;
        }
        if (st.recent.size() <= rule.threshold) continue;
        // The storm starts: one incident takes every alert of the window in this scope. If
        // one of them was already paged, that one becomes the storm (people know its id).
        std::set<Id> parts;
        for (const auto& [t, fp] : st.recent) {
            if (auto f = by_fp_.find(fp); f != by_fp_.end()) parts.insert(resolveId(f->second));
        }
        Id sid = survivor(parts);
        if (sid == 0 || !open_.at(sid).paged) sid = openIncident(*scope, "storm", now);
        auto& inc = open_.at(sid);
        inc.group_key = *scope;
        inc.kind = "storm";
        inc.storm = true;
        inc.why = "storm:" + rule.name;
        note(inc, now,
             fmt::format("storm: {} new alerts within {} in {}", st.recent.size(),
                         core::formatDuration(rule.window), *scope));
        for (const auto& [t, fp] : st.recent) {
            auto f = by_fp_.find(fp);
            if (f == by_fp_.end()) continue;
            Id other = resolveId(f->second);
            if (other != sid && open_.count(other) != 0) merge(sid, other, now, inc.why);
        }
        absorbed("storm:" + rule.name, st.recent.size());
        st.incident = sid;
        st.last = now;
        st.rule = rule.name;
        st.window = rule.window;
        id = sid;
    }
}

}  // namespace alertbridge::pipeline::incident
