// The daemon's calendar side: the expiry gauges and warnings, and the calendar API
// (/api/v1/calendars/{name} as JSON, /{name}.ics as iCalendar), built off the HTTP threads.
#include <date/date.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/app/calendar_cli.hpp"
#include "plugin/app/daemon.hpp"
#include "plugin/app/setup.hpp"
#include "plugin/calendar/report.hpp"

namespace alertbridge::app {

void Daemon::checkCalendars(core::TimePoint now, bool log) {
    for (const auto& cal : calendarList()) {
        bool expired = cal->expired(now);
        metrics_.calendarExpired(cal->name()).Set(expired ? 1 : 0);
        if (!log) continue;
        if (auto w = calendarHorizonWarning(*cal, now); !w.empty()) {
            spdlog::warn("A calendar needs next year's data file. calendar={} reason=\"{}\"",
                         cal->name(), w);
        }
    }
}

void Daemon::calendars(const net::HttpRequest& req, std::string_view path,
                       const net::Responder& respond) {
    auto reply = [&](int status, std::string type, std::string body) {
        respond(net::HttpResponse{status, std::move(type), std::move(body), {}});
    };
    if (req.method != "GET" && req.method != "HEAD") {
        auto res = net::HttpResponse{405, "application/json", jsonString("use GET"), {}};
        res.headers.emplace_back("Allow", "GET");
        respond(std::move(res));
        return;
    }
    std::string name(path.substr(std::string_view("/api/v1/calendars/").size()));
    const bool ics = name.ends_with(".ics");
    if (ics) name.resize(name.size() - 4);
    std::shared_ptr<const calendar::Calendar> cal;
    for (const auto& c : calendarList()) {
        if (c->name() == name) cal = c;
    }
    if (!cal) {
        reply(404, "application/json",
              jsonString(fmt::format("no calendar is named \"{}\"", name)));
        return;
    }
    std::optional<std::size_t> group;
    if (auto g = queryParam(req.target, "group"); !g.empty()) {
        group = cal->findGroup(g);
        if (!group) {
            reply(400, "application/json",
                  jsonString(fmt::format("calendar {} has no group \"{}\"", name, g)));
            return;
        }
    }
    core::TimePoint at = clock_.now();
    if (auto a = queryParam(req.target, "at"); !a.empty() && !ics) {
        auto t = parseInstant(a, cal->definition().location);
        if (!t) {
            reply(400, "application/json", jsonString("at: " + t.error()));
            return;
        }
        at = *t;
    }
    // A year of sessions is about a megabyte of text: built on the API thread, not here.
    bool posted = api_reads_->post([cal, group, at, ics, respond] {
        if (ics) {
            auto res = net::HttpResponse{
                200, "text/calendar; charset=utf-8", calendar::toIcs(*cal, group, at), {}};
            res.headers.emplace_back("Content-Disposition",
                                     fmt::format("inline; filename=\"{}.ics\"", cal->name()));
            respond(std::move(res));
        } else {
            respond(net::HttpResponse{200, "application/json", calendar::stateJson(*cal, at), {}});
        }
    });
    if (!posted) {
        auto res = net::HttpResponse{
            503, "application/json", jsonString("too many API requests waiting; retry later"), {}};
        res.headers.emplace_back("Retry-After", "1");
        respond(std::move(res));
    }
}

}  // namespace alertbridge::app
