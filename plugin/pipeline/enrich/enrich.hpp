#pragma once
// Enrich: the third stage of ARCHITECTURE.md. For each alert, in order:
//   1. relabel rules (Prometheus relabel_configs), which may drop the alert;
//   2. lookup tables (CMDB, whitelist) in config order, so a later table can key on a label
//      an earlier one set; each reads the snapshot its source last published, never waiting
//      on the source;
//   3. classification: the first classify rule whose matchers match sets its labels, and
//      when none does, classify_default fills in what the alert lacks.
// Runs on the pipeline thread. explain() runs the same steps on one label set and says
// what each did (alertbridge enrich-test).

#include <string>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/pipeline/enrich/lookup_table.hpp"
#include "plugin/pipeline/enrich/relabel.hpp"
#include "plugin/pipeline/stage.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::pipeline {

class Enrich final : public Stage {
  public:
    Enrich(const config::EnrichConfig& cfg, Relabeler relabeler,
           std::shared_ptr<const TableSnapshots> tables, telemetry::Metrics& metrics);
    std::string_view name() const override { return "enrich"; }
    void run(core::AlertBatch& batch, Context& ctx) override;

    // Enriches `labels` of an alert from `input`. False when a relabel rule dropped it.
    // `trace`, when given, receives one line per step.
    bool apply(core::LabelSet& labels, std::string_view input,
               std::vector<std::string>* trace = nullptr) const;

  private:
    using Snapshots = std::vector<std::shared_ptr<const LookupTable>>;
    // apply() with the tables' snapshots taken once (per batch in run()).
    bool applyWith(core::LabelSet& labels, std::string_view input, const Snapshots& tables,
                   std::vector<std::string>* trace) const;
    struct TableCounters {
        telemetry::Counter* hit;
        telemetry::Counter* miss;
        telemetry::Counter* no_key;
        telemetry::Counter* bad_key;
        telemetry::Counter* not_loaded;
    };
    struct RuleCounters {
        telemetry::Counter* dropped;
        telemetry::Counter* invalid_label;
    };
    void lookup(std::size_t t, const LookupTable* table, core::LabelSet& labels,
                std::vector<std::string>* trace) const;
    void classify(core::LabelSet& labels, std::vector<std::string>* trace) const;

    const config::EnrichConfig& cfg_;
    Relabeler relabeler_;
    std::shared_ptr<const TableSnapshots> tables_;
    Snapshots cached_;  // the snapshots run() uses, as of cached_generation_
    std::uint64_t cached_generation_ = ~std::uint64_t{0};
    std::vector<RuleCounters> rule_counters_;
    std::vector<TableCounters> table_counters_;
    std::vector<telemetry::Counter*> classify_counters_;  // per rule, then the default
    std::size_t max_added_ = 0;  // labels enrichment can add to one alert, at most
    telemetry::Counter& dropped_;
};

// "+a="1" ~b: "x" -> "y" -b": what changed from `before` to `after`; "no change" if nothing.
std::string describeChange(const core::LabelSet& before, const core::LabelSet& after);

}  // namespace alertbridge::pipeline
