#pragma once
// Binding a listening socket, shared by the HTTP and SMTP servers. Asio-facing: include
// only from adapters/net sources.

#include <utility>  // must precede Asio with GCC 12 in C++20 (Boost 1.74)

#include <cstdint>
#include <string>

#include <boost/asio.hpp>

#include "plugin/core/result.hpp"
#include "plugin/core/url.hpp"

namespace alertbridge::net {

// Resolves `at` (an IP address or a host name), then opens, binds and listens. Returns the
// bound port, which differs from at.port when that is 0.
core::Result<std::uint16_t> bindAcceptor(boost::asio::ip::tcp::acceptor& acceptor,
                                         const core::HostPort& at, const std::string& what);

}  // namespace alertbridge::net
