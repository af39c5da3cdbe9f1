// GET /api/v1/notifications: the notification log (what went to whom, when, and how it
// ended), read on the API reader thread with its own store connection.
#include <charconv>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/app/daemon.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::app {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// {"notifications": [{key, output, receiver, group_key, reason, step, alerts, attempts,
// created_at, not_before, finished_at, state, last_error}]}, newest first.
std::string render(const std::vector<state::LoggedNotification>& list) {
    rapidjson::StringBuffer buf;
    Writer w(buf);
    w.StartObject();
    w.Key("notifications");
    w.StartArray();
    for (const auto& n : list) {
        w.StartObject();
        w.Key("key");
        str(w, n.meta.key);
        w.Key("output");
        str(w, n.output);
        w.Key("receiver");
        str(w, n.meta.receiver);
        w.Key("group_key");
        str(w, n.meta.group_key);
        w.Key("reason");
        str(w, n.meta.reason);
        w.Key("step");
        w.Int(n.meta.step);
        w.Key("alerts");
        w.Int(n.alert_count);
        w.Key("attempts");
        w.Int(n.attempts);
        w.Key("created_at");
        str(w, core::formatRfc3339(n.created_at));
        if (n.meta.not_before > core::TimePoint{}) {
            w.Key("not_before");
            str(w, core::formatRfc3339(n.meta.not_before));
        }
        w.Key("finished_at");
        str(w, core::formatRfc3339(n.finished_at));
        w.Key("state");
        str(w, n.state);
        if (!n.last_error.empty()) {
            w.Key("last_error");
            str(w, n.last_error);
        }
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

void Daemon::notifications(const net::HttpRequest& req, const net::Responder& respond) {
    if (req.method != "GET") {
        auto res = jsonReply(405, jsonString("use GET"));
        res.headers.emplace_back("Allow", "GET");
        respond(std::move(res));
        return;
    }
    state::NotificationQuery q;
    q.receiver = queryParam(req.target, "receiver");
    q.group_key = queryParam(req.target, "group_key");
    if (auto l = queryParam(req.target, "limit"); !l.empty()) {
        auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), q.limit);
        if (ec != std::errc() || end != l.data() + l.size() || q.limit < 1 || q.limit > 1000) {
            respond(jsonReply(400, jsonString("limit: expected 1 to 1000")));
            return;
        }
    }
    // The log is in SQLite: read on the API reader thread, never on an HTTP thread.
    if (!api_reads_->post([this, q = std::move(q), respond] {
            if (!api_reader_) api_reader_ = store_->openReader();
            if (!api_reader_) {
                respond(jsonReply(503, jsonString("cannot open the store for reading; retry "
                                                  "later")));
                return;
            }
            auto list = api_reader_->notificationLog(q);
            if (!list) {
                respond(jsonReply(500, jsonString(list.error())));
                return;
            }
            respond(jsonReply(200, render(*list)));
        })) {
        auto res = jsonReply(503, jsonString("too many API requests waiting; retry later"));
        res.headers.emplace_back("Retry-After", "1");
        respond(std::move(res));
    }
}

}  // namespace alertbridge::app
