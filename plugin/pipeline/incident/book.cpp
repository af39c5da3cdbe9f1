#include "plugin/pipeline/incident/book.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "plugin/core/time.hpp"

namespace alertbridge::pipeline::incident {

namespace {

constexpr std::size_t kTimelineHead = 20;  // the first entries are kept, then the latest
constexpr std::size_t kTimelineMax = 60;

std::string_view valueOf(const core::LabelSet& labels, const std::string& name) {
    const auto* v = labels.get(name);
    return v != nullptr ? std::string_view(*v) : std::string_view{};
}

}  // namespace

IncidentBook::IncidentBook(std::shared_ptr<const NoiseRules> rules, telemetry::Metrics* metrics)
    : rules_(std::move(rules)), metrics_(metrics) {
    digest_queue_.resize(rules_->config().digests.size());
    digest_at_.assign(rules_->config().digests.size(), core::TimePoint::max());
    inhibit_sources_.resize(rules_->config().inhibit_rules.size());
}

void IncidentBook::reconfigure(std::shared_ptr<const NoiseRules> rules, core::TimePoint now) {
    rules_ = std::move(rules);
    const auto& cfg = rules_->config();
    // Queued digest entries follow their digest by name; those of a removed one go to the
    // first digest (or are dropped when there is none).
    std::vector<std::map<std::string, std::vector<DigestEntry>>> queue(cfg.digests.size());
    if (!cfg.digests.empty()) {
        for (auto& per_group : digest_queue_) {
            for (auto& [group, entries] : per_group) {
                auto& to = queue.front()[group];
                to.insert(to.end(), entries.begin(), entries.end());
            }
        }
    }
    digest_queue_ = std::move(queue);
    digest_at_.assign(cfg.digests.size(), core::TimePoint::max());
    for (std::size_t d = 0; d < cfg.digests.size(); ++d) digest_at_[d] = nextDigestAt(d, now);
    // Inhibit sources are counted afresh from what fires now.
    inhibit_sources_.assign(cfg.inhibit_rules.size(), {});
    for (const auto& [id, inc] : open_) {
        for (const auto& [fp, m] : inc.members) {
            if (m.firing) countInhibitSources(m.labels, 1);
        }
    }
    edge_at_ = rules_->nextWindowEdge(now);
}

std::uint64_t IncidentBook::incidentOf(core::Fingerprint fp) const {
    auto it = by_fp_.find(fp);
    return it == by_fp_.end() ? 0 : resolveId(it->second);
}

IncidentBook::Id IncidentBook::resolveId(Id id) const {
    for (auto it = merged_into_.find(id); it != merged_into_.end(); it = merged_into_.find(id)) {
        id = it->second;
    }
    return id;
}

void IncidentBook::observe(const core::AlertBatch& changes, core::TimePoint now,
                           std::vector<core::Notification>* out) {
    // A digest with nothing queued had no timer: its next time moves on to after now.
    for (std::size_t d = 0; d < digest_at_.size(); ++d) {
        bool queued = false;
        for (const auto& [g, entries] : digest_queue_[d]) queued = queued || !entries.empty();
        if (digest_at_[d] == core::TimePoint::max() || (!queued && digest_at_[d] <= now)) {
            digest_at_[d] = nextDigestAt(d, now);
        }
    }
    if (!edge_at_ || *edge_at_ <= now) edge_at_ = rules_->nextWindowEdge(now);
    bool any_resolved = false;
    for (const auto& a : changes) {
        switch (a.change) {
            case core::Alert::Change::kNew:
                fired(a, now);
                break;
            case core::Alert::Change::kUpdate:
                updated(a, now);
                break;
            case core::Alert::Change::kResolve:
                resolved(a.fingerprint, now);
                any_resolved = true;
                break;
            case core::Alert::Change::kNone:
                break;
        }
    }
    // A resolved source may free the targets it inhibited.
    if (any_resolved && !held_.empty() && !rules_->config().inhibit_rules.empty()) reheld(now);
    advance(now, out);  // a group_wait of 0 pages now, not at the next event
}

std::size_t IncidentBook::flips(core::Fingerprint fp, core::TimePoint now) {
    const auto& f = rules_->config().flapping;
    if (f.threshold == 0) return 0;
    auto& q = changes_[fp];
    q.push_back(now);
    while (!q.empty() && q.front() + f.window < now) q.pop_front();
    return q.size();
}

void IncidentBook::fired(const core::Alert& a, core::TimePoint now, bool counts_as_change) {
    const auto& cfg = rules_->config();
    const std::size_t changes = counts_as_change ? flips(a.fingerprint, now) : 0;
    if (auto it = by_fp_.find(a.fingerprint); it != by_fp_.end()) {
        auto found = open_.find(resolveId(it->second));
        if (found != open_.end()) {
            // It fired before and its incident is still open: it rejoins, and is news again
            // only when it got worse.
            auto& inc = found->second;
            auto& m = inc.members[a.fingerprint];
            const auto before = m.severity;
            if (!m.firing) {
                m.firing = true;
                ++inc.firing;
                countInhibitSources(a.labels, 1);
            }
            m.labels = a.labels;
            m.annotations = a.annotations;
            m.starts_at = a.starts_at;
            m.severity = a.severity;
            m.changed_at = now;
            if (cfg.flapping.threshold > 0 && changes >= cfg.flapping.threshold) {
                if (!inc.flapping) {
                    inc.flapping = true;
                    note(inc, now,
                         fmt::format("flapping: {} changed {} times within {}",
                                     core::fingerprintHex(a.fingerprint), changes,
                                     core::formatDuration(cfg.flapping.window)));
                }
                absorbed("flapping:flapping");
            }
            decide(inc, m, now);
            if (a.severity < before) m.notified = false;  // critical is 0: it got worse
            review(inc, now);
            return;
        }
    }
    std::string via;
    Id id = place(a, now, via);
    {
        auto& inc = open_.at(id);
        core::IncidentMember m;
        m.fingerprint = a.fingerprint;
        m.labels = a.labels;
        m.annotations = a.annotations;
        m.starts_at = a.starts_at;
        m.severity = a.severity;
        m.joined_at = m.changed_at = now;
        m.via = via;
        for (const auto& l : rules_->links(a.labels)) {
            if (l.self) m.root_rank = std::min(m.root_rank, l.rank);
        }
        auto& added = inc.members[a.fingerprint] = std::move(m);
        ++inc.firing;
        by_fp_[a.fingerprint] = id;
        countInhibitSources(a.labels, 1);  // decide() runs with every firing member counted
        decide(inc, added, now);
        note(inc, now, fmt::format("{} fired ({})", core::fingerprintHex(a.fingerprint), via));
    }
    countStorms(a, id, now);
    auto& inc = open_.at(resolveId(id));
    retitle(inc);
    review(inc, now);
}

void IncidentBook::absorbed(const std::string& rule, std::uint64_t n) {
    stats_.absorbed[rule] += n;
    if (metrics_ != nullptr) metrics_->noiseAlerts(rule).Increment(static_cast<double>(n));
}

void IncidentBook::counted(std::string_view event) {
    if (metrics_ == nullptr) return;
    metrics_->incidents(event).Increment();
    metrics_->openIncidents().Set(static_cast<double>(open_.size()));
}

void IncidentBook::updated(const core::Alert& a, core::TimePoint now) {
    auto it = by_fp_.find(a.fingerprint);
    if (it == by_fp_.end()) {
        fired(a, now);  // firing before this book knew it (a reload that enabled noise)
        return;
    }
    auto found = open_.find(resolveId(it->second));
    if (found == open_.end()) return;
    auto& inc = found->second;
    auto& m = inc.members[a.fingerprint];
    const auto before = m.severity;
    if (m.firing) countInhibitSources(m.labels, -1);
    m.labels = a.labels;
    m.annotations = a.annotations;
    m.severity = a.severity;
    m.changed_at = now;
    if (m.firing) countInhibitSources(m.labels, 1);
    decide(inc, m, now);
    if (a.severity < before) m.notified = false;
    retitle(inc);
    review(inc, now);
}

void IncidentBook::resolved(core::Fingerprint fp, core::TimePoint now) {
    auto it = by_fp_.find(fp);
    if (it == by_fp_.end()) return;
    auto found = open_.find(resolveId(it->second));
    if (found == open_.end()) return;
    auto& inc = found->second;
    auto& m = inc.members[fp];
    flips(fp, now);
    if (!m.firing) return;
    m.firing = false;
    m.changed_at = now;
    countInhibitSources(m.labels, -1);
    held_.erase({inc.id, fp});
    --inc.firing;
    settle(inc, now);
    rearm(inc);
}

std::size_t IncidentBook::relevantFiring(const core::Incident& inc) {
    // What it was notified for must still fire: noise that joined a paged incident does
    // not keep it open (or repeating) once the alerts that paged are resolved.
    const auto floor = inc.paged      ? core::NotifyLevel::kPage
                       : inc.digested ? core::NotifyLevel::kDigest
                                      : core::NotifyLevel::kRecord;
    std::size_t n = 0;
    for (const auto& [fp, m] : inc.members) n += m.firing && m.wanted >= floor ? 1 : 0;
    return n;
}

void IncidentBook::settle(core::Incident& inc, core::TimePoint now) {
    if (relevantFiring(inc) > 0) {
        inc.resolve_at.reset();
        return;
    }
    if (inc.resolve_at) return;
    const auto& cfg = rules_->config();
    auto wait = cfg.resolve_wait;
    if (inc.flapping) wait = std::max(wait, cfg.flapping.settle);
    inc.resolve_at = now + wait;
}

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

void IncidentBook::decide(core::Incident& inc, core::IncidentMember& m, core::TimePoint now) {
    std::string held = rules_->heldBy(m.labels, now);
    if (held.empty()) held = inhibitedBy(m.labels, m.fingerprint, now);
    auto p = rules_->policy(m.labels, now);
    m.wanted = p.level;
    m.policy_rule = std::move(p.rule);
    m.receiver = std::move(p.receiver);
    m.digest = std::move(p.digest);
    if (!held.empty() && held != m.suppressed) absorbed(held);
    m.suppressed = std::move(held);
    if (!m.suppressed.empty() && m.wanted != core::NotifyLevel::kRecord) {
        held_.insert({inc.id, m.fingerprint});
        if (!held_check_ || *held_check_ < now) held_check_ = now + std::chrono::minutes(1);
    } else {
        held_.erase({inc.id, m.fingerprint});
    }
}

void IncidentBook::retitle(core::Incident& inc) {
    const core::IncidentMember* best = nullptr;
    for (const auto& [fp, m] : inc.members) {
        if (best == nullptr || m.root_rank < best->root_rank ||
            (m.root_rank == best->root_rank &&
             (m.severity < best->severity ||
              (m.severity == best->severity && m.joined_at < best->joined_at)))) {
            best = &m;
        }
    }
    if (best == nullptr) return;
    std::string what(valueOf(best->labels, "alertname"));
    for (const char* name : {"device", "host", "link", "cluster", "service", "instance"}) {
        auto v = valueOf(best->labels, name);
        if (!v.empty()) {
            what += fmt::format(" {}={}", name, v);
            break;
        }
    }
    if (inc.storm) {
        inc.title = fmt::format("storm in {}: {} alerts, first {}", inc.group_key,
                                inc.members.size(), what);
    } else if (inc.members.size() > 1) {
        inc.title = fmt::format("{} and {} more", what, inc.members.size() - 1);
    } else {
        inc.title = what;
    }
}

void IncidentBook::note(core::Incident& inc, core::TimePoint at, std::string what) {
    if (inc.timeline.size() >= kTimelineMax) {
        inc.timeline.erase(inc.timeline.begin() + static_cast<std::ptrdiff_t>(kTimelineHead));
    }
    inc.timeline.push_back(core::TimelineEntry{at, std::move(what)});
}

std::string IncidentBook::inhibitedBy(const core::LabelSet& labels, core::Fingerprint,
                                      core::TimePoint now) const {
    const auto& rules = rules_->config().inhibit_rules;
    for (std::size_t r = 0; r < rules.size(); ++r) {
        const auto& ir = rules[r];
        if (!core::matchesAll(ir.target_matchers, labels)) continue;
        std::string key;
        for (const auto& e : ir.equal) key += fmt::format("{}\x1f", valueOf(labels, e));
        auto it = inhibit_sources_[r].find(key);
        if (it == inhibit_sources_[r].end()) continue;
        // Every firing alert is counted, this one too: it does not inhibit itself.
        std::size_t self = core::matchesAll(ir.source_matchers, labels) ? 1 : 0;
        if (it->second > self && rules_->inhibitActive(r, labels, now)) return "inhibit:" + ir.name;
    }
    return "";
}

void IncidentBook::countInhibitSources(const core::LabelSet& labels, int delta) {
    const auto& rules = rules_->config().inhibit_rules;
    for (std::size_t r = 0; r < rules.size() && r < inhibit_sources_.size(); ++r) {
        const auto& ir = rules[r];
        if (!core::matchesAll(ir.source_matchers, labels)) continue;
        std::string key;
        for (const auto& e : ir.equal) key += fmt::format("{}\x1f", valueOf(labels, e));
        auto& n = inhibit_sources_[r][key];
        if (delta > 0) {
            ++n;
        } else if (n > 0 && --n == 0) {
            inhibit_sources_[r].erase(key);
        }
    }
}

void IncidentBook::reheld(core::TimePoint now) {
    auto held = held_;
    for (const auto& [id, fp] : held) {
        auto it = open_.find(resolveId(id));
        if (it == open_.end()) {
            held_.erase({id, fp});
            continue;
        }
        auto& inc = it->second;
        auto m = inc.members.find(fp);
        if (m == inc.members.end() || !m->second.firing) {
            held_.erase({id, fp});
            continue;
        }
        decide(inc, m->second, now);
        // Released: notified if it still fires release_wait later.
        if (m->second.suppressed.empty()) review(inc, now, rules_->config().release_wait);
    }
}

}  // namespace alertbridge::pipeline::incident
