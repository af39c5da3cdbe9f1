#include "adapters/email/generic_rule.hpp"

#include <algorithm>
#include <cctype>

#include "adapters/email/status_words.hpp"
#include "adapters/email/vendor_time.hpp"
#include "plugin/core/text.hpp"

namespace alertbridge::email {
namespace {

bool containsAny(const std::string& text, std::initializer_list<std::string_view> words) {
    return std::any_of(words.begin(), words.end(),
                       [&](std::string_view w) { return text.find(w) != std::string::npos; });
}

}  // namespace

// "Name <a@b>" -> "a@b"; a bare address stays as it is.
std::string senderAddress(std::string_view from) {
    auto open = from.rfind('<');
    auto close = from.rfind('>');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
        return core::asciiLower(from.substr(open + 1, close - open - 1));
    }
    return core::asciiLower(from);
}

// A valid UTF-8 prefix of at most `max` bytes.
std::string clipText(std::string_view s, std::size_t max) {
    if (s.size() <= max) return std::string(s);
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return std::string(s.substr(0, n)) + "\n[truncated]";
}

core::Severity keywordSeverity(std::string_view subject, std::string_view body) {
    for (const std::string& text :
         {core::asciiLower(subject), core::asciiLower(body.substr(0, 4096))}) {
        if (containsAny(text, {"严重", "紧急", "致命", "critical", "disaster", "emergency", "fatal",
                               "[red]", "status: red", "to red"})) {
            return core::Severity::kCritical;
        }
        if (containsAny(text, {"警告", "重要", "warning", "major", "error", "failed", "high"})) {
            return core::Severity::kWarning;
        }
        if (containsAny(text, {"提示", "信息", "通知", "info", "notice"})) {
            return core::Severity::kInfo;
        }
    }
    return core::Severity::kWarning;
}

namespace {

// The keys most vendors write each field under, most specific first.
struct KeyList {
    std::vector<std::string> normalized;
    explicit KeyList(std::initializer_list<std::string_view> keys) {
        for (auto k : keys) normalized.push_back(normalizeKey(k));
    }
};

const KeyList& alertnameKeys() {
    static const KeyList kKeys{
        "告警名称",  "告警标题",   "告警项",       "告警规则", "规则名称",   "事件名称",
        "问题名称",  "告警事件",   "监控项",       "触发器",   "alarm name", "alert name",
        "alertname", "event name", "problem name", "trigger",  "rule name",  "alarm",
        "alert",     "event",      "problem",      "check",    "service"};
    return kKeys;
}
const KeyList& resourceKeys() {
    static const KeyList kKeys{
        "告警对象", "主机名",     "主机名称",  "主机",   "设备名称",    "设备名",   "设备",
        "资源名称", "资源",       "实例",      "节点",   "服务器",      "对象",     "告警源",
        "host",     "hostname",   "host name", "device", "device name", "resource", "instance",
        "node",     "server",     "target",    "object", "主机IP",      "设备IP",   "IP地址",
        "IP",       "ip address", "host ip"};
    return kKeys;
}
const KeyList& severityKeys() {
    static const KeyList kKeys{"告警级别",    "级别",          "严重程度", "严重性",
                               "严重级别",    "告警等级",      "等级",     "优先级",
                               "severity",    "level",         "priority", "alarm level",
                               "alert level", "severity level"};
    return kKeys;
}
const KeyList& statusKeys() {
    static const KeyList kKeys{
        "告警状态", "事件状态",     "当前状态",     "状态",         "通知类型",         "status",
        "state",    "alarm status", "alert status", "event status", "notification type"};
    return kKeys;
}
const KeyList& startKeys() {
    static const KeyList kKeys{"告警时间",
                               "发生时间",
                               "开始时间",
                               "触发时间",
                               "产生时间",
                               "首次发生时间",
                               "故障时间",
                               "事件时间",
                               "时间",
                               "日期",
                               "event time",
                               "start time",
                               "started",
                               "started at",
                               "alarm time",
                               "alert time",
                               "triggered at",
                               "occurred",
                               "occurred at",
                               "first occurrence",
                               "problem started",
                               "date/time",
                               "datetime",
                               "timestamp",
                               "time",
                               "date"};
    return kKeys;
}
const KeyList& endKeys() {
    static const KeyList kKeys{"恢复时间",    "结束时间",      "解除时间",     "清除时间",
                               "消除时间",    "recovery time", "recovered at", "resolved time",
                               "resolved at", "end time",      "ended at",     "cleared time",
                               "clear time",  "cleared at"};
    return kKeys;
}

}  // namespace

core::Alert genericAlert(const MailText& mail, std::string_view envelope_from,
                         core::TimePoint received_at, const GenericOptions& options,
                         std::vector<FieldOrigin>* fields, std::vector<std::string>* warnings) {
    core::Alert a;
    a.origin = core::Origin{std::string(kInput), core::SourceKind::kEmail, received_at, 0};
    std::string subject = mail.subject.empty() ? "(no subject)" : mail.subject;
    std::string from =
        senderAddress(!mail.from.empty()          ? std::string_view(mail.from)
                      : !mail.return_path.empty() ? std::string_view(mail.return_path)
                                                  : envelope_from);
    if (from.empty()) from = "unknown";
    auto field = [&](const KeyList& keys, const char* name) -> const Pair* {
        const Pair* p = mail.pairs.firstWithValue(keys.normalized);
        if (p != nullptr && fields != nullptr) {
            fields->push_back(FieldOrigin{name, p->value, describe(*p)});
        }
        return p;
    };
    auto warn = [&](std::string w) {
        if (warnings != nullptr) warnings->push_back(std::move(w));
    };
    const auto& words = commonStatusWords();

    const Pair* name_field = field(alertnameKeys(), "alertname");
    const Pair* resource = field(resourceKeys(), "resource");
    const Pair* severity_field = field(severityKeys(), "severity");
    const Pair* status_field = field(statusKeys(), "status");
    const Pair* start_field = field(startKeys(), "starts_at");
    const Pair* end_field = field(endKeys(), "ends_at");

    std::optional<core::Severity> severity;
    if (severity_field != nullptr) {
        severity = findSeverity(severity_field->value, commonSeverityWords());
        if (!severity) {
            warn("severity \"" + severity_field->value + "\" is no known word; keywords decide");
        }
    }
    a.severity = severity.value_or(keywordSeverity(subject, mail.body));

    ZoneHint hint;
    if (mail.date) hint.date_header_offset_minutes = mail.date_offset_minutes;
    hint.fallback = options.zone;
    auto time_of = [&](const Pair* p, const char* what) -> std::optional<core::TimePoint> {
        if (p == nullptr) return std::nullopt;
        auto t = parseVendorTime(p->value, hint);
        if (t) return *t;
        warn(std::string(what) + " \"" + p->value + "\" is not a time: " + t.error());
        return std::nullopt;
    };
    auto starts = time_of(start_field, "starts_at");
    auto ends = time_of(end_field, "ends_at");

    std::optional<StatusHit> status;
    if (status_field != nullptr) status = findStatus(status_field->value, words);
    if (!status) status = findStatus(subject, words);
    const bool resolved = status ? status->status == Status::kResolved : ends.has_value();

    const std::string alertname =
        name_field != nullptr ? name_field->value : withoutStatusWords(subject, words);
    a.labels.set("alertname", alertname);
    a.labels.set("email_rule", "generic");
    a.labels.set("email_from", from);
    if (resource != nullptr) a.labels.set("resource", resource->value);
    a.labels.set("severity", core::severityName(a.severity));
    for (const char* k : {"email_from", "alertname", "resource"}) {
        if (const auto* v = a.labels.get(k)) a.identity_labels.set(k, *v);
    }
    a.annotations.set("summary", subject);
    if (severity_field != nullptr) a.annotations.set("severity_raw", severity_field->value);
    if (!mail.body.empty())
        a.annotations.set("description", clipText(mail.body, kMaxDescriptionBytes));
    if (!mail.message_id.empty()) a.annotations.set("email_message_id", mail.message_id);
    if (mail.attachments > 0) {
        a.annotations.set("email_attachments", std::to_string(mail.attachments));
    }
    a.starts_at = starts.value_or(mail.date.value_or(received_at));
    if (a.starts_at > received_at) a.starts_at = received_at;  // a sender clock ahead of ours
    if (resolved) {
        a.ends_at = std::max(a.starts_at,
                             std::min(ends.value_or(mail.date.value_or(received_at)), received_at));
    } else {
        a.ends_at = received_at + options.resolve_timeout;
    }
    return a;
}

}  // namespace alertbridge::email
