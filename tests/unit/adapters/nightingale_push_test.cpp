#include "adapters/nightingale/push.hpp"

#include <gtest/gtest.h>

namespace alertbridge::nightingale {
namespace {

using Kind = core::Delivery::Kind;

TEST(EventClassify, RepliesAsN9eSendsThem) {
    struct Case {
        int status;
        const char* body;
        Kind want;
    };
    for (auto c : std::initializer_list<Case>{
             {200, R"({"err":""})", Kind::kOk},
             {200, R"({"err":"","request_id":"abc"})", Kind::kOk},
             {200, R"({"err":"queue is full"})", Kind::kRetry},
             {200, R"({"err":"event is illegal"})", Kind::kDrop},
             {200, "<html>proxy</html>", Kind::kDrop},
             {400, "invalid character 'x'", Kind::kDrop},
             {401, "Unauthorized", Kind::kRetry},
             {404, "404 page not found", Kind::kDrop},
             {429, "", Kind::kRetry},
             {502, "bad gateway", Kind::kRetry},
             {0, "", Kind::kRetry},
         }) {
        auto d = classifyEventResponse(net::ClientResponse{c.status, c.body, "", "refused"});
        EXPECT_EQ(d.kind, c.want) << c.status << " " << c.body;
    }
    EXPECT_EQ(classifyEventResponse({200, R"({"err":"queue is full"})", "", ""}).reason,
              "n9e: queue is full");
}

}  // namespace
}  // namespace alertbridge::nightingale
