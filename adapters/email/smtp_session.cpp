#include "adapters/email/smtp_session.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "plugin/core/auth.hpp"
#include "plugin/core/text.hpp"

namespace alertbridge::email {
namespace {

using core::trim;

// "FROM:<a@b> SIZE=10" with `prefix` "FROM:": the address (without brackets) and the
// parameters. False on a syntax error.
bool parsePath(std::string_view arg, std::string_view prefix, std::string& address,
               std::string_view& params) {
    if (arg.size() < prefix.size() || core::asciiUpper(arg.substr(0, prefix.size())) != prefix)
        return false;
    arg = trim(arg.substr(prefix.size()));
    if (arg.empty() || arg.front() != '<') return false;
    auto close = arg.find('>');
    if (close == std::string_view::npos) return false;
    address = std::string(arg.substr(1, close - 1));
    if (address.find_first_of(" \t<") != std::string::npos) return false;
    params = trim(arg.substr(close + 1));
    return true;
}

}  // namespace

SmtpSession::SmtpSession(SmtpOptions options) : options_(std::move(options)) {
    reply(fmt::format("220 {} ESMTP alertbridge ready", options_.hostname));
}

void SmtpSession::reply(std::string_view text) {
    out_.append(text);
    out_.append("\r\n");
}

void SmtpSession::error(std::string_view text) {
    reply(text);
    if (++errors_ >= options_.max_errors) {
        reply("421 4.7.0 Too many errors; closing the connection");
        state_ = State::kClosed;
    }
}

void SmtpSession::resetEnvelope() {
    has_mail_ = false;
    std::string helo = std::move(msg_.helo);
    msg_ = SmtpMessage{};
    msg_.helo = std::move(helo);
    data_bytes_ = 0;
    data_too_large_ = false;
}

std::string SmtpSession::takeOutput() {
    std::string out;
    out.swap(out_);
    return out;
}

std::optional<SmtpMessage> SmtpSession::takeMessage() {
    auto m = std::move(ready_);
    ready_.reset();
    return m;
}

void SmtpSession::feed(std::string_view bytes) {
    if (state_ == State::kClosed) return;
    in_.append(bytes);
    process();
}

void SmtpSession::messageStored(const std::string& queue_id, const std::string& error, bool full) {
    if (state_ != State::kWaitStore) return;
    if (error.empty()) {
        reply(fmt::format("250 2.0.0 OK: queued as {}", queue_id));
    } else if (full) {
        reply(fmt::format("452 4.3.1 Insufficient system storage; try again later: {}", error));
    } else {
        reply(fmt::format("451 4.3.0 The message was not stored; try again later: {}", error));
    }
    resetEnvelope();
    state_ = State::kCommand;
    process();  // pipelined commands that arrived meanwhile
}

void SmtpSession::process() {
    std::size_t pos = 0;
    while (state_ == State::kCommand || state_ == State::kData) {
        auto nl = in_.find('\n', pos);
        if (nl == std::string::npos) break;
        std::string_view line(in_.data() + pos, nl - pos);
        pos = nl + 1;
        bool crlf = !line.empty() && line.back() == '\r';
        if (crlf) line.remove_suffix(1);
        if (state_ == State::kCommand && auth_step_ != AuthStep::kNone) {
            authResponse(line);
        } else if (state_ == State::kCommand) {
            command(line);
        } else {
            dataLine(line, crlf);
        }
    }
    in_.erase(0, pos);
    if (state_ == State::kCommand && in_.size() > options_.max_command_line) {
        in_.clear();
        error("500 5.5.2 Line too long");
    } else if (state_ == State::kData && in_.size() > options_.max_message_bytes) {
        // One endless line: count it, keep nothing, and wait for the terminator.
        data_too_large_ = true;
        in_.clear();
        prev_crlf_ = false;
    }
}

void SmtpSession::dataLine(std::string_view line, bool crlf) {
    if (line == "." && crlf && prev_crlf_) {
        state_ = State::kCommand;
        if (data_too_large_) {
            reply(fmt::format("552 5.3.4 The message exceeds the size limit of {} bytes",
                              options_.max_message_bytes));
            resetEnvelope();
            return;
        }
        ready_ = std::move(msg_);
        msg_ = SmtpMessage{};
        msg_.helo = ready_->helo;
        state_ = State::kWaitStore;
        return;
    }
    // Dot-unstuffing. A lone "." next to a bare LF is content, not the end (smuggling).
    if (line.size() > 1 && line.front() == '.') line.remove_prefix(1);
    prev_crlf_ = crlf;
    data_bytes_ += line.size() + 2;
    if (data_bytes_ > options_.max_message_bytes) {
        data_too_large_ = true;
        msg_.data.clear();
        msg_.data.shrink_to_fit();
        return;
    }
    if (data_too_large_) return;
    msg_.data.append(line);
    msg_.data.append("\r\n");
}

void SmtpSession::command(std::string_view line) {
    if (line.size() > options_.max_command_line) {
        error("500 5.5.2 Line too long");
        return;
    }
    auto space = line.find(' ');
    std::string verb = core::asciiUpper(line.substr(0, space));
    std::string_view arg = space == std::string_view::npos ? "" : trim(line.substr(space + 1));

    if (verb == "HELO" || verb == "EHLO") {
        if (arg.empty()) {
            error(fmt::format("501 5.5.4 Syntax: {} hostname", verb));
            return;
        }
        resetEnvelope();
        greeted_ = true;
        msg_.helo = std::string(arg);
        if (verb == "HELO") {
            reply(fmt::format("250 {}", options_.hostname));
        } else {
            reply(fmt::format("250-{} greets {}", options_.hostname, arg));
            if (options_.tls_available && !tls_active_) reply("250-STARTTLS");
            if (options_.authenticate && tls_active_) reply("250-AUTH PLAIN LOGIN");
            reply("250-PIPELINING");
            reply(fmt::format("250-SIZE {}", options_.max_message_bytes));
            reply("250-8BITMIME");
            reply("250 ENHANCEDSTATUSCODES");
        }
    } else if (verb == "MAIL") {
        if (!greeted_) {
            error("503 5.5.1 Send EHLO or HELO first");
            return;
        }
        if (has_mail_) {
            error("503 5.5.1 Nested MAIL command");
            return;
        }
        if (options_.require_auth && user_.empty()) {
            error(tls_active_ || !options_.tls_available
                      ? "530 5.7.0 Authentication required"
                      : "530 5.7.0 Must issue a STARTTLS command first");
            return;
        }
        std::string address;
        std::string_view params;
        if (!parsePath(arg, "FROM:", address, params)) {
            error("501 5.5.4 Syntax: MAIL FROM:<address>");
            return;
        }
        while (!params.empty()) {
            auto sp = params.find(' ');
            std::string p = core::asciiUpper(params.substr(0, sp));
            params = sp == std::string_view::npos ? "" : trim(params.substr(sp + 1));
            if (p.rfind("SIZE=", 0) == 0) {
                std::size_t size = 0;
                auto v = std::string_view(p).substr(5);
                auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), size);
                if (ec != std::errc() || end != v.data() + v.size()) {
                    error("501 5.5.4 Syntax: SIZE=<number>");
                    return;
                }
                if (size > options_.max_message_bytes) {
                    error(fmt::format("552 5.3.4 The message exceeds the size limit of {} bytes",
                                      options_.max_message_bytes));
                    return;
                }
            } else if (p != "BODY=8BITMIME" && p != "BODY=7BIT") {
                error(fmt::format("555 5.5.4 Unsupported MAIL parameter {}", p));
                return;
            }
        }
        has_mail_ = true;
        msg_.mail_from = address;
        reply("250 2.1.0 OK");
    } else if (verb == "RCPT") {
        if (!has_mail_) {
            error("503 5.5.1 Need MAIL before RCPT");
            return;
        }
        std::string address;
        std::string_view params;
        if (!parsePath(arg, "TO:", address, params) || address.empty()) {
            error("501 5.5.4 Syntax: RCPT TO:<address>");
            return;
        }
        if (msg_.rcpt_to.size() >= options_.max_recipients) {
            reply("452 4.5.3 Too many recipients");
            return;
        }
        if (options_.accept_recipient && !options_.accept_recipient(address)) {
            error(fmt::format("550 5.1.1 Recipient not accepted here: <{}>", address));
            return;
        }
        msg_.rcpt_to.push_back(address);
        reply("250 2.1.5 OK");
    } else if (verb == "DATA") {
        if (!has_mail_ || msg_.rcpt_to.empty()) {
            error("503 5.5.1 Need MAIL and RCPT before DATA");
            return;
        }
        if (!arg.empty()) {
            error("501 5.5.4 Syntax: DATA");
            return;
        }
        if (options_.accept_data && !options_.accept_data()) {
            reply("452 4.3.1 Insufficient system storage; try again later");
            return;
        }
        state_ = State::kData;
        prev_crlf_ = true;
        data_bytes_ = 0;
        data_too_large_ = false;
        reply("354 End data with <CR><LF>.<CR><LF>");
    } else if (verb == "RSET") {
        resetEnvelope();
        reply("250 2.0.0 OK");
    } else if (verb == "NOOP") {
        reply("250 2.0.0 OK");
    } else if (verb == "QUIT") {
        reply(fmt::format("221 2.0.0 {} closing connection", options_.hostname));
        state_ = State::kClosed;
    } else if (verb == "VRFY") {
        reply("252 2.5.0 Cannot VRFY user, but will accept the message");
    } else if (verb == "HELP") {
        reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY");
    } else if (verb == "STARTTLS") {
        if (!options_.tls_available) {
            error("454 4.7.0 TLS is not available");
        } else if (tls_active_) {
            error("503 5.5.1 TLS is already active");
        } else if (!arg.empty()) {
            error("501 5.5.4 Syntax: STARTTLS");
        } else {
            reply("220 2.0.0 Ready to start TLS");
            state_ = State::kStartTls;
        }
    } else if (verb == "AUTH" && options_.authenticate) {
        auth(arg);
    } else if (verb == "AUTH" || verb == "BDAT" || verb == "ETRN" || verb == "EXPN") {
        error(fmt::format("502 5.5.1 {} is not implemented", verb));
    } else if (verb.empty()) {
        error("500 5.5.2 Empty command");
    } else {
        error("500 5.5.2 Command not recognized");
    }
}

void SmtpSession::tlsStarted() {
    if (state_ != State::kStartTls) return;
    in_.clear();  // anything pipelined after STARTTLS came in clear: drop it
    tls_active_ = true;
    greeted_ = false;
    user_.clear();
    resetEnvelope();
    msg_.helo.clear();
    state_ = State::kCommand;
}

void SmtpSession::auth(std::string_view arg) {
    if (!tls_active_) {
        error("538 5.7.11 Encryption required: use STARTTLS before AUTH");
        return;
    }
    if (!greeted_) {
        error("503 5.5.1 Send EHLO first");
        return;
    }
    if (!user_.empty()) {
        error("503 5.5.1 Already authenticated");
        return;
    }
    if (has_mail_) {
        error("503 5.5.1 AUTH is not allowed during a mail transaction");
        return;
    }
    auto space = arg.find(' ');
    std::string mechanism = core::asciiUpper(arg.substr(0, space));
    std::string_view initial = space == std::string_view::npos ? "" : trim(arg.substr(space + 1));
    if (mechanism == "PLAIN") {
        auth_step_ = AuthStep::kPlain;
        if (initial.empty()) {
            reply("334 ");
        } else {
            authResponse(initial == "=" ? "" : initial);
        }
    } else if (mechanism == "LOGIN") {
        auth_step_ = AuthStep::kLoginUser;
        if (initial.empty()) {
            reply("334 VXNlcm5hbWU6");  // "Username:"
        } else {
            authResponse(initial);
        }
    } else {
        error("504 5.5.4 Unrecognized authentication type; use PLAIN or LOGIN");
    }
}

void SmtpSession::authResponse(std::string_view line) {
    if (line == "*") {
        auth_step_ = AuthStep::kNone;
        error("501 5.7.0 Authentication cancelled");
        return;
    }
    auto decoded = core::base64Decode(line);
    if (!decoded) {
        auth_step_ = AuthStep::kNone;
        error("501 5.5.2 Cannot decode the response (base64 expected)");
        return;
    }
    switch (auth_step_) {
        case AuthStep::kPlain: {
            // authzid NUL authcid NUL password
            auto first = decoded->find('\0');
            auto second = first == std::string::npos ? first : decoded->find('\0', first + 1);
            auth_step_ = AuthStep::kNone;
            if (second == std::string::npos) {
                error("501 5.5.2 Malformed PLAIN response");
                return;
            }
            finishAuth(std::string_view(*decoded).substr(first + 1, second - first - 1),
                       std::string_view(*decoded).substr(second + 1));
            return;
        }
        case AuthStep::kLoginUser:
            auth_user_ = *decoded;
            auth_step_ = AuthStep::kLoginPassword;
            reply("334 UGFzc3dvcmQ6");  // "Password:"
            return;
        case AuthStep::kLoginPassword:
            auth_step_ = AuthStep::kNone;
            finishAuth(auth_user_, *decoded);
            auth_user_.clear();
            return;
        case AuthStep::kNone:
            return;
    }
}

void SmtpSession::finishAuth(std::string_view user, std::string_view password) {
    if (!user.empty() && options_.authenticate(user, password)) {
        user_ = std::string(user);
        reply("235 2.7.0 Authentication successful");
    } else {
        error("535 5.7.8 Authentication credentials invalid");
    }
}

}  // namespace alertbridge::email
