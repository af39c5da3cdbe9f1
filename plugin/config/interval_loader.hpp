#pragma once
// `time_intervals:` as Alertmanager writes them (times, weekdays, days_of_month, months,
// years, location), with the calendar fields of plugin/calendar/intervals.hpp. Every mistake
// is an error at file:line.

#include <string>
#include <vector>

#include "plugin/calendar/intervals.hpp"
#include "plugin/config/config.hpp"
#include "plugin/config/yaml_reader.hpp"

namespace alertbridge::config {

void loadTimeIntervals(YamlReader& r, const YAML::Node& n,
                       std::vector<calendar::TimeInterval>& out);
// The calendars and groups the intervals name exist.
void checkIntervalCalendars(YamlReader& r, const Config& c);

}  // namespace alertbridge::config
