#pragma once
// The generic email rule: what an email becomes when no vendor rule pack understands it.
// Nothing is dropped, and an unknown vendor's mail is still a useful alert that resolves:
// the body's labelled fields (any layout, mail_pairs.hpp) give the alert name, the resource,
// the severity, the status and the start and end times, under the keys most vendors use
// (告警名称/Alarm Name, 主机/Host/Device, 级别/Severity, 状态/Status, 发生时间/Event Time,
// 恢复时间/Recovery Time, ...); what no field gives comes from the subject (status and
// severity words, status_words.hpp) and the Date header. The identity is the sender, the alert
// name and the resource, and the alert name is the subject without its status words when no
// field names it, so "【恢复】X" resolves "【告警】X". Without a recovery the alert resolves by
// itself after `resolve_timeout` unless it is sent again. Pure; safe from any thread.

#include <string>
#include <string_view>
#include <vector>

#include "adapters/email/mime_text.hpp"
#include "plugin/core/alert.hpp"

namespace date {
class time_zone;
}

namespace alertbridge::email {

inline constexpr std::string_view kInput = "email";
inline constexpr std::size_t kMaxDescriptionBytes = std::size_t{256} * 1024;

// "Name <a@b>" -> "a@b" in lower case; a bare address stays as it is.
std::string senderAddress(std::string_view from);

// A valid UTF-8 prefix of at most `max` bytes, marked "[truncated]" when cut.
std::string clipText(std::string_view s, std::size_t max);

// Severity from words in the subject (then the body), for mail no pack knows.
core::Severity keywordSeverity(std::string_view subject, std::string_view body);

struct GenericOptions {
    core::Duration resolve_timeout = std::chrono::hours(4);
    const date::time_zone* zone = nullptr;  // for body times without one; nullptr = UTC
};

// `fields` and `warnings` (if given) get what the rule read and could not read.
core::Alert genericAlert(const MailText& mail, std::string_view envelope_from,
                         core::TimePoint received_at, const GenericOptions& options,
                         std::vector<FieldOrigin>* fields = nullptr,
                         std::vector<std::string>* warnings = nullptr);

}  // namespace alertbridge::email
