#include "adapters/alertmanager/codec.hpp"

#include <cstring>

#include <fmt/format.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "plugin/core/time.hpp"

namespace alertbridge::alertmanager {
namespace {

using core::Error;
using core::Result;
using rapidjson::Value;

std::string_view sv(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

// Parses reuse this thread's buffer for the document's values instead of allocating a
// fresh 64 KiB pool per body; larger bodies spill into ordinary allocations that the pool
// frees when the document goes. One document per thread at a time.
class PooledDocument {
  public:
    PooledDocument() : pool_(buffer(), kBufferSize), doc_(&pool_) {}
    rapidjson::Document& doc() { return doc_; }

  private:
    static constexpr std::size_t kBufferSize = std::size_t{64} * 1024;
    static char* buffer() {
        alignas(8) thread_local char b[kBufferSize];
        return b;
    }
    rapidjson::MemoryPoolAllocator<> pool_;
    rapidjson::Document doc_;
};

Result<core::Decoded> parseError(const rapidjson::Document& doc) {
    return Error{fmt::format("body is not valid JSON: {} at byte {}",
                             rapidjson::GetParseError_En(doc.GetParseError()),
                             doc.GetErrorOffset())};
}

// Reads a string map (labels or annotations). Empty label values are dropped, as
// Alertmanager does; names must be valid label names.
std::string readMap(const Value& obj, const std::string& where, bool is_labels,
                    core::LabelNames names, core::LabelSet& out) {
    if (!obj.IsObject()) return fmt::format("{}: expected an object of strings", where);
    // Room for the two labels normalize may add (severity, source kind), so neither the
    // appends here nor those on the engine thread move the pairs again.
    out.reserve(out.size() + obj.MemberCount() + (is_labels ? 2 : 0));
    for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
        auto name = sv(it->name);
        if (!it->value.IsString()) {
            return fmt::format("{}.{}: expected a string value", where, name);
        }
        if (is_labels && !core::isValidLabelName(name, names)) {
            return fmt::format("{}: invalid label name \"{}\"", where, name);
        }
        if (!core::isValidUtf8(sv(it->value))) {
            return fmt::format("{}.{}: the value is not valid UTF-8", where, name);
        }
        if (is_labels && it->value.GetStringLength() == 0) continue;
        out.appendUnsorted(std::string(name), std::string(sv(it->value)));
    }
    // An empty name counts too: a repeated "" must not hide the repeats sorted after it.
    if (auto dup = out.sortAndFindDuplicate()) {
        return fmt::format("{}: duplicate name \"{}\"", where, *dup);
    }
    if (is_labels && out.empty()) {
        return fmt::format("{}: at least one label pair with a non-empty value is required", where);
    }
    return "";
}

std::string readTime(const Value& obj, const char* key, const std::string& where,
                     std::optional<core::TimePoint>& out) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || it->value.IsNull()) return "";
    if (!it->value.IsString()) return fmt::format("{}.{}: expected an RFC 3339 string", where, key);
    auto t = core::parseRfc3339(sv(it->value));
    if (!t) return fmt::format("{}.{}: {}", where, key, t.error());
    if (!core::isZeroTime(*t)) out = *t;
    return "";
}

std::string readString(const Value& obj, const char* key, const std::string& where,
                       std::string& out) {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || it->value.IsNull()) return "";
    if (!it->value.IsString()) return fmt::format("{}.{}: expected a string", where, key);
    out.assign(it->value.GetString(), it->value.GetStringLength());
    return "";
}

// The fields both bodies share: labels, annotations, generatorURL.
std::string readCommon(const Value& a, const std::string& where, core::LabelNames names,
                       core::Alert& alert) {
    if (!a.IsObject()) return fmt::format("{}: expected an alert object", where);
    auto labels = a.FindMember("labels");
    if (labels == a.MemberEnd()) return fmt::format("{}.labels: is required", where);
    if (auto e = readMap(labels->value, where + ".labels", true, names, alert.labels); !e.empty()) {
        return e;
    }
    auto ann = a.FindMember("annotations");
    if (ann != a.MemberEnd() && !ann->value.IsNull()) {
        if (auto e = readMap(ann->value, where + ".annotations", false, names, alert.annotations);
            !e.empty()) {
            return e;
        }
    }
    return readString(a, "generatorURL", where, alert.generator_url);
}

}  // namespace

// One postable alert; "" when it was read into `a`, else why not.
std::string readPostable(const Value& v, const std::string& where, core::TimePoint received_at,
                         const DecodeOptions& options, core::Alert& a) {
    a.origin =
        core::Origin{std::string(kApiInput), core::SourceKind::kAlertmanagerApi, received_at, 0};
    if (auto e = readCommon(v, where, options.label_names, a); !e.empty()) return e;
    std::optional<core::TimePoint> starts, ends;
    if (auto e = readTime(v, "startsAt", where, starts); !e.empty()) return e;
    if (auto e = readTime(v, "endsAt", where, ends); !e.empty()) return e;
    // Alertmanager's defaults: no start means now, or the end when only an end is given;
    // no end means resolve_timeout from now.
    a.starts_at = starts ? *starts : (ends ? *ends : received_at);
    a.ends_at = ends ? *ends : received_at + options.resolve_timeout;
    if (starts && ends && *ends < *starts)
        return fmt::format("{}.endsAt: is before startsAt", where);
    return "";
}

core::Result<core::Decoded> decodeApiV2(std::string_view body, core::TimePoint received_at,
                                        const DecodeOptions& options) {
    PooledDocument pooled;
    auto& doc = pooled.doc();
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError()) return parseError(doc);
    if (!doc.IsArray()) return Error{"body: expected a JSON array of alerts"};
    core::Decoded out;
    out.alerts.reserve(doc.Size());
    for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
        core::Alert a;
        if (auto e = readPostable(doc[i], fmt::format("[{}]", i), received_at, options, a);
            !e.empty()) {
            out.rejected.push_back(std::move(e));
            continue;
        }
        out.alerts.push_back(std::move(a));
    }
    return out;
}

// One webhook alert; "" when it was read into `a`, else why not.
std::string readWebhookAlert(const Value& v, const std::string& where, core::TimePoint received_at,
                             core::LabelNames names, core::Alert& a) {
    a.origin = core::Origin{std::string(kWebhookInput), core::SourceKind::kAlertmanagerWebhook,
                            received_at, 0};
    if (auto e = readCommon(v, where, names, a); !e.empty()) return e;
    std::string status;
    if (auto e = readString(v, "status", where, status); !e.empty()) return e;
    if (status != "firing" && status != "resolved") {
        return fmt::format("{}.status: must be \"firing\" or \"resolved\", got \"{}\"", where,
                           status);
    }
    std::optional<core::TimePoint> starts, ends;
    if (auto e = readTime(v, "startsAt", where, starts); !e.empty()) return e;
    if (auto e = readTime(v, "endsAt", where, ends); !e.empty()) return e;
    if (!starts) return fmt::format("{}.startsAt: is required", where);
    a.starts_at = *starts;
    if (status == "resolved") {
        if (!ends) return fmt::format("{}.endsAt: a resolved alert needs its end", where);
        // A resolution is final whatever the clocks say: never in the future.
        a.ends_at = std::min(*ends, received_at);
    }
    return "";
}

core::Result<core::Decoded> decodeWebhook(std::string_view body, core::TimePoint received_at,
                                          core::LabelNames names) {
    PooledDocument pooled;
    auto& doc = pooled.doc();
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError()) return parseError(doc);
    if (!doc.IsObject()) return Error{"body: expected a webhook JSON object"};
    auto version = doc.FindMember("version");
    if (version == doc.MemberEnd() || !version->value.IsString()) {
        return Error{"version: is required and must be the string \"4\""};
    }
    if (sv(version->value) != "4") {
        return Error{fmt::format("version: unsupported webhook version \"{}\" (expected \"4\")",
                                 sv(version->value))};
    }
    auto alerts = doc.FindMember("alerts");
    if (alerts == doc.MemberEnd() || !alerts->value.IsArray()) {
        return Error{"alerts: is required and must be an array"};
    }
    for (const char* key : {"receiver", "status", "groupKey", "externalURL"}) {
        auto it = doc.FindMember(key);
        if (it != doc.MemberEnd() && !it->value.IsString()) {
            return Error{fmt::format("{}: expected a string", key)};
        }
    }
    const auto& list = alerts->value;
    core::Decoded out;
    out.alerts.reserve(list.Size());
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
        core::Alert a;
        if (auto e = readWebhookAlert(list[i], fmt::format("alerts[{}]", i), received_at, names, a);
            !e.empty()) {
            out.rejected.push_back(std::move(e));
            continue;
        }
        out.alerts.push_back(std::move(a));
    }
    return out;
}

std::string PushEncoder::encode(const std::vector<const core::Alert*>& alerts,
                                std::vector<state::OutboxKey>* keys) const {
    // Sized for a typical alert up front: growing by doubling copied the body ~log2(n) times.
    rapidjson::StringBuffer buf(nullptr, 64 + alerts.size() * 640);
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    auto str = [&w](std::string_view s) {
        w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    };
    // One alert object. `ends` empty: the placeholder the transport stamps at send time.
    auto write = [&](const core::Alert& a, const core::LabelSet& labels, std::string_view ends) {
        w.StartObject();
        w.Key("labels");
        w.StartObject();
        bool marker_written = false;
        for (const auto& [k, v] : labels) {
            if (!marker_written && k >= marker_label_) {
                str(marker_label_);
                str(marker_value_);
                marker_written = true;
                if (k == marker_label_) continue;
            }
            str(k);
            str(v);
        }
        if (!marker_written) {
            str(marker_label_);
            str(marker_value_);
        }
        w.EndObject();
        w.Key("annotations");
        w.StartObject();
        for (const auto& [k, v] : a.annotations) {
            str(k);
            str(v);
        }
        w.EndObject();
        // Alertmanager refuses an alert whose end is before its start, and a refusal is
        // for the whole push: a start that a sender's clock put in the future is shown as
        // no later than when the alert was last received (or ended).
        auto starts = a.starts_at;
        if (a.updated_at != core::TimePoint{} && a.updated_at < starts) starts = a.updated_at;
        if (a.ends_at && *a.ends_at < starts) starts = *a.ends_at;
        w.Key("startsAt");
        str(core::formatRfc3339(starts));
        w.Key("endsAt");
        str(ends.empty() ? kEndsAtPlaceholder : ends);
        if (!a.generator_url.empty()) {
            w.Key("generatorURL");
            str(a.generator_url);
        }
        w.EndObject();
    };
    // Each element is keyed by the labels it is shown under, which is how Alertmanager
    // names an alert. The writer puts the comma before an element, so it starts one byte on.
    auto keyed = [&](const core::LabelSet& labels, auto&& element) {
        auto before = buf.GetSize();
        element();
        if (keys == nullptr) return;
        auto begin = static_cast<std::uint32_t>(before + (buf.GetString()[before] == ',' ? 1 : 0));
        keys->push_back(state::OutboxKey{labels.fingerprint(), begin,
                                         static_cast<std::uint32_t>(buf.GetSize())});
    };
    w.StartArray();
    for (const auto* a : alerts) {
        // Alertmanager names an alert by its labels: the copy it holds under the labels
        // shown until now is resolved, or it would linger beside the new one until its
        // endsAt ran out.
        if (a->superseded_labels) {
            keyed(*a->superseded_labels,
                  [&] { write(*a, *a->superseded_labels, core::formatRfc3339(a->updated_at)); });
        }
        bool resolved = a->ends_at && *a->ends_at <= a->updated_at;
        keyed(a->labels, [&] {
            write(*a, a->labels, resolved ? core::formatRfc3339(*a->ends_at) : std::string());
        });
    }
    w.EndArray();
    return {buf.GetString(), buf.GetSize()};
}

std::string PushEncoder::refuses(const core::Alert& a) const {
    if (utf8_label_names_) return "";
    auto bad = [](const core::LabelSet& labels) -> std::string {
        for (const auto& [k, v] : labels) {
            if (!core::isValidLabelName(k)) return k;
        }
        return "";
    };
    std::string name = bad(a.labels);
    if (name.empty() && a.superseded_labels) name = bad(*a.superseded_labels);
    if (name.empty()) return "";
    return fmt::format("label name \"{}\" needs utf8_label_names (Alertmanager 0.27 or later)",
                       name);
}

void stampEndsAt(std::string& body, core::TimePoint ends_at) {
    const std::string stamp = core::formatRfc3339(ends_at);
    if (stamp.size() != kEndsAtPlaceholder.size()) return;  // years past 9999: leave as is
    // Only an alert's own endsAt is stamped: the placeholder text may also be a label's or
    // an annotation's value (even under a label named endsAt). The encoder writes an
    // alert's endsAt right after its startsAt, and a sorted label map never puts "endsAt"
    // after "startsAt", so `"startsAt":"<time>","endsAt":"<placeholder>"` is the key itself.
    const std::string key = std::string(R"(","endsAt":")") + std::string(kEndsAtPlaceholder);
    constexpr std::string_view kStarts = R"("startsAt":")";
    for (auto pos = body.find(key); pos != std::string::npos; pos = body.find(key, pos + 1)) {
        auto open = body.rfind('"', pos - 1);
        if (open == std::string::npos || open < kStarts.size() - 1) continue;
        std::string_view time(body.data() + open + 1, pos - open - 1);
        bool is_time = !time.empty() && time.size() <= 40 &&
                       time.find_first_not_of("0123456789-:.TZ+") == std::string_view::npos;
        if (!is_time || body.compare(open + 1 - kStarts.size(), kStarts.size(), kStarts) != 0) {
            continue;
        }
        std::memcpy(body.data() + pos + key.size() - stamp.size(), stamp.data(), stamp.size());
    }
}

}  // namespace alertbridge::alertmanager
