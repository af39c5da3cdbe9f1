#pragma once
// The `calendars:` section of the config and the data files it names (one per year of
// holidays, closures, evenings without a night session and overrides). Every problem is an
// error with file:line, in alertbridge.yml or in the data file; facts that disagree with the
// night rule are warnings naming the date.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/calendar/types.hpp"
#include "plugin/config/config.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::config {

void loadCalendars(YamlReader& r, const YAML::Node& n, const std::filesystem::path& base_dir,
                   std::vector<ConfigError>& errors, std::vector<ConfigError>& warnings,
                   std::vector<calendar::CalendarDef>& out);

// enrich.calendar_labels: {calendar, match_group_from_alert, labels: {name: field}}. The
// calendar's name is checked against `calendars:` by checkCalendarNames().
void loadCalendarLabels(YamlReader& r, const YAML::Node& n, const std::string& path,
                        std::optional<CalendarLabels>& out);
// Every calendar named elsewhere in the config exists.
void checkCalendarNames(YamlReader& r, const Config& c);

// One data file on its own (the loader's part for one file), for tests and tools.
calendar::YearData loadCalendarData(const std::string& path, std::vector<ConfigError>& errors);

// "2026-03-06" and "2026-03-06..2026-03-09"; nullopt when not one.
std::optional<calendar::Day> parseDay(std::string_view s);
std::optional<calendar::DateRange> parseDayRange(std::string_view s);
// "monday" is 1 (Sunday 0); nullopt for a name that is not a weekday.
std::optional<unsigned> weekdayIndex(std::string_view s);
std::string_view weekdayName(unsigned c_encoding);
// "21:00" is 1260 and "02:30+1" is 1590; nullopt when not one.
std::optional<int> parseSessionTime(std::string_view s);

}  // namespace alertbridge::config
