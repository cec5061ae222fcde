// Every RunSQL of the shared corpus's migration files (NetBox, Saleor): the statements read
// from the file equal, byte for byte, those real Django 3.2's RunSQL collects from the same
// arguments (fixtures/generate/django/runsql/corpus_sql.json, made by corpus_sql.py, which
// runs each module with the project's imports stubbed and Django's own RunSQL._run_sql()
// through the PostgreSQL schema editor with collect_sql=True).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "django/django_schema.hpp"
#include "django/migration_py.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dbautopsy;
using namespace dbautopsy::django;

namespace {

fs::path runsql_dir() {
  return test::source_root() / "fixtures" / "generate" / "django" / "runsql";
}

void collect_run_sql(const std::vector<Operation>& ops, std::vector<const Operation*>& out) {
  for (const auto& op : ops) {
    if (op.type == "RunSQL") {
      out.push_back(&op);
    }
    collect_run_sql(op.database_operations, out);
  }
}

std::vector<std::string> texts(const RunSqlText& r) {
  std::vector<std::string> out;
  for (const auto& [sql, line] : r.statements) {
    out.push_back(sql);
  }
  return out;
}

}  // namespace

TEST_CASE("RunSQL of every corpus migration: the statements real Django collects",
          "[django][runsql][corpus]") {
  auto corpus = test::corpus_dir();
  REQUIRE(corpus);
  auto expected = nlohmann::json::parse(test::read_file(runsql_dir() / "corpus_sql.json"));
  REQUIRE(expected.size() >= 15);
  DjangoSettings settings;
  settings.sqlmigrate_semantics = true;
  size_t compared = 0;
  for (const auto& [rel, ops_want] : expected.items()) {
    INFO(rel);
    fs::path path = *corpus / "django_migrations" / rel;
    REQUIRE(fs::exists(path));
    auto key = migration_key_from_path(path.string());
    REQUIRE(key);
    MigrationFile file = parse_migration_py(test::read_file(path), key->app, key->name);
    std::vector<const Operation*> ops;
    collect_run_sql(file.operations, ops);
    REQUIRE(ops.size() == ops_want.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      INFO("RunSQL at line " << ops[i]->line);
      auto r = run_sql_statements(file, *ops[i], settings);
      if (ops_want[i].contains("error")) {
        CHECK(r.statements.empty());
        CHECK(!r.problems.empty());
        continue;
      }
      CHECK(r.problems.empty());
      CHECK(texts(r) == ops_want[i]["statements"].get<std::vector<std::string>>());
      ++compared;
    }
  }
  CHECK(compared >= 19);
}
