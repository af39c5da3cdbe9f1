#pragma once
// EventPush: POST /v1/n9e/event to one Nightingale, one event per request. n9e answers 200
// even for errors, with the reason in {"err": "..."}: "" is ok (queued), "event is
// illegal" is dropped, anything else (e.g. "queue is full") is retried. HTTP 400 (bad JSON)
// is dropped; 401/403 are retried so that fixing credentials delivers the backlog; 408,
// 429, 5xx and connection errors are retried. Used by one delivery worker thread.

#include "adapters/net/http_client.hpp"
#include "plugin/config/config.hpp"
#include "plugin/pipeline/output.hpp"

namespace alertbridge::nightingale {

class EventPush final : public pipeline::OutputTransport {
  public:
    explicit EventPush(const config::NightingaleOutput& cfg);
    std::size_t maxRowsPerSend() const override { return 1; }
    core::Delivery send(const std::vector<std::string_view>& bodies, core::TimePoint now) override;

  private:
    const config::NightingaleOutput& cfg_;
    net::HttpClient client_;
    std::vector<std::pair<std::string, std::string>> headers_;
};

core::Delivery classifyEventResponse(const net::ClientResponse& res);

}  // namespace alertbridge::nightingale
