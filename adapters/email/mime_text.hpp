#pragma once
// MailText: what the rule engine reads from one raw RFC 5322 message. GMime parses the MIME
// structure and undoes transfer encodings; headers go through our own RFC 2047 decoder
// (header_decode.hpp), bodies through body_charset.hpp (the label checked against the
// bytes). The body's key/value pairs are found once, here, for every pack to read. HTML is
// read with libxml2 (html_text.hpp) when there is no text part or the text part is a stub.
// Attachments are skipped and counted. parseMail() is safe from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/email/mail_pairs.hpp"
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
    MailPairs pairs;                    // the body's key/value pairs, found once (mail_pairs.hpp)
    std::vector<std::string> warnings;  // e.g. a charset label the bytes overruled
};

core::Result<MailText> parseMail(std::string_view raw);

}  // namespace alertbridge::email
