#include "cli/kinds.hpp"

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/text.hpp"
#include "cli/output.hpp"
#include "django/migration_py.hpp"
#include "django/migration_records.hpp"
#include "django/sqlmigrate.hpp"
#include "logs/app_log.hpp"
#include "logs/pg_csv.hpp"
#include "logs/pg_json.hpp"
#include "logs/pg_stderr.hpp"
#include "logs/pgbouncer.hpp"
#include "pgdump/archive.hpp"
#include "pgdump/copy_stats.hpp"
#include "pgdump/copy_text.hpp"
#include "pgdump/pgdump_sql.hpp"

namespace dbautopsy::cli {

namespace fs = std::filesystem;

namespace {

// The rows of a dump's django_migrations table, from its COPY block.
class MigrationsCopy final : public pgdump::CopyConsumer {
 public:
  MigrationsCopy(store::FactWriter& out, pgdump::CopyTarget target)
      : m_out(out), m_target(std::move(target)) {}

  void rows(std::string_view block, uint64_t first_line) override {
    uint64_t line = first_line;
    size_t start = 0;
    while (start < block.size()) {
      size_t nl = block.find('\n', start);
      std::string_view row = block.substr(start, nl - start);
      if (!row.empty() && row.back() == '\r') {
        row.remove_suffix(1);  // a CRLF line end (a dump edited on Windows)
      }
      add(row, line++);
      start = nl == std::string_view::npos ? block.size() : nl + 1;
    }
  }
  void long_row(std::string_view, uint64_t line, bool last) override {
    if (last) {
      store::ProblemFact p;
      p.line = static_cast<int64_t>(line);
      p.severity = "warning";
      p.code = "django-migrations-row";
      p.message = fmt::format(
          "line {}: a django_migrations row longer than the read buffer; "
          "not read",
          line);
      m_out.add(p);
    }
  }
  void end(bool, uint64_t, store::TableStatsFact&) override {}

 private:
  void add(std::string_view row, uint64_t line) {
    auto fields = pgdump::decode_copy_row(row);
    auto record = django::record_from_row(m_target.columns, fields);
    if (!record) {
      store::ProblemFact p;
      p.line = static_cast<int64_t>(line);
      p.severity = "warning";
      p.code = "django-migrations-row";
      p.message = fmt::format("line {}: a django_migrations row without app or name", line);
      m_out.add(p);
      return;
    }
    record->line = static_cast<int64_t>(line);
    record->db = m_target.db;
    record->schema_name = m_target.schema;
    record->source = "copy";
    m_out.add(*record);
  }

  store::FactWriter& m_out;
  pgdump::CopyTarget m_target;
};

// How a pg_dump script (plain, or the script an archive stands for) is read: COPY data
// goes to the table statistics, django_migrations rows (COPY or INSERT) to its reader.
pgdump::PgDumpOptions pgdump_options(store::FactWriter& out, const IngestOptions& ingest) {
  pgdump::PgDumpOptions options;
  options.max_statement_bytes = ingest.max_statement_bytes;
  pgdump::CopyStatsOptions stats;
  stats.ignore = ingest.ignore_columns;
  stats.stored_rows = ingest.row_cap;
  stats.exact_cap = ingest.exact_cap;
  options.router = [&out, stats, hints = ingest.schema_hints](
                       const pgdump::CopyTarget& t) -> std::unique_ptr<pgdump::CopyConsumer> {
    std::vector<std::unique_ptr<pgdump::CopyConsumer>> consumers;
    const SchemaHint* hint = nullptr;
    if (hints && t.table_columns.empty()) {
      auto it = hints->find({t.schema, t.table});
      hint = it != hints->end() ? &it->second : nullptr;
    }
    if (hint) {
      // A table this dump holds the data of without declaring it, as another dump declares
      // it (read_data_with_schema checked that the columns are the COPY's).
      pgdump::CopyTarget declared = t;
      declared.table_columns = hint->columns;
      declared.table_columns_from = hint->from;
      consumers.push_back(pgdump::make_copy_stats(declared, out, stats));
    } else {
      consumers.push_back(pgdump::make_copy_stats(t, out, stats));
    }
    if (t.table == "django_migrations") {
      consumers.push_back(std::make_unique<MigrationsCopy>(out, t));
    }
    return std::make_unique<pgdump::FanOut>(std::move(consumers));
  };
  options.inserts.wants = [](const std::string& table) { return table == "django_migrations"; };
  options.inserts.rows = [&out](const pgdump::CopyTarget& t, const pgdump::InsertRows& rows,
                                uint64_t line) {
    for (const auto& row : rows) {
      if (auto record = django::record_from_row(t.columns, row)) {
        record->line = static_cast<int64_t>(line);
        record->db = t.db;
        record->schema_name = t.schema;
        record->source = "insert";
        out.add(*record);
      }
    }
  };
  return options;
}

// The dumps of a dump's later sections, read after it (read_sections_together): plain
// dumps as they are, archives as the script pg_restore would print for them. One that cannot
// be opened is a warning of the dump, and the rest is read.
std::vector<std::unique_ptr<io::Source>> open_post_data(const IngestOptions& ingest,
                                                        store::FactWriter& out,
                                                        pgdump::PgDumpOptions& options) {
  std::vector<std::unique_ptr<io::Source>> sources;
  if (!ingest.tables_into.empty()) {
    store::ProblemFact p;
    p.severity = "notice";
    p.code = "tables-joined";
    p.message = fmt::format(
        "a dump of one table's worth of the database (pg_dump -t), in the same folder and named "
        "like the dumps of the other tables: its tables are read as part of {}, with the "
        "lines of this file, and it is no snapshot of its own",
        ingest.tables_into);
    out.add(p);
  }
  options.appended_tables = !ingest.table_dumps.empty();
  const auto& later = options.appended_tables ? ingest.table_dumps : ingest.post_data;
  for (const auto& [disk, shown] : later) {
    try {
      std::string kind = detect_kind(disk);
      if (kind == "pgdump-custom" || kind == "pgdump-tar" || kind == "pgdump-dir") {
        sources.push_back(std::make_unique<pgdump::ArchiveScript>(disk));
      } else {
        sources.push_back(std::make_unique<io::InputStream>(disk));
      }
      options.appended.push_back({sources.back().get(), shown});
    } catch (const InputError& e) {
      store::ProblemFact p;
      p.severity = "warning";
      p.code = options.appended_tables ? "tables-joined" : "sections-joined";
      p.message = fmt::format("{}, which holds {}, cannot be read after it: {}", shown,
                              options.appended_tables ? "other tables of this database state"
                                                      : "the later sections of this dump",
                              e.detail());
      out.add(p);
    }
  }
  options.relations_read_with = ingest.read_after;
  return sources;
}

ReadSummary read_pgdump(io::InputStream& in, store::FactWriter& out, const IngestOptions& ingest) {
  pgdump::PgDumpOptions options = pgdump_options(out, ingest);
  auto appended = open_post_data(ingest, out, options);
  pgdump::PgDumpSummary s = pgdump::read_pgdump_sql(in, out, options);
  ReadSummary r;
  r.detail = fmt::format("{} statements, {} COPY blocks ({} rows), {} INSERT rows",
                         thousands(static_cast<long long>(s.statements)), s.copy_blocks,
                         thousands(static_cast<long long>(s.copy_rows)),
                         thousands(static_cast<long long>(s.insert_rows)));
  r.nothing = s.statements == 0 && s.copy_rows == 0;
  return r;
}

// A custom, tar or directory archive: the script `pg_restore -f -` would print for it is
// read like a plain dump (pgdump/archive.hpp), so both give the same facts.
ReadSummary read_pgdump_archive(const fs::path& path, store::FactWriter& out,
                                const IngestOptions& ingest) {
  pgdump::PgDumpOptions options = pgdump_options(out, ingest);
  auto appended = open_post_data(ingest, out, options);
  pgdump::ArchiveRead a = pgdump::read_pgdump_archive(path, out, options);
  ReadSummary r;
  r.nothing = a.failed || (a.script.statements == 0 && a.script.copy_rows == 0);
  if (a.failed) {
    return r;
  }
  r.detail =
      fmt::format("{} archive {} ({}), {} TOC entries, {} statements, {} COPY blocks ({} rows)",
                  pgdump::archive_format_name(a.header.format), a.header.version(),
                  pgdump::compression_name(a.header.compression),
                  thousands(static_cast<long long>(a.archive.entries_read)),
                  thousands(static_cast<long long>(a.script.statements)), a.script.copy_blocks,
                  thousands(static_cast<long long>(a.script.copy_rows)));
  if (a.archive.large_objects > 0) {
    r.detail += fmt::format(", {} large objects not read", a.archive.large_objects);
  }
  // Facts and problems give lines of the archive's script, which are those of
  // `pg_restore --verbose -f - FILE` (each entry headed by its "-- TOC entry N").
  r.detail += "; lines as in `pg_restore --verbose -f - FILE`";
  return r;
}

Kind archive_kind(const char* name, const char* description, pgdump::ArchiveFormat format) {
  Kind k;
  k.name = name;
  k.description = description;
  k.sniff = [format](std::string_view head, const fs::path& path) {
    if (format == pgdump::ArchiveFormat::directory) {
      return pgdump::is_pgdump_directory(path) ? 100 : 0;
    }
    auto f = pgdump::sniff_pgdump_archive(head);
    return f && *f == format ? 100 : 0;
  };
  k.read_path = read_pgdump_archive;
  return k;
}

std::function<ReadSummary(io::InputStream&, store::FactWriter&, const IngestOptions&)>
records_reader(django::RecordFormat format) {
  return [format](io::InputStream& in, store::FactWriter& out, const IngestOptions&) {
    django::RecordsSummary s = django::read_migration_records(in, out, format);
    return ReadSummary{fmt::format("{} django_migrations rows", s.records), s.records == 0};
  };
}

// Application and ETL logs (parsers/logs/app_log.hpp).
ReadSummary app_log_summary(const logs::AppLogSummary& s) {
  ReadSummary r;
  r.detail = fmt::format("{} log entries ({} with a traceback) in {} lines, format {}",
                         thousands(static_cast<long long>(s.events)),
                         thousands(static_cast<long long>(s.tracebacks)),
                         thousands(static_cast<long long>(s.lines)), s.format);
  if (s.unmatched > 0) {
    r.detail +=
        fmt::format(", {} lines of no entry", thousands(static_cast<long long>(s.unmatched)));
  }
  r.nothing = s.events == 0;
  return r;
}

std::function<int(std::string_view, const fs::path&)> records_sniffer(django::RecordFormat format) {
  return [format](std::string_view head, const fs::path&) {
    auto f = django::sniff_migration_records(head);
    return f && *f == format ? 80 : 0;
  };
}

// PostgreSQL's stderr log, any log_line_prefix (given by --pg-prefix or detected).
ReadSummary read_pg_stderr(io::InputStream& in, store::FactWriter& out,
                           const IngestOptions& ingest) {
  logs::PgStderrOptions options;
  options.prefix = ingest.pg_prefix;
  logs::PgStderrSummary s = logs::read_pg_stderr(in, out, options);
  ReadSummary r;
  r.detail = fmt::format(
      "{} log entries ({} lines), prefix '{}' ({}){}", thousands(s.events), thousands(s.lines),
      s.prefix, ingest.pg_prefix ? "given" : (s.derived ? "derived from the lines" : "detected"),
      s.envelope == logs::Envelope::none
          ? std::string()
          : fmt::format(", {} envelope", logs::envelope_name(s.envelope)));
  if (s.unmatched > 0) {
    r.detail += fmt::format(", {} lines matched no entry", thousands(s.unmatched));
  }
  r.nothing = s.events == 0;
  return r;
}

}  // namespace

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> k_kinds = {
      {"pgdump-sql", "pg_dump / pg_dumpall plain SQL output",
       [](std::string_view head, const fs::path&) { return pgdump::sniff_pgdump_sql(head); },
       read_pgdump, ""},
      archive_kind("pgdump-custom", "pg_dump custom-format archive (-Fc)",
                   pgdump::ArchiveFormat::custom),
      archive_kind("pgdump-tar", "pg_dump tar archive (-Ft)", pgdump::ArchiveFormat::tar),
      archive_kind("pgdump-dir", "pg_dump directory archive (-Fd)",
                   pgdump::ArchiveFormat::directory),
      {"django-sqlmigrate", "manage.py sqlmigrate output of one migration",
       [](std::string_view head, const fs::path& path) {
         return django::sniff_sqlmigrate(head, path);
       },
       [](io::InputStream& in, store::FactWriter& out, const IngestOptions&) {
         django::SqlmigrateSummary s = django::read_sqlmigrate(in, out);
         return ReadSummary{fmt::format("{} statements, {} effects", s.statements, s.effects),
                            false};
       },
       ""},
      {"django-migrations-csv", "django_migrations exported as CSV",
       records_sniffer(django::RecordFormat::csv), records_reader(django::RecordFormat::csv), ""},
      {"django-migrations-json",
       "django_migrations exported as JSON (an array, JSON lines, or the array inside an object)",
       records_sniffer(django::RecordFormat::json), records_reader(django::RecordFormat::json), ""},
      {"django-migrations-psql", "django_migrations as psql table output",
       records_sniffer(django::RecordFormat::psql), records_reader(django::RecordFormat::psql), ""},
      {"django-migrations-psql-x", "django_migrations as psql expanded output (psql -x)",
       records_sniffer(django::RecordFormat::psql_expanded),
       records_reader(django::RecordFormat::psql_expanded), ""},
      {"django-migrations-copy", "django_migrations as \\copy text (tab-separated, \\N)",
       records_sniffer(django::RecordFormat::copy_text),
       records_reader(django::RecordFormat::copy_text), ""},
      {"django-migrations-csv-semicolon", "django_migrations exported as ;-separated CSV",
       records_sniffer(django::RecordFormat::csv_semicolon),
       records_reader(django::RecordFormat::csv_semicolon), ""},
      {"django-showmigrations", "manage.py showmigrations output",
       [](std::string_view head, const fs::path&) {
         return django::sniff_showmigrations(head) ? 75 : 0;
       },
       [](io::InputStream& in, store::FactWriter& out, const IngestOptions&) {
         django::RecordsSummary s = django::read_showmigrations(in, out);
         return ReadSummary{fmt::format("{} migrations listed, {} applied", s.known, s.records),
                            s.known == 0};
       },
       ""},
      // Effects are derived once every file of a case is read (django::write_py_effects).
      {"django-migration-py", "Django migration file (.py), read without running it",
       [](std::string_view head, const fs::path&) { return django::sniff_migration_py(head); },
       [](io::InputStream& in, store::FactWriter& out, const IngestOptions&) {
         django::MigrationPySummary s = django::read_migration_py(in, out);
         return ReadSummary{fmt::format("{} dependencies, {} operations ({} opaque)",
                                        s.dependencies, s.operations, s.opaque),
                            !s.migration};
       },
       ""},
      // PostgreSQL's structured logs: csvlog, and jsonlog with the cloud envelopes around it.
      {"pg-log-csv", "PostgreSQL csvlog (22, 23, 24 or 26 columns: PostgreSQL 8.4 to 16+)",
       [](std::string_view head, const fs::path&) { return logs::sniff_pg_csv(head); },
       [](io::InputStream& in, store::FactWriter& out, const IngestOptions& options) {
         logs::CsvLogSummary s = logs::read_pg_csv(in, out, options.max_statement_bytes);
         std::string layouts;
         for (const auto& [columns, records] : s.layouts) {
           layouts += fmt::format("{}{} of {} columns", layouts.empty() ? "" : ", ",
                                  thousands(records), columns);
         }
         return ReadSummary{
             fmt::format("{} log entries ({}), {} lines{}", thousands(s.events),
                         layouts.empty() ? "none" : layouts, thousands(s.lines),
                         s.unmatched ? fmt::format(", {} not csvlog", thousands(s.unmatched))
                                     : std::string()),
             s.events == 0};
       },
       ""},
      {"pg-log-json",
       "PostgreSQL jsonlog (15+), and its CloudNativePG and Cloud SQL envelopes (JSON lines)",
       [](std::string_view head, const fs::path&) { return logs::sniff_pg_json(head); },
       [](io::InputStream& in, store::FactWriter& out, const IngestOptions& options) {
         logs::JsonLogSummary s = logs::read_pg_json(in, out, options.max_statement_bytes);
         std::vector<std::string> parts;
         for (auto [n, what] : {std::pair{s.jsonlog, "jsonlog"},
                                {s.cnpg, "CloudNativePG records"},
                                {s.cnpg_operator, "CloudNativePG operator lines"},
                                {s.cloudsql, "Cloud SQL lines"}}) {
           if (n > 0) {
             parts.push_back(fmt::format("{} {}", thousands(n), what));
           }
         }
         return ReadSummary{
             fmt::format("{} log entries from {} lines ({}){}", thousands(s.events),
                         thousands(s.lines), parts.empty() ? "none" : text::join(parts, ", "),
                         s.unmatched ? fmt::format(", {} not read", thousands(s.unmatched))
                                     : std::string()),
             s.events == 0};
       },
       ""},
      // Application and ETL logs. Naive times (no zone written) are stored as UTC.
      {"app-log-python",
       "Python logging output (Airflow, Django's error log, common formats; tracebacks kept "
       "with their entry; times without a zone taken as UTC)",
       [](std::string_view head, const fs::path&) { return logs::sniff_python_log(head); },
       [](io::InputStream& in, store::FactWriter& out, const IngestOptions&) {
         return app_log_summary(logs::read_python_log(in, out));
       },
       ""},
      {"app-log-jsonl",
       "JSON lines logs (one object per line: timestamp/time/@timestamp, level/levelname, "
       "message/msg/event, logger/name; times without a zone taken as UTC)",
       [](std::string_view head, const fs::path&) { return logs::sniff_json_lines(head); },
       [](io::InputStream& in, store::FactWriter& out, const IngestOptions&) {
         return app_log_summary(logs::read_json_lines(in, out));
       },
       ""},
      {"app-log-user",
       "log in a format given by --log-format FILE (RE2 patterns or JSON-lines field names; "
       "times without a zone taken as UTC)",
       [](std::string_view, const fs::path&) { return 0; },  // detect_kind(path, options)
       [](io::InputStream& in, store::FactWriter& out, const IngestOptions& options) {
         if (!options.log_formats) {
           store::ProblemFact p;
           p.severity = "error";
           p.code = "log-format-missing";
           p.message =
               "app-log-user needs --log-format FILE (the format of the log); nothing is "
               "read";
           out.add(p);
           return ReadSummary{"", true};
         }
         return app_log_summary(logs::read_user_log(in, out, options.log_formats->formats));
       },
       ""},
      {"pgbouncer-log",
       "PgBouncer's log (1.x, with or without a zone; the connection's database, user and "
       "client kept)",
       [](std::string_view head, const fs::path&) { return logs::sniff_pgbouncer(head); },
       [](io::InputStream& in, store::FactWriter& out, const IngestOptions&) {
         return app_log_summary(logs::read_user_log(in, out, logs::pgbouncer_formats()));
       },
       ""},
      // Logs: PostgreSQL stderr.
      {"pg-log-stderr", "PostgreSQL stderr log (any log_line_prefix; syslog, logplex envelopes)",
       [](std::string_view head, const fs::path&) { return logs::sniff_pg_stderr(head); },
       read_pg_stderr, ""},
  };
  return k_kinds;
}

const Kind* find_kind(const std::string& name) {
  for (const auto& k : kinds()) {
    if (k.name == name) {
      return &k;
    }
  }
  return nullptr;
}

std::string kinds_help() {
  std::string out = "Kinds (found from each file's content, compressed or not; --as forces one):\n";
  for (const auto& k : kinds()) {
    out += fmt::format("  {:<24} {}{}\n", k.name, k.description,
                       k.read || k.read_path ? "" : " (recognised, not read yet)");
  }
  return out;
}

std::string unknown_reason(const fs::path& path) {
  if (fs::is_directory(path)) {
    return "a folder that is not a pg_dump directory archive (no toc.dat)";
  }
  io::Head head = io::read_head(path);
  std::string codec = head.codec == io::Codec::none
                          ? std::string()
                          : fmt::format("{}-compressed ", io::codec_name(head.codec));
  if (head.bytes.empty()) {
    return head.codec == io::Codec::none ? "empty file (0 bytes)"
                                         : fmt::format("{}file that holds no data", codec);
  }
  if (size_t nul = head.bytes.find('\0'); nul != std::string::npos) {
    return fmt::format(
        "{}binary data (a NUL byte at offset {}), and no format dbautopsy reads: it expects "
        "text (SQL dumps, CSV, JSON, logs, Python) or a pg_dump archive",
        codec, nul);
  }
  std::string_view text = head.bytes;
  if (auto bad = text::invalid_utf8_at(text); bad && (head.whole_file || *bad + 4 < text.size())) {
    return fmt::format(
        "{}binary or non-UTF-8 data (invalid UTF-8 at offset {}), and no format dbautopsy reads",
        codec, *bad);
  }
  std::string first = text::abbreviate(text.substr(0, text.find('\n')), 80);
  return fmt::format(
      "{}text of no kind dbautopsy reads (first line: \"{}\"); `dbautopsy ingest --help` lists "
      "the kinds, --as forces one",
      codec, first);
}

std::string detect_kind(const fs::path& path) {
  if (fs::is_directory(path)) {
    return fs::exists(path / "toc.dat") ? "pgdump-dir" : "unknown";
  }
  io::Head head = io::read_head(path);
  std::string best = "unknown";
  int best_score = 0;
  for (const auto& k : kinds()) {
    int score = k.sniff(head.bytes, path);
    if (score > best_score) {
      best_score = score;
      best = k.name;
    }
  }
  return best;
}

std::string detect_kind(const fs::path& path, const IngestOptions& options) {
  if ((!options.log_formats && !options.pg_prefix) || fs::is_directory(path)) {
    return detect_kind(path);
  }
  // The user's word wins over the built-in readers' guesses, not over a kind they are sure
  // of (a pg_dump archive, a migration file): a format file, or the prefix of a PostgreSQL
  // stderr log (--pg-prefix), whatever it is.
  io::Head head = io::read_head(path);
  int user =
      options.log_formats ? logs::sniff_user_log(head.bytes, options.log_formats->formats) : 0;
  std::string best = "unknown";
  int best_score = 0;
  for (const auto& k : kinds()) {
    int score = k.name == "pg-log-stderr" && options.pg_prefix
                    ? logs::sniff_pg_stderr(head.bytes, options.pg_prefix)
                    : k.sniff(head.bytes, path);
    if (score > best_score) {
      best_score = score;
      best = k.name;
    }
  }
  return user > best_score ? "app-log-user" : best;
}

}  // namespace dbautopsy::cli
