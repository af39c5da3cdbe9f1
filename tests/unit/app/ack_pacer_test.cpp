// The pacer answers a stored request at once while the engine keeps up, holds the answer
// while it is behind, and answers what it held in arrival order once it caught up.
#include "plugin/app/ack_pacer.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace alertbridge::app {
namespace {

TEST(AckPacer, AnswersAtOnceWhileTheEngineKeepsUp) {
    AckPacer pacer;
    std::vector<int> answered;
    EXPECT_FALSE(pacer.answer(false, [&] { answered.push_back(1); }));
    EXPECT_EQ(answered, std::vector<int>{1});
    EXPECT_EQ(pacer.held(), 0U);
}

TEST(AckPacer, HoldsWhileBehindAndAnswersInOrderOnceCaughtUp) {
    AckPacer pacer;
    std::vector<int> answered;
    EXPECT_TRUE(pacer.answer(true, [&] { answered.push_back(1); }));
    EXPECT_TRUE(pacer.answer(true, [&] { answered.push_back(2); }));
    EXPECT_TRUE(answered.empty());
    pacer.resume(true);  // a release that left the queue past its mark
    EXPECT_TRUE(answered.empty());
    EXPECT_EQ(pacer.held(), 2U);
    // Caught up just as a third request is stored: the older two go first.
    EXPECT_FALSE(pacer.answer(false, [&] { answered.push_back(3); }));
    EXPECT_EQ(answered, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(pacer.held(), 0U);
}

TEST(AckPacer, ResumeAnswersEverythingHeldAndShutdownAnswersTheRest) {
    AckPacer pacer;
    std::vector<int> answered;
    pacer.answer(true, [&] { answered.push_back(1); });
    pacer.resume(false);
    EXPECT_EQ(answered, std::vector<int>{1});
    pacer.answer(true, [&] { answered.push_back(2); });
    pacer.answerAll();
    EXPECT_EQ(answered, (std::vector<int>{1, 2}));
    EXPECT_EQ(pacer.held(), 0U);
}

TEST(AckPacer, TellsItsObserverTheCountBeforeAnAnswerGoesOut) {
    // A sender that has its answer and reads the held gauge must not find itself there.
    std::vector<std::size_t> seen;
    AckPacer pacer([&](std::size_t held) { seen.push_back(held); });
    std::vector<std::size_t> at_answer;
    pacer.answer(true, [&] { at_answer.push_back(seen.back()); });
    pacer.answer(true, [&] { at_answer.push_back(seen.back()); });
    EXPECT_EQ(seen, (std::vector<std::size_t>{1, 2}));
    pacer.resume(false);
    EXPECT_EQ(at_answer, (std::vector<std::size_t>{0, 0}));
    // Caught up with one held still: the count goes to 0 before either is answered.
    pacer.answer(true, [&] { at_answer.push_back(seen.back()); });
    pacer.answer(false, [&] { at_answer.push_back(seen.back()); });
    EXPECT_EQ(at_answer, (std::vector<std::size_t>{0, 0, 0, 0}));
    EXPECT_EQ(seen.back(), 0U);
}

}  // namespace
}  // namespace alertbridge::app
