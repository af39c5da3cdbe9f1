#pragma once
// Delivery: the outcome of handing one request to a host. ok, retry (after an optional
// delay chosen by the host, e.g. Retry-After) or drop (the host will never accept it).

#include <string>

#include "plugin/core/clock.hpp"

namespace alertbridge::core {

struct Delivery {
    enum class Kind { kOk, kRetry, kDrop };
    Kind kind = Kind::kOk;
    std::string reason;      // for logs and the outbox's last_error
    Duration retry_after{};  // zero: use the output's backoff
    int http_status = 0;     // 0 when no response was read

    static Delivery ok(int status) { return {Kind::kOk, "", {}, status}; }
    static Delivery retry(std::string why, int status = 0, Duration after = {}) {
        return {Kind::kRetry, std::move(why), after, status};
    }
    static Delivery drop(std::string why, int status) {
        return {Kind::kDrop, std::move(why), {}, status};
    }
};

}  // namespace alertbridge::core
