// Every migration file of the shared corpus (NetBox, Saleor, Django's contrib apps and
// their other revisions) is read with zero problems; the schema derivation runs over each
// project's files without failing (its problems -- unknown third-party fields, migrations
// of the project that the corpus does not hold -- are counted, not judged).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "django/django_schema.hpp"
#include "django/migration_py.hpp"
#include "django/python_syntax.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dbautopsy;

TEST_CASE("every migration file of the corpus parses without problems", "[django][corpus]") {
  auto corpus = test::corpus_dir();
  REQUIRE(corpus);
  fs::path root = *corpus / "django_migrations";
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().extension() == ".py") {
      paths.push_back(e.path());
    }
  }
  std::sort(paths.begin(), paths.end());
  size_t modules = 0, migrations = 0, operations = 0, opaque = 0;
  std::ostringstream report;
  std::map<std::string, std::vector<django::MigrationFile>> projects;
  for (const auto& p : paths) {
    std::string text = test::read_file(p);
    django::py::Module m = django::py::parse_module(text);
    ++modules;
    for (const auto& pr : m.problems) {
      report << p.lexically_relative(root).string() << ":" << pr.line << ": " << pr.message << "\n";
    }
    if (p.filename() == "__init__.py") {
      continue;
    }
    auto key = django::migration_key_from_path(p.string());
    REQUIRE(key);
    django::MigrationFile f = django::parse_migration_py(text, key->app, key->name);
    ++migrations;
    for (const auto& pr : f.problems) {
      report << p.lexically_relative(root).string() << ":" << pr.line << ": [" << pr.code << "] "
             << pr.message << "\n";
    }
    // Every element of a non-empty `operations` list becomes an operation.
    if (const auto* cls = f.module.class_named("Migration")) {
      for (const auto& a : cls->assignments) {
        if (a.targets == std::vector<std::string>{"operations"} &&
            f.operations.size() != a.value.children.size()) {
          report << p.lexically_relative(root).string() << ": " << a.value.children.size()
                 << " operations written, " << f.operations.size() << " read\n";
        }
      }
    }
    for (const auto& op : f.operations) {
      ++operations;
      opaque += !op.known;
    }
    std::string project = p.lexically_relative(root).begin()->string();
    if (p.string().find("_alt_versions") == std::string::npos) {
      projects[project].push_back(std::move(f));
    }
  }
  std::cout << "django corpus: " << modules << " Python files, " << migrations << " migrations, "
            << operations << " operations (" << opaque << " not Django's own)\n";
  INFO(report.str());
  CHECK(report.str().empty());
  CHECK(modules == paths.size());

  for (const auto& [project, files] : projects) {
    django::ProjectSchema schema = django::derive_schema(files);
    size_t effects = 0, problems = schema.problems.size();
    for (const auto& m : schema.migrations) {
      effects += m.effects.size();
      problems += m.problems.size();
    }
    std::cout << "django corpus: " << project << ": " << schema.migrations.size()
              << " migrations planned, " << effects << " effects, " << problems
              << " problems (incomplete history, third-party fields)\n";
    CHECK(schema.migrations.size() == files.size());
  }
}
