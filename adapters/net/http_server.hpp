#pragma once
// HttpServer: HTTP/1.1 with keep-alive on Beast. Each connection reads one request at a
// time: its head first (which head_check may answer at once, leaving the body unread),
// then its body; it hands the request to the handler and writes the response when the
// handler's Responder is called (from any thread). Owns its I/O threads. The header hides
// Asio (pimpl).

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
    // A whole request (head and body) must arrive within this; a kept-alive connection
    // may wait this long for its next request. Slow clients are cut off, not waited for.
    core::Duration idle_timeout = std::chrono::seconds(60);
    // Open connections at most. Past it a new connection gets 503 and is closed, so the
    // file descriptors and buffers of the process stay bounded whatever clients do.
    std::size_t max_connections = 1024;
    HttpHeadCheck head_check;  // optional
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
