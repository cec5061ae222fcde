// The project state, as django/db/migrations/state.py keeps it: ModelState per app with its
// fields, db_table, options, indexes and constraints; lookups of models, fields, primary
// keys and related fields across apps; the auto-created many-to-many through models. Also
// how Index (django/db/models/indexes.py) and the constraints (django/db/models/constraints.py)
// are read from a migration's arguments.

#include "django/derivation.hpp"

#include <algorithm>
#include <array>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

// --- the state ----------------------------------------------------------------------------

ModelState* Derivation::model_or_problem(const std::string& app, const std::string& name) {
  std::string key = app + "." + text::lower(name);
  ModelState* m = model(key);
  if (!m) {
    problem("warning", "django-model-unknown",
            "model " + key +
                " is not in the project state: the migration that creates it is not in the set "
                "(or comes later); this operation is skipped");
  }
  return m;
}

const ModelState* Derivation::target_model(const std::string& key) {
  if (const ModelState* m = model(key)) {
    return m;
  }
  auto ghost = m_ghosts.find(key);
  if (ghost != m_ghosts.end()) {
    return &ghost->second;
  }
  for (const auto& b : k_builtin_models) {
    if (b.key == key) {
      // Django's own model, its app's migrations not given: its definition is known.
      ModelState m;
      size_t dot = key.find('.');
      m.app = key.substr(0, dot);
      m.name = key.substr(dot + 1);
      m.db_table = std::string(b.table);
      Field pk;
      pk.name = std::string(b.pk);
      pk.cls = pk.internal = std::string(b.pk_class);
      if (const FieldClass* c = django_field_class(b.pk_class)) {
        pk.type_template = std::string(c->type);
      }
      pk.max_length = std::string(b.pk_max_length);
      pk.primary_key = true;
      pk.known = true;
      m.fields.push_back(pk);
      if (!m_assumed.count(key)) {
        m_assumed.insert(key);
        problem("notice", "django-model-assumed",
                key +
                    " is not created by any migration of the set: Django's own definition "
                    "(table " +
                    std::string(b.table) + ", primary key " + pk.name + ") is assumed");
      }
      m_ghosts[key] = m;
      return &m_ghosts[key];
    }
  }
  return nullptr;
}

std::string Derivation::db_table(const ModelState& m) {
  if (m.proxy) {
    for (const auto& b : m.bases) {
      if (const ModelState* parent = target_model(b); parent && parent != &m) {
        return db_table(*parent);
      }
    }
  }
  if (m.db_table) {
    return *m.db_table;
  }
  return truncate_name(m.app + "_" + m.name_lower(), k_max_name_length);
}

bool Derivation::allow_migrate(const ModelState& m) const {
  if (!m.managed || m.proxy) {
    return false;
  }
  if (!m.swappable.empty()) {
    auto it = m_swappable.find(m.swappable);
    if (it != m_swappable.end() && it->second != m.key()) {
      return false;  // swapped out (AUTH_USER_MODEL names another model)
    }
  }
  return true;
}

// _meta.local_fields: concrete fields ordered by creation counter. Fields with
// auto_created=True get decreasing negative counters as ModelState.render() clones them,
// so they come first, in reverse order; a primary key Django adds comes before them.
std::vector<Field> Derivation::local_fields(const ModelState& m) const {
  std::vector<Field> autos, regular;
  bool has_pk = false;
  for (const auto& f : m.fields) {
    if (f.is_m2m()) {
      continue;
    }
    has_pk = has_pk || f.primary_key;
    (f.auto_created ? autos : regular).push_back(f);
  }
  std::reverse(autos.begin(), autos.end());
  std::vector<Field> out;
  if (!has_pk && !m.proxy) {
    out.push_back(synthetic_pk());
  }
  out.insert(out.end(), autos.begin(), autos.end());
  out.insert(out.end(), regular.begin(), regular.end());
  if (!m.order_with_respect_to.empty()) {
    Field order;
    order.name = "_order";
    order.cls = "OrderWrt";
    order.internal = "IntegerField";
    order.type_template = "integer";
    order.known = true;
    order.empty_strings_allowed = false;
    order.canonical = "OrderWrt";
    out.push_back(order);
  }
  return out;
}

const Field* Derivation::get_field(const ModelState& m, std::string_view name) const {
  for (const auto& f : m.fields) {
    if (f.name == name) {
      return &f;
    }
  }
  for (const auto& f : m.fields) {
    if (f.is_fk() && f.attname() == name) {
      return &f;
    }
  }
  return nullptr;
}

std::optional<Field> Derivation::pk_field(const ModelState& m) const {
  for (const auto& f : m.fields) {
    if (f.primary_key) {
      return f;
    }
  }
  if (m.proxy) {
    return std::nullopt;
  }
  return synthetic_pk();
}

std::optional<Field> Derivation::target_field(const Field& fk) {
  const ModelState* t = target_model(fk.to);
  if (!t) {
    return std::nullopt;
  }
  while (t->proxy) {
    const ModelState* parent = nullptr;
    for (const auto& b : t->bases) {
      parent = target_model(b);
      if (parent) {
        break;
      }
    }
    if (!parent || parent == t) {
      break;
    }
    t = parent;
  }
  if (!fk.to_field.empty()) {
    if (const Field* f = get_field(*t, fk.to_field)) {
      return *f;
    }
    return std::nullopt;
  }
  return pk_field(*t);
}

// create_many_to_many_intermediary_model(): the table Django makes for a ManyToManyField
// without `through`. In Django 3.2's migration state its primary key comes from
// settings.DEFAULT_AUTO_FIELD (the app configs of the state's registry are stubs).
ModelState Derivation::auto_through(const ModelState& owner, const Field& m2m) {
  ModelState t;
  t.app = owner.app;
  t.name = owner.name + "_" + m2m.name;
  t.auto_created = true;
  t.managed = owner.managed;
  t.db_table = m2m.m2m_db_table.empty()
                   ? truncate_name(db_table(owner) + "_" + m2m.name, k_max_name_length)
                   : m2m.m2m_db_table;
  std::string to_name = m2m.to.substr(m2m.to.find('.') + 1);
  std::string from_name = owner.name_lower();
  std::string from_field = from_name, to_field = to_name;
  if (m2m.to == owner.key()) {
    from_field = "from_" + to_name;
    to_field = "to_" + to_name;
  }
  auto fk = [&](const std::string& name, const std::string& to) {
    Field f;
    f.name = name;
    f.cls = f.internal = "ForeignKey";
    f.path = "django.db.models.ForeignKey";
    f.rel = Rel::fk;
    f.known = true;
    f.empty_strings_allowed = false;
    f.to = to;
    f.db_index = true;
    f.db_constraint = m2m.db_constraint;
    f.db_tablespace = m2m.db_tablespace;
    f.canonical = "ForeignKey|to=" + to;
    return f;
  };
  t.fields.push_back(fk(from_field, owner.key()));
  t.fields.push_back(fk(to_field, m2m.to));
  t.unique_together.push_back({from_field, to_field});
  return t;
}

// The models in the order Django's state registry lists them (apps by label, then the
// order the models were rendered): the order in which related fields are visited.
std::vector<ModelState> Derivation::sorted_models() const {
  std::vector<ModelState> out;
  for (const auto& [k, m] : m_models) {
    out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const ModelState& a, const ModelState& b) {
    return a.app != b.app ? a.app < b.app : a.order < b.order;
  });
  return out;
}

// Fields of the state pointing at model `target_key`: foreign keys of models, and those of
// auto-created many-to-many tables.
std::vector<RelatedField> Derivation::related_fields(const std::string& target_key) {
  std::vector<RelatedField> out;
  for (const ModelState& m : sorted_models()) {
    for (const Field& f : m.fields) {
      if (f.is_fk() && f.to == target_key) {
        auto rn = f.kw.find("related_name");
        bool hidden =
            rn != f.kw.end() && string_of(&rn->second) && ends_with(*string_of(&rn->second), "+");
        out.push_back(RelatedField{m.key(), f, hidden, false});
      }
      if (has_auto_through(f) && (m.key() == target_key || f.to == target_key)) {
        ModelState t = auto_through(m, f);
        for (const Field& tf : t.fields) {
          if (tf.to == target_key) {
            out.push_back(RelatedField{m.key() + "#" + f.name, tf, true, true});
          }
        }
      }
    }
  }
  return out;
}

// --- operations -----------------------------------------------------------------------------

IndexDef Derivation::make_index(const Node& call) {
  IndexDef idx;
  idx.line = call.line;
  idx.path = callee_path(call);
  idx.name = string_of(call.keyword_argument("name")).value_or("");
  idx.fields = strings_of(call.keyword_argument("fields"));
  idx.opclasses = strings_of(call.keyword_argument("opclasses"));
  idx.include = strings_of(call.keyword_argument("include"));
  idx.db_tablespace = string_of(call.keyword_argument("db_tablespace")).value_or("");
  if (const Node* c = call.keyword_argument("condition"); c && c->kind != NodeKind::none) {
    idx.condition = *c;
  }
  for (const Node* e : call.positional_arguments()) {
    idx.expressions.push_back(*e);
  }
  if (idx.fields.empty() && idx.expressions.empty() && call.kind == NodeKind::call) {
    problem("warning", "django-index-unreadable",
            "index " + idx.name + " has no fields this reader can read: " + py::to_source(call));
  }
  std::string cls = last_component(idx.path);
  if (starts_with(idx.path, "django.contrib.postgres.")) {
    static const std::map<std::string, std::string> k_methods = {
        {"BloomIndex", "bloom"},  {"BrinIndex", "brin"}, {"BTreeIndex", "btree"},
        {"GinIndex", "gin"},      {"GistIndex", "gist"}, {"HashIndex", "hash"},
        {"SpGistIndex", "spgist"}};
    auto it = k_methods.find(cls);
    if (it != k_methods.end()) {
      idx.using_method = it->second;
    }
    auto on_off = [&](const char* key, const char* param) {
      if (auto b = bool_of(call.keyword_argument(key))) {
        idx.with_params.push_back(std::string(param) + " = " + (*b ? "on" : "off"));
      }
    };
    auto number = [&](const char* key) {
      if (auto n = number_of(call.keyword_argument(key))) {
        idx.with_params.push_back(std::string(key) + " = " + *n);
      }
    };
    // In the order Django's get_with_params() writes them (PostgreSQL keeps that order in
    // the index's reloptions).
    if (cls == "GinIndex") {
      number("gin_pending_list_limit");
      on_off("fastupdate", "fastupdate");
    } else if (cls == "BrinIndex") {
      on_off("autosummarize", "autosummarize");
      number("pages_per_range");
    } else if (cls == "GistIndex") {
      on_off("buffering", "buffering");
      number("fillfactor");
    } else if (cls == "BloomIndex") {
      number("length");
    } else {
      number("fillfactor");
    }
  } else if (!starts_with(idx.path, "django.db.models.")) {
    problem("warning", "django-index-unknown",
            "index " + idx.name + " is a " + idx.path + "; it is taken as a plain btree index");
  }
  return idx;
}

namespace {

// The operator of an ExclusionConstraint expression: a string, or a constant of
// django.contrib.postgres.fields.RangeOperators (Django 3.2's values).
std::string exclusion_operator(const Node& op) {
  if (auto s = string_of(&op)) {
    return *s;
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> k_range = {{
      {"EQUAL", "="},
      {"NOT_EQUAL", "<>"},
      {"CONTAINS", "@>"},
      {"CONTAINED_BY", "<@"},
      {"OVERLAPS", "&&"},
      {"FULLY_LT", "<<"},
      {"FULLY_GT", ">>"},
      {"NOT_LT", "&>"},
      {"NOT_GT", "&<"},
      {"ADJACENT_TO", "-|-"},
  }};
  if (op.kind == NodeKind::name && op.text.find("RangeOperators.") != std::string::npos) {
    std::string constant = last_component(op.text);
    for (const auto& [name, sql] : k_range) {
      if (constant == name) {
        return std::string(sql);
      }
    }
  }
  return "=";
}

}  // namespace

ConstraintDef Derivation::make_constraint(const Node& call) {
  ConstraintDef c;
  c.line = call.line;
  c.path = callee_path(call);
  c.name = string_of(call.keyword_argument("name")).value_or("");
  std::string cls = last_component(c.path);
  if (const Node* d = call.keyword_argument("deferrable")) {
    std::string t = d->kind == NodeKind::subscript && d->children.size() == 2
                        ? string_of(&d->children[1]).value_or("")
                        : last_component(d->text);
    c.deferrable = text::lower(t);
  }
  if (const Node* cond = call.keyword_argument("condition"); cond && cond->kind != NodeKind::none) {
    c.condition = *cond;
  }
  c.include = strings_of(call.keyword_argument("include"));
  c.opclasses = strings_of(call.keyword_argument("opclasses"));
  if (cls == "CheckConstraint") {
    c.kind = "check";
    if (const Node* check = call.keyword_argument("check")) {
      c.check = *check;
    } else if (c.condition) {
      // Django 5.1+: CheckConstraint(condition=...) replaces check= (constraints.py).
      c.check = c.condition;
      c.condition.reset();
    }
  } else if (cls == "UniqueConstraint") {
    c.kind = "unique";
    c.fields = strings_of(call.keyword_argument("fields"));
    for (const Node* e : call.positional_arguments()) {
      c.unique_expressions.push_back(*e);
    }
    // Django 5.0+; violation_error_message / violation_error_code (4.1, 5.0) are
    // validation messages only (no DDL).
    if (auto nd = bool_of(call.keyword_argument("nulls_distinct"))) {
      c.nulls_distinct = *nd ? " NULLS DISTINCT" : " NULLS NOT DISTINCT";
    }
  } else if (cls == "ExclusionConstraint") {
    c.kind = "exclusion";
    c.index_type = string_of(call.keyword_argument("index_type")).value_or("GIST");
    for (const auto& e : elements_of(call.keyword_argument("expressions"))) {
      if (e.children.size() == 2) {
        c.expressions.emplace_back(e.children[0], exclusion_operator(e.children[1]));
      }
    }
  } else {
    c.kind = "unknown";
  }
  return c;
}

void Derivation::read_options(ModelState& m, const Node* options) {
  if (!options || options->kind != NodeKind::dict) {
    return;
  }
  for (const auto& e : options->children) {
    if (e.star || e.children.size() != 2 || !e.children[0].is_string()) {
      continue;
    }
    const std::string& key = e.children[0].text;
    const Node& v = e.children[1];
    if (key == "db_table") {
      if (auto s = string_of(&v)) {
        m.db_table = *s;
      }
    } else if (key == "unique_together") {
      m.unique_together = together_of(&v);
    } else if (key == "index_together") {
      m.index_together = together_of(&v);
    } else if (key == "indexes") {
      for (const auto& i : elements_of(&v)) {
        m.indexes.push_back(make_index(i));
      }
    } else if (key == "constraints") {
      for (const auto& c : elements_of(&v)) {
        m.constraints.push_back(make_constraint(c));
      }
    } else if (key == "managed") {
      m.managed = bool_of(&v).value_or(true);
    } else if (key == "proxy") {
      m.proxy = bool_of(&v).value_or(false);
    } else if (key == "swappable") {
      m.swappable = string_of(&v).value_or("");
    } else if (key == "order_with_respect_to") {
      m.order_with_respect_to = string_of(&v).value_or("");
    } else if (key == "db_tablespace") {
      m.db_tablespace = string_of(&v).value_or("");
    } else if (key == "db_table_comment") {
      // Django 4.2+: COMMENT ON TABLE only (table_sql() -> alter_db_table_comment()); comments
      // are not among the facts compared.
    }
  }
}

}  // namespace dbautopsy::django::detail
