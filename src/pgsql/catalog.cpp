#include "pgsql/catalog.hpp"

#include <algorithm>

namespace dbautopsy::pgsql {

namespace {

template <typename Container, typename Pred>
void erase_where(Container& v, Pred pred) {
  v.erase(std::remove_if(v.begin(), v.end(), pred), v.end());
}

std::string key_of(const std::string& a, const std::string& b) {
  std::string k;
  k.reserve(a.size() + b.size() + 1);
  k.append(a).push_back('\0');
  k.append(b);
  return k;
}

std::string key_of(const std::string& a, const std::string& b, const std::string& c) {
  std::string k = key_of(a, b);
  k.push_back('\0');
  k.append(c);
  return k;
}

template <typename Fact>
Fact with_db(Fact f, const store::OptText& db) {
  f.db = db;
  return f;
}

}  // namespace

store::ColumnFact* RelationModel::column(const std::string& name) {
  for (auto& c : columns) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

Catalog::Catalog() {
  // What every database has before a dump is restored into it.
  m_schemas = {"public", "pg_catalog", "information_schema", "pg_toast"};
}

void Catalog::add_schema(const store::SchemaFact& fact) {
  m_schemas.insert(fact.name);
  schema_facts.push_back(fact);
}

void Catalog::drop_schema(const std::string& name) {
  m_schemas.erase(name);
  erase_where(schema_facts, [&](const auto& s) { return s.name == name; });
  std::vector<QualifiedName> doomed;
  for (const auto& r : m_relations) {
    if (r.fact.schema_name == name) {
      doomed.emplace_back(r.fact.schema_name, r.fact.name);
    }
  }
  for (const auto& key : doomed) {
    drop_relation(key);
  }
  erase_where(m_sequences, [&](const auto& s) { return s.schema_name == name; });
  erase_where(objects, [&](const auto& o) { return o.schema_name == name; });
  erase_where(comments, [&](const auto& c) { return c.schema_name == name; });
}

RelationModel* Catalog::relation(const QualifiedName& key) {
  if (!m_relation_at_valid) {
    for (size_t i = 0; i < m_relations.size(); ++i) {
      m_relation_at.emplace(key_of(m_relations[i].fact.schema_name, m_relations[i].fact.name), i);
    }
    m_relation_at_valid = true;
  }
  auto it = m_relation_at.find(key_of(key.first, key.second));
  return it == m_relation_at.end() ? nullptr : &m_relations[it->second];
}

const RelationModel* Catalog::relation(const QualifiedName& key) const {
  return const_cast<Catalog*>(this)->relation(key);
}

RelationModel& Catalog::add_relation(store::RelationFact fact) {
  m_relations.push_back(RelationModel{std::move(fact), {}, {}});
  if (m_relation_at_valid) {
    m_relation_at.emplace(key_of(m_relations.back().fact.schema_name, m_relations.back().fact.name),
                          m_relations.size() - 1);
  }
  return m_relations.back();
}

void Catalog::drop_relation(const QualifiedName& key) {
  auto same_table = [&](const auto& f) {
    return f.schema_name == key.first && f.table_name == key.second;
  };
  erase_where(m_indexes, same_table);
  erase_where(m_constraints, same_table);
  relations_changed();
  constraints_changed();
  erase_where(m_sequences, [&](const auto& s) {
    return (s.schema_name == key.first && s.name == key.second) ||
           (s.owned_by_schema == key.first && s.owned_by_table == key.second);
  });
  erase_where(m_relations, [&](const auto& r) {
    return r.fact.schema_name == key.first && r.fact.name == key.second;
  });
}

void Catalog::rename_relation(const QualifiedName& key, const std::string& new_name) {
  if (auto* r = relation(key)) {
    r->fact.name = new_name;
    for (auto& c : r->columns) {
      c.table_name = new_name;
    }
  }
  for (auto& i : m_indexes) {
    if (i.schema_name == key.first && i.table_name == key.second) {
      i.table_name = new_name;
    }
  }
  for (auto& c : m_constraints) {
    if (c.schema_name == key.first && c.table_name == key.second) {
      c.table_name = new_name;
    }
    if (c.ref_schema == key.first && c.ref_table == key.second) {
      c.ref_table = new_name;
    }
  }
  for (auto& s : m_sequences) {
    if (s.schema_name == key.first && s.name == key.second) {
      s.name = new_name;
    }
    if (s.owned_by_schema == key.first && s.owned_by_table == key.second) {
      s.owned_by_table = new_name;
    }
  }
  for (auto& r : m_relations) {
    for (auto& p : r.parents) {
      if (p == key) {
        p.second = new_name;
      }
    }
  }
  names_changed();
}

void Catalog::move_relation(const QualifiedName& key, const std::string& new_schema) {
  // Indexes, constraints and owned sequences move with their table (ALTER TABLE SET SCHEMA).
  if (auto* r = relation(key)) {
    r->fact.schema_name = new_schema;
    for (auto& c : r->columns) {
      c.schema_name = new_schema;
    }
  }
  for (auto& i : m_indexes) {
    if (i.schema_name == key.first && i.table_name == key.second) {
      i.schema_name = new_schema;
    }
  }
  for (auto& c : m_constraints) {
    if (c.schema_name == key.first && c.table_name == key.second) {
      c.schema_name = new_schema;
    }
    if (c.ref_schema == key.first && c.ref_table == key.second) {
      c.ref_schema = new_schema;
    }
  }
  std::vector<std::string> owned;
  for (auto& s : m_sequences) {
    if (s.schema_name == key.first && s.name == key.second) {
      s.schema_name = new_schema;
    }
    if (s.owned_by_schema == key.first && s.owned_by_table == key.second) {
      s.owned_by_schema = new_schema;
      if (s.schema_name == key.first) {
        owned.push_back(s.name);
        s.schema_name = new_schema;
      }
    }
  }
  for (const auto& name : owned) {
    if (auto* r = relation({key.first, name})) {
      r->fact.schema_name = new_schema;
    }
  }
  names_changed();
}

std::vector<RelationModel*> Catalog::children_of(const QualifiedName& parent) {
  std::vector<RelationModel*> out;
  for (auto& r : m_relations) {
    if (std::find(r.parents.begin(), r.parents.end(), parent) != r.parents.end()) {
      out.push_back(&r);
    }
  }
  return out;
}

bool Catalog::relation_name_taken(const std::string& schema, const std::string& name,
                                  bool constraints) const {
  for (const auto& r : m_relations) {
    if (r.fact.schema_name == schema && r.fact.name == name) {
      return true;
    }
  }
  for (const auto& i : m_indexes) {
    if (i.schema_name == schema && i.name == name) {
      return true;
    }
  }
  if (constraints) {
    for (const auto& c : m_constraints) {
      if (c.schema_name == schema && c.name == name) {
        return true;
      }
    }
  }
  return false;
}

void Catalog::add_type(const std::string& schema, const std::string& name) {
  m_types.emplace(schema, name);
}

bool Catalog::type_exists(const std::string& schema, const std::string& name) const {
  return m_types.count({schema, name}) > 0 || relation({schema, name}) != nullptr;
}

store::SequenceFact* Catalog::sequence(const QualifiedName& key) {
  for (auto& s : m_sequences) {
    if (s.schema_name == key.first && s.name == key.second) {
      return &s;
    }
  }
  return nullptr;
}

store::SequenceFact& Catalog::add_sequence(store::SequenceFact fact) {
  m_sequences.push_back(std::move(fact));
  return m_sequences.back();
}

store::IndexFact* Catalog::index(const QualifiedName& key) {
  for (auto& i : m_indexes) {
    if (i.schema_name == key.first && i.name == key.second) {
      return &i;
    }
  }
  return nullptr;
}

store::IndexFact& Catalog::add_index(store::IndexFact fact) {
  m_indexes.push_back(std::move(fact));
  return m_indexes.back();
}

void Catalog::drop_index(const QualifiedName& key) {
  erase_where(m_indexes,
              [&](const auto& i) { return i.schema_name == key.first && i.name == key.second; });
}

store::ConstraintFact* Catalog::constraint(const std::string& schema, const std::string& table,
                                           const std::string& name) {
  if (!m_constraint_at_valid) {
    for (size_t i = 0; i < m_constraints.size(); ++i) {
      const auto& c = m_constraints[i];
      m_constraint_at.emplace(key_of(c.schema_name, c.table_name, c.name), i);
    }
    m_constraint_at_valid = true;
  }
  auto it = m_constraint_at.find(key_of(schema, table, name));
  return it == m_constraint_at.end() ? nullptr : &m_constraints[it->second];
}

store::ConstraintFact& Catalog::add_constraint(store::ConstraintFact fact) {
  m_constraints.push_back(std::move(fact));
  if (m_constraint_at_valid) {
    const auto& c = m_constraints.back();
    m_constraint_at.emplace(key_of(c.schema_name, c.table_name, c.name), m_constraints.size() - 1);
  }
  return m_constraints.back();
}

void Catalog::drop_constraint(const std::string& schema, const std::string& table,
                              const std::string& name) {
  constraints_changed();
  erase_where(m_constraints, [&](const auto& c) {
    return c.schema_name == schema && c.table_name == table && c.name == name;
  });
  // The index behind a PRIMARY KEY / UNIQUE / EXCLUDE constraint goes with it.
  erase_where(m_indexes, [&](const auto& i) {
    return i.schema_name == schema && i.table_name == table && i.constraint_name == name;
  });
}

std::vector<store::ConstraintFact*> Catalog::constraints_of(const QualifiedName& table) {
  std::vector<store::ConstraintFact*> out;
  for (auto& c : m_constraints) {
    if (c.schema_name == table.first && c.table_name == table.second) {
      out.push_back(&c);
    }
  }
  return out;
}

void Catalog::finalize() {
  // nextval('name'::regclass) with the name as a (possibly qualified, possibly quoted)
  // string literal.
  static const std::string k_prefix = "nextval('";
  static const std::string k_suffix = "'::regclass)";
  for (auto& r : m_relations) {
    for (auto& c : r.columns) {
      if (c.is_serial || !c.default_expr) {
        continue;
      }
      const std::string& d = *c.default_expr;
      if (d.compare(0, k_prefix.size(), k_prefix) != 0) {
        continue;
      }
      size_t end = d.find('\'', k_prefix.size());
      if (end == std::string::npos || d.compare(end, std::string::npos, k_suffix) != 0) {
        continue;
      }
      std::string literal = d.substr(k_prefix.size(), end - k_prefix.size());
      // Split "schema.name" outside double quotes; unquoted parts fold to lower case.
      std::vector<std::string> parts(1);
      bool quoted = false;
      for (size_t i = 0; i < literal.size(); ++i) {
        char ch = literal[i];
        if (ch == '"') {
          if (quoted && i + 1 < literal.size() && literal[i + 1] == '"') {
            parts.back() += '"';
            ++i;
          } else {
            quoted = !quoted;
          }
        } else if (ch == '.' && !quoted) {
          parts.emplace_back();
        } else {
          parts.back() +=
              quoted ? ch : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
      }
      std::vector<std::string> schemas;
      if (parts.size() >= 2) {
        schemas.push_back(parts[parts.size() - 2]);
      } else {
        schemas = {c.schema_name, "public"};
      }
      for (const auto& schema : schemas) {
        const store::SequenceFact* seq = sequence({schema, parts.back()});
        if (seq && seq->owned_by_schema == c.schema_name && seq->owned_by_table == c.table_name &&
            seq->owned_by_column == c.name) {
          c.is_serial = true;
          c.serial_sequence = schema + "." + parts.back();
          break;
        }
      }
    }
  }
}

bool Catalog::has_database_objects() const {
  if (!schema_facts.empty() || !extensions.empty() || !comments.empty() || !m_relations.empty() ||
      !m_indexes.empty() || !m_constraints.empty() || !m_sequences.empty()) {
    return true;
  }
  for (const auto& o : objects) {
    if (o.kind != "role" && o.kind != "database" && o.kind != "tablespace") {
      return true;
    }
  }
  return false;
}

bool Catalog::empty() const {
  return schema_facts.empty() && extensions.empty() && objects.empty() && comments.empty() &&
         m_relations.empty() && m_indexes.empty() && m_constraints.empty() && m_sequences.empty();
}

void Catalog::write(store::FactWriter& out, const store::OptText& db) const {
  for (const auto& f : schema_facts) {
    out.add(with_db(f, db));
  }
  for (const auto& f : extensions) {
    out.add(with_db(f, db));
  }
  for (const auto& r : m_relations) {
    out.add(with_db(r.fact, db));
    for (const auto& c : r.columns) {
      out.add(with_db(c, db));
    }
  }
  for (const auto& f : m_sequences) {
    out.add(with_db(f, db));
  }
  for (const auto& f : m_indexes) {
    out.add(with_db(f, db));
  }
  for (const auto& f : m_constraints) {
    out.add(with_db(f, db));
  }
  for (const auto& f : objects) {
    out.add(with_db(f, db));
  }
  for (const auto& f : comments) {
    out.add(with_db(f, db));
  }
}

}  // namespace dbautopsy::pgsql
