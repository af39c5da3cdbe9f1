#pragma once
// The generic email rule: what an email becomes when no vendor rule pack understands it.
// Nothing is dropped. The subject is the summary and the alert name, the sender and the
// rule name complete the identity (so the same subject from the same sender dedupes),
// severity comes from keywords (warning when none matches), the body is the description,
// and the alert resolves by itself after `resolve_timeout` unless it is sent again.
// Pure; safe from any thread.

#include <string>
#include <string_view>

#include "adapters/email/mime_text.hpp"
#include "plugin/core/alert.hpp"

namespace alertbridge::email {

inline constexpr std::string_view kInput = "email";
inline constexpr std::size_t kMaxDescriptionBytes = std::size_t{256} * 1024;

// "Name <a@b>" -> "a@b" in lower case; a bare address stays as it is.
std::string senderAddress(std::string_view from);

// A valid UTF-8 prefix of at most `max` bytes, marked "[truncated]" when cut.
std::string clipText(std::string_view s, std::size_t max);

// Severity from words in the subject (then the body), for mail no pack knows.
core::Severity keywordSeverity(std::string_view subject, std::string_view body);

core::Alert genericAlert(const MailText& mail, std::string_view envelope_from,
                         core::TimePoint received_at, core::Duration resolve_timeout);

}  // namespace alertbridge::email
