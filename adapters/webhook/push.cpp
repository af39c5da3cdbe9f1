#include "adapters/webhook/push.hpp"

#include "adapters/alertmanager/push.hpp"

namespace alertbridge::webhook {

WebhookPush::WebhookPush(const config::WebhookOutput& cfg)
    : cfg_(cfg), client_(cfg.endpoint), headers_(alertmanager::jsonPushHeaders(cfg.auth)) {
    headers_.emplace_back("User-Agent", "alertbridge");
}

core::Delivery WebhookPush::send(const std::vector<std::string_view>& bodies, core::TimePoint) {
    // The endpoint's path is the whole target (the client puts it first); "/" for a bare
    // host. The same classes as an Alertmanager push: 2xx, retryable, or refused for good.
    const std::string path = cfg_.endpoint.path.empty() ? "/" : "";
    return alertmanager::classifyPushResponse(
        client_.request("POST", path, headers_, std::string(bodies.front()), cfg_.timeout));
}

}  // namespace alertbridge::webhook
