#pragma once
// HttpApi: request -> response for every HTTP route, as free-standing logic that never
// sees a socket. Intake routes authenticate, decode and validate on the calling I/O
// thread, then hand the batch to the Intake, which answers once it is durable.

#include <string>

#include "adapters/net/http_types.hpp"
#include "plugin/app/registry.hpp"
#include "plugin/config/config.hpp"
#include "plugin/core/clock.hpp"
#include "plugin/telemetry/metrics.hpp"

namespace alertbridge::app {

class Intake {
  public:
    virtual ~Intake() = default;
    // Takes ownership of the decoded body and answers `respond` exactly once: 200 (or,
    // when some alerts were rejected, what partialReply() says) once the valid alerts are
    // durable, 503 when they could not be stored.
    virtual void submit(const InputDef& input, std::string body, core::TimePoint received_at,
                        core::Decoded decoded, const net::Responder& respond) = 0;
    virtual bool ready() const = 0;
    // Why it is not ready ("" when it is): starting, or the store cannot write.
    virtual std::string notReady() const = 0;
    // The email archive under /api/v1/emails (already authorized). Answers exactly once.
    virtual void emails(const net::HttpRequest& req, std::string_view path,
                        const net::Responder& respond) = 0;
    // /api/v1/calendars/{name} (JSON, ?at=) and /{name}.ics (?group=). Answers exactly once.
    virtual void calendars(const net::HttpRequest& req, std::string_view path,
                           const net::Responder& respond) = 0;
    // /api/v1/alerts (?filter=matchers): the active alerts from a snapshot. Answers once.
    virtual void alerts(const net::HttpRequest& req, const net::Responder& respond) = 0;
    // /api/v1/incidents (?state=open|all) and /api/v1/incidents/{id}: from a copy the
    // engine thread makes. Answers once.
    virtual void incidents(const net::HttpRequest& req, std::string_view path,
                           const net::Responder& respond) = 0;
    // /api/v1/notifications (?receiver=&group_key=&limit=): the notification log, newest
    // first. Answers once.
    virtual void notifications(const net::HttpRequest& req, const net::Responder& respond) = 0;
    // Alertmanager's silences API v2: /api/v2/silences (GET ?filter=, POST) and
    // /api/v2/silence/{id} (GET, DELETE). Changes are journaled. Answers once.
    virtual void silences(const net::HttpRequest& req, std::string_view path,
                          const net::Responder& respond) = 0;
    // POST /-/reload: reloads the configuration file. Answers once it is applied or refused.
    virtual void reload(const net::HttpRequest& req, const net::Responder& respond) = 0;
    // Just before /metrics is read: sets the gauges that mirror state several threads
    // change (the store's health, the intake queue) from that state as it is now, so that
    // a scrape never shows a value older than what /-/ready or an answer already told.
    virtual void beforeScrape() {}
};

// The answer to a body of which some alerts were rejected and `accepted` were stored. The
// Alertmanager API answers 400 naming the rejected ones (as Alertmanager does; the valid
// ones are kept); webhook inputs answer 200 with the same list, because their senders
// never retry a 4xx and would only drop the group.
net::HttpResponse partialReply(const InputDef& input, std::size_t accepted,
                               const std::vector<std::string>& rejected);

class HttpApi {
  public:
    HttpApi(const DecodeContext& decode, telemetry::Metrics& metrics, Intake& intake,
            const core::Clock& clock);
    void handle(net::HttpRequest&& req, const net::Responder& respond);
    // The head check the server runs before it reads a body: credentials and the announced
    // size of intake requests, so a refused request's body is never held.
    std::optional<net::HttpResponse> checkHead(const net::HttpRequest& head,
                                               long long content_length);

  private:
    void intake(const InputDef& input, net::HttpRequest&& req, const net::Responder& respond);
    bool authorized(const net::HttpRequest& req) const;
    net::HttpResponse unauthorized() const;  // 401 with the challenge http_auth asks for

    const DecodeContext& decode_;
    const config::Config& config_;
    telemetry::Metrics& metrics_;
    Intake& intake_;
    const core::Clock& clock_;
    std::string expected_auth_;  // the whole Authorization header value; empty: no auth
};

// The value of one query parameter of a request target ("" when absent), %XX decoded.
std::string queryParam(std::string_view target, std::string_view name);
// Every value of a parameter that may repeat (?filter=a&filter=b), in order.
std::vector<std::string> queryParams(std::string_view target, std::string_view name);

// A JSON string literal holding `text`, the form Alertmanager uses for error bodies.
std::string jsonString(std::string_view text);

// A response with a JSON body.
net::HttpResponse jsonReply(int status, std::string body);

}  // namespace alertbridge::app
