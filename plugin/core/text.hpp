#pragma once
// ASCII case folding for protocol words (SMTP verbs, charset labels, severity words).
// Bytes >= 0x80 are left alone, so UTF-8 text passes through unchanged. Pure.

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

}  // namespace alertbridge::core
