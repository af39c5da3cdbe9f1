#pragma once
// IncidentBook: turns the alert changes that come out of dedupe into incidents, and decides
// which messages reach people and when. It owns its timers (group wait, group interval,
// repeat, resolve wait, digests, maintenance window edges); the engine asks nextDeadline()
// and calls advance(), so nothing here sleeps or reads a clock.
//
// How an alert finds its incident (first match wins, several matches merge):
//   - it fired before and its incident is still open (a flap rejoins, never re-pages);
//   - a storm is on in its scope;
//   - an open incident has its group key (group_by);
//   - an incident that first named one of its parents within topology.window.
// What people get (per incident): one page when its first page-level alert fires (after
// group_wait); an update when another page-level alert joins (at most one per
// group_interval); a repeat every repeat_interval while it fires; a resolution when every
// alert has been resolved for resolve_wait (settle, for a flapping one), only if it was
// paged or digested. Digest-level incidents go into their team's next digest.
//
// Engine thread only; deterministic: the same changes at the same instants give the same
// messages in the same order.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plugin/core/alert.hpp"
#include "plugin/core/incident.hpp"
#include "plugin/core/notification.hpp"
#include "plugin/pipeline/incident/rules.hpp"
#include "plugin/pipeline/incident/silences.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::pipeline::incident {

struct BookStats {
    std::map<std::string, std::uint64_t> absorbed;  // "<kind>:<rule>" -> alerts held or grouped
    std::uint64_t opened = 0;
    std::uint64_t merged = 0;
    std::uint64_t resolved = 0;
};

class IncidentBook {
  public:
    explicit IncidentBook(std::shared_ptr<const NoiseRules> rules,
                          telemetry::Metrics* metrics = nullptr);

    // New rules (live reload); open incidents, members and timers stay.
    void reconfigure(std::shared_ptr<const NoiseRules> rules, core::TimePoint now);

    // The changes of one batch (alerts dedupe marked new, updated or resolved), at `now`.
    void observe(const core::AlertBatch& changes, core::TimePoint now,
                 std::vector<core::Notification>* out);
    // Fires every timer due at or before `now`.
    void advance(core::TimePoint now, std::vector<core::Notification>* out);
    std::optional<core::TimePoint> nextDeadline() const;

    // Silences, changed in the order the journal holds the changes. A change re-decides at
    // once the firing alerts it starts or stops muting (one that is no longer muted is
    // notified if it still fires release_wait later); starts and ends are timers.
    SilenceOutcome setSilence(core::Silence s, const std::string& new_id, core::TimePoint now,
                              std::vector<core::Notification>* out);
    SilenceOutcome expireSilence(const std::string& id, core::TimePoint now,
                                 std::vector<core::Notification>* out);
    const Silences& silences() const { return silences_; }

    const std::map<std::uint64_t, core::Incident>& open() const { return open_; }
    const std::deque<core::Incident>& closed() const { return closed_; }
    // The open incident an alert belongs to (0: none), and its member entry there.
    std::uint64_t incidentOf(core::Fingerprint fp) const;
    const core::IncidentMember* member(core::Fingerprint fp) const;
    // The incidents that changed since the last call (opened, joined, paged, resolved,
    // merged away), for what the state sinks are shown of them.
    std::set<std::uint64_t> takeChanged() { return std::exchange(changed_, {}); }
    const BookStats& stats() const { return stats_; }
    // The book as JSON (book_state.cpp), saved with each checkpoint; load() takes it back
    // at start-up (false: unreadable or from another version; the book is then empty).
    // Closed incidents are not kept across a restart.
    std::string save() const;
    bool load(std::string_view text);
    // Called with each incident as it closes (replay writes them out).
    void onClose(std::function<void(const core::Incident&)> fn) { on_close_ = std::move(fn); }

  private:
    using Id = std::uint64_t;
    struct Storm {
        std::deque<std::pair<core::TimePoint, core::Fingerprint>> recent;
        Id incident = 0;
        core::TimePoint last{};
        std::string rule;
        core::Duration window{};
    };
    struct DigestEntry {
        Id incident = 0;
        bool resolution = false;
    };

    void fired(const core::Alert& a, core::TimePoint now, bool counts_as_change = true);
    void resolved(core::Fingerprint fp, core::TimePoint now);
    void updated(const core::Alert& a, core::TimePoint now);
    Id place(const core::Alert& a, core::TimePoint now, std::string& via);
    Id survivor(const std::set<Id>& ids) const;
    Id openIncident(const std::string& group_key, const std::string& kind, core::TimePoint now);
    void merge(Id into, Id from, core::TimePoint now, const std::string& why);
    void countStorms(const core::Alert& a, Id id, core::TimePoint now);
    void decide(core::Incident& inc, core::IncidentMember& m, core::TimePoint now);
    void retitle(core::Incident& inc);
    void review(core::Incident& inc, core::TimePoint now,
                core::Duration wait = core::Duration::zero());
    void settle(core::Incident& inc, core::TimePoint now);
    static std::size_t relevantFiring(const core::Incident& inc);
    void rearm(core::Incident& inc);
    void note(core::Incident& inc, core::TimePoint at, std::string what);
    Id resolveId(Id id) const;
    std::size_t flips(core::Fingerprint fp, core::TimePoint now);
    std::string inhibitedBy(const core::LabelSet& labels, core::Fingerprint fp,
                            core::TimePoint now) const;
    void countInhibitSources(const core::LabelSet& labels, int delta);
    void reheld(core::TimePoint now);
    void resilence(core::TimePoint now);

    // Timers and messages (notify.cpp).
    void wake(Id id, core::TimePoint now, std::vector<core::Notification>* out);
    void send(core::Incident& inc, core::NotifyReason reason, core::TimePoint now,
              std::vector<core::Notification>* out);
    void close(core::Incident& inc, core::TimePoint now, std::vector<core::Notification>* out);
    void queueDigest(core::Incident& inc, bool resolution);
    void sendDigests(std::size_t digest, core::TimePoint now, std::vector<core::Notification>* out);
    core::TimePoint nextDigestAt(std::size_t digest, core::TimePoint after) const;

    std::shared_ptr<const NoiseRules> rules_;
    Id next_id_ = 1;
    std::map<Id, core::Incident> open_;
    std::deque<core::Incident> closed_;  // the latest ones, for the API
    std::unordered_map<core::Fingerprint, Id> by_fp_;
    std::unordered_map<std::string, Id> by_group_;
    // Parent -> the incidents that named it, and when each first did: an alert joins through
    // a parent only within the window from then (a burst, not a week).
    std::unordered_map<std::string, std::vector<std::pair<Id, core::TimePoint>>> by_link_;
    std::map<Id, Id> merged_into_;
    std::map<std::string, Storm> storms_;
    std::unordered_map<core::Fingerprint, std::deque<core::TimePoint>> changes_;
    std::set<std::pair<core::TimePoint, Id>> wakes_;
    std::map<Id, core::TimePoint> wake_at_;
    // Digests: per digest, group value -> entries, and when each digest goes next.
    std::vector<std::map<std::string, std::vector<DigestEntry>>> digest_queue_;
    std::vector<core::TimePoint> digest_at_;
    // Members a rule holds that would otherwise be notified: re-decided when windows end.
    std::set<std::pair<Id, core::Fingerprint>> held_;
    std::optional<core::TimePoint> held_check_;
    std::optional<core::TimePoint> edge_at_;
    Silences silences_;
    std::optional<core::TimePoint> silence_edge_;  // the next start or end of a silence
    // Inhibit sources: per rule, the equal labels' values -> firing sources.
    std::vector<std::unordered_map<std::string, std::size_t>> inhibit_sources_;
    BookStats stats_;
    telemetry::Metrics* metrics_ = nullptr;
    void absorbed(const std::string& rule, std::uint64_t n = 1);
    void counted(std::string_view event);
    std::function<void(const core::Incident&)> on_close_;
    std::uint64_t sequence_ = 0;  // numbers the messages
    std::set<Id> changed_;
};

}  // namespace alertbridge::pipeline::incident
