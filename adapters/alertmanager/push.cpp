#include "adapters/alertmanager/push.hpp"

#include <charconv>

#include <fmt/format.h>

#include "adapters/alertmanager/codec.hpp"
#include "plugin/core/auth.hpp"

namespace alertbridge::alertmanager {

std::vector<std::pair<std::string, std::string>> jsonPushHeaders(const config::Auth& auth) {
    std::vector<std::pair<std::string, std::string>> h{{"Content-Type", "application/json"}};
    if (auth.basic_auth) {
        h.emplace_back("Authorization",
                       core::basicAuthHeader(auth.basic_auth->username, auth.basic_auth->password));
    } else if (!auth.bearer_token.empty()) {
        h.emplace_back("Authorization", core::bearerAuthHeader(auth.bearer_token));
    }
    return h;
}

PushTransport::PushTransport(const config::AlertmanagerOutput& cfg)
    : cfg_(cfg), client_(cfg.endpoint), headers_(jsonPushHeaders(cfg.auth)) {}

core::Delivery classifyPushResponse(const net::ClientResponse& res) {
    if (res.status == 0) return core::Delivery::retry(res.error);
    std::string snippet = res.body.substr(0, 300);
    while (!snippet.empty() && (snippet.back() == '\n' || snippet.back() == '\r')) {
        snippet.pop_back();
    }
    if (res.status >= 200 && res.status < 300) return core::Delivery::ok(res.status);
    if (res.status == 408 || res.status == 429 || res.status >= 500) {
        core::Duration after{};
        long long secs = 0;
        auto& ra = res.retry_after;
        if (!ra.empty()) {
            auto [p, ec] = std::from_chars(ra.data(), ra.data() + ra.size(), secs);
            if (ec == std::errc() && secs > 0 && secs <= 3600) after = std::chrono::seconds(secs);
        }
        return core::Delivery::retry(fmt::format("HTTP {}: {}", res.status, snippet), res.status,
                                     after);
    }
    return core::Delivery::drop(fmt::format("HTTP {}: {}", res.status, snippet), res.status);
}

std::string mergeArrays(const std::vector<std::string_view>& bodies) {
    if (bodies.size() == 1) return std::string(bodies.front());
    std::string out = "[";
    for (auto b : bodies) {
        // Each body is "[...]" as PushEncoder wrote it; an empty array adds nothing.
        if (b.size() <= 2) continue;
        if (out.size() > 1) out += ',';
        out.append(b.substr(1, b.size() - 2));
    }
    out += ']';
    return out;
}

core::Delivery PushTransport::send(const std::vector<std::string_view>& bodies,
                                   core::TimePoint now) {
    std::string stamped = mergeArrays(bodies);
    stampEndsAt(stamped, now + 4 * cfg_.resend_interval);
    return classifyPushResponse(
        client_.request("POST", "/api/v2/alerts", headers_, stamped, cfg_.timeout));
}

}  // namespace alertbridge::alertmanager
