#include <utility>  // must precede Asio with GCC 12 in C++20 (Boost 1.74)

#include "adapters/net/http_client.hpp"

#include <optional>

#include <boost/asio.hpp>
#include <boost/beast.hpp>

namespace alertbridge::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

}  // namespace

struct HttpClient::Impl {
    core::Url url;
    asio::io_context ioc;
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;

    void disconnect() {
        if (stream) {
            beast::error_code ec;
            stream->socket().close(ec);
            stream.reset();
        }
    }

    // One attempt on the current (or a new) connection. Returns the error, if any.
    beast::error_code exchange(const http::request<http::string_body>& req,
                               http::response<http::string_body>& res, core::Duration timeout,
                               bool& reused) {
        beast::error_code result;
        reused = stream.has_value();
        ioc.restart();
        auto do_write = [&] {
            http::async_write(*stream, req, [&](beast::error_code ec, std::size_t) {
                if (ec) {
                    result = ec;
                    return;
                }
                http::async_read(*stream, buffer, res,
                                 [&](beast::error_code ec2, std::size_t) { result = ec2; });
            });
        };
        if (!stream) {
            stream.emplace(ioc);
            buffer.clear();
            stream->expires_after(timeout);
            auto resolver = std::make_shared<tcp::resolver>(ioc);
            resolver->async_resolve(
                url.host, std::to_string(url.port),
                [&, resolver](beast::error_code ec, tcp::resolver::results_type results) {
                    if (ec) {
                        result = ec;
                        return;
                    }
                    stream->async_connect(results,
                                          [&](beast::error_code ec2, const tcp::endpoint&) {
                                              if (ec2) {
                                                  result = ec2;
                                                  return;
                                              }
                                              stream->socket().set_option(tcp::no_delay(true), ec2);
                                              do_write();
                                          });
                });
        } else {
            stream->expires_after(timeout);
            do_write();
        }
        ioc.run();
        return result;
    }
};

HttpClient::HttpClient(core::Url endpoint) : impl_(std::make_unique<Impl>()) {
    impl_->url = std::move(endpoint);
}

HttpClient::~HttpClient() { impl_->disconnect(); }

ClientResponse HttpClient::request(const std::string& method, const std::string& path,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::string& body, core::Duration timeout) {
    http::request<http::string_body> req{http::string_to_verb(method), impl_->url.path + path, 11};
    req.set(http::field::host, impl_->url.hostHeader());
    req.set(http::field::user_agent, "alertbridge");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.keep_alive(true);
    req.prepare_payload();

    ClientResponse out;
    for (int attempt = 0; attempt < 2; ++attempt) {
        http::response<http::string_body> res;
        bool reused = false;
        auto ec = impl_->exchange(req, res, timeout, reused);
        if (!ec) {
            out.status = res.result_int();
            out.body = std::move(res.body());
            out.retry_after = std::string(res[http::field::retry_after]);
            out.error.clear();
            if (!res.keep_alive()) impl_->disconnect();
            return out;
        }
        impl_->disconnect();
        out.error = ec == beast::error::timeout ? "timed out" : ec.message();
        // A kept-alive connection the peer closed while idle: try once on a fresh one.
        if (!reused || ec == beast::error::timeout) break;
    }
    return out;
}

}  // namespace alertbridge::net
