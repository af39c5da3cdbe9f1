#include "plugin/state/wal_syncer.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace alertbridge::state {

namespace {

int openReadOnly(const std::string& path, int extra = 0) {
    int fd;
    do {
        fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | extra);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

}  // namespace

core::Result<std::unique_ptr<WalSyncer>> WalSyncer::open(const std::string& db_path,
                                                         const core::Clock& clock, SyncFn sync) {
    std::string path = db_path + "-wal";
    int fd = openReadOnly(path);
    if (fd < 0) {
        return core::Error{
            fmt::format("cannot open the write-ahead log \"{}\": {}", path, std::strerror(errno))};
    }
    auto dir = std::filesystem::path(db_path).parent_path();
    int dfd = openReadOnly(dir.empty() ? std::string(".") : dir.string(), O_DIRECTORY);
    int dir_rc = dfd < 0 ? -1 : ::fsync(dfd);
    int dir_errno = errno;
    if (dfd >= 0) ::close(dfd);
    if (dir_rc != 0) {
        ::close(fd);
        return core::Error{fmt::format("cannot sync the data folder of \"{}\": {}", db_path,
                                       std::strerror(dir_errno))};
    }
    if (!sync) sync = [](int f) { return ::fdatasync(f); };
    std::unique_ptr<WalSyncer> s(new WalSyncer(std::move(path), fd, clock, std::move(sync)));
    s->thread_ = std::thread([p = s.get()] {
        pthread_setname_np(pthread_self(), "ab-sync");
        p->loop();
    });
    return s;
}

WalSyncer::WalSyncer(std::string path, int fd, const core::Clock& clock, SyncFn sync)
    : path_(std::move(path)), fd_(fd), clock_(clock), sync_(std::move(sync)) {
    noteIdentity();
}

void WalSyncer::noteIdentity() {
    struct stat ours {};
    if (::fstat(fd_, &ours) == 0) {
        dev_ = ours.st_dev;
        ino_ = ours.st_ino;
    }
}

WalSyncer::~WalSyncer() {
    stop();
    if (fd_ >= 0) ::close(fd_);
}

void WalSyncer::submit(Finish finish) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(std::move(finish));
    }
    cv_.notify_one();
}

void WalSyncer::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void WalSyncer::loop() {
    std::vector<Finish> batch;
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything is answered
        batch.swap(queue_);
        lock.unlock();
        const auto started = clock_.now();
        auto status = syncOnce();
        Synced synced{std::max(0.0, std::chrono::duration<double>(clock_.now() - started).count()),
                      true};
        if (!status.ok()) {
            if (!failed_.exchange(true)) {
                spdlog::error(
                    "The write-ahead log could not be synced; what it holds may not survive a "
                    "power cut. Intake answers 503 until the whole log is copied into the "
                    "database file and synced. error=\"{}\"",
                    status.error());
            }
        } else if (failed_.load()) {
            status = core::Error{
                "an earlier sync of the write-ahead log failed; waiting for "
                "the log to be copied into the database file"};
        }
        for (auto& f : batch) {
            f(status, synced);
            synced.first = false;
        }
        batch.clear();
        lock.lock();
    }
}

// SQLite keeps the log file while any connection is open (it empties and reuses it, or cuts
// it back, but never replaces it), so the descriptor opened at the start stays the log's.
// Should the file at the path ever be another one, the sync follows it; if there is none,
// SQLite removed the log after copying all of it into the database file and syncing that.
// The descriptor's own identity is read once, not with every sync: one system call fewer
// per sync, on a thread that makes one for every few requests.
core::Status WalSyncer::syncOnce() {
    struct stat at_path {};
    if (::stat(path_.c_str(), &at_path) != 0) {
        if (errno == ENOENT) return core::okStatus();
    } else if (at_path.st_ino != ino_ || at_path.st_dev != dev_) {
        int fd = openReadOnly(path_);
        if (fd >= 0) {
            spdlog::warn(
                "The write-ahead log was replaced under the store; syncing the new one. "
                "file={}",
                path_);
            ::close(fd_);
            fd_ = fd;
            noteIdentity();
        }
    }
    int rc;
    do {
        rc = sync_(fd_);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        return core::Error{fmt::format("fsync of the write-ahead log \"{}\" failed: {}", path_,
                                       std::strerror(errno))};
    }
    return core::okStatus();
}

}  // namespace alertbridge::state
