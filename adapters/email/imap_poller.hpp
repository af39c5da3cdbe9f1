#pragma once
// ImapPoller: takes alert mail from an existing mailbox, for appliances that can only mail
// a fixed address. libcurl speaks IMAP; this class only decides what to ask. One thread per
// mailbox; every poll_interval it:
//   1. searches for new messages: unseen ones, plus any it had started on before a crash
//      (keyword $AlertbridgeFetching); in move mode, everything left in the mailbox;
//   2. per message: sets $AlertbridgeFetching, fetches it (which marks it \Seen), and hands
//      the raw bytes to the handler, which returns once the message is durable (or not);
//   3. only then marks it done: mark_seen adds \Seen and $AlertbridgeDone and removes the
//      fetching keyword; move:<folder> moves it. A message that was not stored is left for
//      the next poll, so nothing is lost; a crash between 2 and 3 fetches it again
//      (at-least-once; the pipeline's dedupe absorbs the repeat).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"

namespace alertbridge::email {

struct ImapOptions {
    std::string name;      // for logs and metrics
    std::string endpoint;  // imap://host:143 or imaps://host:993
    std::string username;
    std::string password;
    std::string mailbox = "INBOX";
    std::chrono::milliseconds poll_interval{15000};
    std::string move_to;  // empty: mark seen; else the folder messages are moved to
    std::chrono::milliseconds timeout{30000};
    std::string ca_file;  // PEM CAs to verify an imaps:// server with; empty: the system's
};

struct ImapPollStats {
    std::size_t fetched = 0;
    std::size_t stored = 0;
};

class ImapPoller {
  public:
    // Returns true once the raw message is durable.
    using Handler = std::function<bool(std::string raw)>;
    // After every poll: its outcome (error empty when the server answered).
    using Observer = std::function<void(const ImapPollStats&, const std::string& error)>;

    ImapPoller(ImapOptions options, Handler handler, Observer observer, const core::Clock& clock);
    ~ImapPoller();
    ImapPoller(const ImapPoller&) = delete;
    ImapPoller& operator=(const ImapPoller&) = delete;

    void start();
    void stop();
    // One poll, on the caller's thread (tests).
    core::Result<ImapPollStats> pollOnce();

  private:
    void loop();

    ImapOptions options_;
    Handler handler_;
    Observer observer_;
    const core::Clock& clock_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
};

}  // namespace alertbridge::email
