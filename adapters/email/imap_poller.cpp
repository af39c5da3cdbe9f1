#include "adapters/email/imap_poller.hpp"

#include <curl/curl.h>
#include <pthread.h>

#include <memory>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace alertbridge::email {
namespace {

constexpr const char* kFetching = "$AlertbridgeFetching";
constexpr const char* kDone = "$AlertbridgeDone";

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

// One IMAP session: a curl easy handle keeps its connection between requests.
class Session {
  public:
    explicit Session(const ImapOptions& o) : o_(o), curl_(curl_easy_init()) {}
    ~Session() {
        if (curl_ != nullptr) curl_easy_cleanup(curl_);
    }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // A command on the mailbox (SEARCH, STORE, MOVE): the untagged response text.
    core::Result<std::string> command(const std::string& cmd) { return perform(mailboxUrl(), cmd); }
    // The whole message with this UID.
    core::Result<std::string> fetch(unsigned long uid) {
        return perform(fmt::format("{};UID={}", mailboxUrl(), uid), "");
    }

  private:
    std::string mailboxUrl() const {
        std::string base = o_.endpoint;
        while (!base.empty() && base.back() == '/') base.pop_back();
        char* escaped = curl_easy_escape(curl_, o_.mailbox.c_str(), 0);
        std::string url = base + "/" + (escaped ? escaped : "");
        curl_free(escaped);
        return url;
    }

    core::Result<std::string> perform(const std::string& url, const std::string& custom) {
        if (curl_ == nullptr) return core::Error{"cannot create a curl handle"};
        std::string body;
        curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl_, CURLOPT_USERNAME, o_.username.c_str());
        curl_easy_setopt(curl_, CURLOPT_PASSWORD, o_.password.c_str());
        curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, custom.empty() ? nullptr : custom.c_str());
        curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, append);
        curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(o_.timeout.count()));
        curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o_.timeout.count()));
        curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "imap,imaps");
        if (!o_.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, o_.ca_file.c_str());
        CURLcode rc = curl_easy_perform(curl_);
        if (rc != CURLE_OK) {
            return core::Error{
                fmt::format("{} ({})", curl_easy_strerror(rc), custom.empty() ? "FETCH" : custom)};
        }
        return body;
    }

    const ImapOptions& o_;
    CURL* curl_;
};

// "* SEARCH 3 7 9\r\n" -> {3, 7, 9}
std::vector<unsigned long> searchResult(const std::string& text) {
    std::vector<unsigned long> uids;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind("* SEARCH", 0) != 0) continue;
        std::istringstream words(line.substr(8));
        unsigned long uid = 0;
        while (words >> uid) uids.push_back(uid);
    }
    return uids;
}

std::string quoted(const std::string& mailbox) {
    std::string out = "\"";
    for (char c : mailbox) {
        if (c == '"' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

}  // namespace

ImapPoller::ImapPoller(ImapOptions options, Handler handler, Observer observer,
                       const core::Clock& clock)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      observer_(std::move(observer)),
      clock_(clock) {
    static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
    (void)kInit;
}

ImapPoller::~ImapPoller() { stop(); }

void ImapPoller::start() {
    thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "ab-imap");
        loop();
    });
}

void ImapPoller::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void ImapPoller::loop() {
    for (;;) {
        auto r = pollOnce();
        if (observer_) observer_(r ? *r : ImapPollStats{}, r ? std::string() : r.error());
        std::unique_lock lock(mu_);
        auto until = clock_.now() + options_.poll_interval;
        while (!stopping_ && clock_.now() < until) clock_.waitUntil(cv_, lock, until);
        if (stopping_) return;
    }
}

core::Result<ImapPollStats> ImapPoller::pollOnce() {
    Session s(options_);
    const bool move = !options_.move_to.empty();
    auto found = s.command(move ? std::string("UID SEARCH UNDELETED")
                                : fmt::format("UID SEARCH OR UNSEEN KEYWORD {}", kFetching));
    if (!found) return core::Error{found.error()};
    ImapPollStats stats;
    for (unsigned long uid : searchResult(*found)) {
        if (!move) {
            if (auto r = s.command(fmt::format("UID STORE {} +FLAGS ({})", uid, kFetching)); !r) {
                return core::Error{r.error()};
            }
        }
        auto raw = s.fetch(uid);
        if (!raw) return core::Error{raw.error()};
        ++stats.fetched;
        if (!handler_(std::move(*raw))) {
            // Not durable: leave it for the next poll (unseen again in mark_seen mode).
            if (!move) (void)s.command(fmt::format("UID STORE {} -FLAGS (\\Seen)", uid));
            return core::Error{fmt::format("message UID {} could not be stored; it stays", uid)};
        }
        ++stats.stored;
        if (move) {
            auto moved = s.command(fmt::format("UID MOVE {} {}", uid, quoted(options_.move_to)));
            if (!moved) return core::Error{moved.error()};
            continue;
        }
        auto seen = s.command(fmt::format("UID STORE {} +FLAGS (\\Seen {})", uid, kDone));
        if (!seen) return core::Error{seen.error()};
        auto clear = s.command(fmt::format("UID STORE {} -FLAGS ({})", uid, kFetching));
        if (!clear) return core::Error{clear.error()};
    }
    return stats;
}

}  // namespace alertbridge::email
