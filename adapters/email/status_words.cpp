#include "adapters/email/status_words.hpp"

#include <array>

#include "plugin/core/text.hpp"

namespace alertbridge::email {
namespace {

bool asciiWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Characters that negate the word after them: 未 不 没 无 非.
bool negatedBefore(std::string_view text, std::size_t pos) {
    static constexpr std::array<std::string_view, 5> kNot = {
        "\xE6\x9C\xAA", "\xE4\xB8\x8D", "\xE6\xB2\xA1", "\xE6\x97\xA0", "\xE9\x9D\x9E"};
    for (auto n : kNot) {
        if (pos >= n.size() && text.substr(pos - n.size(), n.size()) == n) return true;
    }
    // "not resolved", "not ok", "no recovery"
    std::string_view before = text.substr(0, pos);
    while (!before.empty() && (before.back() == ' ' || before.back() == '-'))
        before.remove_suffix(1);
    for (std::string_view n : {"not", "no", "non", "never", "un"}) {
        if (before.ends_with(n) &&
            (before.size() == n.size() || !asciiWordChar(before[before.size() - n.size() - 1]))) {
            return true;
        }
    }
    return false;
}

// A recovery that did not happen: 恢复失败, 恢复中 ("recovering"), "recovery failed".
bool negatedAfter(std::string_view text, std::size_t end) {
    std::string_view after = text.substr(end);
    while (!after.empty() && after.front() == ' ') after.remove_prefix(1);
    return after.starts_with("\xE5\xA4\xB1\xE8\xB4\xA5") ||  // 失败
           after.starts_with("\xE4\xB8\xAD") ||              // 中
           after.starts_with("failed") || after.starts_with("in progress");
}

struct Hit {
    std::size_t pos = std::string_view::npos;
    std::size_t len = 0;
};

// The earliest (then longest) whole, un-negated occurrence of `word` in lower-cased `text`.
Hit findWord(std::string_view text, std::string_view word, bool check_after) {
    const bool ascii_word = !word.empty() && static_cast<unsigned char>(word.front()) < 0x80;
    for (std::size_t at = text.find(word); at != std::string_view::npos;
         at = text.find(word, at + 1)) {
        std::size_t end = at + word.size();
        if (ascii_word && ((at > 0 && asciiWordChar(text[at - 1])) ||
                           (end < text.size() && asciiWordChar(text[end])))) {
            continue;
        }
        if (negatedBefore(text, at) || (check_after && negatedAfter(text, end))) continue;
        return Hit{at, word.size()};
    }
    return {};
}

bool better(const Hit& a, const Hit& b) {
    return a.pos < b.pos || (a.pos == b.pos && a.len > b.len);
}

// Where the text's first letter, digit or non-ASCII character is: a word there opens it.
std::size_t openingAt(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80 &&
           !asciiWordChar(text[i])) {
        ++i;
    }
    // 【 and ［ open a subject as [ does.
    for (std::string_view b : {"\xE3\x80\x90", "\xEF\xBC\xBB"}) {
        if (text.substr(i).starts_with(b)) return i + b.size();
    }
    return i;
}

}  // namespace

const StatusWords& commonStatusWords() {
    static const StatusWords kWords{
        {"恢复",       "已恢复",     "告警恢复", "故障恢复",       "恢复正常", "已恢复正常",
         "故障已恢复", "告警已恢复", "告警解除", "告警已解除",     "已解除",   "解除",
         "已消除",     "告警消除",   "消除",     "已清除",         "清除",     "已解决",
         "解决",       "正常",       "ok",       "resolved",       "recovery", "recovered",
         "cleared",    "clear",      "normal",   "back to normal", "restored"},
        {"告警", "故障", "异常", "告警中", "报警", "产生", "发生", "触发", "problem", "alarm",
         "alert", "firing", "trouble", "fault", "down", "failed", "failure"}};
    return kWords;
}

std::optional<StatusHit> findStatus(std::string_view raw, const StatusWords& words) {
    std::string text = core::asciiLower(raw);
    Hit first_resolved, first_firing;
    std::string resolved_word, firing_word;
    for (const auto& w : words.resolved) {
        auto h = findWord(text, w, true);
        if (h.pos != std::string_view::npos && better(h, first_resolved)) {
            first_resolved = h;
            resolved_word = w;
        }
    }
    for (const auto& w : words.firing) {
        auto h = findWord(text, w, false);
        if (h.pos != std::string_view::npos && better(h, first_firing)) {
            first_firing = h;
            firing_word = w;
        }
    }
    const bool r = first_resolved.pos != std::string_view::npos;
    const bool f = first_firing.pos != std::string_view::npos;
    if (!r && !f) return std::nullopt;
    // A word that opens the text decides ("Problem: backup recovery slow"); otherwise a
    // recovery word anywhere does ("磁盘告警已恢复").
    const std::size_t open = openingAt(text);
    if (f && first_firing.pos <= open && (!r || better(first_firing, first_resolved))) {
        return StatusHit{Status::kFiring, firing_word};
    }
    if (r) return StatusHit{Status::kResolved, resolved_word};
    return StatusHit{Status::kFiring, firing_word};
}

const std::vector<SeverityWord>& commonSeverityWords() {
    using S = core::Severity;
    static const std::vector<SeverityWord> kWords = {
        {"严重", S::kCritical},     {"紧急", S::kCritical},      {"致命", S::kCritical},
        {"灾难", S::kCritical},     {"重大", S::kCritical},      {"critical", S::kCritical},
        {"disaster", S::kCritical}, {"emergency", S::kCritical}, {"fatal", S::kCritical},
        {"p0", S::kCritical},       {"p1", S::kCritical},        {"red", S::kCritical},
        {"主要", S::kWarning},      {"重要", S::kWarning},       {"次要", S::kWarning},
        {"警告", S::kWarning},      {"major", S::kWarning},      {"minor", S::kWarning},
        {"warning", S::kWarning},   {"average", S::kWarning},    {"high", S::kCritical},
        {"error", S::kWarning},     {"degraded", S::kWarning},   {"yellow", S::kWarning},
        {"p2", S::kWarning},        {"p3", S::kWarning},         {"提示", S::kInfo},
        {"信息", S::kInfo},         {"通知", S::kInfo},          {"一般", S::kInfo},
        {"info", S::kInfo},         {"information", S::kInfo},   {"informational", S::kInfo},
        {"notice", S::kInfo},       {"low", S::kInfo},           {"p4", S::kInfo}};
    return kWords;
}

std::optional<core::Severity> findSeverity(std::string_view raw,
                                           const std::vector<SeverityWord>& words) {
    std::string text = core::asciiLower(raw);
    Hit best;
    std::optional<core::Severity> out;
    for (const auto& w : words) {
        auto h = findWord(text, w.word, false);
        if (h.pos != std::string_view::npos && better(h, best)) {
            best = h;
            out = w.severity;
        }
    }
    return out;
}

std::string withoutStatusWords(std::string_view raw, const StatusWords& words) {
    std::string text(raw);
    // A bracketed part that names the status: "[FIRING:2]", "【告警恢复】", "[OK]".
    for (auto [open, close] :
         {std::pair{std::string_view("["), std::string_view("]")},
          std::pair{std::string_view("\xE3\x80\x90"), std::string_view("\xE3\x80\x91")}}) {
        for (std::size_t from = 0;;) {
            auto at = text.find(open, from);
            auto end = at == std::string::npos ? at : text.find(close, at + open.size());
            if (end == std::string::npos) break;
            auto inside = std::string_view(text).substr(at + open.size(), end - at - open.size());
            if (findStatus(inside, words)) {
                text.erase(at, end + close.size() - at);
                from = at;
            } else {
                from = end + close.size();
            }
        }
    }
    // A "Resolved in 5m:" or "** PROBLEM Service Alert:" prefix that names the status.
    auto colon = text.find(':');
    auto wide = text.find("\xEF\xBC\x9A");
    auto cut = std::min(colon, wide);
    if (cut != std::string::npos && cut <= 48 && findStatus(text.substr(0, cut), words)) {
        text.erase(0, cut + (cut == wide ? 3 : 1));
    }
    std::string lower = core::asciiLower(text);
    std::vector<std::string> all(words.resolved);
    all.insert(all.end(), words.firing.begin(), words.firing.end());
    for (const auto& w : commonSeverityWords()) all.emplace_back(w.word);
    std::sort(all.begin(), all.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    std::vector<bool> drop(text.size(), false);
    for (const auto& w : all) {
        for (std::size_t from = 0;;) {
            auto h = findWord(std::string_view(lower).substr(from), w, false);
            if (h.pos == std::string_view::npos) break;
            for (std::size_t i = 0; i < h.len; ++i) drop[from + h.pos + i] = true;
            from += h.pos + h.len;
        }
    }
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!drop[i]) out += text[i];
    }
    // Brackets left empty, then the punctuation and spaces around what is left.
    for (std::string_view empty : {"[]", "【】", "()", "（）", "[:]", "<>"}) {
        for (auto at = out.find(empty); at != std::string::npos; at = out.find(empty)) {
            out.erase(at, empty.size());
        }
    }
    std::string collapsed;
    for (char c : out) {
        if (c == ' ' && (collapsed.empty() || collapsed.back() == ' ')) continue;
        collapsed += c;
    }
    auto edge = [](char c) {
        return c == ' ' || c == '*' || c == '-' || c == ':' || c == '!' || c == '|' || c == ',';
    };
    while (!collapsed.empty() && edge(collapsed.back())) collapsed.pop_back();
    std::size_t i = 0;
    while (i < collapsed.size() && edge(collapsed[i])) ++i;
    collapsed.erase(0, i);
    for (std::string_view lead : {"\xEF\xBC\x9A"}) {  // a leading ：
        while (collapsed.starts_with(lead)) collapsed.erase(0, lead.size());
    }
    return collapsed.empty() ? std::string(raw) : collapsed;
}

}  // namespace alertbridge::email
