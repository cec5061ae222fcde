// Exports of the django_migrations table, in every form customers send them:
//   csv   with or without a header; columns in any order when there is a header (id, app,
//         name, applied), else told by the shapes of the values (below); also psql -A -F ,
//         (its "(N rows)" footer) and psql --csv
//   json  an array of objects {"id", "app", "name", "applied"}, or `dumpdata` style
//         [{"model": "migrations.migration", "pk": 1, "fields": {...}}]
//   psql  psql's aligned table output (header, dashes, rows, "(N rows)"), unaligned (-A,
//         '|'), and without a header (-t, -At)
//   csv_semicolon  CSV separated by ';' (spreadsheets in locales whose decimal mark is ','),
//         with or without a header, as csv
//   copy_text  `COPY django_migrations [(columns)] TO STDOUT` or `\copy ... TO FILE` in
//         COPY's default text format: tab-separated, `\N` for NULL, backslash escapes, no
//         header (or PostgreSQL 15's HEADER); columns as headerless csv
//   psql_expanded  `psql -x` output: "-[ RECORD N ]---" blocks of "column | value" lines;
//         -x -A and -x -t: blocks of "column|value" lines ended by a blank line or a rule
// and `manage.py showmigrations` output ([X] / [ ] per migration, with or without --list,
// or --plan).
//
// Without a header (COPY TO STDOUT, \copy, psql -t), the columns are told by the shapes of
// the first row's values: an id is a number, an app label an identifier, a migration name
// four digits and '_' (0001_initial), applied a timestamp; any order, any subset holding app
// and name. A first row whose values cannot be told apart is an error on its line and nothing
// is read; a later row whose values tell another order is an error and not read.
//
// Times are kept as written (time zone and all) when in DateStyle ISO; a time written under
// DateStyle SQL, German or Postgres is stored as ISO writes the same time (date and time as
// written, a zone abbreviation as its offset: "14/03/2026 10:12:05.748 CET" is
// "2026-03-14 10:12:05.748+01"). A SQL-style date is day/month when a value of the file has a
// first part past 12, month/day when one has a second part past 12; records the file never
// tells are kept without their time, with an error.
//
// A row that cannot be read (a CSV line with a column missing or an unclosed quote, a JSON
// element without "name", a psql row with a cell missing, invalid UTF-8, a showmigrations
// line with a mark Django never prints) is an `error` problem naming the line and what was
// expected: the rows before and after it are kept and the artifact is partial. An `applied`
// value that is no timestamp is an error too; its record is kept without the time. JSON
// that does not parse (cut short, say) keeps the array's elements before the damage. A
// file that is not of its format at all (a JSON object where an array is expected, a CSV
// with neither a header nor migration names) is an error on its first line and nothing
// is read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/input.hpp"
#include "store/facts.hpp"

namespace dbautopsy::django {

enum class RecordFormat { csv, json, psql, csv_semicolon, copy_text, psql_expanded };

// The export format `head` (the file's first bytes) is in, if any.
std::optional<RecordFormat> sniff_migration_records(std::string_view head);
bool sniff_showmigrations(std::string_view head);

struct RecordsSummary {
  uint64_t records = 0;
  uint64_t known = 0;  // showmigrations: migrations listed
};

RecordsSummary read_migration_records(io::InputStream& in, store::FactWriter& out,
                                      RecordFormat format);
RecordsSummary read_showmigrations(io::InputStream& in, store::FactWriter& out);

// Maps a dump's column list (empty: the table's own order id, app, name, applied) and one
// row of values to a record; nullopt when app or name is missing.
std::optional<store::MigrationRecordFact> record_from_row(
    const std::vector<std::string>& columns, const std::vector<std::optional<std::string>>& values);

}  // namespace dbautopsy::django
