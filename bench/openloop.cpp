// openloop: a constant-rate (open-loop) HTTP load generator for latency at a given load.
// Requests are due on one even schedule (RATE a second); each goes out at its instant on
// whichever connection is idle, and a new connection is opened when none is (up to
// MAX_CONNECTIONS), so a slow answer never holds back the requests due after it: the offered
// load does not depend on the server, which is what makes a load open. A request's latency
// runs from the instant it was due, not from when it could be sent, so any wait for a
// connection counts too (no coordinated omission).
//
// A first version gave each of 32 connections its own schedule, as wrk2 does. At half of
// alertbridge's one-alert maximum a connection then had a request due every 4 ms, and
// whenever the fsyncs its answers wait for slowed to that for a moment, every later request
// of the connection queued behind the one before: in one 15 s run the latency from the due
// instant grew to 146 ms while no answer took more than 23 ms once sent. That measured how
// 32 fixed senders keep up, not the server's latency at a rate.
//
// Bodies are POST /api/v2/alerts arrays of BATCH alerts, each a label set never sent before,
// as bench/post_alerts.lua makes them. kThreads event-loop threads share the schedule, each
// with its own connections on one epoll set, waking at the next due instant with a
// nanosecond timeout.
//
// Usage: openloop HOST PORT RATE_PER_S SECONDS CONNECTIONS BATCH RUN_ID [MAX_CONNECTIONS]
// CONNECTIONS are opened before the first request; MAX_CONNECTIONS (default 1024) bounds
// how many the load may need. Prints one JSON object: requests, errors, achieved rate,
// latency percentiles in ms (from the due instant), service percentiles (from the send),
// the most connections in use, and how late this tool's threads woke for requests they had
// to wait for (oversleep), which on a machine shared with the server is latency the server
// did not cause. A benchmark tool: it reads the wall clock and sleeps, which alertbridge
// itself never does.

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
#include <memory>
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
    int fd = -1;
    long long request = -1;  // the request in flight (its index on this thread), or -1
    bool want_out = false;   // registered for EPOLLOUT (a send the socket did not take whole)
    std::string out;         // the request's bytes
    std::size_t sent = 0;
    Clock::time_point sent_at;  // the start of its service time
    std::string in;
};

struct Results {
    std::vector<double> latencies, services, oversleeps;
    long long errors = 0;
    std::size_t connections = 0;
};

// One event-loop thread: its requests are every kThreads-th of the schedule.
class Loop {
  public:
    Loop(const Options& o, int id, std::chrono::duration<double> interval, long long total,
         std::size_t initial, std::size_t most, std::string starts, std::string ends)
        : o_(o),
          id_(id),
          interval_(interval),
          total_(total),
          most_(most),
          starts_(std::move(starts)),
          ends_(std::move(ends)),
          ep_(::epoll_create1(EPOLL_CLOEXEC)) {
        conns_.reserve(most_);
        for (std::size_t i = 0; i < initial; ++i) {
            open();
            connect(conns_.back());  // now, before the clock starts; a failure is retried
        }
    }
    ~Loop() {
        for (auto& c : conns_) {
            if (c.fd >= 0) ::close(c.fd);
        }
        ::close(ep_);
    }
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    Results run(Clock::time_point t0) {
        t0_ = t0;
        prepare();
        std::vector<epoll_event> events(64);
        bool timed = false;  // the last wait ended at `next_`'s due instant
        for (;;) {
            auto now = Clock::now();
            while (next_ < total_ && due(next_) <= now) {
                auto* c = idleConn();
                if (c == nullptr && in_flight_ > 0) break;  // at the bound: wait for an answer
                if (c == nullptr) {  // no connection could be made: the request fails
                    ++results_.errors;
                    ++next_;
                    prepare();
                    continue;
                }
                if (timed) {
                    results_.oversleeps.push_back(
                        std::chrono::duration<double, std::milli>(now - due(next_)).count());
                }
                timed = false;
                send(*c, now);
            }
            if (next_ >= total_ && in_flight_ == 0) break;
            timespec ts{};
            timespec* timeout = nullptr;
            timed = next_ < total_ && due(next_) > now;
            if (timed) {
                auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(due(next_) - now);
                ts.tv_sec = static_cast<time_t>(ns.count() / 1000000000LL);
                ts.tv_nsec = static_cast<long>(ns.count() % 1000000000LL);
                timeout = &ts;
            }
            int n = ::epoll_pwait2(ep_, events.data(), static_cast<int>(events.size()), timeout,
                                   nullptr);
            for (int i = 0; i < n; ++i) {
                auto& c = conns_[events[i].data.u32];
                if ((events[i].events & EPOLLOUT) != 0 && c.request >= 0) flush(c);
                if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) receive(c);
            }
        }
        results_.connections = conns_.size();
        return std::move(results_);
    }

  private:
    Clock::time_point due(long long request) const {
        return t0_ + std::chrono::duration_cast<Clock::duration>(
                         interval_ * static_cast<double>(request * kThreads + id_));
    }

    // The bytes of request `next_`, made ahead of its instant.
    void prepare() {
        if (next_ >= total_) return;
        auto req_body = body(o_, id_, seq_, starts_, ends_);
        ahead_ = "POST /api/v2/alerts HTTP/1.1\r\nHost: " + o_.host +
                 "\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(req_body.size()) + "\r\n\r\n" + req_body;
    }

    // An idle connection (made again if it dropped), or a new one below the bound.
    Conn* idleConn() {
        if (idle_.empty() && conns_.size() < most_) open();
        if (idle_.empty()) return nullptr;
        auto& c = conns_[idle_.back()];
        if (c.fd < 0 && !connect(c)) return nullptr;
        idle_.pop_back();
        return &c;
    }

    void open() {
        conns_.emplace_back();
        idle_.push_back(conns_.size() - 1);
    }

    void send(Conn& c, Clock::time_point now) {
        c.request = next_++;
        c.out.swap(ahead_);
        c.sent = 0;
        c.sent_at = now;
        c.in.clear();
        ++in_flight_;
        flush(c);
        prepare();
    }

    void flush(Conn& c) {
        while (c.sent < c.out.size()) {
            ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
            if (n > 0) {
                c.sent += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return watch(c, true);
            return finish(c, -1);
        }
        if (c.want_out) watch(c, false);
    }

    // One read per readable event (the epoll set is level-triggered): an answer is one small
    // segment, and reading on to EAGAIN would add a system call to every request.
    void receive(Conn& c) {
        char chunk[8192];
        ssize_t n = ::recv(c.fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
        if (n <= 0) {
            if (c.request >= 0) return finish(c, -1);  // closed or failed under a request
            return drop(c);
        }
        c.in.append(chunk, static_cast<std::size_t>(n));
        if (c.request < 0) return;
        if (auto status = completeResponse(c.in)) finish(c, *status);
    }

    void finish(Conn& c, int status) {
        const auto now = Clock::now();
        using Ms = std::chrono::duration<double, std::milli>;
        results_.latencies.push_back(Ms(now - due(c.request)).count());
        results_.services.push_back(Ms(now - c.sent_at).count());
        if (status < 200 || status >= 300) ++results_.errors;
        if (status < 0) drop(c);
        c.request = -1;
        --in_flight_;
        idle_.push_back(static_cast<std::size_t>(&c - conns_.data()));
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
    int id_;
    Clock::time_point t0_;
    std::chrono::duration<double> interval_;
    long long total_;
    std::size_t most_;
    std::string starts_, ends_;
    int ep_;
    std::vector<Conn> conns_;  // reserved to the bound: a Conn never moves
    std::vector<std::size_t> idle_;
    long long next_ = 0;  // the next request to send
    long long seq_ = 0;   // alerts made so far
    long long in_flight_ = 0;
    std::string ahead_;  // request `next_`, made ahead
    Results results_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 8 && argc != 9) {
        std::fprintf(stderr,
                     "usage: openloop HOST PORT RATE_PER_S SECONDS CONNECTIONS BATCH RUN_ID "
                     "[MAX_CONNECTIONS]\n");
        return 2;
    }
    Options o{argv[1],
              std::atoi(argv[2]),
              std::atof(argv[3]),
              std::atof(argv[4]),
              std::atoi(argv[5]),
              std::atoi(argv[6]),
              argv[7]};
    const int most = argc == 9 ? std::atoi(argv[8]) : 1024;
    if (o.rate <= 0 || o.seconds <= 0 || o.connections <= 0 || o.batch <= 0 ||
        most < o.connections) {
        std::fprintf(stderr,
                     "openloop: rate, seconds, connections and batch must be > 0, and "
                     "MAX_CONNECTIONS at least CONNECTIONS\n");
        return 2;
    }
    const auto now_t = std::time(nullptr);
    const std::string starts = isoTime(now_t - 60), ends = isoTime(now_t + 6 * 3600);
    const auto interval = std::chrono::duration<double>(1.0 / o.rate);
    const auto all_requests = static_cast<long long>(o.seconds * o.rate);
    auto share = [](long long n, int t) { return (n + kThreads - 1 - t) / kThreads; };
    std::vector<std::unique_ptr<Loop>> loops;
    for (int t = 0; t < kThreads; ++t) {
        loops.push_back(std::make_unique<Loop>(
            o, t, interval, share(all_requests, t),
            static_cast<std::size_t>(share(o.connections, t)),
            static_cast<std::size_t>(std::max(1LL, share(most, t))), starts, ends));
    }
    const auto t0 = Clock::now() + std::chrono::milliseconds(200);
    std::mutex mu;
    Results all;
    std::vector<std::thread> threads;
    for (auto& loop : loops) {
        threads.emplace_back([&, l = loop.get()] {
            auto r = l->run(t0);
            std::lock_guard lock(mu);
            all.latencies.insert(all.latencies.end(), r.latencies.begin(), r.latencies.end());
            all.services.insert(all.services.end(), r.services.begin(), r.services.end());
            all.oversleeps.insert(all.oversleeps.end(), r.oversleeps.begin(), r.oversleeps.end());
            all.errors += r.errors;
            all.connections += r.connections;
        });
    }
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto* v : {&all.latencies, &all.services, &all.oversleeps})
        std::sort(v->begin(), v->end());
    auto pct = [](const std::vector<double>& v, double p) {
        if (v.empty()) return 0.0;
        return v[static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1))];
    };
    const auto& l = all.latencies;
    std::printf(
        "{\"requests\": %zu, \"errors\": %lld, \"target_rate\": %.1f, \"achieved_rate\": %.1f, "
        "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, "
        "\"max_ms\": %.3f, \"service_p50_ms\": %.3f, \"service_p99_ms\": %.3f, "
        "\"connections\": %zu, \"oversleep_n\": %zu, \"oversleep_p50_ms\": %.3f, "
        "\"oversleep_p99_ms\": %.3f}\n",
        l.size(), all.errors, o.rate, static_cast<double>(l.size()) / elapsed, pct(l, 50),
        pct(l, 90), pct(l, 99), pct(l, 99.9), l.empty() ? 0.0 : l.back(), pct(all.services, 50),
        pct(all.services, 99), all.connections, all.oversleeps.size(), pct(all.oversleeps, 50),
        pct(all.oversleeps, 99));
    return 0;
}
