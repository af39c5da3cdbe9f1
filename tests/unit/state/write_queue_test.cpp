// The writer's queue: journal appends go first, a transaction is bounded, and the store's
// health follows the newest commit, whichever thread reports it.
#include "plugin/state/write_queue.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <deque>
#include <string>

#include "../test_util.hpp"

namespace alertbridge::state {
namespace {

WriteOp op(bool urgent, std::size_t weight = 1) {
    WriteOp o;
    o.apply = [] { return SQLITE_DONE; };
    o.urgent = urgent;
    o.weight = weight;
    return o;
}

TEST(WriteQueueTest, UrgentOpsGoFirstAndATransactionIsBounded) {
    core::FakeClock clock{testing::at("2026-12-06T10:00:00Z")};
    WriteQueue q(clock, "ab.db");
    q.push(op(false, 3000));
    q.push(op(false, 3000));
    q.push(op(true));
    std::deque<WriteOp> batch;
    ASSERT_TRUE(q.take(batch));
    ASSERT_EQ(batch.size(), 2u) << "the urgent one and the first bulk one; the second waits";
    EXPECT_TRUE(batch[0].urgent);
    EXPECT_EQ(batch[1].weight, 3000u);
    batch.clear();
    ASSERT_TRUE(q.take(batch));
    EXPECT_EQ(batch.size(), 1u);
    batch.clear();
    q.stop();
    EXPECT_FALSE(q.take(batch));
    bool refused = false;
    auto late = op(true);
    late.done = [&](const core::Status& s) { refused = !s.ok(); };
    q.push(std::move(late));
    EXPECT_TRUE(refused) << "a stopping store answers at once";
}

TEST(WriteQueueTest, ALateSuccessOfAnOlderCommitDoesNotEndANewerFailure) {
    core::FakeClock clock{testing::at("2026-12-06T10:00:00Z")};
    WriteQueue q(clock, "ab.db");
    q.note(WriteOutcome{core::okStatus()}, 1, 1);
    EXPECT_FALSE(q.failing());
    q.note(WriteOutcome{core::Error{"disk full"}, StoreErrorClass::kFull}, 1, 5);
    EXPECT_TRUE(q.failing());
    EXPECT_TRUE(q.failingFull());
    EXPECT_NE(q.failure().find("disk full (full)"), std::string::npos) << q.failure();
    // Commit 4 was synced on the syncer's thread and reported after commit 5 failed.
    q.note(WriteOutcome{core::okStatus()}, 1, 4);
    EXPECT_TRUE(q.failing());
    q.note(WriteOutcome{core::okStatus()}, 1, 6);
    EXPECT_FALSE(q.failing());
    EXPECT_EQ(q.failure(), "");
}

}  // namespace
}  // namespace alertbridge::state
