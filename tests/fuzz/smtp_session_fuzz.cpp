// Fuzz target: the SMTP dialogue state machine. The input is cut into chunks (sizes taken
// from the input itself) and fed as a client would send it; every stored message is
// acknowledged or failed in turn. Invariants: every reply line is "ddd" + text + CRLF, a
// closed session stays closed, and no message is larger than the limit.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "adapters/email/smtp_session.hpp"

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void checkReplies(std::string_view out) {
    while (!out.empty()) {
        auto end = out.find("\r\n");
        check(end != std::string_view::npos);
        auto line = out.substr(0, end);
        check(line.size() >= 3 && line[0] >= '2' && line[0] <= '5' && line[1] >= '0' &&
              line[1] <= '9' && line[2] >= '0' && line[2] <= '9');
        check(line.size() == 3 || line[3] == ' ' || line[3] == '-');
        out.remove_prefix(end + 2);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    alertbridge::email::SmtpOptions options;
    options.max_message_bytes = 4096;
    options.max_recipients = 3;
    options.max_command_line = 512;
    options.accept_recipient = [](std::string_view a) { return a.find("bad") == a.npos; };
    options.tls_available = true;
    options.authenticate = [](std::string_view u, std::string_view p) {
        return u == "u" && p == "p";
    };
    options.require_auth = size > 0 && (data[0] & 1) != 0;
    alertbridge::email::SmtpSession session(options);
    checkReplies(session.takeOutput());
    std::string_view input(reinterpret_cast<const char*>(data), size);
    bool ok_next = true;
    while (!input.empty() && !session.closed()) {
        std::size_t n = 1 + static_cast<unsigned char>(input.front()) % 64;
        input.remove_prefix(1);
        n = std::min(n, input.size());
        session.feed(input.substr(0, n));
        input.remove_prefix(n);
        while (auto m = session.takeMessage()) {
            check(m->data.size() <= options.max_message_bytes);
            check(!m->rcpt_to.empty() && m->rcpt_to.size() <= options.max_recipients);
            session.messageStored(ok_next ? "q1" : "", ok_next ? "" : "store unavailable");
            ok_next = !ok_next;
        }
        checkReplies(session.takeOutput());
        if (session.wantsTls()) session.tlsStarted();  // as the shell does after the handshake
    }
    if (session.closed()) {
        session.feed("NOOP\r\n");
        check(session.takeOutput().empty());
    }
    return 0;
}
