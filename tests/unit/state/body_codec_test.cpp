#include "plugin/state/body_codec.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace alertbridge::state {
namespace {

std::string alerts(int n) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) {
        if (i > 0) s += ",";
        s += R"({"labels":{"alertname":"HostDown","host":"bj-app-)" + std::to_string(i * 7919) +
             R"(","severity":"critical"},"annotations":{"summary":"host )" + std::to_string(i) +
             R"( is down"},"startsAt":"2026-03-09T06:02:23.291Z"})";
    }
    return s + "]";
}

TEST(BodyCodec, ABatchIsStoredAsAFrameAndReadBackAsGiven) {
    auto raw = alerts(100);
    auto stored = packBody(raw);
    EXPECT_LT(stored.size() * 5, raw.size()) << "a batch of alerts shrinks several times";
    EXPECT_EQ(unpackBody(stored), raw);
}

TEST(BodyCodec, WhatWouldNotShrinkIsStoredAsItIs) {
    auto one = alerts(1);
    ASSERT_LT(one.size(), 256u);
    EXPECT_EQ(packBody(one), one) << "one small alert";
    std::mt19937 rng(3);
    std::string noise(4096, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    noise[0] = '[';
    EXPECT_EQ(packBody(noise), noise) << "random bytes do not compress";
    EXPECT_EQ(unpackBody(noise), noise);
}

// Rows stored before frames existed are read as they are, and a raw body that starts with
// the frame's magic number is stored as a frame, so it can never be mistaken for one.
TEST(BodyCodec, RawRowsAndLookAlikesReadBackAsGiven) {
    const std::string magic("\x28\xB5\x2F\xFD", 4);
    for (std::string raw : {magic + "not a frame", magic, magic + std::string(600, 'x')}) {
        auto stored = packBody(raw);
        EXPECT_EQ(unpackBody(stored), raw);
        EXPECT_EQ(unpackBody(raw), raw) << "an old raw row with the magic stays as it is";
    }
    auto stored = packBody(alerts(50));
    std::string cut = stored.substr(0, stored.size() / 2);
    EXPECT_EQ(unpackBody(cut), cut) << "a damaged frame is returned, not half-expanded";
    EXPECT_EQ(unpackBody(""), "");
    EXPECT_EQ(packBody(""), "");
}

}  // namespace
}  // namespace alertbridge::state
