#include "plugin/pipeline/enrich/enrich.hpp"

#include <algorithm>

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
    max_added_ = relabeler_.size() + cfg_.classify_default.size();
    for (const auto& t : cfg_.tables) {
        max_added_ += std::max(t.columns.size() + t.set.size(), t.default_labels.size());
    }
    std::size_t classify_max = 0;
    for (const auto& c : cfg_.classify) classify_max = std::max(classify_max, c.set.size());
    max_added_ += classify_max;
    // Room for the calendar labels step that follows, so it does not grow the labels again.
    if (cfg_.calendar_labels) max_added_ += cfg_.calendar_labels->labels.size();
}

void Enrich::run(core::AlertBatch& batch, Context& ctx) {
    if (auto g = tables_->generation(); g != cached_generation_) {
        // Read the generation first: a publish racing with this re-read is seen next batch.
        cached_generation_ = g;
        cached_.clear();
        for (std::size_t t = 0; t < tables_->size(); ++t) cached_.push_back(tables_->get(t));
    }
    const Snapshots& tables = cached_;
    std::size_t out = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!applyWith(batch[i].labels, batch[i].origin.input, tables, nullptr)) {
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
    Snapshots tables;
    for (std::size_t t = 0; t < tables_->size(); ++t) tables.push_back(tables_->get(t));
    return applyWith(labels, input, tables, trace);
}

bool Enrich::applyWith(core::LabelSet& labels, std::string_view input, const Snapshots& tables,
                       std::vector<std::string>* trace) const {
    labels.reserve(labels.size() + max_added_);
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
    for (std::size_t t = 0; t < cfg_.tables.size(); ++t) lookup(t, tables[t].get(), labels, trace);
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
    // The verdict is text only for a trace; the data path just counts.
    std::string verdict;
    const bool tracing = trace != nullptr;
    std::uint32_t row = LookupTable::kNoRow;
    if (table == nullptr) {
        counters.not_loaded->Increment();
        if (tracing) verdict = "not loaded yet (defaults apply)";
    } else if (key == nullptr) {
        counters.no_key->Increment();
        if (tracing) verdict = fmt::format("miss: the alert has no {} label", cfg.key_label);
    } else if ((row = table->find(*key)) != LookupTable::kNoRow) {
        counters.hit->Increment();
        if (tracing) {
            verdict =
                fmt::format("hit on {}: row \"{}\"", quoted(cfg.key_label, *key), table->key(row));
        }
    } else if (table->unusableKey(*key)) {
        counters.bad_key->Increment();
        if (tracing)
            verdict = fmt::format("miss: {} is not an IP address", quoted(cfg.key_label, *key));
    } else {
        counters.miss->Increment();
        if (tracing) verdict = fmt::format("miss on {}", quoted(cfg.key_label, *key));
    }
    thread_local std::vector<core::LabelSet::View> adds;
    adds.clear();
    if (row != LookupTable::kNoRow) {
        for (std::size_t c = 0; c < cfg.columns.size(); ++c) {
            adds.emplace_back(cfg.columns[c].second, table->cell(row, c));
        }
        for (const auto& [name, value] : cfg.set) adds.emplace_back(name, value);
    } else {
        for (const auto& [name, value] : cfg.default_labels) adds.emplace_back(name, value);
    }
    labels.setMany(adds, cfg.overwrite);
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
