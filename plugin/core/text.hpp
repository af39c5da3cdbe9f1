#pragma once
// ASCII helpers for protocol words and data fields: case folding (SMTP verbs, charset
// labels, severity words) and trimming. Bytes >= 0x80 are left alone, so UTF-8 text
// passes through unchanged. Pure.

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace alertbridge::core {

inline std::string asciiLower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

inline std::string asciiUpper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

// `s` without the leading and trailing bytes that are in `chars`.
inline std::string_view trim(std::string_view s, std::string_view chars = " \t") {
    auto first = s.find_first_not_of(chars);
    if (first == std::string_view::npos) return {};
    return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

}  // namespace alertbridge::core
