#include "adapters/webhook/push.hpp"

#include "adapters/alertmanager/push.hpp"
#include "plugin/core/auth.hpp"

namespace alertbridge::webhook {

WebhookPush::WebhookPush(const config::WebhookOutput& cfg) : cfg_(cfg), client_(cfg.endpoint) {
    headers_.emplace_back("Content-Type", "application/json");
    headers_.emplace_back("User-Agent", "alertbridge");
    if (cfg.auth.basic_auth) {
        headers_.emplace_back(
            "Authorization",
            core::basicAuthHeader(cfg.auth.basic_auth->username, cfg.auth.basic_auth->password));
    } else if (!cfg.auth.bearer_token.empty()) {
        headers_.emplace_back("Authorization", core::bearerAuthHeader(cfg.auth.bearer_token));
    }
}

core::Delivery WebhookPush::send(const std::vector<std::string_view>& bodies, core::TimePoint) {
    // The endpoint's path is the whole target (the client puts it first); "/" for a bare
    // host. The same classes as an Alertmanager push: 2xx, retryable, or refused for good.
    const std::string path = cfg_.endpoint.path.empty() ? "/" : "";
    return alertmanager::classifyPushResponse(
        client_.request("POST", path, headers_, std::string(bodies.front()), cfg_.timeout));
}

}  // namespace alertbridge::webhook
