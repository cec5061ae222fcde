// The operations of django/db/migrations/operations/models.py: CreateModel, DeleteModel,
// RenameModel, AlterModelTable, AlterUniqueTogether, AlterIndexTogether,
// AlterModelOptions, AlterOrderWithRespectTo, AddIndex, RemoveIndex, AddConstraint,
// RemoveConstraint, and those Django 4.1+ added: RenameIndex (4.1), AlterModelTableComment
// (4.2) (and the concurrent index operations of django/contrib/postgres/operations.py).

#include "django/derivation.hpp"

#include <algorithm>

#include "base/error.hpp"
#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

void Derivation::op_create_model(const Operation& op, bool database) {
  ModelState m;
  m.app = m_file->app;
  m.name = model_arg(op, "name");
  if (m.name.empty()) {
    return;
  }
  m.order = ++m_model_order;
  const std::string key = m.key();
  Node fields = resolved(op.arg("fields"));
  if (!is_sequence(&fields)) {
    problem("warning", "django-operation-unreadable",
            "CreateModel " + m.name + ": `fields` is not a list of (name, field) pairs");
  }
  for (const auto& pair : elements_of(&fields)) {
    if (pair.children.size() != 2 || !string_of(&pair.children[0])) {
      problem("warning", "django-field-unreadable",
              "CreateModel " + m.name +
                  ": a field entry is not a (name, field) pair: " + py::to_source(pair),
              pair.line);
      continue;
    }
    m.fields.push_back(make_field(*string_of(&pair.children[0]), pair.children[1], m.app, key));
  }
  Node options = resolved(op.arg("options"));
  read_options(m, &options);
  Node bases = resolved(op.arg("bases"));
  for (const auto& b : elements_of(&bases)) {
    if (auto s = string_of(&b)) {
      m.bases.push_back(lower_model_key(*s));
    }
  }
  if (model(key)) {
    problem("warning", "django-model-duplicate",
            "CreateModel " + key + ": the model already exists in the state; it is replaced");
  }
  m_models[key] = m;
  note_unmanaged(m, op.line);
  if (database && allow_migrate(m)) {
    create_model(m);
  }
}

void Derivation::note_unmanaged(const ModelState& m, uint64_t line) {
  if (m.managed || m.proxy || !m_mig) {
    return;
  }
  m_mig->unmanaged.push_back({m.key(), split_identifier_name(db_table(m)), line});
}

void Derivation::op_delete_model(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  ModelState from = *m;
  m_models.erase(from.key());
  m_ghosts[from.key()] = from;
  if (database && allow_migrate(from)) {
    delete_model(from);
  }
}

void Derivation::op_rename_model(const Operation& op, bool database) {
  std::string old_name = model_arg(op, "old_name");
  std::string new_name = model_arg(op, "new_name");
  ModelState* m = model_or_problem(m_file->app, old_name);
  if (!m || new_name.empty()) {
    return;
  }
  const ModelState from = *m;
  const std::string old_key = from.key();
  // Relations pointing at the model, before the state changes: non-hidden foreign keys
  // (_meta.related_objects) and many-to-many fields of other models.
  struct Pointing {
    std::string model;
    Field field;
    AlterInfo info;
  };
  std::vector<Pointing> fks, m2ms;
  for (const ModelState& other : sorted_models()) {
    for (const Field& f : other.fields) {
      if (f.to != old_key) {
        continue;
      }
      auto rn = f.kw.find("related_name");
      bool hidden =
          rn != f.kw.end() && string_of(&rn->second) && ends_with(*string_of(&rn->second), "+");
      if (f.is_fk() && !hidden) {
        fks.push_back({other.key(), f, prepare_alter(other, f)});
      } else if (f.is_m2m() && other.key() != old_key) {
        m2ms.push_back({other.key(), f, {}});
      }
    }
  }
  ModelState renamed = from;
  renamed.name = new_name;
  const std::string new_key = renamed.key();
  m_models.erase(old_key);
  m_ghosts[old_key] = from;
  m_models[new_key] = renamed;
  for (auto& [k, other] : m_models) {
    for (Field& f : other.fields) {
      bool changed = false;
      if (f.to == old_key) {
        f.to = new_key;
        changed = true;
      }
      if (f.through == old_key) {
        f.through = new_key;
        changed = true;
      }
      if (changed) {
        canonicalize(f, field_class(f.path));
      }
    }
  }
  const ModelState& nm = m_models[new_key];
  if (!database || !allow_migrate(nm)) {
    return;
  }
  alter_db_table(db_table(from), db_table(nm));
  for (const auto& p : fks) {
    std::string key = p.model == old_key ? new_key : p.model;
    const ModelState* rm = model(key);
    const Field* nf = rm ? get_field(*rm, p.field.name) : nullptr;
    if (rm && nf) {
      alter_field(*rm, p.field, *nf, p.info);
    }
  }
  for (const auto& p : m2ms) {
    const ModelState* rm = model(p.model);
    const Field* nf = rm ? get_field(*rm, p.field.name) : nullptr;
    if (!rm || !nf) {
      continue;
    }
    ModelState ot = auto_through(*rm, p.field);
    ModelState nt = auto_through(*rm, *nf);
    if (!has_auto_through(p.field)) {
      continue;
    }
    alter_field(nt, ot.fields[1], nt.fields[1], prepare_alter(nt, ot.fields[1]));
  }
  for (size_t i = 0; i < from.fields.size() && i < nm.fields.size(); ++i) {
    const Field& of = from.fields[i];
    const Field& nf = nm.fields[i];
    if (!has_auto_through(of) || of.to == old_key) {
      continue;  // self-referential ones were renamed with the relations above
    }
    ModelState ot = auto_through(from, of);
    ModelState nt = auto_through(nm, nf);
    alter_db_table(*ot.db_table, *nt.db_table);
    alter_field(nt, ot.fields[0], nt.fields[0], prepare_alter(nt, ot.fields[0]));
  }
}

void Derivation::op_alter_model_table(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  ModelState from = *m;
  const Node* table = op.arg("table");
  if (auto s = string_of(table)) {
    m->db_table = *s;
  } else {
    m->db_table.reset();
  }
  note_unmanaged(*m, op.line);
  if (!database || !allow_migrate(*m)) {
    return;
  }
  alter_db_table(db_table(from), db_table(*m));
  for (size_t i = 0; i < from.fields.size(); ++i) {
    if (has_auto_through(from.fields[i])) {
      alter_db_table(*auto_through(from, from.fields[i]).db_table,
                     *auto_through(*m, m->fields[i]).db_table);
    }
  }
}

void Derivation::op_alter_together(const Operation& op, bool database, bool unique) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  Node value = resolved(op.arg(unique ? "unique_together" : "index_together"));
  auto olds = unique ? m->unique_together : m->index_together;
  auto news = together_of(&value);
  (unique ? m->unique_together : m->index_together) = news;
  if (!database || !allow_migrate(*m)) {
    return;
  }
  auto contains = [](const std::vector<std::vector<std::string>>& set,
                     const std::vector<std::string>& v) {
    return std::find(set.begin(), set.end(), v) != set.end();
  };
  for (const auto& g : olds) {
    if (!contains(news, g)) {
      delete_composed_index(*m, g, unique);
    }
  }
  for (const auto& g : news) {
    if (contains(olds, g)) {
      continue;
    }
    if (unique) {
      execute(unique_stmt(db_table(*m), columns_of(*m, g)).render());
    } else {
      std::vector<Field> fields;
      for (const auto& n : g) {
        if (const Field* f = get_field(*m, n)) {
          fields.push_back(*f);
        }
      }
      execute(index_stmt(*m, fields, "_idx").render());
    }
  }
}

void Derivation::op_alter_options(const Operation& op) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  // AlterModelOptions.ALTER_OPTION_KEYS: of these only `managed` matters to the schema;
  // an option left out is removed.
  Node options = resolved(op.arg("options"));
  const Node* managed = dict_get(&options, "managed");
  m->managed = managed ? bool_of(managed).value_or(true) : true;
}

void Derivation::op_alter_order_with_respect_to(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  ModelState from = *m;
  m->order_with_respect_to = string_of(op.arg("order_with_respect_to")).value_or("");
  if (!database || !allow_migrate(*m)) {
    return;
  }
  Field order;
  order.name = "_order";
  order.cls = "OrderWrt";
  order.internal = "IntegerField";
  order.type_template = "integer";
  order.known = true;
  order.empty_strings_allowed = false;
  if (!from.order_with_respect_to.empty() && m->order_with_respect_to.empty()) {
    remove_field(from, order);
  } else if (from.order_with_respect_to.empty() && !m->order_with_respect_to.empty()) {
    Node zero;
    zero.kind = NodeKind::number;
    zero.text = "0";
    order.default_value = zero;
    add_field(from, order);
  }
}

void Derivation::op_add_index(const Operation& op, bool database, bool concurrently) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  if (!m) {
    return;
  }
  Node call = resolved(op.arg("index"));
  IndexDef idx = make_index(call);
  m->indexes.push_back(idx);
  if (database && allow_migrate(*m)) {
    add_index(*m, idx, concurrently);
  }
}

void Derivation::op_remove_index(const Operation& op, bool database, bool concurrently) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m) {
    return;
  }
  auto it = std::find_if(m->indexes.begin(), m->indexes.end(),
                         [&](const IndexDef& i) { return i.name == name; });
  if (it == m->indexes.end()) {
    problem("warning", "django-index-unknown",
            "RemoveIndex: " + m->key() + " has no index " + name +
                " in the state (Django "
                "raises ValueError)");
  } else {
    m->indexes.erase(it);
  }
  if (database && allow_migrate(*m)) {
    execute(
        std::string(concurrently ? "DROP INDEX CONCURRENTLY IF EXISTS " : "DROP INDEX IF EXISTS ") +
        qn(name));
  }
}

// RenameIndex (Django 4.1+, models.py): with old_name, ProjectState.rename_index() renames
// the index of Meta.indexes; with old_fields (what makemigrations writes when an
// index_together entry becomes a Meta.indexes entry), state_forwards() adds
// Index(fields=old_fields, name=new_name) and removes the group from index_together, and
// database_forwards() looks the unnamed index up in the database
// (schema_editor._constraint_names(from_model, column_names=columns, index=True), exactly one
// or ValueError). Either way the PostgreSQL schema editor (features.can_rename_index)
// renames: BaseDatabaseSchemaEditor.rename_index() -> sql_rename_index,
// "ALTER INDEX %(old_name)s RENAME TO %(new_name)s". An index is never created anew.
void Derivation::op_rename_index(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string new_name = model_arg(op, "new_name");
  if (!m || new_name.empty()) {
    return;
  }
  const Node* old_name_node = op.arg("old_name");
  Node old_fields_node = resolved(op.arg("old_fields"));
  const bool has_old_name = old_name_node && old_name_node->kind != NodeKind::none;
  const bool has_old_fields = old_fields_node.kind != NodeKind::none && op.arg("old_fields");
  // RenameIndex.__init__: "RenameIndex requires one of old_name and old_fields arguments to
  // be set." / "RenameIndex.old_name and old_fields are mutually exclusive."
  if (has_old_name == has_old_fields) {
    problem("error", "django-operation-unreadable",
            "RenameIndex " + new_name +
                (has_old_name ? ": old_name and old_fields are both given (Django raises "
                                "ValueError: they are mutually exclusive)"
                              : ": neither old_name nor old_fields is given (Django raises "
                                "ValueError: one of them is required)"));
    return;
  }
  if (has_old_name) {
    auto old_name = string_of(old_name_node);
    if (!old_name) {
      model_arg(op, "old_name");
      return;
    }
    auto it = std::find_if(m->indexes.begin(), m->indexes.end(),
                           [&](const IndexDef& i) { return i.name == *old_name; });
    if (it == m->indexes.end()) {
      // ProjectState.rename_index() raises IndexError (no such index in the state); the
      // database still gets the rename if Django got that far, which it does not.
      problem("warning", "django-index-unknown",
              "RenameIndex: " + m->key() + " has no index " + *old_name +
                  " in the state (Django stops here with an error); the rename to " + new_name +
                  " is assumed all the same");
    } else {
      it->name = new_name;
    }
    if (database && allow_migrate(*m)) {
      execute("ALTER INDEX " + qn(*old_name) + " RENAME TO " + qn(new_name));
    }
    return;
  }
  std::vector<std::string> fields = strings_of(&old_fields_node);
  if (!is_sequence(&old_fields_node) || fields.empty() ||
      fields.size() != elements_of(&old_fields_node).size()) {
    problem("warning", "django-operation-unreadable",
            "RenameIndex " + new_name + ": old_fields is not a list or tuple of field names: " +
                py::to_source(old_fields_node));
    return;
  }
  const ModelState from = *m;
  IndexDef idx;
  idx.name = new_name;
  idx.path = "django.db.models.Index";
  idx.fields = fields;
  idx.line = op.line;
  m->indexes.push_back(idx);
  // ProjectState.remove_model_options(..., "index_together", old_fields).
  auto& together = m->index_together;
  together.erase(std::remove(together.begin(), together.end(), fields), together.end());
  if (!database || !allow_migrate(*m)) {
    return;
  }
  std::vector<std::string> columns;
  for (const auto& f : fields) {
    const Field* field = get_field(from, f);
    if (!field) {
      problem("error", "django-field-unknown",
              "RenameIndex " + new_name + ": " + from.key() + " has no field " + f +
                  " (Django raises FieldDoesNotExist)");
      return;
    }
    columns.push_back(field->column());
  }
  ConstraintFilter filter;
  filter.index = true;
  const std::string table = db_table(from);
  auto names = constraint_names(table, &columns, filter);
  if (names.size() != 1) {
    problem("error", "django-constraint-not-found",
            "RenameIndex " + new_name + ": found wrong number (" + std::to_string(names.size()) +
                ") of indexes for " + table + "(" + join(columns, ", ") +
                "): Django stops the migration here (ValueError)");
    return;
  }
  execute("ALTER INDEX " + qn(names[0]) + " RENAME TO " + qn(new_name));
}

// AlterModelTableComment (Django 4.2+): alter_db_table_comment() runs
// COMMENT ON TABLE ... IS ...; comments are not among the facts this reader derives, so only
// the state changes.
void Derivation::op_alter_model_table_comment(const Operation& op) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  problem("notice", "django-comment-only",
          "AlterModelTableComment " + m->key() +
              " changes only the table's comment (COMMENT ON TABLE), which is not compared");
}

void Derivation::op_add_constraint(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  if (!m) {
    return;
  }
  Node call = resolved(op.arg("constraint"));
  ConstraintDef c = make_constraint(call);
  m->constraints.push_back(c);
  if (database && allow_migrate(*m)) {
    add_constraint(*m, c);
  }
}

void Derivation::op_remove_constraint(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m) {
    return;
  }
  auto it = std::find_if(m->constraints.begin(), m->constraints.end(),
                         [&](const ConstraintDef& c) { return c.name == name; });
  if (it == m->constraints.end()) {
    problem("warning", "django-constraint-unknown",
            "RemoveConstraint: " + m->key() + " has no constraint " + name + " in the state");
    return;
  }
  ConstraintDef c = *it;
  m->constraints.erase(it);
  if (database && allow_migrate(*m)) {
    remove_constraint(*m, c);
  }
}

}  // namespace dbautopsy::django::detail
