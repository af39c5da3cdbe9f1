#pragma once
// IP addresses and CIDR prefixes, IPv4 and IPv6 alike (IPv4 is kept as IPv4-mapped IPv6,
// so one comparison serves both). Parsing goes through inet_pton. Pure; safe from any thread.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "plugin/core/result.hpp"

namespace alertbridge::core {

struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 as ::ffff:a.b.c.d
    bool v4 = false;
    friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// "10.8.1.21", "2001:db8::1", "::ffff:10.0.0.1" (taken as IPv4), and the forms labels carry:
// "10.8.1.21:9100", "[2001:db8::1]:443", "[::1]". Anything else: nullopt.
std::optional<IpAddress> parseIp(std::string_view text);

struct Cidr {
    IpAddress address;  // the network, host bits cleared
    int prefix = 0;     // in bits of `address.bytes`: an IPv4 /24 is stored as 96 + 24
    bool contains(const IpAddress& ip) const;
    std::string format() const;
};

// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128). Host bits must be zero.
Result<Cidr> parseCidr(std::string_view text);

}  // namespace alertbridge::core
