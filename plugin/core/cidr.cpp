#include "plugin/core/cidr.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace alertbridge::core {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::optional<IpAddress> parsePlain(std::string_view text) {
    if (text.empty() || text.size() > 45) return std::nullopt;
    std::string s(text);
    IpAddress ip;
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
        std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), ip.bytes.begin());
        std::memcpy(ip.bytes.data() + 12, &v4, 4);
        ip.v4 = true;
        return ip;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
    std::memcpy(ip.bytes.data(), &v6, 16);
    ip.v4 = std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), ip.bytes.begin());
    return ip;
}

// A port: 0 to 65535 in decimal.
bool allDigits(std::string_view s) {
    if (s.empty() || s.size() > 5 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    return std::stoul(std::string(s)) <= 65535;
}

}  // namespace

std::optional<IpAddress> parseIp(std::string_view text) {
    if (!text.empty() && text.front() == '[') {  // [v6] or [v6]:port
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        auto rest = text.substr(close + 1);
        if (!rest.empty() && !(rest.front() == ':' && allDigits(rest.substr(1)))) {
            return std::nullopt;
        }
        return parsePlain(text.substr(1, close - 1));
    }
    if (auto ip = parsePlain(text)) return ip;
    // v4:port (a v6 address without brackets has more than one colon)
    auto colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') == colon &&
        allDigits(text.substr(colon + 1))) {
        auto ip = parsePlain(text.substr(0, colon));
        if (ip && ip->v4) return ip;
    }
    return std::nullopt;
}

bool Cidr::contains(const IpAddress& ip) const {
    int full = prefix / 8;
    for (int i = 0; i < full; ++i) {
        if (ip.bytes[static_cast<std::size_t>(i)] != address.bytes[static_cast<std::size_t>(i)]) {
            return false;
        }
    }
    int rest = prefix % 8;
    if (rest == 0) return true;
    auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (ip.bytes[static_cast<std::size_t>(full)] & mask) ==
           (address.bytes[static_cast<std::size_t>(full)] & mask);
}

std::string Cidr::format() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (address.v4) {
        inet_ntop(AF_INET, address.bytes.data() + 12, buf, sizeof buf);
        return std::string(buf) + "/" + std::to_string(prefix - 96);
    }
    inet_ntop(AF_INET6, address.bytes.data(), buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(prefix);
}

Result<Cidr> parseCidr(std::string_view text) {
    auto slash = text.find('/');
    auto ip = parsePlain(text.substr(0, slash));
    if (!ip) return Error{"not an IP address or CIDR prefix (10.0.0.0/8, 2001:db8::/32)"};
    Cidr c{*ip, 128};  // a bare address is one host
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        int bits = -1;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
        int max = ip->v4 ? 32 : 128;
        if (ec != std::errc() || end != digits.data() + digits.size() || bits < 0 || bits > max) {
            return Error{"the prefix length must be 0 to " + std::to_string(max)};
        }
        c.prefix = ip->v4 ? 96 + bits : bits;
    }
    // Host bits must be zero: "10.1.2.3/8" is more likely a typo than a network.
    for (int bit = c.prefix; bit < 128; ++bit) {
        if (c.address.bytes[static_cast<std::size_t>(bit / 8)] & (0x80 >> (bit % 8))) {
            return Error{"host bits are set; did you mean " + [&] {
                Cidr net = c;
                for (int b = c.prefix; b < 128; ++b) {
                    net.address.bytes[static_cast<std::size_t>(b / 8)] &=
                        static_cast<std::uint8_t>(~(0x80 >> (b % 8)));
                }
                return net.format();
            }() + "?"};
        }
    }
    return c;
}

}  // namespace alertbridge::core
