#include "plugin/pipeline/runner.hpp"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <map>

#include "../test_util.hpp"
#include "adapters/alertmanager/codec.hpp"
#include "plugin/config/loader.hpp"

namespace alertbridge::pipeline {
namespace {

using namespace std::chrono;
using testing::at;

class PipelineTest : public ::testing::Test {
  protected:
    PipelineTest() : clock_(at("2026-11-25T01:00:00Z")) {
        config_ =
            config::loadConfigFromString("global: {instance: ab-1}\n", "t.yml").config.value();
        encoder_ =
            std::make_shared<alertmanager::PushEncoder>("am", "alertbridge_origin", "ab-1", 2);
        pipeline_ = std::make_unique<Pipeline>(
            config_, metrics_, std::vector<std::shared_ptr<const OutputEncoder>>{encoder_});
    }

    core::Alert alert(const std::string& instance, const std::string& summary = "down") {
        core::Alert a;
        a.labels = core::LabelSet{
            {"alertname", "CTPFrontDown"}, {"instance", instance}, {"severity", "critical"}};
        a.annotations = core::LabelSet{{"summary", summary}};
        a.starts_at = clock_.now() - minutes(1);
        a.origin.kind = core::SourceKind::kAlertmanagerWebhook;
        return a;
    }

    state::StateDelta run(std::vector<core::Alert> alerts, long long journal_id = 1) {
        return pipeline_->process(std::move(alerts), journal_id, clock_.now());
    }

    // The alerts of all outbox rows, parsed back from the push bodies.
    static std::vector<std::pair<std::string, std::string>> pushed(const state::StateDelta& d) {
        std::vector<std::pair<std::string, std::string>> out;  // instance, endsAt
        for (const auto& row : d.outbox) {
            rapidjson::Document doc;
            doc.Parse(row.body.c_str());
            for (const auto& a : doc.GetArray()) {
                EXPECT_STREQ(a["labels"]["alertbridge_origin"].GetString(), "ab-1");
                out.emplace_back(a["labels"]["instance"].GetString(), a["endsAt"].GetString());
            }
        }
        return out;
    }

    double count(const char* outcome) { return metrics_.dedupe(outcome).Value(); }

    core::FakeClock clock_;
    config::Config config_;
    telemetry::Metrics metrics_;
    std::shared_ptr<alertmanager::PushEncoder> encoder_;
    std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, NewAlertIsStoredAndQueuedForEveryOutput) {
    auto d = run({alert("10.0.0.1"), alert("10.0.0.2"), alert("10.0.0.3")}, 7);
    EXPECT_TRUE(d.upserts.empty()) << "state waits for the checkpoint";
    EXPECT_EQ(pipeline_->pendingChanges(), 3u);
    ASSERT_EQ(d.outbox.size(), 2u) << "3 alerts at 2 per row";
    EXPECT_EQ(d.outbox[0].alert_count, 2);
    auto p = pushed(d);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0].second, alertmanager::kEndsAtPlaceholder) << "firing: stamped at send time";
    EXPECT_EQ(pipeline_->activeAlerts(), 3u);
    EXPECT_EQ(count("new"), 3);
}

// Every stage counts what it received, passed on and dropped (ARCHITECTURE.md step 10).
TEST_F(PipelineTest, EveryStageCountsWhatItReceivedPassedAndDropped) {
    run({alert("10.0.0.1"), alert("10.0.0.2"), alert("10.0.0.3")}, 1);
    run({alert("10.0.0.1"), alert("10.0.0.2"), alert("10.0.0.3", "changed")}, 2);
    auto value = [&](const char* stage, const char* what) {
        auto m = metrics_.stage(stage);
        return std::string(what) == "received" ? m.received->Value()
               : std::string(what) == "passed" ? m.passed->Value()
                                               : m.dropped->Value();
    };
    EXPECT_EQ(value("normalize", "received"), 6);
    EXPECT_EQ(value("normalize", "passed"), 6);
    EXPECT_EQ(value("enrich", "passed"), 6);
    EXPECT_EQ(value("dedupe", "received"), 6);
    EXPECT_EQ(value("dedupe", "passed"), 4) << "3 new, 1 changed";
    EXPECT_EQ(value("dedupe", "dropped"), 2) << "2 repeats";
    EXPECT_EQ(value("deliver", "received"), 4);
    EXPECT_EQ(value("deliver", "dropped"), 0);
}

TEST_F(PipelineTest, RepeatIsCountedNotNotified) {
    run({alert("10.0.0.1")});
    clock_.advance(seconds(30));
    pipeline_->checkpoint(100);
    auto d = run({alert("10.0.0.1")});
    EXPECT_TRUE(d.outbox.empty());
    EXPECT_EQ(pipeline_->pendingChanges(), 1u) << "updated_at still moves";
    EXPECT_EQ(count("repeat"), 1);
}

TEST_F(PipelineTest, ChangedAnnotationIsNotifiedAndEarliestStartKept) {
    auto first = alert("10.0.0.1");
    auto first_start = first.starts_at;
    run({first});
    clock_.advance(minutes(2));
    auto later = alert("10.0.0.1", "still down");  // starts_at is later now
    auto d = run({later});
    ASSERT_EQ(d.outbox.size(), 1u);
    EXPECT_EQ(count("changed"), 1);
    rapidjson::Document doc;
    doc.Parse(d.outbox[0].body.c_str());
    EXPECT_EQ(std::string(doc[0]["startsAt"].GetString()), core::formatRfc3339(first_start));
    EXPECT_STREQ(doc[0]["annotations"]["summary"].GetString(), "still down");
}

TEST_F(PipelineTest, ChangedLabelsResolveTheCopyAlertmanagerHeld) {
    // One alert (same identity) whose labels change, as when the CMDB moves its owner.
    auto first = alert("10.0.0.1");
    first.identity = "host-1";
    run({first});
    clock_.advance(minutes(1));
    auto moved = alert("10.0.0.2");
    moved.identity = "host-1";
    auto d = run({moved});
    EXPECT_EQ(count("changed"), 1);
    auto got = pushed(d);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], std::make_pair(std::string("10.0.0.1"), core::formatRfc3339(clock_.now())));
    EXPECT_EQ(got[1].first, "10.0.0.2");
    EXPECT_EQ(got[1].second, std::string(alertmanager::kEndsAtPlaceholder));
    EXPECT_EQ(pipeline_->activeAlerts(), 1u);
    // A repeat with the new labels sends nothing, and nothing more is resolved.
    clock_.advance(minutes(1));
    EXPECT_TRUE(run({moved}).outbox.empty());
}

TEST_F(PipelineTest, ResolutionRemovesAndNotifiesWithRealEnd) {
    run({alert("10.0.0.1")});
    clock_.advance(minutes(1));
    auto r = alert("10.0.0.1");
    r.ends_at = clock_.now() - seconds(5);
    auto d = run({r});
    auto cp = pipeline_->checkpoint(100);
    ASSERT_EQ(cp.size(), 1u);
    // Added and removed between checkpoints: never stored, so nothing to write.
    EXPECT_TRUE(cp[0].deletes.empty());
    EXPECT_TRUE(cp[0].upserts.empty());
    auto p = pushed(d);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].second, core::formatRfc3339(*r.ends_at));
    EXPECT_EQ(pipeline_->activeAlerts(), 0u);
    // The same resolution again (Alertmanager re-sends groups) is not news.
    auto again = run({r});
    EXPECT_TRUE(again.outbox.empty());
    EXPECT_EQ(count("resolved_unknown"), 1);
}

TEST_F(PipelineTest, AlertExpiresAtItsEndsAt) {
    auto a = alert("10.0.0.1");
    a.ends_at = clock_.now() + minutes(5);  // API v2 without re-send
    run({a});
    clock_.advance(minutes(4));
    EXPECT_TRUE(pipeline_->expire(clock_.now()).empty());
    clock_.advance(minutes(1));
    pipeline_->checkpoint(100);
    auto d = pipeline_->expire(clock_.now());
    auto cp = pipeline_->checkpoint(100);
    ASSERT_EQ(cp.size(), 1u);
    EXPECT_EQ(cp[0].deletes.size(), 1u);
    auto p = pushed(d);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].second, core::formatRfc3339(*a.ends_at));
    EXPECT_EQ(count("expired"), 1);
}

TEST_F(PipelineTest, ExtendedEndsAtOutlivesTheOldDeadline) {
    auto a = alert("10.0.0.1");
    a.ends_at = clock_.now() + minutes(5);
    run({a});
    clock_.advance(minutes(4));
    a.ends_at = clock_.now() + minutes(5);  // Prometheus re-sends with a later endsAt
    run({a});
    clock_.advance(minutes(2));  // past the first deadline
    EXPECT_TRUE(pipeline_->expire(clock_.now()).empty());
    EXPECT_EQ(pipeline_->activeAlerts(), 1u);
    clock_.advance(minutes(3));
    EXPECT_EQ(pushed(pipeline_->expire(clock_.now())).size(), 1u);
    EXPECT_EQ(pipeline_->activeAlerts(), 0u);
}

TEST_F(PipelineTest, NormalizeKeepsIdentityAndMapsSeverity) {
    auto a = alert("10.0.0.1");
    a.labels.set("severity", "P1");
    auto identity = a.labels.fingerprint();
    run({a});
    const auto* e = pipeline_->index().find(identity);
    ASSERT_NE(e, nullptr) << "the fingerprint is over the labels as received";
    core::Alert stored;
    ASSERT_TRUE(decodeRecord(e->bytes(), identity, stored));
    EXPECT_EQ(*stored.labels.get("severity"), "critical");
    EXPECT_EQ(*stored.annotations.get("severity_raw"), "P1");
    EXPECT_EQ(*stored.labels.get("source_kind"), "alertmanager_webhook");
    EXPECT_EQ(stored.severity, core::Severity::kCritical);
}

TEST_F(PipelineTest, MissingSeverityGetsTheDefault) {
    auto a = alert("10.0.0.1");
    a.labels.erase("severity");
    auto identity = a.labels.fingerprint();
    run({a});
    core::Alert stored;
    ASSERT_TRUE(decodeRecord(pipeline_->index().find(identity)->bytes(), identity, stored));
    EXPECT_EQ(*stored.labels.get("severity"), "warning");
    EXPECT_EQ(stored.annotations.get("severity_raw"), nullptr);
}

TEST_F(PipelineTest, RecordsRoundTripThroughRestore) {
    run({alert("10.0.0.1"), alert("10.0.0.2")});
    auto cp = pipeline_->checkpoint(100);
    ASSERT_EQ(cp.size(), 1u);
    telemetry::Metrics m2;
    Pipeline fresh(config_, m2, {encoder_});
    for (const auto& w : cp[0].upserts) {
        EXPECT_EQ(w.replaces, 0);
        ASSERT_TRUE(fresh.restore(w.row_id, w.fingerprint, w.record));
    }
    EXPECT_EQ(fresh.pendingChanges(), 0u) << "what was loaded is already stored";
    EXPECT_EQ(fresh.activeAlerts(), 2u);
    EXPECT_FALSE(fresh.restore(99, 1, "garbage"));
    // A restored alert repeats, it is not new again.
    state::StateDelta again = fresh.process({alert("10.0.0.1")}, 2, clock_.now());
    EXPECT_TRUE(again.outbox.empty());
}

TEST_F(PipelineTest, CheckpointIsChunkedSortedAndMarksTheJournal) {
    std::vector<core::Alert> many;
    for (int i = 0; i < 25; ++i) many.push_back(alert("10.0.2." + std::to_string(i)));
    run(std::move(many), 41);
    run({alert("10.0.2.0", "changed")}, 42);
    auto cp = pipeline_->checkpoint(10);
    ASSERT_EQ(cp.size(), 3u);
    EXPECT_EQ(cp[0].checkpoint_journal_id, 0);
    EXPECT_EQ(cp[2].checkpoint_journal_id, 42) << "only the last chunk moves the checkpoint";
    std::vector<long long> rows;
    std::map<core::Fingerprint, long long> row_of;
    for (const auto& d : cp) {
        for (const auto& u : d.upserts) {
            rows.push_back(u.row_id);
            row_of[u.fingerprint] = u.row_id;
        }
    }
    EXPECT_EQ(rows.size(), 25u);
    EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end())) << "appends, in order";
    EXPECT_TRUE(pipeline_->checkpoint(10).empty()) << "nothing moved since";
    // A deletion after the checkpoint is stored as a delete.
    auto r = alert("10.0.2.3");
    r.ends_at = clock_.now();
    run({r}, 43);
    // ...and an update appends a new version that replaces the stored one.
    run({alert("10.0.2.4", "new text")}, 44);
    auto next = pipeline_->checkpoint(10);
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].deletes, std::vector<long long>{row_of.at(r.labels.fingerprint())});
    ASSERT_EQ(next[0].upserts.size(), 1u);
    EXPECT_GT(next[0].upserts[0].row_id, rows.back());
    EXPECT_EQ(next[0].upserts[0].replaces, row_of.at(next[0].upserts[0].fingerprint));
    EXPECT_EQ(next[0].checkpoint_journal_id, 44);
}

TEST_F(PipelineTest, ResendSlicesCoverEveryAlertOnce) {
    std::vector<core::Alert> many;
    for (int i = 0; i < 50; ++i) many.push_back(alert("10.0.1." + std::to_string(i)));
    run(std::move(many));
    std::size_t total = 0;
    for (std::size_t slice = 0; slice < 7; ++slice) {
        for (const auto& row : pipeline_->resend(0, slice, 7)) total += row.alert_count;
    }
    EXPECT_EQ(total, 50u);
    std::size_t all = 0;
    for (const auto& row : pipeline_->resend(0, 0, 1)) all += row.alert_count;
    EXPECT_EQ(all, 50u);
}

TEST_F(PipelineTest, EachResendSliceTakesTheAlertsActiveWhenItRuns) {
    std::vector<core::Alert> first;
    for (int i = 0; i < 40; ++i) first.push_back(alert("10.0.1." + std::to_string(i)));
    run(first, 1);
    auto instances = [&](std::size_t from, std::size_t to) {
        std::vector<std::string> out;
        for (std::size_t slice = from; slice < to; ++slice) {
            for (const auto& row : pipeline_->resend(0, slice, 7)) {
                rapidjson::Document doc;
                doc.Parse(row.body.c_str());
                for (const auto& a : doc.GetArray()) {
                    out.emplace_back(a["labels"]["instance"].GetString());
                }
            }
        }
        std::sort(out.begin(), out.end());
        return out;
    };
    auto late = [](const core::Alert& a) {
        return AlertIndex::partOf(a.labels.fingerprint(), 7) >= 4;
    };
    // What slices [from, 7) should hold of `alerts`, by instance.
    auto expected = [&](const std::vector<core::Alert>& alerts, bool in_late) {
        std::vector<std::string> out;
        for (const auto& a : alerts) {
            if (late(a) == in_late) out.emplace_back(*a.labels.get("instance"));
        }
        return out;
    };
    auto early = instances(0, 4);
    auto want_early = expected(first, false);
    std::sort(want_early.begin(), want_early.end());
    EXPECT_EQ(early, want_early);
    // Mid-cycle: ten new alerts arrive and one not re-sent yet this cycle resolves.
    std::vector<core::Alert> newcomers;
    for (int i = 0; i < 10; ++i) newcomers.push_back(alert("10.0.9." + std::to_string(i)));
    auto gone_it = std::find_if(first.begin(), first.end(), late);
    ASSERT_NE(gone_it, first.end());
    auto gone = *gone_it;
    gone.ends_at = clock_.now();
    auto later = newcomers;
    later.push_back(gone);
    run(later, 2);
    // The rest of the cycle: the first ones still active in the later slices, and the
    // newcomers whose slice had not come yet; not the resolved one.
    auto rest = instances(4, 7);
    auto want_rest = expected(first, true);
    want_rest.erase(std::find(want_rest.begin(), want_rest.end(), *gone.labels.get("instance")));
    for (auto& i : expected(newcomers, true)) want_rest.push_back(i);
    std::sort(want_rest.begin(), want_rest.end());
    EXPECT_EQ(rest, want_rest);
    auto next = instances(0, 7);
    EXPECT_EQ(next.size(), 49u) << "the next cycle: every active alert";
    EXPECT_EQ(std::adjacent_find(next.begin(), next.end()), next.end()) << "each once";
}

}  // namespace
}  // namespace alertbridge::pipeline
