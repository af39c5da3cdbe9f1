#pragma once
// MailText: what the rule engine reads from one raw RFC 5322 message. GMime parses the MIME
// structure and undoes transfer encodings; headers go through our own RFC 2047 decoder
// (header_decode.hpp) and bodies through the same charset rules (gb2312/gbk as GB18030; no
// charset: UTF-8, else GB18030). HTML-only mail becomes readable text. Attachments are
// skipped and counted. parseMail() is safe from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"

namespace alertbridge::email {

struct MailText {
    std::string subject;
    std::string from;
    std::string return_path;  // the envelope sender, as the SMTP intake records it
    std::string message_id;
    std::optional<core::TimePoint> date;  // from the Date header, when there is one
    int date_offset_minutes = 0;          // its zone, for times written without one
    std::string body;  // text/plain if any, else text from text/html; lines end in LF
    bool body_from_html = false;
    int attachments = 0;
    std::vector<std::string> attachment_names;  // file names, where the parts give one
};

core::Result<MailText> parseMail(std::string_view raw);

// HTML -> readable text: tags dropped (script and style with their content), block
// elements and rows end lines, table cells are separated by " | ", entities decoded.
std::string htmlToText(std::string_view html);

}  // namespace alertbridge::email
