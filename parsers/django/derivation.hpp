// Private to parsers/django: what the files emulating Django 3.2's `migrate` share -- the
// project state's types (django/db/migrations/state.py: ModelState with its fields, indexes
// and constraints), the Python values read from migration files, the deferred statements of
// the schema editor (django/db/backends/ddl_references.py), and the Derivation class that
// plays ProjectState, MigrationExecutor and the PostgreSQL schema editor at once.
//
// Derivation's members are defined where Django keeps the same knowledge:
//   names.cpp                      backends/utils.py, base/schema.py: names Django invents
//   python_values.cpp              the Python literals migrations/serializer.py writes
//   fields.cpp                     models/fields/__init__.py, related.py: fields, db types
//   state.cpp                      migrations/state.py (ModelState, ProjectState)
//   expressions.cpp                models/query_utils.py (Q), sql/where.py, lookups.py
//   schema_editor.cpp              backends/base/schema.py
//   schema_editor_postgresql.cpp   backends/postgresql/schema.py
//   migration.cpp                  migrations/migration.py (Migration.apply)
//   operations_models.cpp          migrations/operations/models.py
//   operations_fields.cpp          migrations/operations/fields.py
//   operations_special.cpp         migrations/operations/special.py
//   operations_postgres.cpp        contrib/postgres/operations.py
//   executor.cpp                   migrations/executor.py, loader.py, graph.py (the plan)
//   django_schema.cpp              the entry points (derive_schema, write_py_effects)
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/text.hpp"
#include "django/django_schema.hpp"
#include "django/migration_py.hpp"
#include "django/python_syntax.hpp"
#include "pgsql/script_effects.hpp"

namespace dbautopsy::django::detail {

using py::Node;
using py::NodeKind;

// connection.ops.max_name_length() of the PostgreSQL backend.
inline constexpr size_t k_max_name_length = 63;

// A column type that cannot be known (a field class this module does not know). It is
// written into the emulated SQL so that the column still exists for later operations, and
// taken out of the effects again.
inline constexpr std::string_view k_unknown_type = "dbautopsy_unknown_type";

// --- text (names.cpp) ------------------------------------------------------------------

// Python's len() and slicing count code points; these helpers do the same on UTF-8.
size_t cp_length(std::string_view s);
std::string cp_prefix(std::string_view s, size_t count);
std::string md5_hex(std::string_view data);
// The PostgreSQL backend's quote_name(): always double-quoted, quotes not doubled.
std::string qn(std::string_view name);
// split_identifier(): 'schema"."table' -> table.
std::string split_identifier_name(std::string_view identifier);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string last_component(std::string_view dotted);
// psycopg2's adaptation of a str: single quotes doubled (standard_conforming_strings on).
// With `double_percent`, '%' is doubled too (Django 3.2's quote_value()).
std::string quote_string(std::string_view s, bool double_percent = false);

// --- reading resolved expressions (python_values.cpp) -----------------------------------

// A copy of `n` in which every name and attribute chain is replaced by one name node
// holding the dotted path the module's imports give it ("models.CASCADE" ->
// "django.db.models.CASCADE"). Everything downstream works on such resolved trees.
Node resolve_names(const Node& n, const py::Module& m);
bool is_gettext(std::string_view path);
std::optional<std::string> string_of(const Node* n);
std::optional<bool> bool_of(const Node* n);
// An integer or decimal number as written, with a leading '-' for unary minus.
std::optional<std::string> number_of(const Node* n);
std::vector<Node> elements_of(const Node* n);
bool is_sequence(const Node* n);
std::vector<std::string> strings_of(const Node* n);
const Node* dict_get(const Node* dict, std::string_view key);
std::string callee_path(const Node& n);
// normalize_together(): ('a', 'b') and [('a', 'b')] both mean one group.
std::vector<std::vector<std::string>> together_of(const Node* n);

// --- fields -------------------------------------------------------------------------------

enum class Rel { none, fk, o2o, m2m };

struct FieldClass {
  std::string_view name;      // class name (Django's own) or full path (third party)
  std::string_view internal;  // get_internal_type()
  std::string_view type;      // db_type template; "" for relations and column-less fields
  Rel rel = Rel::none;
  bool empty_strings_allowed = false;
  std::string_view positional;  // parameter names of positional arguments, space-separated
  bool column = true;           // false: no column (a manager-like field)
};

const FieldClass* field_class(std::string_view path);
// One of Django's own field classes (django.db.models), by class name.
const FieldClass* django_field_class(std::string_view name);

struct Field {
  std::string name;
  std::string path;      // the class, resolved ("django.db.models.CharField")
  std::string cls;       // class name
  std::string internal;  // get_internal_type(); "" when the class is unknown
  std::string type_template;
  Rel rel = Rel::none;
  bool known = false;
  bool has_column = true;
  bool empty_strings_allowed = true;
  std::map<std::string, Node> kw;  // arguments by parameter name (positional ones mapped)
  bool primary_key = false, unique_kw = false, null = false, blank = false, db_index = false;
  bool auto_created = false, db_constraint = true, auto_now = false, auto_now_add = false;
  std::optional<Node> default_value;
  std::optional<Node> db_default;  // Django 5.0+: the column's DEFAULT in the database
  std::string max_length, max_digits, decimal_places;  // Python source of the values
  std::string db_column, db_collation, db_tablespace;
  std::string to;        // "app.model" (lower case) of a relation; "" unresolved
  std::string to_field;  // the to_field name ("" : the target's primary key)
  std::string through;   // "app.model" of an explicit M2M through model
  std::string m2m_db_table;
  std::shared_ptr<Field> base_field;   // ArrayField; GeneratedField's output_field
  std::vector<std::string> composite;  // CompositePrimaryKey's field names (Django 5.2)
  std::string array_size;
  std::string canonical;        // deconstruct() without non-database attributes, for comparisons
  bool params_unknown = false;  // max_length & co. are not literals (settings.X, ...)
  uint64_t line = 0;
  MigrationKey migration;  // the migration whose operation defined it (at `line`)

  bool unique() const { return unique_kw || primary_key; }
  bool is_fk() const { return rel == Rel::fk || rel == Rel::o2o; }
  bool is_m2m() const { return rel == Rel::m2m; }
  bool has_default() const { return default_value.has_value(); }
  std::string attname() const { return is_fk() ? name + "_id" : name; }
  std::string column() const { return db_column.empty() ? attname() : db_column; }
};

struct IndexDef {
  std::string name;
  std::string path;
  std::vector<std::string> fields;  // with '-' for descending
  std::vector<Node> expressions;
  std::vector<std::string> opclasses;
  std::vector<std::string> include;
  std::optional<Node> condition;
  std::string db_tablespace;
  std::string using_method;  // "" or the postgres index suffix: gin, gist, brin, ...
  std::vector<std::string> with_params;
  uint64_t line = 0;
};

struct ConstraintDef {
  std::string kind;  // check, unique, exclusion, unknown
  std::string name;
  std::string path;
  std::optional<Node> check;
  std::vector<std::string> fields;
  std::optional<Node> condition;
  std::string deferrable;  // "", "deferred", "immediate"
  std::vector<std::string> include;
  std::vector<std::string> opclasses;
  std::vector<std::pair<Node, std::string>> expressions;  // exclusion: (expression, operator)
  std::vector<Node> unique_expressions;  // UniqueConstraint(*expressions), Django 4
  std::string index_type;                // exclusion
  // UniqueConstraint(nulls_distinct=...) (Django 5.0+): base/schema.py
  // _unique_index_nulls_distinct_sql(): " NULLS NOT DISTINCT" / " NULLS DISTINCT" / "".
  std::string nulls_distinct;
  uint64_t line = 0;
};

struct ModelState {
  std::string app;
  std::string name;  // as written in the migration
  std::vector<Field> fields;
  std::optional<std::string> db_table;
  std::vector<std::vector<std::string>> unique_together, index_together;
  std::vector<IndexDef> indexes;
  std::vector<ConstraintDef> constraints;
  bool managed = true;
  bool proxy = false;
  std::string swappable;
  std::string order_with_respect_to;
  std::string db_tablespace;
  std::vector<std::string> bases;  // "app.model" of model bases
  uint64_t order = 0;              // creation order in the state, for iteration
  bool auto_created = false;       // an M2M through model made up by Django

  std::string key() const { return app + "." + text::lower(name); }
  std::string name_lower() const { return text::lower(name); }
  Field* field(std::string_view n) {
    for (auto& f : fields) {
      if (f.name == n) {
        return &f;
      }
    }
    return nullptr;
  }
};

// --- Python values of defaults and lookups (python_values.cpp) ----------------------

struct PyValue {
  enum class T {
    none,
    boolean,
    integer,
    floating,
    decimal,
    string,
    bytes,
    list,
    dict,
    date,
    datetime,
    time,
    timedelta,
    uuid,
    runtime,  // computed when the migration runs (timezone.now, uuid4, ...): `text` says which
    unknown,  // anything else; `text` is its Python source
  };
  T t = T::unknown;
  std::string text;
  bool aware = false;  // datetime with tzinfo
  std::vector<PyValue> items;
  // A dict's entries. Not a std::pair: clang (before 16) with libstdc++ cannot hold a pair
  // of the type being defined in a vector.
  struct Entry;
  std::vector<Entry> entries;
};
struct PyValue::Entry {
  PyValue key;
  PyValue value;
};

PyValue value_unknown(const Node& n);
int64_t int_arg(const Node* n, int64_t fallback);
std::string two(int64_t v, int width = 2);
// The Python value of a resolved expression, as far as it can be known without running it.
PyValue python_value(const Node& n);
bool value_known(const PyValue& v);
std::string float_repr(double d);
void json_string(std::string& out, std::string_view s);
std::optional<std::string> json_dumps(const PyValue& v);
// psycopg2 writes negative numbers with a leading space (so that "- -1" cannot become a
// comment); Django's sqlmigrate inherits it.
std::string number_sql(const std::string& text);

// A statement Django builds now and may render later (ddl_references.Statement): a deferred
// index, unique constraint or foreign key keeps its table and columns as references, so
// that renaming the table or a column before the end of the migration renames them in the
// statement, and removing the table or column drops the statement.
struct Stmt {
  enum class Kind { index, unique, unique_index, fk };
  Kind kind = Kind::index;
  std::string table;
  std::vector<std::string> columns;
  std::string to_table;
  std::vector<std::string> to_columns;
  std::string name;    // given name; "" : from table, columns and suffix when rendered
  std::string suffix;  // the index-name suffix; for a foreign key "_fk_<to>" or "_fk"
  bool fk_named_after_target = true;
  std::vector<std::string> col_suffixes;
  std::vector<std::string> opclasses;
  std::string expressions;  // rendered expressions (an expression index)
  std::string using_method, extra, condition, include, deferrable;
  std::string nulls_distinct;  // Django 5.0+: " NULLS NOT DISTINCT", " NULLS DISTINCT" or ""
  bool concurrently = false;
  uint64_t line = 0;

  bool references_table(const std::string& t) const {
    return table == t || (kind == Kind::fk && to_table == t);
  }
  bool references_column(const std::string& t, const std::string& c) const {
    auto has = [&](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), c) != v.end();
    };
    return (table == t && has(columns)) || (kind == Kind::fk && to_table == t && has(to_columns));
  }
  void rename_table(const std::string& from, const std::string& to) {
    if (table == from) {
      table = to;
    }
    if (to_table == from) {
      to_table = to;
    }
  }
  void rename_column(const std::string& t, const std::string& from, const std::string& to) {
    if (table == t) {
      std::replace(columns.begin(), columns.end(), from, to);
    }
    if (kind == Kind::fk && to_table == t) {
      std::replace(to_columns.begin(), to_columns.end(), from, to);
    }
  }

  std::string column_list() const {
    if (!expressions.empty()) {
      return expressions;
    }
    std::vector<std::string> parts;
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string c = qn(columns[i]);
      if (i < opclasses.size() && !opclasses[i].empty()) {
        c += " " + opclasses[i];
      }
      if (i < col_suffixes.size() && !col_suffixes[i].empty()) {
        c += " " + col_suffixes[i];
      }
      parts.push_back(c);
    }
    return join(parts, ", ");
  }

  std::string rendered_name() const {
    if (!name.empty()) {
      return qn(name);
    }
    if (kind == Kind::fk) {
      std::string s = fk_named_after_target
                          ? "_fk_" + split_identifier_name(to_table) + "_" +
                                (to_columns.empty() ? std::string() : to_columns[0])
                          : suffix;
      return qn(create_index_name(table, columns, s));
    }
    return qn(create_index_name(table, columns, suffix));
  }

  std::string render() const {
    switch (kind) {
      case Kind::index:
        return std::string(concurrently ? "CREATE INDEX CONCURRENTLY " : "CREATE INDEX ") +
               rendered_name() + " ON " + qn(table) + using_method + " (" + column_list() + ")" +
               include + extra + condition;
      case Kind::unique:
        return "ALTER TABLE " + qn(table) + " ADD CONSTRAINT " + rendered_name() + " UNIQUE" +
               nulls_distinct + " (" + column_list() + ")" + deferrable;
      case Kind::unique_index:
        return "CREATE UNIQUE INDEX " + rendered_name() + " ON " + qn(table) + " (" +
               column_list() + ")" + include + nulls_distinct + condition;
      case Kind::fk:
        return "ALTER TABLE " + qn(table) + " ADD CONSTRAINT " + rendered_name() +
               " FOREIGN KEY (" + column_list() + ") REFERENCES " + qn(to_table) + " (" +
               join(
                   [&] {
                     std::vector<std::string> q;
                     for (const auto& c : to_columns) {
                       q.push_back(qn(c));
                     }
                     return q;
                   }(),
                   ", ") +
               ") DEFERRABLE INITIALLY DEFERRED";
    }
    return {};
  }
};

// What Django reads back from the database (introspection.get_constraints()).
struct DbConstraint {
  std::string name;
  std::vector<std::string> columns;
  bool primary_key = false, unique = false, foreign_key = false, check = false, index = false;
  std::string type;
};

struct ConstraintFilter {
  std::optional<bool> unique, primary_key, index, check;
  bool foreign_key = false;
  std::string type;
  std::set<std::string> exclude;
};

// A relation pointing at a model: the field `field` of model `model`.
struct RelatedField {
  std::string model;  // key
  Field field;
  bool hidden = false;
  bool through = false;  // of an auto-created many-to-many table
};

// Django's own models, assumed when a migration refers to them without their app's
// migrations being part of the set.
struct BuiltinModel {
  std::string_view key, table, pk, pk_class, pk_max_length;
};
inline constexpr std::array<BuiltinModel, 7> k_builtin_models = {{
    {"auth.user", "auth_user", "id", "AutoField", ""},
    {"auth.group", "auth_group", "id", "AutoField", ""},
    {"auth.permission", "auth_permission", "id", "AutoField", ""},
    {"contenttypes.contenttype", "django_content_type", "id", "AutoField", ""},
    {"sites.site", "django_site", "id", "AutoField", ""},
    {"admin.logentry", "django_admin_log", "id", "AutoField", ""},
    {"sessions.session", "django_session", "session_key", "CharField", "40"},
}};

inline constexpr std::array<std::string_view, 15> k_contrib_apps = {
    "admin",     "auth",        "contenttypes", "sessions",    "sites",
    "flatpages", "redirects",   "messages",     "staticfiles", "humanize",
    "sitemaps",  "syndication", "gis",          "postgres",    "admindocs"};

class Derivation {
 public:
  Derivation(const DjangoSettings& settings, ProjectSchema& out)
      : m_settings(settings), m_out(out) {
    pgsql::prepare_sentinel_session(m_catalog, m_session);
    for (const auto& [setting, value] : settings.swappable) {
      m_swappable[setting] = lower_model_key(value);
    }
    m_swappable["AUTH_USER_MODEL"] = lower_model_key(settings.auth_user_model);
  }

  void run(const std::vector<MigrationFile>& files);
  struct SqlStatement {
    std::string sql;
    uint64_t line = 0;
  };
  // The statements of one RunSQL operation of `file` (RunSQL._run_sql), problems on m_out.
  std::vector<SqlStatement> run_sql_statements(const MigrationFile& file, const Operation& op) {
    m_file = &file;
    m_line = op.line;
    auto out = run_sql_statements(op);
    m_file = nullptr;
    return out;
  }

  struct QTree;

 private:
  // --- problems ---------------------------------------------------------------------
  void problem(std::string severity, std::string code, std::string message, uint64_t line = 0) {
    Problem p{line ? line : m_line, std::move(severity), std::move(code), std::move(message)};
    if (m_mig) {
      m_mig->problems.push_back(std::move(p));
    } else {
      m_out.problems.push_back(std::move(p));
    }
  }

  static std::string lower_model_key(std::string_view value) {
    size_t dot = value.find('.');
    if (dot == std::string_view::npos) {
      return text::lower(value);
    }
    return std::string(value.substr(0, dot)) + "." + text::lower(value.substr(dot + 1));
  }

  // --- fields -----------------------------------------------------------------------
  std::string resolve_model_ref(const Node* n, const std::string& app, const std::string& self_key);
  Field make_field(const std::string& name, const Node& call, const std::string& app,
                   const std::string& self_key);
  Field synthetic_pk() const;
  void canonicalize(Field& f, const FieldClass* fc);

  // --- the state ----------------------------------------------------------------------
  ModelState* model(const std::string& key) {
    auto it = m_models.find(key);
    return it == m_models.end() ? nullptr : &it->second;
  }
  ModelState* model_or_problem(const std::string& app, const std::string& name);
  const ModelState* target_model(const std::string& key);
  std::string db_table(const ModelState& m);
  bool allow_migrate(const ModelState& m) const;
  std::vector<Field> local_fields(const ModelState& m) const;
  const Field* get_field(const ModelState& m, std::string_view name) const;
  std::optional<Field> pk_field(const ModelState& m) const;
  std::optional<Field> target_field(const Field& fk);
  ModelState auto_through(const ModelState& owner, const Field& m2m);
  bool has_auto_through(const Field& f) const {
    return f.is_m2m() && f.through.empty() && f.has_column;
  }
  std::vector<RelatedField> related_fields(const std::string& target_key);
  std::vector<ModelState> sorted_models() const;

  // --- types --------------------------------------------------------------------------
  std::optional<std::string> db_type(const Field& f);
  std::string rel_db_type(const Field& target);
  std::string db_check(const Field& f) const;
  // Field.db_type_suffix(): " GENERATED BY DEFAULT AS IDENTITY" for an auto field under
  // Django 4.1+ (postgresql/base.py data_types_suffix), else "".
  std::string db_type_suffix(const Field& f) const;
  static bool is_auto(const Field& f) {
    return f.internal == "AutoField" || f.internal == "BigAutoField" ||
           f.internal == "SmallAutoField";
  }
  std::string field_data_type(const Field& f);

  // --- values -------------------------------------------------------------------------
  struct SqlDefault {
    bool none = true;
    std::string sql;
  };
  SqlDefault effective_default(const Field& f, bool report = true);
  // Django 5.0+ db_default: BaseDatabaseSchemaEditor.db_default_sql().
  std::string db_default_sql(const Field& f);
  // `quoted`: the value goes through Django's quote_value() (constraint and index SQL);
  // else it is a query parameter (column defaults, RunSQL parameters).
  std::optional<std::string> value_sql(const Field& f, const PyValue& v, bool quoted = false);
  std::optional<std::string> lookup_value_sql(const Field& f, const PyValue& v);

  // --- expressions --------------------------------------------------------------------
  std::optional<std::string> compile_q(const ModelState& m, const Node& q);
  std::optional<std::string> compile_expression(const ModelState& m, const Node& e,
                                                std::vector<std::string>* columns);

  // --- the schema editor ------------------------------------------------------------
  void execute(const std::string& sql, uint64_t line = 0);
  void flush_deferred();
  std::vector<DbConstraint> get_constraints(const std::string& table);
  std::vector<std::string> constraint_names(const std::string& table,
                                            const std::vector<std::string>* columns,
                                            const ConstraintFilter& filter);
  std::optional<std::string> column_sql(const ModelState& m, const Field& f, bool include_default,
                                        const SqlDefault* precomputed = nullptr);
  Stmt index_stmt(const ModelState& m, const std::vector<Field>& fields, const std::string& suffix);
  Stmt unique_stmt(const std::string& table, const std::vector<std::string>& columns);
  Stmt fk_stmt(const ModelState& m, const Field& f, bool named_after_target);
  std::optional<Stmt> like_index(const ModelState& m, const Field& f);
  std::vector<Stmt> field_indexes(const ModelState& m, const Field& f);
  std::optional<Stmt> index_create(const ModelState& m, const IndexDef& idx);
  std::string constraint_sql(const ModelState& m, const ConstraintDef& c);
  Stmt unique_index_stmt(const ModelState& m, const ConstraintDef& c);
  static bool is_index_backed(const ConstraintDef& c) {
    return c.condition || !c.include.empty() || !c.opclasses.empty() ||
           !c.unique_expressions.empty();
  }
  std::optional<std::string> check_sql(const ModelState& m, const ConstraintDef& c);

  void create_model(const ModelState& m);
  void delete_model(const ModelState& m);
  void add_field(const ModelState& m, const Field& f);
  void remove_field(const ModelState& m, const Field& f);
  struct AlterInfo {
    std::optional<std::string> old_type;
    std::vector<std::pair<RelatedField, std::string>> rels;  // with their current types
  };
  AlterInfo prepare_alter(const ModelState& m, const Field& old);
  void alter_field(const ModelState& m, const Field& old, const Field& nw, const AlterInfo& info);
  void alter_field_columns(const ModelState& m, const Field& old, const Field& nw,
                           const std::string& old_type, const std::string& new_type,
                           const AlterInfo& info);
  std::pair<std::string, std::vector<std::string>> alter_column_type_sql(
      const std::string& table, const Field& old, const Field& nw, const std::string& new_type,
      const std::string& old_data_type, const std::string& new_data_type);
  void alter_db_table(const std::string& old_table, const std::string& new_table);
  void rename_index_columns(const std::string& table, const std::string& from,
                            const std::string& to);
  void delete_composed_index(const ModelState& m, const std::vector<std::string>& fields,
                             bool unique);
  void add_index(const ModelState& m, const IndexDef& idx, bool concurrently);
  void add_constraint(const ModelState& m, const ConstraintDef& c);
  void remove_constraint(const ModelState& m, const ConstraintDef& c);
  std::vector<std::string> columns_of(const ModelState& m, const std::vector<std::string>& names);

  // --- operations ---------------------------------------------------------------------
  void apply(const Operation& op, bool database);
  // A model declared unmanaged (Meta.managed = False): its table, into the migration's
  // MigrationSchema::unmanaged.
  void note_unmanaged(const ModelState& m, uint64_t line);
  void op_create_model(const Operation& op, bool database);
  void op_delete_model(const Operation& op, bool database);
  void op_rename_model(const Operation& op, bool database);
  void op_alter_model_table(const Operation& op, bool database);
  void op_alter_together(const Operation& op, bool database, bool unique);
  void op_alter_options(const Operation& op);
  void op_alter_order_with_respect_to(const Operation& op, bool database);
  void op_add_field(const Operation& op, bool database);
  void op_remove_field(const Operation& op, bool database);
  void op_alter_field(const Operation& op, bool database);
  void op_rename_field(const Operation& op, bool database);
  void op_add_index(const Operation& op, bool database, bool concurrently);
  void op_remove_index(const Operation& op, bool database, bool concurrently);
  void op_add_constraint(const Operation& op, bool database);
  void op_remove_constraint(const Operation& op, bool database);
  void op_rename_index(const Operation& op, bool database);
  void op_alter_model_table_comment(const Operation& op);
  void op_add_constraint_not_valid(const Operation& op, bool database);
  void op_validate_constraint(const Operation& op);
  std::optional<std::string> sql_string(const Node& n);
  std::optional<std::string> param_sql(const Node& n);
  void ensured_effects(const SqlStatement& st, size_t first);
  void op_run_sql(const Operation& op, bool database);
  std::vector<SqlStatement> run_sql_statements(const Operation& op);
  void op_run_python(const Operation& op);
  void op_separate_database_and_state(const Operation& op, bool database);
  void op_extension(const Operation& op, bool database);
  void op_collation(const Operation& op, bool database, bool create);
  void read_options(ModelState& m, const Node* options);
  IndexDef make_index(const Node& call);
  ConstraintDef make_constraint(const Node& call);
  std::string model_arg(const Operation& op, std::string_view param);
  Node resolved(const Node* n) const { return n ? resolve_names(*n, m_file->module) : Node{}; }

  // --- ordering -----------------------------------------------------------------------
  std::vector<const MigrationFile*> plan(const std::vector<MigrationFile>& files);
  void infer_default_auto_field(const std::vector<MigrationFile>& files);
  void apply_migration(const MigrationFile& f);
  void finish_effects(MigrationSchema& m);

  const DjangoSettings& m_settings;
  ProjectSchema& m_out;
  std::map<std::string, std::string> m_swappable;
  std::string m_default_auto = "AutoField";
  std::map<std::string, ModelState> m_models;
  std::map<std::string, ModelState> m_ghosts;  // models just removed (renamed), for lookups
  uint64_t m_model_order = 0;
  std::set<std::string> m_assumed;  // built-in models already reported as assumed
  pgsql::Catalog m_catalog;
  pgsql::Catalog m_snapshot;  // the catalog when the current migration began
  pgsql::Session m_session;
  MigrationSchema* m_mig = nullptr;
  const MigrationFile* m_file = nullptr;
  uint64_t m_line = 0;
  std::vector<Stmt> m_deferred;
  // Django 4.1+ makes auto fields identity columns ("bigint" + data_types_suffix
  // "GENERATED BY DEFAULT AS IDENTITY") where 3.2 wrote serial types: true while a
  // migration that makemigrations of Django 4.1 or later wrote is applied (it cannot have
  // run on an older Django).
  bool m_identity = false;
  std::vector<std::string> m_collected;
};

}  // namespace dbautopsy::django::detail
