#pragma once
// WebhookPush: POSTs one notification body to the configured URL. The answer is classified
// as Alertmanager's own webhook notifier does: 2xx delivered; 408, 429, 5xx and connection
// errors retried with backoff (Retry-After honoured); any other 4xx dropped, since the same
// body would never be taken. One notification per request, in order. With a signing
// secret, each request carries Standard Webhooks headers (webhook-id, the same for every
// attempt of one message; webhook-timestamp, the attempt's time; webhook-signature).

#include "adapters/net/http_client.hpp"
#include "plugin/config/config.hpp"
#include "plugin/pipeline/output.hpp"

namespace alertbridge::webhook {

class WebhookPush final : public pipeline::OutputTransport {
  public:
    explicit WebhookPush(const config::WebhookOutput& cfg);
    std::size_t maxRowsPerSend() const override { return 1; }
    core::Delivery send(const std::vector<std::string_view>& bodies, core::TimePoint now) override;

  private:
    const config::WebhookOutput& cfg_;
    net::HttpClient client_;
    std::vector<std::pair<std::string, std::string>> headers_;
    std::string signing_key_;  // decoded; empty: unsigned
};

}  // namespace alertbridge::webhook
