#pragma once
// Daemon: wires config, store, pipeline, delivery workers and the HTTP server, and owns
// their lifecycle. Threads: HTTP I/O threads decode and validate; the store's writer
// thread group-commits; one engine thread owns all alert state and timers (no locks in
// the domain); one delivery thread per output. start() restores state before serving.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/net/http_server.hpp"
#include "adapters/email/generic_rule.hpp"
#include "adapters/email/imap_poller.hpp"
#include "adapters/email/rule_pack.hpp"
#include "adapters/lookup/table_source.hpp"
#include "adapters/net/smtp_server.hpp"
#include "plugin/app/ack_pacer.hpp"
#include "plugin/app/delivery_worker.hpp"
#include "plugin/app/http_api.hpp"
#include "plugin/app/registry.hpp"
#include "plugin/app/task_thread.hpp"
#include "plugin/config/config.hpp"
#include "plugin/engine/engine.hpp"
#include "plugin/state/store.hpp"
#include "plugin/calendar/calendar.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::app {

// The journal's input id for silence changes (daemon_silences.cpp).
inline constexpr std::string_view kSilenceInput = "silences";

class Daemon final : public Intake {
  public:
    Daemon(config::Config config, std::shared_ptr<const email::RuleSet> email_rules,
           const core::Clock& clock,
           std::vector<std::shared_ptr<const calendar::Calendar>> calendars = {});
    ~Daemon() override;

    // Opens the store, restores alerts and replays unprocessed journal entries, starts the
    // workers and the HTTP listener. Returns the bound HTTP port.
    core::Result<std::uint16_t> start();
    // Stops accepting, lets queued work reach the store, and joins every thread.
    void stop();

    // The file the configuration came from: reload() reads it again. Call before start().
    void setConfigFile(std::string path, std::string text);
    // Live reload (SIGHUP, POST /-/reload): loads and checks the file off the engine thread,
    // loads changed enrich tables, then swaps the new stages, outputs and tables in on the
    // engine thread. Active alerts, timers and the outbox stay; unchanged outputs keep their
    // workers. A file with errors is refused and the running config stays. Sections only a
    // restart can change (config::restartOnlySections) are reported, not applied.
    struct ReloadOutcome {
        bool applied = false;
        std::vector<std::string> errors;    // why it was refused
        std::vector<std::string> warnings;  // applied, but worth a look
    };
    ReloadOutcome reload(std::string_view trigger);

    // Intake: called on an HTTP thread with a decoded, validated batch.
    void submit(const InputDef& input, std::string body, core::TimePoint received_at,
                core::Decoded decoded, const net::Responder& respond) override;
    // Serving, and the store can write.
    bool ready() const override { return ready_.load() && store_ && store_->writable(); }
    std::string notReady() const override {
        if (!ready_.load() || !store_) return "alertbridge is starting";
        if (!store_->writable()) return "the store cannot write: " + store_->failure();
        return "";
    }
    void emails(const net::HttpRequest& req, std::string_view path,
                const net::Responder& respond) override;
    void calendars(const net::HttpRequest& req, std::string_view path,
                   const net::Responder& respond) override;
    void alerts(const net::HttpRequest& req, const net::Responder& respond) override;
    void beforeScrape() override {
        publishQueue();
        publishStore();
        publishRecordPacking();
    }
    void incidents(const net::HttpRequest& req, std::string_view path,
                   const net::Responder& respond) override;
    void notifications(const net::HttpRequest& req, const net::Responder& respond) override;
    void reload(const net::HttpRequest& req, const net::Responder& respond) override;
    void silences(const net::HttpRequest& req, std::string_view path,
                  const net::Responder& respond) override;
    // A silence change (the journal entry's body) on the engine thread; `respond`, if set,
    // gets the answer.
    void applySilence(std::string_view entry, long long journal_id, core::TimePoint at,
                      const net::Responder* respond);
    // alertbridge_silences_active as of `now` (after a change, and each minute).
    void countSilences(core::TimePoint now);
    // The part of emails() that reads the store, on the API reader thread.
    void emailsOnReader(const net::HttpRequest& req, long long id, const std::string& action,
                        const net::Responder& respond);

  private:
    // kFull: a bound was reached (the intake queue in alerts or bytes, or an output's
    // backlog); the reason says which. The sender retries later.
    enum class Outcome { kStored, kNothingToStore, kFull, kStoreError };
    using Accepted = std::function<void(Outcome, long long journal_id, const std::string& reason)>;
    // Loop guard, the bounds, journal; `done` runs once the batch is durable (or not). An
    // email's archive record is written in the same transaction as its journal entry.
    void accept(const InputDef& input, std::string body, core::TimePoint received_at,
                core::AlertBatch batch, std::shared_ptr<state::EmailRecord> email, Accepted done);
    static std::size_t heldBytes(const std::string& body, const core::AlertBatch& batch);
    // Which output's backlog is at its bound ("" when none).
    std::string backlogFull() const;
    void release(std::size_t alerts, std::size_t bytes);
    void publishQueue();          // the queue gauges, from the counts as they are now
    void publishStore();          // the store's writable gauge, from its state as it is now
    void publishRecordPacking();  // record bytes as given and stored, at scrape time
    // Past the soft mark of the intake queue (a sixteenth of either bound): acknowledgements
    // are held until the engine catches up (AckPacer).
    bool behind() const;
    void acceptEmail(email::SmtpMessage&& message, const std::string& remote,
                     const net::SmtpDone& done);
    // An email through the rules, counted; and the archive record of what it became.
    struct DecodedEmail {
        email::MailText mail;
        email::RuleResult result;
    };
    DecodedEmail decodeEmail(std::string_view raw, std::string_view envelope_from,
                             core::TimePoint received_at, bool count = true);
    state::EmailRecord emailRecord(const DecodedEmail& d, long long id, core::TimePoint received_at,
                                   std::string raw) const;
    void reparseEmail(long long id, const net::Responder& respond);
    // A raw message from an IMAP mailbox; returns once it is durable (or could not be).
    bool acceptImapMessage(const std::string& mailbox, std::string raw);
    void post(std::function<void()> task);
    void engineLoop();
    void runBatch(core::AlertBatch batch, long long journal_id, std::size_t counted,
                  core::TimePoint now);
    // On the engine thread: a committed batch waits for the end of the thread's turn (or
    // its next other task), and then everything waiting is applied at once, so a burst of
    // requests makes one outbox row per output rather than one per request.
    void queueArrival(core::AlertBatch batch, long long journal_id, std::size_t counted,
                      std::size_t bytes, core::TimePoint now);
    void applyArrivals();
    // Carries out what the engine asked for; `counted` intake alerts are released once the
    // store has the delta.
    void handle(engine::Effects effects, std::size_t counted);
    // The calendars' expiry gauges, and a log line when one ends within 30 days (at start).
    void checkCalendars(core::TimePoint now, bool log);
    void commitDelta(state::StateDelta delta, std::size_t counted);
    // The outputs and their workers, in the order the engine numbers them. Replaced whole
    // by a reload; read from the engine, writer and HTTP threads.
    struct OutputSet {
        // The config each worker's transport was made from (it reads its output's entry
        // there): a worker kept across reloads keeps its own. First, so it goes last.
        std::vector<std::shared_ptr<const config::Config>> made_from;
        std::vector<OutputDef> defs;
        std::vector<std::shared_ptr<DeliveryWorker>> workers;
    };
    std::shared_ptr<const OutputSet> outputSet() const { return outputs_.load(); }
    std::shared_ptr<DeliveryWorker> makeWorker(const OutputDef& o);
    // Runs `task` on the engine thread and waits for it; false when the thread is stopping.
    bool onEngineThread(std::function<void()> task);
    std::vector<std::shared_ptr<const calendar::Calendar>> calendarList() const {
        std::lock_guard lock(calendars_mu_);
        return calendars_;
    }
    void checkpointStep();
    void checkpointAll();
    core::Status restore();

    config::Config config_;
    std::shared_ptr<const email::RuleSet> email_rules_;
    std::vector<std::shared_ptr<const calendar::Calendar>> calendars_;
    DecodeContext decode_{config_, *email_rules_};
    const core::Clock& clock_;
    telemetry::Metrics metrics_;
    std::unique_ptr<state::Store> store_;
    // The config the engine side runs (stages, outputs, tables, calendars): the one from
    // the start, or from the last reload. The restart-only sections come from config_.
    std::shared_ptr<const config::Config> live_;
    std::string config_file_, config_text_;  // the text live_ was loaded from
    std::mutex reload_mu_;                   // one reload at a time, never during stop()
    mutable std::mutex calendars_mu_;        // guards calendars_ (replaced by reloads)
    std::shared_ptr<pipeline::TableSnapshots> tables_;
    std::shared_ptr<const config::Config> tables_config_;  // what table_sources_ reads
    std::unique_ptr<lookup::TableSources> table_sources_;
    std::unique_ptr<engine::Engine> engine_;
    std::atomic<std::shared_ptr<const OutputSet>> outputs_;
    std::unique_ptr<HttpApi> api_;
    // Store reads for the HTTP API (the email archive), off the HTTP I/O threads.
    std::unique_ptr<TaskThread> api_reads_;
    std::unique_ptr<state::StoreReader> api_reader_;  // used only on api_reads_
    std::unique_ptr<net::HttpServer> server_;
    std::unique_ptr<net::SmtpServer> smtp_;
    std::vector<std::unique_ptr<email::ImapPoller>> imap_;

    std::atomic<std::size_t> inflight_{0};
    std::atomic<std::size_t> inflight_bytes_{0};
    std::mutex queue_gauges_mu_;  // publishQueue()
    std::mutex store_gauge_mu_;   // publishStore(), publishRecordPacking()
    std::pair<std::uint64_t, std::uint64_t> record_bytes_seen_;  // raw, stored: published
    // Holds acknowledgements while the engine is behind; keeps the held gauge.
    AckPacer pacer_{
        [this](std::size_t held) { metrics_.acksHeldNow().Set(static_cast<double>(held)); }};
    std::atomic<bool> ready_{false};

    // The engine thread's task queue.
    std::mutex mu_;
    std::condition_variable cv_;
    struct Task {
        std::function<void()> run;
        bool arrival = false;  // only queues a batch (queueArrival): needs no flush before it
    };
    std::deque<Task> tasks_;
    bool stopping_ = false;
    // Engine thread only: the batches queueArrival() holds until applyArrivals().
    struct Arrivals {
        std::vector<std::pair<engine::Event, core::TimePoint>> events;
        long long last_id = 0;
        std::size_t counted = 0;
        std::size_t bytes = 0;
    };
    Arrivals arrivals_;
    // Engine thread only: batches queued before this instant are applied at it, so that
    // under load one engine turn (and one outbox row per output) covers every request
    // of an apply interval; an idle engine applies a batch at once (README, "How one
    // alert moves", step 3).
    core::TimePoint next_apply_{};
    std::thread engine_thread_;
    // Journal entries up to this id already have their outbox rows stored (set by restore).
    long long replayed_outbox_id_ = 0;
};

}  // namespace alertbridge::app
