// Enrichment cost per alert with production-sized tables: a 100,000-row CMDB (exact, on the
// IP) and a 50,000-prefix customer whitelist (longest prefix, 90% IPv4 and 10% IPv6), behind
// a relabel rule that takes the IP out of instance and a classify rule, as full.yml has them.
// Tables go through the same CSV reader and index a file source uses. Reports the median
// ns per alert over several rounds of 100,000 alerts (in batches of 500 and of 1, as the
// pipeline runs them) on one thread, the load time of each
// table, and the heap each table keeps (its own count, and malloc's retained bytes).
//
// Then the calendar labels step (market_phase, market_session, trading_day) with the
// calendar of --calendar-config (default config-examples/full.yml, run from the project root).
//
// Usage: enrich_bench [--rounds 7] [--alerts 100000] [--rows 100000] [--prefixes 50000]
//                     [--calendar-config FILE]

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "adapters/lookup/table_reader.hpp"
#include "plugin/config/loader.hpp"
#include "plugin/app/setup.hpp"
#include "plugin/core/time.hpp"
#include "plugin/pipeline/enrich/calendar_labels.hpp"
#include "plugin/pipeline/enrich/enrich.hpp"

using namespace alertbridge;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kConfig = R"(
enrich:
  relabel_configs:
    - source_labels: [instance]
      regex: '([0-9.]+)(?::\d+)?'
      target_label: ip
    - source_labels: [instance]
      regex: '\[([0-9a-fA-F:.]+)\](?::\d+)?'
      target_label: ip
    - {name: drop-watchdog, source_labels: [alertname], regex: Watchdog, action: drop}
  tables:
    - name: cmdb
      source: {file: cmdb.csv}
      key_label: ip
      columns: {owner: owner, team: team, app: app, business_line: business_line}
    - name: customer_whitelist
      source: {file: customer_whitelist.csv}
      key_label: ip
      match: cidr
      columns: {customer: customer}
      set: {whitelist: "Y"}
      default: {whitelist: "N"}
  classify:
    - {name: customer, matchers: ['whitelist="Y"'], set: {alert_class: business}}
    - {name: trading, matchers: ['app=~"ctp-.*"', 'alertname!="Watchdog"'], set: {alert_class: business}}
)";

std::string v4(std::uint32_t a) {
    return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

std::size_t heapInUse() { return mallinfo2().uordblks; }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 7;
    std::string calendar_config = "config-examples/full.yml";
    std::size_t n_alerts = 100000, n_rows = 100000, n_prefixes = 50000;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--calendar-config") {
            calendar_config = argv[i + 1];
            continue;
        }
        std::size_t v = std::stoul(argv[i + 1]);
        if (a == "--rounds") rounds = static_cast<int>(v);
        if (a == "--alerts") n_alerts = v;
        if (a == "--rows") n_rows = v;
        if (a == "--prefixes") n_prefixes = v;
    }
    auto loaded = config::loadConfigFromString(kConfig, "bench.yml");
    if (!loaded.config) {
        std::cerr << loaded.errors.at(0).format() << "\n";
        return 1;
    }
    const config::Config& cfg = *loaded.config;
    std::mt19937 rng(42);

    // The CMDB: unique hosts in 10.0.0.0/8, with owners, teams and apps that repeat.
    std::vector<std::uint32_t> hosts;
    std::string cmdb = "ip,hostname,owner,team,app,business_line,env\n";
    for (std::size_t i = 0; i < n_rows; ++i) {
        std::uint32_t ip = 0x0A000000U + static_cast<std::uint32_t>(i * 37 + 11);
        hosts.push_back(ip);
        cmdb += fmt::format("{},host-{:06},user.{:03},team-{:02},{}-{:03},line-{}, prod\n", v4(ip),
                            i, rng() % 500, rng() % 40, i % 7 == 0 ? "ctp" : "app", rng() % 300,
                            rng() % 8);
    }
    // The whitelist: nested and disjoint prefixes, /22 to /32, plus IPv6 /48 to /64.
    std::string whitelist = "cidr,customer\n";
    for (std::size_t i = 0; i < n_prefixes; ++i) {
        if (i % 10 == 9) {
            int len = 48 + static_cast<int>(rng() % 17);
            unsigned group4 = (rng() % 65536) & ((0xffffU << (64 - len)) & 0xffffU);
            whitelist +=
                fmt::format("2001:db8:{:x}:{:x}::/{},customer-{}\n", rng() % 4096, group4, len, i);
            continue;
        }
        int len = 22 + static_cast<int>(rng() % 11);
        std::uint32_t net = (0x0A000000U | (rng() & 0x00FFFFFFU)) & (~0U << (32 - len));
        whitelist += fmt::format("{}/{},customer-{}\n", v4(net), len, i);
    }

    auto build = [&](std::size_t t, const std::string& text, std::size_t& bytes, double& ms) {
        std::size_t before = heapInUse();
        auto t0 = Clock::now();
        auto data = lookup::readTable(text, config::TableFormat::kCsv, cfg.enrich.tables[t].name);
        auto table = pipeline::LookupTable::build(cfg.enrich.tables[t], data.value(), "bench");
        ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        data = core::Error{"freed"};  // only the index stays
        bytes = heapInUse() - before;
        if (!table) {
            std::cerr << table.error() << "\n";
            std::exit(1);
        }
        return std::move(*table);
    };
    auto tables = std::make_shared<pipeline::TableSnapshots>(2);
    std::size_t cmdb_heap = 0, wl_heap = 0;
    double cmdb_ms = 0, wl_ms = 0;
    auto cmdb_table = build(0, cmdb, cmdb_heap, cmdb_ms);
    auto wl_table = build(1, whitelist, wl_heap, wl_ms);
    std::size_t cmdb_own = cmdb_table->memoryBytes(), wl_own = wl_table->memoryBytes();
    std::size_t cmdb_rows = cmdb_table->rows(), wl_rows = wl_table->rows();
    tables->publish(0, std::move(cmdb_table));
    tables->publish(1, std::move(wl_table));

    telemetry::Metrics metrics;
    // The calendar labels step after enrich, as the pipeline runs it, with the shipped
    // cn-futures calendar; alerts name an exchange and a product, an exchange only, or
    // neither, and start across one week.
    auto setup = app::loadSetup(calendar_config);
    if (setup.calendars.empty()) {
        std::cerr << "no calendar in " << calendar_config << "\n";
        return 1;
    }
    config::CalendarLabels cl;
    cl.calendar = setup.calendars[0]->name();
    cl.labels = {
        {"market_phase", "phase"}, {"market_session", "session"}, {"trading_day", "trading_day"}};
    pipeline::CalendarLabels calendar_stage(cl, setup.calendars[0]);
    config::EnrichConfig with_calendar = cfg.enrich;
    with_calendar.calendar_labels = cl;
    pipeline::Enrich enrich(with_calendar,
                            pipeline::Relabeler::compile(cfg.enrich.relabel_configs).value(),
                            tables, metrics);
    const std::vector<std::pair<const char*, const char*>> kinds = {
        {"SHFE", "rb"},  {"SHFE", "au"}, {"DCE", "m"}, {"CZCE", "SR"}, {"GFEX", "lc"},
        {"CFFEX", "IF"}, {"SHFE", ""},   {"DCE", ""},  {"", ""}};
    const auto week = core::parseRfc3339("2026-03-02T00:00:00+08:00").value();

    // Alerts as Prometheus sends them: 70% about a CMDB host, the rest about unknown IPs.
    std::vector<core::LabelSet> alerts;
    for (std::size_t i = 0; i < n_alerts; ++i) {
        std::uint32_t ip =
            rng() % 10 < 7 ? hosts[rng() % hosts.size()] : (0x0A000000U | (rng() & 0x00FFFFFFU));
        alerts.push_back(core::LabelSet{{"alertname", fmt::format("Alert{}", rng() % 200)},
                                        {"instance", v4(ip) + ":9100"},
                                        {"job", "node"},
                                        {"severity", "warning"},
                                        {"source_kind", "alertmanager_api"}});
    }

    // Batches, each copied just before it is timed: in the pipeline an alert reaches enrich
    // straight from decode and normalize, with its labels still in cache. Batch 500 is a
    // busy intake; batch 1 is one alert per request, where per-batch work shows.
    auto measure = [&](std::size_t batch_size, std::size_t& kept, bool with_cal = false) {
        std::vector<double> ns_per_alert;
        for (int r = 0; r < rounds; ++r) {
            double ns = 0;
            kept = 0;
            for (std::size_t b = 0; b < alerts.size(); b += batch_size) {
                core::AlertBatch work;
                for (std::size_t i = b; i < std::min(alerts.size(), b + batch_size); ++i) {
                    work.emplace_back();
                    work.back().labels = alerts[i];
                    work.back().origin.input = "alertmanager_api";
                    const auto& [ex, product] = kinds[i % kinds.size()];
                    if (*ex != 0) work.back().labels.set("exchange", ex);
                    if (*product != 0) work.back().labels.set("product", product);
                    work.back().starts_at = week + std::chrono::seconds((i * 7919) % (7 * 86400));
                }
                state::StateDelta delta;
                pipeline::Context ctx{core::TimePoint{}, delta};
                auto t0 = Clock::now();
                enrich.run(work, ctx);  // the stage as the pipeline calls it
                if (with_cal) calendar_stage.run(work, ctx);
                ns += std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
                kept += work.size();
            }
            ns_per_alert.push_back(ns / static_cast<double>(n_alerts));
        }
        return ns_per_alert;
    };
    std::size_t kept = 0, kept1 = 0;
    auto ns_per_alert = measure(500, kept);
    auto ns_batch1 = measure(1, kept1);
    // Enrich alone and enrich followed by the calendar step, rounds interleaved, so the
    // machine's drift hits both; the step's cost is the difference of the medians.
    std::vector<double> alone, both;
    for (int r = 0; r < rounds; ++r) {
        std::size_t k = 0;
        auto a = measure(500, k);
        auto b = measure(500, k, true);
        alone.push_back(median(a));
        both.push_back(median(b));
    }
    std::vector<double> diffs;
    for (std::size_t i = 0; i < alone.size(); ++i) diffs.push_back(both[i] - alone[i]);
    auto dm = std::minmax_element(diffs.begin(), diffs.end());
    auto mm = std::minmax_element(ns_per_alert.begin(), ns_per_alert.end());
    auto hits = [&](const char* table, const char* result) {
        return metrics.enrichTable(table).lookups.at(result)->Value();
    };
    std::cout << fmt::format(
        "{{\"alerts\": {}, \"rounds\": {}, \"ns_per_alert_median\": {:.0f}, "
        "\"ns_per_alert_min\": {:.0f}, \"ns_per_alert_max\": {:.0f}, "
        "\"ns_per_alert_batch1_median\": {:.0f},\n"
        " \"cmdb\": {{\"rows\": {}, \"load_ms\": {:.0f}, \"index_bytes\": {}, \"heap_bytes\": {}, "
        "\"hit_ratio\": {:.2f}}},\n"
        " \"whitelist\": {{\"prefixes\": {}, \"load_ms\": {:.0f}, \"index_bytes\": {}, "
        "\"heap_bytes\": {}, \"hit_ratio\": {:.2f}}}}}\n",
        n_alerts, rounds, median(ns_per_alert), *mm.first, *mm.second, median(ns_batch1), cmdb_rows,
        cmdb_ms, cmdb_own, cmdb_heap,
        hits("cmdb", "hit") / (hits("cmdb", "hit") + hits("cmdb", "miss")), wl_rows, wl_ms, wl_own,
        wl_heap,
        hits("customer_whitelist", "hit") /
            (hits("customer_whitelist", "hit") + hits("customer_whitelist", "miss")));
    std::cout << fmt::format(
        "{{\"calendar_labels\": {{\"ns_per_alert_median\": {:.0f}, \"ns_per_alert_min\": {:.0f}, "
        "\"ns_per_alert_max\": {:.0f}, \"enrich_alone_ns_median\": {:.0f}, "
        "\"enrich_then_calendar_ns_median\": {:.0f}}}}}\n",
        median(diffs), *dm.first, *dm.second, median(alone), median(both));
    return kept == n_alerts && kept1 == n_alerts ? 0 : 1;
}
