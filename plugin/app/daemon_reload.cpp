// Live reload (SIGHUP, POST /-/reload). The new file is loaded and checked, and changed
// enrich tables are loaded, on the calling thread; the swap (stages, outputs, tables) runs
// on the engine thread between two events, so no event sees half of each config. Workers
// of changed or removed outputs are stopped before their successors start, so no row is
// ever sent by two workers.
#include <fstream>
#include <future>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "plugin/app/daemon.hpp"
#include "plugin/app/setup.hpp"
#include "plugin/config/config_diff.hpp"
#include "plugin/core/log.hpp"

namespace alertbridge::app {

void Daemon::setConfigFile(std::string path, std::string text) {
    config_file_ = std::move(path);
    config_text_ = std::move(text);
}

bool Daemon::onEngineThread(std::function<void()> task) {
    std::promise<void> done;
    {
        std::lock_guard lock(mu_);
        // The engine loop runs every queued task before it exits, so one queued here runs.
        if (stopping_ || !engine_thread_.joinable()) return false;
        tasks_.push_back(Task{[&task, &done] {
            task();
            done.set_value();
        }});
    }
    cv_.notify_one();
    done.get_future().wait();
    return true;
}

Daemon::ReloadOutcome Daemon::reload(std::string_view trigger) {
    std::lock_guard reloading(reload_mu_);
    ReloadOutcome out;
    auto refuse = [&](std::vector<std::string> errors) {
        out.errors = std::move(errors);
        // The gauge before the counter: whoever sees the count move sees the outcome.
        metrics_.configLastReloadSuccessful().Set(0);
        metrics_.configReloads(false).Increment();
        spdlog::error(
            "The configuration was not reloaded; the running one stays. trigger={} file={} "
            "errors={}",
            trigger, config_file_, out.errors.size());
        for (const auto& e : out.errors) spdlog::error("  {}", e);
        return out;
    };
    if (config_file_.empty()) return refuse({"this daemon was not started from a file"});
    std::string text;
    {
        std::ifstream in(config_file_, std::ios::binary);
        if (!in) return refuse({fmt::format("{}: cannot be read", config_file_)});
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    auto setup = setupFromString(text, config_file_);
    if (!setup.config) {
        std::vector<std::string> errors;
        for (const auto& e : setup.errors) errors.push_back(e.format());
        return refuse(std::move(errors));
    }
    for (const auto& w : setup.warnings) out.warnings.push_back(w.format());
    for (const auto& section : config::changedRestartSections(config_text_, text)) {
        out.warnings.push_back(
            fmt::format("{}: the {} section changed; it takes effect at the next restart",
                        config_file_, section));
    }
    auto next = std::make_shared<const config::Config>(std::move(*setup.config));

    // Tables: kept when the enrich section is unchanged, else loaded now (a broken file is
    // refused here, as at start).
    std::shared_ptr<pipeline::TableSnapshots> tables = tables_;
    std::unique_ptr<lookup::TableSources> sources;
    if (config::sectionText(config_text_, "enrich") != config::sectionText(text, "enrich")) {
        tables = std::make_shared<pipeline::TableSnapshots>(next->enrich.tables.size());
        sources = std::make_unique<lookup::TableSources>(*next, tables, metrics_, clock_);
        if (auto errors = sources->loadInitial(); !errors.empty()) return refuse(errors);
    }

    // Outputs: an unchanged entry keeps its worker (and its connection and re-send queue).
    auto old_set = outputSet();
    auto old_entries = config::outputEntries(config_text_);
    auto new_entries = config::outputEntries(text);
    auto set = std::make_shared<OutputSet>();
    set->defs = outputs(*next);
    std::vector<std::shared_ptr<DeliveryWorker>> retired, fresh;
    std::map<std::string,
             std::pair<std::shared_ptr<DeliveryWorker>, std::shared_ptr<const config::Config>>>
        kept;
    for (std::size_t i = 0; i < old_set->defs.size(); ++i) {
        const auto& name = old_set->defs[i].name;
        auto before = old_entries.find(name);
        auto after = new_entries.find(name);
        if (before != old_entries.end() && after != new_entries.end() &&
            before->second == after->second) {
            kept[name] = {old_set->workers[i], old_set->made_from[i]};
        } else {
            retired.push_back(old_set->workers[i]);
            if (after == new_entries.end()) {
                out.warnings.push_back(fmt::format(
                    "output {} was removed; what it had not sent stays in the store and goes "
                    "out if an output of that name is configured again",
                    name));
            }
        }
    }
    for (const auto& def : set->defs) {
        if (auto k = kept.find(def.name); k != kept.end()) {
            set->workers.push_back(k->second.first);
            set->made_from.push_back(k->second.second);
        } else {
            set->workers.push_back(makeWorker(def));
            set->made_from.push_back(next);
            fresh.push_back(set->workers.back());
        }
    }

    engine::Reconfiguration r{next, {}, {}, tables};
    for (const auto& def : set->defs) {
        r.outputs.push_back(def.encoder);
        r.resend_intervals.push_back(def.resend_interval);
    }
    std::size_t active = 0;
    bool swapped = onEngineThread([&] {
        engine_->reconfigure(std::move(r), clock_.now());
        outputs_.store(set);
        active = engine_->pipeline().activeAlerts();
    });
    if (!swapped) return refuse({"alertbridge is stopping"});

    // The old workers finish the request they have in flight; only then do their successors
    // (same name, same outbox rows) start.
    for (const auto& w : retired) w->stop();
    for (const auto& w : fresh) w->start();
    for (const auto& w : set->workers) w->notify();
    const bool tables_reloaded = sources != nullptr;
    if (sources) {
        sources->start();
        if (table_sources_) table_sources_->stop();
        table_sources_ = std::move(sources);
        tables_ = std::move(tables);
        tables_config_ = next;  // the old sources, which read the old one, are gone
    }
    {
        std::lock_guard lock(calendars_mu_);
        calendars_ = setup.calendars;
    }
    core::configureLogging(next->log.level);
    live_ = std::move(next);
    config_text_ = std::move(text);
    checkCalendars(clock_.now(), true);

    out.applied = true;
    metrics_.configLastReloadSuccessful().Set(1);
    metrics_.configLastReloadTime().Set(
        std::chrono::duration<double>(clock_.now().time_since_epoch()).count());
    metrics_.configReloads(true).Increment();
    spdlog::info(
        "The configuration was reloaded. trigger={} file={} outputs={} outputs_restarted={} "
        "tables_reloaded={} active_alerts={}",
        trigger, config_file_, set->defs.size(), fresh.size(), tables_reloaded, active);
    for (const auto& w : out.warnings) spdlog::warn("  {}", w);
    return out;
}

void Daemon::reload(const net::HttpRequest& req, const net::Responder& respond) {
    if (req.method != "POST" && req.method != "PUT") {
        auto res = jsonReply(405, jsonString("use POST"));
        res.headers.emplace_back("Allow", "POST");
        respond(std::move(res));
        return;
    }
    // Loading tables and waiting for the engine thread must not hold an HTTP thread.
    if (!api_reads_->post([this, respond] {
            auto r = reload("http");
            std::string body = r.applied ? "{\"status\":\"applied\",\"warnings\":["
                                         : "{\"status\":\"refused\",\"errors\":[";
            const auto& list = r.applied ? r.warnings : r.errors;
            for (std::size_t i = 0; i < list.size(); ++i) {
                if (i > 0) body += ",";
                body += jsonString(list[i]);
                if (body.back() == '\n') body.pop_back();
            }
            body += "]}\n";
            respond(jsonReply(r.applied ? 200 : 400, std::move(body)));
        })) {
        auto res = jsonReply(503, jsonString("too many API requests waiting; retry later"));
        res.headers.emplace_back("Retry-After", "1");
        respond(std::move(res));
    }
}

}  // namespace alertbridge::app
