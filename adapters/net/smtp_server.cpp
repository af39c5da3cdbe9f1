#include <utility>  // must precede Asio with GCC 12 in C++20 (Boost 1.74)

#include "adapters/net/smtp_server.hpp"

#include "adapters/net/listen.hpp"

#include <pthread.h>

#include <atomic>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <spdlog/spdlog.h>

namespace alertbridge::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    Connection(tcp::socket&& socket, const SmtpServerOptions& options, const SmtpHandler& handler,
               std::atomic<std::size_t>& count)
        : stream_(std::move(socket)),
          session_(options.session),
          options_(options),
          handler_(handler),
          count_(count) {
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
        asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->flush(); });
    }

    // Answers with one reply instead of the greeting, then closes.
    void refuse(std::string reply) {
        auto self = shared_from_this();
        auto text = std::make_shared<std::string>(std::move(reply) + "\r\n");
        asio::async_write(stream_, asio::buffer(*text),
                          [self, text](beast::error_code, std::size_t) { self->close(); });
    }

  private:
    // Writes what the session said, then decides what comes next.
    void flush() {
        auto out = std::make_shared<std::string>(session_.takeOutput());
        if (out->empty()) {
            next();
            return;
        }
        stream_.expires_after(options_.command_timeout);
        asio::async_write(stream_, asio::buffer(*out),
                          [self = shared_from_this(), out](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->next();
                          });
    }

    void next() {
        if (session_.closed()) return close();
        if (auto message = session_.takeMessage()) {
            auto self = shared_from_this();
            handler_(std::move(*message), remote_,
                     [self](const std::string& id, const std::string& error) {
                         asio::post(self->stream_.get_executor(), [self, id, error] {
                             self->session_.messageStored(id, error);
                             self->flush();
                         });
                     });
            return;  // no reading until the store answered: pipelined input waits
        }
        if (session_.waitingForStore()) return;
        stream_.expires_after(options_.command_timeout);
        stream_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](
                                                           beast::error_code ec, std::size_t n) {
            if (ec == beast::error::timeout) {
                auto text = std::make_shared<std::string>(
                    "421 4.4.2 Timeout waiting for a command; closing\r\n");
                asio::async_write(self->stream_, asio::buffer(*text),
                                  [self, text](beast::error_code, std::size_t) { self->close(); });
                return;
            }
            if (ec) return self->close();
            self->session_.feed(std::string_view(self->buffer_.data(), n));
            self->flush();
        });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.socket().close(ec);
    }

    beast::tcp_stream stream_;
    email::SmtpSession session_;
    const SmtpServerOptions& options_;
    const SmtpHandler& handler_;
    std::atomic<std::size_t>& count_;
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
    std::thread thread;

    void accept() {
        acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) {
                auto c = std::make_shared<Connection>(std::move(s), options, handler, connections);
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
