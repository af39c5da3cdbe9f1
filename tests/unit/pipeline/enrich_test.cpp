// The enrich stage end to end on one alert: relabel -> CMDB -> whitelist -> classify.

#include "plugin/pipeline/enrich/enrich.hpp"

#include <gtest/gtest.h>

#include "plugin/config/loader.hpp"

namespace alertbridge::pipeline {
namespace {

constexpr const char* kConfig = R"(
enrich:
  relabel_configs:
    - {source_labels: [instance], regex: '(.+):\d+', target_label: ip}
    - {source_labels: [alertname], regex: Watchdog, action: drop, name: no-watchdog}
  tables:
    - name: cmdb
      source: {file: cmdb.csv}
      key_label: ip
      columns: {owner: owner, team: team}
    - name: customer_whitelist
      source: {file: whitelist.csv}
      key_label: ip
      match: cidr
      set: {whitelist: "Y"}
      default: {whitelist: "N"}
  classify:
    - {name: customer, matchers: ['whitelist="Y"'], set: {alert_class: business}}
)";

class EnrichTest : public ::testing::Test {
  protected:
    EnrichTest() {
        auto r = config::loadConfigFromString(kConfig, "test.yml");
        if (!r.config) throw std::runtime_error(r.errors.at(0).format());
        config_ = std::move(*r.config);
        tables_ = std::make_shared<TableSnapshots>(2);
        TableData cmdb;
        cmdb.columns = {"ip", "owner", "team"};
        cmdb.rows = {{"10.8.1.21", "li.na", "trading-infra"}, {"10.9.0.5", "zhao.lei", ""}};
        tables_->publish(0, LookupTable::build(config_.enrich.tables[0], cmdb, "cmdb.csv").value());
        TableData wl;
        wl.columns = {"cidr"};
        wl.rows = {{"10.8.0.0/16"}};
        tables_->publish(1, LookupTable::build(config_.enrich.tables[1], wl, "wl.csv").value());
        stage_ = std::make_unique<Enrich>(
            config_.enrich, Relabeler::compile(config_.enrich.relabel_configs).value(), tables_,
            metrics_);
    }
    config::Config config_;
    telemetry::Metrics metrics_;
    std::shared_ptr<TableSnapshots> tables_;
    std::unique_ptr<Enrich> stage_;
};

TEST_F(EnrichTest, AWhitelistedOwnedHostBecomesABusinessAlert) {
    core::LabelSet labels{{"alertname", "NodeDown"}, {"instance", "10.8.1.21:9100"}};
    std::vector<std::string> trace;
    ASSERT_TRUE(stage_->apply(labels, "alertmanager_api", &trace));
    EXPECT_EQ(labels.toString(),
              R"({alert_class="business", alertname="NodeDown", instance="10.8.1.21:9100", )"
              R"(ip="10.8.1.21", owner="li.na", team="trading-infra", whitelist="Y"})");
    std::vector<std::string> want = {
        R"(relabel 0 (replace, line 4): +ip="10.8.1.21")",
        "relabel no-watchdog (drop, line 5): no change",
        R"(table cmdb (exact): hit on ip="10.8.1.21": row "10.8.1.21" -> +owner="li.na" +team="trading-infra")",
        R"(table customer_whitelist (cidr): hit on ip="10.8.1.21": row "10.8.0.0/16" -> +whitelist="Y")",
        R"(classify customer (line 18) matched: +alert_class="business")",
    };
    EXPECT_EQ(trace, want);
}

TEST_F(EnrichTest, OthersAreSystemAlertsWithDefaults) {
    core::LabelSet labels{{"alertname", "DiskFull"}, {"instance", "10.9.0.5:9100"}};
    ASSERT_TRUE(stage_->apply(labels, "alertmanager_api"));
    EXPECT_EQ(labels.toString(),
              R"({alert_class="system", alertname="DiskFull", instance="10.9.0.5:9100", )"
              R"(ip="10.9.0.5", owner="zhao.lei", whitelist="N"})");
    core::LabelSet no_ip{{"alertname", "QueueFull"}, {"alert_class", "business"}};
    ASSERT_TRUE(stage_->apply(no_ip, "nightingale"));
    // No key: the whitelist default applies; an alert_class the sender set is kept.
    EXPECT_EQ(no_ip.toString(),
              R"({alert_class="business", alertname="QueueFull", whitelist="N"})");
}

TEST_F(EnrichTest, TheStageDropsAndCounts) {
    core::AlertBatch batch(3);
    batch[0].labels = {{"alertname", "Watchdog"}};
    batch[1].labels = {{"alertname", "NodeDown"}, {"instance", "10.8.1.21:9100"}};
    batch[2].labels = {{"alertname", "Watchdog"}, {"instance", "x"}};
    state::StateDelta delta;
    Context ctx{core::TimePoint{}, delta};
    stage_->run(batch, ctx);
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(*batch[0].labels.get("alertname"), "NodeDown");
    std::string text = metrics_.serialize();
    EXPECT_NE(text.find(R"(alertbridge_relabel_dropped_alerts_total{rule="no-watchdog"} 2)"),
              std::string::npos);
    EXPECT_NE(text.find(R"(alertbridge_enrich_table_lookups_total{result="hit",table="cmdb"} 1)"),
              std::string::npos);
    EXPECT_NE(text.find(R"(alertbridge_classify_alerts_total{rule="customer"} 1)"),
              std::string::npos);
}

TEST_F(EnrichTest, ATableNotLoadedYetAppliesItsDefaults) {
    tables_->publish(1, nullptr);
    core::LabelSet labels{{"alertname", "NodeDown"}, {"instance", "10.8.1.21:9100"}};
    std::vector<std::string> trace;
    ASSERT_TRUE(stage_->apply(labels, "alertmanager_api", &trace));
    EXPECT_EQ(*labels.get("whitelist"), "N");
    EXPECT_EQ(*labels.get("alert_class"), "system");
    EXPECT_EQ(
        trace[3],
        R"(table customer_whitelist (cidr): not loaded yet (defaults apply) -> +whitelist="N")");
}

}  // namespace
}  // namespace alertbridge::pipeline

namespace alertbridge::pipeline {
namespace {

TEST(EnrichCounters, ARuleWithAnInvalidResultIsSkippedAndCounted) {
    auto r = config::loadConfigFromString(R"(
enrich:
  relabel_configs:
    - {name: from-host, source_labels: [host], regex: '(.*)', target_label: '${1}', replacement: x}
)",
                                          "test.yml");
    ASSERT_TRUE(r.config) << r.errors.at(0).format();
    telemetry::Metrics metrics;
    Enrich stage(r.config->enrich, Relabeler::compile(r.config->enrich.relabel_configs).value(),
                 std::make_shared<TableSnapshots>(0), metrics);
    core::AlertBatch batch(2);
    batch[0].labels = {{"alertname", "A"}, {"host", "db-01"}};  // "db-01" is not a label name
    batch[1].labels = {{"alertname", "B"}, {"host", "db01"}};
    state::StateDelta delta;
    Context ctx{core::TimePoint{}, delta};
    stage.run(batch, ctx);
    ASSERT_EQ(batch.size(), 2u);  // skipped, not dropped
    EXPECT_EQ(batch[0].labels.toString(), R"({alert_class="system", alertname="A", host="db-01"})");
    EXPECT_EQ(batch[1].labels.toString(),
              R"({alert_class="system", alertname="B", db01="x", host="db01"})");
    EXPECT_NE(
        metrics.serialize().find(R"(alertbridge_relabel_invalid_label_total{rule="from-host"} 1)"),
        std::string::npos);
}

}  // namespace
}  // namespace alertbridge::pipeline
