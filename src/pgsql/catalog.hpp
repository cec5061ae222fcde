// An in-memory model of one database's catalog, built by replaying DDL (ddl.hpp).
//
// It holds exactly the fact rows that will be written to the store, plus the lookups that
// replaying DDL needs: relations by (schema, name), index and constraint names per schema
// (PostgreSQL invents names that must not collide with them). Objects keep the order in
// which they were created; dropped ones are removed. The model is small (it grows with
// the DDL of a database, never with its data).
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/facts.hpp"

namespace dbautopsy::pgsql {

using QualifiedName = std::pair<std::string, std::string>;  // (schema, name)

struct RelationModel {
  store::RelationFact fact;
  std::vector<store::ColumnFact> columns;
  std::vector<QualifiedName> parents;  // INHERITS parents, or the partitioned table

  store::ColumnFact* column(const std::string& name);
  bool is_table() const {
    return fact.kind == "table" || fact.kind == "partitioned_table" || fact.kind == "foreign_table";
  }
};

class Catalog {
 public:
  Catalog();

  // Schemas --------------------------------------------------------------------------
  bool schema_exists(const std::string& name) const { return m_schemas.count(name) > 0; }
  void add_schema(const store::SchemaFact& fact);
  void drop_schema(const std::string& name);  // and everything in it

  // Relations (tables, views, sequences, ...) ----------------------------------------
  RelationModel* relation(const QualifiedName& key);
  const RelationModel* relation(const QualifiedName& key) const;
  RelationModel& add_relation(store::RelationFact fact);
  void drop_relation(const QualifiedName& key);  // with its columns, indexes, constraints
  void rename_relation(const QualifiedName& key, const std::string& new_name);
  void move_relation(const QualifiedName& key, const std::string& new_schema);
  std::vector<RelationModel*> children_of(const QualifiedName& parent);

  // True when `name` is taken in `schema` by a relation or an index (one namespace in
  // pg_class), or, when `constraints` is set, by a constraint too.
  bool relation_name_taken(const std::string& schema, const std::string& name,
                           bool constraints) const;

  // Sequences ------------------------------------------------------------------------
  store::SequenceFact* sequence(const QualifiedName& key);
  store::SequenceFact& add_sequence(store::SequenceFact fact);

  // Indexes ----------------------------------------------------------------------------
  store::IndexFact* index(const QualifiedName& key);
  store::IndexFact& add_index(store::IndexFact fact);
  void drop_index(const QualifiedName& key);

  // Constraints --------------------------------------------------------------------------
  store::ConstraintFact* constraint(const std::string& schema, const std::string& table,
                                    const std::string& name);
  store::ConstraintFact& add_constraint(store::ConstraintFact fact);
  void drop_constraint(const std::string& schema, const std::string& table,
                       const std::string& name);
  std::vector<store::ConstraintFact*> constraints_of(const QualifiedName& table);

  // Types ----------------------------------------------------------------------------------
  // User-defined types (enums, domains, composites, ranges, base types, extension types and
  // the row type of every table), by schema: what an unqualified type name can refer to.
  void add_type(const std::string& schema, const std::string& name);
  bool type_exists(const std::string& schema, const std::string& name) const;

  // The columns an index was named from (ChooseIndexColumnNames), kept to name the copies
  // PostgreSQL makes on partitions.
  std::map<QualifiedName, std::vector<std::string>> index_colnames;
  // Indexes of partitions attached to an index of their partitioned parent.
  std::set<QualifiedName> attached_indexes;

  // Everything else --------------------------------------------------------------------
  std::vector<store::SchemaFact> schema_facts;
  std::vector<store::ExtensionFact> extensions;
  std::vector<store::ObjectFact> objects;
  std::vector<store::CommentFact> comments;

  // Derives what only the whole DDL tells: a column is serial when its default is
  // nextval() of a sequence owned by that very column (pg_dump writes the sequence, OWNED
  // BY and SET DEFAULT as separate statements). Call once, before write().
  void finalize();

  // Writes every fact, tagged with `db`.
  void write(store::FactWriter& out, const store::OptText& db) const;
  bool empty() const;
  // Anything that lives inside a database (not roles, databases, tablespaces, which are
  // cluster-wide).
  bool has_database_objects() const;

  // To call after changing the name of a relation or constraint found by relation() or
  // constraint() other than through this class.
  void names_changed() {
    relations_changed();
    constraints_changed();
  }

  const std::deque<RelationModel>& relations() const { return m_relations; }
  const std::deque<store::IndexFact>& indexes() const { return m_indexes; }
  const std::deque<store::ConstraintFact>& constraints() const { return m_constraints; }
  const std::deque<store::SequenceFact>& sequences() const { return m_sequences; }

 private:
  // Deques, not vectors: a vector of a million relations would be copied whole each time it
  // grows (twice the memory for a moment), and a deque keeps references to its elements
  // valid as it grows at the end.
  std::set<std::string> m_schemas;
  std::set<QualifiedName> m_types;
  std::deque<RelationModel> m_relations;
  std::deque<store::SequenceFact> m_sequences;
  std::deque<store::IndexFact> m_indexes;
  std::deque<store::ConstraintFact> m_constraints;

  // Where each relation (schema, name) and constraint (schema, table, name) first is in the
  // containers above, so that a dump of a million tables is not read in quadratic time. Added
  // to by add_*; dropped by anything that renames, moves or erases (rebuilt when next used).
  mutable std::unordered_map<std::string, size_t> m_relation_at;
  mutable bool m_relation_at_valid = true;
  mutable std::unordered_map<std::string, size_t> m_constraint_at;
  mutable bool m_constraint_at_valid = true;
  void relations_changed() {
    m_relation_at.clear();
    m_relation_at_valid = false;
  }
  void constraints_changed() {
    m_constraint_at.clear();
    m_constraint_at_valid = false;
  }
};

}  // namespace dbautopsy::pgsql
