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

const core::IncidentMember* IncidentBook::member(core::Fingerprint fp) const {
    auto it = by_fp_.find(fp);
    if (it == by_fp_.end()) return nullptr;
    auto inc = open_.find(resolveId(it->second));
    if (inc == open_.end()) return nullptr;
    auto m = inc->second.members.find(fp);
    return m == inc->second.members.end() ? nullptr : &m->second;
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
    changed_.insert(inc.id);
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

void IncidentBook::decide(core::Incident& inc, core::IncidentMember& m, core::TimePoint now) {
    std::string held = rules_->heldBy(m.labels, now);
    if (held.empty()) {
        auto silence = silences_.mutedBy(m.labels, now);
        if (!silence.empty()) held = "silence:" + silence;
    }
    if (held.empty()) held = inhibitedBy(m.labels, m.fingerprint, now);
    auto p = rules_->policy(m.labels, now);
    m.wanted = p.level;
    m.policy_rule = std::move(p.rule);
    m.receiver = std::move(p.receiver);
    m.digest = std::move(p.digest);
    // Silences are counted together: their ids would make a metric series each.
    if (!held.empty() && held != m.suppressed) {
        absorbed(held.starts_with("silence:") ? std::string("silence") : held);
    }
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
    changed_.insert(inc.id);
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
