#pragma once
// The store's schema: created on a new file, migrated in place from every earlier release,
// refused when a newer release made it. Internal to plugin/state; called once, before the
// writer thread starts, on the writer's connection.

#include <sqlite3.h>

#include "plugin/core/result.hpp"

namespace alertbridge::state {

// The version this release writes. History:
//   1: journal, alerts, outbox, emails; row ids could be reused once pruning emptied a table.
//   2: journal and outbox ids are AUTOINCREMENT and seeded above every id used or recorded.
//   3: outbox rows carry their element keys, so that a backlog coalesces.
//   4: outbox rows are notifications (key, not_before, receiver, group, reason, step), and
//      the notification log.
//   5: journal and outbox bodies may be zstd frames (body_codec.hpp). An earlier release
//      would read them as garbage, so it must refuse the file. Nothing to migrate.
//   6: journal ids are given by the writer above every id used or recorded (SqliteWrites),
//      not by AUTOINCREMENT, whose sequence row cost a page in every commit. The journal is
//      copied into a table without it; the old sequence's last id is kept in meta as
//      journal_id_floor.
//   7: alert records may be packed with a dictionary stored in record_dicts
//      (record_codec.hpp). An earlier release would skip them as damaged, so it must refuse
//      the file. The table is created; nothing else to migrate.
inline constexpr int kSchemaVersion = 7;

// Brings the database to kSchemaVersion in one transaction and seeds the outbox's id sequence.
// Returns the version found (0 for a new file), or an error that names the file's version
// when it cannot be read.
core::Result<int> migrateSchema(sqlite3* db);

}  // namespace alertbridge::state
