// Helpers shared by the unit tests: temporary files and running the pg_dump reader over a
// string into an in-memory fact store.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "pgdump/copy_stats.hpp"
#include "pgdump/pgdump_sql.hpp"
#include "store/store.hpp"

namespace dbautopsy::test {

// A temporary folder removed at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path write(const std::string& name, std::string_view content) const;

 private:
  std::filesystem::path m_path;
};

// The repository root (tests read committed fixtures from it).
std::filesystem::path source_root();

struct Ingested {
  store::Store store;
  int64_t artifact = 0;
  pgdump::PgDumpSummary summary;

  // First column of the first row of a query, as text ("" when NULL or no row).
  std::string one(const std::string& sql);
  int64_t count(const std::string& sql) { return store.scalar_int(sql); }
};

// Runs read_pgdump_sql over `sql` (written to a file) into a fresh in-memory store.
Ingested ingest_sql(std::string_view sql, pgdump::PgDumpOptions options = {});
Ingested ingest_file(const std::filesystem::path& path, pgdump::PgDumpOptions options = {});

// The same with the table statistics of every COPY block (pgdump/copy_stats.hpp), as the
// pgdump-sql ingest computes them: table_stats gets its distinct rows, table_row its rows.
Ingested ingest_sql_with_stats(std::string_view sql, pgdump::CopyStatsOptions stats = {},
                               pgdump::PgDumpOptions options = {});
Ingested ingest_file_with_stats(const std::filesystem::path& path,
                                pgdump::CopyStatsOptions stats = {},
                                pgdump::PgDumpOptions options = {});

// The shared corpus of third-party files: $DBAUTOPSY_CORPUS, else a `shared/corpus` folder
// (holding pg_dump/) in a folder above the repository; nullopt when there is none.
std::optional<std::filesystem::path> corpus_dir();
// Whether a test that cannot find what it needs must fail rather than skip
// (DBAUTOPSY_REQUIRE_ALL set, or CI=true).
bool require_all();

}  // namespace dbautopsy::test
