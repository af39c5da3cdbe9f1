#include "plugin/app/replay_cli.hpp"

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "adapters/alertmanager/codec.hpp"
#include "adapters/lookup/table_source.hpp"
#include "plugin/app/engine_setup.hpp"
#include "plugin/app/incident_json.hpp"
#include "plugin/app/replay_session.hpp"
#include "plugin/app/setup.hpp"
#include "plugin/core/log.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::app {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void putString(Writer& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Writes the notifications of one step of the engine, and counts them.
class NotificationLog {
  public:
    // With incidents (`incidents`), only their messages to people count. Else `people`:
    // the notification sinks; when there is one, only what they were sent counts (a state
    // sink's push mirrors state and reaches no one). Empty: every output counts.
    NotificationLog(std::ostream* out, core::TimePoint start, bool incidents,
                    std::set<std::string> people, const ReplaySession& session)
        : out_(out),
          start_(start),
          incidents_(incidents),
          people_(std::move(people)),
          session_(session) {}

    void write(const std::vector<core::Notification>& notes) {
        for (const auto& n : notes) {
            if (incidents_ != n.to_people) continue;
            if (!incidents_ && !people_.empty() && people_.count(n.receiver) == 0) continue;
            ++by_reason_[std::string(core::notifyReasonName(n.reason))];
            ++total_;
            if (out_ == nullptr) continue;
            rapidjson::StringBuffer sb;
            Writer w(sb);
            bool firing = false;
            for (const auto& a : n.alerts) firing = firing || !a.resolved;
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(n.at - start_).count();
            w.StartObject();
            w.Key("t");
            // Milliseconds as a decimal, exactly: no floating-point formatting in between.
            auto t = fmt::format("{}{}.{:03}", ms < 0 ? "-" : "", std::llabs(ms) / 1000,
                                 std::llabs(ms) % 1000);
            w.RawValue(t.data(), t.size(), rapidjson::kNumberType);
            w.Key("group_key");
            putString(w, n.group_key);
            w.Key("status");
            putString(w, firing ? "firing" : "resolved");
            w.Key("receiver");
            putString(w, n.receiver);
            w.Key("reason");
            putString(w, core::notifyReasonName(n.reason));
            w.Key("alerts");
            w.StartArray();
            for (const auto& a : n.alerts) {
                w.StartObject();
                w.Key("labels");
                w.StartObject();
                if (const auto* labels = session_.postedLabels(a.fingerprint)) {
                    for (const auto& [k, v] : *labels) {
                        putString(w, k);
                        putString(w, v);
                    }
                }
                w.EndObject();
                w.Key("status");
                putString(w, a.resolved ? "resolved" : "firing");
                w.EndObject();
            }
            w.EndArray();
            w.EndObject();
            *out_ << sb.GetString() << '\n';
        }
    }

    std::size_t total() const { return total_; }
    const std::map<std::string, std::size_t>& byReason() const { return by_reason_; }

  private:
    std::ostream* out_;
    core::TimePoint start_;
    bool incidents_ = false;
    std::set<std::string> people_;
    const ReplaySession& session_;
    std::map<std::string, std::size_t> by_reason_;
    std::size_t total_ = 0;
};

core::TimePoint traceTime(core::TimePoint start, double t) {
    auto ms = static_cast<long long>(std::llround(t * 1000.0));
    return start + std::chrono::milliseconds(ms);
}

}  // namespace

int replayCommand(const ReplayCommand& cmd) {
    const core::SystemClock wall;  // only to say how long the replay took
    const auto began = wall.now();
    auto setup = loadSetup(cmd.config_file);
    if (!setup.errors.empty()) {
        for (const auto& e : setup.errors) std::cerr << e.format() << "\n";
        return 1;
    }
    auto start = core::parseRfc3339(cmd.start);
    if (!start) {
        std::cerr << "--start: " << start.error() << "\n";
        return 2;
    }
    std::ifstream in(cmd.trace);
    if (!in) {
        std::cerr << cmd.trace << ": cannot be read\n";
        return 1;
    }
    std::ofstream out;
    if (!cmd.out.empty()) {
        out.open(cmd.out, std::ios::trunc);
        if (!out) {
            std::cerr << cmd.out << ": cannot be written\n";
            return 1;
        }
    }
    const auto& cfg = *setup.config;
    core::configureLogging(cfg.log.level);  // on stderr, like the summary: stdout stays clean
    std::string error;
    auto session = ReplaySession::open(setup, *start, error);
    if (!session) {
        std::cerr << error;
        return 1;
    }
    auto& engine = session->engine();
    std::set<std::string> people;
    for (const auto& o : outputs(cfg)) {
        if (o.encoder->kind() == pipeline::OutputKind::kNotification) people.insert(o.name);
    }
    if (people.empty() && !cfg.noise.enabled && cfg.outputs.alertmanager.empty() &&
        cfg.outputs.nightingale.empty()) {
        std::cerr
            << "warning: the config has no outputs and no noise section: nothing is notified\n";
    }
    NotificationLog log(cmd.out.empty() ? nullptr : &out, *start, cfg.noise.enabled,
                        std::move(people), *session);
    std::ofstream incidents_out;
    if (!cmd.incidents.empty()) {
        incidents_out.open(cmd.incidents, std::ios::trunc);
        if (!incidents_out) {
            std::cerr << cmd.incidents << ": cannot be written\n";
            return 1;
        }
        if (auto* book = engine.pipeline().incidents()) {
            book->onClose([&incidents_out, origin = *start](const core::Incident& inc) {
                incidents_out << incidentJson(inc, origin) << '\n';
            });
        } else {
            std::cerr << "warning: --incidents: the config has no noise section\n";
        }
    }

    std::size_t posts = 0, alerts = 0, rejected = 0, lineno = 0;
    core::TimePoint now = *start;
    std::string line;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        rapidjson::Document doc;
        doc.Parse(line.data(), line.size());
        if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("t") || !doc["t"].IsNumber() ||
            !doc.HasMember("alert") || !doc["alert"].IsObject()) {
            std::cerr << fmt::format(
                "{}:{}: not a trace line: want {{\"t\": seconds, \"alert\": "
                "{{...}}}}\n",
                cmd.trace, lineno);
            return 1;
        }
        auto at = traceTime(*start, doc["t"].GetDouble());
        if (at < now) {
            std::cerr << fmt::format("{}:{}: t goes back in time; a trace is sorted by t\n",
                                     cmd.trace, lineno);
            return 1;
        }
        now = at;
        rapidjson::StringBuffer sb;
        Writer w(sb);
        doc["alert"].Accept(w);
        ++posts;
        auto posted = session->post(std::string_view(sb.GetString(), sb.GetSize()), at);
        alerts += posted.alerts;
        rejected += posted.rejected;
        log.write(posted.notifications);
    }
    log.write(session->advance(now));
    if (out.is_open()) out.flush();
    if (const auto* book = engine.pipeline().incidents(); book && incidents_out.is_open()) {
        for (const auto& [id, inc] : book->open())
            incidents_out << incidentJson(inc, *start) << '\n';
        incidents_out.flush();
    }
    auto& metrics = session->metrics();

    auto secs = std::chrono::duration<double>(wall.now() - began).count();
    std::cerr << fmt::format("replay: {} posts, {} alerts ({} rejected), trace time {} to {}\n",
                             posts, alerts, rejected, core::formatRfc3339(*start),
                             core::formatRfc3339(now));
    // serve warns 30 days ahead of a calendar's end; a trace may run past it outright.
    for (const auto& cal : setup.calendars) {
        if (cal->expired(now)) {
            std::cerr << "warning: the trace runs past a calendar's data: "
                      << calendarHorizonWarning(*cal, now) << "\n";
        }
    }
    std::string reasons;
    for (const auto& [r, n] : log.byReason()) reasons += fmt::format(" {} {}", r, n);
    std::cerr << fmt::format("notifications: {} ({})\n", log.total(),
                             reasons.empty() ? "none" : reasons.substr(1));
    std::string absorbed;
    if (const auto* book = engine.pipeline().incidents()) {
        for (const auto& [rule, n] : book->stats().absorbed)
            absorbed += fmt::format(", {} {}", rule, n);
        std::cerr << fmt::format(
            "incidents: {} opened, {} merged, {} resolved, {} open at the end\n",
            book->stats().opened, book->stats().merged, book->stats().resolved,
            book->open().size());
    }
    std::cerr << fmt::format(
        "not notified: repeats {}, resolves of unknown alerts {}; held or grouped by rule: {}\n",
        metrics.dedupe("repeat").Value(), metrics.dedupe("resolved_unknown").Value(),
        absorbed.empty() ? "none (no noise section)" : absorbed.substr(2));
    std::cerr << fmt::format("active at the end: {} alerts; wall time {:.2f} s\n",
                             engine.pipeline().activeAlerts(), secs);
    return out.is_open() && !out ? 1 : 0;
}

}  // namespace alertbridge::app
