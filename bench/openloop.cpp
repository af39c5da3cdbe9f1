// openloop: a constant-rate (open-loop) HTTP load generator for latency at a given load,
// in the manner of wrk2. Each connection has its own schedule (rate / connections requests
// a second, evenly spaced); a request's latency runs from the instant it was scheduled, not
// from when it could be sent, so a slow answer counts against every request it delayed
// (no coordinated omission). Bodies are POST /api/v2/alerts arrays of BATCH alerts, each a
// label set never sent before, as bench/post_alerts.lua makes them.
//
// Usage: openloop HOST PORT RATE_PER_S SECONDS CONNECTIONS BATCH RUN_ID
// Prints one JSON object: requests, errors, achieved rate, and latency percentiles in ms;
// and how late this tool's own threads woke for requests they had to wait for (oversleep:
// the scheduled instant to the wake, when the connection was idle by then), which on a
// machine shared with the server is latency the server did not cause.
// A benchmark tool: it reads the wall clock and sleeps, which alertbridge itself never does.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
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

// Reads one HTTP/1.1 response (headers and a Content-Length body); its status, or -1.
int readResponse(int fd, std::string& buf) {
    buf.clear();
    char chunk[8192];
    std::size_t header_end = std::string::npos;
    std::size_t need = 0;
    for (;;) {
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return -1;
        buf.append(chunk, static_cast<std::size_t>(n));
        if (header_end == std::string::npos) {
            header_end = buf.find("\r\n\r\n");
            if (header_end == std::string::npos) continue;
            std::size_t length = 0;
            auto cl = buf.find("ontent-Length:");
            if (cl != std::string::npos && cl < header_end) {
                length = std::strtoull(buf.c_str() + cl + 14, nullptr, 10);
            }
            need = header_end + 4 + length;
        }
        if (buf.size() >= need) break;
    }
    if (buf.size() < 12) return -1;
    return std::atoi(buf.c_str() + 9);
}

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
    std::mutex mu;
    std::vector<double> latencies;
    std::vector<double> oversleeps;
    long long errors = 0;
    const auto t0 = Clock::now() + std::chrono::milliseconds(200);
    const auto interval = std::chrono::duration<double>(o.connections / o.rate);
    const auto total = static_cast<long long>(o.seconds * o.rate / o.connections);
    std::vector<std::thread> threads;
    for (int c = 0; c < o.connections; ++c) {
        threads.emplace_back([&, c] {
            std::vector<double> mine;
            std::vector<double> late;
            mine.reserve(static_cast<std::size_t>(total));
            long long bad = 0, seq = 0;
            int fd = connectTo(o);
            std::string buf;
            // Connections start spread over one interval, so requests are evenly spaced.
            const auto offset = interval * (static_cast<double>(c) / o.connections);
            for (long long k = 0; k < total; ++k) {
                const auto scheduled = t0 + std::chrono::duration_cast<Clock::duration>(
                                                offset + interval * static_cast<double>(k));
                auto req_body = body(o, c, seq, starts, ends);
                std::string req = "POST /api/v2/alerts HTTP/1.1\r\nHost: " + o.host +
                                  "\r\nContent-Type: application/json\r\nContent-Length: " +
                                  std::to_string(req_body.size()) + "\r\n\r\n" + req_body;
                if (Clock::now() < scheduled) {
                    std::this_thread::sleep_until(scheduled);
                    late.push_back(
                        std::chrono::duration<double, std::milli>(Clock::now() - scheduled)
                            .count());
                }
                if (fd < 0) fd = connectTo(o);
                int status = -1;
                if (fd >= 0 && ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) ==
                                   static_cast<ssize_t>(req.size())) {
                    status = readResponse(fd, buf);
                }
                if (status < 0) {
                    if (fd >= 0) ::close(fd);
                    fd = -1;
                }
                if (status < 200 || status >= 300) ++bad;
                mine.push_back(
                    std::chrono::duration<double, std::milli>(Clock::now() - scheduled).count());
            }
            if (fd >= 0) ::close(fd);
            std::lock_guard lock(mu);
            latencies.insert(latencies.end(), mine.begin(), mine.end());
            oversleeps.insert(oversleeps.end(), late.begin(), late.end());
            errors += bad;
        });
    }
    for (auto& t : threads) t.join();
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
