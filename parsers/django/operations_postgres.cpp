// The operations of django/contrib/postgres/operations.py: CreateExtension and its named
// subclasses (HStoreExtension, TrigramExtension, ...), CreateCollation, RemoveCollation,
// and AddConstraintNotValid, ValidateConstraint (Django 4.0+).

#include "django/derivation.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

void Derivation::op_extension(const Operation& op, bool database) {
  static const std::map<std::string, std::string> k_ext = {
      {"BloomExtension", "bloom"},          {"BtreeGinExtension", "btree_gin"},
      {"BtreeGistExtension", "btree_gist"}, {"CITextExtension", "citext"},
      {"CryptoExtension", "pgcrypto"},      {"HStoreExtension", "hstore"},
      {"TrigramExtension", "pg_trgm"},      {"UnaccentExtension", "unaccent"}};
  std::string name;
  auto it = k_ext.find(op.type);
  if (it != k_ext.end()) {
    name = it->second;
  } else {
    name = model_arg(op, "name");
  }
  if (!database || name.empty()) {
    return;
  }
  for (const auto& e : (m_settings.sqlmigrate_semantics ? m_snapshot : m_catalog).extensions) {
    if (e.name == name) {
      return;  // extension_exists()
    }
  }
  execute("CREATE EXTENSION IF NOT EXISTS " + qn(name));
}

void Derivation::op_collation(const Operation& op, bool database, bool create) {
  std::string name = model_arg(op, "name");
  if (!database || name.empty()) {
    return;
  }
  if (!create) {
    execute("DROP COLLATION " + qn(name));
    return;
  }
  std::vector<std::string> args{"locale=" + qn(string_of(op.arg("locale")).value_or(""))};
  if (auto p = string_of(op.call.keyword_argument("provider")); p && *p != "libc") {
    args.push_back("provider=" + qn(*p));
  }
  if (auto d = bool_of(op.call.keyword_argument("deterministic")); d && !*d) {
    args.push_back("deterministic=false");
  }
  execute("CREATE COLLATION " + qn(name) + " (" + join(args, ", ") + ")");
}

// AddConstraintNotValid (Django 4.0+): the state is AddConstraint's; the constraint must be
// a CheckConstraint (TypeError otherwise), and database_forwards() runs
// str(constraint.create_sql(model, schema_editor)) + " NOT VALID". The constraint exists at
// once (it is only not checked against the rows already there).
void Derivation::op_add_constraint_not_valid(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  if (!m) {
    return;
  }
  Node call = resolved(op.arg("constraint"));
  ConstraintDef c = make_constraint(call);
  if (c.kind != "check") {
    problem("error", "django-operation-unreadable",
            "AddConstraintNotValid " + m->key() + ": constraint " + c.name +
                " is not a CheckConstraint (Django raises TypeError)");
    return;
  }
  m->constraints.push_back(c);
  if (database && allow_migrate(*m)) {
    auto sql = check_sql(*m, c);
    execute("ALTER TABLE " + qn(db_table(*m)) + " ADD CONSTRAINT " + qn(c.name) + " CHECK (" +
            sql.value_or("<unknown>") + ") NOT VALID");
  }
}

// ValidateConstraint (Django 4.0+): ALTER TABLE ... VALIDATE CONSTRAINT ...; it checks the
// rows, changes neither the state nor the schema's objects.
void Derivation::op_validate_constraint(const Operation& op) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m || name.empty()) {
    return;
  }
  if (std::none_of(m->constraints.begin(), m->constraints.end(),
                   [&](const ConstraintDef& c) { return c.name == name; })) {
    problem("warning", "django-constraint-unknown",
            "ValidateConstraint: " + m->key() + " has no constraint " + name + " in the state");
  }
}

}  // namespace dbautopsy::django::detail
