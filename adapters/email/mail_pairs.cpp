#include "adapters/email/mail_pairs.hpp"

#include <array>

namespace alertbridge::email {
namespace {

constexpr std::string_view kNbsp = "\xC2\xA0";                // U+00A0
constexpr std::string_view kIdeoSpace = "\xE3\x80\x80";       // U+3000
constexpr std::string_view kWideColon = "\xEF\xBC\x9A";       // U+FF1A ：
constexpr std::string_view kOpenBracket = "\xE3\x80\x90";     // U+3010 【
constexpr std::string_view kCloseBracket = "\xE3\x80\x91";    // U+3011 】
constexpr std::string_view kWideOpenParen = "\xEF\xBC\x88";   // U+FF08 （
constexpr std::string_view kWideCloseParen = "\xEF\xBC\x89";  // U+FF09 ）

// The length of the space character at the front of `s` (ASCII, no-break, ideographic), or 0.
std::size_t spaceAt(std::string_view s) {
    if (s.empty()) return 0;
    if (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n') return 1;
    if (s.starts_with(kNbsp)) return kNbsp.size();
    if (s.starts_with(kIdeoSpace)) return kIdeoSpace.size();
    return 0;
}

std::size_t spaceBefore(std::string_view s) {
    if (s.empty()) return 0;
    char c = s.back();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return 1;
    if (s.ends_with(kNbsp)) return kNbsp.size();
    if (s.ends_with(kIdeoSpace)) return kIdeoSpace.size();
    return 0;
}

std::string_view trimmed(std::string_view s) {
    while (std::size_t n = spaceAt(s)) s.remove_prefix(n);
    while (std::size_t n = spaceBefore(s)) s.remove_suffix(n);
    return s;
}

bool asciiDigit(char c) { return c >= '0' && c <= '9'; }
bool asciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// "- ", "* ", "• ", "· ", "> ", "1. ", "1) ", "1、", "(1) ": list and quote markers.
std::string_view dropMarker(std::string_view s) {
    static constexpr std::array<std::string_view, 9> kMarkers = {
        "- ",       "* ",           "> ",           "+ ",          "\xE2\x80\xA2",
        "\xC2\xB7", "\xE2\x97\x8F", "\xE2\x96\xA0", "\xE2\x97\x86"};  // • · ● ■ ◆
    for (auto m : kMarkers) {
        if (s.starts_with(m)) return trimmed(s.substr(m.size()));
    }
    std::size_t i = 0;
    bool paren = !s.empty() && s[0] == '(';
    if (paren) ++i;
    std::size_t digits = i;
    while (i < s.size() && i - digits < 3 && asciiDigit(s[i])) ++i;
    if (i == digits) return s;
    std::string_view rest = s.substr(i);
    if (paren) return rest.starts_with(")") ? trimmed(rest.substr(1)) : s;
    if (rest.starts_with(". ") || rest.starts_with(") ")) return trimmed(rest.substr(2));
    if (rest.starts_with("\xE3\x80\x81")) return trimmed(rest.substr(3));  // 、
    return s;
}

}  // namespace

bool plausibleKey(std::string_view key) {
    if (key.empty() || key.size() > 64) return false;
    bool letter = false;
    int spaces = 0;
    for (char c : key) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x80 || asciiAlpha(c)) letter = true;
        if (c == ' ') ++spaces;
        if (c == '<' || c == '>' || c == '"' || c == '{' || c == '}' || c == '|' || c == ';') {
            return false;
        }
    }
    if (key.find("\xE3\x80\x82") != std::string_view::npos) return false;  // 。
    return letter && spaces <= 5;
}

namespace {

std::string unquote(std::string_view v) {
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        return std::string(v.substr(1, v.size() - 2));
    }
    return std::string(v);
}

bool keyToken(std::string_view t) {
    auto eq = t.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    if (!asciiAlpha(t[0]) && t[0] != '_') return false;
    for (std::size_t i = 0; i < eq; ++i) {
        char c = t[i];
        if (!asciiAlpha(c) && !asciiDigit(c) && c != '_' && c != '-' && c != '.') return false;
    }
    return true;
}

// "a=1 b=2 c=\"x y\"": the tokens at whitespace, commas or semicolons outside quotes.
std::vector<std::string_view> tokens(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    char quote = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        char c = i < s.size() ? s[i] : ' ';
        if (quote != 0) {
            if (c == quote) quote = 0;
            continue;
        }
        if (c == '"' || c == '\'') {
            if (i > 0 && s[i - 1] == '=') quote = c;
            continue;
        }
        if (c == ' ' || c == '\t' || c == ',' || c == ';') {
            if (i > start) out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

// Several key=value pairs on one line; false (nothing added) unless there are two or more.
bool addEqualsRun(std::string_view line, int line_number, MailPairs& out) {
    auto parts = tokens(line);
    int pairs = 0;
    for (auto t : parts) pairs += keyToken(t) ? 1 : 0;
    if (pairs < 2 || pairs * 2 < static_cast<int>(parts.size())) return false;
    for (auto t : parts) {
        if (!keyToken(t)) continue;
        auto eq = t.find('=');
        out.add(Pair{std::string(t.substr(0, eq)), unquote(t.substr(eq + 1)), Layout::kEquals,
                     line_number});
    }
    return true;
}

}  // namespace

std::string_view layoutName(Layout layout) {
    switch (layout) {
        case Layout::kColon:
            return "key: value";
        case Layout::kWideColon:
            return "key\xEF\xBC\x9Avalue";
        case Layout::kEquals:
            return "key=value";
        case Layout::kBracket:
            return "\xE3\x80\x90key\xE3\x80\x91value";
        case Layout::kTab:
            return "key<TAB>value";
        case Layout::kTableHeader:
            return "HTML th/td row";
        case Layout::kTableRow:
            return "HTML two-column td row";
        case Layout::kTableColumn:
            return "HTML table column";
        case Layout::kDefinition:
            return "HTML dt/dd";
    }
    return "?";
}

std::string normalizeKey(std::string_view key) {
    key = trimmed(key);
    while (key.ends_with(":") || key.ends_with(kWideColon)) {
        key.remove_suffix(key.ends_with(":") ? 1 : kWideColon.size());
        key = trimmed(key);
    }
    // A trailing "(...)" or "（...）" qualifies the key and is dropped.
    for (auto [open, close] : {std::pair{std::string_view("("), std::string_view(")")},
                               std::pair{kWideOpenParen, kWideCloseParen}}) {
        if (!key.ends_with(close)) continue;
        auto at = key.rfind(open);
        if (at != std::string_view::npos && at > 0) key = trimmed(key.substr(0, at));
    }
    std::string out;
    out.reserve(key.size());
    for (std::size_t i = 0; i < key.size();) {
        if (std::size_t n = spaceAt(key.substr(i))) {
            i += n;
            continue;
        }
        char c = key[i++];
        if (c == '_' || c == '-' || c == '.') continue;
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return out;
}

void MailPairs::add(Pair pair) {
    auto norm = normalizeKey(pair.key);
    if (norm.empty()) return;
    pairs_.push_back(std::move(pair));
    auto [it, inserted] = first_.try_emplace(std::move(norm), pairs_.size() - 1);
    // A later pair with a value replaces an earlier empty one ("恢复时间：" then a table).
    if (!inserted && pairs_[it->second].value.empty() && !pairs_.back().value.empty()) {
        it->second = pairs_.size() - 1;
    }
}

const Pair* MailPairs::find(std::string_view normalized_key) const {
    auto it = first_.find(std::string(normalized_key));
    return it == first_.end() ? nullptr : &pairs_[it->second];
}

const Pair* MailPairs::firstWithValue(const std::vector<std::string>& normalized_keys) const {
    for (const auto& key : normalized_keys) {
        if (const auto* p = find(key); p != nullptr && !p->value.empty()) return p;
    }
    return nullptr;
}

void addLinePairs(std::string_view raw, int line_number, MailPairs& out) {
    std::string_view line = dropMarker(trimmed(raw));
    if (line.empty()) return;
    if (line.starts_with(kOpenBracket)) {
        auto close = line.find(kCloseBracket);
        if (close == std::string_view::npos) return;
        auto key = trimmed(line.substr(kOpenBracket.size(), close - kOpenBracket.size()));
        auto value = trimmed(line.substr(close + kCloseBracket.size()));
        if (value.starts_with(":")) value = trimmed(value.substr(1));
        if (value.starts_with(kWideColon)) value = trimmed(value.substr(kWideColon.size()));
        if (plausibleKey(key)) {
            out.add(Pair{std::string(key), std::string(value), Layout::kBracket, line_number});
        }
        return;
    }
    // The first separator on the line decides the layout.
    for (std::size_t i = 0; i < line.size(); ++i) {
        Layout layout{};
        std::size_t width = 1;
        if (line[i] == ':') {
            if (line.substr(i + 1).starts_with("//")) return;  // a URL, not a key
            // A clock time ("at 20:15:02") is not a separator.
            if (i > 0 && asciiDigit(line[i - 1]) && i + 1 < line.size() &&
                asciiDigit(line[i + 1])) {
                return;
            }
            layout = Layout::kColon;
        } else if (line.substr(i).starts_with(kWideColon)) {
            layout = Layout::kWideColon;
            width = kWideColon.size();
        } else if (line[i] == '=') {
            if (addEqualsRun(line, line_number, out)) return;
            if (line.substr(i + 1).starts_with("=") || line.substr(i + 1).starts_with(">")) return;
            layout = Layout::kEquals;
        } else if (line[i] == '\t') {
            layout = Layout::kTab;
        } else {
            continue;
        }
        auto key = trimmed(line.substr(0, i));
        if (!plausibleKey(key)) return;
        auto value = trimmed(line.substr(i + width));
        out.add(Pair{std::string(key),
                     layout == Layout::kEquals ? unquote(value) : std::string(value), layout,
                     line_number});
        return;
    }
}

std::string describe(const Pair& pair) {
    std::string out = "key \"" + pair.key + "\" (" + std::string(layoutName(pair.layout));
    if (pair.line > 0) out += ", line " + std::to_string(pair.line);
    return out + ")";
}

void addTextPairs(std::string_view text, MailPairs& out) {
    int number = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        ++number;
        addLinePairs(line, number, out);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

}  // namespace alertbridge::email
