// Statistics of a table's rows, computed while its COPY data streams past.
//
// For every row: its fields are found (tabs), the surrogate columns are left out, and the
// rest is hashed with XXH3 (fields in COPY's text format, which is canonical: equal values
// have equal text). Hashes go to a DistinctCounter: rows, distinct rows and the most
// repeated rows, exactly up to a cap, then with a sketch (io/distinct.hpp). The first rows
// of every table are also kept, decoded, in table_row: natural keys, id remappings and
// orphaned references are found from them.
//
// A COPY in another format than pg_dump's (CSV, or text with another delimiter or NULL
// string) is decoded record by record (a quoted CSV field may span lines) and each record
// counted as the text COPY TO would write for it, so equal values make equal rows. A row
// of more than 64 MiB is hashed as it streams past and counted like the others, but not
// stored in table_row; a warning (copy-row-too-long) says how many there were.
//
// Surrogate columns are known from the schema facts the dump declared before its data:
// identity columns, nextval() defaults, random defaults (gen_random_uuid(), uuid_generate_v4(),
// random()), timestamp columns whose default is the insert time (now(), CURRENT_TIMESTAMP,
// ...), plus the user's --ignore-columns. A single-column integer or uuid primary key has no
// default when the application sets it, and pg_dump declares primary keys only after the
// data; so when the first column is an integer or a uuid without a default, the
// distinct rows are also counted without it, and the rules use that figure if the first
// column turns out to be the primary key.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pgdump/pgdump_sql.hpp"
#include "store/facts.hpp"

namespace dbautopsy::pgdump {

struct CopyStatsOptions {
  // Distinct rows counted exactly, per table, and twice that when the first column may be
  // the key (distinct_without_first): io/distinct.hpp's table takes 64 MiB at 2 million
  // (96 MiB for a moment as it grows there), so 128 MiB, 192 MiB at the peak. Sized so that
  // a dump's ingest stays under 150 MB in the usual case of one counter per table.
  size_t exact_cap = 2'000'000;
  size_t stored_rows = 50'000;  // rows kept in full in table_row, per table
  // Columns to leave out of duplicate counting: "column", "table.column" or
  // "schema.table.column".
  std::vector<std::string> ignore;
};

std::unique_ptr<CopyConsumer> make_copy_stats(const CopyTarget& target, store::FactWriter& out,
                                              const CopyStatsOptions& options);

// Whether a column is a surrogate, and why ("identity", "nextval default", "random default",
// "insert time"),
// or empty when it is not.
std::string surrogate_reason(const store::ColumnFact& column);

// Whether a table's first column, when it is, may be a key the application sets (an integer
// or a uuid without a default): its rows are then also counted without it.
bool may_be_application_key(const store::ColumnFact& column);

}  // namespace dbautopsy::pgdump
