#pragma once
// Plain HTTP request/response values shared by the server and the handlers in plugin/app.
// No Asio or Beast here, so domain code can include it.

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace alertbridge::net {

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // path and query as sent
    std::string authorization;
    std::string content_type;
    std::string body;
    std::string remote;           // client address, for logs
    bool body_too_large = false;  // the body passed the limit and was not read
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Sends the response. Call exactly once, from any thread.
using Responder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest&&, Responder)>;
// Looks at a request's head (no body yet; `content_length` is what the client announced,
// or -1) and answers it at once when it must not go on: bad credentials, a body over the
// limit. The body of such a request is never read and the connection is closed, so a
// client cannot make the server hold a large body it will refuse anyway.
using HttpHeadCheck =
    std::function<std::optional<HttpResponse>(const HttpRequest& head, long long content_length)>;

}  // namespace alertbridge::net
