// The pg_dump reading that the ingest does (src/cli/kinds.cpp, pgdump_options): COPY data to
// the table statistics, django_migrations INSERT rows to the records reader.
#pragma once

#include <memory>

#include "django/migration_records.hpp"
#include "pgdump/copy_stats.hpp"
#include "pgdump/pgdump_sql.hpp"
#include "store/facts.hpp"

namespace dbautopsy::fuzz {

inline pgdump::PgDumpOptions pgdump_options(store::FactWriter& out,
                                            const pgdump::CopyStatsOptions& stats) {
  pgdump::PgDumpOptions options;
  options.router = [&out, stats](const pgdump::CopyTarget& t) {
    return pgdump::make_copy_stats(t, out, stats);
  };
  options.inserts.wants = [](const std::string& table) { return table == "django_migrations"; };
  options.inserts.rows = [&out](const pgdump::CopyTarget& t, const pgdump::InsertRows& rows,
                                uint64_t line) {
    for (const auto& row : rows) {
      if (auto record = django::record_from_row(t.columns, row)) {
        record->line = static_cast<int64_t>(line);
        record->source = "insert";
        out.add(*record);
      }
    }
  };
  return options;
}

}  // namespace dbautopsy::fuzz
