// The repair script's shape: its header names the inputs, index builds run CONCURRENTLY after
// the transaction, and nothing taken from the inputs can leave a comment line.

#include <catch2/catch.hpp>

#include <sstream>

#include "pgsql/script_lexer.hpp"
#include "reports/report.hpp"

using namespace dbautopsy::reports;

namespace {

Finding index_finding(const std::string& id, const std::string& table, const std::string& repair) {
  Finding f;
  f.id = id;
  f.rule = "drift.index-missing";
  f.severity = "error";
  f.message = "index missing";
  f.subject = {{"schema", "public"}, {"table", table}, {"index", table + "_idx"}};
  f.repair = repair;
  f.cause = "C1";
  return f;
}

Report sample() {
  Report r;
  r.version = "0";
  r.title = "case";
  r.inputs = {{"prod.sql.gz", "pgdump-sql", std::string(64, 'a'), "gzip", "ok", {}, 0},
              {"app/migrations/0001_initial.py",
               "django-migration-py",
               std::string(64, 'b'),
               "none",
               "ok",
               {},
               0},
              {"app/migrations/0002_more.py",
               "django-migration-py",
               std::string(64, 'c'),
               "none",
               "ok",
               {},
               0},
              {"notes.txt", "unknown", std::string(64, 'd'), "none", "failed", {}, 0}};
  r.findings = {
      index_finding("F1", "t", "CREATE INDEX IF NOT EXISTS t_idx ON public.t (a);"),
      index_finding("F2", "u", "CREATE UNIQUE INDEX IF NOT EXISTS u_idx ON public.u (a);"),
      index_finding("F3", "p", "CREATE INDEX IF NOT EXISTS p_idx ON ONLY public.p (a);"),
      index_finding("F4", "evil\nDROP TABLE x; --", "DO $$ BEGIN NULL; END $$;"),
  };
  Cause c;
  c.id = "C1";
  c.kind = "k";
  c.severity = "error";
  c.summary = "summary\nDROP TABLE y;";
  c.findings = {"F1", "F2", "F3", "F4"};
  r.causes = {c};
  return r;
}

}  // namespace

TEST_CASE("repair.sql: inputs in the header, CONCURRENTLY index builds after COMMIT") {
  std::ostringstream out;
  write_repair_script(out, sample());
  std::string s = out.str();
  CHECK(s.find(std::string(64, 'a') + "  pgdump-sql  prod.sql.gz") != std::string::npos);
  CHECK(s.find("and 2 inputs of kind django-migration-py") != std::string::npos);
  CHECK(s.find("notes.txt") == std::string::npos);  // not read: not a source of the repair
  size_t commit = s.find("\nCOMMIT;\n");
  REQUIRE(commit != std::string::npos);
  size_t t = s.find("CREATE INDEX CONCURRENTLY IF NOT EXISTS t_idx ON public.t (a);");
  size_t u = s.find("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS u_idx ON public.u (a);");
  CHECK((t != std::string::npos && t > commit));
  CHECK((u != std::string::npos && u > commit));
  // A partitioned table's index (ON ONLY) cannot be built CONCURRENTLY: it stays inside.
  size_t p = s.find("CREATE INDEX IF NOT EXISTS p_idx ON ONLY public.p (a);");
  CHECK((p != std::string::npos && p < commit));
  CHECK(s.find("CONCURRENTLY IF NOT EXISTS p_idx") == std::string::npos);
}

TEST_CASE("repair.sql: a newline in a name or summary stays inside its comment") {
  std::ostringstream out;
  write_repair_script(out, sample());
  std::istringstream lines(out.str());
  std::string line;
  while (std::getline(lines, line)) {
    INFO(line);
    CHECK(!line.starts_with("DROP TABLE"));
  }
  CHECK(out.str().find("evil\\nDROP TABLE x; --") != std::string::npos);
}

TEST_CASE("verify.sql: an index left INVALID by a failed concurrent build still fails its check") {
  std::ostringstream out;
  write_verify_script(out, sample());
  CHECK(out.str().find("NOT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = "
                       "to_regclass('public.t_idx')), false)") != std::string::npos);
}

TEST_CASE("the repair script's \\connect reaches the database psql reads back", "[repair]") {
  // psql_connect_arg writes what pg_dumpall writes; connect_database reads it as psql does.
  for (std::string name : {"shop", "Shop", "dot.name", "9lives", "shop floor", "it's", "a\"b",
                           "back\\slash", "\u00fcn\u00efcode", "tab\there", "x'\"\\y"}) {
    INFO(name);
    CHECK(dbautopsy::pgsql::connect_database(dbautopsy::reports::psql_connect_arg(name)) == name);
  }
}
