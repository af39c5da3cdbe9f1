#pragma once
// HttpClient: a blocking HTTP/1.1 client for one endpoint, with one kept-alive connection
// and a deadline per request. Used by one delivery worker thread; not thread-safe.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/url.hpp"

namespace alertbridge::net {

struct ClientResponse {
    int status = 0;  // 0: no response (see error)
    std::string body;
    std::string retry_after;
    std::string error;  // connection or protocol error, empty when a response was read
};

class HttpClient {
  public:
    explicit HttpClient(core::Url endpoint);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    ClientResponse request(const std::string& method, const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& headers,
                           const std::string& body, core::Duration timeout);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace alertbridge::net
