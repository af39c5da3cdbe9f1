#include "plugin/app/cli.hpp"

#include <csignal>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "alertbridge/version.hpp"
#include "plugin/app/daemon.hpp"
#include "plugin/config/loader.hpp"
#include "plugin/core/log.hpp"

namespace alertbridge::app {
namespace {

int checkConfig(const std::vector<std::string>& files) {
    bool failed = false;
    for (const auto& f : files) {
        auto r = config::loadConfig(f);
        for (const auto& e : r.errors) std::cerr << e.format() << "\n";
        failed = failed || !r.errors.empty();
    }
    if (failed) return 1;
    std::cout << "SUCCESS\n";
    return 0;
}

int serve(const std::string& file) {
    auto r = config::loadConfig(file);
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
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    core::SystemClock clock;
    spdlog::info("alertbridge is starting. version={} config={} instance={} data_dir={}", kVersion,
                 file, r.config->global.instance, r.config->global.data_dir);
    Daemon daemon(std::move(*r.config), clock);
    auto port = daemon.start();
    if (!port) {
        spdlog::error("alertbridge could not start. error=\"{}\"", port.error());
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
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

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (*serve_cmd) return serve(config_file);
    if (*check_cmd) return checkConfig(check_files);
    return 2;
}

}  // namespace alertbridge::app
