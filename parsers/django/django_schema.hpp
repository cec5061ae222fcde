// What a set of Django migrations does to a PostgreSQL schema, derived from the migration
// files alone, the way Django 3.2's PostgreSQL backend would do it.
//
// The migrations are put in the order `manage.py migrate` applies them (Django's
// forwards plan: leaf nodes in sorted order, dependencies depth-first; __first__ and
// __latest__ resolved; squashed migrations used in place of what they replace unless the
// `applied` set says only part of it ran, or that all of it did and their files are here:
// each replaced migration's row then says it ran, and is judged by its own operations). A project
// state is kept as Django's ProjectState keeps it -- models per app with their fields, db_table,
// primary key, unique_together / index_together / indexes / constraints, managed / proxy /
// swappable -- so that an operation resolves models made by earlier migrations, of any app.
//
// Each operation is emulated the way django/db/backends/base/schema.py and
// postgresql/schema.py would carry it out: the SQL the schema editor would execute is
// produced (the very text `manage.py sqlmigrate` prints, with deferred statements --
// foreign keys, field indexes, unique_together -- at the end of the migration) and replayed
// into a catalog (pgsql/script_effects.hpp) that plays the role of the database. The
// catalog gives the effects, with PostgreSQL's own names for inline PRIMARY KEY / UNIQUE /
// CHECK constraints and serial sequences, and it answers what Django asks the database
// (introspection of constraint names when a field is altered or removed). Names Django
// invents follow its rules exactly: <app>_<model> tables (truncate_name), <field>_id
// columns, _create_index_name with names_digest (MD5), _fk_<table>_<column>, _uniq, _like,
// _check, _pk. RunSQL is read in every form Django 3.2 accepts (run_sql_statements below)
// and its statements replayed as written (DO blocks opened); a statement with IF NOT EXISTS
// also has as effects the objects it creates when replayed on its own, even where an
// earlier migration made them (a repair's intent); RunPython has no effect;
// SeparateDatabaseAndState's database operations give effects while its state operations
// only change the state.
//
// Effects name no schema (schema "", schema_explicit false): Django leaves the schema to
// the search_path. RunSQL statements that qualify their names keep the schema they name.
// What cannot be known (a field class this module does not know, a default computed by a
// project function, an operation class of the project) is reported as a Problem on the
// migration, with its line, and the rest is still derived.
//
// Verified (tests/django/test_sqlmigrate_parity.cpp) against the real sqlmigrate output of
// every migration of the fixture cases and of tests/django/parity (every operation type),
// effects and sqlmigrate text alike, and against a pg_dump of the database `migrate` left.
// Where this emulation is knowingly coarser than Django:
//   - a default Django computes when the migration runs (timezone.now, uuid4, a project
//     function) is written as now() / CURRENT_DATE / LOCALTIME / gen_random_uuid(), or as
//     a marker string literal, with a notice;
//   - a float default of a DecimalField is written as in the source (Django rounds
//     Decimal.from_float() to max_digits digits);
//   - CheckConstraint / condition Q objects and index expressions: the common lookups and
//     functions only (others are reported and recorded as unknown);
//   - RunSQL text is kept whole in `sqlmigrate` (Django splits it with sqlparse);
//   - the order in which the relations of an altered key are visited follows the state's
//     model order; Django's follows its re-rendered registry, which can differ within an
//     app (statement order only, never the effects).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "django/migration_py.hpp"
#include "pgsql/ddl.hpp"
#include "store/store.hpp"

namespace dbautopsy::django {

struct DjangoSettings {
  std::string auth_user_model = "auth.User";  // settings.AUTH_USER_MODEL
  // settings.DEFAULT_AUTO_FIELD: the primary key Django adds to a model that declares
  // none, and (in Django 3.2's migration state) to auto-created many-to-many tables.
  // Class name ("AutoField", "BigAutoField") or dotted path; unset: inferred from the
  // `auto_created=True` primary keys of the project's own (non-contrib) CreateModel
  // operations, else AutoField, Django's default.
  std::optional<std::string> default_auto_field;
  // Other swappable settings: setting name -> "app.Model".
  std::map<std::string, std::string> swappable;
  // Migrations recorded as applied (django_migrations); only used to decide whether a
  // squashed migration or the ones it replaces are in the plan.
  std::set<MigrationKey> applied;
  // Emulate `manage.py sqlmigrate` instead of `migrate`. sqlmigrate collects statements
  // without running them, so what Django reads back from the database (the names of the
  // constraints it drops when a field is altered or removed) is the database as it was
  // before the migration began; and '%' in string parameters (column defaults) is printed
  // doubled. Effects then describe what sqlmigrate prints rather than what migrate does.
  bool sqlmigrate_semantics = false;
};

struct MigrationSchema {
  MigrationKey key;
  std::vector<pgsql::Effect> effects;
  // The statements Django's schema editor executes, in order, each as sqlmigrate prints it.
  std::vector<std::string> statements;
  // What `manage.py sqlmigrate app name` prints for this migration.
  std::string sqlmigrate;
  std::vector<Problem> problems;
  // Models this migration declares unmanaged (Meta.managed = False), whose tables Django
  // never creates: CreateModel, or AlterModelTable of such a model. (model key, db_table, line)
  struct Unmanaged {
    std::string model;
    std::string table;
    uint64_t line = 0;
  };
  std::vector<Unmanaged> unmanaged;
  // The squashed migration applied in place of this one (this one then has no effects).
  std::optional<MigrationKey> replaced_by;
};

// A column the application fills as it inserts a row (the field's value is computed by
// Django on save, not by a database default): auto_now_add, auto_now, or a callable default
// Django knows (timezone.now, uuid.uuid4, date.today, ...).
struct AppValueColumn {
  std::string table;
  std::string column;
  std::string origin;      // auto_now_add, auto_now, default=<callable>
  MigrationKey migration;  // the migration that defined the field as it ends
  uint64_t line = 0;
};

struct ProjectSchema {
  std::vector<MigrationSchema> migrations;  // in the order migrate applies them
  // The columns of the final state's models that the application fills on insert.
  std::vector<AppValueColumn> app_values;
  std::vector<Problem> problems;   // about the set: missing dependencies, cycles
  std::string default_auto_field;  // what was used
  // The database the migrations leave, as replayed: what Django created lives in the
  // schema pgsql::k_search_path_schema (the search_path's), what RunSQL put in a named
  // schema in that schema.
  pgsql::Catalog catalog;
};

ProjectSchema derive_schema(const std::vector<MigrationFile>& files,
                            const DjangoSettings& settings = {});

// What one RunSQL operation of `file` runs forwards, read from the file alone as Django 3.2's
// RunSQL._run_sql() runs it through the PostgreSQL schema editor, each statement as
// `sqlmigrate` prints it (';' appended where missing; (sql, params) pairs interpolated by
// quote_value(), '%' of str parameters doubled with sqlmigrate_semantics as sqlmigrate
// does). A list element or argument that cannot be read without running Python is a
// problem with its line; the statements that can be read are still given, with theirs.
struct RunSqlText {
  std::vector<std::pair<std::string, uint64_t>> statements;
  std::vector<Problem> problems;
};
RunSqlText run_sql_statements(const MigrationFile& file, const Operation& op,
                              const DjangoSettings& settings = {});

struct PyEffectsSummary {
  size_t files = 0;       // migration .py artifacts read again
  size_t migrations = 0;  // migrations given effects
  size_t effects = 0;
  std::vector<std::string> notes;  // about the whole set (a cycle, a file that is gone)
};

// The effects of the migration .py artifacts of a store (kind `django-migration-py`),
// derived together as one project: a migration's effects depend on the state every earlier
// migration left, of any app, so this runs after all of a case's files are ingested, and
// again whenever one of them changes. Each file is read again from `base / artifact.path`
// (the store keeps no source text). Replaces every `migration_effect` row of source `py`
// and the problems of those artifacts (parse problems, then what the derivation could not
// know, on the migration's own file and line). Rules prefer a migration's sqlmigrate
// effects to these when both exist. `migration_record` rows decide only whether a squashed
// migration or the ones it replaces are in the plan.
// First the app label of every folder of migration files and sqlmigrate outputs is decided
// (app_labels.hpp: assign_app_labels); its notes come first among the summary's.
// Each file is read again from `base / path`, or from `locate(path)` when given (the members
// of a bundle, unpacked elsewhere).
PyEffectsSummary write_py_effects(store::Store& store, const std::filesystem::path& base);
PyEffectsSummary write_py_effects(
    store::Store& store,
    const std::function<std::filesystem::path(const std::string& path)>& locate);

// Django's naming helpers (django/db/backends/utils.py, base/schema.py, models/indexes.py).
// Lengths count characters (code points), as Python's len() does.
std::string names_digest(const std::vector<std::string>& parts, size_t length);
std::string truncate_name(std::string_view identifier, size_t length = 63, size_t hash_len = 4);
std::string create_index_name(std::string_view table, const std::vector<std::string>& columns,
                              std::string_view suffix);
// Index.set_name_with_model: the name makemigrations gives an index (columns prefixed with
// '-' for descending order).
std::string index_name_with_model(std::string_view table, const std::vector<std::string>& columns);

}  // namespace dbautopsy::django
