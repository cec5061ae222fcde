// A Django migration file (`<app>/migrations/0007_add_x.py`) read without running Python:
// its dependencies, what it replaces, and its operations.
//
// The file is parsed with python_syntax.hpp; the `class Migration` body gives `initial`,
// `atomic`, `dependencies`, `run_before`, `replaces` and `operations`. Names bound at
// module level (`SQL = """..."""`, `FIELDS = [...]`) are substituted where an operation,
// the operations list or the dependency list uses them, and lists joined with `+` are
// joined, so the usual ways of writing a migration by hand read like generated ones.
//
// Every operation is kept, in order, with its line: operations of django.db.migrations
// and django.contrib.postgres.operations are typed ("AddField", "RunSQL", ...) and get the
// one-line summary Django's describe() gives them (what sqlmigrate prints as a comment);
// anything else (a project's own operation class, a third-party one) is kept as an opaque
// operation with `known == false`, never dropped. SeparateDatabaseAndState and RunSQL's
// state_operations carry their nested operations.
//
// Problems (a file without a Migration class, a dependency that is not an (app, name)
// pair, an operations list built by a comprehension, Python syntax errors) carry their line;
// parsing never throws.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "django/python_syntax.hpp"
#include "io/input.hpp"
#include "store/facts.hpp"

namespace dbautopsy::django {

struct Problem {
  uint64_t line = 0;                 // 0: not tied to a line
  std::string severity = "warning";  // error, warning, notice (as problem rows in the store)
  std::string code;
  std::string message;
};

struct MigrationKey {
  std::string app;
  std::string name;

  std::string label() const { return app + "." + name; }
  auto operator<=>(const MigrationKey&) const = default;
};

struct Dependency {
  std::string app;
  std::string name;  // a migration name, "__first__" or "__latest__"
  // migrations.swappable_dependency(settings.X): `setting` is "X" and app / name are what
  // Django's default value gives ("auth", "__first__" for AUTH_USER_MODEL); the schema
  // derivation substitutes the project's setting when it knows it.
  bool swappable = false;
  std::string setting;
  std::string swappable_value;  // the literal 'app.Model' when one was given instead
  uint64_t line = 0;
};

struct Operation {
  std::string type;  // "AddField", ...; for an unknown class, its name as written
  std::string path;  // the callee resolved through the imports ("django.db.migrations.AddField")
  bool known = false;
  uint64_t line = 0;
  py::Node call;        // the call, module-level names substituted
  std::string summary;  // Django's describe() for known operations
  // SeparateDatabaseAndState(database_operations, state_operations); RunSQL's and
  // RunPython's state_operations.
  std::vector<Operation> database_operations;
  std::vector<Operation> state_operations;

  // An argument by its parameter name, positional or keyword, following the operation
  // class's signature (AddField(model_name, name, field, preserve_default)).
  const py::Node* arg(std::string_view name) const;
};

struct MigrationFile {
  std::string app;
  std::string name;
  bool has_migration_class = false;
  bool initial = false;
  std::optional<bool> atomic;
  std::vector<Dependency> dependencies;
  std::vector<Dependency> run_before;
  std::vector<MigrationKey> replaces;
  std::vector<Operation> operations;
  std::vector<Problem> problems;
  py::Module module;  // imports resolve dotted names in the operations

  MigrationKey key() const { return {app, name}; }
};

MigrationFile parse_migration_py(std::string_view text, std::string app, std::string name);

// (app, name) from a path: ".../<app>/migrations/<name>.py" or ".../<app>/<name>.py".
// nullopt for __init__.py, files not ending in .py, or a bare file name.
std::optional<MigrationKey> migration_key_from_path(std::string_view path);

// The operation types (class names) with modelled schema effects or known to have none.
bool is_known_operation_type(std::string_view type);

// Looks like a migration file (0..100): a line `class Migration(migrations.Migration):`
// (or `(Migration)`, imported from django.db.migrations). Content decides, not the name.
int sniff_migration_py(std::string_view head);

// The whole text of a migration file, capped at 16 MiB (an InputError past that).
std::string read_migration_text(io::InputStream& in);

struct MigrationPySummary {
  bool migration = false;  // a Migration class was found and the file is named by its path
  size_t dependencies = 0;
  size_t operations = 0;
  size_t opaque = 0;  // operations kept without a model of what they do
};

// One migration file into facts: `migration` (source py), `migration_dependency`,
// `migration_operation` (the top-level operations in order, opaque ones with known = 0) and
// the parse problems. The migration is named by the file's path (migration_key_from_path);
// a path that names none is an error problem and nothing else is read. Its effects need
// the project state of every migration before it, so they are derived after all files are
// read (django_schema.hpp, write_py_effects).
MigrationPySummary read_migration_py(io::InputStream& in, store::FactWriter& out);

// Problems as problem rows of the artifact.
void add_problems(const std::vector<Problem>& problems, store::FactWriter& out);

}  // namespace dbautopsy::django
