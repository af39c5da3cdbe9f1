#include "adapters/alertmanager/push.hpp"

#include <gtest/gtest.h>

namespace alertbridge::alertmanager {
namespace {

using Kind = core::Delivery::Kind;

TEST(PushClassify, StatusesAndErrors) {
    struct Case {
        int status;
        const char* retry_after;
        const char* error;
        Kind want;
    };
    for (auto c : std::initializer_list<Case>{
             {200, "", "", Kind::kOk},
             {204, "", "", Kind::kOk},
             {400, "", "", Kind::kDrop},
             {401, "", "", Kind::kDrop},
             {404, "", "", Kind::kDrop},
             {408, "", "", Kind::kRetry},
             {429, "", "", Kind::kRetry},
             {500, "", "", Kind::kRetry},
             {503, "", "", Kind::kRetry},
             {0, "", "Connection refused", Kind::kRetry},
             {0, "", "timed out", Kind::kRetry},
         }) {
        net::ClientResponse res{c.status, "\"invalid label set\"\n", c.retry_after, c.error};
        auto d = classifyPushResponse(res);
        EXPECT_EQ(d.kind, c.want) << c.status << " " << c.error;
    }
    auto drop = classifyPushResponse({400, "\"bad\"\n", "", ""});
    EXPECT_EQ(drop.reason, "HTTP 400: \"bad\"");
    auto refused = classifyPushResponse({0, "", "", "Connection refused"});
    EXPECT_EQ(refused.reason, "Connection refused");
    auto later = classifyPushResponse({503, "", "7", ""});
    EXPECT_EQ(later.retry_after, std::chrono::seconds(7));
    auto silly = classifyPushResponse({503, "", "soon", ""});
    EXPECT_EQ(silly.retry_after, core::Duration::zero());
}

TEST(PushMerge, JoinsArrays) {
    EXPECT_EQ(mergeArrays({"[1]"}), "[1]");
    EXPECT_EQ(mergeArrays({"[1,2]", "[]", "[3]"}), "[1,2,3]");
    EXPECT_EQ(mergeArrays({"[]", "[]"}), "[]");
}

}  // namespace
}  // namespace alertbridge::alertmanager
