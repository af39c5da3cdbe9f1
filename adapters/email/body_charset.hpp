#pragma once
// The charset of a text part, decided by the most trustworthy signal, because appliances
// label their mail wrongly: a part labelled gb2312 that holds GB18030-only characters, UTF-8
// labelled GBK, HTML whose <meta charset> disagrees with the MIME header, or no label. In
// order: a byte-order mark; bytes that are well-formed UTF-8 with multi-byte characters
// (text in another charset almost never is); the MIME label, if the bytes decode in it; the
// HTML <meta> charset, if they decode in that; libuchardet's guess; GB18030; and at last the
// bytes with U+FFFD for what cannot be read. gb2312 and gbk are read as GB18030. A decision
// that overrules a label says so in `warning`. Pure; safe from any thread.

#include <string>
#include <string_view>

namespace alertbridge::email {

struct DecodedText {
    std::string text;     // UTF-8
    std::string charset;  // what it was read as
    std::string warning;  // empty when the label was right (or there was none to overrule)
};

DecodedText decodeText(std::string_view bytes, std::string_view mime_label, bool html);

// The charset an HTML document declares in its first 2 KiB (<meta charset=...> or
// <meta http-equiv="Content-Type" content="...; charset=...">), or "".
std::string metaCharset(std::string_view html);

}  // namespace alertbridge::email
