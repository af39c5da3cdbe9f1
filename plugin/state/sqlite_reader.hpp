#pragma once
// SqliteReader: the StoreReader on its own connection (WAL lets it read beside the
// writer). Not thread-safe: one per thread. Internal to plugin/state.

#include <memory>

#include "plugin/state/store.hpp"
#include "plugin/state/sqlite_util.hpp"

namespace alertbridge::state {

// Opens a reader on `path`; null (and a log line) when the file cannot be opened.
std::unique_ptr<StoreReader> openSqliteReader(const std::string& path, bool synchronous_full);

}  // namespace alertbridge::state
