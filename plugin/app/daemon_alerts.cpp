// GET /api/v1/alerts: the active alerts with their enriched labels, from a snapshot the
// engine takes on its own thread (a copy of the records, nothing more); decoding, filtering
// and rendering happen on the API reader thread. The HTTP threads never touch engine state
// or the store.
#include <charconv>
#include <future>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/app/daemon.hpp"
#include "plugin/core/matcher.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::app {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void labels(Writer& w, const core::LabelSet& set) {
    w.StartObject();
    for (const auto& [k, v] : set) {
        str(w, k);
        str(w, v);
    }
    w.EndObject();
}

// {"at", "count", "alerts": [{fingerprint, labels, annotations, startsAt, endsAt,
// updatedAt, severity, status, suppressedBy}]}, sorted by fingerprint.
std::string render(const engine::AlertSnapshot& snap, const std::vector<core::Matcher>& filter,
                   core::Fingerprint only) {
    std::vector<core::Alert> alerts;
    for (const auto& [fp, record] : snap.records) {
        if (only != 0 && fp != only) continue;
        core::Alert a;
        if (!pipeline::decodeRecord(record, fp, a)) continue;
        if (core::matchesAll(filter, a.labels)) alerts.push_back(std::move(a));
    }
    std::sort(alerts.begin(), alerts.end(),
              [](const auto& x, const auto& y) { return x.fingerprint < y.fingerprint; });
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("at");
    str(w, core::formatRfc3339(snap.at));
    w.Key("count");
    w.Uint64(alerts.size());
    w.Key("alerts");
    w.StartArray();
    for (const auto& a : alerts) {
        w.StartObject();
        w.Key("fingerprint");
        str(w, core::fingerprintHex(a.fingerprint));
        w.Key("labels");
        labels(w, a.labels);
        w.Key("annotations");
        labels(w, a.annotations);
        w.Key("startsAt");
        str(w, core::formatRfc3339(a.starts_at));
        w.Key("endsAt");
        if (a.ends_at) {
            str(w, core::formatRfc3339(*a.ends_at));
        } else {
            w.Null();
        }
        w.Key("updatedAt");
        str(w, core::formatRfc3339(a.updated_at));
        w.Key("severity");
        str(w, core::severityName(a.severity));
        w.Key("status");
        str(w, "firing");
        // What holds it ("<kind>:<rule>": maintenance, suppress, inhibit), and why it was
        // or was not told: its incident and the policy (with a noise section).
        auto why = snap.why.find(a.fingerprint);
        w.Key("suppressedBy");
        w.StartArray();
        if (why != snap.why.end() && !why->second.suppressed.empty()) {
            str(w, why->second.suppressed);
        }
        w.EndArray();
        if (why != snap.why.end()) {
            const auto& y = why->second;
            w.Key("incident");
            w.StartObject();
            w.Key("id");
            w.Uint64(y.incident);
            w.Key("title");
            str(w, y.incident_title);
            w.Key("paged");
            w.Bool(y.incident_paged);
            w.Key("via");
            str(w, y.via);
            w.Key("policy");
            str(w, y.policy);
            w.Key("policy_rule");
            str(w, y.policy_rule);
            w.Key("notified");
            w.Bool(y.notified);
            w.EndObject();
        }
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return sb.GetString();
}

}  // namespace

void Daemon::alerts(const net::HttpRequest& req, const net::Responder& respond) {
    if (req.method != "GET" && req.method != "HEAD") {
        auto res = jsonReply(405, jsonString("use GET"));
        res.headers.emplace_back("Allow", "GET");
        respond(std::move(res));
        return;
    }
    // No filter: every active alert.
    auto text = queryParam(req.target, "filter");
    auto filter = text.empty()
                      ? core::Result<std::vector<core::Matcher>>(std::vector<core::Matcher>{})
                      : core::parseMatchers(text);
    if (!filter) {
        respond(jsonReply(400, jsonString("filter: " + filter.error())));
        return;
    }
    // ?fingerprint= (16 hex digits, as every API shows it): that one alert.
    core::Fingerprint only = 0;
    if (auto hex = queryParam(req.target, "fingerprint"); !hex.empty()) {
        auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), only, 16);
        if (ec != std::errc() || end != hex.data() + hex.size() || only == 0) {
            respond(jsonReply(400, jsonString("fingerprint: 16 hexadecimal digits")));
            return;
        }
    }
    // The reader thread bounds how many requests wait; it asks the engine for a snapshot
    // and waits for it there, never on an HTTP thread.
    bool queued = api_reads_->post([this, respond, only, matchers = std::move(*filter)] {
        auto promise =
            std::make_shared<std::promise<std::shared_ptr<const engine::AlertSnapshot>>>();
        auto future = promise->get_future();
        post([this, promise] { promise->set_value(engine_->snapshot(clock_.now())); });
        auto snap = future.get();
        respond(jsonReply(200, render(*snap, matchers, only)));
    });
    if (!queued) {
        auto res = jsonReply(503, jsonString("too many API requests waiting; retry later"));
        res.headers.emplace_back("Retry-After", "1");
        respond(std::move(res));
    }
}

}  // namespace alertbridge::app
