// IncidentBook's timers and the messages they send (see book.hpp).
#include <algorithm>

#include <date/tz.h>
#include <fmt/format.h>

#include "plugin/pipeline/incident/book.hpp"

namespace alertbridge::pipeline::incident {

namespace {

core::NotifiedAlert told(core::Fingerprint fp, const core::IncidentMember& m, bool resolved) {
    return core::NotifiedAlert{fp,          resolved,
                               m.labels,    m.annotations,
                               m.starts_at, resolved ? m.changed_at : core::TimePoint{}};
}

constexpr std::size_t kClosedKept = 1000;
constexpr auto kHeldCheck = std::chrono::minutes(1);

std::string_view valueOf(const core::LabelSet& labels, const std::string& name) {
    const auto* v = labels.get(name);
    return v != nullptr ? std::string_view(*v) : std::string_view{};
}

}  // namespace

std::optional<core::TimePoint> IncidentBook::nextDeadline() const {
    std::optional<core::TimePoint> next;
    auto consider = [&](core::TimePoint t) {
        if (!next || t < *next) next = t;
    };
    if (!wakes_.empty()) consider(wakes_.begin()->first);
    for (std::size_t d = 0; d < digest_at_.size(); ++d) {
        bool queued = false;
        for (const auto& [g, entries] : digest_queue_[d]) queued = queued || !entries.empty();
        if (queued && digest_at_[d] != core::TimePoint::max()) consider(digest_at_[d]);
    }
    if (held_check_ && !held_.empty()) consider(*held_check_);
    if (edge_at_ && !held_.empty()) consider(*edge_at_);
    if (silence_edge_) consider(*silence_edge_);
    return next;
}

void IncidentBook::advance(core::TimePoint now, std::vector<core::Notification>* out) {
    for (;;) {
        auto next = nextDeadline();
        if (!next || *next > now) break;
        const auto t = *next;
        if (!wakes_.empty() && wakes_.begin()->first == t) {
            Id id = wakes_.begin()->second;
            wakes_.erase(wakes_.begin());
            wake_at_.erase(id);
            wake(id, t, out);
            continue;
        }
        bool done = false;
        for (std::size_t d = 0; d < digest_at_.size() && !done; ++d) {
            if (digest_at_[d] == t) {
                sendDigests(d, t, out);
                digest_at_[d] = nextDigestAt(d, t);
                done = true;
            }
        }
        if (done) continue;
        if (silence_edge_ && *silence_edge_ == t) {
            resilence(t);  // moves silence_edge_ on
            continue;
        }
        // A window edge or the minute's check: held members are decided again.
        if (edge_at_ && *edge_at_ == t) edge_at_ = rules_->nextWindowEdge(t);
        if (held_check_ && *held_check_ <= t) held_check_ = t + kHeldCheck;
        reheld(t);
        if (held_.empty()) held_check_.reset();
    }
    // Digests with nothing queued still move on, so the next one is on its own schedule.
    for (std::size_t d = 0; d < digest_at_.size(); ++d) {
        while (digest_at_[d] <= now) digest_at_[d] = nextDigestAt(d, digest_at_[d]);
    }
    if (edge_at_ && *edge_at_ <= now) edge_at_ = rules_->nextWindowEdge(now);
}

void IncidentBook::review(core::Incident& inc, core::TimePoint now, core::Duration wait) {
    const auto& cfg = rules_->config();
    bool page = false, digest = false;
    for (const auto& [fp, m] : inc.members) {
        if (!m.firing || m.notified) continue;
        const auto level = m.level();
        page = page || level == core::NotifyLevel::kPage;
        digest = digest || level == core::NotifyLevel::kDigest;
    }
    if (page) {
        core::TimePoint t = now + std::max(cfg.group_wait, wait);
        if (inc.paged && inc.last_notified_at) {
            t = std::max(t, *inc.last_notified_at + cfg.group_interval);
        }
        if (!inc.due || t < *inc.due) inc.due = t;
    } else if (digest && !inc.paged && !inc.digest_queued) {
        queueDigest(inc, false);
    }
    settle(inc, now);
    rearm(inc);
}

void IncidentBook::rearm(core::Incident& inc) {
    std::optional<core::TimePoint> t;
    for (const auto& c : {inc.due, inc.resolve_at, inc.repeat_at}) {
        if (c && (!t || *c < *t)) t = c;
    }
    auto it = wake_at_.find(inc.id);
    if (it != wake_at_.end()) {
        if (t && *t == it->second) return;
        wakes_.erase({it->second, inc.id});
        wake_at_.erase(it);
    }
    if (!t) return;
    wakes_.insert({*t, inc.id});
    wake_at_[inc.id] = *t;
}

void IncidentBook::wake(Id id, core::TimePoint now, std::vector<core::Notification>* out) {
    auto it = open_.find(id);
    if (it == open_.end()) return;
    auto& inc = it->second;
    if (inc.due && *inc.due <= now) {
        inc.due.reset();
        bool page = false;
        for (const auto& [fp, m] : inc.members) {
            if (m.firing && !m.notified && m.level() == core::NotifyLevel::kPage) {
                page = true;
                if (inc.receiver.empty()) inc.receiver = m.receiver;
            }
        }
        if (page)
            send(inc, inc.paged ? core::NotifyReason::kUpdate : core::NotifyReason::kNew, now, out);
    }
    if (inc.resolve_at && *inc.resolve_at <= now) {
        inc.resolve_at.reset();
        if (relevantFiring(inc) == 0) {
            close(inc, now, out);
            return;
        }
    }
    if (inc.repeat_at && *inc.repeat_at <= now) {
        inc.repeat_at.reset();
        if (inc.paged && relevantFiring(inc) > 0) send(inc, core::NotifyReason::kRepeat, now, out);
    }
    rearm(inc);
}

void IncidentBook::send(core::Incident& inc, core::NotifyReason reason, core::TimePoint now,
                        std::vector<core::Notification>* out) {
    core::Notification n;
    n.at = now;
    n.to_people = true;
    n.incident = inc.id;
    n.reason = reason;
    n.receiver = inc.receiver.empty() ? "oncall" : inc.receiver;
    n.group_key = fmt::format("incident/{}", inc.id);
    n.key = fmt::format("incident/{}/{}", inc.id, ++inc.messages);
    for (auto& [fp, m] : inc.members) {
        if (reason == core::NotifyReason::kResolve) {
            n.alerts.push_back(told(fp, m, true));
        } else if (m.firing && m.suppressed.empty()) {
            // A held member (silence, maintenance, inhibit, suppress) is not told; it is
            // when it is released and still fires.
            n.alerts.push_back(told(fp, m, false));
            m.notified = true;
        }
    }
    ++sequence_;
    if (metrics_ != nullptr) metrics_->incidentMessages(core::notifyReasonName(reason)).Increment();
    inc.last_notified_at = now;
    if (!inc.first_notified_at) inc.first_notified_at = now;
    if (reason != core::NotifyReason::kResolve) {
        inc.paged = true;
        inc.repeat_at = now + rules_->config().repeat_interval;
    }
    note(inc, now, fmt::format("{} to {}", core::notifyReasonName(reason), n.receiver));
    if (out != nullptr) out->push_back(std::move(n));
}

void IncidentBook::close(core::Incident& inc, core::TimePoint now,
                         std::vector<core::Notification>* out) {
    inc.state = core::IncidentState::kResolved;
    inc.resolved_at = now;
    if (inc.paged) {
        send(inc, core::NotifyReason::kResolve, now, out);
    } else if (inc.digested) {
        queueDigest(inc, true);
    }
    note(inc, now, "resolved");
    const Id id = inc.id;
    core::AlertBatch leftovers;  // still firing, but not what it was notified for
    for (const auto& [fp, m] : inc.members) {
        auto f = by_fp_.find(fp);
        if (f != by_fp_.end() && resolveId(f->second) == id) by_fp_.erase(f);
        held_.erase({id, fp});
        if (!m.firing) continue;
        countInhibitSources(m.labels, -1);
        core::Alert a;
        a.labels = m.labels;
        a.annotations = m.annotations;
        a.starts_at = m.starts_at;
        a.fingerprint = fp;
        a.severity = m.severity;
        leftovers.push_back(std::move(a));
    }
    if (auto g = by_group_.find(inc.group_key);
        g != by_group_.end() && resolveId(g->second) == id) {
        by_group_.erase(g);
    }
    // The change history of members that no longer change goes with it, so a long-running
    // book does not grow with every alert it ever saw. (Merges are kept: a queued digest
    // entry may name an incident merged into this one. They are few: one per merge.)
    for (const auto& [fp, m] : inc.members) {
        auto c = changes_.find(fp);
        if (c != changes_.end() && !c->second.empty() &&
            c->second.back() + rules_->config().flapping.window < now) {
            changes_.erase(c);
        }
    }
    if (auto w = wake_at_.find(id); w != wake_at_.end()) {
        wakes_.erase({w->second, id});
        wake_at_.erase(w);
    }
    ++stats_.resolved;
    if (on_close_) on_close_(inc);
    closed_.push_back(std::move(inc));
    open_.erase(id);
    counted("resolved");
    if (closed_.size() > kClosedKept) closed_.pop_front();
    // What still fires starts an incident of its own (its noise never paged anyone).
    for (const auto& a : leftovers) fired(a, now, false);
}

void IncidentBook::queueDigest(core::Incident& inc, bool resolution) {
    const auto& digests = rules_->config().digests;
    if (digests.empty()) return;
    // The digest and group of the first member that wants one (else the first member).
    const core::IncidentMember* who = nullptr;
    for (const auto& [fp, m] : inc.members) {
        if (who == nullptr ||
            (who->wanted != core::NotifyLevel::kDigest && m.wanted == core::NotifyLevel::kDigest)) {
            who = &m;
        }
    }
    std::size_t d = 0;
    for (std::size_t i = 0; i < digests.size(); ++i) {
        if (who != nullptr && digests[i].name == who->digest) d = i;
    }
    std::string group;
    for (const auto& name : digests[d].group_by) {
        if (!group.empty()) group += ',';
        group += fmt::format("{}={}", name, who != nullptr ? valueOf(who->labels, name) : "");
    }
    digest_queue_[d][group].push_back(DigestEntry{inc.id, resolution});
    if (!resolution) inc.digest_queued = true;
}

void IncidentBook::sendDigests(std::size_t d, core::TimePoint now,
                               std::vector<core::Notification>* out) {
    const auto& def = rules_->config().digests[d];
    for (auto& [group, entries] : digest_queue_[d]) {
        core::Notification n;
        n.at = now;
        n.to_people = true;
        n.reason = core::NotifyReason::kDigest;
        n.receiver = "digest:" + def.name;
        n.group_key = fmt::format("digest/{}/{}", def.name, group);
        std::set<Id> seen;
        for (const auto& e : entries) {
            const Id id = resolveId(e.incident);
            if (!seen.insert(id).second) continue;
            if (auto it = open_.find(id); it != open_.end()) {
                auto& inc = it->second;
                inc.digest_queued = false;
                if (inc.paged) continue;  // it has its own messages now
                for (auto& [fp, m] : inc.members) {
                    n.alerts.push_back(told(fp, m, !m.firing));
                    if (m.firing) m.notified = true;
                }
                inc.digested = true;
                if (!inc.first_notified_at) inc.first_notified_at = now;
                inc.last_notified_at = now;
                note(inc, now, "in digest " + n.group_key);
                continue;
            }
            // Closed since it was queued: listed as it ended.
            for (auto c = closed_.rbegin(); c != closed_.rend(); ++c) {
                if (c->id != id) continue;
                if (!c->paged) {
                    for (const auto& [fp, m] : c->members) n.alerts.push_back(told(fp, m, true));
                }
                break;
            }
        }
        if (n.alerts.empty()) continue;
        n.key = fmt::format("{}/{}", n.group_key, now.time_since_epoch().count());
        ++sequence_;
        if (metrics_ != nullptr) metrics_->incidentMessages("digest").Increment();
        if (out != nullptr) out->push_back(std::move(n));
    }
    digest_queue_[d].clear();
}

core::TimePoint IncidentBook::nextDigestAt(std::size_t d, core::TimePoint after) const {
    const auto& def = rules_->config().digests[d];
    if (def.zone != nullptr) {
        // Local midnight + offset + k * interval, from the day before (a late evening slot
        // may still be ahead) on; a local time a DST change skips maps to the change.
        const auto local = def.zone->to_local(after);
        const auto day = date::floor<date::days>(local);
        for (int k = -1; k <= 2; ++k) {
            for (auto t = def.offset; t < std::chrono::hours(24); t += def.interval) {
                const auto slot = def.zone->to_sys(day + date::days(k) + t, date::choose::earliest);
                if (slot > after) return core::TimePoint(slot.time_since_epoch());
            }
        }
    }
    // Every `interval` since the epoch (UTC), shifted by `offset`.
    const auto since = after.time_since_epoch() - def.offset;
    auto n = since / def.interval;
    auto at = core::TimePoint(n * def.interval + def.offset);
    while (at <= after) at += def.interval;
    return at;
}

}  // namespace alertbridge::pipeline::incident
