#include "plugin/pipeline/alert_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "../test_util.hpp"

namespace alertbridge::pipeline {
namespace {

using testing::at;

core::Alert alertNumber(int i, core::TimePoint ends) {
    core::Alert a;
    a.labels = core::LabelSet{{"alertname", "DiskFull"}, {"instance", "h" + std::to_string(i)}};
    a.fingerprint = a.labels.fingerprint();
    a.starts_at = at("2026-11-25T01:00:00Z");
    a.ends_at = ends;
    return a;
}

// Puts alerts 0..n-1 in; their fingerprints.
std::set<core::Fingerprint> fill(AlertIndex& index, int n, core::TimePoint ends) {
    std::set<core::Fingerprint> all;
    for (int i = 0; i < n; ++i) {
        auto a = alertNumber(i, ends);
        index.put(a.fingerprint, encodeRecord(a));
        all.insert(a.fingerprint);
    }
    return all;
}

// The index keeps its alerts in many tables; whatever the table, every alert is found,
// counted once, visited once and erased exactly.
TEST(AlertIndex, FindsCountsVisitsAndErasesAcrossItsTables) {
    AlertIndex index;
    const auto ends = at("2026-11-25T02:00:00Z");
    const auto all = fill(index, 5000, ends);
    ASSERT_EQ(all.size(), 5000U);
    EXPECT_EQ(index.size(), 5000U);
    // A second version replaces the first without adding an alert.
    auto again = alertNumber(7, ends + std::chrono::hours(1));
    index.put(again.fingerprint, encodeRecord(again));
    EXPECT_EQ(index.size(), 5000U);
    ASSERT_NE(index.find(again.fingerprint), nullptr);
    EXPECT_EQ(index.find(again.fingerprint)->endsAt(), again.ends_at);

    std::set<core::Fingerprint> seen;
    index.forEach([&](core::Fingerprint fp, const AlertIndex::Entry&) {
        EXPECT_TRUE(seen.insert(fp).second) << "visited twice";
    });
    EXPECT_EQ(seen, all);

    int erased = 0;
    for (auto fp : all) {
        if (fp % 2 == 0) {
            EXPECT_TRUE(index.erase(fp));
            EXPECT_FALSE(index.erase(fp));
            ++erased;
        }
    }
    EXPECT_EQ(index.size(), all.size() - static_cast<std::size_t>(erased));
    for (auto fp : all) EXPECT_EQ(index.find(fp) != nullptr, fp % 2 != 0);
}

TEST(AlertIndex, CheckpointsWriteEachChangedAlertOnceAndExpiryFindsEachEndedOne) {
    AlertIndex index;
    const auto ends = at("2026-11-25T02:00:00Z");
    std::map<core::Fingerprint, core::TimePoint> ending;
    for (int i = 0; i < 1000; ++i) {
        auto a = alertNumber(i, ends + std::chrono::seconds(i % 2));
        index.put(a.fingerprint, encodeRecord(a));
        ending[a.fingerprint] = *a.ends_at;
    }
    EXPECT_EQ(index.pendingChanges(), 1000U);
    EXPECT_TRUE(index.beginCheckpoint().empty());
    std::vector<state::RecordWrite> upserts;
    int passes = 0;
    while (!index.takeCheckpointChunk(300, upserts)) ++passes;
    EXPECT_EQ(passes, 3);
    EXPECT_EQ(upserts.size(), 1000U);
    EXPECT_EQ(index.pendingChanges(), 0U);

    // Removing a stored alert hands its row to the next checkpoint.
    const auto gone = upserts.front().fingerprint;
    EXPECT_TRUE(index.erase(gone));
    EXPECT_EQ(index.beginCheckpoint(), std::vector<long long>{upserts.front().row_id});

    ending.erase(gone);

    EXPECT_EQ(index.nextExpiry(), ends);
    auto first = index.expiredBy(ends);
    EXPECT_TRUE(std::is_sorted(first.begin(), first.end()));
    std::vector<core::Fingerprint> want;
    for (const auto& [fp, t] : ending) {
        if (t == ends) want.push_back(fp);
    }
    EXPECT_EQ(first, want) << "every alert ending at the first instant, and only those";
    auto second = index.expiredBy(ends + std::chrono::seconds(1));
    EXPECT_EQ(first.size() + second.size(), 999U);
    EXPECT_FALSE(index.nextExpiry().has_value());
}

// A re-send cycle walks the index one part at a time: for any number of parts, every
// alert is in exactly one part, the one partOf() names, and the parts are near in size.
TEST(AlertIndex, PartsSplitTheAlertsExactlyAndEvenly) {
    AlertIndex index;
    const auto ends = at("2026-11-25T02:00:00Z");
    const auto all = fill(index, 20000, ends);
    for (std::size_t parts : {1U, 2U, 7U, 60U, 255U, 256U, 257U, 300U, 3600U}) {
        std::set<core::Fingerprint> seen;
        std::size_t smallest = all.size();
        std::size_t largest = 0;
        for (std::size_t part = 0; part < parts; ++part) {
            std::size_t n = 0;
            index.forEachInPart(part, parts, [&](core::Fingerprint fp, const AlertIndex::Entry&) {
                EXPECT_EQ(AlertIndex::partOf(fp, parts), part);
                EXPECT_TRUE(seen.insert(fp).second) << "in two parts, parts=" << parts;
                ++n;
            });
            smallest = std::min(smallest, n);
            largest = std::max(largest, n);
        }
        EXPECT_EQ(seen, all) << "parts=" << parts;
        if (parts <= 300) {
            // 20,000 alerts hashed into `parts` parts: well inside 3x of the mean each way.
            const double mean = 20000.0 / static_cast<double>(parts);
            EXPECT_GT(static_cast<double>(smallest), mean / 3) << "parts=" << parts;
            EXPECT_LT(static_cast<double>(largest), mean * 3) << "parts=" << parts;
        }
    }
}

}  // namespace
}  // namespace alertbridge::pipeline
