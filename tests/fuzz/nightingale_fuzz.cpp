// Fuzz target: the Nightingale event decoder, the scrubber that removes contacts before
// the journal sees a body, and the event encoder fed with what the decoder accepts.
// Invariants: a scrubbed body decodes to the same alerts as the raw one (what replay sees
// is what intake saw), no scrubbed body keeps a private field, and nothing crashes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "adapters/nightingale/codec.hpp"
#include "plugin/core/time.hpp"

using namespace alertbridge;

namespace {

const core::TimePoint kNow = core::parseRfc3339("2026-11-25T08:00:00Z").value();

void check(bool ok) {
    if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    auto raw = nightingale::decodeEvents(body, kNow);
    auto scrubbed = nightingale::scrubBody(body);
    if (!raw) return 0;
    check(scrubbed.ok());
    rapidjson::Document doc;
    doc.Parse(scrubbed->data(), scrubbed->size());
    check(!doc.HasParseError());
    auto clean = [](const rapidjson::Value& e) {
        if (!e.IsObject()) return;
        for (const char* field :
             {"notify_users_obj", "notify_groups_obj", "callbacks", "notify_rules"}) {
            check(!e.HasMember(field));
        }
    };
    if (doc.IsArray()) {
        for (const auto& e : doc.GetArray()) clean(e);
    } else {
        clean(doc);
    }
    auto again = nightingale::decodeEvents(*scrubbed, kNow);
    check(again.ok());
    check(again->alerts.size() == raw->alerts.size());
    check(again->rejected == raw->rejected);
    for (std::size_t i = 0; i < raw->alerts.size(); ++i) {
        check(again->alerts[i].labels == raw->alerts[i].labels);
        check(again->alerts[i].identity == raw->alerts[i].identity);
        check(again->alerts[i].starts_at == raw->alerts[i].starts_at);
    }
    config::NightingaleOutput out;
    out.name = "n9e";
    out.rule_id = 9001;
    out.notify_rule_ids = {3};
    nightingale::EventEncoder enc(out, "alertbridge_origin", "fuzz");
    for (auto& a : raw->alerts) {
        a.updated_at = kNow;
        std::string encoded = enc.encode({&a});
        check(!encoded.empty());
    }
    return 0;
}
