#include "adapters/net/listen.hpp"

namespace alertbridge::net {

core::Result<std::uint16_t> bindAcceptor(boost::asio::ip::tcp::acceptor& acceptor,
                                         const core::HostPort& at, const std::string& what) {
    namespace asio = boost::asio;
    using tcp = asio::ip::tcp;
    boost::system::error_code ec;
    auto address = asio::ip::make_address(at.host, ec);
    if (ec) {
        tcp::resolver resolver(acceptor.get_executor());
        auto results = resolver.resolve(at.host, "", ec);
        if (ec || results.empty()) {
            return core::Error{"cannot resolve the " + what + " listen address \"" + at.host +
                               "\": " + ec.message()};
        }
        address = results.begin()->endpoint().address();
    }
    tcp::endpoint ep(address, at.port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        return core::Error{"cannot listen for " + what + " on " + at.host + ":" +
                           std::to_string(at.port) + ": " + ec.message()};
    }
    return acceptor.local_endpoint().port();
}

}  // namespace alertbridge::net
