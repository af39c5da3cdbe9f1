#include "plugin/app/incident_json.hpp"

#include <cstdlib>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/core/time.hpp"

namespace alertbridge::app {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

void when(Writer& w, core::TimePoint t, const std::optional<core::TimePoint>& origin) {
    if (!origin) {
        str(w, core::formatRfc3339(t));
        return;
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - *origin).count();
    auto s =
        fmt::format("{}{}.{:03}", ms < 0 ? "-" : "", std::llabs(ms) / 1000, std::llabs(ms) % 1000);
    w.RawValue(s.data(), s.size(), rapidjson::kNumberType);
}

void optWhen(Writer& w, const char* key, const std::optional<core::TimePoint>& t,
             const std::optional<core::TimePoint>& origin) {
    w.Key(key);
    if (t) {
        when(w, *t, origin);
    } else {
        w.Null();
    }
}

}  // namespace

std::string incidentJson(const core::Incident& inc, std::optional<core::TimePoint> origin) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("id");
    w.Uint64(inc.id);
    w.Key("title");
    str(w, inc.title);
    w.Key("kind");
    str(w, inc.kind);
    w.Key("group_key");
    str(w, inc.group_key);
    w.Key("state");
    str(w, core::incidentStateName(inc.state));
    w.Key("severity");
    str(w, core::severityName(inc.severity()));
    w.Key("level");
    str(w, core::notifyLevelName(inc.level()));
    w.Key("paged");
    w.Bool(inc.paged);
    w.Key("digested");
    w.Bool(inc.digested);
    w.Key("flapping");
    w.Bool(inc.flapping);
    w.Key("storm");
    w.Bool(inc.storm);
    w.Key("created_at");
    when(w, inc.created_at, origin);
    optWhen(w, "first_notified_at", inc.first_notified_at, origin);
    optWhen(w, "acknowledged_at", inc.acknowledged_at, origin);
    optWhen(w, "resolved_at", inc.resolved_at, origin);
    w.Key("members");
    w.StartArray();
    for (const auto& [fp, m] : inc.members) {
        w.StartObject();
        w.Key("fingerprint");
        str(w, core::fingerprintHex(fp));
        w.Key("labels");
        w.StartObject();
        for (const auto& [k, v] : m.labels) {
            str(w, k);
            str(w, v);
        }
        w.EndObject();
        w.Key("status");
        str(w, m.firing ? "firing" : "resolved");
        w.Key("joined_at");
        when(w, m.joined_at, origin);
        w.Key("via");
        str(w, m.via);
        w.Key("policy");
        str(w, core::notifyLevelName(m.wanted));
        w.Key("policy_rule");
        str(w, m.policy_rule);
        w.Key("suppressed");
        str(w, m.suppressed);
        w.Key("notified");
        w.Bool(m.notified);
        w.EndObject();
    }
    w.EndArray();
    w.Key("timeline");
    w.StartArray();
    for (const auto& e : inc.timeline) {
        w.StartObject();
        w.Key("at");
        when(w, e.at, origin);
        w.Key("what");
        str(w, e.what);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return sb.GetString();
}

}  // namespace alertbridge::app
