// What django/db/backends/base/schema.py (BaseDatabaseSchemaEditor) executes for each
// change of the state: column_sql, create_model, add_field, remove_field, _alter_field,
// the index / unique / foreign key statements (deferred as ddl_references.Statement), and
// what it reads back from the database (django/db/backends/postgresql/introspection.py
// get_constraints). The SQL is replayed into the catalog that plays the database.

#include "django/derivation.hpp"

#include <algorithm>

#include "base/error.hpp"
#include "base/text.hpp"
#include "pgsql/names.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"
#include "store/facts.hpp"

namespace dbautopsy::django::detail {

Derivation::SqlDefault Derivation::effective_default(const Field& f, bool report) {
  PyValue v;
  std::string origin;
  if (f.has_default()) {
    v = python_value(*f.default_value);
    origin = py::to_source(*f.default_value);
  } else if (!f.null && f.blank && f.empty_strings_allowed) {
    v.t = f.internal == "BinaryField" ? PyValue::T::bytes : PyValue::T::string;
  } else if (f.auto_now || f.auto_now_add) {
    v.t = PyValue::T::runtime;
    v.text = "now";
    origin = f.auto_now ? "auto_now" : "auto_now_add";
  } else {
    return {};
  }
  if (v.t == PyValue::T::none) {
    return {};
  }
  if (!value_known(v)) {
    if (report) {
      problem("notice", "django-default-unknown",
              "the default of field " + f.name + " (" + v.text +
                  ") is computed by Python when the migration runs; recorded as unknown");
    }
    return SqlDefault{false, quote_string("<" + v.text + " at migrate time>")};
  }
  auto sql = value_sql(f, v);
  if (!sql) {
    if (report) {
      problem("notice", "django-default-unknown",
              "the default of field " + f.name + " (" + (origin.empty() ? "''" : origin) +
                  ") cannot be turned into SQL here; recorded as unknown");
    }
    return SqlDefault{false, quote_string("<" + (origin.empty() ? std::string("''") : origin) +
                                          " at migrate time>")};
  }
  if (v.t == PyValue::T::runtime && report) {
    problem("notice", "django-default-runtime",
            "the default of field " + f.name + " (" + origin +
                ") is a value Django computes when the migration runs; written as " + *sql);
  }
  return SqlDefault{false, *sql};
}

// Django 5.0+ db_default (base/schema.py db_default_sql()): the field's
// _db_default_expression (a plain value wrapped in Value()) compiled; a Value is a query
// parameter (postgresql/schema.py _column_default_sql() is "%s"), any other expression is
// put in parentheses. Now() compiles to STATEMENT_TIMESTAMP() on PostgreSQL
// (models/functions/datetime.py Now.as_postgresql()).
std::string Derivation::db_default_sql(const Field& f) {
  const Node& n = *f.db_default;
  const Node* value = &n;
  std::string path = n.kind == NodeKind::call ? callee_path(n) : std::string();
  if (path == "django.db.models.Value" || path == "django.db.models.expressions.Value") {
    auto args = n.positional_arguments();
    value = args.empty() ? n.keyword_argument("value") : args[0];
  } else if (path == "django.db.models.functions.Now" ||
             path == "django.db.models.functions.datetime.Now") {
    return "(STATEMENT_TIMESTAMP())";
  } else if (n.kind == NodeKind::call) {
    value = nullptr;
  }
  if (value) {
    PyValue v = python_value(*value);
    if (value_known(v) && v.t != PyValue::T::runtime) {
      if (auto sql = value_sql(f, v)) {
        return *sql;
      }
    }
  }
  problem("notice", "django-default-unknown",
          "the db_default of field " + f.name + " (" + py::to_source(n) +
              ") is an expression this reader does not compile; recorded as unknown");
  return quote_string("<db_default " + py::to_source(n) + ">");
}

// --- the schema editor --------------------------------------------------------------------

namespace {

// Identifiers of a column list as the catalog keeps it ("\"a\", b varchar_pattern_ops");
// an expression element gives "".
std::vector<std::string> column_names_of(const std::string& list) {
  std::vector<std::string> out;
  for (const auto& piece : pgsql::split_top_level(list)) {
    std::string_view p = text::trim(piece);
    std::string name;
    if (!p.empty() && p[0] == '"') {
      size_t i = 1;
      while (i < p.size()) {
        if (p[i] == '"') {
          if (i + 1 < p.size() && p[i + 1] == '"') {
            name += '"';
            i += 2;
            continue;
          }
          break;
        }
        name += p[i++];
      }
      p.remove_prefix(std::min(p.size(), i + 1));
    } else {
      size_t i = 0;
      while (i < p.size() && (std::isalnum(static_cast<unsigned char>(p[i])) || p[i] == '_' ||
                              p[i] == '$' || static_cast<unsigned char>(p[i]) >= 0x80)) {
        ++i;
      }
      name = text::lower(p.substr(0, i));
      p.remove_prefix(i);
    }
    p = text::trim(p);
    if (name.empty() || (!p.empty() && p[0] == '(')) {
      name.clear();  // an expression
    }
    out.push_back(name);
  }
  return out;
}

bool mentions_column(std::string_view def, const std::string& column) {
  if (def.find("\"" + column + "\"") != std::string_view::npos) {
    return true;
  }
  size_t pos = 0;
  while ((pos = def.find(column, pos)) != std::string_view::npos) {
    auto word = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '"';
    };
    bool before = pos == 0 || !word(def[pos - 1]);
    bool after = pos + column.size() >= def.size() || !word(def[pos + column.size()]);
    if (before && after) {
      return true;
    }
    pos += column.size();
  }
  return false;
}

}  // namespace

void Derivation::execute(const std::string& sql, uint64_t line) {
  if (line == 0) {
    line = m_line;
  }
  std::string stmt = ends_with(sql, ";") ? sql : sql + ";";
  m_mig->statements.push_back(stmt);
  m_collected.push_back(stmt);
  pgsql::ScriptEffects r = pgsql::replay_script(stmt, line, m_catalog, m_session);
  for (auto& e : r.effects) {
    m_mig->effects.push_back(std::move(e));
  }
  for (auto& p : r.problems) {
    problem(p.severity.empty() ? "warning" : p.severity, p.code, p.message, p.line ? p.line : line);
  }
}

void Derivation::flush_deferred() {
  std::vector<Stmt> deferred = std::move(m_deferred);
  m_deferred.clear();
  for (const auto& s : deferred) {
    execute(s.render(), s.line);
  }
}

std::vector<DbConstraint> Derivation::get_constraints(const std::string& table) {
  std::vector<DbConstraint> out;
  // What Django reads back: the database as it is (migrate), or as it was when the
  // migration began (sqlmigrate collects the statements without running them).
  pgsql::Catalog& db = m_settings.sqlmigrate_semantics ? m_snapshot : m_catalog;
  pgsql::QualifiedName key{pgsql::k_search_path_schema, table};
  pgsql::RelationModel* rel = db.relation(key);
  if (!rel) {
    return out;
  }
  std::vector<std::string> table_columns;
  for (const auto& c : rel->columns) {
    table_columns.push_back(c.name);
  }
  for (const store::ConstraintFact* c : db.constraints_of(key)) {
    DbConstraint d;
    d.name = c->name;
    if (c->kind == "c") {
      // conkey of a CHECK: the columns its expression uses, in table order.
      for (const auto& col : table_columns) {
        if (mentions_column(c->definition.value_or(""), col)) {
          d.columns.push_back(col);
        }
      }
    } else {
      d.columns = column_names_of(c->columns.value_or(""));
    }
    d.primary_key = c->kind == "p";
    d.unique = c->kind == "p" || c->kind == "u";
    d.foreign_key = c->kind == "f";
    d.check = c->kind == "c";
    out.push_back(d);
  }
  db.for_each_index([&](const store::IndexFact& idx) {
    if (idx.schema_name != key.first || idx.table_name != table || idx.constraint_name) {
      return;
    }
    DbConstraint d;
    d.name = idx.name;
    d.columns = column_names_of(idx.columns);
    d.index = true;
    d.unique = idx.is_unique;
    d.primary_key = idx.is_primary;
    d.type = idx.method == "btree" && !ends_with(idx.name, "_btree") ? "idx" : idx.method;
    out.push_back(d);
  });
  return out;
}

std::vector<std::string> Derivation::constraint_names(const std::string& table,
                                                      const std::vector<std::string>* columns,
                                                      const ConstraintFilter& f) {
  std::vector<std::string> out;
  for (const auto& d : get_constraints(table)) {
    if (columns && *columns != d.columns) {
      continue;
    }
    if ((f.unique && *f.unique != d.unique) || (f.primary_key && *f.primary_key != d.primary_key) ||
        (f.index && *f.index != d.index) || (f.check && *f.check != d.check) ||
        (f.foreign_key && !d.foreign_key) || (!f.type.empty() && d.type != f.type) ||
        f.exclude.count(d.name)) {
      continue;
    }
    out.push_back(d.name);
  }
  return out;
}

std::optional<std::string> Derivation::column_sql(const ModelState& m, const Field& f,
                                                  bool include_default,
                                                  const SqlDefault* precomputed) {
  auto type = db_type(f);
  if (!type) {
    return std::nullopt;
  }
  std::string sql = *type;
  if (!f.db_collation.empty()) {
    sql += " COLLATE " + qn(f.db_collation);
  }
  if (f.db_default) {
    // Django 5.0+ _iter_column_sql(): the database default, and then no other.
    sql += " DEFAULT " + db_default_sql(f);
  } else if (include_default) {
    SqlDefault d = precomputed ? *precomputed : effective_default(f);
    if (!d.none) {
      sql += " DEFAULT " + d.sql;
    }
  }
  if (f.internal == "GeneratedField") {
    // Django 5.0+ _iter_column_sql(): GENERATED ALWAYS AS (...) STORED in place of the
    // nullability (_column_generated_sql(); GeneratedField.generated_sql() compiles the
    // expression without table aliases).
    std::optional<std::string> expr;
    if (auto it = f.kw.find("expression"); it != f.kw.end()) {
      expr = compile_expression(m, it->second, nullptr);
      if (!expr) {
        problem("notice", "django-expression-unknown",
                "GeneratedField " + f.name + ": the expression " + py::to_source(it->second) +
                    " cannot be compiled here; recorded as unknown");
        expr = qn("<" + py::to_source(it->second) + ">");
      }
    } else {
      expr = qn("<no expression>");
    }
    sql += " GENERATED ALWAYS AS (" + *expr + ") STORED";
  } else {
    sql += f.null ? " NULL" : " NOT NULL";
  }
  if (f.primary_key) {
    sql += " PRIMARY KEY";
  } else if (f.unique()) {
    sql += " UNIQUE";
  }
  std::string tablespace = !f.db_tablespace.empty() ? f.db_tablespace : m.db_tablespace;
  if (!tablespace.empty() && f.unique()) {
    sql += " USING INDEX TABLESPACE " + qn(tablespace);
  }
  return sql;
}

std::vector<std::string> Derivation::columns_of(const ModelState& m,
                                                const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    const Field* f = get_field(m, n);
    if (!f) {
      problem("warning", "django-field-unknown",
              "model " + m.key() + " has no field " + n + "; the column is assumed to be " + n);
      out.push_back(n);
      continue;
    }
    out.push_back(f->column());
  }
  return out;
}

Stmt Derivation::index_stmt(const ModelState& m, const std::vector<Field>& fields,
                            const std::string& suffix) {
  Stmt s;
  s.kind = Stmt::Kind::index;
  s.table = db_table(m);
  for (const auto& f : fields) {
    s.columns.push_back(f.column());
  }
  s.suffix = suffix;
  std::string tablespace;
  if (fields.size() == 1 && !fields[0].db_tablespace.empty()) {
    tablespace = fields[0].db_tablespace;
  } else if (!m.db_tablespace.empty()) {
    tablespace = m.db_tablespace;
  }
  if (!tablespace.empty()) {
    s.extra = " TABLESPACE " + qn(tablespace);
  }
  s.line = m_line;
  return s;
}

Stmt Derivation::unique_stmt(const std::string& table, const std::vector<std::string>& columns) {
  Stmt s;
  s.kind = Stmt::Kind::unique;
  s.table = table;
  s.columns = columns;
  s.suffix = "_uniq";
  s.line = m_line;
  return s;
}

Stmt Derivation::fk_stmt(const ModelState& m, const Field& f, bool named_after_target) {
  Stmt s;
  s.kind = Stmt::Kind::fk;
  s.table = db_table(m);
  s.columns = {f.column()};
  s.fk_named_after_target = named_after_target;
  s.suffix = "_fk";
  const ModelState* target = target_model(f.to);
  auto tf = target_field(f);
  s.to_table = target ? db_table(*target) : f.to;
  s.to_columns = {tf ? tf->column() : std::string("id")};
  s.line = m_line;
  return s;
}

std::optional<Stmt> Derivation::index_create(const ModelState& m, const IndexDef& idx) {
  Stmt s;
  s.kind = Stmt::Kind::index;
  s.table = db_table(m);
  s.name = idx.name;
  s.line = m_line;
  std::vector<Field> fields;
  if (!idx.expressions.empty()) {
    std::vector<std::string> parts;
    for (const auto& e : idx.expressions) {
      auto sql = compile_expression(m, e, &s.columns);
      if (!sql) {
        problem("warning", "django-expression-unknown",
                "index " + idx.name + ": the expression " + py::to_source(e) +
                    " cannot be compiled here; the index is recorded with an unknown expression");
        sql = qn("<" + py::to_source(e) + ">");
      } else {
        // IndexExpression: anything but a plain column (under its ordering / collation) is
        // wrapped in parentheses.
        std::string root = *sql;
        for (std::string_view w : {" DESC", " ASC"}) {
          if (ends_with(root, w)) {
            root = root.substr(0, root.size() - w.size());
          }
        }
        size_t coll = root.find(" COLLATE ");
        std::string base = coll == std::string::npos ? root : root.substr(0, coll);
        if (!(base.size() >= 2 && base.front() == '"' && base.back() == '"' &&
              base.find('"', 1) == base.size() - 1)) {
          sql = "(" + base + ")" + sql->substr(base.size());
        }
      }
      parts.push_back(*sql);
    }
    s.expressions = join(parts, ", ");
  } else {
    for (const auto& name : idx.fields) {
      bool desc = !name.empty() && name[0] == '-';
      const Field* f = get_field(m, desc ? name.substr(1) : name);
      if (!f) {
        problem("warning", "django-field-unknown",
                "index " + idx.name + ": model " + m.key() + " has no field " + name);
        return std::nullopt;
      }
      fields.push_back(*f);
      s.columns.push_back(f->column());
      s.col_suffixes.push_back(desc ? "DESC" : "");
    }
    s.opclasses = idx.opclasses;
  }
  if (idx.condition) {
    auto cond = compile_q(m, *idx.condition);
    if (!cond) {
      problem("warning", "django-expression-unknown",
              "index " + idx.name + ": its condition " + py::to_source(*idx.condition) +
                  " cannot be compiled here; recorded without it");
    } else {
      s.condition = " WHERE " + *cond;
    }
  }
  if (!idx.include.empty()) {
    std::vector<std::string> q;
    for (const auto& c : columns_of(m, idx.include)) {
      q.push_back(qn(c));
    }
    s.include = " INCLUDE (" + join(q, ", ") + ")";
  }
  if (!idx.using_method.empty()) {
    s.using_method = " USING " + idx.using_method;
  }
  std::string tablespace = idx.db_tablespace;
  if (tablespace.empty()) {
    if (fields.size() == 1 && !fields[0].db_tablespace.empty()) {
      tablespace = fields[0].db_tablespace;
    } else if (!m.db_tablespace.empty()) {
      tablespace = m.db_tablespace;
    }
  }
  if (!tablespace.empty()) {
    s.extra = " TABLESPACE " + qn(tablespace);
  }
  if (!idx.with_params.empty()) {
    s.extra = "WITH (" + join(idx.with_params, ", ") + ") " + s.extra;
  }
  return s;
}

std::optional<std::string> Derivation::check_sql(const ModelState& m, const ConstraintDef& c) {
  if (!c.check) {
    return std::nullopt;
  }
  auto sql = compile_q(m, *c.check);
  if (!sql) {
    problem("warning", "django-expression-unknown",
            "constraint " + c.name + ": the check " + py::to_source(*c.check) +
                " cannot be compiled here; its expression is unknown");
  }
  return sql;
}

namespace {

std::string deferrable_sql(const std::string& d) {
  if (d == "deferred") {
    return " DEFERRABLE INITIALLY DEFERRED";
  }
  if (d == "immediate") {
    return " DEFERRABLE INITIALLY IMMEDIATE";
  }
  return {};
}

}  // namespace

// _create_unique_sql() with a condition, INCLUDE columns, opclasses or (Django 4)
// expressions: CREATE UNIQUE INDEX.
Stmt Derivation::unique_index_stmt(const ModelState& m, const ConstraintDef& c) {
  Stmt s;
  s.kind = Stmt::Kind::unique_index;
  s.table = db_table(m);
  s.name = c.name;
  s.line = m_line;
  s.opclasses = c.opclasses;
  s.nulls_distinct = c.nulls_distinct;
  if (!c.unique_expressions.empty()) {
    std::vector<std::string> parts;
    for (const auto& e : c.unique_expressions) {
      auto sql = compile_expression(m, e, &s.columns);
      if (!sql) {
        problem("warning", "django-expression-unknown",
                "constraint " + c.name + ": the expression " + py::to_source(e) +
                    " cannot be compiled here; recorded as unknown");
        sql = qn("<" + py::to_source(e) + ">");
      } else if (!(sql->size() >= 2 && sql->front() == '"' && sql->back() == '"')) {
        sql = "(" + *sql + ")";
      }
      parts.push_back(*sql);
    }
    s.expressions = join(parts, ", ");
  } else {
    s.columns = columns_of(m, c.fields);
  }
  if (c.condition) {
    if (auto cond = compile_q(m, *c.condition)) {
      s.condition = " WHERE " + *cond;
    } else {
      problem("warning", "django-expression-unknown",
              "constraint " + c.name + ": its condition " + py::to_source(*c.condition) +
                  " cannot be compiled here; recorded without it");
    }
  }
  if (!c.include.empty()) {
    std::vector<std::string> q;
    for (const auto& col : columns_of(m, c.include)) {
      q.push_back(qn(col));
    }
    s.include = " INCLUDE (" + join(q, ", ") + ")";
  }
  return s;
}

std::string Derivation::constraint_sql(const ModelState& m, const ConstraintDef& c) {
  if (c.kind == "check") {
    auto sql = check_sql(m, c);
    return "CONSTRAINT " + qn(c.name) + " CHECK (" + sql.value_or("<unknown>") + ")";
  }
  if (c.kind == "unique") {
    if (is_index_backed(c)) {
      // A partial, covering or expression unique constraint is a unique index, made after
      // the table.
      m_deferred.push_back(unique_index_stmt(m, c));
      return {};
    }
    std::vector<std::string> q;
    for (const auto& col : columns_of(m, c.fields)) {
      q.push_back(qn(col));
    }
    // Django 5.0+ sql_unique_constraint: "UNIQUE%(nulls_distinct)s (%(columns)s)%(deferrable)s".
    return "CONSTRAINT " + qn(c.name) + " UNIQUE" + c.nulls_distinct + " (" + join(q, ", ") + ")" +
           deferrable_sql(c.deferrable);
  }
  if (c.kind == "exclusion") {
    std::vector<std::string> parts;
    for (const auto& [expr, op] : c.expressions) {
      std::vector<std::string> cols;
      auto sql = compile_expression(m, expr, &cols);
      parts.push_back(sql.value_or(qn("<" + py::to_source(expr) + ">")) + " WITH " + op);
    }
    // ExclusionConstraint keeps index_type as written ('GIST' unless given).
    std::string sql = "CONSTRAINT " + qn(c.name) + " EXCLUDE USING " +
                      (c.index_type.empty() ? std::string("GIST") : c.index_type) + " (" +
                      join(parts, ", ") + ")";
    if (!c.include.empty()) {
      std::vector<std::string> q;
      for (const auto& col : columns_of(m, c.include)) {
        q.push_back(qn(col));
      }
      sql += " INCLUDE (" + join(q, ", ") + ")";
    }
    if (c.condition) {
      if (auto cond = compile_q(m, *c.condition)) {
        sql += " WHERE (" + *cond + ")";
      }
    }
    return sql + deferrable_sql(c.deferrable);
  }
  problem("warning", "django-constraint-unknown",
          "constraint " + c.name + " is a " + c.path + ": what it creates is not known");
  return {};
}

void Derivation::create_model(const ModelState& m) {
  const std::string table = db_table(m);
  for (const auto& group : m.unique_together) {
    m_deferred.push_back(unique_stmt(table, columns_of(m, group)));
  }
  std::vector<std::string> definitions;
  std::vector<Field> fields = local_fields(m);
  for (const Field& f : fields) {
    auto def = column_sql(m, f, false);
    if (!def) {
      continue;
    }
    std::string check = db_check(f);
    if (!check.empty()) {
      *def += " CHECK (" + check + ")";
    }
    *def +=
        db_type_suffix(f);  // table_sql(): "Autoincrement SQL (for backends with inline variant)"
    if (f.is_fk() && f.db_constraint) {
      m_deferred.push_back(fk_stmt(m, f, true));
    }
    definitions.push_back(qn(f.column()) + " " + *def);
  }
  for (const auto& c : m.constraints) {
    std::string sql = constraint_sql(m, c);
    if (!sql.empty()) {
      definitions.push_back(sql);
    }
  }
  for (const Field& f : m.fields) {
    if (f.internal == "CompositePrimaryKey") {
      // Django 5.2 table_sql(): _pk_constraint_sql(pk.columns), "PRIMARY KEY (%(columns)s)".
      std::vector<std::string> q;
      for (const auto& col : columns_of(m, f.composite)) {
        q.push_back(qn(col));
      }
      definitions.push_back("PRIMARY KEY (" + join(q, ", ") + ")");
    }
  }
  std::string sql = "CREATE TABLE " + qn(table) + " (" + join(definitions, ", ") + ")";
  if (!m.db_tablespace.empty()) {
    sql += " TABLESPACE " + qn(m.db_tablespace);
  }
  execute(sql);
  // _model_indexes_sql(): field indexes, index_together, Meta.indexes; deferred.
  for (const Field& f : fields) {
    for (auto& s : field_indexes(m, f)) {
      m_deferred.push_back(std::move(s));
    }
  }
  for (const auto& group : m.index_together) {
    std::vector<Field> gf;
    for (const auto& name : group) {
      if (const Field* f = get_field(m, name)) {
        gf.push_back(*f);
      }
    }
    m_deferred.push_back(index_stmt(m, gf, "_idx"));
  }
  for (const auto& idx : m.indexes) {
    if (auto s = index_create(m, idx)) {
      m_deferred.push_back(*s);
    }
  }
  for (const Field& f : m.fields) {
    if (has_auto_through(f)) {
      if (f.to.empty() || !target_model(f.to)) {
        problem("warning", "django-model-unknown",
                "many-to-many field " + f.name +
                    " refers to a model not in the state; its "
                    "table is made without knowing the target's key type");
      }
      create_model(auto_through(m, f));
    }
  }
}

void Derivation::delete_model(const ModelState& m) {
  for (const Field& f : m.fields) {
    if (has_auto_through(f)) {
      delete_model(auto_through(m, f));
    }
  }
  std::string table = db_table(m);
  execute("DROP TABLE " + qn(table) + " CASCADE");
  std::erase_if(m_deferred, [&](const Stmt& s) { return s.references_table(table); });
}

void Derivation::add_field(const ModelState& m, const Field& f) {
  if (f.is_m2m()) {
    if (has_auto_through(f)) {
      create_model(auto_through(m, f));
    }
    return;
  }
  if (!db_type(f)) {
    return;
  }
  const SqlDefault default_value = effective_default(f);
  auto def = column_sql(m, f, true, &default_value);
  const std::string table = db_table(m);
  std::string check = db_check(f);
  if (!check.empty()) {
    *def += " CHECK (" + check + ")";
  }
  *def += db_type_suffix(f);  // add_field(): col_type_suffix
  if (f.is_fk() && f.db_constraint) {
    Stmt fk = fk_stmt(m, f, true);
    std::string name = fk.rendered_name();
    *def += " CONSTRAINT " + name + " REFERENCES " + qn(fk.to_table) + "(" + qn(fk.to_columns[0]) +
            ") DEFERRABLE INITIALLY DEFERRED; SET CONSTRAINTS " + name + " IMMEDIATE";
  }
  execute("ALTER TABLE " + qn(table) + " ADD COLUMN " + qn(f.column()) + " " + *def);
  if (!default_value.none && !f.db_default) {
    // Django 5.0+ add_field(): a db_default stays the column's default.
    execute("ALTER TABLE " + qn(table) + " ALTER COLUMN " + qn(f.column()) + " DROP DEFAULT");
  }
  for (auto& s : field_indexes(m, f)) {
    m_deferred.push_back(std::move(s));
  }
}

void Derivation::remove_field(const ModelState& m, const Field& f) {
  if (f.is_m2m()) {
    if (has_auto_through(f)) {
      delete_model(auto_through(m, f));
    }
    return;
  }
  if (!db_type(f)) {
    return;
  }
  const std::string table = db_table(m);
  const std::string column = f.column();
  if (f.is_fk()) {
    ConstraintFilter filter;
    filter.foreign_key = true;
    std::vector<std::string> cols{column};
    for (const auto& name : constraint_names(table, &cols, filter)) {
      execute("SET CONSTRAINTS " + qn(name) + " IMMEDIATE; ALTER TABLE " + qn(table) +
              " DROP CONSTRAINT " + qn(name));
    }
  }
  execute("ALTER TABLE " + qn(table) + " DROP COLUMN " + qn(column) + " CASCADE");
  std::erase_if(m_deferred, [&](const Stmt& s) { return s.references_column(table, column); });
}

Derivation::AlterInfo Derivation::prepare_alter(const ModelState& m, const Field& old) {
  AlterInfo info;
  info.old_type = db_type(old);
  for (auto& r : related_fields(m.key())) {
    bool relevant = (old.primary_key && r.field.to_field.empty()) || r.field.to_field == old.name;
    if (!relevant) {
      continue;
    }
    std::string t = db_type(r.field).value_or("");
    info.rels.emplace_back(std::move(r), t);
  }
  return info;
}

void Derivation::alter_field(const ModelState& m, const Field& old, const Field& nw,
                             const AlterInfo& info) {
  // _field_should_be_altered()
  if (qn(old.column()) == qn(nw.column()) && old.canonical == nw.canonical) {
    return;
  }
  auto new_type = db_type(nw);
  const auto& old_type = info.old_type;
  if ((!old_type && old.rel == Rel::none) || (!new_type && nw.rel == Rel::none)) {
    problem("warning", "django-alter-impossible",
            "field " + nw.name + " cannot be altered: a column-less field of an unknown kind");
    return;
  }
  if (!old_type && !new_type) {
    if (has_auto_through(old) && has_auto_through(nw)) {
      // _alter_many_to_many(): rename the table, repoint its two foreign keys.
      ModelState ot = auto_through(m, old);
      const ModelState* current = model(m.key());
      ModelState nt = auto_through(current ? *current : m, nw);
      if (*ot.db_table != *nt.db_table) {
        alter_db_table(*ot.db_table, *nt.db_table);
      }
      alter_field(nt, ot.fields[1], nt.fields[1], prepare_alter(nt, ot.fields[1]));
      alter_field(nt, ot.fields[0], nt.fields[0], prepare_alter(nt, ot.fields[0]));
    }
    return;
  }
  if (!old_type || !new_type) {
    problem("warning", "django-alter-impossible",
            "field " + nw.name +
                " is altered to or from a many-to-many field, which Django "
                "refuses");
    return;
  }
  alter_field_columns(m, old, nw, *old_type, *new_type, info);
}

// BaseDatabaseSchemaEditor._alter_field() with the PostgreSQL editor's additions.
void Derivation::alter_field_columns(const ModelState& m, const Field& old, const Field& nw,
                                     const std::string& old_type, const std::string& new_type,
                                     const AlterInfo& info) {
  const std::string table = db_table(m);
  const std::string old_col = old.column();
  const std::string new_col = nw.column();
  const std::vector<std::string> old_cols{old_col};
  auto drop_index = [&](const std::string& name) { execute("DROP INDEX IF EXISTS " + qn(name)); };
  auto drop_constraint = [&](const std::string& t, const std::string& name) {
    execute("ALTER TABLE " + qn(t) + " DROP CONSTRAINT " + qn(name));
  };
  auto drop_fk = [&](const std::string& t, const std::string& name) {
    execute("SET CONSTRAINTS " + qn(name) + " IMMEDIATE; ALTER TABLE " + qn(t) +
            " DROP CONSTRAINT " + qn(name));
  };
  auto family_left = [&](std::string_view family) {
    return starts_with(old_type, family) && !starts_with(new_type, family);
  };
  if ((old.db_index || old.unique()) &&
      (family_left("varchar") || family_left("text") || family_left("citext"))) {
    drop_index(create_index_name(table, {old_col}, "_like"));
  }
  std::set<std::string> meta_constraints, meta_indexes;
  for (const auto& c : m.constraints) {
    meta_constraints.insert(c.name);
  }
  for (const auto& i : m.indexes) {
    meta_indexes.insert(i.name);
  }
  bool fks_dropped = false;
  if (old.is_fk() && old.db_constraint) {
    ConstraintFilter f;
    f.foreign_key = true;
    for (const auto& name : constraint_names(table, &old_cols, f)) {
      fks_dropped = true;
      drop_fk(table, name);
    }
  }
  bool became_pk = !old.primary_key && nw.primary_key;
  if (old.unique() && (!nw.unique() || became_pk)) {
    ConstraintFilter f;
    f.unique = true;
    f.primary_key = false;
    f.exclude = meta_constraints;
    for (const auto& name : constraint_names(table, &old_cols, f)) {
      drop_constraint(table, name);
    }
  }
  bool drop_foreign_keys = ((old.primary_key && nw.primary_key) || (old.unique() && nw.unique())) &&
                           old_type != new_type;
  if (drop_foreign_keys) {
    for (const auto& [rel, rel_type] : info.rels) {
      const ModelState* rm = rel.through ? nullptr : model(rel.model);
      std::string rt;
      if (rel.through) {
        size_t hash = rel.model.find('#');
        const ModelState* owner = model(rel.model.substr(0, hash));
        const Field* m2m = owner ? get_field(*owner, rel.model.substr(hash + 1)) : nullptr;
        if (!owner || !m2m) {
          continue;
        }
        rt = *auto_through(*owner, *m2m).db_table;
      } else if (rm) {
        rt = db_table(*rm);
      } else {
        continue;
      }
      ConstraintFilter f;
      f.foreign_key = true;
      std::vector<std::string> cols{rel.field.column()};
      for (const auto& name : constraint_names(rt, &cols, f)) {
        drop_fk(rt, name);
      }
    }
  }
  if (old.db_index && !old.unique() && (!nw.db_index || nw.unique())) {
    ConstraintFilter f;
    f.index = true;
    f.type = "idx";
    f.exclude = meta_indexes;
    for (const auto& name : constraint_names(table, &old_cols, f)) {
      drop_index(name);
    }
  }
  const std::string old_check = db_check(old);
  const std::string new_check = db_check(nw);
  if (old_check != new_check && !old_check.empty()) {
    ConstraintFilter f;
    f.check = true;
    f.exclude = meta_constraints;
    for (const auto& name : constraint_names(table, &old_cols, f)) {
      drop_constraint(table, name);
    }
  }
  if (old_col != new_col) {
    execute("ALTER TABLE " + qn(table) + " RENAME COLUMN " + qn(old_col) + " TO " + qn(new_col));
    rename_index_columns(table, old_col, new_col);
    for (auto& s : m_deferred) {
      s.rename_column(table, old_col, new_col);
    }
  }
  std::vector<std::string> actions, null_actions, post_actions;
  if (old.db_collation != nw.db_collation) {
    actions.push_back("ALTER COLUMN " + qn(new_col) + " TYPE " + new_type +
                      (nw.db_collation.empty() ? "" : " COLLATE " + qn(nw.db_collation)));
  } else if (old_type != new_type) {
    std::string old_dt = field_data_type(old), new_dt = field_data_type(nw);
    if (old.internal == "ArrayField" && nw.internal == "ArrayField" && old.base_field &&
        nw.base_field) {
      old_dt = field_data_type(*old.base_field);
      new_dt = field_data_type(*nw.base_field);
    }
    auto [fragment, posts] = alter_column_type_sql(table, old, nw, new_type, old_dt, new_dt);
    actions.push_back(fragment);
    post_actions = posts;
  }
  bool needs_database_default = false;
  SqlDefault new_default;
  if (old.null && !nw.null) {
    SqlDefault old_default = effective_default(old, false);
    new_default = effective_default(nw);
    if ((old_default.none != new_default.none || old_default.sql != new_default.sql) &&
        !new_default.none) {
      needs_database_default = true;
      actions.push_back("ALTER COLUMN " + qn(new_col) + " SET DEFAULT " + new_default.sql);
    }
  }
  if (old.null != nw.null) {
    null_actions.push_back("ALTER COLUMN " + qn(new_col) +
                           (nw.null ? " DROP NOT NULL" : " SET NOT NULL"));
  }
  bool four_way = nw.has_default() && old.null && !nw.null;
  if (!actions.empty() || !null_actions.empty()) {
    if (!four_way) {
      actions.insert(actions.end(), null_actions.begin(), null_actions.end());
    }
    if (!actions.empty()) {
      execute("ALTER TABLE " + qn(table) + " " + join(actions, ", "));
    }
    if (four_way) {
      execute("UPDATE " + qn(table) + " SET " + qn(new_col) + " = " + new_default.sql + " WHERE " +
              qn(new_col) + " IS NULL");
      for (const auto& a : null_actions) {
        execute("ALTER TABLE " + qn(table) + " " + a);
      }
    }
  }
  for (const auto& p : post_actions) {
    execute(p);
  }
  if (old.primary_key && !nw.primary_key) {
    ConstraintFilter f;
    f.primary_key = true;
    for (const auto& name : constraint_names(table, nullptr, f)) {
      drop_constraint(table, name);
    }
  }
  if ((!old.unique() && nw.unique()) || (old.primary_key && !nw.primary_key && nw.unique())) {
    execute(unique_stmt(table, {new_col}).render());
  }
  if ((!old.db_index || old.unique()) && nw.db_index && !nw.unique()) {
    execute(index_stmt(m, {nw}, "").render());
  }
  bool rels_to_update = drop_foreign_keys;
  if (became_pk) {
    execute("ALTER TABLE " + qn(table) + " ADD CONSTRAINT " +
            qn(create_index_name(table, {new_col}, "_pk")) + " PRIMARY KEY (" + qn(new_col) + ")");
    rels_to_update = true;
  }
  if (rels_to_update) {
    for (const auto& [rel, old_rel_type] : info.rels) {
      std::string rt;
      if (rel.through) {
        size_t hash = rel.model.find('#');
        const ModelState* owner = model(rel.model.substr(0, hash));
        const Field* m2m = owner ? get_field(*owner, rel.model.substr(hash + 1)) : nullptr;
        if (!owner || !m2m) {
          continue;
        }
        rt = *auto_through(*owner, *m2m).db_table;
      } else if (const ModelState* rm = model(rel.model)) {
        rt = db_table(*rm);
      } else {
        continue;
      }
      std::string rel_type = db_type(rel.field).value_or(old_rel_type);
      std::string col = rel.field.column();
      std::string s = "ALTER COLUMN " + qn(col) + " TYPE " + rel_type;
      if (old_rel_type != rel_type) {
        s += " USING " + qn(col) + "::" + rel_type;
      }
      execute("ALTER TABLE " + qn(rt) + " " + s);
    }
  }
  if (nw.is_fk() && (fks_dropped || !old.is_fk() || !old.db_constraint) && nw.db_constraint) {
    execute(fk_stmt(m, nw, true).render());
  }
  if (drop_foreign_keys) {
    // Rebuilt from _meta.related_objects, which leaves out hidden relations (related_name
    // ending in '+', the foreign keys of auto-created many-to-many tables): Django 3.2
    // drops their constraints above and does not make them again.
    for (const auto& [rel, t] : info.rels) {
      if (rel.hidden || !rel.field.db_constraint) {
        continue;
      }
      if (const ModelState* rm = model(rel.model)) {
        execute(fk_stmt(*rm, rel.field, false).render());
      }
    }
  }
  if (old_check != new_check && !new_check.empty()) {
    execute("ALTER TABLE " + qn(table) + " ADD CONSTRAINT " +
            qn(create_index_name(table, {new_col}, "_check")) + " CHECK (" + new_check + ")");
  }
  if (needs_database_default) {
    execute("ALTER TABLE " + qn(table) + " ALTER COLUMN " + qn(new_col) + " DROP DEFAULT");
  }
  if ((!(old.db_index || old.unique()) && nw.db_index) || (!old.unique() && nw.unique())) {
    if (auto like = like_index(m, nw)) {
      execute(like->render());
    }
  }
  if (old.unique() && !(nw.db_index || nw.unique())) {
    drop_index(create_index_name(table, {old_col}, "_like"));
  }
}

// PostgreSQL renames a column in the indexes that use it; the catalog replay keeps index
// columns as written, so they are renamed here, for what Django reads back later.
void Derivation::rename_index_columns(const std::string& table, const std::string& from,
                                      const std::string& to) {
  std::vector<std::string> names;
  m_catalog.for_each_index([&](const store::IndexFact& idx) {
    if (idx.schema_name == pgsql::k_search_path_schema && idx.table_name == table) {
      names.push_back(idx.name);
    }
  });
  for (const auto& name : names) {
    store::IndexFact* idx = m_catalog.index({pgsql::k_search_path_schema, name});
    if (!idx) {
      continue;
    }
    std::vector<std::string> parts = pgsql::split_top_level(idx->columns);
    std::vector<std::string> cols = column_names_of(idx->columns);
    bool changed = false;
    for (size_t i = 0; i < parts.size() && i < cols.size(); ++i) {
      if (cols[i] != from) {
        continue;
      }
      std::string& p = parts[i];
      size_t len = p.size();
      if (!p.empty() && p[0] == '"') {
        size_t close = p.find('"', 1);
        len = close == std::string::npos ? p.size() : close + 1;
      } else {
        len = std::min(p.size(), from.size());
      }
      p = pgsql::quote_ident(to) + p.substr(len);
      changed = true;
    }
    if (changed) {
      idx->columns = join(parts, ", ");
    }
  }
}

void Derivation::alter_db_table(const std::string& old_table, const std::string& new_table) {
  if (old_table == new_table) {
    return;
  }
  execute("ALTER TABLE " + qn(old_table) + " RENAME TO " + qn(new_table));
  for (auto& s : m_deferred) {
    s.rename_table(old_table, new_table);
  }
}

void Derivation::delete_composed_index(const ModelState& m, const std::vector<std::string>& fields,
                                       bool unique) {
  ConstraintFilter f;
  for (const auto& c : m.constraints) {
    f.exclude.insert(c.name);
  }
  for (const auto& i : m.indexes) {
    f.exclude.insert(i.name);
  }
  if (unique) {
    f.unique = true;
  } else {
    f.index = true;
    f.unique = false;
  }
  const std::string table = db_table(m);
  std::vector<std::string> columns = columns_of(m, fields);
  auto names = constraint_names(table, &columns, f);
  if (names.size() != 1) {
    problem("error", "django-constraint-not-found",
            "Found wrong number (" + std::to_string(names.size()) + ") of constraints for " +
                table + "(" + join(columns, ", ") +
                "): Django stops the migration here (ValueError)");
    return;
  }
  if (unique) {
    execute("ALTER TABLE " + qn(table) + " DROP CONSTRAINT " + qn(names[0]));
  } else {
    execute("DROP INDEX IF EXISTS " + qn(names[0]));
  }
}

void Derivation::add_index(const ModelState& m, const IndexDef& idx, bool concurrently) {
  if (auto s = index_create(m, idx)) {
    s->concurrently = concurrently;
    execute(s->render());
  }
}

void Derivation::add_constraint(const ModelState& m, const ConstraintDef& c) {
  const std::string table = db_table(m);
  if (c.kind == "check") {
    auto sql = check_sql(m, c);
    execute("ALTER TABLE " + qn(table) + " ADD CONSTRAINT " + qn(c.name) + " CHECK (" +
            sql.value_or("<unknown>") + ")");
    return;
  }
  if (c.kind == "unique") {
    Stmt s;
    if (is_index_backed(c)) {
      s = unique_index_stmt(m, c);
    } else {
      s.kind = Stmt::Kind::unique;
      s.table = table;
      s.columns = columns_of(m, c.fields);
      s.name = c.name;
      s.line = m_line;
      s.deferrable = deferrable_sql(c.deferrable);
      s.nulls_distinct = c.nulls_distinct;
    }
    execute(s.render());
    return;
  }
  std::string sql = constraint_sql(m, c);
  if (!sql.empty()) {
    execute("ALTER TABLE " + qn(table) + " ADD " + sql);
  }
}

void Derivation::remove_constraint(const ModelState& m, const ConstraintDef& c) {
  const std::string table = db_table(m);
  if (c.kind == "unique" && is_index_backed(c)) {
    execute("DROP INDEX IF EXISTS " + qn(c.name));
    return;
  }
  if (c.kind == "unknown") {
    problem("warning", "django-constraint-unknown",
            "constraint " + c.name + " is a " + c.path + ": how it is removed is not known");
    return;
  }
  execute("ALTER TABLE " + qn(table) + " DROP CONSTRAINT " + qn(c.name));
}

}  // namespace dbautopsy::django::detail
