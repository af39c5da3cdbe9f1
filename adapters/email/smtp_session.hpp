#pragma once
// SmtpSession: the SMTP dialogue (the RFC 5321 subset appliances use) as a state machine
// with no I/O. Bytes go in through feed(); replies come out of takeOutput(). When a
// message is complete, takeMessage() hands it over and the session pauses (pipelined
// input stays buffered) until messageStored() says whether it is durable: only then does
// the client get 250, or 451 so that it retries. One session per connection; not
// thread-safe. The transport shell (later) only moves bytes and enforces timeouts.
//
// DATA ends only on <CRLF>.<CRLF>: a "." line next to a bare LF is message content, which
// closes the SMTP smuggling hole. Bare LF inside a message is tolerated, lines longer than
// 1000 bytes are accepted, and leading dots are unstuffed.

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alertbridge::email {

struct SmtpOptions {
    std::string hostname = "alertbridge";
    std::size_t max_message_bytes = std::size_t{32} * 1024 * 1024;  // SIZE, 552 above it
    std::size_t max_recipients = 100;
    std::size_t max_command_line = 4096;
    std::size_t max_errors = 10;  // then 421 and close
    // Decides whether a recipient is accepted (550 otherwise). Empty: accept all.
    std::function<bool(std::string_view address)> accept_recipient;
    // Whether a message body may be taken now (452 at DATA otherwise, and the client keeps
    // the message): the daemon says no while its intake byte bound is full, so no body is
    // read only to be refused. Empty: always.
    std::function<bool()> accept_data;
    // STARTTLS is offered when the transport can do TLS (a certificate is configured).
    bool tls_available = false;
    // Checks AUTH PLAIN/LOGIN credentials. Empty: AUTH is not offered. AUTH is offered and
    // accepted only once TLS is active, so that passwords never cross the wire in clear.
    std::function<bool(std::string_view user, std::string_view password)> authenticate;
    bool require_auth = false;  // MAIL needs a successful AUTH first (530 otherwise)
};

struct SmtpMessage {
    std::string helo;
    std::string mail_from;
    std::vector<std::string> rcpt_to;
    std::string data;  // the message as received, lines ending in CRLF, dots unstuffed
};

class SmtpSession {
  public:
    explicit SmtpSession(SmtpOptions options);

    // The 220 greeting, queued at construction.
    void feed(std::string_view bytes);
    std::string takeOutput();
    // A complete message, once; the session then waits for messageStored().
    std::optional<SmtpMessage> takeMessage();
    // `error` empty: durable, reply 250. Otherwise reply 451 with it (or 452 when `full`:
    // a byte bound is reached); either way the client keeps the message and retries.
    void messageStored(const std::string& queue_id, const std::string& error, bool full = false);
    bool closed() const { return state_ == State::kClosed; }
    bool waitingForStore() const { return state_ == State::kWaitStore; }
    // STARTTLS was accepted: once its 220 is written, the transport starts TLS and calls
    // tlsStarted(). Input after the STARTTLS line is discarded (no command injection), and
    // the client must greet again (RFC 3207).
    bool wantsTls() const { return state_ == State::kStartTls; }
    void tlsStarted();
    bool tlsActive() const { return tls_active_; }
    const std::string& authenticatedUser() const { return user_; }

  private:
    enum class State { kCommand, kData, kWaitStore, kStartTls, kClosed };
    enum class AuthStep { kNone, kPlain, kLoginUser, kLoginPassword };

    void process();
    void command(std::string_view line);
    void dataLine(std::string_view line, bool crlf);
    void reply(std::string_view text);
    void error(std::string_view text);
    void resetEnvelope();
    void auth(std::string_view arg);
    void authResponse(std::string_view line);
    void finishAuth(std::string_view user, std::string_view password);

    SmtpOptions options_;
    State state_ = State::kCommand;
    std::string in_;  // unprocessed input
    std::string out_;
    bool greeted_ = false;  // HELO or EHLO seen
    bool has_mail_ = false;
    SmtpMessage msg_;
    std::optional<SmtpMessage> ready_;
    std::size_t data_bytes_ = 0;
    bool data_too_large_ = false;
    bool prev_crlf_ = true;  // the previous data line ended with CRLF
    std::size_t errors_ = 0;
    bool tls_active_ = false;
    AuthStep auth_step_ = AuthStep::kNone;
    std::string auth_user_;  // LOGIN: the user name while the password is asked for
    std::string user_;       // set once AUTH succeeded
};

}  // namespace alertbridge::email
