// `manage.py sqlmigrate APP MIGRATION` outputs: the DDL a migration runs, as Django printed it.
//
// The file's statements are replayed (pgsql/script_effects.hpp) to learn the migration's
// effects: tables, columns (with type, nullability, default), indexes and constraints
// created, altered, renamed or dropped, each with the schema it targets -- NULL when the
// SQL left it to the search_path, which is what Django always does. RunSQL DO blocks are
// opened. The migration is named by the file's path: `sqlmigrate/<app>/<migration>.sql`,
// `<app>/<migration>.sql` or `<app>.<migration>.sql`.
//
// Bad input: a statement PostgreSQL 15's parser rejects (or a DO block whose PL/pgSQL does
// not parse) is an `error` problem on its line; the other statements are still replayed
// and the artifact is partial. An output that begins with BEGIN; but does not end with
// COMMIT; was cut short: an error on its last line. A file whose name names no migration
// is an error and nothing is read.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "io/input.hpp"
#include "store/facts.hpp"

namespace dbautopsy::pgsql {
struct Effect;
}

namespace dbautopsy::django {

// The fact of one effect of migration `app`.`name`, as read from `source` (sqlmigrate, py).
// A schema left to the search_path is NULL.
store::MigrationEffectFact effect_fact(const std::string& app, const std::string& name,
                                       const pgsql::Effect& e, int64_t seq, const char* source);

// (app, migration) named by a path, or nullopt.
std::optional<std::pair<std::string, std::string>> migration_from_path(
    const std::filesystem::path& path);

// Looks like sqlmigrate output (0..100).
int sniff_sqlmigrate(std::string_view head, const std::filesystem::path& path);

struct SqlmigrateSummary {
  uint64_t statements = 0;
  uint64_t effects = 0;
};

SqlmigrateSummary read_sqlmigrate(io::InputStream& in, store::FactWriter& out);

}  // namespace dbautopsy::django
