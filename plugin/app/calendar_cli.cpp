#include "plugin/app/calendar_cli.hpp"

#include <iostream>

#include <date/tz.h>
#include <fmt/format.h>

#include "plugin/app/setup.hpp"
#include "plugin/calendar/report.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::app {

core::Result<core::TimePoint> parseInstant(const std::string& text, const std::string& zone) {
    if (auto t = core::parseRfc3339(text)) return *t;
    // Without seconds: "THH:MM" followed by Z, an offset or nothing.
    std::string s = text;
    auto tpos = s.find('T');
    if (tpos != std::string::npos && s.size() >= tpos + 6 &&
        (s.size() == tpos + 6 || s[tpos + 6] != ':')) {
        s.insert(tpos + 6, ":00");
        if (auto t = core::parseRfc3339(s)) return *t;
    }
    // Without an offset: a wall-clock time in the calendar's location.
    std::istringstream in(s);
    date::local_seconds local;
    in >> date::parse("%FT%T", local);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) {
        try {
            auto sys = date::locate_zone(zone)->to_sys(local, date::choose::earliest);
            return core::TimePoint(
                std::chrono::duration_cast<core::Duration>(sys.time_since_epoch()));
        } catch (const std::exception& e) {
            return core::Error{e.what()};
        }
    }
    return core::Error{fmt::format(
        "\"{}\" is not a time: use RFC 3339 such as 2026-03-06T22:00:00+08:00 (seconds and "
        "the offset may be left out; without an offset it is the calendar's local time)",
        text)};
}

int calendarCommand(const CalendarCommand& cmd, const core::Clock& clock) {
    auto setup = loadSetup(cmd.config_file);
    if (!setup.config) {
        for (const auto& e : setup.errors) std::cerr << e.format() << "\n";
        return 1;
    }
    if (setup.calendars.empty()) {
        std::cerr << "alertbridge: " << cmd.config_file << " defines no calendar (calendars:)\n";
        return 1;
    }
    std::shared_ptr<const calendar::Calendar> cal;
    std::string names;
    for (const auto& c : setup.calendars) {
        names += (names.empty() ? "" : ", ") + c->name();
        if (cmd.calendar.empty() || c->name() == cmd.calendar) {
            cal = c;
            break;
        }
    }
    if (!cal) {
        std::cerr << "alertbridge: no calendar is named \"" << cmd.calendar
                  << "\" (known: " << names << ")\n";
        return 1;
    }
    for (const auto& w : setup.warnings) std::cerr << "warning: " << w.format() << "\n";
    std::vector<config::ConfigError> horizon;
    checkCalendarHorizons(setup, clock.now(), horizon);
    for (const auto& w : horizon) std::cerr << "warning: " << w.format() << "\n";
    if (cmd.ics) {
        std::optional<std::size_t> group;
        if (!cmd.group.empty()) {
            group = cal->findGroup(cmd.group);
            if (!group) {
                std::cerr << "alertbridge: calendar " << cal->name() << " has no group \""
                          << cmd.group << "\"\n";
                return 1;
            }
        }
        std::cout << calendar::toIcs(*cal, group, clock.now());
        return 0;
    }
    core::TimePoint at = clock.now();
    if (!cmd.at.empty()) {
        auto t = parseInstant(cmd.at, cal->definition().location);
        if (!t) {
            std::cerr << "alertbridge: --at: " << t.error() << "\n";
            return 2;
        }
        at = *t;
    }
    std::cout << (cmd.json ? calendar::stateJson(*cal, at) + "\n" : calendar::stateTable(*cal, at));
    return 0;
}

}  // namespace alertbridge::app
