#include "plugin/app/delivery_worker.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "../test_util.hpp"
#include "plugin/state/sqlite_store.hpp"

namespace alertbridge::app {
namespace {

namespace fs = std::filesystem;

// The transport side of an output as the worker sees it: records what it was asked to send
// and answers what the test says.
class RecordingTransport final : public pipeline::OutputTransport {
  public:
    std::size_t maxRowsPerSend() const override { return 100; }
    core::Delivery send(const std::vector<std::string_view>& bodies, core::TimePoint) override {
        std::lock_guard lock(mu);
        if (failing) return core::Delivery::retry("down", 503);
        for (auto b : bodies) sent.emplace_back(b);
        return core::Delivery::ok(200);
    }
    std::vector<std::string> taken() {
        std::lock_guard lock(mu);
        return sent;
    }
    std::mutex mu;
    bool failing = false;
    std::vector<std::string> sent;
};

bool eventually(const std::function<bool()>& f) {
    for (int i = 0; i < 500; ++i) {
        if (f()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return f();
}

class DeliveryWorkerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("alertbridge-worker-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        options_.path = (dir_ / "ab.db").string();
        store_ = state::openSqliteStore(options_, clock_).value();
        auto t = std::make_unique<RecordingTransport>();
        transport_ = t.get();
        DeliveryOptions o;
        o.name = "am";
        o.backoff.initial = std::chrono::milliseconds(10);
        o.backoff.max = std::chrono::milliseconds(20);
        worker_ = std::make_unique<DeliveryWorker>(o, std::move(t), *store_, clock_, metrics_);
    }
    void TearDown() override {
        worker_.reset();
        store_.reset();
        fs::remove_all(dir_);
    }
    void outbox(std::vector<std::string> bodies) {
        state::StateDelta d;
        for (auto& b : bodies) d.outbox.push_back({"am", b, 1, {}, {}});
        std::promise<void> p;
        store_->applyDelta(std::move(d), [&](const core::Status&) { p.set_value(); });
        p.get_future().wait();
    }

    fs::path dir_;
    state::SqliteOptions options_;
    core::FakeClock clock_{testing::at("2026-11-25T01:00:00Z")};
    telemetry::Metrics metrics_;
    std::unique_ptr<state::Store> store_;
    RecordingTransport* transport_ = nullptr;
    std::unique_ptr<DeliveryWorker> worker_;
};

// There is no read cursor: a pending row is delivered whatever its id, even one below every
// id delivered before (what a reused id did to the cursor).
TEST_F(DeliveryWorkerTest, APendingRowIsDeliveredWhateverItsId) {
    outbox({"[10]", "[11]"});
    worker_->start();
    ASSERT_TRUE(eventually([&] { return transport_->taken().size() == 2; }));
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(options_.path.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);  // the store's writer may be committing a completion
    // Both completions are committed before the row is replaced: a completion still queued
    // would mark the new row 1 delivered (a reused id; AUTOINCREMENT never reuses one).
    auto delivered = [&] {
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox WHERE state = 'delivered'", -1, &st,
                           nullptr);
        long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_finalize(st);
        return n;
    };
    ASSERT_TRUE(eventually([&] { return delivered() == 2; }));
    ASSERT_EQ(sqlite3_exec(db,
                           // What a prune and a reused id used to leave: a new row under
                           // the id of one delivered before.
                           "DELETE FROM outbox WHERE id = 1;"
                           "INSERT INTO outbox(id, output, created_at, alert_count, body) "
                           "VALUES(1, 'am', 0, 1, '[low]')",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    worker_->notify();
    EXPECT_TRUE(eventually([&] { return transport_->taken().size() == 3; }));
    EXPECT_EQ(transport_->taken().back(), "[low]");
}

// While the host is down, a newer copy of a slice replaces the queued one: when it comes
// back, only the newest state goes out, once.
TEST_F(DeliveryWorkerTest, ResendsOfASliceCoalesceWhileTheHostIsDown) {
    transport_->failing = true;
    worker_->start();
    for (int i = 0; i < 10; ++i) {
        worker_->queueResend(0, {{"am", "[slice0 v" + std::to_string(i) + "]", 1, {}, {}}});
        worker_->queueResend(1, {{"am", "[slice1 v" + std::to_string(i) + "]", 1, {}, {}}});
    }
    EXPECT_LE(worker_->queuedResends(), 2u) << "one copy per slice (one may be in flight)";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    {
        std::lock_guard lock(transport_->mu);
        transport_->failing = false;
    }
    // The worker backs off on the injected clock: time moves only as the test moves it.
    ASSERT_TRUE(eventually([&] {
        clock_.advance(std::chrono::seconds(1));
        return transport_->taken().size() == 2;
    }));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto sent = transport_->taken();
    std::sort(sent.begin(), sent.end());
    EXPECT_EQ(sent, (std::vector<std::string>{"[slice0 v9]", "[slice1 v9]"}));
    // A slice with nothing firing any more withdraws its queued copy.
    transport_->failing = true;
    worker_->queueResend(3, {{"am", "[slice3]", 1, {}, {}}});
    worker_->queueResend(3, std::vector<state::OutboxInsert>{});
    EXPECT_EQ(worker_->queuedResends(), 0u);
}

// A re-send given as a job is encoded on the worker's thread when it is taken, once; a copy
// replaced before it went out is never encoded at all.
TEST_F(DeliveryWorkerTest, AResendJobIsEncodedOnTheWorkerWhenTaken) {
    std::atomic<int> stale_runs{0}, runs{0};
    std::atomic<bool> on_caller{false};
    const auto caller = std::this_thread::get_id();
    worker_->queueResend(0, [&] {
        ++stale_runs;
        return std::vector<state::OutboxInsert>{{"am", "[old]", 1, {}, {}}};
    });
    worker_->queueResend(0, [&] {
        ++runs;
        on_caller = std::this_thread::get_id() == caller;
        return std::vector<state::OutboxInsert>{{"am", "[new]", 1, {}, {}}};
    });
    EXPECT_EQ(runs.load() + stale_runs.load(), 0) << "nothing is encoded when queued";
    worker_->start();
    ASSERT_TRUE(eventually([&] { return transport_->taken().size() == 1; }));
    EXPECT_EQ(transport_->taken().front(), "[new]");
    EXPECT_EQ(runs.load(), 1);
    EXPECT_EQ(stale_runs.load(), 0);
    EXPECT_FALSE(on_caller.load());
    // A job whose alerts were all left out sends nothing.
    worker_->queueResend(1, [] { return std::vector<state::OutboxInsert>{}; });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(transport_->taken().size(), 1u);
}

// Re-sends and outbox rows take turns: a backlog of rows does not hold re-sends back.
TEST_F(DeliveryWorkerTest, ResendsAreNotStarvedByABacklog) {
    std::vector<std::string> rows;
    for (int i = 0; i < 2000; ++i) rows.push_back("[row " + std::to_string(i) + "]");
    outbox(rows);
    worker_->queueResend(0, {{"am", "[resend]", 1, {}, {}}});
    worker_->start();
    ASSERT_TRUE(eventually([&] {
        auto s = transport_->taken();
        return std::find(s.begin(), s.end(), "[resend]") != s.end();
    }));
    auto s = transport_->taken();
    auto at = std::find(s.begin(), s.end(), "[resend]") - s.begin();
    EXPECT_LE(at, 100) << "the re-send went out after at most one send of rows";
    EXPECT_TRUE(eventually([&] { return transport_->taken().size() == 2001; }));
}

// A backlog coalesces: of ten queued states of an alert, only the newest goes out. A row is
// rebuilt without the elements a newer row replaces, and completed unsent when nothing of
// it is left; an element no newer row holds goes out as it was queued.
TEST_F(DeliveryWorkerTest, ABacklogSendsOnlyTheNewestStateOfEachAlert) {
    auto row = [](long long first_key, const std::vector<std::string>& elements) {
        state::OutboxInsert r{"am", "[", static_cast<int>(elements.size()), {}, {}};
        for (std::size_t i = 0; i < elements.size(); ++i) {
            if (i > 0) r.body += ',';
            auto begin = static_cast<std::uint32_t>(r.body.size());
            r.body += elements[i];
            r.keys.push_back({static_cast<std::uint64_t>(first_key + static_cast<long long>(i)),
                              begin, static_cast<std::uint32_t>(r.body.size())});
        }
        r.body += ']';
        return r;
    };
    transport_->failing = true;
    worker_->start();
    state::StateDelta d;
    for (int v = 0; v < 10; ++v) {
        d.outbox.push_back(row(1, {"a" + std::to_string(v), "b" + std::to_string(v)}));
    }
    d.outbox.push_back(row(2, {"b10", "c10"}));         // keys 2 (b) and 3 (c)
    d.outbox.push_back({"am", "[legacy]", 1, {}, {}});  // a row written before keys existed
    std::promise<void> p;
    store_->applyDelta(std::move(d), [&](const core::Status&) { p.set_value(); });
    p.get_future().wait();
    worker_->notify();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    {
        std::lock_guard lock(transport_->mu);
        transport_->failing = false;
    }
    // The worker backs off on the injected clock: time moves only as the test moves it.
    ASSERT_TRUE(eventually([&] {
        clock_.advance(std::chrono::seconds(1));
        return transport_->taken().size() == 3;
    }));
    // The completions are recorded by the store's writer after the sends: wait for them
    // (a fixed sleep raced with a loaded machine).
    auto states = [&] {
        sqlite3* db = nullptr;
        std::string out;
        if (sqlite3_open(options_.path.c_str(), &db) == SQLITE_OK) {
            sqlite3_stmt* st = nullptr;
            sqlite3_prepare_v2(db,
                               "SELECT group_concat(state || ':' || n) FROM "
                               "(SELECT state, count(*) AS n FROM outbox GROUP BY state "
                               "ORDER BY state)",
                               -1, &st, nullptr);
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr) {
                out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
            }
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
        return out;
    };
    EXPECT_TRUE(eventually([&] { return states() == "delivered:3,superseded:9"; })) << states();
    EXPECT_EQ(transport_->taken(), (std::vector<std::string>{"[a9]", "[b10,c10]", "[legacy]"}));
    std::string text;
    EXPECT_TRUE(eventually([&] {
        text = metrics_.serialize();
        return text.find(
                   "alertbridge_output_alerts_total{outcome=\"superseded\",output=\"am\"} 19") !=
               std::string::npos;
    })) << text.substr(text.find("alertbridge_output_alerts_total"), 600);
}

}  // namespace
}  // namespace alertbridge::app
