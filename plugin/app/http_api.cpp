#include "plugin/app/http_api.hpp"

#include <cctype>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "plugin/core/auth.hpp"

namespace alertbridge::app {

std::string jsonString(std::string_view text) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

net::HttpResponse jsonReply(int status, std::string body) {
    return net::HttpResponse{status, "application/json", std::move(body), {}};
}

namespace {

net::HttpResponse text(int status, std::string body) {
    return net::HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

net::HttpResponse jsonError(int status, std::string_view message) {
    return net::HttpResponse{status, "application/json", jsonString(message), {}};
}

}  // namespace

net::HttpResponse partialReply(const InputDef& input, std::size_t accepted,
                               const std::vector<std::string>& rejected) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    std::string message =
        fmt::format("{} of {} alerts were rejected and {} accepted: ", rejected.size(),
                    rejected.size() + accepted, accepted);
    for (std::size_t i = 0; i < rejected.size(); ++i) {
        if (i == 10) {
            message += fmt::format("; and {} more", rejected.size() - 10);
            break;
        }
        message += (i == 0 ? "" : "; ") + rejected[i];
    }
    w.StartObject();
    w.Key("status");
    w.String(input.partial_is_client_error ? "error" : "partial");
    w.Key("error");
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    w.Key("accepted");
    w.Uint64(accepted);
    w.Key("rejected");
    w.StartArray();
    for (const auto& r : rejected) w.String(r.data(), static_cast<rapidjson::SizeType>(r.size()));
    w.EndArray();
    w.EndObject();
    return net::HttpResponse{input.partial_is_client_error ? 400 : 200,
                             "application/json",
                             std::string(buf.GetString(), buf.GetSize()) + "\n",
                             {}};
}

HttpApi::HttpApi(const DecodeContext& decode, telemetry::Metrics& metrics, Intake& intake,
                 const core::Clock& clock)
    : decode_(decode), config_(decode.config), metrics_(metrics), intake_(intake), clock_(clock) {
    const auto& a = config_.http_auth;
    if (a.basic_auth) {
        expected_auth_ = core::basicAuthHeader(a.basic_auth->username, a.basic_auth->password);
    } else if (!a.bearer_token.empty()) {
        expected_auth_ = core::bearerAuthHeader(a.bearer_token);
    }
    for (const auto& in : inputs()) metrics_.input(in.id);
}

net::HttpResponse HttpApi::unauthorized() const {
    auto res = text(401, "unauthorized\n");
    res.headers.emplace_back("WWW-Authenticate", config_.http_auth.basic_auth
                                                     ? "Basic realm=\"alertbridge\""
                                                     : "Bearer realm=\"alertbridge\"");
    return res;
}

bool HttpApi::authorized(const net::HttpRequest& req) const {
    return expected_auth_.empty() || core::constantTimeEquals(req.authorization, expected_auth_);
}

std::optional<net::HttpResponse> HttpApi::checkHead(const net::HttpRequest& head,
                                                    long long content_length) {
    std::string_view path = head.target;
    if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
    const InputDef* input = nullptr;
    for (const auto& in : inputs()) {
        if (!in.path.empty() && path == in.path) input = &in;
    }
    bool emails = path == "/api/v1/emails" || path.starts_with("/api/v1/emails/") ||
                  path.starts_with("/api/v1/calendars/") || path == "/api/v1/alerts" ||
                  path == "/api/v1/notifications" || path == "/api/v1/incidents" ||
                  path.starts_with("/api/v1/incidents/") || path == "/-/reload" ||
                  path == "/api/v2/silences" || path.starts_with("/api/v2/silence/");
    // A wrong method on an intake path is answered 405 by handle(), as before.
    if (input != nullptr && head.method != "POST") return std::nullopt;
    if (input == nullptr && !emails) return std::nullopt;
    if (!authorized(head)) {
        if (input != nullptr) {
            metrics_.input(input->id).requests->Increment();
            metrics_.input(input->id).reject("unauthorized");
        }
        return unauthorized();
    }
    if (input != nullptr && content_length > 0 &&
        static_cast<unsigned long long>(content_length) > config_.intake.max_body_bytes) {
        metrics_.input(input->id).requests->Increment();
        metrics_.input(input->id).reject("too_large");
        return jsonError(413, fmt::format("body of {} bytes is larger than intake.max_body_bytes "
                                          "({} bytes)",
                                          content_length, config_.intake.max_body_bytes));
    }
    return std::nullopt;
}

void HttpApi::handle(net::HttpRequest&& req, const net::Responder& respond) {
    std::string_view path = req.target;
    if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);

    for (const auto& in : inputs()) {
        if (in.path.empty() || path != in.path) continue;
        if (req.method != "POST") {
            metrics_.input(in.id).requests->Increment();
            metrics_.input(in.id).reject("method_not_allowed");
            auto res = text(405, "use POST\n");
            res.headers.emplace_back("Allow", "POST");
            respond(std::move(res));
            return;
        }
        intake(in, std::move(req), respond);
        return;
    }
    // The read APIs, behind the same credentials as intake.
    using Route = std::function<void()>;
    Route route;
    if (path == "/api/v1/emails" || path.starts_with("/api/v1/emails/")) {
        route = [&] { intake_.emails(req, path, respond); };
    } else if (path.starts_with("/api/v1/calendars/")) {
        route = [&] { intake_.calendars(req, path, respond); };
    } else if (path == "/api/v1/alerts") {
        route = [&] { intake_.alerts(req, respond); };
    } else if (path == "/api/v1/notifications") {
        route = [&] { intake_.notifications(req, respond); };
    } else if (path == "/api/v1/incidents" || path.starts_with("/api/v1/incidents/")) {
        route = [&] { intake_.incidents(req, path, respond); };
    } else if (path == "/api/v2/silences" || path.starts_with("/api/v2/silence/")) {
        route = [&] { intake_.silences(req, path, respond); };
    } else if (path == "/-/reload") {
        route = [&] { intake_.reload(req, respond); };
    }
    if (route) {
        if (!authorized(req)) {
            respond(unauthorized());
        } else {
            route();
        }
        return;
    }
    if (req.method != "GET" && req.method != "HEAD") {
        respond(text(path == "/metrics" || path.substr(0, 3) == "/-/" ? 405 : 404, "not found\n"));
        return;
    }
    if (path == "/metrics") {
        intake_.beforeScrape();
        respond(net::HttpResponse{
            200, "text/plain; version=0.0.4; charset=utf-8", metrics_.serialize(), {}});
    } else if (path == "/-/healthy") {
        respond(text(200, "OK\n"));
    } else if (path == "/-/ready") {
        respond(intake_.ready() ? text(200, "OK\n") : text(503, intake_.notReady() + "\n"));
    } else {
        respond(text(404, "not found\n"));
    }
}

void HttpApi::intake(const InputDef& input, net::HttpRequest&& req, const net::Responder& respond) {
    const auto& m = metrics_.input(input.id);
    m.requests->Increment();
    if (!authorized(req)) {
        m.reject("unauthorized");
        respond(unauthorized());
        return;
    }
    if (req.body_too_large) {
        m.reject("too_large");
        respond(jsonError(413, fmt::format("body is larger than intake.max_body_bytes ({} bytes)",
                                           config_.intake.max_body_bytes)));
        return;
    }
    if (!req.content_type.empty() && req.content_type.find("json") == std::string::npos) {
        m.reject("unsupported_media_type");
        respond(jsonError(415, fmt::format("Content-Type must be application/json, got \"{}\"",
                                           req.content_type)));
        return;
    }
    if (!intake_.ready()) {
        auto why = intake_.notReady();
        m.reject(why.starts_with("the store") ? "store_error" : "queue_full");
        auto res = jsonError(503, why + "; retry later");
        res.headers.emplace_back("Retry-After", "1");
        respond(std::move(res));
        return;
    }
    auto received_at = clock_.now();
    auto decoded = input.decode(req.body, received_at, decode_);
    if (!decoded) {
        m.reject("invalid_body");
        spdlog::debug("A request body was rejected. input={} remote={} reason=\"{}\"", input.id,
                      req.remote, decoded.error());
        respond(jsonError(400, decoded.error()));
        return;
    }
    const std::size_t total = decoded->alerts.size() + decoded->rejected.size();
    m.alerts_received->Increment(static_cast<double>(total));
    if (total > config_.intake.max_alerts_per_request) {
        m.reject("too_large");
        respond(jsonError(413, fmt::format("{} alerts in one request; the limit is "
                                           "intake.max_alerts_per_request ({})",
                                           total, config_.intake.max_alerts_per_request)));
        return;
    }
    if (!decoded->rejected.empty()) {
        m.alerts_rejected->Increment(static_cast<double>(decoded->rejected.size()));
        spdlog::debug(
            "Some alerts of a request were rejected. input={} remote={} rejected={} "
            "first=\"{}\"",
            input.id, req.remote, decoded->rejected.size(), decoded->rejected.front());
        if (decoded->alerts.empty()) {
            m.reject("invalid_body");
            respond(partialReply(input, 0, decoded->rejected));
            return;
        }
    }
    if (input.scrub) {
        // Personal data never reaches the journal.
        auto scrubbed = input.scrub(req.body);
        if (!scrubbed) {
            m.reject("invalid_body");
            respond(jsonError(400, scrubbed.error()));
            return;
        }
        req.body = std::move(scrubbed).value();
    }
    intake_.submit(input, std::move(req.body), received_at, std::move(decoded).value(), respond);
}

std::vector<std::string> queryParams(std::string_view target, std::string_view name) {
    std::vector<std::string> values;
    auto q = target.find('?');
    if (q == std::string_view::npos) return values;
    auto hex = [](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) == 0 ? -1
               : c <= '9'                                        ? c - '0'
                                                                 : (c | 0x20) - 'a' + 10;
    };
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto pair = rest.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) {
            // %XX is decoded; a '+' is kept as it is (an offset such as +08:00 sent as is).
            std::string out;
            auto v = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
            for (std::size_t i = 0; i < v.size(); ++i) {
                int hi = 0;
                int lo = 0;
                if (v[i] == '%' && i + 2 < v.size() && (hi = hex(v[i + 1])) >= 0 &&
                    (lo = hex(v[i + 2])) >= 0) {
                    out += static_cast<char>(hi * 16 + lo);
                    i += 2;
                    continue;
                }
                out += v[i];
            }
            values.push_back(std::move(out));
        }
        if (amp == std::string_view::npos) break;
        rest = rest.substr(amp + 1);
    }
    return values;
}

std::string queryParam(std::string_view target, std::string_view name) {
    auto values = queryParams(target, name);
    return values.empty() ? std::string() : std::move(values.front());
}

}  // namespace alertbridge::app
