#include "adapters/email/generic_rule.hpp"

#include <algorithm>
#include <cctype>

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

core::Alert genericAlert(const MailText& mail, std::string_view envelope_from,
                         core::TimePoint received_at, core::Duration resolve_timeout) {
    core::Alert a;
    a.origin = core::Origin{std::string(kInput), core::SourceKind::kEmail, received_at, 0};
    std::string subject = mail.subject.empty() ? "(no subject)" : mail.subject;
    std::string from =
        senderAddress(!mail.from.empty()          ? std::string_view(mail.from)
                      : !mail.return_path.empty() ? std::string_view(mail.return_path)
                                                  : envelope_from);
    if (from.empty()) from = "unknown";
    a.severity = keywordSeverity(subject, mail.body);
    a.labels.set("alertname", subject);
    a.labels.set("email_rule", "generic");
    a.labels.set("email_from", from);
    a.labels.set("severity", core::severityName(a.severity));
    a.annotations.set("summary", subject);
    if (!mail.body.empty())
        a.annotations.set("description", clipText(mail.body, kMaxDescriptionBytes));
    if (!mail.message_id.empty()) a.annotations.set("email_message_id", mail.message_id);
    if (mail.attachments > 0) {
        a.annotations.set("email_attachments", std::to_string(mail.attachments));
    }
    a.starts_at = mail.date.value_or(received_at);
    if (a.starts_at > received_at) a.starts_at = received_at;  // a sender clock ahead of ours
    a.ends_at = received_at + resolve_timeout;
    return a;
}

}  // namespace alertbridge::email
