#include "plugin/telemetry/metrics.hpp"

#include <prometheus/text_serializer.h>

#include "alertbridge/version.hpp"

namespace alertbridge::telemetry {

void InputMetrics::reject(std::string_view reason) const {
    auto it = rejected.find(reason);
    if (it != rejected.end()) it->second->Increment();
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
    using prometheus::BuildCounter;
    using prometheus::BuildGauge;
    using prometheus::BuildHistogram;
    auto& r = *registry_;

    BuildGauge()
        .Name("alertbridge_build_info")
        .Help("Always 1; the version label says which build runs.")
        .Register(r)
        .Add({{"version", kVersion}})
        .Set(1);

    input_requests_ = &BuildCounter()
                           .Name("alertbridge_input_requests_total")
                           .Help("Requests that reached an input, before any check.")
                           .Register(r);
    input_alerts_received_ = &BuildCounter()
                                  .Name("alertbridge_input_alerts_received_total")
                                  .Help("Alerts found in well-formed request bodies.")
                                  .Register(r);
    input_alerts_accepted_ = &BuildCounter()
                                  .Name("alertbridge_input_alerts_accepted_total")
                                  .Help("Alerts journaled durably and acknowledged to the sender.")
                                  .Register(r);
    input_alerts_rejected_ = &BuildCounter()
                                  .Name("alertbridge_input_alerts_rejected_total")
                                  .Help(
                                      "Alerts left out of a body that was otherwise taken (a bad "
                                      "label name, a time out of range); the sender is told "
                                      "which.")
                                  .Register(r);
    input_rejected_ = &BuildCounter()
                           .Name("alertbridge_input_requests_rejected_total")
                           .Help("Requests refused by an input, by reason.")
                           .Register(r);
    input_loop_dropped_ = &BuildCounter()
                               .Name("alertbridge_input_loop_dropped_alerts_total")
                               .Help(
                                   "Alerts dropped because they carry this instance's marker "
                                   "label (loop guard).")
                               .Register(r);
    input_duration_ = &BuildHistogram()
                           .Name("alertbridge_input_request_duration_seconds")
                           .Help(
                               "Time from a well-formed request's receipt to its answer, per "
                               "input: the journal's commit and fsync, and any time the "
                               "answer was held while the engine caught up.")
                           .Register(r);
    output_attempts_ = &BuildCounter()
                            .Name("alertbridge_output_attempts_total")
                            .Help("Delivery requests made by an output.")
                            .Register(r);
    output_results_ = &BuildCounter()
                           .Name("alertbridge_output_results_total")
                           .Help("Delivery request results by outcome: ok, retry or drop.")
                           .Register(r);
    output_alerts_ =
        &BuildCounter()
             .Name("alertbridge_output_alerts_total")
             .Help(
                 "Alerts handed to a host by an output, by outcome: sent, "
                 "dropped, resent (re-sends that keep the host's copy alive), unsupported "
                 "(left out: the host cannot take the alert's label names), or superseded "
                 "(a queued state left out because a newer one of the same alert was queued).")
             .Register(r);
    outbox_pending_ = &BuildGauge()
                           .Name("alertbridge_outbox_pending_rows")
                           .Help("Outbox rows waiting for delivery, per output.")
                           .Register(r);
    email_messages_ = &BuildCounter()
                           .Name("alertbridge_email_messages_total")
                           .Help(
                               "Emails turned into alerts, by the rule that took them (a "
                               "vendor pack, or generic).")
                           .Register(r);
    email_rule_warnings_ = &BuildCounter()
                                .Name("alertbridge_email_rule_warnings_total")
                                .Help(
                                    "Fields a rule found but could not read (a time, a "
                                    "severity or status word), by rule.")
                                .Register(r);
    imap_polls_ = &BuildCounter()
                       .Name("alertbridge_email_imap_polls_total")
                       .Help("IMAP mailbox polls, by mailbox and result (ok or error).")
                       .Register(r);
    imap_messages_ = &BuildCounter()
                          .Name("alertbridge_email_imap_messages_total")
                          .Help("Messages taken from an IMAP mailbox and stored, by mailbox.")
                          .Register(r);
    relabel_dropped_ = &BuildCounter()
                            .Name("alertbridge_relabel_dropped_alerts_total")
                            .Help("Alerts dropped by an enrich.relabel_configs rule, by rule.")
                            .Register(r);
    relabel_invalid_ = &BuildCounter()
                            .Name("alertbridge_relabel_invalid_label_total")
                            .Help(
                                "Times a relabel rule's result was not a valid label name; the "
                                "rule did nothing for that alert.")
                            .Register(r);
    table_rows_ = &BuildGauge()
                       .Name("alertbridge_enrich_table_rows")
                       .Help("Rows in the snapshot of a lookup table in use.")
                       .Register(r);
    table_memory_ = &BuildGauge()
                         .Name("alertbridge_enrich_table_memory_bytes")
                         .Help("Heap memory of the snapshot of a lookup table in use.")
                         .Register(r);
    table_loaded_ = &BuildGauge()
                         .Name("alertbridge_enrich_table_loaded")
                         .Help("1 once a lookup table has a snapshot in use, 0 before.")
                         .Register(r);
    table_last_reload_ = &BuildGauge()
                              .Name("alertbridge_enrich_table_last_reload_timestamp_seconds")
                              .Help("Unix time of the last successful load of a lookup table.")
                              .Register(r);
    table_reloads_ = &BuildCounter()
                          .Name("alertbridge_enrich_table_reloads_total")
                          .Help(
                              "Loads of a lookup table by result: ok, or error (the last good "
                              "snapshot stays in use).")
                          .Register(r);
    table_lookups_ = &BuildCounter()
                          .Name("alertbridge_enrich_table_lookups_total")
                          .Help(
                              "Lookups by result: hit, miss, no_key (the alert lacks the key "
                              "label), bad_key (not an IP for a cidr table), not_loaded.")
                          .Register(r);
    classified_ = &BuildCounter()
                       .Name("alertbridge_classify_alerts_total")
                       .Help(
                           "Alerts classified, by the enrich.classify rule that matched, or "
                           "default.")
                       .Register(r);
    enrich_dropped_ = &BuildCounter()
                           .Name("alertbridge_enrich_dropped_alerts_total")
                           .Help("Alerts the enrich stage dropped (relabel keep/drop rules).")
                           .Register(r)
                           .Add({});
    output_duration_ = &BuildHistogram()
                            .Name("alertbridge_output_request_duration_seconds")
                            .Help("Time for one delivery request, per output.")
                            .Register(r);

    registerCoreFamilies();
}

StageMetrics Metrics::stage(std::string_view name) {
    std::lock_guard lock(mu_);
    std::string n(name);
    return StageMetrics{&pipeline_alerts_->Add({{"stage", n}, {"outcome", "received"}}),
                        &pipeline_alerts_->Add({{"stage", n}, {"outcome", "passed"}}),
                        &pipeline_alerts_->Add({{"stage", n}, {"outcome", "dropped"}})};
}

const InputMetrics& Metrics::input(std::string_view name) {
    std::lock_guard lock(mu_);
    auto it = inputs_.find(name);
    if (it != inputs_.end()) return it->second;
    std::string n(name);
    InputMetrics m;
    m.requests = &input_requests_->Add({{"input", n}});
    m.alerts_received = &input_alerts_received_->Add({{"input", n}});
    m.alerts_accepted = &input_alerts_accepted_->Add({{"input", n}});
    m.alerts_rejected = &input_alerts_rejected_->Add({{"input", n}});
    m.loop_dropped = &input_loop_dropped_->Add({{"input", n}});
    m.request_duration = &input_duration_->Add(
        {{"input", n}}, Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                    0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    for (auto reason : kRejectReasons) {
        m.rejected[std::string(reason)] =
            &input_rejected_->Add({{"input", n}, {"reason", std::string(reason)}});
    }
    return inputs_.emplace(n, std::move(m)).first->second;
}

const OutputMetrics& Metrics::output(std::string_view name) {
    std::lock_guard lock(mu_);
    auto it = outputs_.find(name);
    if (it != outputs_.end()) return it->second;
    std::string n(name);
    OutputMetrics m;
    m.attempts = &output_attempts_->Add({{"output", n}});
    m.ok = &output_results_->Add({{"output", n}, {"result", "ok"}});
    m.retry = &output_results_->Add({{"output", n}, {"result", "retry"}});
    m.drop = &output_results_->Add({{"output", n}, {"result", "drop"}});
    m.alerts_sent = &output_alerts_->Add({{"output", n}, {"outcome", "sent"}});
    m.alerts_dropped = &output_alerts_->Add({{"output", n}, {"outcome", "dropped"}});
    m.pending_rows = &outbox_pending_->Add({{"output", n}});
    m.pending_bytes = &outbox_pending_bytes_->Add({{"output", n}});
    m.resent = &output_alerts_->Add({{"output", n}, {"outcome", "resent"}});
    m.alerts_unsupported = &output_alerts_->Add({{"output", n}, {"outcome", "unsupported"}});
    m.alerts_superseded = &output_alerts_->Add({{"output", n}, {"outcome", "superseded"}});
    m.request_duration = &output_duration_->Add(
        {{"output", n}}, Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25, 0.5, 1, 2.5, 5, 10});
    return outputs_.emplace(n, m).first->second;
}

Counter& Metrics::dedupe(std::string_view outcome) { return *dedupe_.find(outcome)->second; }

Counter& Metrics::imapPolls(std::string_view mailbox, std::string_view result) {
    return imap_polls_->Add({{"mailbox", std::string(mailbox)}, {"result", std::string(result)}});
}

Counter& Metrics::imapMessages(std::string_view mailbox) {
    return imap_messages_->Add({{"mailbox", std::string(mailbox)}});
}

const EmailRuleMetrics& Metrics::emailRule(std::string_view rule) {
    std::lock_guard lock(mu_);
    if (auto it = email_rules_.find(rule); it != email_rules_.end()) return it->second;
    std::string n(rule);
    EmailRuleMetrics m{&email_messages_->Add({{"rule", n}}),
                       &email_rule_warnings_->Add({{"rule", n}})};
    return email_rules_.emplace(n, m).first->second;
}

const RelabelRuleMetrics& Metrics::relabelRule(std::string_view rule) {
    std::lock_guard lock(mu_);
    if (auto it = relabel_rules_.find(rule); it != relabel_rules_.end()) return it->second;
    std::string n(rule);
    RelabelRuleMetrics m{&relabel_dropped_->Add({{"rule", n}}),
                         &relabel_invalid_->Add({{"rule", n}})};
    return relabel_rules_.emplace(n, m).first->second;
}

const EnrichTableMetrics& Metrics::enrichTable(std::string_view table) {
    std::lock_guard lock(mu_);
    if (auto it = enrich_tables_.find(table); it != enrich_tables_.end()) return it->second;
    std::string n(table);
    EnrichTableMetrics m{&table_rows_->Add({{"table", n}}),
                         &table_memory_->Add({{"table", n}}),
                         &table_loaded_->Add({{"table", n}}),
                         &table_last_reload_->Add({{"table", n}}),
                         &table_reloads_->Add({{"table", n}, {"result", "ok"}}),
                         &table_reloads_->Add({{"table", n}, {"result", "error"}}),
                         {}};
    for (auto r : kLookupResults) {
        m.lookups.emplace(std::string(r),
                          &table_lookups_->Add({{"table", n}, {"result", std::string(r)}}));
    }
    return enrich_tables_.emplace(n, std::move(m)).first->second;
}

Counter& Metrics::classified(std::string_view rule) {
    return classified_->Add({{"rule", std::string(rule)}});
}

std::string Metrics::serialize() const {
    prometheus::TextSerializer s;
    return s.Serialize(registry_->Collect());
}

}  // namespace alertbridge::telemetry
