#include "plugin/core/url.hpp"

#include <charconv>

namespace alertbridge::core {

Result<HostPort> parseHostPort(std::string_view s) {
    HostPort hp;
    std::string_view port;
    if (!s.empty() && s.front() == '[') {
        auto close = s.find(']');
        if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
            return Error{"expected [ipv6]:port"};
        }
        hp.host = std::string(s.substr(1, close - 1));
        port = s.substr(close + 2);
    } else {
        auto colon = s.rfind(':');
        if (colon == std::string_view::npos) return Error{"expected host:port"};
        hp.host = std::string(s.substr(0, colon));
        port = s.substr(colon + 1);
        if (hp.host.find(':') != std::string::npos) {
            return Error{"an IPv6 address must be written in brackets, [::1]:port"};
        }
    }
    if (hp.host.empty()) return Error{"missing host (use 0.0.0.0 to listen on every address)"};
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value > 65535) {
        return Error{"port must be a number from 0 to 65535"};
    }
    hp.port = static_cast<std::uint16_t>(value);
    return hp;
}

Result<Url> parseUrl(std::string_view s) {
    Url u;
    auto sep = s.find("://");
    if (sep == std::string_view::npos) return Error{"expected a URL such as http://host:port"};
    u.scheme = std::string(s.substr(0, sep));
    if (u.scheme != "http" && u.scheme != "https") {
        return Error{"the URL scheme must be http or https"};
    }
    auto rest = s.substr(sep + 3);
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    u.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
    while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
    if (authority.find('@') != std::string_view::npos) {
        return Error{"credentials in the URL are not allowed; use basic_auth"};
    }
    if (u.path.find_first_of("?#") != std::string::npos) {
        return Error{"a query or fragment is not allowed in an endpoint"};
    }
    bool has_port = !authority.empty() && authority.back() != ']' &&
                    authority.find(':') != std::string_view::npos;
    if (has_port) {
        auto hp = parseHostPort(authority);
        if (!hp) return Error{hp.error()};
        if (hp->port == 0) return Error{"port 0 is not a valid endpoint port"};
        u.host = hp->host;
        u.port = hp->port;
    } else {
        u.host = std::string(authority);
        if (u.host.size() > 2 && u.host.front() == '[')
            u.host = u.host.substr(1, u.host.size() - 2);
        u.port = u.scheme == "https" ? 443 : 80;
    }
    if (u.host.empty()) return Error{"missing host in URL"};
    return u;
}

std::string Url::hostHeader() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
    return default_port ? h : h + ":" + std::to_string(port);
}

}  // namespace alertbridge::core
