#include "adapters/alertmanager/silence_codec.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/core/time.hpp"

namespace alertbridge::alertmanager {

namespace {

using Value = rapidjson::Value;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// The schema's answer: 422 with go-openapi's {"code","message"}.
PostedSilence schemaError(int code, std::string_view message) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartObject();
    w.Key("code");
    w.Int(code);
    w.Key("message");
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    w.EndObject();
    return PostedSilence{{}, 422, sb.GetString()};
}

PostedSilence invalid(int status, std::string_view message) {
    return PostedSilence{{}, status, jsonErrorString(message)};
}

PostedSilence required(std::string_view field) {
    return schemaError(602, fmt::format("{} in body is required", field));
}

}  // namespace

std::string jsonErrorString(std::string_view message) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
    return std::string(sb.GetString()) + "\n";
}

PostedSilence decodePostableSilence(std::string_view body) {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
        return invalid(400, "the body is not a JSON object (a postableSilence)");
    }
    core::Silence s;
    auto text = [&](const char* key, std::string& out) -> std::optional<PostedSilence> {
        if (!doc.HasMember(key) || doc[key].IsNull()) return required(key);
        if (!doc[key].IsString()) {
            return schemaError(602, fmt::format("{} in body must be of type string", key));
        }
        out.assign(doc[key].GetString(), doc[key].GetStringLength());
        return std::nullopt;
    };
    auto time = [&](const char* key, core::TimePoint& out) -> std::optional<PostedSilence> {
        std::string raw;
        if (auto e = text(key, raw)) return e;
        auto t = core::parseRfc3339(raw);
        if (!t) {
            return schemaError(
                602, fmt::format("{} in body must be of type date-time: \"{}\"", key, raw));
        }
        out = *t;
        return std::nullopt;
    };
    if (auto e = text("comment", s.comment)) return *e;
    if (auto e = text("createdBy", s.created_by)) return *e;
    if (auto e = time("endsAt", s.ends_at)) return *e;
    if (!doc.HasMember("matchers") || doc["matchers"].IsNull()) return required("matchers");
    const auto& ms = doc["matchers"];
    if (!ms.IsArray()) return schemaError(602, "matchers in body must be of type array");
    if (ms.Empty()) return schemaError(612, "matchers in body should have at least 1 items");
    for (rapidjson::SizeType i = 0; i < ms.Size(); ++i) {
        const auto& m = ms[i];
        if (!m.IsObject()) return schemaError(602, fmt::format("matchers.{} must be an object", i));
        auto field = [&](const char* key, bool boolean) -> const Value* {
            if (!m.HasMember(key) || m[key].IsNull()) return nullptr;
            const auto& v = m[key];
            return (boolean ? v.IsBool() : v.IsString()) ? &v : nullptr;
        };
        const Value* name = field("name", false);
        const Value* value = field("value", false);
        const Value* is_regex = field("isRegex", true);
        if (name == nullptr) return required(fmt::format("matchers.{}.name", i));
        if (value == nullptr) return required(fmt::format("matchers.{}.value", i));
        if (is_regex == nullptr) return required(fmt::format("matchers.{}.isRegex", i));
        bool is_equal = true;
        if (const Value* eq = field("isEqual", true)) is_equal = eq->GetBool();
        auto op = is_regex->GetBool()
                      ? (is_equal ? core::MatchOp::kRegex : core::MatchOp::kNotRegex)
                      : (is_equal ? core::MatchOp::kEqual : core::MatchOp::kNotEqual);
        auto made = core::Matcher::make(std::string(name->GetString(), name->GetStringLength()), op,
                                        std::string(value->GetString(), value->GetStringLength()));
        if (!made) {
            return invalid(
                400, fmt::format("silence invalid: invalid label matcher {}: {}", i, made.error()));
        }
        s.matchers.push_back(std::move(*made));
    }
    if (auto e = time("startsAt", s.starts_at)) return *e;
    if (doc.HasMember("id") && doc["id"].IsString()) {
        s.id.assign(doc["id"].GetString(), doc["id"].GetStringLength());
    }
    const bool any_selects = std::any_of(s.matchers.begin(), s.matchers.end(),
                                         [](const auto& m) { return !m.matchesValue(""); });
    if (!any_selects) {
        return invalid(400,
                       "silence invalid: at least one matcher must not match the empty string");
    }
    if (s.created_by.empty()) return invalid(400, "silence invalid: creator information missing");
    if (s.comment.empty()) return invalid(400, "silence invalid: comment missing");
    return PostedSilence{std::move(s), 200, ""};
}

namespace {

void writeSilence(Writer& w, const core::Silence& s, core::TimePoint now) {
    auto str = [&w](std::string_view v) {
        w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    };
    w.StartObject();
    w.Key("id");
    str(s.id);
    w.Key("status");
    w.StartObject();
    w.Key("state");
    str(core::silenceStateName(s.stateAt(now)));
    w.EndObject();
    w.Key("updatedAt");
    str(core::formatRfc3339(s.updated_at));
    w.Key("comment");
    str(s.comment);
    w.Key("createdBy");
    str(s.created_by);
    w.Key("endsAt");
    str(core::formatRfc3339(s.ends_at));
    w.Key("matchers");
    w.StartArray();
    for (const auto& m : s.matchers) {
        const auto op = m.op();
        w.StartObject();
        w.Key("isEqual");
        w.Bool(op == core::MatchOp::kEqual || op == core::MatchOp::kRegex);
        w.Key("isRegex");
        w.Bool(op == core::MatchOp::kRegex || op == core::MatchOp::kNotRegex);
        w.Key("name");
        str(m.name());
        w.Key("value");
        str(m.value());
        w.EndObject();
    }
    w.EndArray();
    w.Key("startsAt");
    str(core::formatRfc3339(s.starts_at));
    w.EndObject();
}

}  // namespace

std::string encodeSilence(const core::Silence& s, core::TimePoint now) {
    rapidjson::StringBuffer sb;
    Writer w(sb);
    writeSilence(w, s, now);
    return std::string(sb.GetString()) + "\n";
}

std::string encodeSilences(std::vector<const core::Silence*> silences, core::TimePoint now) {
    auto rank = [now](const core::Silence* s) { return static_cast<int>(s->stateAt(now)); };
    // Active (1) first, then pending (0), then expired (2).
    auto order = [&](const core::Silence* s) {
        int r = rank(s);
        return r == 1 ? 0 : (r == 0 ? 1 : 2);
    };
    std::stable_sort(silences.begin(), silences.end(),
                     [&](const core::Silence* a, const core::Silence* b) {
                         if (order(a) != order(b)) return order(a) < order(b);
                         switch (a->stateAt(now)) {
                             case core::SilenceState::kActive:
                                 return a->ends_at < b->ends_at;
                             case core::SilenceState::kPending:
                                 return a->starts_at < b->starts_at;
                             case core::SilenceState::kExpired:
                                 return a->ends_at > b->ends_at;
                         }
                         return false;
                     });
    rapidjson::StringBuffer sb;
    Writer w(sb);
    w.StartArray();
    for (const auto* s : silences) writeSilence(w, *s, now);
    w.EndArray();
    return std::string(sb.GetString()) + "\n";
}

bool silenceMatchesFilter(const core::Silence& s, const std::vector<core::Matcher>& filter) {
    core::LabelSet labels;
    for (const auto& m : s.matchers) labels.set(m.name(), m.value());
    return core::matchesAll(filter, labels);
}

}  // namespace alertbridge::alertmanager
