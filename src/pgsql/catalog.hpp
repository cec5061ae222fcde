// An in-memory model of one database's catalog, built by replaying DDL (ddl.hpp).
//
// It holds exactly the fact rows that will be written to the store, plus the lookups that
// replaying DDL needs: relations by (schema, name), index and constraint names per schema
// (PostgreSQL invents names that must not collide with them). Objects keep the order in
// which they were created; dropped ones are removed.
//
// Relations (with their columns), sequences, indexes and constraints are kept encoded (their
// shared texts once, see Words), and decoded when one is asked for: a dump of a million tables
// holds a million of each, about 3.4 KiB a table as structs. An object asked for stays decoded, at
// the same address, until settle() (DdlApplier calls it after each statement) encodes it again.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
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

// An index and the columns it was named from (ChooseIndexColumnNames), kept to name the
// copies PostgreSQL makes on partitions.
struct IndexModel {
  store::IndexFact fact;
  std::optional<std::vector<std::string>> colnames;
};

// Positions by the hash of a key, for a set that is only added to (and rebuilt after a
// change): 8-byte slots (the hash folded to 32 bits, which `find` checks before it asks
// `fn`, and the position), 4/3 to 8/3 of them a position.
class HashIndex {
 public:
  void clear();
  void insert(uint64_t hash, size_t at);
  // Calls `fn` with the positions of `hash` until it returns true; that position, or none.
  std::optional<size_t> find(uint64_t hash, const std::function<bool(size_t)>& fn) const;

 private:
  struct Slot {
    uint32_t hash = 0;
    uint32_t at = 0;  // position + 1; 0 for an empty slot
  };
  static uint32_t fold(uint64_t hash);
  void place(Slot slot);
  std::vector<Slot> m_slots;
  size_t m_count = 0;
};

// Texts that many objects share, each kept once and referred to by its number: types, column
// names, and definitions with the object's own names taken out (`CREATE INDEX \2 ON \1.\3
// USING btree (id)` is the same for every table). Bounded: when full, texts stay in the
// objects that hold them.
class Words {
 public:
  static constexpr size_t k_max = size_t{1} << 16;
  // The number of `text`, added when new; none when full.
  std::optional<uint32_t> intern(std::string_view text);
  std::string_view at(uint32_t n) const;

 private:
  std::vector<std::string> m_texts;
  HashIndex m_at;
};

// Encodings one after another in chunks, each a varint length and the bytes: a byte or two an
// object where a std::string costs 32 and the allocator's own. Replacing or dropping one leaves
// its bytes dead; when they are a quarter of the live ones, the live ones are moved down in
// place (the views handed out before are then no longer valid).
class Arena {
 public:
  Arena() = default;
  Arena(const Arena& other);
  Arena& operator=(const Arena& other);
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  size_t size() const { return m_at.size(); }
  bool empty() const { return m_at.empty(); }
  // A new position, holding nothing.
  void add() { m_at.push_back(k_none); }
  // The bytes at `i`, empty when it holds nothing.
  std::string_view at(size_t i) const;
  void put(size_t i, std::string_view bytes);
  void drop(size_t i);
  // Removes the positions in `gone` (ascending); those after them move down.
  void erase(const std::vector<size_t>& gone);

 private:
  static constexpr uint64_t k_none = ~uint64_t{0};
  struct Chunk {
    std::unique_ptr<char[]> bytes;
    size_t capacity = 0;
  };
  // The size of an item's length header, and the length.
  static std::pair<size_t, size_t> header(const char* item);
  const char* item(uint64_t loc) const;
  void compact();
  std::vector<uint64_t> m_at;  // chunk << 32 | offset, or k_none
  std::vector<Chunk> m_chunks;
  size_t m_used = 0;  // in the last chunk
  size_t m_live = 0;  // bytes of the items held
  size_t m_dead = 0;  // bytes of items replaced or dropped
};

// The strings an object is found by, as views into it: (schema, name) of a relation or a
// sequence, (schema, table, name) of a constraint, (schema, name, table) of an index. Valid
// until the next settle() or update_each() of its shelf (which may move the encodings).
using ObjectKey = std::array<std::string_view, 3>;

// Objects of one kind in their order, kept encoded (Codec<T> in catalog.cpp) except those
// asked for since the last settle().
template <typename T>
class Shelf {
 public:
  using Key = ObjectKey;

  Shelf() = default;
  Shelf(const Shelf& other);
  Shelf& operator=(const Shelf& other);
  Shelf(Shelf&&) = default;
  Shelf& operator=(Shelf&&) = default;

  size_t size() const { return m_packed.size(); }
  bool empty() const { return m_packed.empty(); }
  T& add(T obj);
  // The object, decoded until settle(); its address stays the same until then, also when
  // objects before it are erased.
  T& at(size_t i);
  // The object without keeping it decoded: the decoded one, or `scratch` filled.
  const T& view(size_t i, T& scratch) const;
  Key key(size_t i) const;
  void settle();
  // Removes the objects whose key `maybe` accepts and which `doomed` says (decoded only
  // when `maybe` accepts them); their former positions, in order.
  std::vector<size_t> erase_if(const std::function<bool(const Key&)>& maybe,
                               const std::function<bool(const T&)>& doomed);
  // Calls `fn` with each object, in order (decoded one at a time).
  void for_each(const std::function<void(const T&)>& fn) const;
  // Changes each object with `fn`, in order.
  void update_each(const std::function<void(T&)>& fn);
  // The positions of the decoded objects, in order.
  std::vector<size_t> decoded() const;

 private:
  Arena m_packed;                                        // nothing while decoded
  std::unordered_map<size_t, std::unique_ptr<T>> m_hot;  // decoded, by position
  Words m_words;                                         // texts the encodings share
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
  void for_each_relation(const std::function<void(const RelationModel&)>& fn) const;

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
  void for_each_index(const std::function<void(const store::IndexFact&)>& fn) const;
  // The columns an index was named from, when known.
  std::optional<std::vector<std::string>> index_colnames(const QualifiedName& key);
  void set_index_colnames(const QualifiedName& key, std::vector<std::string> colnames);

  // Constraints --------------------------------------------------------------------------
  store::ConstraintFact* constraint(const std::string& schema, const std::string& table,
                                    const std::string& name);
  store::ConstraintFact& add_constraint(store::ConstraintFact fact);
  void drop_constraint(const std::string& schema, const std::string& table,
                       const std::string& name);
  std::vector<store::ConstraintFact*> constraints_of(const QualifiedName& table);
  // The constraint of `table` added last, if any.
  store::ConstraintFact* last_constraint_of(const QualifiedName& table);
  void for_each_constraint(const std::function<void(const store::ConstraintFact&)>& fn) const;

  // Types ----------------------------------------------------------------------------------
  // User-defined types (enums, domains, composites, ranges, base types, extension types and
  // the row type of every table), by schema: what an unqualified type name can refer to.
  void add_type(const std::string& schema, const std::string& name);
  bool type_exists(const std::string& schema, const std::string& name) const;

  // Indexes of partitions attached to an index of their partitioned parent.
  std::set<QualifiedName> attached_indexes;

  // Everything else --------------------------------------------------------------------
  std::vector<store::SchemaFact> schema_facts;
  std::vector<store::ExtensionFact> extensions;
  std::vector<store::ObjectFact> objects;
  std::vector<store::CommentFact> comments;
  std::vector<store::SettingFact> settings;  // of roles and databases (db_setting)

  // Derives what only the whole DDL tells: a column is serial when its default is
  // nextval() of a sequence owned by that very column (pg_dump writes the sequence, OWNED
  // BY and SET DEFAULT as separate statements). Call once, before write().
  void finalize();

  // Encodes again every object decoded since the last call: the pointers and references
  // handed out before are no longer valid. Call between statements.
  void settle();

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
    indexes_changed();
    sequences_changed();
  }

 private:
  std::set<std::string> m_schemas;
  std::set<QualifiedName> m_types;
  Shelf<RelationModel> m_relations;
  Shelf<store::SequenceFact> m_sequences;
  Shelf<IndexModel> m_indexes;
  Shelf<store::ConstraintFact> m_constraints;
  // The positions of the relations that have parents (INHERITS, PARTITION OF), as of the
  // last settle(); the decoded ones are looked at too.
  std::set<size_t> m_with_parents;
  std::vector<size_t> children_candidates() const;  // m_with_parents and the decoded ones

  // Where each relation (schema, name), sequence (schema, name), index (schema, name) and
  // constraint (schema, table, name) first is, so that a dump of a million tables is not read in
  // quadratic time. Added to by add_*; dropped by anything that renames, moves or erases (rebuilt
  // when next used).
  mutable HashIndex m_relation_at;
  mutable bool m_relation_at_valid = true;
  mutable HashIndex m_constraint_at;
  mutable bool m_constraint_at_valid = true;
  mutable HashIndex m_index_at;
  mutable bool m_index_at_valid = true;
  mutable HashIndex m_sequence_at;
  mutable bool m_sequence_at_valid = true;
  std::optional<size_t> find_relation(const QualifiedName& key) const;
  std::optional<size_t> find_index(const QualifiedName& key) const;
  std::optional<size_t> find_sequence(const QualifiedName& key) const;
  std::optional<size_t> find_constraint(const std::string& schema, const std::string& table,
                                        const std::string& name) const;
  void relations_changed() {
    m_relation_at.clear();
    m_relation_at_valid = false;
  }
  void constraints_changed() {
    m_constraint_at.clear();
    m_constraint_at_valid = false;
  }
  void indexes_changed() {
    m_index_at.clear();
    m_index_at_valid = false;
  }
  void sequences_changed() {
    m_sequence_at.clear();
    m_sequence_at_valid = false;
  }
};

}  // namespace dbautopsy::pgsql
