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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "logs/app_format.hpp"
#include "store/facts.hpp"
#include "store/store.hpp"

namespace dbautopsy::cli {

// A table whose data a dump holds without declaring it (pg_dump --data-only), as another
// dump of the store declares it with the same columns (pg_dump --schema-only of the same
// database): its surrogate columns (ids, insert times) are left out of its duplicate counts
// as if the dump had declared them (see read_data_with_schema).
struct SchemaHint {
  std::vector<store::ColumnFact> columns;
  std::string from;  // the path of the dump that declares them
};
using SchemaHints = std::map<std::pair<std::string, std::string>, SchemaHint>;  // schema, table

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
  // Read what symbolic links in a case folder lead to outside it (see walk_case).
  bool follow_links = false;
  // What a compressed file may expand to (io::DecodeLimits, set for the whole process).
  uint64_t max_ratio = 250;
  uint64_t max_decoded_mb = 0;
  // The declared columns of tables a dump does not declare itself (set by
  // read_data_with_schema).
  std::shared_ptr<const SchemaHints> schema_hints;
  // A run's first pass: an artifact read with schema hints and otherwise the same options is
  // unchanged (read_data_with_schema then checks the hints).
  bool keep_hinted = false;
  // The dumps of the later sections of a pre-data dump (pg_dump --section=post-data), read
  // after it as one script (on disk, as shown; set by read_data_with_schema).
  std::vector<std::pair<std::filesystem::path, std::string>> post_data;
  // A post-data dump read after this pre-data dump (as shown): its statements on tables it
  // does not create are not warned about one by one.
  std::string read_after;
  // The other per-table dumps of one database state (pg_dump -t, one file per table) read
  // after this one as one script (on disk, as shown; set by read_tables_together).
  std::vector<std::pair<std::filesystem::path, std::string>> table_dumps;
  // A per-table dump whose tables are read as part of this dump (as shown): it is no
  // snapshot of its own.
  std::string tables_into;

  // The options above that shape the facts, as stored with an artifact: an artifact read
  // with other options is read again.
  std::string signature() const;
};

// Adds --as, --max-statement-mb, --ignore-columns, --row-cap, --exact-cap, --log-format,
// --pg-prefix, --follow-links, --max-ratio and --max-decoded-mb to a command, and turns their
// values into `options` after parsing (throws UsageError for bad ones).
struct IngestArgs {
  std::string kind;
  size_t max_statement_mb = 16;
  std::vector<std::string> ignore_columns;
  size_t row_cap = 50'000;
  size_t exact_cap = 2'000'000;
  std::vector<std::string> log_formats;  // format files, as given
  std::optional<std::string> pg_prefix;
  bool follow_links = false;
  uint64_t max_ratio = 250;
  uint64_t max_decoded_mb = 0;
};
void add_ingest_options(boost::program_options::options_description& d, IngestArgs& a,
                        bool with_as);
IngestOptions ingest_options(const IngestArgs& a);

// The --ignore-columns entries that name no column of any table in the store (a typo, most
// likely), for a warning.
std::vector<std::string> unmatched_ignore_columns(store::Store& store,
                                                  const IngestOptions& options);

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

// What a walk of a case folder found at one path: something to read, or something it does
// not read, and why.
struct CaseEntry {
  std::filesystem::path path;  // under the folder, as reached (through links, if any)
  // Empty: read it. Else why it is not read: "link to outside the case, not read", "not a
  // regular file (FIFO), not read", "same file as X, read there", ...
  std::string skipped;
};

// Everything under a case folder, sorted by path: every regular file, and a pg_dump
// directory archive (a folder with toc.dat) as one artifact; dbautopsy's own .dbautopsy
// folder is left out. The folder cannot make dbautopsy read anything outside it: a symbolic
// link whose target (every component, `..` and nested link resolved) is outside the folder,
// or leads nowhere (dangling, a loop), is listed as skipped with only the link text shown,
// unless `follow_links`. A link inside the folder is followed, and a file or folder reached
// twice is read once (the path without links wins; the others are listed as skipped). FIFOs,
// sockets and devices are never opened: listed as skipped. A directory archive holding such
// an entry is skipped whole.
std::vector<CaseEntry> walk_case(const std::filesystem::path& dir, bool follow_links = false);

// The entries of walk_case that are read.
std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir,
                                               bool follow_links = false);

// Records an entry of walk_case that is not read as an artifact of kind `unknown`, status
// `skipped`, with the reason as its detail (reports list it among the inputs not analysed);
// a stored artifact of that path is forgotten.
ArtifactOutcome record_skipped(store::Store& store, const CaseEntry& entry,
                               const std::string& display_path);

// Why a path named on the command line (not found by a walk) is not read, or empty: the user
// named it, so a link is followed wherever it leads, but a FIFO, socket or device is never
// opened (the kind is found from a first read, the content from a second).
std::string not_readable_reason(const std::filesystem::path& path);

// A file's modification time as stored with its artifact (ISO 8601, nanoseconds, UTC), or
// empty when it cannot be read.
std::string file_mtime(const std::filesystem::path& path);

// The kinds `--as` accepts and that detection yields.
std::vector<std::string> known_kinds();

ArtifactOutcome ingest_path(store::Store& store, const std::filesystem::path& path,
                            const std::string& display_path, const IngestOptions& options);

// The second pass of a run, after every file was read (with `keep_hinted`): a dump holding
// data of tables it does not declare (pg_dump --data-only) is read again when another dump of
// the store declares those tables with the same columns (pg_dump --schema-only), so that
// their surrogate columns are known; one read with hints that no longer apply is read again
// without them. `files` are the run's files (on disk, as shown) and `outcomes` their first
// pass's outcomes, replaced where a file was read again.
void read_data_with_schema(store::Store& store,
                           const std::vector<std::pair<std::filesystem::path, std::string>>& files,
                           std::vector<ArtifactOutcome>& outcomes, const IngestOptions& options);

// Then: the dumps of one database's sections (pg_dump --section=pre-data and
// --section=post-data in two files, plain or archives) are read as one script. A dump that creates
// no table, holds no data and changes tables it does not create (indexes, constraints, triggers) is
// read after the dump that creates tables and declares no index or key, the one most like it
// by name (in the same folder, then by the start of the file names; two as alike: neither).
// The pre-data dump holds the facts of both; the post-data dump notes where its statements
// went. A dump read so by an earlier run that has no partner any more is read again alone.
void read_sections_together(store::Store& store,
                            const std::vector<std::pair<std::filesystem::path, std::string>>& files,
                            std::vector<ArtifactOutcome>& outcomes, const IngestOptions& options);

// Then: the dumps of one database state sent one table per file (`pg_dump -t TABLE` runs:
// before/teams.sql.gz, before/polls.sql.gz, ... or teams.before.sql, polls.before.sql, ...)
// are read as one script. Dumps whose file names start with the name of a table they hold
// and are otherwise the same (same folder, same rest of the name), two or more, none naming
// a database, no table in two of them, are one state: the first by path holds the facts of
// all, the others note where their tables went (`tables-into`) and are no snapshot of their
// own. A dump read so by an earlier run that has no partner any more is read again alone.
void read_tables_together(store::Store& store,
                          const std::vector<std::pair<std::filesystem::path, std::string>>& files,
                          std::vector<ArtifactOutcome>& outcomes, const IngestOptions& options);

}  // namespace dbautopsy::cli
