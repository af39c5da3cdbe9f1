#include "plugin/pipeline/enrich/enrich.hpp"

#include <fmt/format.h>

namespace alertbridge::pipeline {
namespace {

std::string quoted(std::string_view name, std::string_view value) {
    return fmt::format("{}=\"{}\"", name, value);
}

// Sets `name` unless the alert has it and the table may not overwrite.
void put(core::LabelSet& labels, const std::string& name, std::string_view value, bool overwrite) {
    if (value.empty()) return;  // an empty cell sets nothing
    if (!overwrite && labels.contains(name)) return;
    labels.set(name, value);
}

}  // namespace

std::string describeChange(const core::LabelSet& before, const core::LabelSet& after) {
    std::string out;
    auto add = [&](const std::string& s) {
        if (!out.empty()) out.push_back(' ');
        out += s;
    };
    for (const auto& [name, value] : after) {
        const std::string* old = before.get(name);
        if (old == nullptr) {
            add("+" + quoted(name, value));
        } else if (*old != value) {
            add(fmt::format("~{}: \"{}\" -> \"{}\"", name, *old, value));
        }
    }
    for (const auto& [name, value] : before) {
        if (!after.contains(name)) add("-" + name);
    }
    return out.empty() ? "no change" : out;
}

Enrich::Enrich(const config::EnrichConfig& cfg, Relabeler relabeler,
               std::shared_ptr<const TableSnapshots> tables, telemetry::Metrics& metrics)
    : cfg_(cfg),
      relabeler_(std::move(relabeler)),
      tables_(std::move(tables)),
      dropped_(metrics.enrichDropped()) {
    for (std::size_t i = 0; i < relabeler_.size(); ++i) {
        const auto& m = metrics.relabelRule(relabeler_.rule(i).name);
        rule_counters_.push_back({m.dropped, m.invalid_label});
    }
    for (const auto& t : cfg_.tables) {
        const auto& m = metrics.enrichTable(t.name);
        table_counters_.push_back({m.lookups.at("hit"), m.lookups.at("miss"),
                                   m.lookups.at("no_key"), m.lookups.at("bad_key"),
                                   m.lookups.at("not_loaded")});
    }
    for (std::size_t i = 0; i < cfg_.classify.size(); ++i) {
        classify_counters_.push_back(&metrics.classified(cfg_.classify[i].name));
    }
    classify_counters_.push_back(&metrics.classified("default"));
}

void Enrich::run(core::AlertBatch& batch, Context& ctx) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!apply(batch[i].labels, batch[i].origin.input)) {
            dropped_.Increment();
            continue;
        }
        if (out != i) batch[out] = std::move(batch[i]);
        ++out;
    }
    batch.resize(out);
}

bool Enrich::apply(core::LabelSet& labels, std::string_view input,
                   std::vector<std::string>* trace) const {
    for (std::size_t i = 0; i < relabeler_.size(); ++i) {
        const auto& rule = relabeler_.rule(i);
        core::LabelSet before;
        if (trace != nullptr) before = labels;
        RuleResult r = relabeler_.applyOne(i, labels, input);
        if (r == RuleResult::kDropped) rule_counters_[i].dropped->Increment();
        if (r == RuleResult::kInvalidLabel) rule_counters_[i].invalid_label->Increment();
        if (trace != nullptr) {
            std::string what;
            switch (r) {
                case RuleResult::kOutOfScope:
                    what = "not in scope for this input";
                    break;
                case RuleResult::kApplied:
                    what = describeChange(before, labels);
                    break;
                case RuleResult::kDropped:
                    what = "DROPPED the alert";
                    break;
                case RuleResult::kInvalidLabel:
                    what = "skipped: the result is not a valid label name";
                    break;
            }
            trace->push_back(fmt::format("relabel {} ({}, line {}): {}", rule.name,
                                         config::relabelActionName(rule.action), rule.line, what));
        }
        if (r == RuleResult::kDropped) return false;
    }
    for (std::size_t t = 0; t < cfg_.tables.size(); ++t) {
        auto snapshot = tables_->get(t);
        lookup(t, snapshot.get(), labels, trace);
    }
    classify(labels, trace);
    return true;
}

void Enrich::lookup(std::size_t t, const LookupTable* table, core::LabelSet& labels,
                    std::vector<std::string>* trace) const {
    const auto& cfg = cfg_.tables[t];
    const auto& counters = table_counters_[t];
    core::LabelSet before;
    if (trace != nullptr) before = labels;
    const std::string* key = labels.get(cfg.key_label);
    std::string verdict;
    std::uint32_t row = LookupTable::kNoRow;
    if (table == nullptr) {
        counters.not_loaded->Increment();
        verdict = "not loaded yet (defaults apply)";
    } else if (key == nullptr) {
        counters.no_key->Increment();
        verdict = fmt::format("miss: the alert has no {} label", cfg.key_label);
    } else if (table->unusableKey(*key)) {
        counters.bad_key->Increment();
        verdict = fmt::format("miss: {} is not an IP address", quoted(cfg.key_label, *key));
    } else {
        row = table->find(*key);
        if (row == LookupTable::kNoRow) {
            counters.miss->Increment();
            verdict = fmt::format("miss on {}", quoted(cfg.key_label, *key));
        } else {
            counters.hit->Increment();
            verdict =
                fmt::format("hit on {}: row \"{}\"", quoted(cfg.key_label, *key), table->key(row));
        }
    }
    if (row != LookupTable::kNoRow) {
        for (std::size_t c = 0; c < cfg.columns.size(); ++c) {
            put(labels, cfg.columns[c].second, table->cell(row, c), cfg.overwrite);
        }
        for (const auto& [name, value] : cfg.set) put(labels, name, value, cfg.overwrite);
    } else {
        for (const auto& [name, value] : cfg.default_labels)
            put(labels, name, value, cfg.overwrite);
    }
    if (trace != nullptr) {
        trace->push_back(fmt::format("table {} ({}): {} -> {}", cfg.name,
                                     cfg.match == config::TableMatch::kCidr ? "cidr" : "exact",
                                     verdict, describeChange(before, labels)));
    }
}

void Enrich::classify(core::LabelSet& labels, std::vector<std::string>* trace) const {
    core::LabelSet before;
    if (trace != nullptr) before = labels;
    for (std::size_t i = 0; i < cfg_.classify.size(); ++i) {
        const auto& rule = cfg_.classify[i];
        if (!core::matchesAll(rule.matchers, labels)) continue;
        for (const auto& [name, value] : rule.set) labels.set(name, value);
        classify_counters_[i]->Increment();
        if (trace != nullptr) {
            trace->push_back(fmt::format("classify {} (line {}) matched: {}", rule.name, rule.line,
                                         describeChange(before, labels)));
        }
        return;
    }
    for (const auto& [name, value] : cfg_.classify_default) put(labels, name, value, false);
    classify_counters_.back()->Increment();
    if (trace != nullptr) {
        trace->push_back(fmt::format("classify: no rule matched, the default applies: {}",
                                     describeChange(before, labels)));
    }
}

}  // namespace alertbridge::pipeline
