#include "plugin/app/daemon.hpp"

#include <pthread.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <future>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "plugin/app/email_view.hpp"
#include "plugin/app/engine_setup.hpp"
#include "plugin/core/auth.hpp"
#include "plugin/core/time.hpp"
#include "plugin/pipeline/normalize.hpp"
#include "plugin/state/sqlite_store.hpp"

namespace alertbridge::app {

Daemon::Daemon(config::Config config, std::shared_ptr<const email::RuleSet> email_rules,
               const core::Clock& clock,
               std::vector<std::shared_ptr<const calendar::Calendar>> calendars)
    : config_(std::move(config)),
      email_rules_(std::move(email_rules)),
      calendars_(std::move(calendars)),
      clock_(clock) {
    metrics_.queueCapacity().Set(static_cast<double>(config_.intake.queue_capacity));
    metrics_.queueCapacityBytes().Set(static_cast<double>(config_.intake.queue_max_bytes));
}

Daemon::~Daemon() { stop(); }

core::Result<std::uint16_t> Daemon::start() {
    state::SqliteOptions so;
    so.path = (std::filesystem::path(config_.global.data_dir) / "alertbridge.db").string();
    so.synchronous_full = config_.storage.synchronous_full;
    so.cache_mib = config_.storage.cache_mib;
    so.journal_retention = config_.storage.journal_retention;
    so.outbox_retention = config_.storage.outbox_retention;
    so.notification_log_retention = config_.storage.notification_log_retention;
    so.email_retention = config_.email.retention;
    auto store = state::openSqliteStore(so, clock_);
    if (!store) return core::Error{store.error()};
    store_ = std::move(store).value();
    store_->onCommit([this](const state::CommitStats& s) {
        if (s.wal_copies > 0) {
            metrics_.walCheckpoints(false).Increment(static_cast<double>(s.wal_copies));
        }
        if (s.wal_inline_copies > 0) {
            metrics_.walCheckpoints(true).Increment(static_cast<double>(s.wal_inline_copies));
        }
        // From the store's own state: a commit's report may come after a later one's.
        publishStore();
        if (!s.ok) {
            metrics_.storeErrors(state::storeErrorClassName(s.error_class)).Increment();
            return;
        }
        metrics_.journalCommitDuration().Observe(s.seconds);
        if (s.fsync_seconds >= 0) metrics_.walSyncDuration().Observe(s.fsync_seconds);
        metrics_.journalCommits().Increment();
    });

    live_ = std::make_shared<const config::Config>(config_);
    auto set = std::make_shared<OutputSet>();
    set->defs = outputs(*live_);
    // Tables load before the journal replays, so replayed alerts are enriched as before.
    tables_ = std::make_shared<pipeline::TableSnapshots>(live_->enrich.tables.size());
    tables_config_ = live_;
    table_sources_ = std::make_unique<lookup::TableSources>(*live_, tables_, metrics_, clock_);
    if (auto errors = table_sources_->loadInitial(); !errors.empty()) {
        std::string msg = "enrich tables failed to load:";
        for (const auto& e : errors) msg += "\n  " + e;
        return core::Error{msg};
    }
    table_sources_->start();
    engine_ = buildEngine(*live_, metrics_, set->defs, tables_, false);

    if (auto s = restore(); !s) return core::Error{s.error()};

    for (const auto& o : set->defs) {
        set->workers.push_back(makeWorker(o));
        set->made_from.push_back(live_);
        set->workers.back()->start();
    }
    outputs_.store(set);
    metrics_.configLastReloadTime().Set(
        std::chrono::duration<double>(clock_.now().time_since_epoch()).count());
    engine_->start(clock_.now());
    engine_thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "ab-engine");
        engineLoop();
    });

    api_reads_ = std::make_unique<TaskThread>("ab-api-reads", 64);
    api_ = std::make_unique<HttpApi>(decode_, metrics_, *this, clock_);
    net::HttpServerOptions ho;
    ho.listen = config_.listen.http;
    ho.threads = 2;
    ho.max_body_bytes = config_.intake.max_body_bytes;
    ho.max_connections = config_.intake.max_connections;
    ho.idle_timeout = config_.intake.request_timeout;
    ho.head_check = [this](const net::HttpRequest& head, long long length) {
        return api_->checkHead(head, length);
    };
    server_ = std::make_unique<net::HttpServer>(
        ho, [this](net::HttpRequest&& req, const net::Responder& respond) {
            api_->handle(std::move(req), respond);
        });
    auto port = server_->start();
    if (!port) return core::Error{port.error()};
    if (config_.listen.smtp) {
        for (const auto& rule : email_rules_->names()) metrics_.emailRule(rule);
        metrics_.emailRule("generic");
        net::SmtpServerOptions so;
        so.listen = *config_.listen.smtp;
        so.max_connections = config_.email.max_connections;
        so.command_timeout = config_.email.command_timeout;
        so.session.hostname = config_.global.instance;
        so.session.max_message_bytes = config_.email.max_message_bytes;
        so.session.max_recipients = config_.email.max_recipients;
        if (!config_.email.accept_recipients.empty()) {
            so.session.accept_recipient =
                [list = config_.email.accept_recipients](std::string_view address) {
                    return std::any_of(list.begin(), list.end(), [&](const std::string& rule) {
                        if (rule.front() == '@') {
                            return address.size() > rule.size() &&
                                   address.substr(address.size() - rule.size()) == rule;
                        }
                        return address == rule;
                    });
                };
        }
        so.session.accept_data = [this] {
            if (inflight_bytes_.load() >= config_.intake.queue_max_bytes) {
                metrics_.input(email::kInput).reject("bytes_full");
                return false;
            }
            if (!backlogFull().empty()) {
                metrics_.input(email::kInput).reject("backlog_full");
                return false;
            }
            return true;
        };
        so.tls_cert_file = config_.email.tls_cert_file;
        so.tls_key_file = config_.email.tls_key_file;
        so.session.require_auth = config_.email.auth_required;
        if (!config_.email.auth_users.empty()) {
            so.session.authenticate = [this](std::string_view user, std::string_view password) {
                bool ok = false;
                for (const auto& u : config_.email.auth_users) {
                    // Every entry is compared, so the time taken does not tell which matched.
                    ok = (core::constantTimeEquals(user, u.username) &
                          core::constantTimeEquals(password, u.password)) ||
                         ok;
                }
                if (!ok) metrics_.input(email::kInput).reject("unauthorized");
                return ok;
            };
        }
        if (!config_.email.allowed_clients.empty()) {
            so.accept_client = [this](const std::string& address) {
                auto ip = core::parseIp(address);
                const auto& list = config_.email.allowed_clients;
                bool ok = ip && std::any_of(list.begin(), list.end(),
                                            [&](const core::Cidr& c) { return c.contains(*ip); });
                if (!ok) metrics_.input(email::kInput).reject("client_not_allowed");
                return ok;
            };
        }
        smtp_ = std::make_unique<net::SmtpServer>(
            so,
            [this](email::SmtpMessage&& message, const std::string& remote,
                   const net::SmtpDone& done) { acceptEmail(std::move(message), remote, done); });
        auto smtp_port = smtp_->start();
        if (!smtp_port) return core::Error{smtp_port.error()};
        spdlog::info("Listening for SMTP. address={}:{}", config_.listen.smtp->host, *smtp_port);
    }
    for (const auto& box : config_.email.imap) {
        email::ImapOptions io;
        io.name = box.name;
        io.endpoint = box.endpoint;
        io.username = box.username;
        io.password = box.password;
        io.mailbox = box.mailbox;
        io.poll_interval = std::chrono::duration_cast<std::chrono::milliseconds>(box.poll_interval);
        io.move_to = box.move_to;
        io.ca_file = box.ca_file;
        metrics_.imapPolls(box.name, "ok");
        metrics_.imapPolls(box.name, "error");
        metrics_.imapMessages(box.name);
        auto poller = std::make_unique<email::ImapPoller>(
            io,
            [this, name = box.name](std::string raw) {
                return acceptImapMessage(name, std::move(raw));
            },
            [this, name = box.name](const email::ImapPollStats& stats, const std::string& error) {
                metrics_.imapPolls(name, error.empty() ? "ok" : "error").Increment();
                metrics_.imapMessages(name).Increment(static_cast<double>(stats.stored));
                if (!error.empty()) {
                    spdlog::warn(
                        "An IMAP poll failed; the next one retries. mailbox={} error=\"{}\"", name,
                        error);
                } else if (stats.stored > 0) {
                    spdlog::debug("IMAP messages stored. mailbox={} count={}", name, stats.stored);
                }
            },
            clock_);
        poller->start();
        spdlog::info("Polling an IMAP mailbox. name={} endpoint={} mailbox={} every={}", box.name,
                     box.endpoint, box.mailbox, core::formatDuration(box.poll_interval));
        imap_.push_back(std::move(poller));
    }
    checkCalendars(clock_.now(), true);
    ready_.store(true);
    spdlog::info("Listening for HTTP. address={}:{}", config_.listen.http.host, *port);
    return *port;
}

std::shared_ptr<DeliveryWorker> Daemon::makeWorker(const OutputDef& o) {
    // A state sink sends on while its last completion commits; a notification sink waits.
    const bool state = o.encoder->kind() == pipeline::OutputKind::kState;
    DeliveryOptions opts{o.name, o.max_alerts_per_send, o.backoff, o.resend_interval,
                         state ? 2u : 1u};
    return std::make_shared<DeliveryWorker>(opts, o.transport(), *store_, clock_, metrics_);
}

void Daemon::stop() {
    pacer_.answerAll();  // held requests are stored: answer them while the servers run
    if (server_) server_->stop();
    // Before the store: it reads from it. A reload it is running finishes first.
    if (api_reads_) api_reads_->stop();
    std::lock_guard reloading(reload_mu_);
    if (smtp_) smtp_->stop();
    for (auto& p : imap_) p->stop();
    imap_.clear();
    if (table_sources_) table_sources_->stop();
    ready_.store(false);
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (engine_thread_.joinable()) {
        engine_thread_.join();
        checkpointAll();  // the engine thread is gone: this thread owns the state now
    }
    if (auto set = outputSet()) {
        for (const auto& w : set->workers) w->stop();
    }
    if (store_) store_->stop();
    server_.reset();
    smtp_.reset();
}

}  // namespace alertbridge::app
