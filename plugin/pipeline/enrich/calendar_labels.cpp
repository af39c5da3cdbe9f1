#include "plugin/pipeline/enrich/calendar_labels.hpp"

#include <algorithm>
#include <array>

namespace alertbridge::pipeline {

CalendarLabels::CalendarLabels(const config::CalendarLabels& cfg,
                               std::shared_ptr<const calendar::Calendar> cal)
    : match_group_(cfg.match_group_from_alert), cal_(std::move(cal)) {
    for (const auto& [label, field] : cfg.labels) {
        Field f = field == "phase"     ? Field::kPhase
                  : field == "session" ? Field::kSession
                  : field == "group"   ? Field::kGroup
                                       : Field::kTradingDay;
        labels_.emplace_back(label, f);
    }
    for (const auto& g : cal_->definition().groups) {
        for (const auto& m : g.matchers) {
            if (std::find(matcher_labels_.begin(), matcher_labels_.end(), m.name()) ==
                matcher_labels_.end()) {
                matcher_labels_.push_back(m.name());
            }
        }
    }
}

std::optional<std::size_t> CalendarLabels::groupOf(const core::LabelSet& labels) const {
    key_.clear();
    for (const auto& name : matcher_labels_) {
        if (const auto* v = labels.get(name)) key_ += *v;
        key_ += '\xff';  // not in UTF-8 text: values cannot run into each other
    }
    if (auto it = groups_.find(key_); it != groups_.end()) return it->second;
    constexpr std::size_t kMaxCached = 4096;  // distinct exchange/product pairs are few
    if (groups_.size() >= kMaxCached) groups_.clear();
    auto g = cal_->groupFor(labels);
    groups_.emplace(key_, g);
    return g;
}

void CalendarLabels::run(core::AlertBatch& batch, Context&) {
    for (auto& a : batch) apply(a);
}

void CalendarLabels::apply(core::Alert& alert) const {
    auto at = alert.starts_at != core::TimePoint{} ? alert.starts_at : alert.updated_at;
    std::optional<std::size_t> group;
    if (match_group_) group = groupOf(alert.labels);
    auto s = group ? cal_->at(*group, at) : cal_->atAny(at);
    // "YYYY-MM-DD" without a stream or an allocation: this runs for every alert.
    std::array<char, 10> day{};
    if (s.trading_day) {
        date::year_month_day ymd{*s.trading_day};
        auto digits = [&day](std::size_t at, unsigned v, std::size_t n) {
            for (std::size_t k = n; k-- > 0; v /= 10) day[at + k] = static_cast<char>('0' + v % 10);
        };
        digits(0, static_cast<unsigned>(static_cast<int>(ymd.year())), 4);
        day[4] = '-';
        digits(5, static_cast<unsigned>(ymd.month()), 2);
        day[7] = '-';
        digits(8, static_cast<unsigned>(ymd.day()), 2);
    }
    // One merge for every label; an empty value (no session while closed, no trading day
    // when unknown) removes a stale label instead.
    adds_.clear();
    for (const auto& [label, field] : labels_) {
        std::string_view value;
        switch (field) {
            case Field::kPhase:
                value = calendar::phaseName(s.phase);
                break;
            case Field::kSession:
                value = calendar::sessionName(s.session);
                break;
            case Field::kTradingDay:
                if (s.trading_day) value = std::string_view(day.data(), day.size());
                break;
            case Field::kGroup:
                value = group ? std::string_view(cal_->groupName(*group)) : "any";
                break;
        }
        if (value.empty()) {
            alert.labels.erase(label);
        } else {
            adds_.emplace_back(label, value);
        }
    }
    alert.labels.setMany(adds_, true);
}

}  // namespace alertbridge::pipeline
