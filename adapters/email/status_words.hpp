#pragma once
// What vendors write for "this is a problem" and "this is over", in Chinese and English, and
// how to find such a word in a subject or a field. A word counts only as a whole word (ASCII
// words need non-letters around them) and not when negated: "未恢复", "不正常", "恢复失败",
// "not resolved" and "unresolved" are not recoveries. When a text holds several words, the
// one that starts first wins, and of two starting at the same place the longer ("告警恢复"
// over "告警"), so "Problem: disk recovery slow" is a problem and "[OK] job failed" is over.
// Pure; safe from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/core/alert.hpp"

namespace alertbridge::email {

enum class Status { kFiring, kResolved };

struct StatusHit {
    Status status;
    std::string word;  // as listed (lower case)
};

struct StatusWords {
    std::vector<std::string> resolved;  // lower case
    std::vector<std::string> firing;
};

// Recovery and problem words most vendors use; the generic rule's, and every pack's after
// its own.
const StatusWords& commonStatusWords();

// The earliest word of either list in `text`, as described above; nullopt if none.
std::optional<StatusHit> findStatus(std::string_view text, const StatusWords& words);

// Severity words most vendors use (严重, 紧急, Critical, Disaster, Major, 提示, Info, ...).
struct SeverityWord {
    std::string_view word;  // lower case
    core::Severity severity;
};
const std::vector<SeverityWord>& commonSeverityWords();

// The severity of the earliest whole word of `words` in `text` (same rules as findStatus).
std::optional<core::Severity> findSeverity(std::string_view text,
                                           const std::vector<SeverityWord>& words);

// `text` with its status words and the punctuation around them taken out, for a name that
// is the same in a problem mail and its recovery: "【告警恢复】CPU高 web01" and "【告警】CPU高
// web01" both give "CPU高 web01"; "Resolved in 5m: X" and "Problem: X" give "X".
std::string withoutStatusWords(std::string_view text, const StatusWords& words);

}  // namespace alertbridge::email
