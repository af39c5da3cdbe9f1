#include "adapters/webhook/push.hpp"

#include "adapters/alertmanager/push.hpp"
#include "adapters/webhook/signing.hpp"

namespace alertbridge::webhook {

WebhookPush::WebhookPush(const config::WebhookOutput& cfg)
    : cfg_(cfg), client_(cfg.endpoint), headers_(alertmanager::jsonPushHeaders(cfg.auth)) {
    headers_.emplace_back("User-Agent", "alertbridge");
    if (!cfg.signing_secret.empty()) {
        signing_key_ = decodeSigningSecret(cfg.signing_secret).value_or("");  // checked at load
    }
}

core::Delivery WebhookPush::send(const std::vector<std::string_view>& bodies, core::TimePoint now) {
    // The endpoint's path is the whole target (the client puts it first); "/" for a bare
    // host. The same classes as an Alertmanager push: 2xx, retryable, or refused for good.
    const std::string path = cfg_.endpoint.path.empty() ? "/" : "";
    std::string body(bodies.front());
    if (signing_key_.empty()) {
        return alertmanager::classifyPushResponse(
            client_.request("POST", path, headers_, std::move(body), cfg_.timeout));
    }
    auto headers = headers_;
    const auto id = messageId(body);
    const auto timestamp = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
    headers.emplace_back("webhook-id", id);
    headers.emplace_back("webhook-timestamp", timestamp);
    headers.emplace_back("webhook-signature", signRequest(signing_key_, id, timestamp, body));
    return alertmanager::classifyPushResponse(
        client_.request("POST", path, headers, std::move(body), cfg_.timeout));
}

}  // namespace alertbridge::webhook
