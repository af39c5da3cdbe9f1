#include "adapters/email/mime_text.hpp"

#include <gmime/gmime.h>

#include <cctype>
#include <mutex>

#include <fmt/format.h>

#include "adapters/email/body_charset.hpp"
#include "adapters/email/header_decode.hpp"
#include "adapters/email/html_text.hpp"

namespace alertbridge::email {
namespace {

void initGmime() {
    static std::once_flag once;
    std::call_once(once, [] { g_mime_init(); });
}

// Owns one GObject reference.
template <typename T>
struct GRef {
    T* p = nullptr;
    explicit GRef(T* ptr) : p(ptr) {}
    GRef(const GRef&) = delete;
    GRef& operator=(const GRef&) = delete;
    ~GRef() {
        if (p != nullptr) g_object_unref(p);
    }
};

std::string rawHeader(GMimeObject* obj, const char* name) {
    GMimeHeaderList* list = g_mime_object_get_header_list(obj);
    GMimeHeader* h = list ? g_mime_header_list_get_header(list, name) : nullptr;
    const char* raw = h ? g_mime_header_get_raw_value(h) : nullptr;
    return raw ? raw : "";
}

std::string trim(std::string s) {
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(s.back())) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && ws(s[i])) ++i;
    return s.substr(i);
}

struct Walk {
    std::string plain;
    std::string html;
    bool have_plain = false;
    bool have_html = false;
    int attachments = 0;
    std::vector<std::string> attachment_names;
    std::vector<std::string> warnings;
};

std::string partText(GMimePart* part, bool html, std::vector<std::string>& warnings) {
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (content == nullptr) return "";
    GRef<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(content, mem.p);  // transfer encoding undone
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.p));
    std::string_view data(reinterpret_cast<const char*>(bytes->data), bytes->len);
    const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    auto decoded = decodeText(data, charset != nullptr ? charset : "", html);
    if (!decoded.warning.empty()) {
        warnings.push_back(
            fmt::format("{} part: {}", html ? "text/html" : "text/plain", decoded.warning));
    }
    return std::move(decoded.text);
}

void visit(GMimeObject* /*parent*/, GMimeObject* obj, gpointer data) {
    auto* walk = static_cast<Walk*>(data);
    if (!GMIME_IS_PART(obj)) return;
    auto* part = GMIME_PART(obj);
    if (g_mime_part_is_attachment(part)) {
        ++walk->attachments;
        if (const char* name = g_mime_part_get_filename(part); name != nullptr && *name != '\0') {
            walk->attachment_names.push_back(decodeHeader(name));
        }
        return;
    }
    GMimeContentType* type = g_mime_object_get_content_type(obj);
    if (g_mime_content_type_is_type(type, "text", "plain") && !walk->have_plain) {
        walk->plain = partText(part, false, walk->warnings);
        walk->have_plain = true;
    } else if (g_mime_content_type_is_type(type, "text", "html") && !walk->have_html) {
        walk->html = partText(part, true, walk->warnings);
        walk->have_html = true;
    } else if (!g_mime_content_type_is_type(type, "text", "*")) {
        ++walk->attachments;  // an inline image or file: not text we can read
    }
}

}  // namespace

namespace {

// CRLF and lone CR become LF, so that rules and readers see one line ending.
std::string unixLines(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
            out.push_back('\n');
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

}  // namespace

core::Result<MailText> parseMail(std::string_view raw) {
    initGmime();
    GRef<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
    GRef<GMimeParser> parser(g_mime_parser_new_with_stream(stream.p));
    GRef<GMimeMessage> msg(g_mime_parser_construct_message(parser.p, nullptr));
    if (msg.p == nullptr) return core::Error{"not an RFC 5322 message"};
    auto* obj = GMIME_OBJECT(msg.p);

    MailText mail;
    mail.subject = trim(decodeHeader(rawHeader(obj, "Subject")));
    mail.from = trim(decodeHeader(rawHeader(obj, "From")));
    mail.return_path = trim(rawHeader(obj, "Return-Path"));
    mail.message_id = trim(rawHeader(obj, "Message-ID"));
    // A Date outside 1970-2200 is a broken clock or a forgery; times are held in
    // nanoseconds, which end in 2262. Such a message is treated as having no Date.
    constexpr gint64 kLatest = 7258118400;  // 2200-01-01T00:00:00Z
    if (GDateTime* date = g_mime_message_get_date(msg.p);
        date != nullptr && g_date_time_to_unix(date) >= 0 && g_date_time_to_unix(date) < kLatest) {
        mail.date = core::TimePoint(std::chrono::seconds(g_date_time_to_unix(date)));
        mail.date_offset_minutes =
            static_cast<int>(g_date_time_get_utc_offset(date) / G_TIME_SPAN_MINUTE);
    }

    Walk walk;
    GMimeObject* body = g_mime_message_get_mime_part(msg.p);
    if (body != nullptr) {
        if (GMIME_IS_MULTIPART(body)) {
            g_mime_multipart_foreach(GMIME_MULTIPART(body), visit, &walk);
        } else {
            visit(nullptr, body, &walk);
        }
    }
    mail.attachments = walk.attachments;
    mail.attachment_names = std::move(walk.attachment_names);
    mail.warnings = std::move(walk.warnings);
    if (walk.have_plain) {
        mail.body = unixLines(walk.plain);
        addTextPairs(mail.body, mail.pairs);
    }
    // The HTML alternative is read when there is no text part, or when the text part has
    // fewer pairs than it (a "view this mail in HTML" stub, or a table flattened badly).
    if (walk.have_html && (!walk.have_plain || mail.pairs.size() < 3)) {
        MailPairs html_pairs;
        std::string text = readHtml(walk.html, &html_pairs);
        if (!walk.have_plain || html_pairs.size() > mail.pairs.size()) {
            mail.body = std::move(text);
            mail.pairs = std::move(html_pairs);
            mail.body_from_html = true;
        }
    }
    return mail;
}

}  // namespace alertbridge::email
