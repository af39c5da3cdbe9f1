#pragma once
// SmtpServer: the transport shell around email::SmtpSession. It only moves bytes between
// sockets and sessions, enforces the connection cap and the per-command timeout, and hands
// each complete message to the handler; the session's reply waits for the handler's
// `done`. Owns its I/O thread. The header hides Asio (pimpl).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "adapters/email/smtp_session.hpp"
#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"
#include "plugin/core/url.hpp"

namespace alertbridge::net {

struct SmtpServerOptions {
    core::HostPort listen;
    email::SmtpOptions session;
    std::size_t max_connections = 100;
    core::Duration command_timeout = std::chrono::minutes(5);
    // Decides whether a client address may talk to us (554 and close otherwise). Empty:
    // everyone. Called on the I/O thread with the address as text ("10.1.2.3", "::1").
    std::function<bool(const std::string& address)> accept_client;
    // PEM certificate chain and key: STARTTLS is offered when both are set.
    std::string tls_cert_file;
    std::string tls_key_file;
};

// `done(queue_id, error)`: error empty when the message is durable. Any thread may call it.
// `error` empty: stored. `full`: refused because a byte bound is reached (452), else 451.
using SmtpDone =
    std::function<void(const std::string& queue_id, const std::string& error, bool full)>;
using SmtpHandler =
    std::function<void(email::SmtpMessage&& message, const std::string& remote, SmtpDone done)>;

class SmtpServer {
  public:
    SmtpServer(SmtpServerOptions options, SmtpHandler handler);
    ~SmtpServer();
    SmtpServer(const SmtpServer&) = delete;
    SmtpServer& operator=(const SmtpServer&) = delete;

    core::Result<std::uint16_t> start();
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace alertbridge::net
