#pragma once
// Header decoding (RFC 2047 encoded-words and raw 8-bit text) to UTF-8. Our own, because
// Debian's GMime 3.2.13 truncates some subjects split across encoded-words. Character
// sets are converted by iconv; gb2312 and gbk are read as GB18030 (their superset), and
// UTF8 is taken as UTF-8. Pure; safe from any thread.

#include <optional>
#include <string>
#include <string_view>

namespace alertbridge::email {

// Converts `bytes` in `charset` to UTF-8; nullopt for an unknown charset or bad bytes.
std::optional<std::string> toUtf8(std::string_view bytes, std::string_view charset);

// Whether `s` is well-formed UTF-8 (structure only; overlong forms are not checked).
bool validUtf8(std::string_view s);

// The name iconv knows a mail charset label by: gb2312/gbk/cp936 -> GB18030, utf8 -> UTF-8.
std::string canonicalCharset(std::string_view label);

// Text without a declared charset: UTF-8 if it is valid UTF-8, else GB18030, else the bytes
// with invalid sequences replaced by U+FFFD.
std::string guessToUtf8(std::string_view bytes);

// A header value as it appears in the message (folded or not) -> UTF-8 text. Adjacent
// encoded-words are joined (whitespace between them dropped), and the bytes of neighbours
// in the same charset are joined before conversion, so a character split across two words
// survives. Malformed words are kept as written.
std::string decodeHeader(std::string_view raw);

// Removes folding (CRLF or LF followed by space or tab).
std::string unfold(std::string_view raw);

}  // namespace alertbridge::email
