// Ingestion: from a path on disk to an artifact and its facts in the store.
//
// The kind of an artifact is found from its content (decompressed first bytes), never
// from its name alone; `--as KIND` overrides. Each artifact is loaded in one transaction.
// While the parser reads the file, a second thread computes its SHA-256, so hashing costs
// no extra wall time on a machine with two cores. An artifact whose path, size and
// modification time match a stored one is hashed; if the hash matches too, it is not read
// again.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "logs/app_format.hpp"
#include "store/store.hpp"

namespace dbautopsy::cli {

struct IngestOptions {
  std::optional<std::string> forced_kind;
  size_t max_statement_bytes = 16u << 20;
  // Data statistics (see parsers/pgdump/copy_stats.hpp).
  std::vector<std::string> ignore_columns;  // column, table.column or schema.table.column
  size_t row_cap = 50'000;                  // rows kept per table for keys and references
  size_t exact_cap = 2'000'000;             // distinct rows counted exactly per table
  // User log formats (--log-format), read by the app-log-user kind.
  std::shared_ptr<const logs::FormatSet> log_formats;
  // PostgreSQL stderr logs: the log_line_prefix, when given (else detected per file).
  std::optional<std::string> pg_prefix;

  // The options above that shape the facts, as stored with an artifact: an artifact read
  // with other options is read again.
  std::string signature() const;
};

// Adds --as, --max-statement-mb, --ignore-columns, --row-cap, --exact-cap, --log-format and
// --pg-prefix to a command, and turns their values into `options` after parsing (throws UsageError
// for bad ones).
struct IngestArgs {
  std::string kind;
  size_t max_statement_mb = 16;
  std::vector<std::string> ignore_columns;
  size_t row_cap = 50'000;
  size_t exact_cap = 2'000'000;
  std::vector<std::string> log_formats;  // format files, as given
  std::optional<std::string> pg_prefix;
};
void add_ingest_options(boost::program_options::options_description& d, IngestArgs& a,
                        bool with_as);
IngestOptions ingest_options(const IngestArgs& a);

// The --ignore-columns entries that name no column of any table in the store (a typo, most
// likely), for a warning.
std::vector<std::string> unmatched_ignore_columns(store::Store& store,
                                                  const IngestOptions& options);

// The files under a folder, sorted, by content rather than name: every regular file, and a
// pg_dump directory archive (a folder with toc.dat) as one artifact; dbautopsy's own
// .dbautopsy folder is skipped.
std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir);

// Bytes an input takes on disk: a file's size, a directory archive's files' sizes together
// (0 for what cannot be read; for a progress display only).
uint64_t size_on_disk(const std::filesystem::path& path);

struct ArtifactOutcome {
  std::string path;
  std::string kind;
  std::string codec;
  std::string status;  // ok, partial, failed, unsupported, unchanged
  std::string detail;
  int64_t id = 0;
  uint64_t size = 0;
};

// The kinds `--as` accepts and that detection yields.
std::vector<std::string> known_kinds();

ArtifactOutcome ingest_path(store::Store& store, const std::filesystem::path& path,
                            const std::string& display_path, const IngestOptions& options);

}  // namespace dbautopsy::cli
