#include "pgsql/ddl.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "base/text.hpp"
#include "pgsql/names.hpp"
#include "pgsql/settings.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::pgsql {

struct DdlApplier::Ctx {
  const StatementText& st;
  uint64_t line;
  bool schema_explicit = false;  // the statement named the schema of its target relation
};

namespace {

std::string lower_enum(std::string_view value, std::string_view prefix) {
  if (value.substr(0, prefix.size()) == prefix) {
    value.remove_prefix(prefix.size());
  }
  return text::lower(value);
}

// The relation kind words used in db_relation.kind for a parse-tree object type.
std::string relation_word(std::string_view objtype) {
  if (objtype == "OBJECT_VIEW") {
    return "view";
  }
  if (objtype == "OBJECT_MATVIEW") {
    return "materialized_view";
  }
  if (objtype == "OBJECT_SEQUENCE") {
    return "sequence";
  }
  if (objtype == "OBJECT_FOREIGN_TABLE") {
    return "foreign_table";
  }
  if (objtype == "OBJECT_INDEX") {
    return "index";
  }
  return "table";
}

std::string persistence_word(std::string_view p) {
  if (p == "u") {
    return "unlogged";
  }
  if (p == "t") {
    return "temporary";
  }
  return "permanent";
}

std::string join_idents(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  quoted.reserve(names.size());
  for (const auto& n : names) {
    quoted.push_back(quote_ident(n));
  }
  return text::join(quoted, ", ");
}

// Distinct single-name column references in an expression (for CHECK constraint naming).
void column_refs(const Json& node, std::set<std::string>& out) {
  if (node.is_object()) {
    if (node_type(node) == "ColumnRef") {
      auto fields = strings(field(node_body(node), "fields"));
      if (!fields.empty()) {
        out.insert(fields.back());
      }
      return;
    }
    for (const auto& item : node.items()) {
      if (item.value().is_structured()) {
        column_refs(item.value(), out);
      }
    }
  } else if (node.is_array()) {
    for (const auto& item : node) {
      column_refs(item, out);
    }
  }
}

// FigureColnameInternal (parse_target.c), enough of it for index column names.
std::string figure_colname(const Json& expr) {
  std::string_view type = node_type(expr);
  const Json& body = node_body(expr);
  if (type == "ColumnRef") {
    auto fields = strings(field(body, "fields"));
    return fields.empty() ? "" : fields.back();
  }
  if (type == "FuncCall") {
    auto names = strings(field(body, "funcname"));
    return names.empty() ? "" : names.back();
  }
  if (type == "TypeCast") {
    std::string inner = figure_colname(field(body, "arg"));
    if (!inner.empty()) {
      return inner;
    }
    auto names = strings(field(field(body, "typeName"), "names"));
    return names.empty() ? "" : names.back();
  }
  if (type == "CoalesceExpr") {
    return "coalesce";
  }
  if (type == "MinMaxExpr") {
    return str(body, "op") == "IS_GREATEST" ? "greatest" : "least";
  }
  if (type == "CaseExpr") {
    return "case";
  }
  if (type == "A_ArrayExpr") {
    return "array";
  }
  if (type == "RowExpr") {
    return "row";
  }
  if (type == "NullIfExpr") {
    return "nullif";
  }
  if (type == "SQLValueFunction") {
    return lower_enum(str(body, "op"), "SVFOP_");
  }
  return "";
}

std::optional<int64_t> def_int(const Json& def_elem) {
  const Json& arg = field(def_elem, "arg");
  if (arg.is_null()) {
    return std::nullopt;
  }
  if (auto t = const_text(arg)) {
    try {
      return std::stoll(*t);
    } catch (...) {
    }
  }
  return std::nullopt;
}

// The text of the constraint clause starting at `loc`, without its "CONSTRAINT name".
std::string constraint_text(std::string_view text, int loc, size_t stop) {
  if (loc < 0 || static_cast<size_t>(loc) >= text.size()) {
    return {};
  }
  size_t start = static_cast<size_t>(loc);
  if (text::istarts_with(text.substr(start), "constraint")) {
    size_t i = start + 10;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (i < text.size() && !(text[i] == '"' && (i + 1 >= text.size() || text[i + 1] != '"'))) {
        i += text[i] == '"' ? 2 : 1;
      }
      ++i;
    } else {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) &&
             text[i] != '(') {
        ++i;
      }
    }
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    start = i;
  }
  size_t end = std::min(clause_end(text, start), stop);
  return clean_sql(text.substr(start, end > start ? end - start : 0));
}

// Types that well-known extensions create (the contrib modules Debian ships, PostGIS,
// pgvector). Only the ones a column can have.
const std::vector<std::string>& extension_types(const std::string& extension) {
  static const std::map<std::string, std::vector<std::string>> k_types = {
      {"citext", {"citext"}},
      {"hstore", {"hstore"}},
      {"ltree", {"ltree", "lquery", "ltxtquery"}},
      {"cube", {"cube"}},
      {"seg", {"seg"}},
      {"isn", {"ean13", "isbn13", "ismn13", "issn13", "isbn", "ismn", "issn", "upc"}},
      {"earthdistance", {"earth"}},
      {"lo", {"lo"}},
      {"intarray", {"query_int"}},
      {"postgis", {"geometry", "geography", "box2d", "box3d"}},
      {"postgis_raster", {"raster"}},
      {"postgis_topology", {"topogeometry"}},
      {"vector", {"vector", "halfvec", "sparsevec"}},
  };
  static const std::vector<std::string> k_none;
  auto it = k_types.find(extension);
  return it == k_types.end() ? k_none : it->second;
}

std::string fk_action(std::string_view a) {
  return a.empty() ? "a" : std::string(a);
}

// A partition bound as pg_get_expr(relpartbound) writes it: "FOR VALUES FROM (...) TO (...)",
// "FOR VALUES IN (...)", "FOR VALUES WITH (...)" or "DEFAULT". The parse tree's location
// points past "FOR VALUES".
std::string bound_text(const Json& bound, std::string_view text) {
  if (flag(bound, "is_default")) {
    return "DEFAULT";
  }
  int loc = static_cast<int>(num(bound, "location", -1));
  if (loc < 0) {
    return {};
  }
  std::string clause = clean_sql(text.substr(loc, clause_end(text, loc) - loc));
  return text::istarts_with(clause, "for values") ? clause : "FOR VALUES " + clause;
}

// A column's COLLATE clause (its effects' definition), the collation's name parts quoted; ""
// when it has none.
std::string collate_clause(const std::optional<std::string>& collation) {
  if (!collation || collation->empty()) {
    return {};
  }
  std::vector<std::string> parts;
  for (const auto& part : text::split(*collation, '.')) {
    parts.push_back(quote_ident(std::string(part)));
  }
  return "COLLATE " + text::join(parts, ".");
}

}  // namespace

DdlApplier::DdlApplier(Catalog& catalog, Session& session, Warn warn)
    : m_catalog(catalog), m_session(session), m_warn(std::move(warn)) {}

void DdlApplier::emit(Effect effect, Ctx& ctx) {
  if (m_observe) {
    effect.line = ctx.line;
    effect.schema_explicit = effect.schema_explicit || ctx.schema_explicit;
    m_observe(effect);
  }
}

std::optional<std::string> DdlApplier::creation_schema() const {
  for (const auto& s : m_session.search_path) {
    if (s == "$user" || s == "pg_temp") {
      continue;
    }
    if (m_catalog.schema_exists(s)) {
      return s;
    }
  }
  return std::nullopt;
}

std::optional<QualifiedName> DdlApplier::resolve_relation(const std::string& schema,
                                                          const std::string& name) const {
  if (!schema.empty()) {
    if (m_catalog.relation({schema, name})) {
      return QualifiedName{schema, name};
    }
    return std::nullopt;
  }
  for (const auto& s : m_session.search_path) {
    if (s == "$user") {
      continue;
    }
    if (m_catalog.relation({s, name})) {
      return QualifiedName{s, name};
    }
  }
  return std::nullopt;
}

std::optional<QualifiedName> DdlApplier::resolve_or_guess(const Json& rv) const {
  std::string schema = str(rv, "schemaname");
  std::string name = str(rv, "relname");
  if (auto found = resolve_relation(schema, name)) {
    return found;
  }
  if (!schema.empty()) {
    return QualifiedName{schema, name};
  }
  if (auto s = creation_schema()) {
    return QualifiedName{*s, name};
  }
  return std::nullopt;
}

void DdlApplier::set_search_path(const std::vector<std::string>& path) {
  m_session.search_path.clear();
  for (const auto& p : path) {
    std::string entry(text::trim(p));
    if (entry.size() >= 2 && entry.front() == '"' && entry.back() == '"') {
      entry = entry.substr(1, entry.size() - 2);
    } else {
      entry = text::lower(entry);
    }
    if (!entry.empty()) {
      m_session.search_path.push_back(entry);
    }
  }
}

void DdlApplier::emit_constraint(const store::ConstraintFact& c, Ctx& ctx) {
  Effect e{"create", "constraint", c.schema_name, false, c.table_name, c.name};
  e.kind = c.kind;
  e.columns = c.columns.value_or("");
  e.ref_schema = c.ref_schema.value_or("");
  e.ref_table = c.ref_table.value_or("");
  e.definition = c.definition.value_or("");
  e.detail = e.definition;
  emit(e, ctx);
}

void DdlApplier::emit_index(const store::IndexFact& i, Ctx& ctx) {
  Effect e{"create", "index", i.schema_name, false, i.table_name, i.name};
  e.kind = i.is_unique ? "unique index" : "index";
  e.columns = i.columns;
  e.definition = i.definition;
  e.predicate = i.predicate.value_or("");
  e.detail = i.definition;
  emit(e, ctx);
}

std::optional<QualifiedName> DdlApplier::implicit_relation(const Json& rv, Ctx& ctx) {
  if (!m_implicit) {
    return std::nullopt;
  }
  auto key = resolve_or_guess(rv);
  if (!key) {
    return std::nullopt;
  }
  if (!m_catalog.relation(*key)) {
    store::RelationFact f;
    f.line = static_cast<int64_t>(ctx.line);
    f.schema_name = key->first;
    f.name = key->second;
    f.kind = "table";
    m_catalog.add_relation(f);
  }
  return key;
}

store::ColumnFact* DdlApplier::implicit_column(const QualifiedName& table,
                                               const std::string& name) {
  RelationModel* rel = m_catalog.relation(table);
  if (!rel) {
    return nullptr;
  }
  if (store::ColumnFact* c = rel->column(name); c || !m_implicit) {
    return c;
  }
  store::ColumnFact c;
  c.schema_name = table.first;
  c.table_name = table.second;
  c.name = name;
  c.ordinal = static_cast<int64_t>(rel->columns.size()) + 1;
  c.type = "unknown";
  rel->columns.push_back(c);
  return &rel->columns.back();
}

TypeResolver DdlApplier::type_resolver() const {
  return [this](const std::string& name) -> std::optional<std::string> {
    for (const auto& schema : m_session.search_path) {
      if (schema != "$user" && m_catalog.type_exists(schema, name)) {
        return schema;
      }
    }
    return std::nullopt;
  };
}

std::string DdlApplier::default_text(const Json& expr, Ctx& ctx, size_t stop) {
  return expression_text(ctx.st.text, expr, stop);
}

void DdlApplier::apply(const Json& stmt, const StatementText& st) {
  Ctx ctx{st, st.first_line};
  std::string_view type = node_type(stmt);
  const Json& s = node_body(stmt);
  if (type == "CreateStmt") {
    create_table(s, ctx);
  } else if (type == "CreateForeignTableStmt") {
    create_table(field(s, "base"), ctx, "foreign_table");
  } else if (type == "CreateSchemaStmt") {
    create_schema(s, ctx);
  } else if (type == "CreateSeqStmt") {
    create_sequence(s, ctx);
  } else if (type == "AlterSeqStmt") {
    alter_sequence(s, ctx);
  } else if (type == "ViewStmt") {
    create_view(s, ctx);
  } else if (type == "CreateTableAsStmt") {
    create_table_as(s, ctx);
  } else if (type == "IndexStmt") {
    create_index(s, ctx);
  } else if (type == "AlterTableStmt") {
    alter_table(s, ctx);
  } else if (type == "RenameStmt") {
    rename(s, ctx);
  } else if (type == "AlterObjectSchemaStmt") {
    set_schema(s, ctx);
  } else if (type == "DropStmt") {
    drop(s, ctx);
  } else if (type == "CommentStmt") {
    comment(s, ctx);
  } else if (type == "CreateExtensionStmt") {
    create_extension(s, ctx);
  } else if (type == "VariableSetStmt") {
    set_variable(s, ctx);
  } else if (type == "SelectStmt") {
    select(s, ctx);
  } else if (type == "UpdateStmt") {
    update(s, ctx);
  } else if (type == "AlterRoleSetStmt" || type == "AlterDatabaseSetStmt") {
    // A role's or database's setting (pg_dumpall, pg_dump --create): ALTER ROLE app SET
    // search_path TO 'test_schema', 'public'.
    for (store::SettingFact f : settings_of(stmt)) {
      f.source = "dump";
      f.line = static_cast<int64_t>(ctx.line);
      f.statement = statement_one_line(ctx.st.text);
      m_catalog.settings.push_back(std::move(f));
    }
  } else {
    other_object(type, s, ctx);
  }
}

void DdlApplier::create_schema(const Json& s, Ctx& ctx) {
  std::string name = str(s, "schemaname");
  if (name.empty()) {
    name = str(field(s, "authrole"), "rolename");
  }
  if (name.empty()) {
    return;
  }
  if (m_catalog.schema_exists(name) && flag(s, "if_not_exists")) {
    return;
  }
  m_catalog.add_schema(store::SchemaFact{static_cast<int64_t>(ctx.line), {}, name});
  emit(Effect{"create", "schema", name, true, {}, name, {}, {}, 0}, ctx);
  // CREATE SCHEMA s CREATE TABLE ...: the elements are created in s.
  const Json& elements = field(s, "schemaElts");
  if (elements.is_array() && !elements.empty()) {
    auto saved = m_session.search_path;
    m_session.search_path = {name};
    for (const Json& e : elements) {
      apply(e, ctx.st);
    }
    m_session.search_path = saved;
  }
}

void DdlApplier::create_table(const Json& s, Ctx& ctx, const std::string& kind_override) {
  const Json& rv = field(s, "relation");
  std::string schema = str(rv, "schemaname");
  bool explicit_schema = !schema.empty();
  ctx.schema_explicit = explicit_schema;
  std::string name = str(rv, "relname");
  std::string persistence = persistence_word(str(rv, "relpersistence"));
  if (persistence == "temporary" && schema.empty()) {
    schema = "pg_temp";
  }
  if (schema.empty()) {
    auto cs = creation_schema();
    if (!cs) {
      m_warn(ctx.line, "no-creation-schema",
             fmt::format("CREATE TABLE {}: no schema of the search_path ({}) exists, so the "
                         "server would refuse it; not recorded",
                         name, text::join(m_session.search_path, ", ")));
      return;
    }
    schema = *cs;
  }
  if (m_catalog.relation({schema, name})) {
    if (!flag(s, "if_not_exists")) {
      m_warn(ctx.line, "duplicate-object",
             fmt::format("relation {} is created twice; the server rejects the second CREATE",
                         qualified(schema, name)));
    }
    return;
  }

  store::RelationFact fact;
  fact.line = static_cast<int64_t>(ctx.line);
  fact.schema_name = schema;
  fact.name = name;
  fact.persistence = persistence;
  fact.kind = !kind_override.empty()           ? kind_override
              : field(s, "partspec").is_null() ? "table"
                                               : "partitioned_table";
  const Json& partspec = field(s, "partspec");
  if (!partspec.is_null()) {
    int loc = static_cast<int>(num(partspec, "location", -1));
    if (loc >= 0) {
      size_t close = std::string::npos;
      parenthesized_after(ctx.st.text, static_cast<size_t>(loc), nullptr, &close);
      if (close != std::string::npos) {
        fact.partition_key = clean_sql(ctx.st.text.substr(loc, close + 1 - loc));
      }
    }
  }
  m_catalog.add_relation(fact);
  QualifiedName key{schema, name};
  emit(Effect{"create", "table", schema, explicit_schema, name, name, fact.kind, {}, 0}, ctx);

  // Parents first: their columns come before the table's own (MergeAttributes).
  const Json& partbound = field(s, "partbound");
  std::vector<QualifiedName> parents;
  for (const Json& p : field(s, "inhRelations")) {
    const Json& prv = node_body(p);
    auto pk = resolve_relation(str(prv, "schemaname"), str(prv, "relname"));
    if (!pk) {
      m_warn(ctx.line, "unknown-parent",
             fmt::format("{} inherits from {}, which this input does not create",
                         qualified(schema, name), str(prv, "relname")));
      continue;
    }
    parents.push_back(*pk);
  }
  for (const auto& pk : parents) {
    RelationModel* child = m_catalog.relation(key);
    inherit_from(*child, pk, !partbound.is_null(), ctx);
  }
  if (!partbound.is_null()) {
    RelationModel* child = m_catalog.relation(key);
    child->fact.partition_bound = bound_text(partbound, ctx.st.text);
  } else if (!parents.empty()) {
    std::vector<std::string> names;
    for (const auto& p : parents) {
      names.push_back(qualified(p.first, p.second));
    }
    m_catalog.relation(key)->fact.inherits = text::join(names, ", ");
  }

  // Columns, then table constraints, in the order PostgreSQL names them: index-backed
  // constraints (PK, UNIQUE, EXCLUDE), then CHECK, then FOREIGN KEY.
  std::vector<const Json*> table_constraints;
  std::vector<std::pair<std::string, const Json*>> column_constraints;
  for (const Json& elt : field(s, "tableElts")) {
    std::string_view et = node_type(elt);
    if (et == "ColumnDef") {
      RelationModel* r = m_catalog.relation(key);
      add_column(*r, node_body(elt), ctx, false);
      for (const Json& c : field(node_body(elt), "constraints")) {
        column_constraints.emplace_back(str(node_body(elt), "colname"), &c);
      }
    } else if (et == "Constraint") {
      table_constraints.push_back(&elt);
    } else if (et == "TableLikeClause") {
      const Json& src = field(node_body(elt), "relation");
      auto sk = resolve_relation(str(src, "schemaname"), str(src, "relname"));
      RelationModel* from = sk ? m_catalog.relation(*sk) : nullptr;
      RelationModel* r = m_catalog.relation(key);
      if (!from) {
        m_warn(ctx.line, "unknown-parent",
               fmt::format("LIKE {}: a table this input does not create; its columns are unknown",
                           str(src, "relname")));
        continue;
      }
      for (auto col : from->columns) {
        col.schema_name = schema;
        col.table_name = name;
        col.line = static_cast<int64_t>(ctx.line);
        col.ordinal = static_cast<int64_t>(r->columns.size()) + 1;
        col.default_expr.reset();
        col.identity.reset();
        col.generated.reset();
        col.generated_expr.reset();
        col.is_serial = false;
        col.serial_sequence.reset();
        col.inherited = false;
        r->columns.push_back(col);
      }
    }
  }
  auto rank = [](const Json& c) {
    std::string t = str(node_body(c), "contype");
    if (t == "CONSTR_PRIMARY" || t == "CONSTR_UNIQUE" || t == "CONSTR_EXCLUSION") {
      return 0;
    }
    if (t == "CONSTR_CHECK") {
      return 1;
    }
    if (t == "CONSTR_FOREIGN") {
      return 2;
    }
    return 3;
  };
  for (int pass = 0; pass < 3; ++pass) {
    for (const auto& [col, c] : column_constraints) {
      if (rank(*c) == pass) {
        RelationModel* r = m_catalog.relation(key);
        add_table_constraint(*r, node_body(*c), ctx, {col}, true);
      }
    }
    for (const Json* c : table_constraints) {
      if (rank(*c) == pass) {
        RelationModel* r = m_catalog.relation(key);
        add_table_constraint(*r, node_body(*c), ctx, {}, true);
      }
    }
  }
  // A partition made with PARTITION OF receives its parent's indexes (after its own).
  if (!partbound.is_null() && !parents.empty()) {
    clone_indexes_to_new_partition(parents.front(), *m_catalog.relation(key), ctx);
  }
  // Columns are rarely added later: no room kept for them (a dump of a million tables).
  if (RelationModel* r = m_catalog.relation(key)) {
    r->columns.shrink_to_fit();
  }
}

void DdlApplier::inherit_from(RelationModel& child, const QualifiedName& parent_key, bool partition,
                              Ctx& ctx) {
  RelationModel* parent = m_catalog.relation(parent_key);
  if (!parent) {
    return;
  }
  child.parents.push_back(parent_key);
  if (partition) {
    child.fact.parent_schema = parent_key.first;
    child.fact.parent_name = parent_key.second;
  }
  QualifiedName child_key{child.fact.schema_name, child.fact.name};
  std::vector<store::ColumnFact> merged;
  for (const auto& pc : parent->columns) {
    store::ColumnFact c = pc;
    c.schema_name = child.fact.schema_name;
    c.table_name = child.fact.name;
    c.line = child.fact.line;
    c.inherited = true;
    c.identity.reset();
    c.is_serial = false;
    c.serial_sequence.reset();
    merged.push_back(c);
  }
  for (auto& own : child.columns) {
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const auto& m) { return m.name == own.name; });
    if (it != merged.end()) {
      it->not_null = it->not_null || own.not_null;
      if (own.default_expr) {
        it->default_expr = own.default_expr;
      }
      continue;
    }
    merged.push_back(own);
  }
  for (size_t i = 0; i < merged.size(); ++i) {
    merged[i].ordinal = static_cast<int64_t>(i) + 1;
  }
  child.columns = std::move(merged);
  // CHECK constraints are inherited (unless NO INHERIT); a partition also inherits the
  // parent's foreign keys (CloneForeignKeyConstraints).
  std::vector<store::ConstraintFact> copies;
  for (auto* c : m_catalog.constraints_of(parent_key)) {
    bool check =
        c->kind == "c" && c->definition.value_or("").find("NO INHERIT") == std::string::npos;
    bool fk = partition && c->kind == "f";
    if (!check && !fk) {
      continue;
    }
    if (m_catalog.constraint(child_key.first, child_key.second, c->name)) {
      continue;
    }
    store::ConstraintFact copy = *c;
    copy.schema_name = child_key.first;
    copy.table_name = child_key.second;
    copy.inherited = true;
    copy.line = static_cast<int64_t>(ctx.line);
    copies.push_back(copy);
  }
  for (auto& c : copies) {
    m_catalog.add_constraint(c);
  }
}

void DdlApplier::add_column(RelationModel& rel, const Json& cd, Ctx& ctx, bool if_not_exists) {
  std::string colname = str(cd, "colname");
  // `rel` may move when a serial sequence is added below; remember the key.
  const std::string table_schema_of_col = rel.fact.schema_name;
  const std::string table_name_of_col = rel.fact.name;
  if (rel.column(colname)) {
    if (!if_not_exists) {
      m_warn(ctx.line, "duplicate-object",
             fmt::format("column {} of {} is added twice", colname,
                         qualified(rel.fact.schema_name, rel.fact.name)));
    }
    return;
  }
  store::ColumnFact col;
  col.line = static_cast<int64_t>(ctx.line);
  col.schema_name = rel.fact.schema_name;
  col.table_name = rel.fact.name;
  col.name = colname;
  col.ordinal = static_cast<int64_t>(rel.columns.size()) + 1;
  const Json& tn = field(cd, "typeName");
  std::vector<std::string> tnames = strings(field(tn, "names"));
  std::string serial;
  if (tnames.size() == 1 && field(tn, "arrayBounds").is_null()) {
    const std::string& t = tnames[0];
    if (t == "serial" || t == "serial4") {
      serial = "integer";
    } else if (t == "bigserial" || t == "serial8") {
      serial = "bigint";
    } else if (t == "smallserial" || t == "serial2") {
      serial = "smallint";
    }
  }
  col.type = serial.empty() ? format_type(tn, type_resolver(), ctx.st.text) : serial;
  if (!field(cd, "collClause").is_null()) {
    auto coll = strings(field(field(cd, "collClause"), "collname"));
    col.collation = text::join(coll, ".");
  }
  const Json& constraints = field(cd, "constraints");
  std::vector<int> locations;
  for (const Json& c : constraints) {
    locations.push_back(static_cast<int>(num(node_body(c), "location", -1)));
  }
  auto next_location = [&](size_t i) -> size_t {
    for (size_t k = i + 1; k < locations.size(); ++k) {
      if (locations[k] >= 0) {
        return static_cast<size_t>(locations[k]);
      }
    }
    return std::string::npos;
  };
  size_t i = 0;
  for (const Json& cnode : constraints) {
    const Json& c = node_body(cnode);
    std::string t = str(c, "contype");
    if (t == "CONSTR_NOTNULL") {
      col.not_null = true;
    } else if (t == "CONSTR_NULL") {
      col.not_null = false;
    } else if (t == "CONSTR_DEFAULT") {
      col.default_expr = default_text(field(c, "raw_expr"), ctx, next_location(i));
    } else if (t == "CONSTR_GENERATED") {
      col.generated = "stored";
      int loc = static_cast<int>(num(c, "location", -1));
      if (loc >= 0) {
        col.generated_expr = clean_sql(parenthesized_after(ctx.st.text, loc));
      }
    } else if (t == "CONSTR_PRIMARY") {
      col.not_null = true;
    } else if (t == "CONSTR_IDENTITY") {
      col.identity = str(c, "generated_when") == "a" ? "always" : "by_default";
      col.not_null = true;
    }
    ++i;
  }
  rel.columns.push_back(col);
  store::ColumnFact& added = rel.columns.back();
  for (const Json& cnode : constraints) {
    const Json& c = node_body(cnode);
    if (str(c, "contype") == "CONSTR_IDENTITY") {
      add_identity(rel, added, c, ctx);
      break;
    }
  }
  if (!serial.empty()) {
    // transformColumnDefinition: a sequence named table_column_seq (made unique), owned
    // by the column, as the column's default; the column is NOT NULL.
    std::string seq = choose_name(rel.fact.name, colname, "seq", [&](const std::string& n) {
      return m_catalog.relation_name_taken(rel.fact.schema_name, n, false);
    });
    store::RelationFact sr;
    sr.line = static_cast<int64_t>(ctx.line);
    sr.schema_name = rel.fact.schema_name;
    sr.name = seq;
    sr.kind = "sequence";
    std::string table_schema = rel.fact.schema_name;
    std::string table_name = rel.fact.name;
    m_catalog.add_relation(sr);  // may reallocate: `rel` and `added` are not used after this
    store::SequenceFact sf;
    sf.line = static_cast<int64_t>(ctx.line);
    sf.schema_name = table_schema;
    sf.name = seq;
    sf.data_type = serial;
    sf.owned_by_schema = table_schema;
    sf.owned_by_table = table_name;
    sf.owned_by_column = colname;
    m_catalog.add_sequence(sf);
    RelationModel* r = m_catalog.relation({table_schema, table_name});
    store::ColumnFact* c = r->column(colname);
    c->not_null = true;
    // A table of a script replayed without knowing its schema (script_effects.hpp): the
    // default names the sequence as that script's SQL would, unqualified.
    std::string seq_text =
        table_schema == k_search_path_schema ? quote_ident(seq) : qualified(table_schema, seq);
    c->default_expr = fmt::format("nextval('{}'::regclass)", seq_text);
    c->is_serial = true;
    c->serial_sequence = qualified(table_schema, seq);
  }
  if (RelationModel* r = m_catalog.relation({table_schema_of_col, table_name_of_col})) {
    if (const store::ColumnFact* c = r->column(colname)) {
      Effect e{"create", "column", c->schema_name, false, c->table_name, colname};
      e.type = c->type;
      e.not_null = c->not_null;
      e.default_expr = c->default_expr;
      e.definition = collate_clause(c->collation);
      e.detail = c->type + (c->not_null ? " not null" : "");
      emit(e, ctx);
    }
  }
}

void DdlApplier::add_identity(RelationModel& rel, store::ColumnFact& col, const Json& c, Ctx& ctx) {
  std::string schema = rel.fact.schema_name;
  std::string seq;
  store::SequenceFact sf;
  for (const Json& o : field(c, "options")) {
    const Json& d = node_body(o);
    std::string name = str(d, "defname");
    if (name == "sequence_name") {
      auto parts = strings(field(node_body(field(d, "arg")), "items"));
      if (parts.empty()) {
        parts = strings(field(d, "arg"));
      }
      if (parts.size() >= 2) {
        schema = parts[parts.size() - 2];
      }
      if (!parts.empty()) {
        seq = parts.back();
      }
    } else if (name == "start") {
      sf.start_value = def_int(d);
    } else if (name == "increment") {
      sf.increment = def_int(d);
    } else if (name == "minvalue") {
      sf.min_value = def_int(d);
    } else if (name == "maxvalue") {
      sf.max_value = def_int(d);
    } else if (name == "cache") {
      sf.cache = def_int(d);
    } else if (name == "cycle") {
      sf.cycle = flag(node_body(field(d, "arg")), "boolval");
    } else if (name == "as") {
      sf.data_type = format_type(node_body(field(d, "arg")), type_resolver());
    }
  }
  std::string table_schema = rel.fact.schema_name;
  std::string table_name = rel.fact.name;
  std::string colname = col.name;
  col.identity = str(c, "generated_when") == "a" ? "always" : "by_default";
  col.not_null = true;
  if (!sf.data_type) {
    sf.data_type = col.type;
  }
  if (seq.empty()) {
    seq = choose_name(table_name, colname, "seq", [&](const std::string& n) {
      return m_catalog.relation_name_taken(schema, n, false);
    });
  }
  sf.line = static_cast<int64_t>(ctx.line);
  sf.schema_name = schema;
  sf.name = seq;
  sf.owned_by_schema = table_schema;
  sf.owned_by_table = table_name;
  sf.owned_by_column = colname;
  sf.identity = true;
  store::RelationFact sr;
  sr.line = static_cast<int64_t>(ctx.line);
  sr.schema_name = schema;
  sr.name = seq;
  sr.kind = "sequence";
  m_catalog.add_sequence(sf);
  m_catalog.add_relation(sr);  // invalidates rel and col
}

void DdlApplier::add_table_constraint(RelationModel& rel_in, const Json& c, Ctx& ctx,
                                      const std::vector<std::string>& column_names, bool recurse) {
  const std::string schema = rel_in.fact.schema_name;
  const std::string table = rel_in.fact.name;
  const QualifiedName key{schema, table};
  std::string t = str(c, "contype");
  std::string conname = str(c, "conname");
  int loc = static_cast<int>(num(c, "location", -1));
  std::vector<std::string> keys = strings(field(c, "keys"));
  if (keys.empty()) {
    keys = column_names;
  }
  auto constraint_taken = [&](const std::string& n) {
    bool taken = false;
    m_catalog.for_each_constraint([&](const store::ConstraintFact& other) {
      taken = taken || (other.schema_name == schema && other.name == n);
    });
    return taken;
  };
  auto relation_or_constraint_taken = [&](const std::string& n) {
    return m_catalog.relation_name_taken(schema, n, true);
  };
  size_t stop = std::string::npos;
  std::string definition = constraint_text(ctx.st.text, loc, stop);

  if (t == "CONSTR_ATTR_DEFERRABLE" || t == "CONSTR_ATTR_DEFERRED") {
    // Applies to the constraint just before it on the same column.
    if (store::ConstraintFact* last = m_catalog.last_constraint_of({schema, table})) {
      last->deferrable = true;
    }
    return;
  }

  store::ConstraintFact cf;
  cf.line = static_cast<int64_t>(ctx.line);
  cf.schema_name = schema;
  cf.table_name = table;
  cf.deferrable = flag(c, "deferrable");
  cf.validated = !flag(c, "skip_validation");
  cf.definition = definition;

  if (t == "CONSTR_PRIMARY" || t == "CONSTR_UNIQUE" || t == "CONSTR_EXCLUSION") {
    bool primary = t == "CONSTR_PRIMARY";
    std::vector<std::string> include = strings(field(c, "including"));
    std::string method = str(c, "access_method");
    if (method.empty()) {
      method = "btree";
    }
    std::string index_name = str(c, "indexname");
    std::vector<std::string> exclusion_cols;
    if (t == "CONSTR_EXCLUSION") {
      std::string inner = parenthesized_after(ctx.st.text, loc >= 0 ? loc : 0);
      for (const auto& piece : split_top_level(inner)) {
        size_t w = find_keyword(piece, "with");
        exclusion_cols.push_back(text::squash_space(piece.substr(0, w)));
      }
      for (const Json& ex : field(c, "exclusions")) {
        const Json& elem = ex.is_object() ? field(field(ex, "List"), "items") : ex;
        if (elem.is_array() && !elem.empty()) {
          const Json& ie = node_body(elem[0]);
          std::string n = str(ie, "name");
          keys.push_back(n.empty() ? figure_colname(field(ie, "expr")) : n);
        }
      }
    }
    if (conname.empty() && !index_name.empty()) {
      conname = index_name;  // ADD CONSTRAINT ... USING INDEX keeps the index name
    }
    if (conname.empty()) {
      std::vector<std::string> names = keys;
      names.insert(names.end(), include.begin(), include.end());
      for (auto& n : names) {
        if (n.empty()) {
          n = "expr";
        }
      }
      conname =
          primary ? choose_name(table, "", "pkey", relation_or_constraint_taken)
                  : choose_name(table, name_addition(names), t == "CONSTR_UNIQUE" ? "key" : "excl",
                                relation_or_constraint_taken);
    }
    if (m_catalog.constraint(schema, table, conname)) {
      m_warn(ctx.line, "duplicate-object",
             fmt::format("constraint {} on {} is added twice", conname, qualified(schema, table)));
      return;
    }
    cf.name = conname;
    cf.kind = primary ? "p" : t == "CONSTR_UNIQUE" ? "u" : "x";
    cf.columns = t == "CONSTR_EXCLUSION" ? text::join(exclusion_cols, ", ") : join_idents(keys);
    if (RelationModel* r = m_catalog.relation(key); r && primary) {
      for (const auto& k : keys) {
        if (auto* col = r->column(k)) {
          col->not_null = true;
        }
      }
    }
    std::string cols_text = *cf.columns;
    m_catalog.add_constraint(cf);
    emit_constraint(cf, ctx);
    if (!index_name.empty()) {
      // USING INDEX: the existing index becomes the constraint's, renamed to it.
      if (auto* idx = m_catalog.index({schema, index_name})) {
        idx->name = conname;
        idx->constraint_name = conname;
        idx->is_primary = primary;
        return;
      }
    }
    store::IndexFact idx;
    idx.line = static_cast<int64_t>(ctx.line);
    idx.schema_name = schema;
    idx.table_name = table;
    idx.name = conname;
    idx.is_unique = t != "CONSTR_EXCLUSION";
    idx.is_primary = primary;
    idx.method = method;
    idx.columns = cols_text;
    if (!include.empty()) {
      idx.include_columns = join_idents(include);
    }
    if (!field(c, "where_clause").is_null()) {
      idx.predicate = expression_text(ctx.st.text, field(c, "where_clause"));
    }
    idx.constraint_name = conname;
    idx.definition =
        fmt::format("CREATE {}INDEX {} ON {} USING {} ({}){}", idx.is_unique ? "UNIQUE " : "",
                    quote_ident(conname), qualified(schema, table), method, cols_text,
                    include.empty() ? "" : " INCLUDE (" + *idx.include_columns + ")");
    m_catalog.add_index(idx);
    {
      std::vector<std::string> colnames = keys;
      colnames.insert(colnames.end(), include.begin(), include.end());
      m_catalog.set_index_colnames({schema, conname}, colnames);
    }
    if (recurse) {
      for (RelationModel* child : partitions_of(key)) {
        clone_index_to_partition(*m_catalog.index({schema, conname}), *child, ctx);
      }
    }
    return;
  }

  if (t == "CONSTR_CHECK") {
    if (conname.empty()) {
      std::set<std::string> refs;
      column_refs(field(c, "raw_expr"), refs);
      std::string col = refs.size() == 1 ? *refs.begin() : std::string();
      conname = choose_name(table, col, "check", constraint_taken);
    }
    if (m_catalog.constraint(schema, table, conname)) {
      m_warn(ctx.line, "duplicate-object",
             fmt::format("constraint {} on {} is added twice", conname, qualified(schema, table)));
      return;
    }
    cf.name = conname;
    cf.kind = "c";
    if (flag(c, "is_no_inherit") && definition.find("NO INHERIT") == std::string::npos) {
      cf.definition = definition + " NO INHERIT";
    }
    cf.validated = !flag(c, "skip_validation");
    m_catalog.add_constraint(cf);
    emit_constraint(cf, ctx);
    if (recurse && !flag(c, "is_no_inherit")) {
      for (RelationModel* child : m_catalog.children_of(key)) {
        if (!m_catalog.constraint(child->fact.schema_name, child->fact.name, conname)) {
          store::ConstraintFact copy = cf;
          copy.schema_name = child->fact.schema_name;
          copy.table_name = child->fact.name;
          copy.inherited = true;
          m_catalog.add_constraint(copy);
        }
      }
    }
    return;
  }

  if (t == "CONSTR_FOREIGN") {
    std::vector<std::string> fk = strings(field(c, "fk_attrs"));
    if (fk.empty()) {
      fk = column_names;
    }
    std::vector<std::string> pk = strings(field(c, "pk_attrs"));
    const Json& pkt = field(c, "pktable");
    auto ref = resolve_or_guess(pkt);
    if (conname.empty()) {
      conname = choose_name(table, name_addition(fk), "fkey", constraint_taken);
    }
    if (m_catalog.constraint(schema, table, conname)) {
      m_warn(ctx.line, "duplicate-object",
             fmt::format("constraint {} on {} is added twice", conname, qualified(schema, table)));
      return;
    }
    cf.name = conname;
    cf.kind = "f";
    cf.columns = join_idents(fk);
    if (ref) {
      cf.ref_schema = ref->first;
      cf.ref_table = ref->second;
    }
    if (pk.empty() && ref) {
      // REFERENCES t without columns: the referenced table's primary key.
      for (const store::ConstraintFact* other : m_catalog.constraints_of(*ref)) {
        if (other->kind == "p") {
          cf.ref_columns = other->columns;
        }
      }
    } else {
      cf.ref_columns = join_idents(pk);
    }
    cf.on_update = fk_action(str(c, "fk_upd_action"));
    cf.on_delete = fk_action(str(c, "fk_del_action"));
    cf.validated = !flag(c, "skip_validation");
    m_catalog.add_constraint(cf);
    emit_constraint(cf, ctx);
    // Foreign keys of a partitioned table are cloned onto its partitions.
    if (recurse) {
      RelationModel* r = m_catalog.relation(key);
      if (r && r->fact.kind == "partitioned_table") {
        std::vector<RelationModel*> stack = m_catalog.children_of(key);
        while (!stack.empty()) {
          RelationModel* child = stack.back();
          stack.pop_back();
          if (!child->fact.parent_name) {
            continue;
          }
          if (!m_catalog.constraint(child->fact.schema_name, child->fact.name, conname)) {
            store::ConstraintFact copy = cf;
            copy.schema_name = child->fact.schema_name;
            copy.table_name = child->fact.name;
            copy.inherited = true;
            m_catalog.add_constraint(copy);
          }
          for (auto* grandchild :
               m_catalog.children_of({child->fact.schema_name, child->fact.name})) {
            stack.push_back(grandchild);
          }
        }
      }
    }
    return;
  }
  // NOT NULL / DEFAULT / GENERATED / IDENTITY are column properties, handled by add_column.
}

void DdlApplier::attach_partition(RelationModel& parent, RelationModel& child,
                                  const std::string& bound, Ctx& ctx) {
  QualifiedName parent_key{parent.fact.schema_name, parent.fact.name};
  QualifiedName child_key{child.fact.schema_name, child.fact.name};
  child.fact.parent_schema = parent_key.first;
  child.fact.parent_name = parent_key.second;
  child.fact.partition_bound = bound;
  child.parents.push_back(parent_key);
  for (auto& col : child.columns) {
    if (auto* pc = parent.column(col.name)) {
      col.inherited = true;
      col.not_null = col.not_null || pc->not_null;
    }
  }
  std::vector<store::ConstraintFact> copies;
  for (auto* c : m_catalog.constraints_of(parent_key)) {
    bool check =
        c->kind == "c" && c->definition.value_or("").find("NO INHERIT") == std::string::npos;
    if (!(check || c->kind == "f")) {
      continue;
    }
    if (auto* existing = m_catalog.constraint(child_key.first, child_key.second, c->name)) {
      existing->inherited = true;
      continue;
    }
    store::ConstraintFact copy = *c;
    copy.schema_name = child_key.first;
    copy.table_name = child_key.second;
    copy.inherited = true;
    copy.line = static_cast<int64_t>(ctx.line);
    copies.push_back(copy);
  }
  for (auto& c : copies) {
    m_catalog.add_constraint(c);
  }
  if (RelationModel* c = m_catalog.relation(child_key)) {
    clone_indexes_to_new_partition(parent_key, *c, ctx);
  }
}

void DdlApplier::create_sequence(const Json& s, Ctx& ctx) {
  const Json& rv = field(s, "sequence");
  std::string schema = str(rv, "schemaname");
  bool explicit_schema = !schema.empty();
  ctx.schema_explicit = explicit_schema;
  std::string name = str(rv, "relname");
  if (schema.empty()) {
    auto cs = creation_schema();
    if (!cs) {
      m_warn(ctx.line, "no-creation-schema",
             fmt::format("CREATE SEQUENCE {}: no schema of the search_path exists", name));
      return;
    }
    schema = *cs;
  }
  if (m_catalog.relation({schema, name})) {
    if (!flag(s, "if_not_exists")) {
      m_warn(ctx.line, "duplicate-object",
             fmt::format("relation {} is created twice", qualified(schema, name)));
    }
    return;
  }
  store::SequenceFact sf;
  sf.line = static_cast<int64_t>(ctx.line);
  sf.schema_name = schema;
  sf.name = name;
  std::vector<std::string> owned;
  for (const Json& o : field(s, "options")) {
    const Json& d = node_body(o);
    std::string opt = str(d, "defname");
    if (opt == "as") {
      sf.data_type = format_type(node_body(field(d, "arg")), type_resolver());
    } else if (opt == "start") {
      sf.start_value = def_int(d);
    } else if (opt == "increment") {
      sf.increment = def_int(d);
    } else if (opt == "minvalue") {
      sf.min_value = def_int(d);
    } else if (opt == "maxvalue") {
      sf.max_value = def_int(d);
    } else if (opt == "cache") {
      sf.cache = def_int(d);
    } else if (opt == "cycle") {
      sf.cycle = flag(node_body(field(d, "arg")), "boolval");
    } else if (opt == "owned_by") {
      owned = strings(field(node_body(field(d, "arg")), "items"));
    }
  }
  store::RelationFact rf;
  rf.line = static_cast<int64_t>(ctx.line);
  rf.schema_name = schema;
  rf.name = name;
  rf.kind = "sequence";
  rf.persistence = persistence_word(str(rv, "relpersistence"));
  m_catalog.add_relation(rf);
  m_catalog.add_sequence(sf);
  emit(Effect{"create", "sequence", schema, explicit_schema, {}, name, {}, {}, 0}, ctx);
  if (owned.size() >= 2) {
    std::string col = owned.back();
    std::string table = owned[owned.size() - 2];
    std::string tschema = owned.size() >= 3 ? owned[owned.size() - 3] : "";
    auto tk = resolve_relation(tschema, table);
    if (auto* seq = m_catalog.sequence({schema, name}); seq && tk) {
      seq->owned_by_schema = tk->first;
      seq->owned_by_table = tk->second;
      seq->owned_by_column = col;
    }
  }
}

void DdlApplier::alter_sequence(const Json& s, Ctx& ctx) {
  const Json& rv = field(s, "sequence");
  auto key = resolve_relation(str(rv, "schemaname"), str(rv, "relname"));
  store::SequenceFact* seq = key ? m_catalog.sequence(*key) : nullptr;
  if (!seq) {
    if (!flag(s, "missing_ok")) {
      m_warn(ctx.line, "unknown-object",
             fmt::format("ALTER SEQUENCE {}: a sequence this input does not create",
                         str(rv, "relname")));
    }
    return;
  }
  for (const Json& o : field(s, "options")) {
    const Json& d = node_body(o);
    std::string opt = str(d, "defname");
    if (opt == "owned_by") {
      auto owned = strings(field(node_body(field(d, "arg")), "items"));
      if (owned.size() == 1 && text::iequals(owned[0], "none")) {
        seq->owned_by_schema.reset();
        seq->owned_by_table.reset();
        seq->owned_by_column.reset();
      } else if (owned.size() >= 2) {
        std::string col = owned.back();
        std::string table = owned[owned.size() - 2];
        std::string tschema = owned.size() >= 3 ? owned[owned.size() - 3] : "";
        auto tk = resolve_relation(tschema, table);
        if (!tk) {
          m_warn(ctx.line, "unknown-object",
                 fmt::format("ALTER SEQUENCE ... OWNED BY {}: a table this input does not create",
                             table));
          continue;
        }
        seq->owned_by_schema = tk->first;
        seq->owned_by_table = tk->second;
        seq->owned_by_column = col;
      }
    } else if (opt == "as") {
      seq->data_type = format_type(node_body(field(d, "arg")), type_resolver());
    } else if (opt == "start") {
      seq->start_value = def_int(d);
    } else if (opt == "increment") {
      seq->increment = def_int(d);
    } else if (opt == "minvalue") {
      seq->min_value = def_int(d);
    } else if (opt == "maxvalue") {
      seq->max_value = def_int(d);
    } else if (opt == "cache") {
      seq->cache = def_int(d);
    } else if (opt == "cycle") {
      seq->cycle = flag(node_body(field(d, "arg")), "boolval");
    }
  }
}

void DdlApplier::create_view(const Json& s, Ctx& ctx) {
  const Json& rv = field(s, "view");
  std::string schema = str(rv, "schemaname");
  bool explicit_schema = !schema.empty();
  ctx.schema_explicit = explicit_schema;
  std::string name = str(rv, "relname");
  if (schema.empty()) {
    auto cs = creation_schema();
    if (!cs) {
      m_warn(ctx.line, "no-creation-schema",
             fmt::format("CREATE VIEW {}: no schema of the search_path exists", name));
      return;
    }
    schema = *cs;
  }
  if (auto* existing = m_catalog.relation({schema, name})) {
    if (flag(s, "replace")) {
      existing->fact.definition = unquote_needless(text::squash_space(ctx.st.text));
    } else {
      m_warn(ctx.line, "duplicate-object",
             fmt::format("relation {} is created twice", qualified(schema, name)));
    }
    return;
  }
  store::RelationFact rf;
  rf.line = static_cast<int64_t>(ctx.line);
  rf.schema_name = schema;
  rf.name = name;
  rf.kind = "view";
  rf.persistence = persistence_word(str(rv, "relpersistence"));
  rf.definition = unquote_needless(text::squash_space(ctx.st.text));
  m_catalog.add_relation(rf);
  emit(Effect{"create", "view", schema, explicit_schema, {}, name, {}, {}, 0}, ctx);
}

void DdlApplier::create_table_as(const Json& s, Ctx& ctx) {
  const Json& rv = field(field(s, "into"), "rel");
  std::string schema = str(rv, "schemaname");
  bool explicit_schema = !schema.empty();
  ctx.schema_explicit = explicit_schema;
  std::string name = str(rv, "relname");
  bool matview = str(s, "objtype") == "OBJECT_MATVIEW";
  if (schema.empty()) {
    auto cs = creation_schema();
    if (!cs) {
      m_warn(ctx.line, "no-creation-schema",
             fmt::format("CREATE ... AS {}: no schema of the search_path exists", name));
      return;
    }
    schema = *cs;
  }
  if (m_catalog.relation({schema, name})) {
    if (!flag(s, "if_not_exists")) {
      m_warn(ctx.line, "duplicate-object",
             fmt::format("relation {} is created twice", qualified(schema, name)));
    }
    return;
  }
  store::RelationFact rf;
  rf.line = static_cast<int64_t>(ctx.line);
  rf.schema_name = schema;
  rf.name = name;
  rf.kind = matview ? "materialized_view" : "table";
  rf.persistence = persistence_word(str(rv, "relpersistence"));
  rf.definition = unquote_needless(text::squash_space(ctx.st.text));
  m_catalog.add_relation(rf);
  emit(Effect{"create",
              matview ? "materialized_view" : "table",
              schema,
              explicit_schema,
              {},
              name,
              {},
              {},
              0},
       ctx);
  if (!matview) {
    m_warn(ctx.line, "columns-unknown",
           fmt::format("CREATE TABLE {} AS SELECT: its columns come from a query and are not "
                       "recorded",
                       qualified(schema, name)));
  }
}

void DdlApplier::create_index(const Json& s, Ctx& ctx) {
  const Json& rv = field(s, "relation");
  auto table = resolve_relation(str(rv, "schemaname"), str(rv, "relname"));
  if (!table) {
    table = implicit_relation(rv, ctx);
  }
  if (!table) {
    m_warn(ctx.line, "unknown-object",
           fmt::format("CREATE INDEX on {}: a table this input does not create; not recorded",
                       str(rv, "relname")));
    return;
  }
  const auto& [schema, tname] = *table;
  ctx.schema_explicit = !str(rv, "schemaname").empty();
  std::string name = str(s, "idxname");
  std::string method = str(s, "accessMethod");
  if (method.empty()) {
    method = "btree";
  }
  std::string_view text = ctx.st.text;
  int rloc = static_cast<int>(num(rv, "location", 0));
  size_t open = std::string::npos;
  size_t close = std::string::npos;
  std::string inner = parenthesized_after(text, rloc >= 0 ? rloc : 0, &open, &close);
  std::vector<std::string> elements = split_top_level(inner);
  std::vector<std::string> include;
  if (close != std::string::npos) {
    size_t inc = find_keyword(text, "include", close);
    if (inc != std::string::npos) {
      include = split_top_level(parenthesized_after(text, inc));
    }
  }
  // ChooseIndexColumnNames: what the index is named from (here, and on partitions).
  std::vector<std::string> colnames;
  {
    auto add_name = [&](const Json& ie) {
      std::string n = str(ie, "indexcolname");
      if (n.empty()) {
        n = str(ie, "name");
      }
      if (n.empty()) {
        n = figure_colname(field(ie, "expr"));
      }
      if (n.empty()) {
        n = "expr";
      }
      std::string candidate = n;
      for (int k = 1; std::find(colnames.begin(), colnames.end(), candidate) != colnames.end();
           ++k) {
        candidate = n + std::to_string(k);
      }
      colnames.push_back(candidate);
    };
    for (const Json& p : field(s, "indexParams")) {
      add_name(node_body(p));
    }
    for (const Json& p : field(s, "indexIncludingParams")) {
      add_name(node_body(p));
    }
  }
  if (name.empty()) {
    // clang before 16 cannot capture a structured binding: capture a reference to it.
    name = choose_name(tname, name_addition(colnames), "idx",
                       [&, &in_schema = schema](const std::string& n) {
                         return m_catalog.relation_name_taken(in_schema, n, false);
                       });
  }
  if (m_catalog.index({schema, name}) || m_catalog.relation({schema, name})) {
    if (!flag(s, "if_not_exists")) {
      m_warn(ctx.line, "duplicate-object",
             fmt::format("index {} is created twice", qualified(schema, name)));
    }
    return;
  }
  store::IndexFact idx;
  idx.line = static_cast<int64_t>(ctx.line);
  idx.schema_name = schema;
  idx.table_name = tname;
  idx.name = name;
  idx.is_unique = flag(s, "unique");
  idx.is_primary = flag(s, "primary");
  idx.method = method;
  idx.columns = unquote_needless(text::join(elements, ", "));
  if (!include.empty()) {
    idx.include_columns = text::join(include, ", ");
  }
  if (!field(s, "whereClause").is_null()) {
    idx.predicate = expression_text(text, field(s, "whereClause"));
  }
  std::string def(text::trim(text));
  while (!def.empty() &&
         (def.back() == ';' || std::isspace(static_cast<unsigned char>(def.back())))) {
    def.pop_back();
  }
  idx.definition = unquote_needless(text::squash_space(def));
  m_catalog.add_index(idx);
  m_catalog.set_index_colnames({schema, name}, colnames);
  emit_index(idx, ctx);
  // Without ONLY, an index on a partitioned table is given to every partition.
  if (flag(rv, "inh")) {
    for (RelationModel* child : partitions_of({schema, tname})) {
      clone_index_to_partition(*m_catalog.index({schema, name}), *child, ctx);
    }
  }
}

std::vector<RelationModel*> DdlApplier::partitions_of(const QualifiedName& table) {
  std::vector<RelationModel*> out;
  const RelationModel* parent = m_catalog.relation(table);
  if (!parent || parent->fact.kind != "partitioned_table") {
    return out;
  }
  for (RelationModel* child : m_catalog.children_of(table)) {
    if (child->fact.parent_name == table.second && child->fact.parent_schema == table.first) {
      out.push_back(child);
    }
  }
  return out;
}

// What DefineIndex does for each partition when it recurses, and what attaching a partition
// does for each index of the parent: an equivalent index of the partition that is not yet
// attached to another parent index is reused; otherwise a new one is made, named from the
// partition and the index columns (ChooseIndexName), with its PRIMARY KEY / UNIQUE
// constraint when the parent index has one. Sub-partitions get the same, recursively.
void DdlApplier::clone_index_to_partition(const store::IndexFact& parent_in,
                                          RelationModel& child_in, Ctx& ctx) {
  const store::IndexFact parent = parent_in;  // the catalog may move while we add
  const QualifiedName child{child_in.fact.schema_name, child_in.fact.name};
  const QualifiedName parent_key{parent.schema_name, parent.name};
  std::optional<QualifiedName> equivalent;
  m_catalog.for_each_index([&](const store::IndexFact& existing) {
    QualifiedName key{existing.schema_name, existing.name};
    if (!equivalent && existing.schema_name == child.first && existing.table_name == child.second &&
        existing.columns == parent.columns && existing.is_unique == parent.is_unique &&
        existing.method == parent.method && existing.predicate == parent.predicate &&
        existing.include_columns == parent.include_columns &&
        existing.constraint_name.has_value() == parent.constraint_name.has_value() &&
        m_catalog.attached_indexes.count(key) == 0) {
      equivalent = key;
    }
  });
  if (equivalent) {
    m_catalog.attached_indexes.insert(*equivalent);
    return;
  }
  std::vector<std::string> colnames =
      m_catalog.index_colnames(parent_key).value_or(std::vector<std::string>{});
  store::IndexFact idx = parent;
  idx.schema_name = child.first;
  idx.table_name = child.second;
  idx.line = static_cast<int64_t>(ctx.line);
  if (parent.constraint_name) {
    const store::ConstraintFact* pc =
        m_catalog.constraint(parent.schema_name, parent.table_name, *parent.constraint_name);
    idx.name = choose_name(child.second, parent.is_primary ? "" : name_addition(colnames),
                           parent.is_primary ? "pkey" : "key", [&](const std::string& n) {
                             return m_catalog.relation_name_taken(child.first, n, true);
                           });
    idx.constraint_name = idx.name;
    if (pc) {
      store::ConstraintFact cc = *pc;
      cc.schema_name = child.first;
      cc.table_name = child.second;
      cc.name = idx.name;
      cc.inherited = true;
      cc.line = static_cast<int64_t>(ctx.line);
      m_catalog.add_constraint(cc);
    }
  } else {
    idx.name = choose_name(child.second, name_addition(colnames), "idx", [&](const std::string& n) {
      return m_catalog.relation_name_taken(child.first, n, false);
    });
  }
  idx.definition = fmt::format("CREATE {}INDEX {} ON {} USING {} ({})",
                               idx.is_unique ? "UNIQUE " : "", quote_ident(idx.name),
                               qualified(child.first, child.second), idx.method, idx.columns);
  m_catalog.add_index(idx);
  QualifiedName new_key{idx.schema_name, idx.name};
  m_catalog.set_index_colnames(new_key, colnames);
  m_catalog.attached_indexes.insert(new_key);
  for (RelationModel* grandchild : partitions_of(child)) {
    clone_index_to_partition(*m_catalog.index(new_key), *grandchild, ctx);
  }
}

// A new partition (PARTITION OF, ATTACH PARTITION) receives the parent's indexes.
void DdlApplier::clone_indexes_to_new_partition(const QualifiedName& parent,
                                                RelationModel& child_in, Ctx& ctx) {
  const QualifiedName child{child_in.fact.schema_name, child_in.fact.name};
  std::vector<store::IndexFact> parents;
  m_catalog.for_each_index([&](const store::IndexFact& idx) {
    if (idx.schema_name == parent.first && idx.table_name == parent.second) {
      parents.push_back(idx);
    }
  });
  for (const auto& idx : parents) {
    if (RelationModel* c = m_catalog.relation(child)) {
      clone_index_to_partition(idx, *c, ctx);
    }
  }
}

void DdlApplier::alter_table(const Json& s, Ctx& ctx) {
  const Json& rv = field(s, "relation");
  std::string objtype = str(s, "objtype");
  auto key = resolve_relation(str(rv, "schemaname"), str(rv, "relname"));
  bool only = !flag(rv, "inh");
  const Json& cmds = field(s, "cmds");

  if (objtype == "OBJECT_INDEX") {
    // ALTER INDEX parent ATTACH PARTITION child: links two existing indexes.
    return;
  }
  if (!key && objtype == "OBJECT_TABLE") {
    key = implicit_relation(rv, ctx);
  }
  if (!key) {
    // Only changes of shape matter; a data-only dump's DISABLE TRIGGER ALL, OWNER TO and
    // the like on tables it does not create are expected.
    static const std::set<std::string> k_shape = {"AT_AddColumn",
                                                  "AT_AddColumnRecurse",
                                                  "AT_ColumnDefault",
                                                  "AT_SetNotNull",
                                                  "AT_DropNotNull",
                                                  "AT_AddConstraint",
                                                  "AT_AddConstraintRecurse",
                                                  "AT_DropConstraint",
                                                  "AT_DropColumn",
                                                  "AT_AlterColumnType",
                                                  "AT_AddIdentity",
                                                  "AT_AttachPartition",
                                                  "AT_DetachPartition",
                                                  "AT_AddInherit"};
    bool relevant = false;
    for (const Json& cn : cmds) {
      relevant = relevant || k_shape.count(str(node_body(cn), "subtype")) > 0;
    }
    if (relevant && !flag(s, "missing_ok")) {
      m_warn(ctx.line, "unknown-object",
             fmt::format("ALTER {} {}: a relation this input does not create; not applied",
                         relation_word(objtype), str(rv, "relname")));
    }
    return;
  }
  bool explicit_schema = !str(rv, "schemaname").empty();
  ctx.schema_explicit = explicit_schema;
  for (const Json& cn : cmds) {
    const Json& cmd = node_body(cn);
    std::string sub = str(cmd, "subtype");
    RelationModel* rel = m_catalog.relation(*key);
    if (!rel) {
      return;
    }
    std::string colname = str(cmd, "name");
    if (sub == "AT_AddColumn" || sub == "AT_AddColumnRecurse") {
      const Json& cd = node_body(field(cmd, "def"));
      add_column(*rel, cd, ctx, flag(cmd, "missing_ok"));
      std::vector<const Json*> later;
      for (const Json& c : field(cd, "constraints")) {
        RelationModel* r = m_catalog.relation(*key);
        add_table_constraint(*r, node_body(c), ctx, {str(cd, "colname")}, true);
      }
      // Columns added to a parent are added to its children too.
      for (RelationModel* child : m_catalog.children_of(*key)) {
        if (!child->column(str(cd, "colname"))) {
          RelationModel* parent = m_catalog.relation(*key);
          store::ColumnFact copy = *parent->column(str(cd, "colname"));
          copy.schema_name = child->fact.schema_name;
          copy.table_name = child->fact.name;
          copy.ordinal = static_cast<int64_t>(child->columns.size()) + 1;
          copy.inherited = true;
          copy.identity.reset();
          copy.is_serial = false;
          child->columns.push_back(copy);
        }
      }
    } else if (sub == "AT_ColumnDefault") {
      auto* col = implicit_column(*key, colname);
      if (!col) {
        m_warn(ctx.line, "unknown-object",
               fmt::format("ALTER COLUMN {}: {} has no such column", colname,
                           qualified(key->first, key->second)));
        continue;
      }
      const Json& def = field(cmd, "def");
      if (def.is_null()) {
        col->default_expr.reset();
      } else {
        col->default_expr = default_text(def, ctx);
      }
      Effect e{"alter",
               "column",
               key->first,
               explicit_schema,
               key->second,
               colname,
               "default " + col->default_expr.value_or("dropped")};
      e.default_expr = col->default_expr.value_or("");
      emit(e, ctx);
    } else if (sub == "AT_SetNotNull" || sub == "AT_DropNotNull") {
      if (auto* col = implicit_column(*key, colname)) {
        col->not_null = sub == "AT_SetNotNull";
        Effect e{"alter",
                 "column",
                 key->first,
                 explicit_schema,
                 key->second,
                 colname,
                 col->not_null ? "set not null" : "drop not null"};
        e.not_null = col->not_null;
        emit(e, ctx);
      }
    } else if (sub == "AT_AddConstraint" || sub == "AT_AddConstraintRecurse") {
      add_table_constraint(*rel, node_body(field(cmd, "def")), ctx, {}, !only);
    } else if (sub == "AT_DropConstraint" || sub == "AT_DropConstraintRecurse") {
      if (!m_catalog.constraint(key->first, key->second, colname)) {
        if (m_implicit) {
          // A constraint an earlier migration made: the script removes it all the same.
          emit(Effect{"drop",
                      "constraint",
                      key->first,
                      explicit_schema,
                      key->second,
                      colname,
                      {},
                      {},
                      0},
               ctx);
          continue;
        }
        if (!flag(cmd, "missing_ok")) {
          m_warn(ctx.line, "unknown-object",
                 fmt::format("DROP CONSTRAINT {}: {} has no such constraint", colname,
                             qualified(key->first, key->second)));
        }
        continue;
      }
      m_catalog.drop_constraint(key->first, key->second, colname);
      for (RelationModel* child : m_catalog.children_of(*key)) {
        auto* cc = m_catalog.constraint(child->fact.schema_name, child->fact.name, colname);
        if (cc && cc->inherited) {
          m_catalog.drop_constraint(child->fact.schema_name, child->fact.name, colname);
        }
      }
      emit(
          Effect{
              "drop", "constraint", key->first, explicit_schema, key->second, colname, {}, {}, 0},
          ctx);
    } else if (sub == "AT_DropColumn" || sub == "AT_DropColumnRecurse") {
      implicit_column(*key, colname);
      rel = m_catalog.relation(*key);
      auto it = std::find_if(rel->columns.begin(), rel->columns.end(),
                             [&](const auto& c) { return c.name == colname; });
      if (it == rel->columns.end()) {
        if (!flag(cmd, "missing_ok")) {
          m_warn(ctx.line, "unknown-object",
                 fmt::format("DROP COLUMN {}: {} has no such column", colname,
                             qualified(key->first, key->second)));
        }
        continue;
      }
      rel->columns.erase(it);
      // Positions keep their numbers in the catalog (attnum); the dropped one is a gap.
      emit(Effect{"drop", "column", key->first, explicit_schema, key->second, colname, {}, {}, 0},
           ctx);
      std::string quoted = quote_ident(colname);
      std::vector<std::string> doomed;
      for (auto* c : m_catalog.constraints_of(*key)) {
        const std::string columns = c->columns.value_or("");  // split() gives views into it
        for (auto piece : text::split(columns, ',')) {
          if (text::trim(piece) == quoted) {
            doomed.push_back(c->name);
          }
        }
      }
      for (const auto& name : doomed) {
        m_catalog.drop_constraint(key->first, key->second, name);
      }
      std::vector<std::string> doomed_idx;
      m_catalog.for_each_index([&](const store::IndexFact& idx) {
        if (idx.schema_name == key->first && idx.table_name == key->second) {
          for (auto piece : split_top_level(idx.columns)) {
            if (piece == quoted || piece == colname) {
              doomed_idx.push_back(idx.name);
            }
          }
        }
      });
      for (const auto& name : doomed_idx) {
        m_catalog.drop_index({key->first, name});
      }
    } else if (sub == "AT_AlterColumnType") {
      if (auto* col = implicit_column(*key, colname)) {
        col->type = format_type(field(node_body(field(cmd, "def")), "typeName"), type_resolver(),
                                ctx.st.text);
        Effect e{"alter",     "column", key->first,         explicit_schema,
                 key->second, colname,  "type " + col->type};
        e.type = col->type;
        // Without COLLATE the column takes its new type's default collation.
        const Json& coll = field(node_body(field(cmd, "def")), "collClause");
        e.definition = coll.is_null()
                           ? std::string(k_default_collation)
                           : collate_clause(text::join(strings(field(coll, "collname")), "."));
        emit(e, ctx);
      }
    } else if (sub == "AT_AddIdentity") {
      if (auto* col = rel->column(colname)) {
        add_identity(*rel, *col, node_body(field(cmd, "def")), ctx);
      }
    } else if (sub == "AT_DropIdentity") {
      if (auto* col = rel->column(colname)) {
        col->identity.reset();
      }
    } else if (sub == "AT_AttachPartition") {
      const Json& pc = node_body(field(cmd, "def"));
      const Json& crv = field(pc, "name");
      auto child_key = resolve_relation(str(crv, "schemaname"), str(crv, "relname"));
      if (!child_key) {
        m_warn(ctx.line, "unknown-object",
               fmt::format("ATTACH PARTITION {}: a table this input does not create",
                           str(crv, "relname")));
        continue;
      }
      const Json& bound = field(pc, "bound");
      RelationModel* parent = m_catalog.relation(*key);
      RelationModel* child = m_catalog.relation(*child_key);
      attach_partition(*parent, *child, bound_text(bound, ctx.st.text), ctx);
    } else if (sub == "AT_DetachPartition") {
      const Json& crv = field(node_body(field(cmd, "def")), "name");
      if (auto ck = resolve_relation(str(crv, "schemaname"), str(crv, "relname"))) {
        RelationModel* child = m_catalog.relation(*ck);
        child->fact.parent_schema.reset();
        child->fact.parent_name.reset();
        child->fact.partition_bound.reset();
        std::erase(child->parents, *key);
      }
    } else if (sub == "AT_AddInherit") {
      const Json& prv = node_body(field(cmd, "def"));
      if (auto pk = resolve_relation(str(prv, "schemaname"), str(prv, "relname"))) {
        rel->parents.push_back(*pk);
        std::string parent = qualified(pk->first, pk->second);
        rel->fact.inherits = rel->fact.inherits ? *rel->fact.inherits + ", " + parent : parent;
      }
    } else if (sub == "AT_SetLogged" || sub == "AT_SetUnLogged") {
      rel->fact.persistence = sub == "AT_SetLogged" ? "permanent" : "unlogged";
    } else if (sub == "AT_ValidateConstraint" || sub == "AT_ValidateConstraintRecurse") {
      if (auto* c = m_catalog.constraint(key->first, key->second, colname)) {
        c->validated = true;
      }
    }
    // Ownership, storage, statistics, row security, triggers, replica identity, options:
    // not schema shape, nothing to record.
  }
}

void DdlApplier::rename(const Json& s, Ctx& ctx) {
  std::string type = str(s, "renameType");
  std::string newname = str(s, "newname");
  const Json& rv = field(s, "relation");
  if (type == "OBJECT_SCHEMA") {
    std::string old = str(s, "subname");
    if (!m_catalog.schema_exists(old)) {
      return;
    }
    m_warn(ctx.line, "unsupported-statement",
           fmt::format("ALTER SCHEMA {} RENAME TO {}: objects keep their old schema in the facts",
                       old, newname));
    return;
  }
  static const std::set<std::string> k_relation_types = {
      "OBJECT_TABLE",         "OBJECT_VIEW",  "OBJECT_MATVIEW", "OBJECT_SEQUENCE",
      "OBJECT_FOREIGN_TABLE", "OBJECT_INDEX", "OBJECT_COLUMN",  "OBJECT_TABCONSTRAINT"};
  if (!k_relation_types.count(type)) {
    // Functions, types, publications, ...: rename the inventory entry if there is one.
    std::string old = str(s, "subname");
    if (old.empty() && node_type(field(s, "object")) == "String") {
      old = str(node_body(field(s, "object")), "sval");
    }
    std::string kind = lower_enum(type, "OBJECT_");
    for (auto& o : m_catalog.objects) {
      if (o.kind == kind && o.name == old) {
        o.name = newname;
      }
    }
    return;
  }
  auto key = resolve_relation(str(rv, "schemaname"), str(rv, "relname"));
  if (!key && type != "OBJECT_INDEX") {
    key = implicit_relation(rv, ctx);
  }
  if (type == "OBJECT_INDEX") {
    std::string schema = str(rv, "schemaname");
    std::string name = str(rv, "relname");
    for (const auto& s2 : m_session.search_path) {
      if (!schema.empty()) {
        break;
      }
      if (m_catalog.index({s2, name})) {
        schema = s2;
      }
    }
    if (!m_catalog.index({schema, name}) && m_implicit) {
      // An index an earlier migration made (its table unknown here): renamed all the same.
      auto guess = schema.empty() ? creation_schema() : std::optional<std::string>(schema);
      if (guess) {
        emit(Effect{"rename",
                    "index",
                    *guess,
                    !str(rv, "schemaname").empty(),
                    {},
                    name,
                    {},
                    newname,
                    0},
             ctx);
      }
      return;
    }
    if (auto* idx = m_catalog.index({schema, name})) {
      if (idx->constraint_name) {
        if (auto* c =
                m_catalog.constraint(idx->schema_name, idx->table_name, *idx->constraint_name)) {
          c->name = newname;
          m_catalog.names_changed();
        }
        idx->constraint_name = newname;
      }
      idx->name = newname;
      emit(Effect{"rename",
                  "index",
                  schema,
                  !str(rv, "schemaname").empty(),
                  idx->table_name,
                  name,
                  {},
                  newname,
                  0},
           ctx);
    }
    return;
  }
  if (!key) {
    if (!flag(s, "missing_ok")) {
      m_warn(ctx.line, "unknown-object",
             fmt::format("ALTER ... RENAME on {}: a relation this input does not create",
                         str(rv, "relname")));
    }
    return;
  }
  bool explicit_schema = !str(rv, "schemaname").empty();
  ctx.schema_explicit = explicit_schema;
  if (type == "OBJECT_COLUMN") {
    std::string old = str(s, "subname");
    if (auto* col = implicit_column(*key, old)) {
      col->name = newname;
      std::string oq = quote_ident(old);
      std::string nq = quote_ident(newname);
      for (auto* c : m_catalog.constraints_of(*key)) {
        if (c->columns) {
          std::vector<std::string> parts;
          for (auto p : text::split(*c->columns, ',')) {
            std::string piece(text::trim(p));
            parts.push_back(piece == oq ? nq : piece);
          }
          c->columns = text::join(parts, ", ");
        }
      }
      emit(
          Effect{"rename", "column", key->first, explicit_schema, key->second, old, {}, newname, 0},
          ctx);
    }
    return;
  }
  if (type == "OBJECT_TABCONSTRAINT") {
    std::string old = str(s, "subname");
    auto* c = m_catalog.constraint(key->first, key->second, old);
    if (!c && !m_implicit) {
      return;
    }
    if (c) {
      c->name = newname;
      m_catalog.names_changed();
      if (auto* idx = m_catalog.index({key->first, old}); idx && idx->constraint_name == old) {
        idx->name = newname;
        idx->constraint_name = newname;
      }
    }
    // Without the catalog's knowledge (a migration replayed on its own), the constraint is
    // one an earlier migration made: renamed all the same.
    emit(
        Effect{
            "rename", "constraint", key->first, explicit_schema, key->second, old, {}, newname, 0},
        ctx);
    return;
  }
  // A table, view, sequence, ...
  m_catalog.rename_relation(*key, newname);
  emit(Effect{"rename",
              relation_word(type),
              key->first,
              explicit_schema,
              {},
              key->second,
              {},
              newname,
              0},
       ctx);
}

void DdlApplier::set_schema(const Json& s, Ctx& ctx) {
  std::string type = str(s, "objectType");
  const Json& rv = field(s, "relation");
  std::string newschema = str(s, "newschema");
  if (rv.is_null()) {
    return;  // types, functions, ...: not modelled
  }
  auto key = resolve_relation(str(rv, "schemaname"), str(rv, "relname"));
  if (!key && m_implicit) {
    // A relation an earlier migration made: it moves all the same.
    key = resolve_or_guess(rv);
    if (key && type == "OBJECT_TABLE") {
      key = implicit_relation(rv, ctx);
    }
    if (key && !m_catalog.relation(*key)) {
      emit(Effect{"set_schema",
                  relation_word(type),
                  key->first,
                  !str(rv, "schemaname").empty(),
                  {},
                  key->second,
                  {},
                  newschema,
                  0},
           ctx);
      return;
    }
  }
  if (!key) {
    if (!flag(s, "missing_ok")) {
      m_warn(ctx.line, "unknown-object",
             fmt::format("ALTER ... SET SCHEMA on {}: a relation this input does not create",
                         str(rv, "relname")));
    }
    return;
  }
  m_catalog.move_relation(*key, newschema);
  emit(Effect{"set_schema",
              relation_word(type),
              key->first,
              !str(rv, "schemaname").empty(),
              {},
              key->second,
              {},
              newschema,
              0},
       ctx);
}

void DdlApplier::drop(const Json& s, Ctx& ctx) {
  std::string type = str(s, "removeType");
  bool missing_ok = flag(s, "missing_ok");
  for (const Json& obj : field(s, "objects")) {
    std::vector<std::string> names;
    if (node_type(obj) == "List") {
      names = strings(field(node_body(obj), "items"));
    } else if (node_type(obj) == "String") {
      names = {str(node_body(obj), "sval")};
    } else {
      continue;  // functions (ObjectWithArgs), types (TypeName): not modelled
    }
    if (names.empty()) {
      continue;
    }
    if (type == "OBJECT_SCHEMA") {
      if (m_catalog.schema_exists(names[0])) {
        m_catalog.drop_schema(names[0]);
        emit(Effect{"drop", "schema", names[0], true, {}, names[0], {}, {}, 0}, ctx);
      }
      continue;
    }
    if (type == "OBJECT_EXTENSION") {
      // DROP EXTENSION name: one name, no schema. A migration's script (implicit) drops what
      // the database holds whether or not this input created it.
      const std::string& name = names[0];
      auto it = std::find_if(m_catalog.extensions.begin(), m_catalog.extensions.end(),
                             [&](const store::ExtensionFact& e) { return e.name == name; });
      if (it == m_catalog.extensions.end() && !m_implicit) {
        if (!missing_ok) {
          m_warn(ctx.line, "unknown-object",
                 fmt::format("DROP EXTENSION {}: an extension this input does not create", name));
        }
        continue;
      }
      if (it != m_catalog.extensions.end()) {
        m_catalog.extensions.erase(it);
      }
      emit(Effect{"drop", "extension", "", false, {}, name, {}, {}, 0}, ctx);
      continue;
    }
    std::string schema = names.size() >= 2 ? names[names.size() - 2] : "";
    std::string name = names.back();
    if (type == "OBJECT_INDEX") {
      std::string found;
      if (!schema.empty()) {
        found = m_catalog.index({schema, name}) ? schema : "";
      } else {
        for (const auto& sp : m_session.search_path) {
          if (m_catalog.index({sp, name})) {
            found = sp;
            break;
          }
        }
      }
      if (found.empty() && m_implicit) {
        auto guess = schema.empty() ? creation_schema() : std::optional<std::string>(schema);
        if (guess) {
          emit(Effect{"drop", "index", *guess, !schema.empty(), {}, name, {}, {}, 0}, ctx);
        }
        continue;
      }
      if (found.empty()) {
        if (!missing_ok) {
          m_warn(ctx.line, "unknown-object",
                 fmt::format("DROP INDEX {}: an index this input does not create", name));
        }
        continue;
      }
      std::string table = m_catalog.index({found, name})->table_name;
      m_catalog.drop_index({found, name});
      emit(Effect{"drop", "index", found, !schema.empty(), table, name, {}, {}, 0}, ctx);
      continue;
    }
    if (type == "OBJECT_TABLE" || type == "OBJECT_VIEW" || type == "OBJECT_MATVIEW" ||
        type == "OBJECT_SEQUENCE" || type == "OBJECT_FOREIGN_TABLE") {
      auto key = resolve_relation(schema, name);
      if (!key && m_implicit) {
        auto guess = schema.empty() ? creation_schema() : std::optional<std::string>(schema);
        if (guess) {
          emit(Effect{"drop", relation_word(type), *guess, !schema.empty(), {}, name, {}, {}, 0},
               ctx);
        }
        continue;
      }
      if (!key) {
        if (!missing_ok) {
          m_warn(ctx.line, "unknown-object",
                 fmt::format("DROP {} {}: a relation this input does not create",
                             relation_word(type), name));
        }
        continue;
      }
      m_catalog.drop_relation(*key);
      emit(
          Effect{
              "drop", relation_word(type), key->first, !schema.empty(), {}, key->second, {}, {}, 0},
          ctx);
    }
  }
}

void DdlApplier::comment(const Json& s, Ctx& ctx) {
  std::string objtype = str(s, "objtype");
  const Json& object = field(s, "object");
  store::CommentFact cf;
  cf.line = static_cast<int64_t>(ctx.line);
  cf.object_kind = lower_enum(objtype, "OBJECT_");
  if (field(s, "comment").is_string()) {
    cf.comment = str(s, "comment");
  }
  std::vector<std::string> names;
  std::string_view ot = node_type(object);
  if (ot == "List") {
    names = strings(field(node_body(object), "items"));
  } else if (ot == "String") {
    names = {str(node_body(object), "sval")};
  } else if (ot == "ObjectWithArgs") {
    names = strings(field(node_body(object), "objname"));
  } else if (ot == "TypeName") {
    names = strings(field(node_body(object), "names"));
  }
  if (names.empty()) {
    return;
  }
  bool has_sub = objtype == "OBJECT_COLUMN" || objtype == "OBJECT_TABCONSTRAINT" ||
                 objtype == "OBJECT_TRIGGER" || objtype == "OBJECT_RULE" ||
                 objtype == "OBJECT_POLICY";
  if (has_sub && names.size() >= 2) {
    cf.sub_name = names.back();
    names.pop_back();
  }
  cf.object_name = names.back();
  if (names.size() >= 2) {
    cf.schema_name = names[names.size() - 2];
  } else if (objtype == "OBJECT_TABLE" || objtype == "OBJECT_COLUMN" || objtype == "OBJECT_VIEW" ||
             objtype == "OBJECT_SEQUENCE" || objtype == "OBJECT_MATVIEW" ||
             objtype == "OBJECT_TABCONSTRAINT" || objtype == "OBJECT_FOREIGN_TABLE") {
    if (auto key = resolve_relation("", cf.object_name)) {
      cf.schema_name = key->first;
    }
  }
  m_catalog.comments.push_back(cf);
}

void DdlApplier::create_extension(const Json& s, Ctx& ctx) {
  store::ExtensionFact ef;
  ef.line = static_cast<int64_t>(ctx.line);
  ef.name = str(s, "extname");
  for (const Json& o : field(s, "options")) {
    const Json& d = node_body(o);
    std::string opt = str(d, "defname");
    if (opt == "schema") {
      ef.schema_name = const_text(field(d, "arg"));
    } else if (opt == "new_version") {
      ef.version = const_text(field(d, "arg"));
    }
  }
  for (const auto& e : m_catalog.extensions) {
    if (e.name == ef.name) {
      return;
    }
  }
  // The types the extension brings live in its schema (WITH SCHEMA, else where an
  // unqualified CREATE would go): unqualified column types may refer to them.
  std::optional<std::string> schema = ef.schema_name ? ef.schema_name : creation_schema();
  if (schema) {
    for (const auto& type : extension_types(ef.name)) {
      m_catalog.add_type(*schema, type);
    }
  }
  m_catalog.extensions.push_back(ef);
  emit(Effect{"create",
              "extension",
              ef.schema_name.value_or(""),
              ef.schema_name.has_value(),
              {},
              ef.name,
              {},
              {},
              0},
       ctx);
}

void DdlApplier::set_variable(const Json& s, Ctx& ctx) {
  std::string kind = str(s, "kind");
  std::string name = text::lower(str(s, "name"));
  std::vector<std::string> values;
  for (const Json& a : field(s, "args")) {
    if (auto v = const_text(a)) {
      values.push_back(*v);
    } else if (node_type(a) == "ColumnRef") {
      auto f = strings(field(node_body(a), "fields"));
      if (!f.empty()) {
        values.push_back(f.back());
      }
    }
  }
  bool reset = kind == "VAR_RESET" || kind == "VAR_SET_DEFAULT" || kind == "VAR_RESET_ALL";
  if (name == "search_path" || kind == "VAR_RESET_ALL") {
    if (reset) {
      m_session.search_path = {"$user", "public"};
    } else if (kind == "VAR_SET_VALUE") {
      // Each value is one schema name, taken verbatim: the lexer has already folded
      // unquoted identifiers, and a string constant names a schema exactly
      // (flatten_set_variable_args quotes it).
      m_session.search_path = values;
    }
  }
  if (name == "standard_conforming_strings" && !values.empty()) {
    m_session.standard_conforming_strings =
        !text::iequals(values[0], "off") && !text::iequals(values[0], "false");
  }
  if (name == "client_encoding" && !values.empty()) {
    m_session.client_encoding = values[0];
  }
  (void)ctx;
}

// UPDATE t SET c = v WHERE c IS NULL: the value a migration gives a column's NULLs before it
// makes the column NOT NULL (Django's AlterField to NOT NULL with a default runs exactly that
// between its SET DEFAULT and SET NOT NULL). Any other UPDATE changes rows, not the schema.
void DdlApplier::update(const Json& s, Ctx& ctx) {
  const Json& targets = field(s, "targetList");
  const Json& where = field(s, "whereClause");
  if (!targets.is_array() || targets.size() != 1 || node_type(where) != "NullTest" ||
      str(node_body(where), "nulltesttype") != "IS_NULL" || !field(s, "fromClause").empty() ||
      !field(s, "returningList").empty()) {
    return;
  }
  const Json& target = node_body(targets[0]);
  const Json& tested = field(node_body(where), "arg");
  std::string column = str(target, "name");
  if (column.empty() || !field(target, "indirection").empty() || node_type(tested) != "ColumnRef" ||
      strings(field(node_body(tested), "fields")) != std::vector<std::string>{column}) {
    return;
  }
  const Json& val = field(target, "val");
  std::string_view value_type = node_type(val);
  if (value_type != "A_Const" && value_type != "TypeCast" && value_type != "FuncCall") {
    return;  // a value from another column or a subquery: no constant fill
  }
  const Json& rv = field(s, "relation");
  auto key = resolve_relation(str(rv, "schemaname"), str(rv, "relname"));
  if (!key) {
    key = implicit_relation(rv, ctx);
  }
  if (!key || !implicit_column(*key, column)) {
    return;
  }
  // The value's text ends where the WHERE clause begins: cut at the tested column, then drop
  // the keyword (and any parenthesis) before it.
  const Json& at = field(node_body(tested), "location");
  std::string value = default_text(val, ctx,
                                   at.is_number_integer() && at.get<int64_t>() > 0
                                       ? static_cast<size_t>(at.get<int64_t>())
                                       : std::string::npos);
  auto trim_back = [&] {
    while (!value.empty() &&
           (std::isspace(static_cast<unsigned char>(value.back())) || value.back() == '(')) {
      value.pop_back();
    }
  };
  trim_back();
  if (value.size() >= 5 &&
      text::iequals(std::string_view(value).substr(value.size() - 5), "where")) {
    value.resize(value.size() - 5);
    trim_back();
  }
  if (value.empty()) {
    return;
  }
  Effect e{"fill", "column", key->first, !str(rv, "schemaname").empty(), key->second, column};
  e.fill_value = value;
  e.detail = "NULLs filled with " + *e.fill_value;
  emit(e, ctx);
}

void DdlApplier::select(const Json& s, Ctx& ctx) {
  for (const Json& t : field(s, "targetList")) {
    const Json& val = field(node_body(t), "val");
    if (node_type(val) != "FuncCall") {
      continue;
    }
    const Json& fc = node_body(val);
    auto fname = strings(field(fc, "funcname"));
    if (fname.empty()) {
      continue;
    }
    std::vector<std::optional<std::string>> args;
    for (const Json& a : field(fc, "args")) {
      args.push_back(const_text(a));
    }
    if (fname.back() == "set_config" && args.size() >= 2 && args[0] && args[1]) {
      std::string param = text::lower(*args[0]);
      if (param == "search_path") {
        std::vector<std::string> path;
        for (auto piece : text::split(*args[1], ',')) {
          path.emplace_back(piece);
        }
        set_search_path(path);
      } else if (param == "standard_conforming_strings") {
        m_session.standard_conforming_strings = !text::iequals(*args[1], "off");
      }
    } else if (fname.back() == "setval" && args.size() >= 2 && args[0] && args[1]) {
      auto parts = text::split(*args[0], '.');
      std::string schema = parts.size() >= 2 ? std::string(parts[parts.size() - 2]) : "";
      std::string name(parts.back());
      auto strip = [](std::string v) {
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
          return v.substr(1, v.size() - 2);
        }
        return text::lower(v);
      };
      schema = schema.empty() ? schema : strip(schema);
      name = strip(name);
      auto key = resolve_relation(schema, name);
      if (store::SequenceFact* seq = key ? m_catalog.sequence(*key) : nullptr) {
        try {
          seq->last_value = std::stoll(*args[1]);
        } catch (...) {
        }
        seq->is_called = args.size() >= 3 && args[2] ? (*args[2] == "false" ? 0 : 1) : 1;
      }
      // A data-only dump sets sequences its schema dump creates: nothing to say.
    }
  }
}

void DdlApplier::other_object(std::string_view type, const Json& s, Ctx& ctx) {
  store::ObjectFact of;
  of.line = static_cast<int64_t>(ctx.line);
  auto qualified_names = [&](const std::vector<std::string>& names) {
    if (names.empty()) {
      return false;
    }
    of.name = names.back();
    if (names.size() >= 2) {
      of.schema_name = names[names.size() - 2];
    }
    return true;
  };
  auto on_table = [&](const Json& rv) {
    if (auto key = resolve_or_guess(rv)) {
      of.schema_name = key->first;
      of.table_name = key->second;
    }
  };
  if (type == "CreateFunctionStmt") {
    of.kind = flag(s, "is_procedure") ? "procedure" : "function";
    qualified_names(strings(field(s, "funcname")));
  } else if (type == "DefineStmt") {
    of.kind = lower_enum(str(s, "kind"), "OBJECT_");
    qualified_names(strings(field(s, "defnames")));
  } else if (type == "CompositeTypeStmt") {
    of.kind = "type";
    const Json& rv = field(s, "typevar");
    of.name = str(rv, "relname");
    of.schema_name = str(rv, "schemaname");
  } else if (type == "CreateEnumStmt" || type == "CreateRangeStmt") {
    of.kind = "type";
    qualified_names(strings(field(s, "typeName")));
  } else if (type == "CreateDomainStmt") {
    of.kind = "domain";
    qualified_names(strings(field(s, "domainname")));
  } else if (type == "CreateTrigStmt") {
    of.kind = "trigger";
    of.name = str(s, "trigname");
    on_table(field(s, "relation"));
  } else if (type == "RuleStmt") {
    of.kind = "rule";
    of.name = str(s, "rulename");
    on_table(field(s, "relation"));
  } else if (type == "CreatePolicyStmt") {
    of.kind = "policy";
    of.name = str(s, "policy_name");
    on_table(field(s, "table"));
  } else if (type == "CreateEventTrigStmt") {
    of.kind = "event_trigger";
    of.name = str(s, "trigname");
  } else if (type == "CreatePublicationStmt") {
    of.kind = "publication";
    of.name = str(s, "pubname");
  } else if (type == "CreateSubscriptionStmt") {
    of.kind = "subscription";
    of.name = str(s, "subname");
  } else if (type == "CreateRoleStmt") {
    of.kind = "role";
    of.name = str(s, "role");
  } else if (type == "CreatePLangStmt") {
    of.kind = "language";
    of.name = str(s, "plname");
  } else if (type == "CreatedbStmt") {
    of.kind = "database";
    of.name = str(s, "dbname");
  } else if (type == "CreateStatsStmt") {
    of.kind = "statistics";
    qualified_names(strings(field(s, "defnames")));
  } else if (type == "CreateConversionStmt") {
    of.kind = "conversion";
    qualified_names(strings(field(s, "conversion_name")));
  } else if (type == "CreateOpClassStmt") {
    of.kind = "operator_class";
    qualified_names(strings(field(s, "opclassname")));
  } else if (type == "CreateOpFamilyStmt") {
    of.kind = "operator_family";
    qualified_names(strings(field(s, "opfamilyname")));
  } else if (type == "CreateFdwStmt") {
    of.kind = "foreign_data_wrapper";
    of.name = str(s, "fdwname");
  } else if (type == "CreateForeignServerStmt") {
    of.kind = "server";
    of.name = str(s, "servername");
  } else if (type == "CreateCastStmt") {
    of.kind = "cast";
    of.name = fmt::format("{} AS {}", format_type(field(s, "sourcetype")),
                          format_type(field(s, "targettype")));
  } else if (type == "CreateAmStmt") {
    of.kind = "access_method";
    of.name = str(s, "amname");
  } else if (type == "CreateTableSpaceStmt") {
    of.kind = "tablespace";
    of.name = str(s, "tablespacename");
  } else if (type == "CreateTransformStmt") {
    of.kind = "transform";
    of.name = format_type(field(s, "type_name")) + " " + str(s, "lang");
  } else {
    return;
  }
  if (of.name.empty()) {
    return;
  }
  if (of.schema_name && of.schema_name->empty()) {
    of.schema_name.reset();
  }
  static const std::set<std::string> k_schema_objects = {
      "function", "procedure",  "aggregate",  "type",           "domain",         "collation",
      "operator", "conversion", "statistics", "operator_class", "operator_family"};
  if (!of.schema_name && k_schema_objects.count(of.kind) > 0) {
    of.schema_name = creation_schema();  // where the server put it
  }
  if ((of.kind == "type" || of.kind == "domain") && of.schema_name) {
    m_catalog.add_type(*of.schema_name, of.name);
  }
  m_catalog.objects.push_back(of);
}

}  // namespace dbautopsy::pgsql
