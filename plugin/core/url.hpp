#pragma once
// Url and HostPort: the small subset of URL syntax alertbridge needs for endpoints it calls
// and addresses it binds. Pure; safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "plugin/core/result.hpp"

namespace alertbridge::core {

struct HostPort {
    std::string host;  // without brackets for IPv6
    std::uint16_t port = 0;
};

// "127.0.0.1:9095", "[::1]:9095", "localhost:0". Port 0 means any free port.
Result<HostPort> parseHostPort(std::string_view text);

struct Url {
    std::string scheme;  // "http" or "https"
    std::string host;
    std::uint16_t port = 0;
    std::string path;  // without trailing slash; "" for the root
    std::string hostHeader() const;
};

// Accepts http:// and https:// with optional port and path; no user info, query or fragment.
Result<Url> parseUrl(std::string_view text);

}  // namespace alertbridge::core
