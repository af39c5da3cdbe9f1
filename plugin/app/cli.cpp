#include "plugin/app/cli.hpp"

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "alertbridge/version.hpp"
#include "plugin/app/daemon.hpp"
#include "plugin/config/loader.hpp"
#include "plugin/app/registry.hpp"
#include "plugin/app/email_view.hpp"
#include "plugin/app/calendar_cli.hpp"
#include "plugin/app/replay_cli.hpp"
#include "plugin/app/enrich_cli.hpp"
#include "plugin/app/setup.hpp"
#include "adapters/email/mime_text.hpp"
#include "plugin/core/log.hpp"
#include "plugin/core/time.hpp"
#include "plugin/pipeline/normalize.hpp"

#include <fstream>
#include <sstream>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace alertbridge::app {
namespace {

int checkConfig(const std::vector<std::string>& files) {
    bool failed = false;
    for (const auto& f : files) {
        auto r = loadSetup(f);
        if (r.config) r.errors = checkTables(*r.config);
        checkCalendarHorizons(r, core::SystemClock().now(), r.warnings);
        for (const auto& w : r.warnings) std::cerr << "warning: " << w.format() << "\n";
        for (const auto& e : r.errors) std::cerr << e.format() << "\n";
        failed = failed || !r.errors.empty();
    }
    if (failed) return 1;
    std::cout << "SUCCESS\n";
    return 0;
}

// Prints what one email becomes: the alert as one JSON object, then, as text, which rule
// made it and what every other pack made of the message.
int emailTest(const std::string& config_file, const std::string& eml) {
    auto r = loadSetup(config_file);
    if (!r.config) {
        for (const auto& e : r.errors) std::cerr << e.format() << "\n";
        return 1;
    }
    std::ifstream in(eml, std::ios::binary);
    if (!in) {
        std::cerr << "alertbridge: cannot read " << eml << "\n";
        return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    core::SystemClock clock;
    const auto now = clock.now();
    auto parsed = email::parseMail(ss.str());
    if (!parsed) {
        std::cerr << "alertbridge: " << eml << " is not a message: " << parsed.error() << "\n";
        return 1;
    }
    const email::MailText& mail = *parsed;
    auto result = r.email_rules->apply(mail, "", now);
    const core::Alert a = pipeline::normalized(r.config->normalize, result.alert, now);
    const bool resolved = a.resolvedAt(now);
    std::cout << emailResultJson(a, result.rule, now, /*pretty=*/true) << "\n\n";

    if (result.rule == "generic") {
        std::cout << "Rule: generic. No rule pack took this message, so the alert name, "
                     "resource, severity, status and times come from the fields most vendors "
                     "label (listed below) and else from the subject's words and the Date "
                     "header; the subject is the summary. Identity labels:";
        for (const auto& [k, v] : a.identity_labels) std::cout << " " << k;
        std::cout << ". Without a recovery mail the alert resolves after "
                     "email.generic.resolve_timeout ("
                  << core::formatDuration(r.config->email.generic_resolve_timeout) << ").\n";
    } else {
        std::cout << "Rule: " << result.rule << " (" << result.file << "). Identity labels:";
        for (const auto& [k, v] : a.identity_labels) std::cout << " " << k;
        std::cout << ".\n";
        if (!resolved && a.ends_at) {
            std::cout << "The vendor sends no recovery: the alert resolves by itself at "
                      << core::formatRfc3339(*a.ends_at) << " unless the mail comes again.\n";
        }
    }
    if (!result.fields.empty()) {
        std::cout << "\nFields, and where each was found:\n";
        for (const auto& f : result.fields) {
            std::cout << "  " << f.field << " = " << f.value << "   <- " << f.from << "\n";
        }
    }
    for (const auto& w : result.warnings) std::cout << "Warning: " << w << "\n";
    std::cout << "\nThe other packs, in the order they are tried:\n";
    for (const auto& verdict : r.email_rules->explain(mail, "", now)) {
        if (verdict.rule == result.rule) continue;
        std::cout << "  " << verdict.rule << ": "
                  << (verdict.reason.empty() ? "matches too, but comes later" : verdict.reason)
                  << "\n";
    }
    return 0;
}

int serve(const std::string& file) {
    // Read once: the daemon compares a reload's text with the one it started from.
    std::string text;
    if (std::ifstream in(file, std::ios::binary); in) {
        std::ostringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    } else {
        std::cerr << file << ": cannot open the file\n";
        return 1;
    }
    auto r = setupFromString(text, file);
    if (!r.config) {
        for (const auto& e : r.errors) std::cerr << e.format() << "\n";
        std::cerr << "alertbridge: the configuration has " << r.errors.size()
                  << " error(s); not starting\n";
        return 1;
    }
    core::configureLogging(r.config->log.level);

    // Signals are taken synchronously by this thread; every other thread inherits the mask.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    // A file size limit (ulimit -f) must fail a write, which the store handles as a full
    // disk, not kill the process.
    std::signal(SIGXFSZ, SIG_IGN);

    core::SystemClock clock;
    spdlog::info("alertbridge is starting. version={} config={} instance={} data_dir={}", kVersion,
                 file, r.config->global.instance, r.config->global.data_dir);
    spdlog::info("Email rule packs are loaded. packs=\"{}\"",
                 fmt::join(r.email_rules->names(), ","));
    Daemon daemon(std::move(*r.config), r.email_rules, clock, r.calendars);
    daemon.setConfigFile(file, std::move(text));
    auto port = daemon.start();
    if (!port) {
        spdlog::error("alertbridge could not start. error=\"{}\"", port.error());
        return 1;
    }
    int sig = 0;
    // SIGHUP reloads the configuration (the daemon logs the outcome); the others stop.
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) daemon.reload("SIGHUP");
    spdlog::info("Shutting down. signal={}", sig);
    daemon.stop();
    spdlog::info("Stopped cleanly.");
    return 0;
}

}  // namespace

int runCli(int argc, char** argv) {
    CLI::App app{"alertbridge: an on-call companion for Alertmanager and Nightingale"};
    app.set_version_flag("--version", std::string("alertbridge ") + kVersion);
    app.require_subcommand(1);

    std::string config_file;
    auto* serve_cmd = app.add_subcommand("serve", "Run the daemon");
    serve_cmd->add_option("--config,-c", config_file, "Configuration file")->required();

    std::vector<std::string> check_files;
    auto* check_cmd = app.add_subcommand("check-config",
                                         "Validate configuration files without opening any socket");
    check_cmd->add_option("files", check_files, "Configuration files")->required();

    std::string email_config, email_file;
    auto* email_cmd =
        app.add_subcommand("email-test", "Show the alert one email becomes and which rule made it");
    email_cmd->add_option("--config,-c", email_config, "Configuration file")->required();
    email_cmd->add_option("message", email_file, "An RFC 5322 message (.eml)")->required();

    std::string enrich_config, enrich_input = "alertmanager_api";
    std::vector<std::string> enrich_labels;
    auto* enrich_cmd = app.add_subcommand(
        "enrich-test", "Show what each relabel rule, table and classify rule does to a label set");
    enrich_cmd->add_option("--config,-c", enrich_config, "Configuration file")->required();
    enrich_cmd->add_option("--input", enrich_input,
                           "The input the alert comes from (default alertmanager_api)");
    enrich_cmd->add_option("labels", enrich_labels, "The alert's labels, as label=value")
        ->required();

    CalendarCommand cal_cmd;
    auto* cal_app = app.add_subcommand(
        "calendar",
        "Show what a trading-session calendar says at an instant, or its sessions as iCal");
    cal_app->add_option("--config,-c", cal_cmd.config_file, "Configuration file")->required();
    cal_app->add_option("--calendar", cal_cmd.calendar, "Calendar name (default: the first)");
    cal_app->add_option("--at", cal_cmd.at,
                        "Instant, RFC 3339 (default now; without an offset, the calendar's time)");
    cal_app->add_flag("--json", cal_cmd.json, "Print one JSON object");
    cal_app->add_flag("--ics", cal_cmd.ics,
                      "Print the sessions of the data's horizon as iCalendar");
    cal_app->add_option("--group", cal_cmd.group, "With --ics: one group's sessions only");

    ReplayCommand replay_cmd;
    auto* replay_app = app.add_subcommand(
        "replay", "Run a recorded alert trace through the engine on a simulated clock");
    replay_app->add_option("--config,-c", replay_cmd.config_file, "Configuration file")->required();
    replay_app->add_option("--start", replay_cmd.start, "The trace's origin (t = 0), RFC 3339")
        ->required();
    replay_app->add_option("--out", replay_cmd.out, "Write one JSON line per notification here");
    replay_app->add_option(
        "--incidents", replay_cmd.incidents,
        "Write one JSON line per incident here (as it closes, then the open ones)");
    replay_app->add_option("trace", replay_cmd.trace, "The trace, one JSON object per line")
        ->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (*serve_cmd) return serve(config_file);
    if (*check_cmd) return checkConfig(check_files);
    if (*email_cmd) return emailTest(email_config, email_file);
    if (*enrich_cmd) return enrichTest(enrich_config, enrich_input, enrich_labels);
    if (*replay_app) return replayCommand(replay_cmd);
    if (*cal_app) {
        core::SystemClock clock;
        return calendarCommand(cal_cmd, clock);
    }
    return 2;
}

}  // namespace alertbridge::app
