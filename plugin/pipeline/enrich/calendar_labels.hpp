#pragma once
// CalendarLabels: the enrich step that adds what a trading-session calendar says about an
// alert (market_phase, market_session, trading_day, or the group), so the hosts can route
// on them too. Computed at the alert's startsAt, never at "now", so every re-post of a firing
// alert carries the same labels and the hosts never see it as a new alert when the market
// changes phase. An alert whose time the calendar cannot answer gets market_phase="unknown".

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "plugin/calendar/calendar.hpp"
#include "plugin/pipeline/stage.hpp"

namespace alertbridge::pipeline {

class CalendarLabels final : public Stage {
  public:
    CalendarLabels(const config::CalendarLabels& cfg,
                   std::shared_ptr<const calendar::Calendar> cal);
    std::string_view name() const override { return "calendar_labels"; }
    void run(core::AlertBatch& batch, Context& ctx) override;
    void apply(core::Alert& alert) const;

  private:
    std::optional<std::size_t> groupOf(const core::LabelSet& labels) const;
    enum class Field : std::uint8_t { kPhase, kSession, kTradingDay, kGroup };
    std::vector<std::pair<std::string, Field>> labels_;
    bool match_group_ = true;
    std::shared_ptr<const calendar::Calendar> cal_;
    // The group depends only on the labels the groups' matchers name (exchange, product):
    // their values key a cache, so the regexes run once per combination, not per alert.
    // Pipeline thread only.
    std::vector<std::string> matcher_labels_;
    mutable std::unordered_map<std::string, std::optional<std::size_t>> groups_;
    mutable std::string key_;
    mutable std::vector<core::LabelSet::View> adds_;
};

}  // namespace alertbridge::pipeline
