#include "plugin/app/replay_session.hpp"

#include <fmt/format.h>

#include "adapters/alertmanager/codec.hpp"

namespace alertbridge::app {

ReplaySession::ReplaySession(const Setup& setup, core::TimePoint start)
    : setup_(setup), clock_(start), outputs_(outputs(*setup.config)) {}

ReplaySession::~ReplaySession() = default;

std::unique_ptr<ReplaySession> ReplaySession::open(const Setup& setup, core::TimePoint start,
                                                   std::string& error) {
    std::unique_ptr<ReplaySession> s(new ReplaySession(setup, start));
    const auto& cfg = *setup.config;
    s->tables_ = std::make_shared<pipeline::TableSnapshots>(cfg.enrich.tables.size());
    s->sources_ = std::make_unique<lookup::TableSources>(cfg, s->tables_, s->metrics_, s->clock_);
    if (auto errors = s->sources_->loadInitial(); !errors.empty()) {
        for (const auto& e : errors) error += fmt::format("enrich tables: {}\n", e);
        return nullptr;
    }
    s->engine_ = buildEngine(cfg, s->metrics_, s->outputs_, s->tables_, true);
    s->engine_->start(start);
    return s;
}

ReplaySession::Posted ReplaySession::post(std::string_view alert_json, core::TimePoint at) {
    Posted out;
    out.notifications = advance(at);
    const auto& cfg = *setup_.config;
    const DecodeContext dctx{cfg, *setup_.email_rules};
    static const InputDef& input = *findInput(alertmanager::kApiInput);
    auto decoded = input.decode(fmt::format("[{}]", alert_json), at, dctx);
    if (!decoded) {
        out.rejected = 1;
        return out;
    }
    out.rejected = decoded->rejected.size();
    auto batch = std::move(decoded->alerts);
    dropOwnMarker(batch, cfg.global);
    out.alerts = batch.size();
    for (auto& a : batch) {
        a.origin.received_at = at;
        posted_[core::identityFingerprint(a)] = a.labels;
    }
    auto effects = engine_->apply(engine::AlertsArrived{std::move(batch), 0}, at);
    for (auto& n : effects.notifications) out.notifications.push_back(std::move(n));
    return out;
}

std::vector<core::Notification> ReplaySession::silence(
    const pipeline::incident::SilenceChange& change, core::TimePoint at,
    pipeline::incident::SilenceOutcome& outcome) {
    auto out = advance(at);
    auto effects = engine_->changeSilence(change, 0, at, outcome);
    for (auto& n : effects.notifications) out.push_back(std::move(n));
    return out;
}

std::vector<core::Notification> ReplaySession::advance(core::TimePoint at) {
    clock_.set(at);
    return engine_->advance(at).notifications;
}

const core::LabelSet* ReplaySession::postedLabels(core::Fingerprint fp) const {
    auto it = posted_.find(fp);
    return it == posted_.end() ? nullptr : &it->second;
}

}  // namespace alertbridge::app
