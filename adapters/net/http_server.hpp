#pragma once
// HttpServer: HTTP/1.1 with keep-alive on Beast. Each connection reads one request at a
// time, hands it to the handler, and writes the response when the handler's Responder is
// called (from any thread). Owns its I/O threads. The header hides Asio (pimpl).

#include <cstdint>
#include <memory>

#include "adapters/net/http_types.hpp"
#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"
#include "plugin/core/url.hpp"

namespace alertbridge::net {

struct HttpServerOptions {
    core::HostPort listen;
    std::size_t threads = 2;
    std::size_t max_body_bytes = std::size_t{16} * 1024 * 1024;
    core::Duration idle_timeout = std::chrono::seconds(60);
};

class HttpServer {
  public:
    HttpServer(HttpServerOptions options, HttpHandler handler);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and starts serving. Returns the bound port (useful with port 0).
    core::Result<std::uint16_t> start();
    // Stops accepting, closes connections and joins the I/O threads.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace alertbridge::net
