#include "plugin/app/enrich_cli.hpp"

#include <iostream>

#include <fmt/format.h>

#include "adapters/lookup/table_source.hpp"
#include "plugin/app/registry.hpp"
#include "plugin/app/setup.hpp"
#include "plugin/pipeline/enrich/enrich.hpp"
#include "plugin/pipeline/normalize.hpp"

namespace alertbridge::app {

std::vector<config::ConfigError> checkTables(const config::Config& cfg) {
    std::vector<config::ConfigError> errors;
    for (std::size_t i = 0; i < cfg.enrich.tables.size(); ++i) {
        const auto& t = cfg.enrich.tables[i];
        if (t.source.file.empty()) continue;
        auto table = lookup::loadTableOnce(t);
        if (!table) {
            errors.push_back(
                config::ConfigError{cfg.file, t.line, fmt::format("enrich.tables[{}]", i),
                                    fmt::format("table {}: {}", t.name, table.error())});
        }
    }
    return errors;
}

int enrichTest(const std::string& config_file, const std::string& input,
               const std::vector<std::string>& label_args) {
    auto setup = loadSetup(config_file);
    if (!setup.config) {
        for (const auto& e : setup.errors) std::cerr << e.format() << "\n";
        return 1;
    }
    const config::Config& cfg = *setup.config;
    core::Alert alert;
    bool known_input = false;
    for (auto kind : {core::SourceKind::kAlertmanagerApi, core::SourceKind::kAlertmanagerWebhook,
                      core::SourceKind::kNightingale, core::SourceKind::kEmail}) {
        if (core::sourceKindName(kind) == input) {
            alert.origin.kind = kind;
            known_input = true;
        }
    }
    if (!known_input || findInput(input) == nullptr) {
        std::cerr << "alertbridge: unknown input \"" << input
                  << "\" (alertmanager_api, alertmanager_webhook, nightingale or email)\n";
        return 2;
    }
    alert.origin.input = input;
    for (const auto& arg : label_args) {
        auto eq = arg.find('=');
        std::string name = arg.substr(0, eq);
        if (eq == std::string::npos || !core::isValidLabelName(name)) {
            std::cerr << "alertbridge: expected label=value, got \"" << arg << "\"\n";
            return 2;
        }
        alert.labels.set(name, arg.substr(eq + 1));
    }
    if (alert.labels.empty()) {
        std::cerr << "alertbridge: give the alert's labels as label=value\n";
        return 2;
    }

    auto tables = std::make_shared<pipeline::TableSnapshots>(cfg.enrich.tables.size());
    for (std::size_t i = 0; i < cfg.enrich.tables.size(); ++i) {
        const auto& t = cfg.enrich.tables[i];
        const std::string& origin = t.source.file.empty() ? t.source.url : t.source.file;
        auto table = lookup::loadTableOnce(t);
        if (table) {
            std::cout << fmt::format("table {}: {} rows from {}\n", t.name, (*table)->rows(),
                                     origin);
            tables->publish(i, std::move(*table));
        } else {
            std::cout << fmt::format("table {}: NOT LOADED ({}); its defaults apply\n", t.name,
                                     table.error());
        }
    }

    telemetry::Metrics metrics;  // counted, not shown
    std::cout << "input " << input << ": " << alert.labels.toString() << "\n";
    core::AlertBatch batch{pipeline::normalized(cfg.normalize, alert, core::TimePoint{})};
    std::cout << "normalize: " << pipeline::describeChange(alert.labels, batch[0].labels) << "\n";
    pipeline::Enrich enrich(cfg.enrich,
                            pipeline::Relabeler::compile(cfg.enrich.relabel_configs).value(),
                            tables, metrics);
    std::vector<std::string> trace;
    core::LabelSet labels = batch[0].labels;
    bool kept = enrich.apply(labels, input, &trace);
    for (const auto& line : trace) std::cout << line << "\n";
    if (!kept) {
        std::cout << "result: dropped; the alert would go no further\n";
        return 0;
    }
    std::cout << "result: " << labels.toString() << "\n";
    return 0;
}

}  // namespace alertbridge::app
