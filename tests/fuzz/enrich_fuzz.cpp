// Fuzz target: everything enrichment reads from outside: table bodies (a CMDB export or an
// HTTP response) in all three formats, indexed both ways; alert label values through the
// relabel rules, the IP parser and the lookups; and matcher text. Invariants: a table that
// loads finds each of its own keys (exact) or each prefix's network address (cidr), the
// relabel rules never leave an invalid label name, and nothing crashes or leaks.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adapters/lookup/table_reader.hpp"
#include "plugin/config/loader.hpp"
#include "plugin/core/cidr.hpp"
#include "plugin/core/matcher.hpp"
#include "plugin/pipeline/enrich/lookup_table.hpp"
#include "plugin/pipeline/enrich/relabel.hpp"

using namespace alertbridge;

namespace {

const config::Config& cfg() {
    static const config::Config c = [] {
        auto r = config::loadConfigFromString(R"(
enrich:
  relabel_configs:
    - {source_labels: [instance], regex: '([0-9.]+)(?::\d+)?', target_label: ip}
    - {source_labels: [instance], regex: '(?P<host>[^:]*):(?P<port>.*)', target_label: '${host}', replacement: '$port$$${2}x'}
    - {regex: '(.*)', action: labelmap, replacement: 'm_$1'}
    - {source_labels: [instance, ip], separator: '', target_label: u, action: uppercase}
    - {source_labels: [instance], modulus: 7, target_label: shard, action: hashmod}
  tables:
    - {name: exact, source: {file: t.csv}, key_label: ip, columns: {owner: owner}}
    - {name: cidr, source: {file: t.csv}, key_label: ip, match: cidr, set: {w: "Y"}}
)",
                                              "fuzz.yml");
        if (!r.config) __builtin_trap();
        return std::move(*r.config);
    }();
    return c;
}

void checkTable(const pipeline::TableData& data) {
    for (const auto& t : cfg().enrich.tables) {
        config::TableConfig tc = t;
        tc.columns.clear();
        if (!data.columns.empty()) tc.columns.emplace_back(data.columns.back(), "owner");
        auto table = pipeline::LookupTable::build(tc, data, "fuzz");
        if (!table) continue;
        const auto& lt = **table;
        for (std::uint32_t row = 0; row < lt.rows(); ++row) {
            std::string_view key = lt.key(row);
            (void)lt.cell(row, 0);
            if (tc.match == config::TableMatch::kExact) {
                std::uint32_t found = lt.find(key);
                if (found == pipeline::LookupTable::kNoRow || lt.key(found) != key)
                    __builtin_trap();
            } else {
                auto c = core::parseCidr(key);
                if (!c) __builtin_trap();  // build accepted it
                std::string net = core::Cidr{c->address, 128}.format();
                if (auto slash = net.find('/'); slash != std::string::npos) net.resize(slash);
                std::uint32_t found = lt.find(net);
                if (found == pipeline::LookupTable::kNoRow) __builtin_trap();
                auto owner = core::parseCidr(lt.key(found));
                if (!owner || !owner->contains(c->address) || owner->prefix < c->prefix) {
                    __builtin_trap();  // not the longest prefix containing it
                }
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    for (auto format :
         {config::TableFormat::kCsv, config::TableFormat::kYaml, config::TableFormat::kJson}) {
        auto t = lookup::readTable(input, format, "fuzz");
        if (t) checkTable(*t);
    }
    auto head = input.substr(0, 512);
    (void)core::parseMatchers(head);
    (void)core::parseIp(head.substr(0, 64));
    (void)core::parseCidr(head.substr(0, 64));

    static const auto relabel = pipeline::Relabeler::compile(cfg().enrich.relabel_configs).value();
    core::LabelSet labels{{"instance", std::string(head.substr(0, 128))}, {"job", "fuzz"}};
    for (std::size_t i = 0; i < relabel.size(); ++i) {
        if (relabel.applyOne(i, labels, "alertmanager_api") == pipeline::RuleResult::kDropped)
            break;
    }
    for (const auto& [name, value] : labels) {
        if (!core::isValidLabelName(name)) __builtin_trap();
    }
    return 0;
}
