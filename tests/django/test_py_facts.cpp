// Migration files into the fact store: read_migration_py (one file's migration, dependency
// and operation facts) and write_py_effects (the effects of all of a store's migration files,
// derived together), on the django_history fixture case -- a real Django 3.2 project whose
// sqlmigrate outputs were printed by Django itself.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <tuple>

#include "django/django_schema.hpp"
#include "django/migration_py.hpp"
#include "django/sqlmigrate.hpp"
#include "io/input.hpp"
#include "store/facts.hpp"
#include "store/store.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dbautopsy;

namespace {

fs::path history_case() {
  return test::source_root() / "fixtures" / "cases" / "django_history";
}

// Ingests `rel` (a path inside the case) as `kind` with `read`, as the CLI does.
template <typename Read>
int64_t ingest(store::Store& s, const std::string& rel, const std::string& kind, Read read) {
  store::ArtifactFact a;
  a.path = rel;
  a.kind = kind;
  a.sha256 = rel;  // not checked here
  int64_t id = store::add_artifact(s, a);
  store::FactWriter out(s, id);
  io::InputStream in(history_case() / rel);
  read(in, out);
  return id;
}

using EffectRow = std::tuple<std::string, std::string, std::string, std::string, std::string,
                             std::string, std::string, std::string>;

std::set<EffectRow> effects(store::Store& s, const std::string& app, const std::string& name,
                            const std::string& source) {
  std::set<EffectRow> out;
  store::Statement st = s.prepare(
      "SELECT action, object, coalesce(table_name, ''), name, coalesce(type, ''), "
      "coalesce(not_null, -1), coalesce(kind, ''), coalesce(columns, '') FROM migration_effect "
      "WHERE app = ?1 AND migration = ?2 AND source = ?3");
  st.bind(1, app);
  st.bind(2, name);
  st.bind(3, source);
  while (st.step()) {
    out.emplace(st.get_text(0), st.get_text(1), st.get_text(2), st.get_text(3), st.get_text(4),
                std::to_string(st.get_int(5)), st.get_text(6), st.get_text(7));
  }
  st.reset();
  return out;
}

}  // namespace

TEST_CASE("sniffing a migration file by its content", "[django][facts]") {
  CHECK(django::sniff_migration_py("from django.db import migrations\n\n"
                                   "class Migration(migrations.Migration):\n    pass\n") > 0);
  CHECK(django::sniff_migration_py("from django.db.migrations import Migration\n"
                                   "class Migration(Migration):\n") > 0);
  CHECK(django::sniff_migration_py("class Migration(models.Model):\n") == 0);
  CHECK(django::sniff_migration_py("# class Migration(migrations.Migration):\n") == 0);
  CHECK(django::sniff_migration_py("") == 0);
}

TEST_CASE("migration files into facts, effects derived across all of them", "[django][facts]") {
  store::Store s = store::Store::open_memory();
  std::vector<std::string> files;
  for (const char* app : {"teams", "user_profile"}) {
    for (const auto& e : fs::directory_iterator(history_case() / "migrations" / app)) {
      if (e.path().extension() == ".py" && e.path().filename() != "__init__.py") {
        files.push_back(fs::relative(e.path(), history_case()).generic_string());
      }
    }
  }
  REQUIRE(files.size() == 27);
  for (const auto& rel : files) {
    ingest(s, rel, "django-migration-py", [](io::InputStream& in, store::FactWriter& out) {
      django::MigrationPySummary sum = django::read_migration_py(in, out);
      CHECK(sum.migration);
      CHECK(out.errors() == 0);
    });
  }
  // The dependency that makes teams.0001_initial out of order in this case (the file in the
  // release depends on user_profile 0002, the branch's did not).
  CHECK(s.scalar_int("SELECT count(*) FROM migration_dependency WHERE app = 'teams' AND name = "
                     "'0001_initial' AND dep_app = 'user_profile' AND dep_name = "
                     "'0002_userprofile_public_id'") == 1);
  CHECK(s.scalar_int("SELECT count(*) FROM migration WHERE source = 'py'") == 27);
  // 0018 is one AlterField.
  CHECK(s.scalar_int("SELECT count(*) FROM migration_operation WHERE app = 'user_profile' AND "
                     "name = '0018_alter_userprofile_display_name' AND type = 'AlterField' AND "
                     "known = 1") == 1);
  CHECK(s.scalar_int("SELECT count(*) FROM migration_effect") == 0);  // not yet: all files first

  django::PyEffectsSummary sum = django::write_py_effects(s, history_case());
  CHECK(sum.files == 27);
  CHECK(sum.migrations == 27);
  CHECK(sum.notes.empty());
  // Idempotent: derived again, the same rows.
  int64_t first = s.scalar_int("SELECT count(*) FROM migration_effect WHERE source = 'py'");
  CHECK(first > 0);
  django::write_py_effects(s, history_case());
  CHECK(s.scalar_int("SELECT count(*) FROM migration_effect WHERE source = 'py'") == first);

  // Against what the real `manage.py sqlmigrate` printed for the same migrations (0018 alters
  // a field that 0001 created and adds its two indexes; teams 0004 adds a column to a table
  // of another migration).
  for (const auto& [app, name] : std::vector<std::pair<std::string, std::string>>{
           {"user_profile", "0018_alter_userprofile_display_name"},
           {"teams", "0004_add_left_at_field"},
           {"user_profile", "0013_skill_endorsement"}}) {
    ingest(s, "sqlmigrate/" + app + "/" + name + ".sql", "django-sqlmigrate",
           [](io::InputStream& in, store::FactWriter& out) { django::read_sqlmigrate(in, out); });
    INFO(app << "." << name);
    auto py = effects(s, app, name, "py");
    CHECK(!py.empty());
    CHECK(py == effects(s, app, name, "sqlmigrate"));
  }
  // The two indexes this case's findings are about, by the names Django gives them.
  std::set<std::string> indexes;
  for (const auto& e : effects(s, "user_profile", "0018_alter_userprofile_display_name", "py")) {
    if (std::get<0>(e) == "create" && std::get<1>(e) == "index") {
      indexes.insert(std::get<3>(e));
    }
  }
  CHECK(indexes == std::set<std::string>{"user_profile_userprofile_display_name_e35744fd",
                                         "user_profile_userprofile_display_name_e35744fd_like"});
}
