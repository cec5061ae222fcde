// RunSQL in every form Django 3.2 accepts, read from the migration files alone:
//   - the RunSQL project (fixtures/generate/django/runsql: a real Django 3.2 app whose
//     migrations use every form, with the real `sqlmigrate` output of each migration taken
//     on a real PostgreSQL 15 by generate.sh): the statements derived from the .py files
//     equal, byte for byte, those sqlmigrate printed, and so do the effects; what cannot be
//     read without running Python is a problem on its line, never a silent nothing;
//   - every RunSQL of the fixture cases and of tests/django/parity: the statements are in
//     the real sqlmigrate output (the shared corpus's: test_corpus_runsql.cpp);
//   - the forms neither holds: malformed pairs, placeholders, migrate's '%' semantics, and
//     the IF NOT EXISTS repair of an object an earlier migration made.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "base/text.hpp"
#include "django/django_schema.hpp"
#include "django/migration_py.hpp"
#include "pgsql/names.hpp"
#include "pgsql/script_effects.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dbautopsy;
using namespace dbautopsy::django;

namespace {

fs::path runsql_dir() {
  return test::source_root() / "fixtures" / "generate" / "django" / "runsql";
}

std::vector<MigrationFile> runsql_project() {
  return test::load_migrations(runsql_dir() / "project" / "ledger" / "migrations", "ledger");
}

// RunSQL operations in the order Migration.apply() runs them (database_operations of
// SeparateDatabaseAndState included, state_operations never run SQL).
void collect_run_sql(const std::vector<Operation>& ops, std::vector<const Operation*>& out) {
  for (const auto& op : ops) {
    if (op.type == "RunSQL") {
      out.push_back(&op);
    }
    collect_run_sql(op.database_operations, out);
  }
}

std::string effect_key(const pgsql::Effect& e) {
  std::ostringstream s;
  s << e.action << ' ' << e.object << ' '
    << (e.schema == pgsql::k_search_path_schema ? std::string() : e.schema) << '.' << e.table << '.'
    << e.name << " -> " << e.new_name << " type=" << e.type
    << " nn=" << (e.not_null ? (*e.not_null ? "1" : "0") : "-")
    << " default=" << e.default_expr.value_or("-") << " kind=" << e.kind << " cols=" << e.columns
    << " ref=" << e.ref_table << " def=" << text::squash_space(e.definition)
    << (e.conditional ? " (conditional)" : "");
  return s.str();
}

MigrationFile parse(const std::string& body, const std::string& name = "0002_x",
                    const std::string& header = "") {
  std::string src = "from django.db import migrations, models\n" + header +
                    "\nclass Migration(migrations.Migration):\n"
                    "    dependencies = [('ledger', '0001_initial')]\n"
                    "    operations = [\n" +
                    body + "\n    ]\n";
  MigrationFile f = parse_migration_py(src, "ledger", name);
  REQUIRE(f.problems.empty());
  return f;
}

std::vector<std::string> texts(const RunSqlText& r) {
  std::vector<std::string> out;
  for (const auto& [sql, line] : r.statements) {
    out.push_back(sql);
  }
  return out;
}

bool has_problem_at(const std::vector<Problem>& problems, uint64_t line) {
  return std::any_of(problems.begin(), problems.end(), [&](const Problem& p) {
    return p.code == "django-sql-unknown" && p.line == line;
  });
}

}  // namespace

TEST_CASE("RunSQL of the RunSQL project: statements and effects equal real sqlmigrate's",
          "[django][runsql][parity]") {
  auto files = runsql_project();
  REQUIRE(files.size() == 9);
  DjangoSettings settings;
  settings.sqlmigrate_semantics = true;  // each output was taken with the earlier ones applied
  ProjectSchema derived = derive_schema(files, settings);
  REQUIRE(derived.migrations.size() == 9);

  pgsql::Catalog catalog;
  pgsql::Session session;
  pgsql::prepare_sentinel_session(catalog, session);
  size_t statements = 0;
  for (const auto& m : derived.migrations) {
    INFO(m.key.label());
    std::string real =
        test::read_file(runsql_dir() / "sqlmigrate" / m.key.app / (m.key.name + ".sql"));
    pgsql::ScriptEffects replay = pgsql::replay_script(real, 1, catalog, session);
    CHECK(replay.problems.empty());
    std::vector<std::string> want, got;
    for (const auto& e : replay.effects) {
      want.push_back(effect_key(e));
    }
    for (const auto& e : m.effects) {
      got.push_back(effect_key(e));
    }
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());

    const MigrationFile& file =
        *std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.key() == m.key; });
    std::vector<const Operation*> ops;
    collect_run_sql(file.operations, ops);
    if (m.key.name == "0009_unreadable") {
      // A function call, str.format() and an f-string: each one a problem on its line, and
      // no effect is made up.
      REQUIRE(ops.size() == 3);
      for (const Operation* op : ops) {
        auto r = run_sql_statements(file, *op, settings);
        CHECK(r.statements.empty());
        CHECK(has_problem_at(r.problems, op->line));
        CHECK(has_problem_at(m.problems, op->line));
      }
      CHECK(got.empty());
      CHECK(want.size() == 4);
      continue;
    }
    CHECK(m.problems.empty());
    CHECK(got == want);
    // The text: what sqlmigrate printed for each RunSQL is exactly the statements derived.
    for (const Operation* op : ops) {
      auto r = run_sql_statements(file, *op, settings);
      CHECK(r.problems.empty());
      for (const auto& [sql, line] : r.statements) {
        CHECK(real.find(sql) != std::string::npos);
        ++statements;
      }
    }
    CHECK(m.sqlmigrate == real);
  }
  CHECK(statements == 17);
}

TEST_CASE("RunSQL: malformed pairs and placeholders are problems on their line",
          "[django][runsql]") {
  MigrationFile f = parse(
      "        migrations.RunSQL([\n"
      "            ('SELECT %s', [1, 2]),\n"
      "            ('SELECT %s, %s', [1]),\n"
      "            ('SELECT 1', [], 'extra'),\n"
      "            ('SELECT %d', [1]),\n"
      "            ('SELECT %(x)s', {'x': 1}),\n"
      "            ('SELECT %s', [some_function()]),\n"
      "            'ALTER TABLE t ADD COLUMN ok integer',\n"
      "        ]),\n"
      "        migrations.RunSQL(),\n");
  REQUIRE(f.operations.size() == 2);
  auto r = run_sql_statements(f, f.operations[0]);
  // The one readable statement is kept, each other element is a problem on its own line.
  CHECK(texts(r) == std::vector<std::string>{"ALTER TABLE t ADD COLUMN ok integer;"});
  CHECK(r.statements[0].second == 13);
  for (uint64_t line = 7; line <= 12; ++line) {
    INFO("line " << line);
    CHECK(has_problem_at(r.problems, line));
  }
  auto none = run_sql_statements(f, f.operations[1]);
  CHECK(none.statements.empty());
  CHECK(none.problems.size() == 1);
}

TEST_CASE("RunSQL: '%' as migrate executes it and as sqlmigrate prints it", "[django][runsql]") {
  MigrationFile f = parse(
      "        migrations.RunSQL([\n"
      "            (\"SELECT %s, '%%'\", ['50%']),\n"
      "            (\"SELECT '%%'\", None),\n"
      "            (\"SELECT '%%'\", []),\n"
      "            \"SELECT '%%'\",\n"
      "        ]),\n"
      "        migrations.RunSQL(\"SELECT '%%'\"),\n");
  DjangoSettings migrate;
  CHECK(texts(run_sql_statements(f, f.operations[0], migrate)) ==
        std::vector<std::string>{"SELECT '50%', '%';", "SELECT '%%';", "SELECT '%';",
                                 "SELECT '%%';"});
  DjangoSettings sqlmigrate;
  sqlmigrate.sqlmigrate_semantics = true;
  CHECK(texts(run_sql_statements(f, f.operations[0], sqlmigrate)) ==
        std::vector<std::string>{"SELECT '50%%', '%';", "SELECT '%%';", "SELECT '%';",
                                 "SELECT '%%';"});
  CHECK(texts(run_sql_statements(f, f.operations[1], migrate)) ==
        std::vector<std::string>{"SELECT '%%';"});
}

TEST_CASE("RunSQL: forms of the argument, noop in either position", "[django][runsql]") {
  MigrationFile f = parse(
      "        RunSQL(sql=SQL, reverse_sql=RunSQL.noop),\n"
      "        migrations.RunSQL(RunSQL.noop, SQL),\n"
      "        migrations.RunSQL(migrations.RunSQL.noop),\n"
      "        migrations.RunSQL(''),\n"
      "        migrations.RunSQL(sql=(SQL, ('SELECT %s', (True,)), RunSQL.noop), elidable=True,\n"
      "                          hints={'a': 1}),\n"
      "        migrations.RunSQL(textwrap.dedent('''\\\n"
      "            SELECT 1;\n"
      "              SELECT 2;\n"
      "\n"
      "            ''')),\n",
      "0002_x",
      "import textwrap\nfrom django.db.migrations import RunSQL\n"
      "SQL = 'SELECT ' 'a' + \"\"\"\nFROM b\"\"\"\n");
  REQUIRE(f.operations.size() == 6);
  CHECK(texts(run_sql_statements(f, f.operations[0])) ==
        std::vector<std::string>{"SELECT a\nFROM b;"});
  CHECK(run_sql_statements(f, f.operations[1]).statements.empty());
  CHECK(run_sql_statements(f, f.operations[2]).statements.empty());
  CHECK(run_sql_statements(f, f.operations[3]).statements.empty());
  CHECK(texts(run_sql_statements(f, f.operations[4])) ==
        std::vector<std::string>{"SELECT a\nFROM b;", "SELECT true;", ";"});
  CHECK(texts(run_sql_statements(f, f.operations[5])) ==
        std::vector<std::string>{"SELECT 1;\n  SELECT 2;\n\n;"});
  for (int i = 0; i < 6; ++i) {
    CHECK(run_sql_statements(f, f.operations[i]).problems.empty());
  }
}

TEST_CASE("RunSQL IF NOT EXISTS: the repair of a faked migration still creates its objects",
          "[django][runsql]") {
  // 0002 adds the column and index; 0003 repairs them with IF NOT EXISTS, the list form of
  // the incident. Replayed in order, 0003 finds both made; its effects are still the column
  // and the index, so that a database where both migrations were faked shows 0003 faked too.
  std::string header = "import django.db.models.deletion\n";
  MigrationFile m1 = parse(
      "        migrations.CreateModel(name='Member', fields=[\n"
      "            ('id', models.AutoField(auto_created=True, primary_key=True, "
      "serialize=False, verbose_name='ID')),\n"
      "        ]),\n",
      "0001_initial");
  m1.dependencies.clear();
  MigrationFile m2 = parse(
      "        migrations.AddField(model_name='member', name='left_at', "
      "field=models.DateTimeField(null=True)),\n"
      "        migrations.AddIndex(model_name='member', index=models.Index(fields=['left_at'], "
      "name='member_left_at_idx')),\n");
  MigrationFile m3 = parse(
      "        migrations.RunSQL(\n"
      "            sql=[\n"
      "                'ALTER TABLE ledger_member ADD COLUMN IF NOT EXISTS left_at timestamp with "
      "time zone NULL;',\n"
      "                'CREATE INDEX IF NOT EXISTS member_left_at_idx ON ledger_member "
      "(left_at);',\n"
      "            ],\n"
      "            reverse_sql=migrations.RunSQL.noop,\n"
      "        ),\n",
      "0003_repair");
  m3.dependencies = {{"ledger", "0002_x", false, "", "", 0}};
  for (bool sqlmigrate : {false, true}) {
    DjangoSettings settings;
    settings.sqlmigrate_semantics = sqlmigrate;
    ProjectSchema s = derive_schema({m1, m2, m3}, settings);
    REQUIRE(s.migrations.size() == 3);
    const MigrationSchema& repair = s.migrations[2];
    REQUIRE(repair.key.name == "0003_repair");
    CHECK(repair.problems.empty());
    std::set<std::string> made;
    for (const auto& e : repair.effects) {
      made.insert(e.action + " " + e.object + " " + e.table + "." + e.name);
    }
    CHECK(made == std::set<std::string>{"create column ledger_member.left_at",
                                        "create index ledger_member.member_left_at_idx"});
    for (const auto& e : repair.effects) {
      if (e.object == "column") {
        CHECK(e.type == "timestamp with time zone");
        CHECK(e.not_null == false);
      }
    }
  }
}

TEST_CASE("RunSQL of the fixture cases and the parity project: statements sqlmigrate printed",
          "[django][runsql][parity]") {
  // Every project with real sqlmigrate outputs: each statement derived from a RunSQL is in
  // the real output of its migration, as sqlmigrate printed it.
  std::vector<std::pair<fs::path, fs::path>> projects;  // migrations root, sqlmigrate root
  for (const auto& e : fs::directory_iterator(test::source_root() / "fixtures" / "cases")) {
    if (fs::is_directory(e.path() / "migrations") && fs::is_directory(e.path() / "sqlmigrate")) {
      projects.emplace_back(e.path() / "migrations", e.path() / "sqlmigrate");
    }
  }
  fs::path parity = test::source_root() / "tests" / "django" / "parity";
  for (const char* app : {"shop", "inventory"}) {
    projects.emplace_back(parity / "project" / app / "migrations", parity / "sqlmigrate" / app);
  }
  size_t operations = 0, statements = 0;
  for (const auto& [migrations, sqlmigrate] : projects) {
    std::vector<std::pair<std::string, fs::path>> apps;  // app, its migrations folder
    if (fs::exists(migrations / "__init__.py")) {
      apps.emplace_back(migrations.parent_path().filename().string(), migrations);
    } else {
      for (const auto& a : fs::directory_iterator(migrations)) {
        if (a.is_directory()) {
          apps.emplace_back(a.path().filename().string(), a.path());
        }
      }
    }
    for (const auto& [app, folder] : apps) {
      for (const auto& file : test::load_migrations(folder, app)) {
        std::vector<const Operation*> ops;
        collect_run_sql(file.operations, ops);
        if (ops.empty()) {
          continue;
        }
        fs::path out =
            (fs::exists(sqlmigrate / app) ? sqlmigrate / app : sqlmigrate) / (file.name + ".sql");
        INFO(out.string());
        REQUIRE(fs::exists(out));
        std::string real = test::read_file(out);
        DjangoSettings settings;
        settings.sqlmigrate_semantics = true;
        for (const Operation* op : ops) {
          ++operations;
          auto r = run_sql_statements(file, *op, settings);
          CHECK(r.problems.empty());
          for (const auto& [sql, line] : r.statements) {
            CHECK(real.find(sql) != std::string::npos);
            ++statements;
          }
        }
      }
    }
  }
  CHECK(operations >= 6);
  CHECK(statements >= 6);
}
