#pragma once
// Inside adapters/email: the cursor the vendor time and duration readers step through text
// with. Not part of the adapter's interface.

#include <charconv>
#include <cstddef>
#include <string_view>

namespace alertbridge::email::detail {

struct Cursor {
    std::string_view s;
    std::size_t pos = 0;

    bool number(int min_digits, int max_digits, int& out) {
        std::size_t start = pos;
        while (pos < s.size() && pos - start < static_cast<std::size_t>(max_digits) &&
               s[pos] >= '0' && s[pos] <= '9') {
            ++pos;
        }
        if (pos - start < static_cast<std::size_t>(min_digits)) return false;
        std::from_chars(s.data() + start, s.data() + pos, out);
        return true;
    }
    bool take(char c) {
        if (pos < s.size() && s[pos] == c) {
            ++pos;
            return true;
        }
        return false;
    }
    void spaces() {
        while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
    }
    bool done() const { return pos >= s.size(); }
};

}  // namespace alertbridge::email::detail
