// openloop: a constant-rate (open-loop) HTTP load generator for latency at a given load,
// in the manner of wrk2. Each connection has its own schedule (rate / connections requests
// a second, evenly spaced); a request's latency runs from the instant it was scheduled, not
// from when it could be sent, so a slow answer counts against every request it delayed
// (no coordinated omission). Bodies are POST /api/v2/alerts arrays of BATCH alerts, each a
// label set never sent before, as bench/post_alerts.lua makes them.
//
// Like wrk2 it runs a few event-loop threads (kThreads), each with its share of the
// connections on one epoll set, waking at the next scheduled send with a nanosecond
// timeout. (A first version ran a blocking thread per connection: at 9,600 one-alert
// requests a second it spent ~45 us of CPU per request and put 32 more runnable threads
// on the two cores it shares with the server, which then counted as the server's latency.)
//
// Usage: openloop HOST PORT RATE_PER_S SECONDS CONNECTIONS BATCH RUN_ID
// Prints one JSON object: requests, errors, achieved rate, and latency percentiles in ms;
// and how late this tool's threads woke for sends they had to wait for (oversleep: the
// scheduled instant to the wake, when the connection was idle by then), which on a
// machine shared with the server is latency the server did not cause.
// A benchmark tool: it reads the wall clock and sleeps, which alertbridge itself never does.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string host;
    int port = 0;
    double rate = 0;
    double seconds = 0;
    int connections = 0;
    int batch = 1;
    std::string run_id;
};

std::string isoTime(std::time_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return buf;
}

std::string body(const Options& o, int conn, long long& seq, const std::string& starts,
                 const std::string& ends) {
    static const char* services[] = {"ctp-frontend", "ctp-md", "risk-engine",
                                     "clearing",     "oms",    "quote-gw"};
    static const char* exchanges[] = {"SHFE", "DCE", "CZCE", "CFFEX", "INE", "GFEX"};
    std::string out = "[";
    for (int i = 0; i < o.batch; ++i) {
        ++seq;
        int s = static_cast<int>(seq % 6);
        char alert[768];
        std::snprintf(alert, sizeof alert,
                      "%s{\"labels\":{\"alertname\":\"OpenLoopAlert\",\"instance\":\"node-%d-%lld:"
                      "9100\",\"job\":\"node\",\"service\":\"%s\",\"exchange\":\"%s\",\"env\":"
                      "\"prod\",\"severity\":\"warning\",\"run\":\"%s\"},\"annotations\":{"
                      "\"summary\":\"Open-loop alert %d-%lld\",\"description\":\"Synthetic "
                      "load at a constant rate\"},\"startsAt\":\"%s\",\"endsAt\":\"%s\"}",
                      i > 0 ? "," : "", conn, seq, services[s], exchanges[s], o.run_id.c_str(),
                      conn, seq, starts.c_str(), ends.c_str());
        out += alert;
    }
    return out + "]";
}

int connectTo(const Options& o) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(o.port));
    ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// The status of the one HTTP/1.1 response in `buf` (headers and a Content-Length body)
// once all of it is there; nullopt while more is to come.
std::optional<int> completeResponse(const std::string& buf) {
    const auto header_end = buf.find("\r\n\r\n");
    if (header_end == std::string::npos) return std::nullopt;
    std::size_t length = 0;
    auto cl = buf.find("ontent-Length:");
    if (cl != std::string::npos && cl < header_end) {
        length = std::strtoull(buf.c_str() + cl + 14, nullptr, 10);
    }
    if (buf.size() < header_end + 4 + length) return std::nullopt;
    if (buf.size() < 12) return -1;
    return std::atoi(buf.c_str() + 9);
}

constexpr int kThreads = 2;

struct Conn {
    int index = 0;  // among all connections: its name in the bodies and its schedule offset
    int fd = -1;
    long long next = 0;      // the request to send next
    long long seq = 0;       // alerts made so far
    bool in_flight = false;  // sent, its answer not read yet
    bool waited = false;     // idle before `next` was due: its send is a wake to time
    bool want_out = false;   // registered for EPOLLOUT (a send the socket did not take whole)
    std::string request;     // `next`, made ahead of its time
    std::size_t sent = 0;
    std::string in;
};

struct Results {
    std::vector<double> latencies, oversleeps;
    long long errors = 0;
};

class Loop {
  public:
    Loop(const Options& o, std::vector<Conn> conns, Clock::time_point t0,
         std::chrono::duration<double> interval, long long total, std::string starts,
         std::string ends)
        : o_(o),
          conns_(std::move(conns)),
          t0_(t0),
          interval_(interval),
          total_(total),
          starts_(std::move(starts)),
          ends_(std::move(ends)),
          ep_(::epoll_create1(EPOLL_CLOEXEC)) {}
    ~Loop() {
        for (auto& c : conns_) {
            if (c.fd >= 0) ::close(c.fd);
        }
        ::close(ep_);
    }
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    Results run() {
        for (auto& c : conns_) {
            c.waited = true;
            prepare(c);
        }
        std::vector<epoll_event> events(conns_.size() + 1);
        for (;;) {
            auto now = Clock::now();
            std::optional<Clock::time_point> due;
            bool any_left = false;
            for (auto& c : conns_) {
                if (c.in_flight) {
                    any_left = true;
                    continue;
                }
                if (c.next >= total_) continue;
                any_left = true;
                auto at = scheduled(c);
                if (at <= now) {
                    send(c, now);
                } else if (!due || at < *due) {
                    due = at;
                }
            }
            if (!any_left) break;
            timespec ts{};
            timespec* timeout = nullptr;
            if (due) {
                auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(*due - now).count();
                ts.tv_sec = static_cast<time_t>(std::max<long long>(0, ns) / 1000000000LL);
                ts.tv_nsec = static_cast<long>(std::max<long long>(0, ns) % 1000000000LL);
                timeout = &ts;
            }
            int n = ::epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), timeout,
                                   nullptr);
            for (int i = 0; i < n; ++i) {
                auto& c = conns_[events[i].data.u32];
                if ((events[i].events & EPOLLOUT) != 0 && c.in_flight) flush(c);
                if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) receive(c);
            }
        }
        return std::move(results_);
    }

  private:
    Clock::time_point scheduled(const Conn& c) const {
        const auto offset = interval_ * (static_cast<double>(c.index) / o_.connections);
        return t0_ + std::chrono::duration_cast<Clock::duration>(
                         offset + interval_ * static_cast<double>(c.next));
    }

    void prepare(Conn& c) {
        if (c.next >= total_) return;
        auto req_body = body(o_, c.index, c.seq, starts_, ends_);
        c.request = "POST /api/v2/alerts HTTP/1.1\r\nHost: " + o_.host +
                    "\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(req_body.size()) + "\r\n\r\n" + req_body;
        c.sent = 0;
    }

    void send(Conn& c, Clock::time_point now) {
        if (c.waited) {
            results_.oversleeps.push_back(
                std::chrono::duration<double, std::milli>(now - scheduled(c)).count());
        }
        if (c.fd < 0 && !connect(c)) return finish(c, -1);
        c.in_flight = true;
        c.in.clear();
        flush(c);
    }

    void flush(Conn& c) {
        while (c.sent < c.request.size()) {
            ssize_t n =
                ::send(c.fd, c.request.data() + c.sent, c.request.size() - c.sent, MSG_NOSIGNAL);
            if (n > 0) {
                c.sent += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return watch(c, true);
            return finish(c, -1);
        }
        if (c.want_out) watch(c, false);
    }

    void receive(Conn& c) {
        char chunk[8192];
        for (;;) {
            ssize_t n = ::recv(c.fd, chunk, sizeof chunk, MSG_DONTWAIT);
            if (n > 0) {
                c.in.append(chunk, static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (c.in_flight) return finish(c, -1);  // closed or failed under a request
            drop(c);
            return;
        }
        if (!c.in_flight) return;
        if (auto status = completeResponse(c.in)) finish(c, *status);
    }

    void finish(Conn& c, int status) {
        const auto now = Clock::now();
        results_.latencies.push_back(
            std::chrono::duration<double, std::milli>(now - scheduled(c)).count());
        if (status < 200 || status >= 300) ++results_.errors;
        if (status < 0) drop(c);
        c.in_flight = false;
        ++c.next;
        prepare(c);
        c.waited = c.next < total_ && scheduled(c) > now;
    }

    void watch(Conn& c, bool out, int op = EPOLL_CTL_MOD) {
        epoll_event ev{};
        ev.events = EPOLLIN | (out ? EPOLLOUT : 0U);
        ev.data.u32 = static_cast<std::uint32_t>(&c - conns_.data());
        ::epoll_ctl(ep_, op, c.fd, &ev);
        c.want_out = out;
    }

    bool connect(Conn& c) {
        c.fd = connectTo(o_);
        if (c.fd < 0) return false;
        ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
        watch(c, false, EPOLL_CTL_ADD);
        return true;
    }

    void drop(Conn& c) {
        if (c.fd >= 0) ::close(c.fd);  // closing removes it from the epoll set
        c.fd = -1;
    }

    const Options& o_;
    std::vector<Conn> conns_;
    Clock::time_point t0_;
    std::chrono::duration<double> interval_;
    long long total_;
    std::string starts_, ends_;
    int ep_;
    Results results_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 8) {
        std::fprintf(stderr,
                     "usage: openloop HOST PORT RATE_PER_S SECONDS CONNECTIONS BATCH RUN_ID\n");
        return 2;
    }
    Options o{argv[1],
              std::atoi(argv[2]),
              std::atof(argv[3]),
              std::atof(argv[4]),
              std::atoi(argv[5]),
              std::atoi(argv[6]),
              argv[7]};
    if (o.rate <= 0 || o.seconds <= 0 || o.connections <= 0 || o.batch <= 0) {
        std::fprintf(stderr, "openloop: rate, seconds, connections and batch must be > 0\n");
        return 2;
    }
    const auto now_t = std::time(nullptr);
    const std::string starts = isoTime(now_t - 60), ends = isoTime(now_t + 6 * 3600);
    const auto t0 = Clock::now() + std::chrono::milliseconds(200);
    const auto interval = std::chrono::duration<double>(o.connections / o.rate);
    const auto total = static_cast<long long>(o.seconds * o.rate / o.connections);
    std::mutex mu;
    Results all;
    std::vector<std::thread> threads;
    const int n_threads = std::min(kThreads, o.connections);
    for (int t = 0; t < n_threads; ++t) {
        std::vector<Conn> mine;
        for (int c = t; c < o.connections; c += n_threads) {
            mine.emplace_back();
            mine.back().index = c;
        }
        threads.emplace_back([&, mine = std::move(mine)]() mutable {
            Loop loop(o, std::move(mine), t0, interval, total, starts, ends);
            auto r = loop.run();
            std::lock_guard lock(mu);
            all.latencies.insert(all.latencies.end(), r.latencies.begin(), r.latencies.end());
            all.oversleeps.insert(all.oversleeps.end(), r.oversleeps.begin(), r.oversleeps.end());
            all.errors += r.errors;
        });
    }
    for (auto& t : threads) t.join();
    auto& latencies = all.latencies;
    auto& oversleeps = all.oversleeps;
    const long long errors = all.errors;
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::sort(latencies.begin(), latencies.end());
    std::sort(oversleeps.begin(), oversleeps.end());
    auto pctOf = [](const std::vector<double>& v, double p) {
        if (v.empty()) return 0.0;
        auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
        return v[i];
    };
    auto pct = [&](double p) { return pctOf(latencies, p); };
    std::printf(
        "{\"requests\": %zu, \"errors\": %lld, \"target_rate\": %.1f, \"achieved_rate\": %.1f, "
        "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, "
        "\"max_ms\": %.3f, \"oversleep_n\": %zu, \"oversleep_p50_ms\": %.3f, "
        "\"oversleep_p99_ms\": %.3f}\n",
        latencies.size(), errors, o.rate, static_cast<double>(latencies.size()) / elapsed, pct(50),
        pct(90), pct(99), pct(99.9), latencies.empty() ? 0.0 : latencies.back(), oversleeps.size(),
        pctOf(oversleeps, 50), pctOf(oversleeps, 99));
    return 0;
}
