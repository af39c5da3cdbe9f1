#include "plugin/core/matcher.hpp"

#include <re2/re2.h>

#include <cctype>

#include <fmt/format.h>

namespace alertbridge::core {
namespace {

std::string_view opText(MatchOp op) {
    switch (op) {
        case MatchOp::kEqual:
            return "=";
        case MatchOp::kNotEqual:
            return "!=";
        case MatchOp::kRegex:
            return "=~";
        case MatchOp::kNotRegex:
            return "!~";
    }
    return "=";
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skipSpace(std::string_view s, std::size_t& i) {
    while (i < s.size() && isSpace(s[i])) ++i;
}

// Reads a double-quoted string starting at s[i] == '"'. Leaves i after the closing quote.
Result<std::string> readQuoted(std::string_view s, std::size_t& i) {
    std::string out;
    std::size_t start = i++;
    while (i < s.size()) {
        char c = s[i++];
        if (c == '"') return out;
        if (c != '\\') {
            out.push_back(c);
            continue;
        }
        if (i >= s.size()) break;
        char e = s[i++];
        switch (e) {
            case 'n':
                out.push_back('\n');
                break;
            case 't':
                out.push_back('\t');
                break;
            case '"':
            case '\\':
                out.push_back(e);
                break;
            default:
                // Regexes need their backslashes (\d, \.): keep unknown escapes as written.
                out.push_back('\\');
                out.push_back(e);
        }
    }
    return Error{fmt::format("unterminated quoted string starting at \"{}\"", s.substr(start))};
}

}  // namespace

Result<Matcher> Matcher::make(std::string name, MatchOp op, std::string value) {
    if (!isValidLabelName(name)) {
        return Error{
            fmt::format("\"{}\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", name)};
    }
    Matcher m;
    m.name_ = std::move(name);
    m.op_ = op;
    m.value_ = std::move(value);
    if (op == MatchOp::kRegex || op == MatchOp::kNotRegex) {
        RE2::Options opts;
        opts.set_log_errors(false);
        if (RE2 plain(m.value_, opts); !plain.ok()) {
            return Error{fmt::format("invalid regex \"{}\": {}", m.value_, plain.error())};
        }
        auto re = std::make_shared<const RE2>("^(?:" + m.value_ + ")$", opts);
        m.re_ = std::move(re);
    }
    return m;
}

bool Matcher::matchesValue(std::string_view value) const {
    switch (op_) {
        case MatchOp::kEqual:
            return value == value_;
        case MatchOp::kNotEqual:
            return value != value_;
        case MatchOp::kRegex:
            return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
        case MatchOp::kNotRegex:
            return !RE2::FullMatch(re2::StringPiece(value.data(), value.size()), *re_);
    }
    return false;
}

bool Matcher::matches(const LabelSet& labels) const {
    const std::string* v = labels.get(name_);
    return matchesValue(v == nullptr ? std::string_view() : std::string_view(*v));
}

std::string Matcher::toString() const {
    std::string out = name_;
    out += opText(op_);
    out.push_back('"');
    for (char c : value_) {
        if (c == '"' || c == '\\') {
            // A backslash that starts a regex escape was kept as written; only quote and a
            // lone backslash need escaping to read back the same.
            out.push_back('\\');
        } else if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

Result<std::vector<Matcher>> parseMatchers(std::string_view text) {
    std::vector<Matcher> out;
    std::size_t i = 0;
    skipSpace(text, i);
    bool braces = i < text.size() && text[i] == '{';
    if (braces) ++i;
    for (;;) {
        skipSpace(text, i);
        if (braces && i >= text.size()) return Error{"missing closing brace"};
        if (i >= text.size() || (braces && text[i] == '}')) {
            if (!out.empty() || braces) break;
            return Error{"expected a matcher such as alertname=\"Watchdog\""};
        }
        std::string name;
        if (text[i] == '"') {
            auto q = readQuoted(text, i);
            if (!q) return Error{q.error()};
            name = std::move(*q);
        } else {
            std::size_t start = i;
            while (i < text.size() &&
                   (std::isalnum(static_cast<unsigned char>(text[i])) != 0 || text[i] == '_')) {
                ++i;
            }
            name = std::string(text.substr(start, i - start));
        }
        skipSpace(text, i);
        MatchOp op{};
        std::string_view rest = text.substr(i);
        if (rest.starts_with("=~")) {
            op = MatchOp::kRegex;
        } else if (rest.starts_with("!~")) {
            op = MatchOp::kNotRegex;
        } else if (rest.starts_with("!=")) {
            op = MatchOp::kNotEqual;
        } else if (rest.starts_with("=")) {
            op = MatchOp::kEqual;
        } else {
            if (name.empty()) {
                return Error{fmt::format("expected a label name at \"{}\"", rest)};
            }
            return Error{
                fmt::format("expected one of = != =~ !~ after \"{}\", got \"{}\"", name, rest)};
        }
        i += opText(op).size();
        skipSpace(text, i);
        std::string value;
        if (i < text.size() && text[i] == '"') {
            auto q = readQuoted(text, i);
            if (!q) return Error{q.error()};
            value = std::move(*q);
        } else {
            std::size_t start = i;
            while (i < text.size() && text[i] != ',' && !(braces && text[i] == '}')) ++i;
            std::string_view bare = text.substr(start, i - start);
            while (!bare.empty() && isSpace(bare.back())) bare.remove_suffix(1);
            if (bare.find('"') != std::string_view::npos) {
                return Error{fmt::format("stray quote in value \"{}\"", bare)};
            }
            value = std::string(bare);
        }
        auto m = Matcher::make(std::move(name), op, std::move(value));
        if (!m) return Error{m.error()};
        out.push_back(std::move(*m));
        skipSpace(text, i);
        if (i < text.size() && text[i] == ',') {
            ++i;
            continue;
        }
        if (braces && i < text.size() && text[i] == '}') break;
        if (braces && i >= text.size()) return Error{"missing closing brace"};
        if (i < text.size()) {
            return Error{
                fmt::format("unexpected \"{}\" after {}", text.substr(i), out.back().toString())};
        }
        break;
    }
    if (braces) {
        ++i;  // the closing brace
        skipSpace(text, i);
        if (i < text.size())
            return Error{fmt::format("unexpected \"{}\" after }}", text.substr(i))};
    }
    return out;
}

bool matchesAll(const std::vector<Matcher>& matchers, const LabelSet& labels) {
    for (const auto& m : matchers) {
        if (!m.matches(labels)) return false;
    }
    return true;
}

}  // namespace alertbridge::core
