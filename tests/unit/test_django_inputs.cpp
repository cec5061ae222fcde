// The Django readers (parsers/django) over every form in which customers send Django's
// side of an incident: django_migrations as CSV (with and without a header, columns in any
// order), JSON (json_agg and Django's serializer), psql's table output and the COPY block
// or INSERTs of a pg_dump; `manage.py showmigrations` in each layout; `manage.py
// sqlmigrate` outputs named by folder or by file name, DO blocks included.
//
// Every input is real: fixtures/django_inputs was made by
// fixtures/generate/django/inputs.sh with Django 3.2 and PostgreSQL 15 (each export under
// its own TimeZone, so the offsets differ), and what each form must yield is in its
// expected_*.tsv, computed by SQL on the real database (the effects of a migration from
// the catalog before and after `migrate` ran it). The malformed inputs are real files
// with one stated, scripted edit each (fixtures/generate/django/tools/damage_inputs.py, or
// below where a test makes its own): each must give an error naming its line and what was
// expected, and the rows before and after it must still be read.

#include <fmt/format.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "django/migration_records.hpp"
#include "django/sqlmigrate.hpp"
#include "io/input.hpp"
#include "pgdump/copy_text.hpp"
#include "pgdump/pgdump_sql.hpp"
#include "store/facts.hpp"
#include "support.hpp"

using namespace dbautopsy;
using Catch::Matchers::Contains;
using dbautopsy::test::source_root;
using dbautopsy::test::TempDir;

namespace {

namespace fs = std::filesystem;

fs::path inputs(const std::string& name) {
  return source_root() / "fixtures/django_inputs" / name;
}

std::string slurp(const fs::path& path) {
  io::InputStream in(path);
  std::string out;
  std::string buf(1 << 16, '\0');
  while (size_t got = in.read(buf.data(), buf.size())) {
    out.append(buf.data(), got);
  }
  return out;
}

std::vector<std::string> split_tab(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab - start));
    if (tab == std::string::npos) {
      return out;
    }
    start = tab + 1;
  }
}

// The rows of a fixture's expected_*.tsv (its header line dropped).
std::vector<std::vector<std::string>> tsv(const std::string& name) {
  std::ifstream in(inputs(name));
  REQUIRE(in);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (!line.empty()) {
      rows.push_back(split_tab(line));
    }
  }
  return rows;
}

// One artifact read by one reader into a fresh in-memory store.
struct Read {
  store::Store store;
  int64_t artifact = 0;
  uint64_t read = 0;  // what the reader says it read (records, migrations, effects)
  int64_t errors = 0;
  int64_t warnings = 0;

  // The artifact's status as ingestion sets it: errors make it partial, or failed when
  // nothing could be read.
  std::string status() const { return errors == 0 ? "ok" : read > 0 ? "partial" : "failed"; }

  // Every row of a query, columns joined by '|', NULL as "NULL".
  std::vector<std::string> rows(const std::string& sql) {
    store::Statement st = store.prepare(sql);
    std::vector<std::string> out;
    while (st.step()) {
      std::string row;
      for (int i = 0; i < st.column_count(); ++i) {
        row += (i ? "|" : "") + (st.is_null(i) ? std::string("NULL") : st.get_text(i));
      }
      out.push_back(row);
    }
    st.reset();
    return out;
  }
  std::string one(const std::string& sql) {
    auto r = rows(sql);
    return r.empty() ? std::string() : r.front();
  }
  int64_t count(const std::string& sql) { return store.scalar_int(sql); }
};

template <typename Reader>
Read read_with(const fs::path& path, const std::string& kind, Reader reader) {
  Read r{store::Store::open_memory()};
  store::ArtifactFact a;
  a.path = path.filename().string();
  a.kind = kind;
  r.artifact = store::add_artifact(r.store, a);
  store::FactWriter writer(r.store, r.artifact);
  io::InputStream in(path);
  r.read = reader(in, writer);
  r.errors = writer.errors();
  r.warnings = writer.warnings();
  return r;
}

Read read_records(const fs::path& path, django::RecordFormat format) {
  return read_with(path, "django-migrations", [format](io::InputStream& in, store::FactWriter& w) {
    return django::read_migration_records(in, w, format).records;
  });
}

Read read_showmigrations(const fs::path& path) {
  return read_with(path, "django-showmigrations", [](io::InputStream& in, store::FactWriter& w) {
    return django::read_showmigrations(in, w).known;
  });
}

Read read_sqlmigrate(const fs::path& path) {
  return read_with(path, "django-sqlmigrate", [](io::InputStream& in, store::FactWriter& w) {
    return django::read_sqlmigrate(in, w).effects;
  });
}

// A dump's django_migrations rows, as the command line reads them: COPY rows decoded and
// INSERT rows, each mapped by the dump's column list (django::record_from_row).
class MigrationsCopy final : public pgdump::CopyConsumer {
 public:
  MigrationsCopy(store::FactWriter& out, pgdump::CopyTarget target)
      : m_out(out), m_target(std::move(target)) {}
  void rows(std::string_view block, uint64_t first_line) override {
    uint64_t line = first_line;
    for (size_t start = 0; start < block.size();) {
      size_t nl = block.find('\n', start);
      auto record = django::record_from_row(
          m_target.columns, pgdump::decode_copy_row(block.substr(start, nl - start)));
      REQUIRE(record);
      record->line = static_cast<int64_t>(line++);
      record->schema_name = m_target.schema;
      record->source = "copy";
      m_out.add(*record);
      start = nl == std::string_view::npos ? block.size() : nl + 1;
    }
  }
  void long_row(std::string_view, uint64_t, bool) override { FAIL("no long rows here"); }
  void end(bool, uint64_t, store::TableStatsFact&) override {}

 private:
  store::FactWriter& m_out;
  pgdump::CopyTarget m_target;
};

Read read_dump(const fs::path& path) {
  return read_with(path, "pgdump-sql", [](io::InputStream& in, store::FactWriter& w) {
    pgdump::PgDumpOptions options;
    options.router = [&w](const pgdump::CopyTarget& t) -> std::unique_ptr<pgdump::CopyConsumer> {
      if (t.table != "django_migrations") {
        return nullptr;
      }
      return std::make_unique<MigrationsCopy>(w, t);
    };
    options.inserts.wants = [](const std::string& table) { return table == "django_migrations"; };
    options.inserts.rows = [&w](const pgdump::CopyTarget& t, const pgdump::InsertRows& rows,
                                uint64_t line) {
      for (const auto& row : rows) {
        auto record = django::record_from_row(t.columns, row);
        REQUIRE(record);
        record->line = static_cast<int64_t>(line);
        record->schema_name = t.schema;
        record->source = "insert";
        w.add(*record);
      }
    };
    pgdump::PgDumpSummary s = pgdump::read_pgdump_sql(in, w, options);
    return s.copy_rows + s.insert_rows;
  });
}

// "id|app|name|applied" for every record of a form in expected_records.tsv, in id order.
std::vector<std::string> expected_records(const std::string& form) {
  std::vector<std::string> out;
  for (const auto& row : tsv("expected_records.tsv")) {
    REQUIRE(row.size() == 5);
    if (row[0] == form) {
      out.push_back((row[1].empty() ? "NULL" : row[1]) + "|" + row[2] + "|" + row[3] + "|" +
                    row[4]);
    }
  }
  REQUIRE(out.size() == 28);
  return out;
}

const char* k_records =
    "SELECT coalesce(record_id, 'NULL'), app, name, applied_at FROM migration_record ORDER BY "
    "line";

// The problems of an artifact as "severity|code|line", in order.
std::vector<std::string> problems(Read& r) {
  return r.rows("SELECT severity, code, coalesce(line, 'NULL') FROM problem ORDER BY id");
}

std::string first_error_message(Read& r) {
  return r.one("SELECT message FROM problem WHERE severity = 'error' ORDER BY id LIMIT 1");
}

// The line of each record of a migration_record table, "app.name" -> line.
std::map<std::string, int64_t> record_lines(Read& r) {
  std::map<std::string, int64_t> out;
  for (const auto& row : r.rows("SELECT app || '.' || name, line FROM migration_record")) {
    size_t bar = row.find('|');
    out[row.substr(0, bar)] = std::stoll(row.substr(bar + 1));
  }
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------ records

TEST_CASE("Django inputs: every django_migrations export form yields every row, times exact") {
  struct Form {
    const char* file;
    django::RecordFormat format;
    const char* expected;  // its form in expected_records.tsv
    int64_t first_line;    // the line of the first record
    int64_t lines_per_record;
    const char* source;
  };
  const Form forms[] = {
      {"records/django_migrations.csv", django::RecordFormat::csv, "csv", 2, 1, "csv"},
      {"records/django_migrations.reordered.csv", django::RecordFormat::csv, "reordered_csv", 2, 1,
       "csv"},
      {"records/django_migrations.noheader.csv", django::RecordFormat::csv, "noheader_csv", 1, 1,
       "csv"},
      {"records/django_migrations.noheader_3col.csv", django::RecordFormat::csv,
       "noheader_3col_csv", 1, 1, "csv"},
      {"records/django_migrations.json", django::RecordFormat::json, "json", 1, 1, "json"},
      {"records/django_migrations.dumpdata.json", django::RecordFormat::json, "dumpdata", 2, 9,
       "json"},
      {"records/django_migrations.psql.txt", django::RecordFormat::psql, "psql", 3, 1, "psql"},
      // \copy's default text format, psql -x (a "-[ RECORD N ]" line and four "column |
      // value" lines per row; a record points at its RECORD line), a ;-separated CSV.
      {"records/django_migrations.copy.txt", django::RecordFormat::copy_text, "copy_text", 1, 1,
       "copy"},
      {"records/django_migrations.psql_x.txt", django::RecordFormat::psql_expanded, "psql_x", 1, 5,
       "psql"},
      {"records/django_migrations.semicolon.csv", django::RecordFormat::csv_semicolon,
       "semicolon_csv", 2, 1, "csv"},
      // psql's table as ~/.psqlrc often draws it: \pset linestyle unicode (│ ─ ┼), \pset
      // border 2 (a frame: +----+ above the header, | at both ends), and both.
      {"records/django_migrations.psql_unicode.txt", django::RecordFormat::psql, "psql_unicode", 3,
       1, "psql"},
      {"records/django_migrations.psql_border2.txt", django::RecordFormat::psql, "psql_border2", 4,
       1, "psql"},
      {"records/django_migrations.psql_unicode_border2.txt", django::RecordFormat::psql,
       "psql_unicode_border2", 4, 1, "psql"},
  };
  for (const Form& f : forms) {
    INFO(f.file);
    Read r = read_records(inputs(f.file), f.format);
    CHECK(r.read == 28);
    CHECK(r.rows(k_records) == expected_records(f.expected));
    CHECK(r.count("SELECT count(*) FROM problem") == 0);
    CHECK(r.status() == "ok");
    // Each record points at its line in the file.
    auto lines = r.rows("SELECT line FROM migration_record ORDER BY line");
    REQUIRE(lines.size() == 28);
    for (size_t i = 0; i < lines.size(); ++i) {
      CHECK(std::stoll(lines[i]) == f.first_line + static_cast<int64_t>(i) * f.lines_per_record);
    }
    CHECK(r.one("SELECT group_concat(DISTINCT source) FROM migration_record") == f.source);
  }
}

TEST_CASE("Django inputs: applied times keep their time zone exactly as each export wrote it") {
  // The same instant, teams 0003 applied at 2025-12-08 14:30:07.075417 UTC, in six exports.
  const std::pair<const char*, const char*> seen[] = {
      {"records/django_migrations.csv", "2025-12-08 14:30:07.075417+00"},
      {"records/django_migrations.reordered.csv", "2025-12-08 11:00:07.075417-03:30"},
      {"records/django_migrations.noheader.csv", "2025-12-08 20:00:07.075417+05:30"},
      {"records/django_migrations.noheader_3col.csv", "2025-12-08 15:30:07.075417+01"},
      {"records/django_migrations.psql.txt", "2025-12-08 15:30:07.075417+01"},
      {"records/django_migrations.json", "2025-12-08T06:30:07.075417-08:00"},
      {"records/django_migrations.dumpdata.json", "2025-12-08T14:30:07.075Z"},
      {"records/django_migrations.copy.txt", "2025-12-09 01:00:07.075417+10:30"},
      {"records/django_migrations.psql_x.txt", "2025-12-08 20:15:07.075417+05:45"},
      {"records/django_migrations.semicolon.csv", "2025-12-08 11:30:07.075417-03"},
      {"records/django_migrations.psql_unicode.txt", "2025-12-08 09:30:07.075417-05"},
      {"records/django_migrations.psql_border2.txt", "2025-12-08 17:30:07.075417+03"},
      {"records/django_migrations.psql_unicode_border2.txt", "2025-12-09 03:30:07.075417+13"},
  };
  for (const auto& [file, applied] : seen) {
    INFO(file);
    std::string name = file;
    auto format = name.ends_with(".semicolon.csv") ? django::RecordFormat::csv_semicolon
                  : name.ends_with(".csv")         ? django::RecordFormat::csv
                  : name.ends_with(".json")        ? django::RecordFormat::json
                  : name.ends_with(".copy.txt")    ? django::RecordFormat::copy_text
                  : name.ends_with(".psql_x.txt")  ? django::RecordFormat::psql_expanded
                                                   : django::RecordFormat::psql;
    Read r = read_records(inputs(file), format);
    CHECK(r.one("SELECT applied_at FROM migration_record WHERE app = 'teams' AND name = "
                "'0003_teammembership_permissions'") == applied);
  }
}

TEST_CASE("Django inputs: each export form is recognised from its first bytes") {
  auto head = [](const std::string& file) { return slurp(inputs(file)).substr(0, 65536); };
  using F = django::RecordFormat;
  CHECK(django::sniff_migration_records(head("records/django_migrations.csv")) == F::csv);
  CHECK(django::sniff_migration_records(head("records/django_migrations.reordered.csv")) == F::csv);
  CHECK(django::sniff_migration_records(head("records/django_migrations.noheader.csv")) == F::csv);
  CHECK(django::sniff_migration_records(head("records/django_migrations.noheader_3col.csv")) ==
        F::csv);
  CHECK(django::sniff_migration_records(head("records/django_migrations.json")) == F::json);
  CHECK(django::sniff_migration_records(head("records/django_migrations.dumpdata.json")) ==
        F::json);
  CHECK(django::sniff_migration_records(head("records/django_migrations.psql.txt")) == F::psql);
  CHECK(django::sniff_migration_records(head("records/django_migrations.copy.txt")) ==
        F::copy_text);
  CHECK(django::sniff_migration_records(head("records/django_migrations.psql_x.txt")) ==
        F::psql_expanded);
  CHECK(django::sniff_migration_records(head("records/django_migrations.semicolon.csv")) ==
        F::csv_semicolon);
  // psql's table in unicode lines, and framed by \pset border 2 (its first line is a rule).
  CHECK(django::sniff_migration_records(head("records/django_migrations.psql_unicode.txt")) ==
        F::psql);
  CHECK(django::sniff_migration_records(head("records/django_migrations.psql_border2.txt")) ==
        F::psql);
  CHECK(django::sniff_migration_records(
            head("records/django_migrations.psql_unicode_border2.txt")) == F::psql);
  // Stripped of what is optional: \copy text of three columns (no id), a ;-separated CSV
  // without its header (the rows as the server wrote them, header line removed).
  {
    std::string copy = head("records/django_migrations.copy.txt");
    std::string first = copy.substr(copy.find('\t') + 1);
    CHECK(django::sniff_migration_records(first) == F::copy_text);
    std::string semi = head("records/django_migrations.semicolon.csv");
    CHECK(django::sniff_migration_records(semi.substr(semi.find('\n') + 1)) == F::csv_semicolon);
  }
  // An object around the rows is still a django_migrations JSON (whose reader says what
  // it expected), not a file of no kind.
  CHECK(django::sniff_migration_records(head("malformed/django_migrations.not_array.json")) ==
        F::json);
  for (const char* file :
       {"showmigrations/showmigrations.txt", "showmigrations/showmigrations.plan.txt",
        "showmigrations/showmigrations.plan_v2.txt", "showmigrations/showmigrations.list_v2.txt",
        "showmigrations/showmigrations.v2.txt", "showmigrations/showmigrations.teams.txt"}) {
    INFO(file);
    CHECK(django::sniff_showmigrations(head(file)));
    CHECK_FALSE(django::sniff_migration_records(head(file)));
  }
  CHECK_FALSE(django::sniff_showmigrations(head("records/django_migrations.csv")));
  CHECK_FALSE(django::sniff_showmigrations(head("records/django_migrations.psql.txt")));
  CHECK_FALSE(
      django::sniff_migration_records(slurp(inputs("records/full.sql.gz")).substr(0, 65536)));
}

TEST_CASE("Django inputs: django_migrations rows in a full pg_dump, as COPY and as INSERTs") {
  for (const auto& [file, form] : {std::pair{"records/full.sql.gz", "copy"},
                                   std::pair{"records/full.inserts.sql.gz", "insert"}}) {
    INFO(file);
    Read r = read_dump(inputs(file));
    CHECK(r.rows(k_records) == expected_records(form));
    CHECK(r.one("SELECT group_concat(DISTINCT schema_name || ' ' || source) FROM "
                "migration_record") == std::string("public ") + form);
    CHECK(r.errors == 0);
    // Each row points at its own line of the dump: consecutive COPY data lines, or one
    // INSERT per line.
    std::vector<std::string> text_lines;
    std::istringstream ss(slurp(inputs(file)));
    for (std::string l; std::getline(ss, l);) {
      text_lines.push_back(l);
    }
    auto rows = r.rows("SELECT line, name FROM migration_record ORDER BY line");
    REQUIRE(rows.size() == 28);
    for (const auto& row : rows) {
      size_t bar = row.find('|');
      size_t n = std::stoul(row.substr(0, bar));
      REQUIRE(n >= 1);
      REQUIRE(n <= text_lines.size());
      CHECK_THAT(text_lines[n - 1], Contains("\t" + row.substr(bar + 1) + "\t") ||
                                        Contains("INSERT INTO public.django_migrations VALUES") &&
                                            Contains("'" + row.substr(bar + 1) + "'"));
    }
    CHECK(std::stoul(rows.back()) - std::stoul(rows.front()) == 27u);
  }
}

// ----------------------------------------------------------------------- showmigrations

TEST_CASE("Django inputs: showmigrations in each layout lists every migration, [X] applied") {
  std::set<std::string> known;
  std::set<std::string> applied;
  for (const auto& row : tsv("expected_showmigrations.tsv")) {
    REQUIRE(row.size() == 3);
    known.insert(row[0] + "." + row[1]);
    if (row[2] == "1") {
      applied.insert(row[0] + "." + row[1]);
    }
  }
  REQUIRE(known.size() == 45);
  REQUIRE(applied.size() == 28);
  auto as_set = [](const std::vector<std::string>& v) {
    return std::set<std::string>(v.begin(), v.end());
  };
  // What verbosity 2 of the list form says of each applied one, "(applied at 2025-11-03
  // 09:12:11)": django_migrations.applied in UTC to the second, from the UTC export.
  std::set<std::string> applied_at;
  for (const auto& row : tsv("expected_records.tsv")) {
    if (row[0] == "csv") {
      REQUIRE(row[4].ends_with("+00"));
      applied_at.insert(row[2] + "." + row[3] + "|" + row[4].substr(0, 19));
    }
  }
  REQUIRE(applied_at.size() == 28);
  for (const auto& [file, with_times] :
       {std::pair{"showmigrations/showmigrations.txt", false},
        std::pair{"showmigrations/showmigrations.v2.txt", true},
        std::pair{"showmigrations/showmigrations.list.txt", false},
        std::pair{"showmigrations/showmigrations.list_v2.txt", true},
        std::pair{"showmigrations/showmigrations.plan.txt", false},
        std::pair{"showmigrations/showmigrations.plan_v2.txt", false}}) {
    INFO(file);
    Read r = read_showmigrations(inputs(file));
    CHECK(r.read == 45);
    CHECK(as_set(r.rows("SELECT app || '.' || name FROM migration")) == known);
    CHECK(as_set(r.rows("SELECT app || '.' || name FROM migration_record")) == applied);
    if (with_times) {
      CHECK(as_set(r.rows("SELECT app || '.' || name, applied_at FROM migration_record")) ==
            applied_at);
    } else {
      CHECK(r.count("SELECT count(*) FROM migration_record WHERE applied_at IS NOT NULL") == 0);
    }
    CHECK(r.count("SELECT count(*) FROM problem") == 0);
    CHECK(r.status() == "ok");
  }
  // Unapplied ones are known, not recorded; one app's listing holds that app only.
  Read teams = read_showmigrations(inputs("showmigrations/showmigrations.teams.txt"));
  CHECK(teams.rows("SELECT name FROM migration ORDER BY line") ==
        std::vector<std::string>{"0001_initial", "0002_team_logo_description",
                                 "0003_teammembership_permissions", "0004_add_left_at_field",
                                 "0005_backfill_left_at_data",
                                 "0006_repair_teammembership_left_at"});
  CHECK(teams.rows("SELECT name || ' ' || line FROM migration_record ORDER BY line") ==
        std::vector<std::string>{"0001_initial 2", "0002_team_logo_description 3",
                                 "0003_teammembership_permissions 4"});
  // --plan lines name their app: the line of teams 0004 in the plan is the plan's own.
  Read plan = read_showmigrations(inputs("showmigrations/showmigrations.plan_v2.txt"));
  std::string plan_text = slurp(inputs("showmigrations/showmigrations.plan_v2.txt"));
  int64_t line = std::stoll(plan.one(
      "SELECT line FROM migration WHERE app = 'teams' AND name = '0004_add_left_at_field'"));
  std::istringstream ss(plan_text);
  std::string text;
  for (int64_t i = 0; i < line; ++i) {
    std::getline(ss, text);
  }
  CHECK(text == "[ ]  teams.0004_add_left_at_field ... (teams.0003_teammembership_permissions)");
}

// --------------------------------------------------------------------------- sqlmigrate

namespace {

// The migrations of sqlmigrate_flat/ and expected_effects.tsv.
const std::pair<const char*, const char*> k_flat[] = {
    {"teams", "0001_initial"},
    {"teams", "0004_add_left_at_field"},
    {"teams", "0006_repair_teammembership_left_at"},
    {"user_profile", "0010_wallet_settings"},
    {"user_profile", "0013_skill_endorsement"},
    {"auth", "0006_require_contenttypes_0002"},
};

// What the real catalog gained when `migrate` ran a migration, as
// "object|schema|table|name|detail", without the indexes that back a constraint (the
// constraint stands for them, as in the effects).
std::set<std::string> catalog_effects(const std::string& app, const std::string& migration) {
  auto rows = tsv("expected_effects.tsv");
  std::set<std::string> constraints;
  for (const auto& r : rows) {
    REQUIRE(r.size() == 7);
    if (r[0] == app && r[1] == migration && r[2] == "constraint") {
      constraints.insert(r[5]);
    }
  }
  std::set<std::string> out;
  for (const auto& r : rows) {
    if (r[0] == app && r[1] == migration && !(r[2] == "index" && constraints.count(r[5]))) {
      out.insert(r[2] + "|" + r[3] + "|" + r[4] + "|" + r[5] + "|" + r[6]);
    }
  }
  return out;
}

// The create effects a sqlmigrate output was read to have, in the same shape; an effect
// left to the search_path is compared as `public`, where that search_path put it.
std::set<std::string> read_effects(Read& r) {
  auto rows = r.rows(
      "SELECT object || '|' || coalesce(schema_name, 'public') || '|' || table_name || '|' || "
      "name || '|' || CASE object WHEN 'column' THEN type || CASE WHEN not_null = 1 THEN ' NOT "
      "NULL' ELSE '' END WHEN 'constraint' THEN kind WHEN 'index' THEN CASE WHEN kind = "
      "'unique index' THEN 'unique' ELSE '' END ELSE '' END FROM migration_effect WHERE action = "
      "'create' AND object IN ('table', 'column', 'index', 'constraint')");
  return std::set<std::string>(rows.begin(), rows.end());
}

}  // namespace

TEST_CASE("Django inputs: sqlmigrate outputs by folder and by file name have the real effects") {
  for (const auto& [app, name] : k_flat) {
    const fs::path flat = inputs(std::string("sqlmigrate_flat/") + app + "." + name + ".sql");
    const fs::path folder = source_root() / "fixtures/cases/django_drift/sqlmigrate" / app /
                            (std::string(name) + ".sql");
    for (const fs::path& path : {flat, folder}) {
      INFO(path.string());
      REQUIRE(django::migration_from_path(path) ==
              std::make_pair(std::string(app), std::string(name)));
      Read r = read_sqlmigrate(path);
      CHECK(r.rows("SELECT app || '.' || name || ' ' || source FROM migration") ==
            std::vector<std::string>{std::string(app) + "." + name + " sqlmigrate"});
      CHECK(read_effects(r) == catalog_effects(app, name));
      CHECK(r.count("SELECT count(*) FROM migration_effect WHERE app != '" + std::string(app) +
                    "' OR migration != '" + name + "'") == 0);
      CHECK(r.count("SELECT count(*) FROM problem") == 0);
      CHECK(r.status() == "ok");
    }
    // Both are sqlmigrate's output for the same migration: the same effects, line for line.
    Read a = read_sqlmigrate(flat);
    Read b = read_sqlmigrate(folder);
    const char* all =
        "SELECT seq, line, action, object, schema_name, table_name, name, type, "
        "not_null, default_expr, kind, columns, ref_schema, ref_table, conditional "
        "FROM migration_effect ORDER BY seq";
    CHECK(a.rows(all) == b.rows(all));
  }
}

TEST_CASE("Django inputs: sqlmigrate leaves unqualified objects to the search_path") {
  Read r = read_sqlmigrate(inputs("sqlmigrate_flat/user_profile.0013_skill_endorsement.sql"));
  CHECK(r.count("SELECT count(*) FROM migration_effect") == 45);
  // Django never names a schema: every effect is "wherever search_path pointed".
  CHECK(r.count("SELECT count(*) FROM migration_effect WHERE schema_name IS NOT NULL") == 0);
  CHECK(r.one("SELECT group_concat(object || ' ' || name, ', ') FROM (SELECT object, name FROM "
              "migration_effect WHERE object = 'table' ORDER BY seq)") ==
        "table user_profile_skill_endorsement, table user_profile_endorsement_opportunity");
  CHECK(r.one("SELECT line || ' ' || kind || ' ' || table_name FROM migration_effect WHERE name = "
              "'no_self_endorsement'") == "29 c user_profile_skill_endorsement");
  CHECK(r.one("SELECT kind || ' ' || ref_table || ' ' || coalesce(ref_schema, 'NULL') FROM "
              "migration_effect WHERE name = "
              "'user_profile_skill_e_reviewed_by_id_059d3a1d_fk_auth_user'") == "f auth_user NULL");
  CHECK(
      r.one("SELECT columns FROM migration_effect WHERE name = 'user_profil_receive_a4e8c9_idx'") ==
      "receiver_id, created_at DESC");  // Django quotes every name; quotes not needed are dropped
}

TEST_CASE(
    "Django inputs: DDL inside sqlmigrate's DO blocks is counted, conditional, in its schema") {
  // teams 0006: RunSQL with two DO $$ ... $$ blocks, each IF NOT EXISTS (...) THEN DDL on
  // public.teams_teammembership.
  Read r = read_sqlmigrate(inputs("sqlmigrate_flat/teams.0006_repair_teammembership_left_at.sql"));
  CHECK(r.rows("SELECT line, action, object, schema_name, table_name, name, conditional FROM "
               "migration_effect ORDER BY seq") ==
        std::vector<std::string>{
            "16|create|column|public|teams_teammembership|left_at|1",
            "34|create|index|public|teams_teammembership|teams_member_left_at_idx|1"});
  CHECK(r.one("SELECT type || ' ' || not_null FROM migration_effect WHERE object = 'column'") ==
        "timestamp with time zone 0");
  CHECK(r.count("SELECT count(*) FROM problem") == 0);
  // The same objects as 0004 creates, which names no schema.
  Read r4 = read_sqlmigrate(inputs("sqlmigrate_flat/teams.0004_add_left_at_field.sql"));
  CHECK(r4.rows("SELECT object, coalesce(schema_name, 'NULL'), name, conditional FROM "
                "migration_effect ORDER BY seq") ==
        std::vector<std::string>{"column|NULL|left_at|0", "index|NULL|teams_member_left_at_idx|0"});
}

TEST_CASE("Django inputs: a migration without SQL still names a known migration") {
  // sqlmigrate prints nothing for auth 0006 (Django says "No operations found." on stderr).
  for (const fs::path& path :
       {inputs("sqlmigrate_flat/auth.0006_require_contenttypes_0002.sql"),
        source_root() /
            "fixtures/cases/django_drift/sqlmigrate/auth/0006_require_contenttypes_0002.sql"}) {
    INFO(path.string());
    REQUIRE(fs::file_size(path) == 0);
    CHECK(django::sniff_sqlmigrate("", path) > 0);
    Read r = read_sqlmigrate(path);
    CHECK(r.rows("SELECT app || '.' || name FROM migration") ==
          std::vector<std::string>{"auth.0006_require_contenttypes_0002"});
    CHECK(r.count("SELECT count(*) FROM migration_effect") == 0);
    CHECK(r.count("SELECT count(*) FROM problem") == 0);
  }
  // Compressed (its content then sniffed after inflating: still empty), or named in capitals.
  for (const char* name :
       {"0006_require_contenttypes_0002.sql.gz", "0006_require_contenttypes_0002.SQL",
        "0006_require_contenttypes_0002.Sql.GZ", "0006_require_contenttypes_0002.sql.zst"}) {
    const fs::path path = fs::path("case/sqlmigrate/auth") / name;
    INFO(path.string());
    CHECK(django::migration_from_path(path) ==
          std::make_pair(std::string("auth"), std::string("0006_require_contenttypes_0002")));
    CHECK(django::sniff_sqlmigrate("", path) > 0);
  }
  CHECK(django::sniff_sqlmigrate("", "case/sqlmigrate/auth/0006_require_contenttypes_0002.txt") ==
        0);
}

// ---------------------------------------------------------------------------- malformed

TEST_CASE("Django inputs: a CSV row with a column missing is an error on its line, others read") {
  // Edit: line 5 (auth 0002) of django_migrations.csv lost its last field.
  Read r = read_records(inputs("malformed/django_migrations.missing_column.csv"),
                        django::RecordFormat::csv);
  CHECK(problems(r) == std::vector<std::string>{"error|csv-columns|5"});
  CHECK_THAT(first_error_message(r), Contains("line 5: 3 fields where the header (line 1) has 4 "
                                              "(id, app, name, applied)") &&
                                         Contains("the row is not read"));
  CHECK(r.one("SELECT snippet FROM problem") == "4,auth,0002_alter_permission_name_max_length");
  CHECK(r.status() == "partial");
  CHECK(r.read == 27);
  auto lines = record_lines(r);
  CHECK(lines.count("auth.0002_alter_permission_name_max_length") == 0);
  CHECK(lines["auth.0001_initial"] == 4);
  CHECK(lines["auth.0003_alter_user_email_max_length"] == 6);
  CHECK(lines["teams.0003_teammembership_permissions"] == 29);
  // The rows around it are exactly as in the real export.
  auto want = expected_records("csv");
  want.erase(want.begin() + 3);
  CHECK(r.rows(k_records) == want);
}

TEST_CASE("Django inputs: a header-less CSV row with a column missing is an error on its line") {
  // Edit: line 5 of the header-less export lost its second field (app).
  Read r = read_records(inputs("malformed/django_migrations.noheader_missing_column.csv"),
                        django::RecordFormat::csv);
  CHECK(problems(r) == std::vector<std::string>{"error|csv-columns|5"});
  CHECK_THAT(first_error_message(r),
             Contains("line 5: 3 fields where the first row (line 1, no header) has 4 (id, app, "
                      "name, applied)"));
  CHECK(r.status() == "partial");
  auto want = expected_records("noheader_csv");
  want.erase(want.begin() + 4);
  CHECK(r.rows(k_records) == want);
}

TEST_CASE("Django inputs: a CSV field whose quote is never closed is an error on its line") {
  // Edit: the name on line 8 opens a '"' that is never closed.
  Read r = read_records(inputs("malformed/django_migrations.unclosed_quote.csv"),
                        django::RecordFormat::csv);
  CHECK(problems(r) == std::vector<std::string>{"error|csv-quote|8"});
  CHECK_THAT(first_error_message(r), Contains("line 8: a quoted field is not closed (expected a "
                                              "closing '\"' before the end of the line)"));
  CHECK(r.status() == "partial");
  CHECK(r.read == 27);
  auto lines = record_lines(r);
  CHECK(lines["auth.0004_alter_user_username_opts"] == 7);
  CHECK(lines["auth.0006_require_contenttypes_0002"] == 9);
}

TEST_CASE("Django inputs: a CSV cut short in a row's applied time keeps the row, not the time") {
  // Edit (here): the real CSV cut after "2025-11-03 09:1" on line 12 (a transfer that
  // stopped there).
  std::string csv = slurp(inputs("records/django_migrations.csv"));
  size_t line12 = 0;
  for (int i = 1; i < 12; ++i) {
    line12 = csv.find('\n', line12) + 1;
  }
  size_t cut = csv.find(",2025-11-03 09:1", line12) + std::string(",2025-11-03 09:1").size();
  TempDir dir;
  Read r = read_records(dir.write("django_migrations.csv", csv.substr(0, cut)),
                        django::RecordFormat::csv);
  CHECK(problems(r) == std::vector<std::string>{"error|csv-value|12"});
  CHECK_THAT(first_error_message(r),
             Contains("line 12: applied '2025-11-03 09:1' is not a timestamp (expected "
                      "YYYY-MM-DD HH:MM:SS[.ffffff][+TZ]); the record is kept without its time"));
  CHECK(r.status() == "partial");
  CHECK(r.read == 11);
  auto want = expected_records("csv");
  want.resize(11);
  want.back() = want.back().substr(0, want.back().rfind('|')) + "|NULL";
  CHECK(r.rows(k_records) == want);
}

TEST_CASE(
    "Django inputs: the rows' array inside a JSON object is read; an object without one is "
    "an error on line 1") {
  // Edit: the json_agg array wrapped in {"django_migrations": ...}, as DBeaver exports a table.
  Read r = read_records(inputs("malformed/django_migrations.not_array.json"),
                        django::RecordFormat::json);
  CHECK(problems(r).empty());
  CHECK(r.read == 28);
  CHECK(r.status() == "ok");

  TempDir dir;
  Read none = read_records(dir.write("django_migrations.json",
                                     "{\"django_migrations\": 28, \"app\": [], \"applied\": {}}\n"),
                           django::RecordFormat::json);
  CHECK(problems(none) == std::vector<std::string>{"error|json-shape|1"});
  CHECK_THAT(
      first_error_message(none),
      Contains("expected a JSON array of django_migrations rows") &&
          Contains("found an object with keys \"app\", \"applied\", \"django_migrations\"") &&
          Contains("nothing is read"));
  CHECK(none.read == 0);
  CHECK(none.status() == "failed");
}

TEST_CASE("Django inputs: a JSON element without \"name\" is an error on its line, others read") {
  // Edit: the "name" line of element 5 of the dumpdata-style JSON removed.
  Read r = read_records(inputs("malformed/django_migrations.missing_name.json"),
                        django::RecordFormat::json);
  CHECK(problems(r) == std::vector<std::string>{"error|json-shape|38"});
  CHECK_THAT(first_error_message(r),
             Contains("element 5 (line 38) is not a django_migrations row: it has no \"name\"") &&
                 Contains("expected an object with \"app\" and \"name\""));
  CHECK(r.status() == "partial");
  auto want = expected_records("dumpdata");
  want.erase(want.begin() + 4);
  CHECK(r.rows(k_records) == want);
  auto lines = record_lines(r);
  CHECK(lines["auth.0002_alter_permission_name_max_length"] == 29);
  CHECK(lines["auth.0004_alter_user_username_opts"] == 46);  // one line shorter after the edit
}

TEST_CASE("Django inputs: a number past a double's range is an error on its line, not a crash") {
  // nlohmann refuses 1e400 with out_of_range rather than parse_error; before, it ended the
  // process.
  TempDir dir;
  fs::path file = dir.write("django_migrations.json",
                            "[\n{\"app\": \"teams\", \"name\": \"0001_initial\",\n"
                            "\"id\": 1e400}\n]\n");
  Read r = read_records(file, django::RecordFormat::json);
  CHECK(problems(r) == std::vector<std::string>{"error|json-syntax|3"});
  CHECK_THAT(first_error_message(r), Contains("line 3: not read: number overflow parsing '1e400'"));
  CHECK(r.read == 0);
}

TEST_CASE("Django inputs: JSON cut short keeps the elements before the cut") {
  // Edit: django_migrations.json cut in element 10 (line 10), after its "app" key.
  Read r = read_records(inputs("malformed/django_migrations.truncated.json"),
                        django::RecordFormat::json);
  CHECK(problems(r) == std::vector<std::string>{"error|json-syntax|10"});
  CHECK_THAT(first_error_message(r),
             Contains("line 10, column 17: not valid JSON") &&
                 Contains("the file ends before the JSON does") &&
                 Contains("expected a JSON array of django_migrations rows") &&
                 Contains("the 9 elements before line 10 were read"));
  CHECK(r.status() == "partial");
  auto want = expected_records("json");
  want.resize(9);
  CHECK(r.rows(k_records) == want);
}

TEST_CASE("Django inputs: a psql row with a cell missing is an error on its line, others read") {
  // Edit: row 6 (line 8) of the psql table lost its name cell.
  Read r = read_records(inputs("malformed/django_migrations.missing_cell.psql.txt"),
                        django::RecordFormat::psql);
  CHECK(problems(r) == std::vector<std::string>{"error|psql-columns|8", "warning|psql-count|32"});
  CHECK_THAT(first_error_message(r),
             Contains("line 8: 3 cells where the header (line 1) has 4 (id, app, name, applied); "
                      "the row is not read"));
  CHECK(r.one("SELECT message FROM problem WHERE code = 'psql-count'") ==
        "psql's footer says 28 rows, 27 were read");
  CHECK(r.status() == "partial");
  auto want = expected_records("psql");
  want.erase(want.begin() + 5);
  CHECK(r.rows(k_records) == want);
}

TEST_CASE(
    "Django inputs: a psql table cut short in a row: that row is an error, those before read") {
  // Edit: the psql output cut in row 12's name cell (line 14): no footer.
  Read r = read_records(inputs("malformed/django_migrations.truncated.psql.txt"),
                        django::RecordFormat::psql);
  CHECK(problems(r) == std::vector<std::string>{"error|psql-columns|14", "notice|psql-count|14"});
  CHECK_THAT(first_error_message(r), Contains("line 14: 3 cells where the header (line 1) has 4"));
  CHECK(r.status() == "partial");
  auto want = expected_records("psql");
  want.resize(11);
  CHECK(r.rows(k_records) == want);
}

TEST_CASE("Django inputs: a showmigrations line with a mark Django never prints is an error") {
  // Edit: " [X] 0003_alter_user_email_max_length" (auth, line 8) became " [?] ...".
  Read r = read_showmigrations(inputs("malformed/showmigrations.bad_mark.txt"));
  CHECK(problems(r) == std::vector<std::string>{"error|showmigrations-line|8"});
  CHECK_THAT(first_error_message(r),
             Contains("line 8: expected \"[X] name\" (applied), \"[ ] name\" (not applied) or "
                      "\"[-] name\"") &&
                 Contains("of app auth, found \"[?] 0003_alter_user_email_max_length\""));
  CHECK(r.status() == "partial");
  CHECK(r.read == 44);
  auto lines = record_lines(r);
  CHECK(lines.count("auth.0003_alter_user_email_max_length") == 0);
  CHECK(lines["auth.0002_alter_permission_name_max_length"] == 7);
  CHECK(lines["auth.0004_alter_user_username_opts"] == 9);
  CHECK(r.count("SELECT count(*) FROM migration_record") == 27);
}

TEST_CASE(
    "Django inputs: a sqlmigrate statement with a syntax error: error on its line, rest read") {
  // Edit: user_profile 0013's CREATE INDEX "user_profil_receive_2d9b44_idx" says ON twice.
  Read r = read_sqlmigrate(inputs("malformed/sqlmigrate/user_profile/0013_skill_endorsement.sql"));
  CHECK(r.rows("SELECT app || '.' || name FROM migration") ==
        std::vector<std::string>{"user_profile.0013_skill_endorsement"});
  CHECK(problems(r) == std::vector<std::string>{"error|sql-syntax|17"});
  CHECK_THAT(first_error_message(r),
             Contains("line 17") && Contains("syntax error at or near \"ON\"") &&
                 Contains("expected SQL that PostgreSQL 15 accepts") &&
                 Contains("the other statements of user_profile.0013_skill_endorsement were read"));
  CHECK(r.status() == "partial");
  // Every other effect of the real output, before the bad statement and after it.
  auto want = catalog_effects("user_profile", "0013_skill_endorsement");
  REQUIRE(want.erase(
              "index|public|user_profile_skill_endorsement|user_profil_receive_2d9b44_idx|") == 1);
  CHECK(read_effects(r) == want);
  CHECK(r.one("SELECT line FROM migration_effect WHERE name = 'user_profil_receive_a4e8c9_idx'") ==
        "13");
  CHECK(r.one("SELECT line FROM migration_effect WHERE name = 'user_profil_is_flag_148abd_idx'") ==
        "21");
}

TEST_CASE("Django inputs: a DO block whose PL/pgSQL does not parse: error, other block read") {
  // Edit: the second DO block of teams 0006 lost its END IF;.
  Read r =
      read_sqlmigrate(inputs("malformed/sqlmigrate/teams/0006_repair_teammembership_left_at.sql"));
  CHECK(problems(r) == std::vector<std::string>{"error|sql-syntax|26"});
  CHECK_THAT(first_error_message(r), Contains("the PL/pgSQL of the DO block at line 26 does not "
                                              "parse") &&
                                         Contains("expected SQL that PostgreSQL 15 accepts"));
  CHECK(r.status() == "partial");
  CHECK(r.rows("SELECT line, object, schema_name, name, conditional FROM migration_effect") ==
        std::vector<std::string>{"16|column|public|left_at|1"});
}

TEST_CASE("Django inputs: a sqlmigrate output cut short is an error on its last line") {
  // Edit: teams 0004 cut inside its CREATE INDEX (line 9); no COMMIT.
  Read r = read_sqlmigrate(inputs("malformed/sqlmigrate/teams/0004_add_left_at_field.sql"));
  CHECK(problems(r) == std::vector<std::string>{"error|sql-syntax|9", "error|truncated|9"});
  CHECK_THAT(r.one("SELECT message FROM problem WHERE code = 'truncated'"),
             Contains("ends at line 9 without the COMMIT; that closes its BEGIN;") &&
                 Contains("it was cut short"));
  CHECK(r.status() == "partial");
  CHECK(r.rows("SELECT line, object, name FROM migration_effect") ==
        std::vector<std::string>{"5|column|left_at"});
}

TEST_CASE("Django inputs: a sqlmigrate output whose file name names no migration is an error") {
  // Edit: user_profile 0010's output saved as sqlmigrate_output.sql.
  const fs::path path = inputs("malformed/sqlmigrate_output.sql");
  CHECK_FALSE(django::migration_from_path(path));
  CHECK(django::sniff_sqlmigrate(slurp(path), path) > 0);  // Django's comments say what it is
  Read r = read_sqlmigrate(path);
  CHECK(problems(r) == std::vector<std::string>{"error|unnamed-migration|1"});
  CHECK_THAT(first_error_message(r),
             Contains("name the file <app>/<migration>.sql or <app>.<migration>.sql"));
  CHECK(r.count("SELECT count(*) FROM migration") == 0);
  CHECK(r.status() == "failed");
}

TEST_CASE("Django inputs: invalid UTF-8 in an export row is an error on its line, others read") {
  // Edit (here): one byte of the name on line 10 of the CSV (record 9) and on line 11 of
  // the psql table (row 9), auth 0007_alter_validators_add_error_messages, replaced by 0xFF.
  for (const auto& [file, format, line, code] :
       {std::tuple{"records/django_migrations.csv", django::RecordFormat::csv, 10, "csv-encoding"},
        std::tuple{"records/django_migrations.psql.txt", django::RecordFormat::psql, 11,
                   "psql-encoding"}}) {
    INFO(file);
    std::string text = slurp(inputs(file));
    size_t start = 0;
    for (int i = 1; i < line; ++i) {
      start = text.find('\n', start) + 1;
    }
    size_t at = text.find("_alter_", start);
    REQUIRE(at < text.find('\n', start));
    text[at + 1] = '\xff';
    TempDir dir;
    Read r = read_records(dir.write(fs::path(file).filename().string(), text), format);
    CHECK(problems(r).front() == std::string("error|") + code + "|" + std::to_string(line));
    CHECK(r.errors == 1);
    CHECK_THAT(first_error_message(r), Contains("invalid UTF-8") &&
                                           Contains("expected UTF-8 text") &&
                                           Contains("the row is not read"));
    CHECK(r.one("SELECT byte_offset FROM problem") == std::to_string(at + 1));
    CHECK(r.read == 27);
    CHECK(r.status() == "partial");
  }
}

// ------------------------------------------- \copy text, psql -x and ;-separated CSV damaged

namespace {

// A copy of a real export with one stated edit, in a temporary file (removed by its owner).
struct Damaged {
  fs::path path;
  Damaged(const std::string& name, const std::string& text) {
    path = fs::temp_directory_path() / fmt::format("dbautopsy-{}-{}", ::getpid(), name);
    std::ofstream(path, std::ios::binary) << text;
  }
  ~Damaged() { fs::remove(path); }
};

// The text with line `n` (1-based) replaced by what `edit` makes of it.
std::string edit_line(const std::string& text, size_t n,
                      const std::function<std::string(std::string)>& edit) {
  std::istringstream in(text);
  std::string line, out;
  for (size_t i = 1; std::getline(in, line); ++i) {
    out += (i == n ? edit(line) : line) + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("Django inputs: \\copy text with a field missing is an error on its line, others read") {
  // Edit: row 5 of \copy's output lost its last field (applied) and the tab before it.
  std::string file = "records/django_migrations.copy.txt";
  Damaged d("short.copy.txt", edit_line(slurp(inputs(file)), 5,
                                        [](std::string l) { return l.substr(0, l.rfind('\t')); }));
  Read r = read_records(d.path, django::RecordFormat::copy_text);
  CHECK(problems(r) == std::vector<std::string>{"error|copy-columns|5"});
  CHECK_THAT(first_error_message(r),
             Contains("line 5: 3 fields where the first row (line 1, no header) has 4 (id, app, "
                      "name, applied); the row is not read"));
  CHECK(r.status() == "partial");
  auto want = expected_records("copy_text");
  want.erase(want.begin() + 4);
  CHECK(r.rows(k_records) == want);
}

TEST_CASE("Django inputs: headerless rows whose columns the values cannot tell are refused") {
  // Edit: the first row's migration name loses its number ("initial", as a hand-named
  // migration may be): app and name are then both identifiers, and no header says which is
  // which.
  std::string file = "records/django_migrations.copy.txt";
  Damaged d("unnumbered.copy.txt", edit_line(slurp(inputs(file)), 1, [](std::string l) {
              size_t at = l.find("\t0001_");
              return l.substr(0, at + 1) + l.substr(at + 6);
            }));
  Read r = read_records(d.path, django::RecordFormat::copy_text);
  CHECK(r.read == 0);
  CHECK(problems(r) == std::vector<std::string>{"error|copy-columns|1"});
  CHECK_THAT(first_error_message(r),
             Contains("line 1: 4 fields (\\copy text (tab-separated)) and no header; fields 2 "
                      "and 3 both look like an app label: expected a header"));
  CHECK_THAT(first_error_message(r), Contains("nothing is read"));
}

TEST_CASE("Django inputs: a headerless row whose values tell other columns is not read") {
  // Edit: row 4 (line 4) has its app and name swapped; the first row told id, app, name,
  // applied.
  std::string file = "records/django_migrations.copy.txt";
  Damaged d("swapped.copy.txt", edit_line(slurp(inputs(file)), 4, [](std::string l) {
              auto t1 = l.find('\t'), t2 = l.find('\t', t1 + 1), t3 = l.find('\t', t2 + 1);
              return l.substr(0, t1 + 1) + l.substr(t2 + 1, t3 - t2 - 1) + "\t" +
                     l.substr(t1 + 1, t2 - t1 - 1) + l.substr(t3);
            }));
  Read r = read_records(d.path, django::RecordFormat::copy_text);
  CHECK(problems(r) == std::vector<std::string>{"error|copy-columns|4"});
  CHECK_THAT(first_error_message(r),
             Contains("line 4: the values are in the columns id, name, app, applied, where the "
                      "first row (line 1, no header) has id, app, name, applied; the row is not "
                      "read"));
  auto want = expected_records("copy_text");
  want.erase(want.begin() + 3);
  CHECK(r.rows(k_records) == want);
}

TEST_CASE("Django inputs: \\copy text decodes \\N and backslash escapes") {
  // Edit: row 3's applied becomes \N (a NULL, as COPY writes it), row 4's name has an escaped
  // tab inside it (\t), which must not split the field.
  std::string file = "records/django_migrations.copy.txt";
  std::string text = edit_line(slurp(inputs(file)), 3,
                               [](std::string l) { return l.substr(0, l.rfind('\t')) + "\t\\N"; });
  text = edit_line(text, 4, [](std::string l) {
    size_t a = l.find('\t', l.find('\t') + 1);
    return l.substr(0, a + 1) + "odd\\tname\\\\x" + l.substr(l.find('\t', a + 1));
  });
  Damaged d("escapes.copy.txt", text);
  Read r = read_records(d.path, django::RecordFormat::copy_text);
  CHECK(r.count("SELECT count(*) FROM problem") == 0);
  CHECK(r.read == 28);
  CHECK(r.one("SELECT coalesce(applied_at, 'NULL') FROM migration_record WHERE line = 3") ==
        "NULL");
  CHECK(r.one("SELECT name FROM migration_record WHERE line = 4") == "odd\tname\\x");
}

TEST_CASE("Django inputs: psql -x with a record lacking its name is an error on its line") {
  // Edit: the name line of record 2 (line 9 of psql -x output) was deleted.
  std::string file = "records/django_migrations.psql_x.txt";
  std::string text = slurp(inputs(file));
  std::string damaged;
  {
    std::istringstream in(text);
    std::string line;
    for (size_t i = 1; std::getline(in, line); ++i) {
      if (i != 9) {
        damaged += line + "\n";
      }
    }
  }
  REQUIRE(text.find("name    | 0002_remove_content_type_name") != std::string::npos);
  Damaged d("no_name.psql_x.txt", damaged);
  Read r = read_records(d.path, django::RecordFormat::psql_expanded);
  CHECK(problems(r) == std::vector<std::string>{"error|psql-x-shape|6"});
  CHECK_THAT(first_error_message(r),
             Contains("line 6: record 2 has no name line; expected \"app | ...\" and \"name | "
                      "...\" lines in each record; the record is not read"));
  CHECK(r.status() == "partial");
  auto want = expected_records("psql_x");
  want.erase(want.begin() + 1);
  CHECK(r.rows(k_records) == want);
}

TEST_CASE("Django inputs: psql -x value lines without a RECORD heading read as psql -x -t") {
  // Edit: only the value lines of record 1, no "-[ RECORD 1 ]" line above them: what
  // `psql -x -t` writes for one row.
  std::string file = "records/django_migrations.psql_x.txt";
  std::string text = slurp(inputs(file));
  size_t start = text.find('\n') + 1;
  Damaged d("headless.psql_x.txt", text.substr(start, text.find("-[ RECORD 2") - start));
  Read r = read_records(d.path, django::RecordFormat::psql_expanded);
  CHECK(r.read == 1);
  CHECK(problems(r).empty());
  auto want = expected_records("psql_x");
  want.resize(1);
  CHECK(r.rows(k_records) == want);
}

TEST_CASE("Django inputs: a ;-separated CSV row with a field missing is an error on its line") {
  // Edit: row 4 (line 5) lost its last field and the ';' before it.
  std::string file = "records/django_migrations.semicolon.csv";
  Damaged d("short.semicolon.csv", edit_line(slurp(inputs(file)), 5, [](std::string l) {
              return l.substr(0, l.rfind(';'));
            }));
  Read r = read_records(d.path, django::RecordFormat::csv_semicolon);
  CHECK(problems(r) == std::vector<std::string>{"error|csv-columns|5"});
  CHECK_THAT(first_error_message(r),
             Contains("line 5: 3 fields where the header (line 1) has 4 (id, app, name, "
                      "applied); the row is not read"));
  auto want = expected_records("semicolon_csv");
  want.erase(want.begin() + 3);
  CHECK(r.rows(k_records) == want);
}
