#pragma once
// How the SQLite store tells its failures apart: the class of a failed statement, the cause
// of a write error SQLite reported without its errno (a full disk, a file size limit, a file
// that cannot be written), and the backoff between attempts. Internal to plugin/state.

#include <string>

#include "plugin/core/result.hpp"
#include "plugin/state/store.hpp"

struct sqlite3;

namespace alertbridge::state {

// Which kind of trouble a failed statement is in. `sys_errno` is the OS error behind an
// I/O error: a file size limit (EFBIG) or a full disk surfaces as a write error, not as
// SQLITE_FULL, depending on where the write failed.
StoreErrorClass classify(int extended_rc, int sys_errno);

// Why the store at `path` cannot grow ("" when no such cause is seen): no space on its file
// system, or the process's file size limit reached by the database or its WAL.
std::string fullCause(const std::string& path);

// Which of the store's files the kernel refuses to let this process write ("" when none):
// immutable, read-only, or on a read-only mount (root included).
std::string readOnlyCause(const std::string& path);

// A file that is not a database or holds a malformed page: retrying cannot help, and
// writing on would bury what is left. What to say, and the check made when the store opens.
bool isDamage(int extended_rc);
std::string damageAdvice(const std::string& path);
// PRAGMA quick_check over the whole file (1 s for 490 MiB from the page cache): an error naming the
// first problems and how to recover when the file is damaged.
core::Status checkIntact(sqlite3* db, const std::string& path);

// What a failed statement on `db` was, in one line (the statement's `what`, SQLite's
// message and code, the errno behind an I/O error, and the cause found on disk), and its
// class. Reads (and clears) the errno the last failed step recorded on this thread.
struct StoreFailure {
    std::string message;
    StoreErrorClass cls = StoreErrorClass::kTransient;
};
StoreFailure describeFailure(sqlite3* db, const char* what, const std::string& path);

// Backoff between attempts while the store fails: it doubles from the class's first step.
core::Duration backoff(StoreErrorClass c, int failures);

}  // namespace alertbridge::state
