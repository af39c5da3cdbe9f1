// sink: the Alertmanager stand-in bench/bench.py gives alertbridge as its output. It reads
// each POST (HTTP/1.1, keep-alive, a Content-Length body) and answers 200 with an empty body
// at once, on one thread with epoll, so that the output's receiving end costs the shared
// cores as little as a receiver can. A chunked body is answered 411 and the connection
// closed (alertbridge's pusher always sends a length). Loopback only.
//
// Usage: sink            prints the port it listens on, then serves until SIGTERM
// A benchmark tool, not part of alertbridge.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

namespace {

volatile std::sig_atomic_t stopping = 0;

void onTerm(int) { stopping = 1; }

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    }
    return true;
}

// What one connection has read and not yet answered.
struct Conn {
    std::string in;
};

// Answers every complete request in `c.in`; false when the connection must close.
bool serve(int fd, Conn& c) {
    static constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    static constexpr std::string_view kNoLength =
        "HTTP/1.1 411 Length Required\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    std::string out;
    for (;;) {
        auto end = c.in.find("\r\n\r\n");
        if (end == std::string::npos) break;
        std::string_view head(c.in.data(), end);
        std::size_t length = 0;
        bool chunked = false;
        for (std::size_t at = head.find("\r\n"); at != std::string_view::npos;) {
            auto next = head.find("\r\n", at + 2);
            auto line = head.substr(
                at + 2, next == std::string_view::npos ? std::string_view::npos : next - at - 2);
            if (startsWithNoCase(line, "content-length:")) {
                length = std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10);
            } else if (startsWithNoCase(line, "transfer-encoding:")) {
                chunked = true;
            }
            at = next;
        }
        if (chunked) {
            out += kNoLength;
            (void)::write(fd, out.data(), out.size());
            return false;
        }
        if (c.in.size() < end + 4 + length) break;
        c.in.erase(0, end + 4 + length);
        out += kOk;
    }
    std::size_t done = 0;
    while (done < out.size()) {
        auto n = ::write(fd, out.data() + done, out.size() - done);
        if (n <= 0) return false;  // a client that stops reading its answers is dropped
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

int main() {
    std::signal(SIGTERM, onTerm);
    std::signal(SIGINT, onTerm);
    std::signal(SIGPIPE, SIG_IGN);
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(lfd, 512) != 0 ||
        ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        std::perror("sink: listen");
        return 1;
    }
    std::printf("%d\n", ntohs(addr.sin_port));
    std::fflush(stdout);
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    std::map<int, Conn> conns;
    epoll_event events[64];
    char buf[65536];
    while (!stopping) {
        int n = ::epoll_wait(ep, events, 64, 200);
        for (int i = 0; i < n; ++i) {
            int fd = events[i].data.fd;
            if (fd == lfd) {
                for (int c;
                     (c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
                    int one = 1;
                    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    epoll_event cev{};
                    cev.events = EPOLLIN | EPOLLRDHUP;
                    cev.data.fd = c;
                    ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                    conns[c];
                }
                continue;
            }
            auto& conn = conns[fd];
            bool open = true;
            for (;;) {
                auto got = ::read(fd, buf, sizeof buf);
                if (got > 0) {
                    conn.in.append(buf, static_cast<std::size_t>(got));
                    continue;
                }
                if (got == 0 || errno != EAGAIN) open = false;
                break;
            }
            if (open) open = serve(fd, conn);
            if (!open) {
                ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
                ::close(fd);
                conns.erase(fd);
            }
        }
    }
    return 0;
}
