// GET /api/v1/incidents and /api/v1/incidents/{id}: the incident book as the engine thread
// copies it (open incidents and the latest closed ones); rendering happens on the API reader
// thread, so the HTTP threads never touch engine state.
#include <charconv>
#include <future>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/app/daemon.hpp"
#include "plugin/app/incident_json.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::app {

namespace {

using Incidents = std::vector<core::Incident>;

// {"count", "incidents": [{id, title, kind, state, severity, level, paged, digested,
// flapping, storm, created_at, first_notified_at, resolved_at, members}]}, newest first.
std::string renderList(const Incidents& all) {
    rapidjson::StringBuffer sb;
    rapidjson::Writer<rapidjson::StringBuffer> w(sb);
    auto str = [&w](std::string_view s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    auto when = [&](const char* key, const std::optional<core::TimePoint>& t) {
        w.Key(key);
        if (t) {
            str(core::formatRfc3339(*t));
        } else {
            w.Null();
        }
    };
    w.StartObject();
    w.Key("count");
    w.Uint64(all.size());
    w.Key("incidents");
    w.StartArray();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        const auto& inc = *it;
        w.StartObject();
        w.Key("id");
        w.Uint64(inc.id);
        w.Key("title");
        str(inc.title);
        w.Key("kind");
        str(inc.kind);
        w.Key("state");
        str(core::incidentStateName(inc.state));
        w.Key("severity");
        str(core::severityName(inc.severity()));
        w.Key("level");
        str(core::notifyLevelName(inc.level()));
        w.Key("paged");
        w.Bool(inc.paged);
        w.Key("digested");
        w.Bool(inc.digested);
        w.Key("flapping");
        w.Bool(inc.flapping);
        w.Key("storm");
        w.Bool(inc.storm);
        when("created_at", inc.created_at);
        when("first_notified_at", inc.first_notified_at);
        when("resolved_at", inc.resolved_at);
        w.Key("members");
        w.Uint64(inc.members.size());
        w.Key("firing");
        w.Uint64(inc.firing);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return sb.GetString();
}

}  // namespace

void Daemon::incidents(const net::HttpRequest& req, std::string_view path,
                       const net::Responder& respond) {
    if (req.method != "GET" && req.method != "HEAD") {
        auto res = jsonReply(405, jsonString("use GET"));
        res.headers.emplace_back("Allow", "GET");
        respond(std::move(res));
        return;
    }
    std::uint64_t id = 0;
    const std::string_view prefix = "/api/v1/incidents/";
    if (path.starts_with(prefix)) {
        auto digits = path.substr(prefix.size());
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
        if (ec != std::errc() || end != digits.data() + digits.size() || id == 0) {
            respond(jsonReply(400, jsonString("an incident id is a positive number")));
            return;
        }
    }
    auto state = queryParam(req.target, "state");
    if (!state.empty() && state != "open" && state != "all") {
        respond(jsonReply(400, jsonString("state: open or all")));
        return;
    }
    const bool all = state == "all" || id != 0;
    bool queued = api_reads_->post([this, respond, id, all] {
        auto promise = std::make_shared<std::promise<std::optional<Incidents>>>();
        auto future = promise->get_future();
        post([this, promise, id, all] {
            const auto* book = engine_->pipeline().incidents();
            if (book == nullptr) {
                promise->set_value(std::nullopt);
                return;
            }
            Incidents copy;
            if (all) {
                for (const auto& inc : book->closed()) {
                    if (id == 0 || inc.id == id) copy.push_back(inc);
                }
            }
            for (const auto& [k, inc] : book->open()) {
                if (id == 0 || k == id) copy.push_back(inc);
            }
            promise->set_value(std::move(copy));
        });
        auto got = future.get();
        if (!got) {
            respond(jsonReply(404, jsonString("no incidents: the config has no noise section")));
        } else if (id == 0) {
            respond(jsonReply(200, renderList(*got)));
        } else if (got->empty()) {
            respond(jsonReply(404, jsonString("no such incident (or closed too long ago)")));
        } else {
            respond(jsonReply(200, incidentJson(got->back())));
        }
    });
    if (!queued) {
        auto res = jsonReply(503, jsonString("too many API requests waiting; retry later"));
        res.headers.emplace_back("Retry-After", "1");
        respond(std::move(res));
    }
}

}  // namespace alertbridge::app
