// The helpers rule packs share at compile and apply time: trimming, patterns shortened for
// explanations, the field names a mustache template refers to, and rendering a template.
#include <algorithm>

#include "adapters/email/rule_pack_model.hpp"

namespace alertbridge::email {

namespace pack {

std::string trim(std::string_view s) {
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && ws(s.back())) s.remove_suffix(1);
    return std::string(s);
}

std::string shown(std::string_view pattern) {
    constexpr std::size_t kMax = 60;
    if (pattern.size() <= kMax) return std::string(pattern);
    std::size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(pattern[n]) & 0xC0) == 0x80) --n;
    return std::string(pattern.substr(0, n)) + "…";
}

std::vector<std::string> templateNames(const std::string& text) {
    static const RE2 kTag(R"(\{\{\{?\s*([#^/&]?)\s*([^{}!>=\s][^{}\s]*)\s*\}?\}\})");
    std::vector<std::string> out;
    re2::StringPiece input(text);
    std::string kind, name;
    while (RE2::FindAndConsume(&input, kTag, &kind, &name)) {
        if (kind != "/") out.push_back(name);
    }
    return out;
}

std::string render(const std::string& text, const kainjow::mustache::data& data) {
    // Most templates are a bare "{{field}}" or plain text: those need no mustache parse.
    if (text.find("{{") == std::string::npos) return trim(text);
    if (text.size() > 4 && text.starts_with("{{") && text.ends_with("}}") &&
        std::all_of(text.begin() + 2, text.end() - 2, [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_';
        })) {
        const auto* v = data.get(text.substr(2, text.size() - 4));
        return v != nullptr && v->is_string() ? trim(v->string_value()) : std::string();
    }
    kainjow::mustache::mustache m{text};
    m.set_custom_escape([](const std::string& s) { return s; });
    return trim(m.render(data));
}

}  // namespace pack

}  // namespace alertbridge::email
