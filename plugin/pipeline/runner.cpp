#include "plugin/pipeline/runner.hpp"

#include <algorithm>
#include <stdexcept>

#include "plugin/pipeline/dedupe.hpp"
#include "plugin/pipeline/deliver.hpp"
#include "plugin/pipeline/enrich/calendar_labels.hpp"
#include "plugin/pipeline/enrich/enrich.hpp"
#include "plugin/pipeline/incident/publish.hpp"
#include "plugin/pipeline/incident/stage.hpp"
#include "plugin/pipeline/normalize.hpp"

namespace alertbridge::pipeline {

Pipeline::Pipeline(const config::Config& config, telemetry::Metrics& metrics,
                   std::vector<std::shared_ptr<const OutputEncoder>> outputs,
                   std::shared_ptr<const TableSnapshots> tables)
    : metrics_(metrics) {
    buildStages(config, std::move(outputs), std::move(tables), core::TimePoint{});
    metrics_.activeAlerts().Set(0);
}

void Pipeline::reconfigure(std::shared_ptr<const config::Config> config,
                           std::vector<std::shared_ptr<const OutputEncoder>> outputs,
                           std::shared_ptr<const TableSnapshots> tables, core::TimePoint now) {
    // The new stages are built before the old ones go, so a failure leaves the old ones.
    auto keep_stages = std::move(stages_);
    auto keep_metrics = std::move(stage_metrics_);
    auto keep_outputs = std::move(outputs_);
    try {
        buildStages(*config, std::move(outputs), std::move(tables), now);
    } catch (...) {
        stages_ = std::move(keep_stages);
        stage_metrics_ = std::move(keep_metrics);
        outputs_ = std::move(keep_outputs);
        throw;
    }
    keep_stages.clear();  // they may read the config they were built from: go first
    held_ = std::move(config);
}

void Pipeline::buildStages(const config::Config& config,
                           std::vector<std::shared_ptr<const OutputEncoder>> outputs,
                           std::shared_ptr<const TableSnapshots> tables, core::TimePoint now) {
    if (!tables) tables = std::make_shared<TableSnapshots>(config.enrich.tables.size());
    // The loader has compiled every regex once already; a failure here is a defect.
    auto relabeler = Relabeler::compile(config.enrich.relabel_configs);
    if (!relabeler) throw std::logic_error("relabel rules failed to compile: " + relabeler.error());
    std::vector<std::unique_ptr<Stage>> stages;
    // The flow of ARCHITECTURE.md. Later stages (suppress, aggregate, route, escalate)
    // slot in between dedupe and deliver.
    stages.push_back(std::make_unique<Normalize>(config.normalize));
    stages.push_back(std::make_unique<Enrich>(config.enrich, std::move(*relabeler),
                                              std::move(tables), metrics_));
    // After enrich, so the calendar's group matchers see the labels the tables added.
    if (const auto& cl = config.enrich.calendar_labels) {
        for (const auto& def : config.calendars) {
            if (def.name != cl->calendar) continue;
            auto cal = calendar::Calendar::build(def);
            if (!cal) throw std::logic_error("calendar failed to build: " + cal.error());
            stages.push_back(std::make_unique<CalendarLabels>(*cl, std::move(*cal)));
        }
    }
    stages.push_back(std::make_unique<Dedupe>(index_, metrics_));
    // Incidents live in the book, which outlives the stages: a reload keeps them.
    if (config.noise.enabled) {
        auto rules =
            std::make_shared<const incident::NoiseRules>(config.noise, config.time_intervals);
        if (book_) {
            book_->reconfigure(std::move(rules), now);
        } else {
            book_ = std::make_unique<incident::IncidentBook>(std::move(rules), &metrics_);
        }
        stages.push_back(std::make_unique<incident::IncidentStage>(*book_, messages_));
    } else {
        book_.reset();
    }
    stages.push_back(std::make_unique<Deliver>(outputs, metrics_, book_.get(), &index_));
    stages_ = std::move(stages);
    outputs_ = std::move(outputs);
    stage_metrics_.clear();
    for (const auto& st : stages_) stage_metrics_.push_back(metrics_.stage(st->name()));
}

void Pipeline::runStage(std::size_t i, core::AlertBatch& batch, Context& ctx) {
    const auto in = batch.size();
    stages_[i]->run(batch, ctx);
    const auto out = batch.size();
    const auto& m = stage_metrics_[i];
    m.received->Increment(static_cast<double>(in));
    m.passed->Increment(static_cast<double>(out));
    if (out < in) m.dropped->Increment(static_cast<double>(in - out));
}

state::StateDelta Pipeline::process(core::AlertBatch batch, long long journal_id,
                                    core::TimePoint now,
                                    std::vector<core::Notification>* notifications) {
    std::vector<Arrival> one;
    one.push_back(Arrival{std::move(batch), journal_id, now});
    return processAll(std::move(one), notifications);
}

state::StateDelta Pipeline::processAll(std::vector<Arrival> arrivals,
                                       std::vector<core::Notification>* notifications) {
    state::StateDelta delta;
    if (arrivals.empty()) return delta;
    const std::size_t deliver = stages_.size() - 1;
    core::AlertBatch through;
    std::size_t total = 0;
    for (const auto& a : arrivals) total += a.alerts.size();
    for (auto& a : arrivals) {
        Context ctx{a.now, delta, notifications};
        for (std::size_t i = 0; i < deliver && !a.alerts.empty(); ++i) runStage(i, a.alerts, ctx);
        if (through.empty() && arrivals.size() == 1) {
            through = std::move(a.alerts);
        } else {
            // Moving an Alert is not cheap: room for every arrival at once.
            if (through.capacity() < total) through.reserve(total);
            through.insert(through.end(), std::make_move_iterator(a.alerts.begin()),
                           std::make_move_iterator(a.alerts.end()));
        }
        // Batches arrive in journal order, so every id up to this one has been applied.
        if (a.journal_id > applied_journal_id_) applied_journal_id_ = a.journal_id;
    }
    Context ctx{arrivals.back().now, delta, notifications};
    if (!through.empty()) runStage(deliver, through, ctx);
    flushMessages(delta, notifications, arrivals.back().now);
    metrics_.activeAlerts().Set(static_cast<double>(index_.size()));
    return delta;
}

state::StateDelta Pipeline::expire(core::TimePoint now,
                                   std::vector<core::Notification>* notifications) {
    std::vector<core::Fingerprint> ended = index_.expiredBy(now);
    state::StateDelta delta;
    if (ended.empty()) return delta;
    core::AlertBatch batch;
    batch.reserve(ended.size());
    for (auto fp : ended) {
        core::Alert a;
        if (decodeRecord(index_.find(fp)->bytes(), fp, a)) {
            a.updated_at = now;  // the resolution is news as of now
            a.change = core::Alert::Change::kResolve;
            batch.push_back(std::move(a));
        }
        index_.erase(fp);
    }
    metrics_.alertsExpired().Increment(static_cast<double>(ended.size()));
    if (book_) book_->observe(batch, now, &messages_);
    Context ctx{now, delta, notifications};
    runStage(stages_.size() - 1, batch, ctx);  // deliver
    flushMessages(delta, notifications, now);
    metrics_.activeAlerts().Set(static_cast<double>(index_.size()));
    return delta;
}

state::StateDelta Pipeline::advanceIncidents(core::TimePoint now,
                                             std::vector<core::Notification>* notifications) {
    state::StateDelta delta;
    if (book_) book_->advance(now, &messages_);
    flushMessages(delta, notifications, now);
    return delta;
}

state::StateDelta Pipeline::changeSilence(const incident::SilenceChange& change,
                                          long long journal_id, core::TimePoint now,
                                          std::vector<core::Notification>* notifications,
                                          incident::SilenceOutcome& outcome) {
    state::StateDelta delta;
    if (journal_id > applied_journal_id_) applied_journal_id_ = journal_id;
    if (!book_) {
        outcome = incident::SilenceOutcome{404, "", "silences need a noise section in the config"};
        return delta;
    }
    outcome = change.op == incident::SilenceChange::Op::kSet
                  ? book_->setSilence(change.silence, change.new_id, now, &messages_)
                  : book_->expireSilence(change.id, now, &messages_);
    flushMessages(delta, notifications, now);
    return delta;
}

void Pipeline::flushMessages(state::StateDelta& delta,
                             std::vector<core::Notification>* notifications, core::TimePoint now) {
    if (!messages_.empty()) {
        messageRows(outputs_, messages_, delta);
        if (notifications != nullptr) {
            notifications->insert(notifications->end(), std::make_move_iterator(messages_.begin()),
                                  std::make_move_iterator(messages_.end()));
        }
        messages_.clear();
    }
    publishIncidents(now, delta);
}

void Pipeline::publishIncidents(core::TimePoint now, state::StateDelta& delta) {
    if (!book_) return;
    auto changed = book_->takeChanged();
    bool wanted = false;
    for (const auto& out : outputs_) {
        wanted = wanted || (out->kind() == OutputKind::kState && out->showsIncidents());
    }
    if (changed.empty() || !wanted) return;
    std::vector<core::Alert> alerts;
    for (auto id : changed) {
        const core::Incident* inc = nullptr;
        if (auto it = book_->open().find(id); it != book_->open().end()) {
            inc = &it->second;
        } else {
            for (const auto& c : book_->closed()) {
                if (c.id == id) inc = &c;
            }
        }
        auto shown = published_.find(id);
        if (inc != nullptr && inc->state != core::IncidentState::kResolved) {
            auto a = incident::incidentAlert(*inc, now);
            if (shown != published_.end() && shown->second != a.labels) {
                a.superseded_labels = shown->second;
            }
            published_[id] = a.labels;
            alerts.push_back(std::move(a));
            continue;
        }
        // Closed, or merged into another: resolved under the labels it was shown with.
        if (shown == published_.end()) continue;
        core::Alert a;
        if (inc != nullptr) {
            a = incident::incidentAlert(*inc, now);
        } else {
            a.annotations.set("alertbridge_state", "merged");
            a.starts_at = now;
            a.updated_at = now;
            a.ends_at = now;
            a.change = core::Alert::Change::kResolve;
        }
        a.labels = shown->second;
        a.fingerprint = incident::incidentFingerprint(id);
        published_.erase(shown);
        alerts.push_back(std::move(a));
    }
    if (alerts.empty()) return;
    std::vector<const core::Alert*> ptrs;
    ptrs.reserve(alerts.size());
    for (const auto& a : alerts) ptrs.push_back(&a);
    for (const auto& out : outputs_) {
        if (out->kind() != OutputKind::kState || !out->showsIncidents()) continue;
        for (auto& row : encodeRows(*out, ptrs)) delta.outbox.push_back(std::move(row));
    }
}

std::vector<state::OutboxInsert> Pipeline::resend(std::size_t output, std::size_t slice,
                                                  std::size_t slices, long long second,
                                                  long long recent) const {
    auto job = resendJob(output, slice, slices, second, recent);
    return job ? job() : std::vector<state::OutboxInsert>{};
}

Pipeline::ResendJob Pipeline::resendJob(std::size_t output, std::size_t slice, std::size_t slices,
                                        long long second, long long recent) const {
    std::vector<std::pair<core::Fingerprint, std::string>> records;
    const auto& encoder = outputs_.at(output);
    // With incidents: each member's incident and hold as it is now, and (with the first
    // slice) the open incidents themselves.
    std::vector<std::pair<std::uint64_t, std::string>> marks;
    std::vector<core::Alert> incidents;
    if (book_ && encoder->showsIncidents() && (slices <= 1 || slice == 0)) {
        for (const auto& [id, inc] : book_->open()) {
            incidents.push_back(incident::incidentAlert(inc, inc.created_at));
        }
    }
    const bool members = !book_ || encoder->showsMembers();
    // With incidents a re-send also carries what changed around an alert (the incident it
    // is in, what suppresses it), so a recent push of the alert does not excuse it.
    const long long excuse = book_ ? 0 : recent;
    auto take = [&](core::Fingerprint fp, const AlertIndex::Entry& e) {
        if (!members || e.shownWithin(second, excuse)) return;
        records.emplace_back(fp, std::string(e.bytes()));
        if (!book_) return;
        const auto* m = book_->member(fp);
        marks.emplace_back(book_->incidentOf(fp), m != nullptr ? m->suppressed : std::string());
    };
    if (slices <= 1) {
        index_.forEach(take);
    } else {
        index_.forEachInPart(slice, slices, take);
    }
    if (records.empty() && incidents.empty()) return {};
    return [encoder, records = std::move(records), marks = std::move(marks),
            incidents = std::move(incidents)]() mutable {
        std::vector<core::Alert> alerts;
        alerts.reserve(records.size() + incidents.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
            core::Alert a;
            if (!decodeRecord(records[i].second, records[i].first, a)) continue;
            if (i < marks.size()) incident::markMember(a, marks[i].first, marks[i].second);
            alerts.push_back(std::move(a));
        }
        for (auto& a : incidents) alerts.push_back(std::move(a));
        std::vector<const core::Alert*> ptrs;
        ptrs.reserve(alerts.size());
        for (const auto& a : alerts) ptrs.push_back(&a);
        return encodeRows(*encoder, ptrs);
    };
}

state::StateDelta Pipeline::checkpointStep(std::size_t max_rows) {
    state::StateDelta d;
    max_rows = std::max<std::size_t>(1, max_rows);
    if (!checkpoint_running_) {
        if (index_.pendingChanges() == 0 && applied_journal_id_ == checkpointed_id_) return d;
        checkpoint_deletes_ = index_.beginCheckpoint();
        checkpoint_target_ = applied_journal_id_;
        checkpoint_running_ = true;
        // The book as of the same journal id; it is stored with the pass's last step.
        if (book_) checkpoint_incidents_ = book_->save();
    }
    while (!checkpoint_deletes_.empty() && d.deletes.size() < max_rows) {
        d.deletes.push_back(checkpoint_deletes_.back());
        checkpoint_deletes_.pop_back();
    }
    bool exhausted = index_.takeCheckpointChunk(max_rows - d.deletes.size(), d.upserts);
    if (exhausted && checkpoint_deletes_.empty()) {
        d.checkpoint_journal_id = checkpoint_target_;  // 0: no journal yet, nothing to skip
        d.incidents_state = std::move(checkpoint_incidents_);
        checkpoint_incidents_.reset();
        checkpointed_id_ = checkpoint_target_;
        checkpoint_running_ = false;
    }
    return d;
}

std::vector<state::StateDelta> Pipeline::checkpoint(std::size_t max_rows) {
    std::vector<state::StateDelta> out;
    do {
        auto d = checkpointStep(max_rows);
        if (!d.empty()) out.push_back(std::move(d));
    } while (checkpoint_running_);
    return out;
}

bool Pipeline::restore(long long row_id, core::Fingerprint fp, std::string_view record) {
    core::Alert a;
    if (!decodeRecord(record, fp, a)) return false;
    index_.load(fp, record, row_id);
    metrics_.activeAlerts().Set(static_cast<double>(index_.size()));
    return true;
}

}  // namespace alertbridge::pipeline
