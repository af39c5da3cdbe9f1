#include "adapters/email/body_charset.hpp"

#include <uchardet.h>

#include <memory>

#include <fmt/format.h>
#include <re2/re2.h>

#include "adapters/email/header_decode.hpp"
#include "plugin/core/text.hpp"

namespace alertbridge::email {
namespace {

bool ascii(std::string_view s) {
    for (char c : s) {
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    }
    return true;
}

// Whether the text has a character of three or more bytes in UTF-8 (CJK, symbols): two-byte
// sequences alone are also what Latin-1 accents followed by a symbol can look like.
bool wideUtf8(std::string_view s) {
    for (char c : s) {
        if ((static_cast<unsigned char>(c) & 0xF0) >= 0xE0) return true;
    }
    return false;
}

bool isUtf8Label(const std::string& canonical) {
    return canonical == "UTF-8" || canonical == "utf-8";
}

std::string guessCharset(std::string_view bytes) {
    std::unique_ptr<std::remove_pointer_t<uchardet_t>, void (*)(uchardet_t)> ud(uchardet_new(),
                                                                                uchardet_delete);
    if (!ud) return "";
    if (uchardet_handle_data(ud.get(), bytes.data(), bytes.size()) != 0) return "";
    uchardet_data_end(ud.get());
    const char* cs = uchardet_get_charset(ud.get());
    return cs != nullptr ? cs : "";
}

// East Asian and Unicode encodings, which libuchardet tells apart from each other well.
bool multiByte(const std::string& charset) {
    std::string c = core::asciiUpper(charset);
    for (std::string_view prefix : {"GB", "BIG5", "SHIFT_JIS", "EUC-", "ISO-2022", "HZ", "UTF-"}) {
        if (c.starts_with(prefix)) return true;
    }
    return false;
}

std::string said(std::string_view label) {
    return label.empty() ? std::string("no charset label") : fmt::format("labelled {}", label);
}

}  // namespace

std::string metaCharset(std::string_view html) {
    static const RE2 kMeta(R"((?i)<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+))");
    std::string cs;
    re2::StringPiece head(html.data(), std::min<std::size_t>(html.size(), 2048));
    if (RE2::PartialMatch(head, kMeta, &cs)) return cs;
    return "";
}

DecodedText decodeText(std::string_view bytes, std::string_view mime_label, bool html) {
    const std::string label = mime_label.empty() ? "" : canonicalCharset(mime_label);
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    if (ascii(bytes)) return DecodedText{std::string(bytes), "us-ascii", ""};
    for (const auto* bom : {"UTF-16LE", "UTF-16BE"}) {
        bool le = bom[6] == 'L';
        if (bytes.size() >= 2 && bytes[0] == (le ? '\xFF' : '\xFE') &&
            bytes[1] == (le ? '\xFE' : '\xFF')) {
            if (auto t = toUtf8(bytes.substr(2), bom)) return DecodedText{*t, bom, ""};
        }
    }
    if (validUtf8(bytes) && (label.empty() || isUtf8Label(label) || wideUtf8(bytes))) {
        std::string warning;
        if (!label.empty() && !isUtf8Label(label)) {
            warning = fmt::format("the part is {}, but its bytes are UTF-8; read as UTF-8",
                                  said(mime_label));
        }
        return DecodedText{std::string(bytes), "UTF-8", std::move(warning)};
    }
    if (!label.empty() && !isUtf8Label(label)) {
        if (auto t = toUtf8(bytes, label)) return DecodedText{std::move(*t), label, ""};
    }
    std::string meta = html ? metaCharset(bytes) : "";
    if (!meta.empty() && canonicalCharset(meta) != label) {
        if (auto t = toUtf8(bytes, meta)) {
            return DecodedText{
                std::move(*t), canonicalCharset(meta),
                fmt::format("the part is {}, but does not decode so; read as {} from its <meta>",
                            said(mime_label), meta)};
        }
    }
    // Unlabelled or mislabelled: libuchardet, except that its guess of a Western single-byte
    // charset loses to GB18030 when the bytes are well-formed GB18030 (short Chinese text
    // is often taken for windows-1252; Latin text rarely decodes as GB18030).
    std::string guess = guessCharset(bytes);
    if (!multiByte(guess) && label != "GB18030") {
        if (auto t = toUtf8(bytes, "GB18030")) {
            std::string warning =
                label.empty()
                    ? ""
                    : fmt::format("the part is {}, but does not decode so; read as GB18030",
                                  said(mime_label));
            return DecodedText{std::move(*t), "GB18030", std::move(warning)};
        }
    }
    if (!guess.empty() && canonicalCharset(guess) != label) {
        if (auto t = toUtf8(bytes, guess)) {
            std::string warning;
            if (!label.empty()) {
                warning =
                    fmt::format("the part is {}, but does not decode so; read as {} (detected)",
                                said(mime_label), guess);
            }
            return DecodedText{std::move(*t), canonicalCharset(guess), std::move(warning)};
        }
    }
    std::string warning =
        label.empty() ? ""
                      : fmt::format("the part is {}, but does not decode so; read as GB18030",
                                    said(mime_label));
    if (label != "GB18030") {
        if (auto t = toUtf8(bytes, "GB18030")) return DecodedText{*t, "GB18030", warning};
    }
    return DecodedText{guessToUtf8(bytes), "",
                       fmt::format("the part ({}) has bytes no charset "
                                   "reads; they are shown as U+FFFD",
                                   said(mime_label))};
}

}  // namespace alertbridge::email
