#pragma once
// ReplaySession: the engine `serve` runs, fed from a recorded stream instead of sockets, on
// a simulated clock. `replay` reads a trace file into it; the scenario tests feed it
// timelines. Alerts are posted as if to POST /api/v2/alerts at the instant given.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "adapters/lookup/table_source.hpp"
#include "plugin/app/engine_setup.hpp"
#include "plugin/app/setup.hpp"

namespace alertbridge::app {

class ReplaySession {
  public:
    // Loads the enrich tables; fails (with the reasons in `error`) when one cannot load.
    static std::unique_ptr<ReplaySession> open(const Setup& setup, core::TimePoint start,
                                               std::string& error);
    ~ReplaySession();

    struct Posted {
        std::size_t alerts = 0;
        std::size_t rejected = 0;
        std::vector<core::Notification> notifications;
    };
    // One Alertmanager API v2 postable alert (a JSON object) at `at`, which must not be
    // before the previous instant. Timers due before `at` fire first.
    Posted post(std::string_view alert_json, core::TimePoint at);
    // A silence change at `at`, as the silences API makes one (the scenario names the id of
    // a new silence); `outcome` gets the answer.
    std::vector<core::Notification> silence(const pipeline::incident::SilenceChange& change,
                                            core::TimePoint at,
                                            pipeline::incident::SilenceOutcome& outcome);
    // Fires every timer due up to `at`.
    std::vector<core::Notification> advance(core::TimePoint at);

    // The labels an alert was posted with (before enrichment), by its fingerprint.
    const core::LabelSet* postedLabels(core::Fingerprint fp) const;
    engine::Engine& engine() { return *engine_; }
    telemetry::Metrics& metrics() { return metrics_; }

  private:
    ReplaySession(const Setup& setup, core::TimePoint start);

    const Setup& setup_;
    core::FakeClock clock_;
    telemetry::Metrics metrics_;
    std::vector<OutputDef> outputs_;
    std::shared_ptr<pipeline::TableSnapshots> tables_;
    std::unique_ptr<lookup::TableSources> sources_;
    std::unique_ptr<engine::Engine> engine_;
    std::unordered_map<core::Fingerprint, core::LabelSet> posted_;
};

}  // namespace alertbridge::app
