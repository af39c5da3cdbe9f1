#include <utility>  // must precede Asio with GCC 12 in C++20 (Boost 1.74)

#include "adapters/net/smtp_server.hpp"

#include "adapters/net/listen.hpp"

#include <pthread.h>

#include <atomic>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

namespace alertbridge::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(tcp::socket&& socket, const SmtpServerOptions& options, const SmtpHandler& handler,
               std::atomic<std::size_t>& count, asio::ssl::context* tls)
        : stream_(std::move(socket)),
          executor_(stream_.get_executor()),
          session_(options.session),
          options_(options),
          handler_(handler),
          count_(count),
          tls_context_(tls) {
        beast::error_code ec;
        auto ep = stream_.socket().remote_endpoint(ec);
        if (!ec) {
            address_ = ep.address().to_string();
            remote_ = address_ + ":" + std::to_string(ep.port());
        }
    }
    const std::string& address() const { return address_; }
    ~Connection() { --count_; }

    void start() {
        asio::dispatch(executor_, [self = shared_from_this()] { self->flush(); });
    }

    // Answers with one reply instead of the greeting, then closes.
    void refuse(std::string reply) {
        auto self = shared_from_this();
        auto text = std::make_shared<std::string>(std::move(reply) + "\r\n");
        asio::async_write(stream_, asio::buffer(*text),
                          [self, text](beast::error_code, std::size_t) { self->close(); });
    }

  private:
    beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : stream_; }

    // Writes `out` over TCP or TLS, whichever the connection is on now.
    template <typename Handler>
    void write(const std::shared_ptr<std::string>& out, Handler&& handler) {
        lowest().expires_after(options_.command_timeout);
        if (tls_) {
            asio::async_write(*tls_, asio::buffer(*out), std::forward<Handler>(handler));
        } else {
            asio::async_write(stream_, asio::buffer(*out), std::forward<Handler>(handler));
        }
    }

    // Writes what the session said, then decides what comes next.
    void flush() {
        auto out = std::make_shared<std::string>(session_.takeOutput());
        if (out->empty()) {
            next();
            return;
        }
        write(out, [self = shared_from_this(), out](beast::error_code ec, std::size_t) {
            if (ec) return self->close();
            if (self->session_.wantsTls()) return self->startTls();
            self->next();
        });
    }

    // After "220 Ready to start TLS": the TCP stream becomes the TLS stream's lower layer.
    void startTls() {
        tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(stream_),
                                                                      *tls_context_);
        lowest().expires_after(options_.command_timeout);
        tls_->async_handshake(asio::ssl::stream_base::server,
                              [self = shared_from_this()](beast::error_code ec) {
                                  if (ec) {
                                      spdlog::warn(
                                          "An SMTP client failed the TLS handshake. client={} "
                                          "error=\"{}\"",
                                          self->remote_, ec.message());
                                      return self->close();
                                  }
                                  self->session_.tlsStarted();
                                  self->flush();
                              });
    }

    void next() {
        if (session_.closed()) return close();
        if (auto message = session_.takeMessage()) {
            auto self = shared_from_this();
            handler_(std::move(*message), remote_,
                     [self](const std::string& id, const std::string& error, bool full) {
                         asio::post(self->executor_, [self, id, error, full] {
                             self->session_.messageStored(id, error, full);
                             self->flush();
                         });
                     });
            return;  // no reading until the store answered: pipelined input waits
        }
        if (session_.waitingForStore()) return;
        lowest().expires_after(options_.command_timeout);
        auto on_read = [self = shared_from_this()](beast::error_code ec, std::size_t n) {
            if (ec == beast::error::timeout) {
                auto text = std::make_shared<std::string>(
                    "421 4.4.2 Timeout waiting for a command; closing\r\n");
                self->write(text, [self, text](beast::error_code, std::size_t) { self->close(); });
                return;
            }
            if (ec) return self->close();
            self->session_.feed(std::string_view(self->buffer_.data(), n));
            self->flush();
        };
        if (tls_) {
            tls_->async_read_some(asio::buffer(buffer_), std::move(on_read));
        } else {
            stream_.async_read_some(asio::buffer(buffer_), std::move(on_read));
        }
    }

    void close() {
        beast::error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
        lowest().socket().close(ec);
    }

    beast::tcp_stream stream_;  // moved into tls_ by STARTTLS
    asio::any_io_executor executor_;
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
    email::SmtpSession session_;
    const SmtpServerOptions& options_;
    const SmtpHandler& handler_;
    std::atomic<std::size_t>& count_;
    asio::ssl::context* tls_context_;  // null: no STARTTLS
    std::string remote_;
    std::string address_;
    std::array<char, 16 * 1024> buffer_{};
};

}  // namespace

struct SmtpServer::Impl {
    SmtpServerOptions options;
    SmtpHandler handler;
    asio::io_context ioc;
    tcp::acceptor acceptor{asio::make_strand(ioc)};
    std::atomic<std::size_t> connections{0};
    std::unique_ptr<asio::ssl::context> tls;
    std::thread thread;

    void accept() {
        acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) {
                auto c = std::make_shared<Connection>(std::move(s), options, handler, connections,
                                                      tls.get());
                if (options.accept_client && !options.accept_client(c->address())) {
                    spdlog::warn(
                        "An SMTP client outside email.allowed_clients was refused. "
                        "client={}",
                        c->address());
                    ++connections;  // the destructor counts it down
                    c->refuse("554 5.7.1 " + c->address() + " is not allowed to send mail here");
                } else if (++connections > options.max_connections) {
                    spdlog::warn("An SMTP connection was refused: too many open. limit={}",
                                 options.max_connections);
                    c->refuse("421 4.7.0 Too many connections; try later");
                } else {
                    c->start();
                }
            }
            accept();
        });
    }
};

SmtpServer::SmtpServer(SmtpServerOptions options, SmtpHandler handler)
    : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    impl_->handler = std::move(handler);
}

SmtpServer::~SmtpServer() { stop(); }

core::Result<std::uint16_t> SmtpServer::start() {
    const auto& o = impl_->options;
    if (!o.tls_cert_file.empty()) {
        auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
        ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                         asio::ssl::context::no_tlsv1_1);
        beast::error_code ec;
        ctx->use_certificate_chain_file(o.tls_cert_file, ec);
        if (ec) {
            return core::Error{"cannot load the SMTP TLS certificate " + o.tls_cert_file + ": " +
                               ec.message()};
        }
        ctx->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
        if (ec) {
            return core::Error{"cannot load the SMTP TLS key " + o.tls_key_file + ": " +
                               ec.message()};
        }
        impl_->tls = std::move(ctx);
        impl_->options.session.tls_available = true;
    }
    auto bound = bindAcceptor(impl_->acceptor, impl_->options.listen, "SMTP");
    if (!bound) return bound;
    auto port = *bound;
    impl_->accept();
    impl_->thread = std::thread([this] {
        pthread_setname_np(pthread_self(), "ab-smtp");
        impl_->ioc.run();
    });
    return port;
}

void SmtpServer::stop() {
    if (!impl_) return;
    impl_->ioc.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace alertbridge::net
