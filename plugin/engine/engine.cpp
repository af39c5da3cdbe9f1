#include "plugin/engine/engine.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace alertbridge::engine {

namespace {

long long secondOf(core::TimePoint t) {
    return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

core::TimePoint atSecond(long long s) {
    return core::TimePoint(std::chrono::duration_cast<core::Duration>(std::chrono::seconds(s)));
}

long long slicesOf(core::Duration interval) {
    return std::max<long long>(1,
                               std::chrono::duration_cast<std::chrono::seconds>(interval).count());
}

constexpr auto kHousekeepEvery = std::chrono::minutes(1);
// rounds_from_ before the first round: later than any second, so nothing is excused.
constexpr long long kNotStarted = std::numeric_limits<long long>::max();
// The push marks keep 16 bits of the second (AlertIndex::Entry::shownWithin). Up to this
// interval a stale mark read as recent excuses one re-send and never the next, so no
// alert goes two intervals unshown; beyond it (over 9 hours) nothing is excused.
constexpr long long kLongestExcusingInterval = 32768;

// Stable keys for the rows (and notifications) that rows[from..] hold: the source that
// made them (a journal entry, or a timer and its deadline) and each row's place among
// them. The engine is deterministic, so re-applying the same journal after a crash makes
// the same keys, and the store queues each at most once.
// Messages to people (from the incident book) carry keys of their own and are skipped.
void keyRows(std::vector<state::OutboxInsert>& rows, std::size_t from, const std::string& source,
             std::vector<core::Notification>* notes, std::size_t notes_from) {
    std::size_t n = notes_from;
    for (std::size_t i = from; i < rows.size(); ++i) {
        rows[i].meta.key = fmt::format("{}/{}/{}", rows[i].output, source, i - from);
        if (notes == nullptr) continue;
        while (n < notes->size() && (*notes)[n].to_people) ++n;
        if (n < notes->size()) (*notes)[n++].key = rows[i].meta.key;
    }
}

}  // namespace

Engine::Engine(std::unique_ptr<pipeline::Pipeline> pipeline, EngineOptions options)
    : pipeline_(std::move(pipeline)), options_(std::move(options)) {
    resent_through_.assign(options_.resend_intervals.size(), 0);
    rounds_from_.assign(options_.resend_intervals.size(), kNotStarted);
}

void Engine::start(core::TimePoint now) {
    started_ = true;
    armResends(now);
    timers_.set({TimerKind::kCheckpoint, 0}, now + options_.checkpoint_interval);
    timers_.set({TimerKind::kHousekeep, 0}, now);
    armExpiry();
    armIncidents();
}

void Engine::armResends(core::TimePoint now) {
    const long long second = secondOf(now);
    resent_through_.assign(options_.resend_intervals.size(), 0);
    rounds_from_.assign(options_.resend_intervals.size(), second);
    for (std::size_t i = 0; i < options_.resend_intervals.size(); ++i) {
        if (options_.resend_intervals[i] == core::Duration::zero()) continue;
        // The first slice goes out at the next whole second; a full round takes one interval.
        resent_through_[i] = second;
        timers_.set({TimerKind::kResend, static_cast<std::uint32_t>(i)}, atSecond(second + 1));
    }
}

void Engine::reconfigure(Reconfiguration r, core::TimePoint now) {
    pipeline_->reconfigure(std::move(r.config), std::move(r.outputs), std::move(r.tables), now);
    for (std::size_t i = 0; i < options_.resend_intervals.size(); ++i) {
        timers_.cancel({TimerKind::kResend, static_cast<std::uint32_t>(i)});
    }
    options_.resend_intervals = std::move(r.resend_intervals);
    // Every output's rounds start again from now: a new or changed output gets the whole
    // firing set within one interval, and the others lose at most the round in progress.
    if (started_) {
        armResends(now);
    } else {
        resent_through_.assign(options_.resend_intervals.size(), 0);
        rounds_from_.assign(options_.resend_intervals.size(), kNotStarted);
    }
    armExpiry();
}

Effects Engine::apply(Event event, core::TimePoint now) {
    std::vector<std::pair<Event, core::TimePoint>> one;
    one.emplace_back(std::move(event), now);
    return applyAll(std::move(one));
}

Effects Engine::applyAll(std::vector<std::pair<Event, core::TimePoint>> events) {
    Effects out;
    if (events.empty()) return out;
    auto* notes = options_.report_notifications ? &out.notifications : nullptr;
    std::vector<pipeline::Arrival> arrivals;
    arrivals.reserve(events.size());
    long long last_journal = 0;
    for (auto& [event, now] : events) {
        auto& arrived = std::get<AlertsArrived>(event);
        last_journal = std::max(last_journal, arrived.journal_id);
        arrivals.push_back(pipeline::Arrival{std::move(arrived.alerts), arrived.journal_id, now});
    }
    const auto now = events.back().second;
    out.delta = pipeline_->processAll(std::move(arrivals), notes);
    out.delta.at = now;
    // Without a journal entry (replay, tests), the instant and a sequence stand in for it.
    keyRows(out.delta.outbox, 0,
            last_journal > 0
                ? fmt::format("j{}", last_journal)
                : fmt::format("e{}.{}", now.time_since_epoch().count(), ++unjournaled_),
            notes, 0);
    if (started_ && !pipeline_->checkpointRunning() &&
        pipeline_->pendingChanges() > options_.checkpoint_after_changes) {
        out.checkpoint = true;
    }
    armExpiry();
    armIncidents();
    return out;
}

Effects Engine::changeSilence(const pipeline::incident::SilenceChange& change, long long journal_id,
                              core::TimePoint now, pipeline::incident::SilenceOutcome& outcome) {
    Effects out = advance(now);
    auto* notes = options_.report_notifications ? &out.notifications : nullptr;
    const std::size_t notes_from = notes != nullptr ? notes->size() : 0;
    auto d = pipeline_->changeSilence(change, journal_id, now, notes, outcome);
    std::vector<state::OutboxInsert> rows = std::move(d.outbox);
    keyRows(rows, 0,
            journal_id > 0 ? fmt::format("s{}", journal_id)
                           : fmt::format("e{}.{}", now.time_since_epoch().count(), ++unjournaled_),
            notes, notes_from);
    out.delta.outbox.insert(out.delta.outbox.end(), std::make_move_iterator(rows.begin()),
                            std::make_move_iterator(rows.end()));
    armIncidents();
    return out;
}

// Timers fire one at a time in deadline order. An alert ends at its own endsAt, not at
// the instant the engine got round to it, so a late advance (or a replay that jumps from
// one post to the next) tells the same story as a punctual one. Periodic timers re-arm
// from `now`: a late one catches up once (re-sends hand out the seconds they missed).
Effects Engine::advance(core::TimePoint now) {
    Effects out;
    auto* notes = options_.report_notifications ? &out.notifications : nullptr;
    while (auto due = timers_.popDue(now)) {
        const auto& [at, key] = *due;
        switch (key.kind) {
            case TimerKind::kExpiry: {
                const std::size_t notes_from = notes != nullptr ? notes->size() : 0;
                auto d = pipeline_->expire(at, notes);
                keyRows(d.outbox, 0, fmt::format("x{}", at.time_since_epoch().count()), notes,
                        notes_from);
                out.delta.outbox.insert(out.delta.outbox.end(),
                                        std::make_move_iterator(d.outbox.begin()),
                                        std::make_move_iterator(d.outbox.end()));
                armExpiry();
                armIncidents();
                break;
            }
            case TimerKind::kResend:
                resendsDue(key.index, now, out);
                break;
            case TimerKind::kCheckpoint:
                out.checkpoint = true;
                timers_.set(key, now + options_.checkpoint_interval);
                break;
            case TimerKind::kHousekeep:
                out.housekeep = true;
                timers_.set(key, now + kHousekeepEvery);
                break;
            case TimerKind::kIncident: {
                // Each of the book's deadlines fires at its own instant, up to `at`; the
                // timer is armed again below, so an earlier expiry or resend still interleaves.
                const std::size_t notes_from = notes != nullptr ? notes->size() : 0;
                auto d = pipeline_->advanceIncidents(at, notes);
                keyRows(d.outbox, 0, fmt::format("i{}", at.time_since_epoch().count()), notes,
                        notes_from);
                out.delta.outbox.insert(out.delta.outbox.end(),
                                        std::make_move_iterator(d.outbox.begin()),
                                        std::make_move_iterator(d.outbox.end()));
                armIncidents();
                break;
            }
        }
    }
    armExpiry();
    armIncidents();
    out.delta.at = now;
    return out;
}

// Each second of the clock owns one slice of the firing alerts (by fingerprint), so every
// alert is re-sent once per resend_interval. Advancing late (a busy engine thread, or a
// clock that jumped) hands out every second it passed, at most one full round, so no slice
// is ever skipped; the delivery worker keeps the newest copy of each slice.
void Engine::resendsDue(std::size_t output, core::TimePoint now, Effects& out) {
    const long long slices = slicesOf(options_.resend_intervals[output]);
    const long long second = secondOf(now);
    long long& through = resent_through_[output];
    if (second < through) through = second - 1;  // the clock went back: carry on from now
    // A change pushed within the last interval (and since these rounds began) was shown to
    // the output already; its next re-send waits for its slice's next turn.
    long long& from = rounds_from_.at(output);
    if (second < from) from = second;
    const long long recent =
        slices > kLongestExcusingInterval ? 0 : std::min(slices, second - from);
    for (long long s = std::max(through + 1, second - slices + 1); s <= second; ++s) {
        out.resends.push_back(ResendSlice{output, static_cast<std::size_t>(s % slices),
                                          static_cast<std::size_t>(slices), second, recent});
    }
    through = std::max(through, second);
    timers_.set({TimerKind::kResend, static_cast<std::uint32_t>(output)}, atSecond(second + 1));
}

std::vector<state::OutboxInsert> Engine::resendRows(const ResendSlice& r) const {
    return pipeline_->resend(r.output, r.slice, r.slices, r.second, r.recent);
}

pipeline::Pipeline::ResendJob Engine::resendJob(const ResendSlice& r) const {
    return pipeline_->resendJob(r.output, r.slice, r.slices, r.second, r.recent);
}

std::shared_ptr<const AlertSnapshot> Engine::snapshot(core::TimePoint now) const {
    auto snap = std::make_shared<AlertSnapshot>();
    snap->at = now;
    snap->records.reserve(pipeline_->index().size());
    pipeline_->index().forEach([&](core::Fingerprint fp, const pipeline::AlertIndex::Entry& e) {
        snap->records.emplace_back(fp, std::string(e.bytes()));
    });
    if (const auto* book = pipeline_->incidents()) {
        for (const auto& [id, inc] : book->open()) {
            for (const auto& [fp, m] : inc.members) {
                if (!m.firing) continue;
                snap->why[fp] = AlertSnapshot::Why{id,
                                                   inc.title,
                                                   inc.paged,
                                                   m.via,
                                                   std::string(core::notifyLevelName(m.wanted)),
                                                   m.policy_rule,
                                                   m.suppressed,
                                                   m.notified};
            }
        }
    }
    return snap;
}

void Engine::armIncidents() {
    if (auto t = pipeline_->nextIncidentDeadline()) {
        timers_.set({TimerKind::kIncident, 0}, *t);
    } else {
        timers_.cancel({TimerKind::kIncident, 0});
    }
}

void Engine::armExpiry() {
    if (auto t = pipeline_->index().nextExpiry()) {
        timers_.set({TimerKind::kExpiry, 0}, *t);
    } else {
        timers_.cancel({TimerKind::kExpiry, 0});
    }
}

}  // namespace alertbridge::engine
