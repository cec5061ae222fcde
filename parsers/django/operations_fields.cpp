// The operations of django/db/migrations/operations/fields.py: AddField, RemoveField,
// AlterField, RenameField.

#include "django/derivation.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

void Derivation::op_add_field(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m || name.empty()) {
    return;
  }
  Node call = resolved(op.arg("field"));
  Field f = make_field(name, call, m->app, m->key());
  Field state_field = f;
  if (!bool_of(op.arg("preserve_default")).value_or(true)) {
    state_field.default_value.reset();
    state_field.kw.erase("default");
    canonicalize(state_field, field_class(state_field.path));
  }
  ModelState from = *m;
  if (Field* existing = m->field(name)) {
    problem("warning", "django-field-duplicate",
            "AddField " + m->key() + "." + name + ": the field already exists; it is replaced");
    *existing = state_field;
  } else {
    m->fields.push_back(state_field);
  }
  if (database && allow_migrate(*m)) {
    add_field(from, f);
  }
}

void Derivation::op_remove_field(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m) {
    return;
  }
  ModelState from = *m;
  const Field* f = get_field(from, name);
  if (!f) {
    problem("warning", "django-field-unknown",
            "RemoveField: " + m->key() + " has no field " + name + " in the state");
    return;
  }
  Field removed = *f;
  std::erase_if(m->fields, [&](const Field& x) { return x.name == name; });
  if (database && allow_migrate(from)) {
    remove_field(from, removed);
  }
}

void Derivation::op_alter_field(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m || name.empty()) {
    return;
  }
  Field* existing = m->field(name);
  if (!existing) {
    problem("warning", "django-field-unknown",
            "AlterField: " + m->key() + " has no field " + name + " in the state");
    return;
  }
  Field old = *existing;
  Node call = resolved(op.arg("field"));
  Field nw = make_field(name, call, m->app, m->key());
  Field state_field = nw;
  if (!bool_of(op.arg("preserve_default")).value_or(true)) {
    state_field.default_value.reset();
    state_field.kw.erase("default");
    canonicalize(state_field, field_class(state_field.path));
  }
  ModelState from = *m;
  AlterInfo info = prepare_alter(from, old);
  *existing = state_field;
  if (database && allow_migrate(*m)) {
    alter_field(from, old, nw, info);
  }
}

void Derivation::op_rename_field(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string old_name = model_arg(op, "old_name");
  std::string new_name = model_arg(op, "new_name");
  if (!m || old_name.empty() || new_name.empty()) {
    return;
  }
  Field* existing = m->field(old_name);
  if (!existing) {
    problem("warning", "django-field-unknown",
            "RenameField: " + m->key() + " has no field " + old_name + " in the state");
    return;
  }
  ModelState from = *m;
  Field old = *existing;
  AlterInfo info = prepare_alter(from, old);
  Field renamed = old;
  renamed.name = new_name;
  std::erase_if(m->fields, [&](const Field& x) { return x.name == old_name; });
  m->fields.push_back(renamed);
  for (auto* together : {&m->unique_together, &m->index_together}) {
    for (auto& group : *together) {
      std::replace(group.begin(), group.end(), old_name, new_name);
    }
  }
  const std::string key = m->key();
  for (auto& [k, other] : m_models) {
    for (Field& f : other.fields) {
      if (f.to == key && f.to_field == old_name) {
        f.to_field = new_name;
        f.kw.erase("to_field");
        Node n;
        n.kind = NodeKind::string;
        n.text = new_name;
        f.kw["to_field"] = n;
        canonicalize(f, field_class(f.path));
      }
    }
  }
  if (database && allow_migrate(*m)) {
    alter_field(from, old, renamed, info);
  }
}

}  // namespace dbautopsy::django::detail
