#include "adapters/nightingale/codec.hpp"

#include <openssl/evp.h>

#include <algorithm>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/core/time.hpp"

namespace alertbridge::nightingale {
namespace {

using core::Error;
using core::Result;
using rapidjson::Value;

// Fields that hold recipients' phones, e-mails, IM robot tokens, or URLs with tokens.
constexpr std::string_view kPrivateFields[] = {"notify_users_obj", "notify_groups_obj", "callbacks",
                                               "notify_rules"};

std::string_view sv(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

// n9e tag keys are free text; labels are not.
std::string labelName(std::string_view key) {
    std::string out(key);
    for (char& c : out) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) c = '_';
    }
    if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
    return out;
}

std::string readInt(const Value& e, const char* key, const std::string& where, long long& out) {
    auto it = e.FindMember(key);
    if (it == e.MemberEnd() || it->value.IsNull()) return "";
    if (!it->value.IsInt64()) return fmt::format("{}.{}: expected a whole number", where, key);
    out = it->value.GetInt64();
    return "";
}

std::string readStr(const Value& e, const char* key, const std::string& where, std::string& out) {
    auto it = e.FindMember(key);
    if (it == e.MemberEnd() || it->value.IsNull()) return "";
    if (!it->value.IsString()) return fmt::format("{}.{}: expected a string", where, key);
    out.assign(it->value.GetString(), it->value.GetStringLength());
    return "";
}

std::string decodeOne(const Value& e, const std::string& where, core::TimePoint received_at,
                      core::Alert& a) {
    if (!e.IsObject()) return fmt::format("{}: expected an event object", where);
    a.origin = core::Origin{std::string(kInput), core::SourceKind::kNightingale, received_at, 0};

    std::string hash, rule_name, cluster, ident, rule_note, trigger_value, runbook;
    long long rule_id = 0, severity = 0, first_trigger = 0, trigger = 0, last_eval = 0;
    for (auto err :
         {readStr(e, "hash", where, hash), readStr(e, "rule_name", where, rule_name),
          readStr(e, "cluster", where, cluster), readStr(e, "target_ident", where, ident),
          readStr(e, "rule_note", where, rule_note),
          readStr(e, "trigger_value", where, trigger_value),
          readStr(e, "runbook_url", where, runbook), readInt(e, "rule_id", where, rule_id),
          readInt(e, "severity", where, severity),
          readInt(e, "first_trigger_time", where, first_trigger),
          readInt(e, "trigger_time", where, trigger),
          readInt(e, "last_eval_time", where, last_eval)}) {
        if (!err.empty()) return err;
    }
    if (hash.empty()) return fmt::format("{}.hash: is required (the event's identity)", where);
    if (severity < 1 || severity > 3) {
        return fmt::format("{}.severity: must be 1, 2 or 3, got {}", where, severity);
    }
    bool recovered = false;
    if (auto it = e.FindMember("is_recovered"); it != e.MemberEnd() && !it->value.IsNull()) {
        if (!it->value.IsBool())
            return fmt::format("{}.is_recovered: expected true or false", where);
        recovered = it->value.GetBool();
    }

    // Labels: the map when there is one, else the k=v strings.
    auto map = e.FindMember("tags_map");
    bool from_map = map != e.MemberEnd() && map->value.IsObject() && map->value.MemberCount() > 0;
    if (from_map) {
        for (auto it = map->value.MemberBegin(); it != map->value.MemberEnd(); ++it) {
            if (!it->value.IsString()) {
                return fmt::format("{}.tags_map.{}: expected a string", where, sv(it->name));
            }
            if (it->value.GetStringLength() == 0) continue;
            a.labels.set(labelName(sv(it->name)), sv(it->value));
        }
    } else if (auto tags = e.FindMember("tags"); tags != e.MemberEnd() && !tags->value.IsNull()) {
        if (!tags->value.IsArray()) return fmt::format("{}.tags: expected a list of k=v", where);
        for (rapidjson::SizeType i = 0; i < tags->value.Size(); ++i) {
            const auto& t = tags->value[i];
            auto eq = t.IsString() ? sv(t).find('=') : std::string_view::npos;
            if (eq == std::string_view::npos || eq == 0) {
                return fmt::format("{}.tags[{}]: expected a \"k=v\" string", where, i);
            }
            auto value = sv(t).substr(eq + 1);
            if (!value.empty()) a.labels.set(labelName(sv(t).substr(0, eq)), value);
        }
    }
    if (!rule_name.empty()) {
        if (!a.labels.contains("rulename")) a.labels.set("rulename", rule_name);
        if (!a.labels.contains("alertname")) a.labels.set("alertname", rule_name);
    }
    a.labels.set("rule_id", std::to_string(rule_id));
    if (!cluster.empty()) a.labels.set("cluster", cluster);
    if (!ident.empty() && !a.labels.contains("ident")) a.labels.set("ident", ident);
    static constexpr const char* kSeverity[] = {"", "critical", "warning", "info"};
    a.labels.set("severity", kSeverity[severity]);

    if (auto ann = e.FindMember("annotations"); ann != e.MemberEnd() && ann->value.IsObject()) {
        for (auto it = ann->value.MemberBegin(); it != ann->value.MemberEnd(); ++it) {
            if (it->value.IsString()) a.annotations.set(sv(it->name), sv(it->value));
        }
    }
    if (!rule_note.empty()) a.annotations.set("rule_note", rule_note);
    if (!trigger_value.empty()) a.annotations.set("value", trigger_value);
    if (!runbook.empty() && !a.annotations.contains("runbook_url")) {
        a.annotations.set("runbook_url", runbook);
    }

    // Times are range-checked where they are read: a wrapped value would move the alert
    // to another century.
    core::TimePoint times[3] = {received_at, received_at, received_at};
    const std::pair<const char*, long long> fields[3] = {{"first_trigger_time", first_trigger},
                                                         {"trigger_time", trigger},
                                                         {"last_eval_time", last_eval}};
    for (int i = 0; i < 3; ++i) {
        if (fields[i].second == 0) continue;
        auto t = core::fromUnixSeconds(fields[i].second);
        if (!t) return fmt::format("{}.{}: {}", where, fields[i].first, t.error());
        times[i] = *t;
    }
    a.starts_at = first_trigger > 0 ? times[0] : times[1];
    if (recovered) {
        // A recovery is final whatever the clocks say: never in the future.
        a.ends_at = std::min(times[2], received_at);
        if (*a.ends_at < a.starts_at) a.ends_at = a.starts_at;
    }
    a.identity = first_trigger > 0 ? fmt::format("n9e:{}:{}", hash, first_trigger)
                                   : fmt::format("n9e:{}", hash);
    return "";
}

}  // namespace

Result<core::Decoded> decodeEvents(std::string_view body, core::TimePoint received_at) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError()) {
        return Error{fmt::format("body is not valid JSON: {} at byte {}",
                                 rapidjson::GetParseError_En(doc.GetParseError()),
                                 doc.GetErrorOffset())};
    }
    core::Decoded out;
    auto one = [&](const Value& v, const std::string& where) {
        core::Alert a;
        if (auto e = decodeOne(v, where, received_at, a); !e.empty()) {
            out.rejected.push_back(std::move(e));
        } else {
            out.alerts.push_back(std::move(a));
        }
    };
    if (doc.IsArray()) {
        for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) one(doc[i], fmt::format("[{}]", i));
    } else if (doc.IsObject()) {
        one(doc, "event");
    } else {
        return Error{"body: expected an n9e event object or an array of them"};
    }
    return out;
}

Result<std::string> scrubBody(std::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError()) return Error{"body is not valid JSON"};
    auto scrub = [](Value& e) {
        if (!e.IsObject()) return;
        // Every member of that name: a body may repeat a key, and the journal must keep
        // none of them. EraseMember keeps the order of the others (RemoveMember moves the
        // last member into the gap), so that a repeated key the decoder reads first stays
        // first, and replay decodes what intake decoded.
        for (auto key : kPrivateFields) {
            while (e.EraseMember(Value(rapidjson::StringRef(key.data(), key.size())))) {
            }
        }
    };
    if (doc.IsArray()) {
        for (auto& e : doc.GetArray()) scrub(e);
    } else {
        scrub(doc);
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    doc.Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
}

std::string escapeTemplate(std::string_view text) {
    // Go templates print a string literal as itself: {{"{{"}} renders as {{.
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text.compare(i, 2, "{{") == 0) {
            out += "{{\"{{\"}}";
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::string eventHash(std::string_view instance, core::Fingerprint fp) {
    std::string input = fmt::format("alertbridge:{}:{:016x}", instance, fp);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(input.data(), input.size(), md, &n, EVP_md5(), nullptr);
    std::string hex;
    for (unsigned int i = 0; i < n; ++i) hex += fmt::format("{:02x}", md[i]);
    return hex;
}

std::string EventEncoder::encode(const std::vector<const core::Alert*>& alerts,
                                 std::vector<state::OutboxKey>* keys) const {
    const core::Alert& a = *alerts.front();
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&w](std::string_view s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    auto key = [&](const char* k) { w.Key(k); };
    auto secs = [](core::TimePoint t) {
        return static_cast<std::int64_t>(core::toUnixMillis(t) / 1000);
    };
    auto label = [&a](const char* name) -> std::string {
        const auto* v = a.labels.get(name);
        return v ? *v : "";
    };
    auto annotation = [&a](const char* name) -> std::string {
        const auto* v = a.annotations.get(name);
        return v ? *v : "";
    };
    bool recovered = a.ends_at && *a.ends_at <= a.updated_at;
    std::string rule_name = label("alertname");
    if (rule_name.empty()) rule_name = label("rulename");
    if (rule_name.empty()) rule_name = "alertbridge alert";
    std::string note = annotation("description");
    if (note.empty()) note = annotation("summary");
    if (!note.empty() && note.front() == ';') note.insert(note.begin(), ' ');  // ";" = tag override
    int severity = a.severity == core::Severity::kCritical  ? 1
                   : a.severity == core::Severity::kWarning ? 2
                                                            : 3;
    w.StartObject();
    key("rule_id");
    w.Int64(cfg_.rule_id);
    key("rule_name");
    str(escapeTemplate(rule_name));
    key("rule_note");
    str(escapeTemplate(note));
    key("rule_prod");
    str("metric");
    key("rule_algo");
    str("");
    key("cate");
    str("prometheus");
    key("cluster");
    str(instance_);
    key("datasource_id");
    w.Int(0);
    key("group_id");
    w.Int64(cfg_.group_id);
    key("group_name");
    str(cfg_.group_name);
    key("hash");
    str(eventHash(instance_, a.fingerprint));
    key("severity");
    w.Int(severity);
    key("prom_ql");
    str("");
    key("prom_for_duration");
    w.Int(0);
    key("prom_eval_interval");
    w.Int(0);
    key("rule_config");
    w.StartObject();
    w.EndObject();
    key("runbook_url");
    str(annotation("runbook_url"));
    key("callbacks");
    w.StartArray();
    w.EndArray();
    key("notify_recovered");
    w.Int(1);
    if (cfg_.version >= 8) {
        key("notify_rule_ids");
        w.StartArray();
        for (auto id : cfg_.notify_rule_ids) w.Int64(id);
        w.EndArray();
    } else {
        key("notify_channels");
        w.StartArray();
        for (const auto& c : cfg_.notify_channels) str(c);
        w.EndArray();
        key("notify_groups");
        w.StartArray();
        for (const auto& g : cfg_.notify_groups) str(g);
        w.EndArray();
    }
    key("target_ident");
    str(label("ident"));
    key("target_note");
    str("");
    key("trigger_time");
    w.Int64(secs(a.starts_at));
    key("first_trigger_time");
    w.Int64(secs(a.starts_at));
    key("last_eval_time");
    w.Int64(secs(recovered ? *a.ends_at : a.updated_at));
    key("notify_cur_number");
    w.Int(1);
    key("trigger_value");
    str(annotation("value"));
    key("tags");
    w.StartArray();
    std::string tag;
    for (const auto& [k, v] : a.labels) {
        if (k == marker_label_) continue;  // ours is added below; a forged one is replaced
        tag.assign(k).append("=").append(v);
        str(tag);
    }
    tag.assign(marker_label_).append("=").append(instance_);
    str(tag);
    w.EndArray();
    key("annotations");
    w.StartObject();
    for (const auto& [k, v] : a.annotations) {
        str(k);
        str(escapeTemplate(v));
    }
    w.EndObject();
    key("status");
    w.Int(0);
    key("is_recovered");
    w.Bool(recovered);
    w.EndObject();
    // n9e names an event by its hash, which follows the alert's identity.
    if (keys != nullptr) {
        keys->push_back(
            state::OutboxKey{a.fingerprint, 0, static_cast<std::uint32_t>(buf.GetSize())});
    }
    return {buf.GetString(), buf.GetSize()};
}

}  // namespace alertbridge::nightingale
