#pragma once
// Small SQLite helpers shared by the store's writer, its readers and the schema code:
// an owning prepared statement, opening a connection with the store's pragmas, and the
// classification of SQLite failures. Internal to plugin/state.

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <utility>

#include "plugin/core/clock.hpp"
#include "plugin/core/result.hpp"
#include "plugin/core/time.hpp"

namespace alertbridge::state {

// The OS error behind the last failed statement on this thread (0: none), kept before the
// statement is reset, since a reset clears what sqlite3_system_errno() reports.
inline thread_local int t_last_system_errno = 0;

// RAII handle for a prepared statement.
class Stmt {
  public:
    Stmt() = default;
    Stmt(sqlite3* db, const char* sql) {
        if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK) {
            error_ = sqlite3_errmsg(db);
            s_ = nullptr;
        }
    }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt(Stmt&& o) noexcept : s_(o.s_), error_(std::move(o.error_)) { o.s_ = nullptr; }
    Stmt& operator=(Stmt&& o) noexcept {
        std::swap(s_, o.s_);
        std::swap(error_, o.error_);
        return *this;
    }
    ~Stmt() { sqlite3_finalize(s_); }
    sqlite3_stmt* get() const { return s_; }
    const std::string& error() const { return error_; }
    void bind(int i, long long v) { sqlite3_bind_int64(s_, i, v); }
    void bind(int i, std::string_view v) {
        sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    void bindBlob(int i, std::string_view v) {
        sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    }
    // Steps a statement that returns no rows and resets it.
    int run() {
        int rc = sqlite3_step(s_);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            t_last_system_errno = sqlite3_system_errno(sqlite3_db_handle(s_));
        }
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
        return rc == SQLITE_ROW ? SQLITE_DONE : rc;
    }
    std::string_view column(int i) const {
        auto p = static_cast<const char*>(sqlite3_column_blob(s_, i));
        return {p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s_, i))};
    }

  private:
    sqlite3_stmt* s_ = nullptr;
    std::string error_;
};

// Opens a connection in WAL mode with the store's pragmas.
core::Result<sqlite3*> openDb(const std::string& path, bool synchronous_full,
                              std::size_t cache_mib);

inline long long millis(core::TimePoint t) { return core::toUnixMillis(t); }

}  // namespace alertbridge::state
