#include "adapters/nightingale/push.hpp"

#include <fmt/format.h>
#include <rapidjson/document.h>

#include "plugin/core/auth.hpp"

namespace alertbridge::nightingale {

EventPush::EventPush(const config::NightingaleOutput& cfg) : cfg_(cfg), client_(cfg.endpoint) {
    headers_.emplace_back("Content-Type", "application/json");
    if (cfg.auth.basic_auth) {
        headers_.emplace_back(
            "Authorization",
            core::basicAuthHeader(cfg.auth.basic_auth->username, cfg.auth.basic_auth->password));
    }
}

core::Delivery classifyEventResponse(const net::ClientResponse& res) {
    if (res.status == 0) return core::Delivery::retry(res.error);
    std::string snippet = res.body.substr(0, 300);
    while (!snippet.empty() && (snippet.back() == '\n' || snippet.back() == '\r')) {
        snippet.pop_back();
    }
    if (res.status == 200) {
        rapidjson::Document doc;
        doc.Parse(res.body.c_str());
        if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("err") ||
            !doc["err"].IsString()) {
            return core::Delivery::drop("unexpected reply from n9e: " + snippet, 200);
        }
        std::string err = doc["err"].GetString();
        if (err.empty()) return core::Delivery::ok(200);
        if (err.find("illegal") != std::string::npos) {
            return core::Delivery::drop("n9e refused the event: " + err, 200);
        }
        return core::Delivery::retry("n9e: " + err, 200);
    }
    if (res.status == 401 || res.status == 403 || res.status == 408 || res.status == 429 ||
        res.status >= 500) {
        return core::Delivery::retry(fmt::format("HTTP {}: {}", res.status, snippet), res.status);
    }
    return core::Delivery::drop(fmt::format("HTTP {}: {}", res.status, snippet), res.status);
}

core::Delivery EventPush::send(const std::vector<std::string_view>& bodies, core::TimePoint) {
    return classifyEventResponse(client_.request("POST", "/v1/n9e/event", headers_,
                                                 std::string(bodies.front()), cfg_.timeout));
}

}  // namespace alertbridge::nightingale
