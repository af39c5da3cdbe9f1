#pragma once
// Metrics: every metric family alertbridge exports, declared in one place. Names follow
// alertbridge_<thing>_<unit>; every series a component can produce is created at zero when
// the component registers. Counters and gauges are atomic: any thread may update them.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace alertbridge::telemetry {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

// Reasons an input refuses a request. Each becomes a series at zero.
inline constexpr std::string_view kRejectReasons[] = {"invalid_body",
                                                      "unauthorized",
                                                      "too_large",
                                                      "queue_full",
                                                      "not_found",
                                                      "method_not_allowed",
                                                      "unsupported_media_type",
                                                      "store_error",
                                                      "client_not_allowed",
                                                      "bytes_full",
                                                      "backlog_full"};

inline constexpr std::string_view kDedupeOutcomes[] = {"new",      "changed",          "repeat",
                                                       "resolved", "resolved_unknown", "expired"};

// What one stage did with the alerts it was given (ARCHITECTURE.md step 10): received,
// passed on, and dropped (taken out of the batch: a repeat, a relabel drop, a resolve of an
// unknown alert). The suppress stages will add "suppressed".
struct StageMetrics {
    Counter* received;
    Counter* passed;
    Counter* dropped;
};

struct InputMetrics {
    Counter* requests;         // every request that reached the input
    Counter* alerts_received;  // alerts in well-formed bodies
    Counter* alerts_accepted;  // alerts journaled and acknowledged
    Counter* alerts_rejected;  // alerts left out of a body they came in (a bad label, time...)
    Counter* loop_dropped;     // alerts carrying our own marker label
    // From a request's receipt (its body read) to its answer: the journal's commit and
    // fsync, and any time the answer was held (AckPacer), whatever the answer was.
    Histogram* request_duration;
    std::map<std::string, Counter*, std::less<>> rejected;  // by reason
    void reject(std::string_view reason) const;
};

struct OutputMetrics {
    Counter* attempts;
    Counter* ok;
    Counter* retry;
    Counter* drop;
    Counter* alerts_sent;
    Counter* alerts_dropped;
    Gauge* pending_rows;
    Gauge* pending_bytes;
    Counter* resent;              // alerts in re-sends that the host took
    Counter* alerts_unsupported;  // alerts the host cannot take (UTF-8 names), left out
    Counter* alerts_superseded;   // queued states left out: a newer one was queued after them
    Histogram* request_duration;
};

struct EmailRuleMetrics {
    Counter* messages;  // emails this rule turned into an alert
    Counter* warnings;  // fields it found but could not read (a time, a severity word)
};

struct RelabelRuleMetrics {
    Counter* dropped;        // alerts the rule dropped
    Counter* invalid_label;  // times its result was not a valid label name (rule skipped)
};

inline constexpr std::string_view kLookupResults[] = {"hit", "miss", "no_key", "bad_key",
                                                      "not_loaded"};

struct EnrichTableMetrics {
    Gauge* rows;
    Gauge* memory_bytes;
    Gauge* loaded;       // 1 once a snapshot is in use
    Gauge* last_reload;  // Unix time of the last successful load
    Counter* reloads_ok;
    Counter* reloads_failed;
    std::map<std::string, Counter*, std::less<>> lookups;  // by kLookupResults
};

class Metrics {
  public:
    Metrics();

    const InputMetrics& input(std::string_view name);
    const OutputMetrics& output(std::string_view name);
    Counter& dedupe(std::string_view outcome);
    StageMetrics stage(std::string_view name);
    const EmailRuleMetrics& emailRule(std::string_view rule);
    // IMAP polls by mailbox and result (ok, error), and messages taken from each.
    Counter& imapPolls(std::string_view mailbox, std::string_view result);
    Counter& imapMessages(std::string_view mailbox);

    const RelabelRuleMetrics& relabelRule(std::string_view rule);
    const EnrichTableMetrics& enrichTable(std::string_view table);
    Counter& classified(std::string_view rule);
    Counter& enrichDropped() { return *enrich_dropped_; }

    Histogram& journalCommitDuration() { return *journal_commit_duration_; }
    Counter& journalCommits() { return *journal_commits_; }
    Histogram& walSyncDuration() { return *wal_sync_duration_; }
    Counter& walCheckpoints(bool by_writer) { return by_writer ? *wal_writer_ : *wal_background_; }
    Counter& journalBatches() { return *journal_batches_; }
    Counter& storeErrors(std::string_view error_class) {
        return *store_errors_.find(error_class)->second;
    }
    Gauge& storeWritable() { return *store_writable_; }
    // Alert record bytes the checkpoints wrote: as given (raw) and as stored (packed).
    Counter& recordBytes(bool stored) {
        return stored ? *record_bytes_stored_ : *record_bytes_raw_;
    }
    Gauge& recordDictionary() { return *record_dictionary_; }
    Gauge& activeAlerts() { return *active_alerts_; }
    // Incidents: alerts each noise rule held or grouped ("<kind>:<rule>"), incidents
    // opened, merged and resolved, messages to people by reason, and those open now.
    Counter& noiseAlerts(std::string_view rule) {
        return noise_alerts_->Add({{"rule", std::string(rule)}});
    }
    Counter& incidents(std::string_view event) {
        return incidents_->Add({{"event", std::string(event)}});
    }
    Counter& incidentMessages(std::string_view reason) {
        return incident_messages_->Add({{"reason", std::string(reason)}});
    }
    Gauge& openIncidents() { return *open_incidents_; }
    // Silence changes through the API by op (set, expire) and result (ok, refused), and
    // the silences active (after each change and each minute).
    Counter& silenceChanges(std::string_view op, std::string_view result) {
        return silence_changes_->Add({{"op", std::string(op)}, {"result", std::string(result)}});
    }
    Gauge& activeSilences() { return *active_silences_; }
    Gauge& queueDepth() { return *queue_depth_; }
    Gauge& queueCapacity() { return *queue_capacity_; }
    Gauge& queueBytes() { return *queue_bytes_; }
    Gauge& queueCapacityBytes() { return *queue_capacity_bytes_; }
    // Acknowledgements held while the engine is behind (app/ack_pacer.hpp).
    Counter& acksHeld() { return *acks_held_; }
    Gauge& acksHeldNow() { return *acks_held_now_; }
    // 1 while a calendar's data has ended (every answer unknown), else 0.
    Gauge& calendarExpired(const std::string& calendar) {
        return calendar_expired_->Add({{"calendar", calendar}});
    }
    Counter& alertsExpired() { return *dedupe_.at("expired"); }
    // Reloads: counted by outcome; the last one's result and the running config's time.
    Counter& configReloads(bool applied) { return applied ? *reloads_applied_ : *reloads_refused_; }
    Gauge& configLastReloadSuccessful() { return *reload_ok_; }
    Gauge& configLastReloadTime() { return *reload_time_; }

    std::shared_ptr<prometheus::Registry> registry() { return registry_; }
    // The text exposition format, for GET /metrics.
    std::string serialize() const;

  private:
    // The store's, engine's, intake queue's, reload's, calendar's and stages' families
    // (metrics_core.cpp); called once, by the constructor.
    void registerCoreFamilies();

    std::shared_ptr<prometheus::Registry> registry_;
    std::mutex mu_;  // guards the maps below while components register
    std::map<std::string, InputMetrics, std::less<>> inputs_;
    std::map<std::string, OutputMetrics, std::less<>> outputs_;
    std::map<std::string, Counter*, std::less<>> dedupe_;
    prometheus::Family<Counter>* pipeline_alerts_;
    std::map<std::string, EmailRuleMetrics, std::less<>> email_rules_;
    std::map<std::string, RelabelRuleMetrics, std::less<>> relabel_rules_;
    std::map<std::string, EnrichTableMetrics, std::less<>> enrich_tables_;

    prometheus::Family<Counter>* input_requests_;
    prometheus::Family<Counter>* input_alerts_received_;
    prometheus::Family<Counter>* input_alerts_accepted_;
    prometheus::Family<Counter>* input_rejected_;
    prometheus::Family<Counter>* input_alerts_rejected_;
    prometheus::Family<Counter>* input_loop_dropped_;
    prometheus::Family<Histogram>* input_duration_;
    prometheus::Family<Counter>* output_attempts_;
    prometheus::Family<Counter>* output_results_;
    prometheus::Family<Counter>* output_alerts_;
    prometheus::Family<Gauge>* outbox_pending_;
    prometheus::Family<Histogram>* output_duration_;
    prometheus::Family<Counter>* email_messages_;
    prometheus::Family<Counter>* email_rule_warnings_;
    prometheus::Family<Counter>* imap_polls_;
    prometheus::Family<Counter>* imap_messages_;
    prometheus::Family<Counter>* relabel_dropped_;
    prometheus::Family<Counter>* relabel_invalid_;
    prometheus::Family<Gauge>* table_rows_;
    prometheus::Family<Gauge>* table_memory_;
    prometheus::Family<Gauge>* table_loaded_;
    prometheus::Family<Gauge>* table_last_reload_;
    prometheus::Family<Counter>* table_reloads_;
    prometheus::Family<Counter>* table_lookups_;
    prometheus::Family<Counter>* classified_;
    Counter* enrich_dropped_;
    Histogram* journal_commit_duration_;
    Counter* journal_commits_;
    Histogram* wal_sync_duration_;
    Counter* wal_background_;
    Counter* wal_writer_;
    Counter* journal_batches_;
    std::map<std::string, Counter*, std::less<>> store_errors_;  // by class
    Gauge* store_writable_;
    Counter* record_bytes_raw_;
    Counter* record_bytes_stored_;
    Gauge* record_dictionary_;
    prometheus::Family<Gauge>* outbox_pending_bytes_;
    Gauge* active_alerts_;
    prometheus::Family<Counter>* noise_alerts_;
    prometheus::Family<Counter>* incidents_;
    prometheus::Family<Counter>* incident_messages_;
    Gauge* open_incidents_;
    prometheus::Family<Counter>* silence_changes_;
    Gauge* active_silences_;
    Gauge* queue_depth_;
    Gauge* queue_capacity_;
    Gauge* queue_bytes_;
    Counter* acks_held_;
    Gauge* acks_held_now_;
    Gauge* queue_capacity_bytes_;
    prometheus::Family<Gauge>* calendar_expired_;
    Counter* reloads_applied_;
    Counter* reloads_refused_;
    Gauge* reload_ok_;
    Gauge* reload_time_;
};

}  // namespace alertbridge::telemetry
