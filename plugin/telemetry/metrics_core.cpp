#include "plugin/telemetry/metrics.hpp"

// The families of the store, the engine, intake's queue and held answers, configuration
// reloads, calendars and the pipeline's stages: registered by the Metrics constructor, kept
// apart from the inputs', outputs', email's and enrichment's families in metrics.cpp.

namespace alertbridge::telemetry {

void Metrics::registerCoreFamilies() {
    using prometheus::BuildCounter;
    using prometheus::BuildGauge;
    using prometheus::BuildHistogram;
    auto& r = *registry_;

    journal_commit_duration_ =
        &BuildHistogram()
             .Name("alertbridge_journal_commit_duration_seconds")
             .Help("Time to write and fsync one group commit of the store.")
             .Register(r)
             .Add({}, Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1});
    journal_commits_ = &BuildCounter()
                            .Name("alertbridge_journal_commits_total")
                            .Help("Group commits of the store.")
                            .Register(r)
                            .Add({});
    wal_sync_duration_ =
        &BuildHistogram()
             .Name("alertbridge_store_wal_sync_duration_seconds")
             .Help(
                 "Time one fsync of the store's write-ahead log took (synchronous: full). "
                 "Every stored request waits for one, and often for the one before it too, "
                 "so this is the disk's share of the intake latency.")
             .Register(r)
             .Add({}, Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1});
    auto& wal = BuildCounter()
                    .Name("alertbridge_store_wal_checkpoints_total")
                    .Help(
                        "Copies of the store's write-ahead log into its file: by the "
                        "checkpointer thread (background), or by the writer itself when the "
                        "log outgrew the backstop (writer).")
                    .Register(r);
    wal_background_ = &wal.Add({{"by", "background"}});
    wal_writer_ = &wal.Add({{"by", "writer"}});
    journal_batches_ = &BuildCounter()
                            .Name("alertbridge_journal_batches_total")
                            .Help("Accepted request bodies journaled.")
                            .Register(r)
                            .Add({});
    auto& store_errors = BuildCounter()
                             .Name("alertbridge_store_errors_total")
                             .Help(
                                 "Failed store transactions by class (transient, full, "
                                 "fatal); intake answers 503 until a write succeeds.")
                             .Register(r);
    for (auto c : {"transient", "full", "fatal"}) {
        store_errors_[c] = &store_errors.Add({{"class", c}});
    }
    store_writable_ = &BuildGauge()
                           .Name("alertbridge_store_writable")
                           .Help(
                               "1 while the store can write; 0 from a failed commit until a "
                               "write succeeds again.")
                           .Register(r)
                           .Add({});
    store_writable_->Set(1);
    auto& record_bytes = BuildCounter()
                             .Name("alertbridge_store_record_bytes_total")
                             .Help(
                                 "Bytes of alert records the checkpoints wrote: as the pipeline "
                                 "gave them (form=raw) and as stored, packed with the store's "
                                 "dictionary (form=stored).")
                             .Register(r);
    record_bytes_raw_ = &record_bytes.Add({{"form", "raw"}});
    record_bytes_stored_ = &record_bytes.Add({{"form", "stored"}});
    record_dictionary_ = &BuildGauge()
                              .Name("alertbridge_store_record_dictionary")
                              .Help(
                                  "Id of the dictionary alert records are packed with; 0 "
                                  "until the store has trained one on its first records.")
                              .Register(r)
                              .Add({});
    outbox_pending_bytes_ = &BuildGauge()
                                 .Name("alertbridge_outbox_pending_bytes")
                                 .Help(
                                     "Bytes of request bodies waiting in the outbox, per output, "
                                     "as stored (compressed).")
                                 .Register(r);
    active_alerts_ = &BuildGauge()
                          .Name("alertbridge_active_alerts")
                          .Help("Firing alerts held by the pipeline.")
                          .Register(r)
                          .Add({});
    noise_alerts_ = &BuildCounter()
                         .Name("alertbridge_noise_alerts_total")
                         .Help("Alerts a noise rule held or grouped, by rule (<kind>:<name>).")
                         .Register(r);
    incidents_ = &BuildCounter()
                      .Name("alertbridge_incidents_total")
                      .Help("Incidents opened, merged into another and resolved.")
                      .Register(r);
    incident_messages_ =
        &BuildCounter()
             .Name("alertbridge_incident_messages_total")
             .Help("Messages to people by reason (new, update, repeat, resolve, digest).")
             .Register(r);
    open_incidents_ = &BuildGauge()
                           .Name("alertbridge_incidents_open")
                           .Help("Incidents open now.")
                           .Register(r)
                           .Add({});
    silence_changes_ = &BuildCounter()
                            .Name("alertbridge_silence_changes_total")
                            .Help("Silence changes through the API, by op and result.")
                            .Register(r);
    active_silences_ = &BuildGauge()
                            .Name("alertbridge_silences_active")
                            .Help("Silences active now (updated on changes and each minute).")
                            .Register(r)
                            .Add({});
    queue_depth_ = &BuildGauge()
                        .Name("alertbridge_intake_queue_alerts")
                        .Help("Alerts accepted but not yet processed by the pipeline.")
                        .Register(r)
                        .Add({});
    queue_capacity_ = &BuildGauge()
                           .Name("alertbridge_intake_queue_capacity_alerts")
                           .Help("Bound of the intake queue; beyond it inputs answer 503.")
                           .Register(r)
                           .Add({});
    queue_bytes_ = &BuildGauge()
                        .Name("alertbridge_intake_queue_bytes")
                        .Help(
                            "Bytes held for requests and emails accepted but not yet "
                            "processed.")
                        .Register(r)
                        .Add({});
    acks_held_ = &BuildCounter()
                      .Name("alertbridge_intake_acks_held_total")
                      .Help(
                          "Stored requests whose acknowledgement was held while the engine "
                          "was behind (the intake queue past a sixteenth of its bounds).")
                      .Register(r)
                      .Add({});
    acks_held_now_ = &BuildGauge()
                          .Name("alertbridge_intake_acks_held")
                          .Help("Stored requests whose acknowledgement is held right now.")
                          .Register(r)
                          .Add({});
    queue_capacity_bytes_ = &BuildGauge()
                                 .Name("alertbridge_intake_queue_capacity_bytes")
                                 .Help(
                                     "Bound of intake_queue_bytes (intake.queue_max_bytes); "
                                     "beyond it HTTP answers 503 and SMTP 452.")
                                 .Register(r)
                                 .Add({});
    auto& reloads = BuildCounter()
                        .Name("alertbridge_config_reloads_total")
                        .Help(
                            "Configuration reloads (POST /-/reload, SIGHUP) by outcome: "
                            "applied, or refused (the old configuration keeps running).")
                        .Register(r);
    reloads_applied_ = &reloads.Add({{"outcome", "applied"}});
    reloads_refused_ = &reloads.Add({{"outcome", "refused"}});
    reload_ok_ = &BuildGauge()
                      .Name("alertbridge_config_last_reload_successful")
                      .Help("1 if the last configuration reload (or the start) succeeded.")
                      .Register(r)
                      .Add({});
    reload_ok_->Set(1);
    reload_time_ = &BuildGauge()
                        .Name("alertbridge_config_last_reload_success_timestamp_seconds")
                        .Help("When the configuration running now was loaded (Unix seconds).")
                        .Register(r)
                        .Add({});
    calendar_expired_ = &BuildGauge()
                             .Name("alertbridge_calendar_data_expired")
                             .Help(
                                 "1 while a calendar's data has ended (past valid_until or its "
                                 "last data file): every phase is unknown until next year's "
                                 "file is added.")
                             .Register(r);
    auto& dedupe_family = BuildCounter()
                              .Name("alertbridge_pipeline_alerts_total")
                              .Help("Alerts through the pipeline by stage and outcome.")
                              .Register(r);
    for (auto o : kDedupeOutcomes) {
        dedupe_[std::string(o)] =
            &dedupe_family.Add({{"stage", "dedupe"}, {"outcome", std::string(o)}});
    }
    pipeline_alerts_ = &dedupe_family;
}

}  // namespace alertbridge::telemetry
