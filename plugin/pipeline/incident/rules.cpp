#include "plugin/pipeline/incident/rules.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace alertbridge::pipeline::incident {

namespace {

std::string_view valueOf(const core::LabelSet& labels, const std::string& name) {
    auto v = labels.get(name);
    return v ? *v : std::string_view{};
}

}  // namespace

NoiseRules::NoiseRules(const config::NoiseConfig& noise,
                       const std::vector<calendar::TimeInterval>& intervals)
    : cfg_(noise), intervals_(intervals) {
    for (const auto& s : cfg_.storms) storm_times_.push_back(compile(s.times));
    for (const auto& s : cfg_.suppress) suppress_times_.push_back(compile(s.times));
    for (const auto& s : cfg_.inhibit_rules) inhibit_times_.push_back(compile(s.times));
    for (const auto& s : cfg_.policy) policy_times_.push_back(compile(s.times));
    for (const auto& w : cfg_.maintenance_windows) {
        edges_.push_back(w.start);
        edges_.push_back(w.end);
    }
    std::sort(edges_.begin(), edges_.end());
}

NoiseRules::CompiledTimes NoiseRules::compile(const config::RuleTimes& t) const {
    CompiledTimes out;
    auto find = [&](const std::string& name) -> const calendar::TimeInterval* {
        for (const auto& ti : intervals_) {
            if (ti.name == name) return &ti;
        }
        return nullptr;  // the loader checked every name; a miss cannot happen
    };
    for (const auto& n : t.active_time_intervals) {
        if (const auto* ti = find(n)) out.active.push_back(ti);
    }
    for (const auto& n : t.mute_time_intervals) {
        if (const auto* ti = find(n)) out.mute.push_back(ti);
    }
    return out;
}

bool NoiseRules::applies(const CompiledTimes& t, const core::LabelSet& labels,
                         core::TimePoint now) {
    for (const auto* ti : t.mute) {
        if (calendar::matches(*ti, now, &labels, calendar::Purpose::kMute)) return false;
    }
    if (t.active.empty()) return true;
    for (const auto* ti : t.active) {
        if (calendar::matches(*ti, now, &labels, calendar::Purpose::kActive)) return true;
    }
    return false;
}

std::string NoiseRules::groupKey(const core::LabelSet& labels, core::Fingerprint fp) const {
    if (cfg_.group_by.empty()) return "alert:" + core::fingerprintHex(fp);
    std::string key = "group:";
    for (const auto& name : cfg_.group_by) {
        key += name;
        key += '=';
        key += valueOf(labels, name);
        key += ',';
    }
    key.pop_back();
    return key;
}

std::vector<Link> NoiseRules::links(const core::LabelSet& labels) const {
    std::vector<Link> out;
    for (std::size_t rank = 0; rank < cfg_.parents.size(); ++rank) {
        const auto& p = cfg_.parents[rank];
        if (!core::matchesAll(p.matchers, labels)) continue;
        for (std::size_t i = 0; i < p.labels.size(); ++i) {
            std::string_view v = valueOf(labels, p.labels[i]);
            auto add = [&](std::string_view one) {
                if (one.empty()) return;
                std::string key = fmt::format("{}={}", p.name, one);
                for (auto& l : out) {
                    if (l.key == key) {
                        l.self = l.self || i == 0;
                        return;
                    }
                }
                out.push_back(Link{std::move(key), i == 0, rank});
            };
            if (p.separator.empty()) {
                add(v);
                continue;
            }
            std::size_t from = 0;
            while (from <= v.size()) {
                auto to = v.find(p.separator, from);
                if (to == std::string_view::npos) to = v.size();
                add(v.substr(from, to - from));
                from = to + p.separator.size();
            }
        }
    }
    return out;
}

std::optional<std::string> NoiseRules::stormScope(std::size_t rule, const core::LabelSet& labels,
                                                  core::TimePoint now) const {
    const auto& s = cfg_.storms[rule];
    if (!core::matchesAll(s.matchers, labels)) return std::nullopt;
    std::string key = s.name;
    for (const auto& name : s.scope) {
        auto v = valueOf(labels, name);
        if (v.empty()) return std::nullopt;  // outside every scope of this rule
        key += fmt::format(",{}={}", name, v);
    }
    if (!applies(storm_times_[rule], labels, now)) return std::nullopt;
    return key;
}

std::string NoiseRules::heldBy(const core::LabelSet& labels, core::TimePoint now) const {
    for (const auto& w : cfg_.maintenance_windows) {
        if (now >= w.start && now < w.end && core::matchesAll(w.matchers, labels)) {
            return "maintenance:" + w.name;
        }
    }
    for (std::size_t i = 0; i < cfg_.suppress.size(); ++i) {
        const auto& s = cfg_.suppress[i];
        if (core::matchesAll(s.matchers, labels) && applies(suppress_times_[i], labels, now)) {
            return "suppress:" + s.name;
        }
    }
    return "";
}

PolicyDecision NoiseRules::policy(const core::LabelSet& labels, core::TimePoint now) const {
    auto level = [](config::PolicyAction a) { return static_cast<core::NotifyLevel>(a); };
    auto first_digest = [&]() { return cfg_.digests.empty() ? "" : cfg_.digests.front().name; };
    for (std::size_t i = 0; i < cfg_.policy.size(); ++i) {
        const auto& p = cfg_.policy[i];
        if (!core::matchesAll(p.matchers, labels) || !applies(policy_times_[i], labels, now)) {
            continue;
        }
        return PolicyDecision{level(p.action), p.name, p.receiver,
                              p.digest.empty() ? first_digest() : p.digest};
    }
    return PolicyDecision{level(cfg_.default_action), "", "oncall", first_digest()};
}

bool NoiseRules::inhibitActive(std::size_t rule, const core::LabelSet& labels,
                               core::TimePoint now) const {
    return applies(inhibit_times_[rule], labels, now);
}

std::optional<core::TimePoint> NoiseRules::nextWindowEdge(core::TimePoint now) const {
    auto it = std::upper_bound(edges_.begin(), edges_.end(), now);
    if (it == edges_.end()) return std::nullopt;
    return *it;
}

}  // namespace alertbridge::pipeline::incident
