#pragma once
// PushTransport: POST /api/v2/alerts to one Alertmanager. Stamps firing alerts' endsAt
// with now + 4 x resend_interval at send time, and classifies the answer: 2xx ok;
// 408, 429, 5xx and connection errors retry; any other 4xx drops (the body would never
// be accepted). Used by one delivery worker thread.

#include "adapters/net/http_client.hpp"
#include "plugin/config/config.hpp"
#include "plugin/pipeline/output.hpp"

namespace alertbridge::alertmanager {

class PushTransport final : public pipeline::OutputTransport {
  public:
    explicit PushTransport(const config::AlertmanagerOutput& cfg);
    std::size_t maxRowsPerSend() const override { return 64; }
    // Merges the bodies (JSON arrays) into one array; the worker keeps the total number
    // of alerts within max_alerts_per_push.
    core::Delivery send(const std::vector<std::string_view>& bodies, core::TimePoint now) override;

  private:
    const config::AlertmanagerOutput& cfg_;
    net::HttpClient client_;
    std::vector<std::pair<std::string, std::string>> headers_;
};

// Content-Type JSON and the Authorization header `auth` asks for (basic or bearer), as every
// JSON push to a peer sends them.
std::vector<std::pair<std::string, std::string>> jsonPushHeaders(const config::Auth& auth);

// Joins JSON array bodies into one array.
std::string mergeArrays(const std::vector<std::string_view>& bodies);

// Exposed for tests: the classification of one answer.
core::Delivery classifyPushResponse(const net::ClientResponse& res);

}  // namespace alertbridge::alertmanager
