// Helpers shared by the unit tests: temporary files and running the pg_dump reader over a
// string into an in-memory fact store.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

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

}  // namespace dbautopsy::test
