#include "plugin/state/sqlite_errors.hpp"

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "plugin/state/sqlite_util.hpp"

namespace alertbridge::state {

std::string_view storeErrorClassName(StoreErrorClass c) {
    switch (c) {
        case StoreErrorClass::kTransient:
            return "transient";
        case StoreErrorClass::kFull:
            return "full";
        case StoreErrorClass::kFatal:
            return "fatal";
    }
    return "transient";
}

// Which kind of trouble a failed statement is in. `sys_errno` is the OS error behind an
// I/O error: a file size limit (EFBIG) or a full disk surfaces as a write error, not as
// SQLITE_FULL, depending on where the write failed.
StoreErrorClass classify(int extended_rc, int sys_errno) {
    switch (extended_rc & 0xff) {
        case SQLITE_FULL:
            return StoreErrorClass::kFull;
        case SQLITE_IOERR:
            if (sys_errno == ENOSPC || sys_errno == EFBIG || sys_errno == EDQUOT) {
                return StoreErrorClass::kFull;
            }
            // A file made read-only or immutable, or a file system remounted read-only:
            // only an operator can undo it.
            if (sys_errno == EPERM || sys_errno == EACCES || sys_errno == EROFS) {
                return StoreErrorClass::kFatal;
            }
            return StoreErrorClass::kTransient;
        case SQLITE_READONLY:
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
        case SQLITE_CANTOPEN:
        case SQLITE_PERM:
        case SQLITE_AUTH:
        case SQLITE_MISUSE:
            return StoreErrorClass::kFatal;
        default:
            return StoreErrorClass::kTransient;
    }
}

// SQLite does not always keep the OS error of a failed write. Tell a full disk or a file
// size limit from a passing I/O error by looking: free space on the file system, and the
// process's file size limit against the database and WAL sizes.
std::string fullCause(const std::string& path) {
    namespace fs = std::filesystem;
    struct statvfs st {};
    auto dir = fs::path(path).parent_path();
    if (::statvfs(dir.empty() ? "." : dir.c_str(), &st) == 0 &&
        static_cast<unsigned long long>(st.f_bavail) * st.f_frsize < 1024ULL * 1024) {
        return "no space left on the file system";
    }
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        for (const auto& f : {path, path + "-wal"}) {
            std::error_code ec;
            auto size = fs::file_size(f, ec);
            if (!ec && size + std::uintmax_t{64} * 1024 >= rl.rlim_cur) {
                return fmt::format("the file size limit ({} bytes) is reached", rl.rlim_cur);
            }
        }
    }
    return "";
}

// Nor the EPERM of a file made immutable or the EROFS of a file system remounted read-only.
// Ask the kernel whether the files may be written (root included: immutable files and
// read-only mounts refuse root too).
std::string readOnlyCause(const std::string& path) {
    for (const auto& f : {path, path + "-wal", path + "-shm"}) {
        if (::access(f.c_str(), W_OK) == 0) continue;
        int err = errno;
        if (err == EPERM || err == EACCES || err == EROFS) {
            return fmt::format("{} cannot be written: {}", f, std::strerror(err));
        }
    }
    return "";
}

bool isDamage(int extended_rc) {
    return (extended_rc & 0xff) == SQLITE_CORRUPT || (extended_rc & 0xff) == SQLITE_NOTADB;
}

std::string damageAdvice(const std::string& path) {
    return fmt::format(
        "the file is damaged and was left as it is. Stop alertbridge, keep a copy of it, then "
        "salvage what it holds with `sqlite3 {0} .dump | sed 's/^ROLLBACK; -- due to "
        "errors$/COMMIT;/' | sqlite3 {0}.recovered` (the dump skips the damaged pages and "
        "keeps the rest) and move {0}.recovered into its place (remove {0}-wal and {0}-shm first); "
        "moving the file "
        "aside instead starts empty and loses what it had not delivered",
        path);
}

core::Status checkIntact(sqlite3* db, const std::string& path) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(3)", -1, &stmt, nullptr);
    std::vector<std::string> problems;
    while (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const auto* text = sqlite3_column_text(stmt, 0);
        std::string line = text != nullptr ? reinterpret_cast<const char*>(text) : "";
        std::replace(line.begin(), line.end(), '\n', ' ');  // one log line
        if (line != "ok") problems.push_back(std::move(line));
    }
    int ext = sqlite3_extended_errcode(db);
    std::string err = sqlite3_errmsg(db);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        if (isDamage(ext)) {
            return core::Error{fmt::format("\"{}\": {}; {}", path, err, damageAdvice(path))};
        }
        return core::Error{fmt::format("\"{}\": checking the file failed: {}", path, err)};
    }
    if (problems.empty()) return core::okStatus();
    return core::Error{fmt::format("\"{}\": the integrity check found: {}; {}", path,
                                   fmt::join(problems, "; "), damageAdvice(path))};
}

// Backoff between attempts while the store fails: it doubles from the class's first step.
core::Duration backoff(StoreErrorClass c, int failures) {
    using std::chrono::milliseconds;
    long long first = c == StoreErrorClass::kTransient ? 100
                      : c == StoreErrorClass::kFull    ? 250
                                                       : 1000;
    long long ms = first << std::min(failures, 6);
    return milliseconds(std::min<long long>(ms, 5000));
}

StoreFailure describeFailure(sqlite3* db, const char* what, const std::string& path) {
    int ext = sqlite3_extended_errcode(db);
    int sys = t_last_system_errno != 0 ? t_last_system_errno : sqlite3_system_errno(db);
    t_last_system_errno = 0;
    StoreFailure f;
    f.message = fmt::format("{}: {} (SQLite code {}", what, sqlite3_errmsg(db), ext);
    if (sys != 0 && (ext & 0xff) == SQLITE_IOERR) {
        f.message += fmt::format(", errno {}: {}", sys, std::strerror(sys));
    }
    f.message += ")";
    f.cls = classify(ext, sys);
    if ((ext & 0xff) == SQLITE_IOERR && f.cls == StoreErrorClass::kTransient) {
        if (auto cause = fullCause(path); !cause.empty()) {
            f.cls = StoreErrorClass::kFull;
            f.message += ": " + cause;
        } else if (auto ro = readOnlyCause(path); !ro.empty()) {
            f.cls = StoreErrorClass::kFatal;
            f.message += ": " + ro;
        }
    }
    return f;
}

}  // namespace alertbridge::state
