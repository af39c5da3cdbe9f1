#include "plugin/core/cidr.hpp"

#include <gtest/gtest.h>

namespace alertbridge::core {
namespace {

IpAddress ip(const char* s) {
    auto r = parseIp(s);
    EXPECT_TRUE(r.has_value()) << s;
    return r.value_or(IpAddress{});
}

TEST(Cidr, AddressForms) {
    EXPECT_EQ(ip("10.8.1.21:9100"), ip("10.8.1.21"));
    EXPECT_EQ(ip("[2001:db8::1]:443"), ip("2001:db8::1"));
    EXPECT_EQ(ip("[::1]"), ip("::1"));
    EXPECT_EQ(ip("::ffff:10.0.0.1"), ip("10.0.0.1")) << "IPv4-mapped is IPv4";
    EXPECT_TRUE(ip("::ffff:10.0.0.1").v4);
    EXPECT_FALSE(ip("2001:db8::1").v4);
    for (const char* bad : {"", "10.0.0", "10.0.0.256", "host.example", "10.0.0.1:", "10.0.0.1:x",
                            "[::1", "[::1]x", "::1:80:", "1.2.3.4/8", " 10.0.0.1"}) {
        EXPECT_FALSE(parseIp(bad).has_value()) << bad;
    }
}

TEST(Cidr, Contains) {
    auto net = parseCidr("10.8.0.0/16").value();
    EXPECT_TRUE(net.contains(ip("10.8.255.1")));
    EXPECT_FALSE(net.contains(ip("10.9.0.1")));
    EXPECT_FALSE(net.contains(ip("::ffff:10.9.0.1")));
    EXPECT_TRUE(parseCidr("0.0.0.0/0").value().contains(ip("192.0.2.1")));
    EXPECT_FALSE(parseCidr("0.0.0.0/0").value().contains(ip("2001:db8::1")))
        << "an IPv4 /0 is every IPv4 address, not every address";
    EXPECT_TRUE(parseCidr("::/0").value().contains(ip("10.0.0.1")));
    auto host = parseCidr("10.1.2.3").value();
    EXPECT_TRUE(host.contains(ip("10.1.2.3")));
    EXPECT_FALSE(host.contains(ip("10.1.2.4")));
    EXPECT_TRUE(parseCidr("10.1.2.3/32").value().contains(ip("10.1.2.3")));
    EXPECT_TRUE(parseCidr("2001:db8::/32").value().contains(ip("2001:db8:ffff::1")));
    EXPECT_FALSE(parseCidr("2001:db8::/32").value().contains(ip("2001:db9::1")));
    EXPECT_TRUE(parseCidr("10.0.0.0/9").value().contains(ip("10.127.0.1")));
    EXPECT_FALSE(parseCidr("10.0.0.0/9").value().contains(ip("10.128.0.1")));
    EXPECT_EQ(parseCidr("10.0.0.0/9").value().format(), "10.0.0.0/9");
    EXPECT_EQ(parseCidr("2001:db8::/32").value().format(), "2001:db8::/32");
}

TEST(Cidr, Rejects) {
    EXPECT_EQ(parseCidr("10.1.2.3/8").error(), "host bits are set; did you mean 10.0.0.0/8?");
    EXPECT_EQ(parseCidr("10.0.0.0/33").error(), "the prefix length must be 0 to 32");
    EXPECT_EQ(parseCidr("::/129").error(), "the prefix length must be 0 to 128");
    EXPECT_EQ(parseCidr("10.0.0.0/").error(), "the prefix length must be 0 to 32");
    EXPECT_EQ(parseCidr("intranet").error(),
              "not an IP address or CIDR prefix (10.0.0.0/8, 2001:db8::/32)");
}

}  // namespace
}  // namespace alertbridge::core
