#pragma once
// Setup: everything built from a config file before anything runs. The YAML becomes a
// Config, and the email rule packs it names (plus the built-in ones) are compiled. Every
// command goes through loadSetup(), so check-config, email-test and serve agree.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/email/rule_pack.hpp"
#include "plugin/calendar/calendar.hpp"
#include "plugin/config/config.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::app {

struct Setup {
    std::optional<config::Config> config;               // set only when errors is empty
    std::shared_ptr<const email::RuleSet> email_rules;  // idem
    std::vector<std::shared_ptr<const calendar::Calendar>> calendars;  // idem, in config order
    std::vector<config::ConfigError> errors;
    std::vector<config::ConfigError> warnings;
};

Setup loadSetup(const std::string& file);
Setup setupFromString(const std::string& yaml, const std::string& file_name);

// The users' packs named in `cfg` (read now), then the built-in ones. Errors in a pack are
// reported at the pack's file:line; an unreadable file or an unknown built-in name at the
// config's.
std::shared_ptr<const email::RuleSet> compileEmailRules(const config::Config& cfg,
                                                        std::vector<config::ConfigError>& errors);

// Why a calendar needs next year's data: it ended, or ends within 30 days of `now` ("" when
// neither).
std::string calendarHorizonWarning(const calendar::Calendar& cal, core::TimePoint now);
// Warnings for calendars whose data ends within 30 days of `now` (or has ended).
void checkCalendarHorizons(const Setup& s, core::TimePoint now,
                           std::vector<config::ConfigError>& warnings);

// The inputs and email rule packs that relabel rules are scoped to must exist.
void checkRelabelScopes(const config::Config& cfg, const email::RuleSet& rules,
                        std::vector<config::ConfigError>& errors);

}  // namespace alertbridge::app
