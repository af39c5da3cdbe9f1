#include "plugin/app/email_view.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/core/time.hpp"

namespace alertbridge::app {
namespace {

template <typename Writer>
void write(Writer& w, const core::Alert& a, std::string_view rule, core::TimePoint now) {
    auto str = [&w](std::string_view s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    const bool resolved = a.resolvedAt(now);
    w.StartObject();
    w.Key("status");
    str(resolved ? "resolved" : "firing");
    w.Key("severity");
    str(core::severityName(a.severity));
    for (auto [name, set] : {std::pair{"labels", &a.labels}, {"annotations", &a.annotations}}) {
        w.Key(name);
        w.StartObject();
        for (const auto& [k, v] : *set) {
            str(k);
            str(v);
        }
        w.EndObject();
    }
    w.Key("starts_at");
    str(core::formatRfc3339(a.starts_at));
    w.Key("ends_at");
    if (resolved) {
        str(core::formatRfc3339(*a.ends_at));
    } else {
        w.Null();
    }
    w.Key("fingerprint");
    str(core::fingerprintHex(a.fingerprint));
    w.Key("summary");
    const auto* summary = a.annotations.get("summary");
    str(summary ? *summary : "");
    w.Key("rule");
    str(rule);
    w.EndObject();
}

}  // namespace

std::string emailResultJson(const core::Alert& alert, std::string_view rule, core::TimePoint now,
                            bool pretty) {
    rapidjson::StringBuffer buf;
    if (pretty) {
        rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
        w.SetIndent(' ', 2);
        write(w, alert, rule, now);
    } else {
        rapidjson::Writer<rapidjson::StringBuffer> w(buf);
        write(w, alert, rule, now);
    }
    return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace alertbridge::app
