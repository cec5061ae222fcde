// The proof of django_schema: for every migration of
//   - the fixture cases (fixtures/cases/django_*: a real Django 3.2 project migrated on
//     PostgreSQL 15, with the real `manage.py sqlmigrate` output of each migration, taken on
//     an empty database), compared as `migrate` would run them, and
//   - the parity project (tests/django/parity: hand-written migrations using every operation
//     django_schema emulates, with sqlmigrate taken on a database holding the migrations
//     before each one, see generate.sh), compared with sqlmigrate's semantics,
// the effects derived from the .py files must equal the effects the SQL machinery derives
// from the sqlmigrate output: same tables, columns (type, nullability, default), indexes and
// constraints (kind, columns, referenced table, definition), same names, same schema
// targeting. The sqlmigrate outputs are replayed in django_migrations order into one shared
// catalog, each migration's effects collected on its own. Where a migration has no RunSQL,
// the emulated sqlmigrate text must also equal the real one byte for byte.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "base/text.hpp"
#include "django/app_labels.hpp"
#include "django/django_schema.hpp"
#include "django/migration_py.hpp"
#include "pgsql/names.hpp"
#include "pgsql/script_effects.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dbautopsy;

namespace {

const std::vector<std::string> k_contrib = {"admin", "auth", "contenttypes", "sessions"};

std::string strip_sentinel(std::string s) {
  const std::string prefix = pgsql::quote_ident(pgsql::k_search_path_schema) + ".";
  for (size_t p; (p = s.find(prefix)) != std::string::npos;) {
    s.erase(p, prefix.size());
  }
  return s;
}

// What is compared of an effect: everything but its line and its wording.
std::string effect_key(const pgsql::Effect& e) {
  std::string schema = e.schema == pgsql::k_search_path_schema ? "" : e.schema;
  std::string ref_schema = e.ref_schema == pgsql::k_search_path_schema ? "" : e.ref_schema;
  std::ostringstream s;
  s << e.action << ' ' << e.object << ' '
    << (schema.empty() ? std::string() : schema + (e.schema_explicit ? "(explicit)." : "."))
    << (e.table.empty() ? std::string() : e.table + ".") << e.name;
  if (!e.new_name.empty()) {
    s << " -> " << e.new_name;
  }
  if (!e.type.empty()) {
    s << " type=" << e.type;
  }
  if (e.not_null) {
    s << (*e.not_null ? " not-null" : " null");
  }
  if (e.default_expr) {
    s << " default=" << strip_sentinel(*e.default_expr);
  }
  if (!e.kind.empty()) {
    s << " kind=" << e.kind;
  }
  if (!e.columns.empty()) {
    s << " columns=(" << e.columns << ")";
  }
  if (!e.ref_table.empty()) {
    s << " ref=" << (ref_schema.empty() ? "" : ref_schema + ".") << e.ref_table;
  }
  if (!e.definition.empty()) {
    s << " def=" << text::squash_space(strip_sentinel(e.definition));
  }
  if (e.conditional) {
    s << " (conditional)";
  }
  return s.str();
}

struct CsvRow {
  std::string app, name;
};

// django_migrations as `\copy ... CSV HEADER` wrote it, columns in any order.
std::vector<CsvRow> read_csv(const fs::path& path) {
  std::vector<CsvRow> rows;
  std::istringstream in(test::read_file(path));
  std::string line;
  size_t app = 1, name = 2;
  bool header = true;
  while (std::getline(in, line)) {
    auto parts = text::split(line, ',');
    if (header) {
      header = false;
      for (size_t i = 0; i < parts.size(); ++i) {
        if (parts[i] == "app") {
          app = i;
        } else if (parts[i] == "name") {
          name = i;
        }
      }
      continue;
    }
    if (parts.size() > std::max(app, name)) {
      rows.push_back({std::string(parts[app]), std::string(parts[name])});
    }
  }
  return rows;
}

bool has_run_sql(const std::vector<django::Operation>& ops) {
  for (const auto& op : ops) {
    if (op.type == "RunSQL" || has_run_sql(op.database_operations)) {
      return true;
    }
  }
  return false;
}

std::string first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string la, lb;
  for (int n = 1;; ++n) {
    bool ga = static_cast<bool>(std::getline(x, la));
    bool gb = static_cast<bool>(std::getline(y, lb));
    if (!ga && !gb) {
      return "(the texts differ only in their final newline)";
    }
    if (!ga || !gb || la != lb) {
      return "line " + std::to_string(n) + ":\n      derived:   " + (ga ? la : "<end>") +
             "\n      sqlmigrate: " + (gb ? lb : "<end>");
    }
  }
}

}  // namespace

TEST_CASE("effects derived from migration files equal those of the real sqlmigrate outputs",
          "[django][parity]") {
  std::string why;
  auto django_dir = test::django_dir(&why);
  if (!django_dir) {
    WARN("Django's contrib migrations are not compared (" + why +
         "); only the fixture project's own apps are");
  }
  struct Case {
    std::string name;
    fs::path dir;  // holds sqlmigrate/ and django_migrations.csv
    std::vector<std::pair<std::string, fs::path>> apps;  // app, its migrations folder
    bool sqlmigrate_semantics = false;
  };
  std::vector<Case> cases;
  for (const auto& e : fs::directory_iterator(test::source_root() / "fixtures" / "cases")) {
    if (fs::is_directory(e.path() / "migrations") && fs::is_directory(e.path() / "sqlmigrate") &&
        fs::exists(e.path() / "django_migrations.csv")) {
      // A case whose sqlmigrate outputs were taken before each migration, on the database
      // holding the ones before it, says so in its expected.json.
      std::ifstream expected(e.path() / "expected.json");
      std::string text((std::istreambuf_iterator<char>(expected)),
                       std::istreambuf_iterator<char>());
      bool semantics = text.find("\"sqlmigrate_semantics\": true") != std::string::npos;
      // A case whose sqlmigrate outputs depend on what the migrations cannot know (extensions
      // installed beforehand, which Django's CreateExtension then does not create) says so.
      if (text.find("\"sqlmigrate_parity\": false") != std::string::npos) {
        continue;
      }
      Case c{e.path().filename().string(), e.path(), {}, semantics};
      for (const auto& app : fs::directory_iterator(e.path() / "migrations")) {
        if (app.is_directory()) {
          c.apps.emplace_back(app.path().filename().string(), app.path());
        }
      }
      cases.push_back(c);
    }
  }
  std::sort(cases.begin(), cases.end(),
            [](const Case& a, const Case& b) { return a.name < b.name; });
  REQUIRE(!cases.empty());
  fs::path parity = test::source_root() / "tests" / "django" / "parity";
  cases.push_back(Case{"parity-project",
                       parity,
                       {{"shop", parity / "project" / "shop" / "migrations"},
                        {"inventory", parity / "project" / "inventory" / "migrations"}},
                       true});

  size_t compared = 0, effects = 0, texts = 0;
  std::ostringstream report;
  for (const Case& c : cases) {
    const std::string& case_name = c.name;
    const fs::path& dir = c.dir;
    std::vector<django::MigrationFile> files;
    std::set<std::string> compared_apps;
    // A folder named otherwise than its app's label (migrations/store_orders/ of the app
    // labelled orders) is read as dbautopsy reads it (django/app_labels.hpp).
    django::AppLabelEvidence evidence;
    for (const auto& [folder_name, folder] : c.apps) {
      for (const auto& f : test::load_migrations(folder, folder_name)) {
        evidence.folders[folder_name].insert(f.name);
        for (const auto& d : f.dependencies) {
          if (!d.swappable) {
            evidence.dependencies.push_back({folder_name, f.name, d.app, d.name});
          }
        }
      }
    }
    if (fs::exists(dir / "django_migrations.csv")) {
      for (const auto& row : read_csv(dir / "django_migrations.csv")) {
        evidence.records[row.app].insert(row.name);
      }
    }
    const auto label_of = django::infer_app_labels(evidence).label_of;
    auto label = [&](const std::string& folder) {
      auto it = label_of.find(folder);
      return it == label_of.end() ? folder : it->second;
    };
    for (const auto& [folder_name, folder] : c.apps) {
      const std::string app = label(folder_name);
      auto loaded = test::load_migrations(folder, app);
      files.insert(files.end(), loaded.begin(), loaded.end());
      compared_apps.insert(app);
    }
    if (django_dir) {
      for (const auto& app : k_contrib) {
        if (fs::is_directory(dir / "sqlmigrate" / app)) {
          auto loaded = test::load_migrations(*django_dir / "contrib" / app / "migrations", app);
          files.insert(files.end(), loaded.begin(), loaded.end());
          compared_apps.insert(app);
        }
      }
    }
    for (const auto& f : files) {
      for (const auto& p : f.problems) {
        report << case_name << ": " << f.key().label() << ".py:" << p.line << ": " << p.message
               << "\n";
      }
    }
    django::DjangoSettings settings;
    settings.sqlmigrate_semantics = c.sqlmigrate_semantics;
    django::ProjectSchema derived = django::derive_schema(files, settings);
    for (const auto& p : derived.problems) {
      report << case_name << ": the migration set: " << p.message << "\n";
    }

    // The SQL side: every sqlmigrate output, in the order django_migrations recorded, then
    // the ones never applied in the order derive_schema plans them.
    std::map<django::MigrationKey, fs::path> sql_files;
    for (const auto& app : fs::directory_iterator(dir / "sqlmigrate")) {
      for (const auto& f : fs::directory_iterator(app.path())) {
        if (f.path().extension() == ".sql") {
          sql_files[{label(app.path().filename().string()), f.path().stem().string()}] = f.path();
        }
      }
    }
    // A squashed migration in the place of the first migration it replaces, as the expected
    // schema is folded (Django records the replaced ones as it applies the squash, and the
    // squash's own row after every later migration).
    std::map<django::MigrationKey, django::MigrationKey> squash_of;
    for (const auto& m : derived.migrations) {
      if (m.replaced_by && sql_files.count(*m.replaced_by)) {
        squash_of.emplace(m.key, *m.replaced_by);
      }
    }
    std::vector<django::MigrationKey> order;
    std::set<django::MigrationKey> seen;
    for (const auto& row : read_csv(dir / "django_migrations.csv")) {
      django::MigrationKey k{row.app, row.name};
      if (auto it = squash_of.find(k); it != squash_of.end()) {
        k = it->second;
      }
      if (sql_files.count(k) && seen.insert(k).second) {
        order.push_back(k);
      }
    }
    for (const auto& m : derived.migrations) {
      if (sql_files.count(m.key) && seen.insert(m.key).second) {
        order.push_back(m.key);
      }
    }
    pgsql::Catalog catalog;
    pgsql::Session session;
    pgsql::prepare_sentinel_session(catalog, session);
    std::map<django::MigrationKey, std::vector<pgsql::Effect>> sql_effects;
    std::map<django::MigrationKey, std::string> sql_texts;
    std::map<django::MigrationKey, std::set<std::string>> sql_problems;
    for (const auto& k : order) {
      std::string script = test::read_file(sql_files[k]);
      sql_texts[k] = script;
      pgsql::ScriptEffects r = pgsql::replay_script(script, 1, catalog, session);
      sql_effects[k] = r.effects;
      for (const auto& p : r.problems) {
        sql_problems[k].insert(p.code);
      }
    }

    for (const auto& m : derived.migrations) {
      if (!compared_apps.count(m.key.app) || m.replaced_by) {
        continue;
      }
      const std::string label = case_name + ": " + m.key.label();
      for (const auto& p : m.problems) {
        // The replay of the real sqlmigrate output may report the same thing (a statement
        // sqlmigrate prints that would fail on the database it describes).
        if (p.severity != "notice" && !sql_problems[m.key].count(p.code)) {
          report << label << ":" << p.line << ": " << p.severity << " " << p.code << ": "
                 << p.message << "\n";
        }
      }
      auto it = sql_effects.find(m.key);
      if (it == sql_effects.end()) {
        report << label << ": no sqlmigrate output to compare with\n";
        continue;
      }
      ++compared;
      std::map<std::string, int> want, got;
      for (const auto& e : it->second) {
        ++want[effect_key(e)];
      }
      for (const auto& e : m.effects) {
        ++got[effect_key(e)];
      }
      effects += it->second.size();
      for (const auto& [k, n] : want) {
        if (got[k] != n) {
          report << label << ": sqlmigrate has " << n << ", derived " << got[k] << ": " << k
                 << "\n";
        }
      }
      for (const auto& [k, n] : got) {
        if (n && !want.count(k)) {
          report << label << ": derived has " << n << ", sqlmigrate none: " << k << "\n";
        }
      }
      const auto file =
          std::find_if(files.begin(), files.end(), [&](const auto& f) { return f.key() == m.key; });
      if (file != files.end() && !has_run_sql(file->operations)) {
        ++texts;
        if (m.sqlmigrate != sql_texts[m.key]) {
          report << label << ": the emulated sqlmigrate text differs at "
                 << first_difference(m.sqlmigrate, sql_texts[m.key]) << "\n";
        }
      }
    }
  }
  std::cout << "django parity: " << cases.size() << " cases, " << compared
            << " migrations compared, " << effects << " effects, " << texts
            << " sqlmigrate texts compared byte for byte\n";
  INFO(report.str());
  CHECK(report.str().empty());
  CHECK(compared > 0);
}
