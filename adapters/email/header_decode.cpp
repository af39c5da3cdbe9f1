#include "adapters/email/header_decode.hpp"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <vector>

#include "plugin/core/text.hpp"

namespace alertbridge::email {

std::string canonicalCharset(std::string_view label) {
    std::string c = core::asciiLower(label);
    if (auto star = c.find('*'); star != std::string::npos) c.resize(star);  // RFC 2231 language
    if (c == "utf8") return "UTF-8";
    if (c == "gb2312" || c == "gbk" || c == "x-gbk" || c == "cp936" || c == "euc-cn" ||
        c == "x-euc-cn") {
        return "GB18030";
    }
    if (c == "us-ascii" || c == "ascii") return "UTF-8";  // a subset; 8-bit bytes fail below
    return c;
}

bool validUtf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80           ? 1
                        : (c >> 5) == 0x6  ? 2
                        : (c >> 4) == 0xe  ? 3
                        : (c >> 3) == 0x1e ? 4
                                           : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

namespace {

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> decodeQ(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '_') {
            out += ' ';
        } else if (c == '=') {
            if (i + 2 >= text.size()) return std::nullopt;
            int hi = hexValue(text[i + 1]), lo = hexValue(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> decodeB(std::string_view text) {
    static const std::string kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        if (c == '=') break;
        auto pos = kAlphabet.find(c);
        if (pos == std::string::npos) return std::nullopt;
        buffer = (buffer << 6) | static_cast<unsigned>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((buffer >> bits) & 0xff);
        }
    }
    return out;
}

struct Word {
    std::string charset;  // canonical
    std::string bytes;    // decoded, not yet converted
};

// Parses "=?charset?E?text?=" at `pos`; on success sets `end` past it.
std::optional<Word> parseWord(std::string_view s, std::size_t pos, std::size_t& end) {
    if (s.compare(pos, 2, "=?") != 0) return std::nullopt;
    auto q1 = s.find('?', pos + 2);
    if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') {
        return std::nullopt;
    }
    char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(s[q1 + 1])));
    auto close = s.find("?=", q1 + 3);
    if (close == std::string_view::npos) return std::nullopt;
    auto charset = s.substr(pos + 2, q1 - pos - 2);
    auto text = s.substr(q1 + 3, close - q1 - 3);
    if (charset.empty() || text.find_first_of(" \t") != std::string_view::npos) {
        return std::nullopt;
    }
    std::optional<std::string> bytes = enc == 'B'   ? decodeB(text)
                                       : enc == 'Q' ? decodeQ(text)
                                                    : std::nullopt;
    if (!bytes) return std::nullopt;
    end = close + 2;
    return Word{canonicalCharset(charset), std::move(*bytes)};
}

}  // namespace

std::optional<std::string> toUtf8(std::string_view bytes, std::string_view charset) {
    std::string cs = canonicalCharset(charset);
    if (cs == "UTF-8" || cs == "utf-8") {
        if (!validUtf8(bytes)) return std::nullopt;
        return std::string(bytes);
    }
    iconv_t cd = iconv_open("UTF-8", cs.c_str());
    // iconv_open signals failure with (iconv_t)-1.
    // NOLINTNEXTLINE(performance-no-int-to-ptr)
    if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
    std::string out(bytes.size() * 4 + 16, '\0');
    char* in = const_cast<char*>(bytes.data());
    std::size_t in_left = bytes.size();
    char* dst = out.data();
    std::size_t out_left = out.size();
    std::size_t rc = iconv(cd, &in, &in_left, &dst, &out_left);
    iconv_close(cd);
    if (rc == static_cast<std::size_t>(-1)) return std::nullopt;
    out.resize(out.size() - out_left);
    return out;
}

std::string guessToUtf8(std::string_view bytes) {
    if (validUtf8(bytes)) return std::string(bytes);
    if (auto gb = toUtf8(bytes, "GB18030")) return *gb;
    std::string out;
    for (unsigned char c : bytes) {
        if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            out += "\xEF\xBF\xBD";  // U+FFFD
        }
    }
    return out;
}

std::string unfold(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') continue;
        if (raw[i] == '\n') continue;
        out += raw[i];
    }
    return out;
}

std::string decodeHeader(std::string_view raw_in) {
    std::string raw = unfold(raw_in);
    std::string_view s = raw;
    std::string out;
    std::vector<Word> run;  // adjacent encoded-words not yet converted
    std::string pending_space;
    auto flush = [&] {
        // Join neighbours of one charset so a character split between words survives.
        std::size_t i = 0;
        while (i < run.size()) {
            std::string bytes = run[i].bytes;
            std::size_t j = i + 1;
            while (j < run.size() && run[j].charset == run[i].charset) bytes += run[j++].bytes;
            auto text = toUtf8(bytes, run[i].charset);
            out += text ? *text : guessToUtf8(bytes);
            i = j;
        }
        run.clear();
    };
    std::size_t pos = 0;
    std::string plain;
    while (pos < s.size()) {
        std::size_t end = 0;
        if (auto w = parseWord(s, pos, end)) {
            if (!plain.empty()) {
                out += guessToUtf8(plain);
                plain.clear();
            }
            // Whitespace between two encoded-words is not part of the text.
            if (run.empty()) out += pending_space;
            pending_space.clear();
            run.push_back(std::move(*w));
            pos = end;
            continue;
        }
        char c = s[pos];
        if ((c == ' ' || c == '\t') && !run.empty()) {
            pending_space += c;
            ++pos;
            continue;
        }
        if (!run.empty()) flush();
        if (!pending_space.empty()) {
            plain += pending_space;
            pending_space.clear();
        }
        plain += c;
        ++pos;
    }
    flush();
    out += guessToUtf8(plain);
    out += pending_space;
    return out;
}

}  // namespace alertbridge::email
