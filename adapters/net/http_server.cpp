#include <utility>  // must precede Asio with GCC 12 in C++20 (Boost 1.74)

#include "adapters/net/http_server.hpp"

#include "adapters/net/listen.hpp"

#include <pthread.h>

#include <atomic>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <spdlog/spdlog.h>

namespace alertbridge::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
// Each I/O thread runs an io_context of its own, and a connection lives on one of them:
// its handlers never run on two threads at once, so it needs no strand, and its executor
// is the context's own type rather than a type-erased one. (A strand and the erased
// executor cost shared-pointer copies, a mutex and a wake-up of the other thread per
// operation: a tenth of the process's CPU at one alert per request.)
using Executor = asio::io_context::executor_type;
using Socket = tcp::socket::rebind_executor<Executor>::other;
using Stream = beast::basic_stream<tcp, Executor>;

constexpr std::size_t kReadReserve = 4096;
constexpr std::string_view kEmptyOk =
    "HTTP/1.1 200 OK\r\nServer: alertbridge\r\nContent-Type: application/json\r\n"
    "Content-Length: 0\r\n\r\n";

// One connection. Lives as long as an operation or a pending Responder holds it.
class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(Socket&& socket, const HttpServerOptions& options, const HttpHandler& handler,
            std::shared_ptr<std::atomic<std::size_t>> open)
        : stream_(std::move(socket)), options_(options), handler_(handler), open_(std::move(open)) {
        beast::error_code ec;
        auto ep = stream_.socket().remote_endpoint(ec);
        if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    ~Session() { open_->fetch_sub(1); }

    // Over the connection bound: one 503 and close, without reading anything.
    void refuse() {
        keep_alive_ = false;
        asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
            HttpResponse res{
                503, "text/plain; charset=utf-8", "too many open connections; retry later\n", {}};
            res.headers.emplace_back("Retry-After", "1");
            self->write(std::move(res));
        });
    }

    void run() {
        // Room for a whole one-alert post: at Beast's least read size (512 bytes) a ~600-byte
        // request took two reads, a system call each.
        buffer_.reserve(kReadReserve);
        asio::dispatch(stream_.get_executor(),
                       beast::bind_front_handler(&Session::read, shared_from_this()));
    }

  private:
    void read() {
        parser_.emplace();
        parser_->body_limit(options_.max_body_bytes);
        parser_->header_limit(64 * 1024);
        stream_.expires_after(options_.idle_timeout);
        http::async_read_header(stream_, buffer_, *parser_,
                                beast::bind_front_handler(&Session::onHead, shared_from_this()));
    }

    HttpRequest head() const {
        const auto& msg = parser_->get();
        HttpRequest req;
        req.method = std::string(msg.method_string());
        req.target = std::string(msg.target());
        req.authorization = std::string(msg[http::field::authorization]);
        req.content_type = std::string(msg[http::field::content_type]);
        req.remote = remote_;
        return req;
    }

    void onHead(beast::error_code ec, std::size_t n) {
        if (ec || !options_.head_check) return onRead(ec, n);
        long long length = -1;
        if (auto cl = parser_->content_length()) length = static_cast<long long>(*cl);
        if (auto answer = options_.head_check(head(), length)) {
            // The body is never read: the connection closes after this answer.
            version_ = parser_->get().version();
            keep_alive_ = false;
            write(std::move(*answer));
            return;
        }
        // The deadline set in read() still runs: head and body share it.
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::onRead, shared_from_this()));
    }

    void onRead(beast::error_code ec, std::size_t) {
        bool too_large = ec == http::error::body_limit;
        if (ec && !too_large) {
            if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
                ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
                spdlog::debug("An HTTP request could not be read. remote={} error=\"{}\"", remote_,
                              ec.message());
                if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
                    HttpResponse bad{400,
                                     "text/plain; charset=utf-8",
                                     "malformed HTTP request: " + ec.message() + "\n",
                                     {}};
                    keep_alive_ = false;
                    write(std::move(bad));
                    return;
                }
            }
            close();
            return;
        }
        auto& msg = parser_->get();
        HttpRequest req = head();
        req.body_too_large = too_large;
        if (!too_large) req.body = std::move(msg.body());
        keep_alive_ = !too_large && msg.keep_alive();
        version_ = msg.version();
        // While the handler works (a group commit, typically) the connection stays open.
        stream_.expires_never();
        auto self = shared_from_this();
        handler_(std::move(req), [self](HttpResponse res) {
            asio::post(self->stream_.get_executor(),
                       [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
        });
    }

    void write(HttpResponse res) {
        if (res.status == 200 && res.body.empty() && res.headers.empty() &&
            res.content_type == "application/json" && keep_alive_ && version_ == 11) {
            // The answer to almost every push, the same bytes Beast would write for it, made
            // once: no message, fields or serializer per request.
            stream_.expires_after(options_.idle_timeout);
            asio::async_write(stream_, asio::buffer(kEmptyOk),
                              [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                  self->written(ec);
                              });
            return;
        }
        auto msg = std::make_shared<http::response<http::string_body>>(
            static_cast<http::status>(res.status), version_);
        msg->set(http::field::server, "alertbridge");
        msg->set(http::field::content_type, res.content_type);
        for (auto& [k, v] : res.headers) msg->set(k, v);
        msg->keep_alive(keep_alive_);
        msg->body() = std::move(res.body);
        msg->prepare_payload();
        stream_.expires_after(options_.idle_timeout);
        http::async_write(stream_, *msg,
                          [self = shared_from_this(), msg](beast::error_code ec, std::size_t) {
                              self->written(ec);
                          });
    }

    // After an answer: the next request on a kept connection, else the end of it.
    void written(beast::error_code ec) {
        if (ec || !keep_alive_) {
            close();
        } else {
            read();
        }
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
        stream_.socket().close(ec);
    }

    Stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    const HttpServerOptions& options_;
    const HttpHandler& handler_;
    std::shared_ptr<std::atomic<std::size_t>> open_;
    std::string remote_;
    bool keep_alive_ = true;
    unsigned version_ = 11;
};

}  // namespace

struct HttpServer::Impl {
    // The contexts exist before the acceptor and the timer, which live on the first.
    explicit Impl(std::size_t n) : contexts(makeContexts(n)) {}
    static std::vector<std::unique_ptr<asio::io_context>> makeContexts(std::size_t n) {
        std::vector<std::unique_ptr<asio::io_context>> out;
        for (std::size_t i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
        return out;
    }
    HttpServerOptions options;
    HttpHandler handler;
    std::vector<std::unique_ptr<asio::io_context>> contexts;  // one per I/O thread
    std::size_t next = 0;  // the context the next connection goes to, in turn
    tcp::acceptor acceptor{*contexts.front()};
    std::vector<std::thread> threads;
    std::shared_ptr<std::atomic<std::size_t>> open = std::make_shared<std::atomic<std::size_t>>(0);
    asio::steady_timer retry{*contexts.front()};

    void accept() {
        auto& ctx = *contexts[next];
        next = (next + 1) % contexts.size();
        acceptor.async_accept(ctx, [this](beast::error_code ec, Socket s) {
            if (ec == asio::error::operation_aborted) return;
            if (!ec) {
                s.set_option(tcp::no_delay(true), ec);
                bool over = open->fetch_add(1) >= options.max_connections;
                auto session = std::make_shared<Session>(std::move(s), options, handler, open);
                if (over) {
                    session->refuse();
                } else {
                    session->run();
                }
                accept();
                return;
            }
            // Out of file descriptors (or another passing failure): wait a little instead of
            // spinning on an acceptor that fails at once.
            spdlog::warn("Accepting a connection failed; retrying in 100ms. error=\"{}\"",
                         ec.message());
            retry.expires_after(std::chrono::milliseconds(100));
            retry.async_wait([this](beast::error_code e) {
                if (!e) accept();
            });
        });
    }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::max<std::size_t>(1, options.threads))) {
    impl_->options = std::move(options);
    impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

core::Result<std::uint16_t> HttpServer::start() {
    auto bound = bindAcceptor(impl_->acceptor, impl_->options.listen, "HTTP");
    if (!bound) return bound;
    auto port = *bound;
    impl_->accept();
    for (auto& ctx : impl_->contexts) {
        impl_->threads.emplace_back([ctx = ctx.get()] {
            pthread_setname_np(pthread_self(), "ab-http");
            // Runs until stop(), also while it serves no connection.
            auto guard = asio::make_work_guard(*ctx);
            ctx->run();
        });
    }
    return port;
}

void HttpServer::stop() {
    if (!impl_) return;
    asio::post(impl_->acceptor.get_executor(), [this] {
        beast::error_code ec;
        impl_->acceptor.close(ec);
    });
    for (auto& ctx : impl_->contexts) ctx->stop();
    for (auto& t : impl_->threads) {
        if (t.joinable()) t.join();
    }
    impl_->threads.clear();
}

}  // namespace alertbridge::net
