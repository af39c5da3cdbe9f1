#include "adapters/email/mime_text.hpp"

#include <gmime/gmime.h>

#include <cctype>
#include <mutex>

#include "adapters/email/header_decode.hpp"

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
};

std::string partText(GMimePart* part) {
    GMimeDataWrapper* content = g_mime_part_get_content(part);
    if (content == nullptr) return "";
    GRef<GMimeStream> mem(g_mime_stream_mem_new());
    g_mime_data_wrapper_write_to_stream(content, mem.p);  // transfer encoding undone
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.p));
    std::string_view data(reinterpret_cast<const char*>(bytes->data), bytes->len);
    const char* charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    if (charset != nullptr && *charset != '\0') {
        if (auto text = toUtf8(data, charset)) return *text;
    }
    return guessToUtf8(data);  // no or wrong label: UTF-8, else GB18030
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
        walk->plain = partText(part);
        walk->have_plain = true;
    } else if (g_mime_content_type_is_type(type, "text", "html") && !walk->have_html) {
        walk->html = partText(part);
        walk->have_html = true;
    } else if (!g_mime_content_type_is_type(type, "text", "*")) {
        ++walk->attachments;  // an inline image or file: not text we can read
    }
}

// Named and numeric character references.
std::string decodeEntity(std::string_view name) {
    static const std::pair<std::string_view, std::string_view> kNamed[] = {
        {"amp", "&"},  {"lt", "<"},   {"gt", ">"},   {"quot", "\""},  {"apos", "'"},
        {"nbsp", " "}, {"ensp", " "}, {"emsp", " "}, {"middot", "·"}, {"copy", "©"},
    };
    for (auto [n, v] : kNamed) {
        if (name == n) return std::string(v);
    }
    if (name.size() > 1 && name[0] == '#') {
        unsigned long cp = 0;
        try {
            cp = (name[1] == 'x' || name[1] == 'X')
                     ? std::stoul(std::string(name.substr(2)), nullptr, 16)
                     : std::stoul(std::string(name.substr(1)));
        } catch (const std::exception&) {
            return "";
        }
        std::string out;
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x110000) {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
        return out;
    }
    return "";
}

}  // namespace

std::string htmlToText(std::string_view html) {
    std::string out;
    std::size_t i = 0;
    auto lower_tag = [](std::string_view t) {
        std::string s;
        for (char c : t) {
            if (c == ' ' || c == '>' || c == '/' || c == '\t' || c == '\n' || c == '\r') break;
            s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        return s;
    };
    auto newline = [&out] {
        while (!out.empty() && out.back() == ' ') out.pop_back();
        if (!out.empty() && out.back() != '\n') out += '\n';
    };
    bool cell_open = false;
    while (i < html.size()) {
        char c = html[i];
        if (c == '<') {
            auto close = html.find('>', i);
            if (close == std::string_view::npos) break;
            std::string_view tag = html.substr(i + 1, close - i - 1);
            bool end_tag = !tag.empty() && tag[0] == '/';
            std::string name = lower_tag(end_tag ? tag.substr(1) : tag);
            i = close + 1;
            if (!end_tag && (name == "script" || name == "style")) {
                auto end = html.find("</" + name, i);
                i = end == std::string_view::npos ? html.size() : html.find('>', end) + 1;
                continue;
            }
            if (name == "br" || name == "p" || name == "div" || name == "tr" || name == "li" ||
                name == "table" || name == "h1" || name == "h2" || name == "h3" || name == "h4" ||
                name == "title" || name == "hr") {
                newline();
                cell_open = false;
            } else if ((name == "td" || name == "th") && !end_tag) {
                if (cell_open) {
                    while (!out.empty() && out.back() == ' ') out.pop_back();
                    out += " | ";
                }
                cell_open = true;
            }
            continue;
        }
        if (c == '&') {
            auto semi = html.find(';', i);
            if (semi != std::string_view::npos && semi - i <= 10) {
                auto text = decodeEntity(html.substr(i + 1, semi - i - 1));
                if (!text.empty()) {
                    out += text;
                    i = semi + 1;
                    continue;
                }
            }
        }
        if (c == '\r' || c == '\n' || c == '\t') c = ' ';
        if (c == ' ' && (out.empty() || out.back() == ' ' || out.back() == '\n')) {
            ++i;
            continue;
        }
        out += c;
        ++i;
    }
    return trim(out);
}

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
    if (walk.have_plain) {
        mail.body = unixLines(walk.plain);
    } else if (walk.have_html) {
        mail.body = htmlToText(walk.html);
        mail.body_from_html = true;
    }
    return mail;
}

}  // namespace alertbridge::email
