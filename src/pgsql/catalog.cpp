#include "pgsql/catalog.hpp"

#include <algorithm>
#include <concepts>
#include <limits>
#include <stdexcept>

namespace dbautopsy::pgsql {

namespace {

template <typename Container, typename Pred>
void erase_where(Container& v, Pred pred) {
  v.erase(std::remove_if(v.begin(), v.end(), pred), v.end());
}

uint64_t hash_of(std::string_view a, std::string_view b, std::string_view c = {}) {
  std::string k;
  k.reserve(a.size() + b.size() + c.size() + 2);
  k.append(a).push_back('\0');
  k.append(b).push_back('\0');
  k.append(c);
  return std::hash<std::string>{}(k);
}

template <typename Fact>
Fact with_db(Fact f, const store::OptText& db) {
  f.db = db;
  return f;
}

// ---------------------------------------------------------------------------------------
// The encoding: varints, texts as length and bytes, optional texts with length + 1 (0 for
// none); a text that is mostly the same as another (a column's table name) as 0 when it is.
// Each kind of object lists its fields once (fields() below), for the Packer and the
// Unpacker alike, so that the two cannot disagree on their order.

class Packer {
 public:
  explicit Packer(std::string& out) : m_out(out) {}
  void uint(uint64_t v) {
    while (v >= 0x80) {
      m_out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    m_out.push_back(static_cast<char>(v));
  }
  void sint(const int64_t& v) {
    uint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void bits(const bool& a, const bool& b, const bool& c) {
    uint((a ? 1 : 0) | (b ? 2 : 0) | (c ? 4 : 0));
  }
  void text(const std::string& s) {
    uint(s.size());
    m_out.append(s);
  }
  void opt_text(const store::OptText& s) {
    if (!s) {
      uint(0);
    } else {
      uint(s->size() + 1);
      m_out.append(*s);
    }
  }
  void opt_int(const store::OptInt& v) {
    m_out.push_back(v ? 1 : 0);
    if (v) {
      sint(*v);
    }
  }
  void text_like(const std::string& s, const std::string& same) {
    if (s == same) {
      uint(0);
    } else {
      uint(s.size() + 1);
      m_out.append(s);
    }
  }
  void opt_text_like(const store::OptText& s, const store::OptText& same) {
    if (s == same) {
      uint(0);
    } else if (!s) {
      uint(1);
    } else {
      uint(s->size() + 2);
      m_out.append(*s);
    }
  }
  template <typename E, typename F>
  void list(const std::vector<E>& v, F&& each) {
    uint(v.size());
    for (const auto& e : v) {
      each(e);
    }
  }
  void opt_texts(const std::optional<std::vector<std::string>>& v) {
    m_out.push_back(v ? 1 : 0);
    if (v) {
      list(*v, [&](const std::string& s) { text(s); });
    }
  }

 private:
  std::string& m_out;
};

class Unpacker {
 public:
  explicit Unpacker(std::string_view in) : m_in(in) {}
  uint64_t uint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      auto b = static_cast<unsigned char>(byte());
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return v;
      }
    }
    throw std::logic_error("catalog: a damaged encoding");
  }
  void sint(int64_t& v) {
    uint64_t u = uint();
    v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  void bits(bool& a, bool& b, bool& c) {
    uint64_t v = uint();
    a = (v & 1) != 0;
    b = (v & 2) != 0;
    c = (v & 4) != 0;
  }
  std::string_view text_view() { return take(uint()); }
  void text(std::string& s) { s = text_view(); }
  void opt_text(store::OptText& s) {
    uint64_t n = uint();
    if (n == 0) {
      s.reset();
    } else {
      s = std::string(take(n - 1));
    }
  }
  void opt_int(store::OptInt& v) {
    if (byte() == 0) {
      v.reset();
    } else {
      int64_t x = 0;
      sint(x);
      v = x;
    }
  }
  void text_like(std::string& s, const std::string& same) {
    uint64_t n = uint();
    s = n == 0 ? same : std::string(take(n - 1));
  }
  void opt_text_like(store::OptText& s, const store::OptText& same) {
    uint64_t n = uint();
    if (n == 0) {
      s = same;
    } else if (n == 1) {
      s.reset();
    } else {
      s = std::string(take(n - 2));
    }
  }
  template <typename E, typename F>
  void list(std::vector<E>& v, F&& each) {
    v.clear();
    v.resize(uint());
    for (auto& e : v) {
      each(e);
    }
  }
  void opt_texts(std::optional<std::vector<std::string>>& v) {
    if (byte() == 0) {
      v.reset();
    } else {
      v.emplace();
      list(*v, [&](std::string& s) { text(s); });
    }
  }

 private:
  char byte() {
    if (m_pos >= m_in.size()) {
      throw std::logic_error("catalog: a damaged encoding");
    }
    return m_in[m_pos++];
  }
  std::string_view take(uint64_t n) {
    if (n > m_in.size() - m_pos) {
      throw std::logic_error("catalog: a damaged encoding");
    }
    std::string_view v = m_in.substr(m_pos, n);
    m_pos += n;
    return v;
  }
  std::string_view m_in;
  size_t m_pos = 0;
};

// A field added to one of these facts must be added to its list below, or the catalog drops
// it without a word: their sizes (x86-64, libstdc++) say when one changed.
static_assert(sizeof(store::RelationFact) == 424, "a RelationFact field: see fields()");
static_assert(sizeof(store::ColumnFact) == 456, "a ColumnFact field: see fields()");
static_assert(sizeof(store::ConstraintFact) == 472, "a ConstraintFact field: see fields()");
static_assert(sizeof(store::IndexFact) == 376, "an IndexFact field: see fields()");
static_assert(sizeof(store::SequenceFact) == 408, "a SequenceFact field: see fields()");

// The fields of each kind, in their encoded order; `R` is the object, const when packed.
// Each begins with the texts of its key (Shelf::Key), so that keys are read without
// decoding the rest.
template <typename V, typename R>
requires std::same_as<std::remove_const_t<R>, RelationModel>
void fields(V& v, R& r) {
  auto& f = r.fact;
  v.text(f.schema_name);
  v.text(f.name);
  v.text(f.kind);
  v.text(f.persistence);
  v.opt_int(f.line);
  v.opt_text(f.db);
  v.opt_text(f.parent_schema);
  v.opt_text(f.parent_name);
  v.opt_text(f.partition_bound);
  v.opt_text(f.partition_key);
  v.opt_text(f.inherits);
  v.opt_text(f.definition);
  v.list(r.parents, [&](auto& p) {
    v.text(p.first);
    v.text(p.second);
  });
  v.list(r.columns, [&](auto& c) {
    v.text(c.name);
    v.opt_int(c.line);
    v.opt_text_like(c.db, f.db);
    v.text_like(c.schema_name, f.schema_name);
    v.text_like(c.table_name, f.name);
    v.sint(c.ordinal);
    v.text(c.type);
    v.bits(c.not_null, c.is_serial, c.inherited);
    v.opt_text(c.default_expr);
    v.opt_text(c.identity);
    v.opt_text(c.generated);
    v.opt_text(c.generated_expr);
    v.opt_text(c.serial_sequence);
    v.opt_text(c.collation);
  });
}

template <typename V, typename C>
requires std::same_as<std::remove_const_t<C>, store::ConstraintFact>
void fields(V& v, C& c) {
  v.text(c.schema_name);
  v.text(c.table_name);
  v.text(c.name);
  v.opt_int(c.line);
  v.opt_text(c.db);
  v.text(c.kind);
  v.opt_text(c.columns);
  v.opt_text(c.ref_schema);
  v.opt_text(c.ref_table);
  v.opt_text(c.ref_columns);
  v.opt_text(c.on_update);
  v.opt_text(c.on_delete);
  v.bits(c.deferrable, c.validated, c.inherited);
  v.opt_text(c.definition);
}

template <typename V, typename M>
requires std::same_as<std::remove_const_t<M>, IndexModel>
void fields(V& v, M& m) {
  auto& i = m.fact;
  v.text(i.schema_name);
  v.text(i.name);
  v.text(i.table_name);
  v.opt_int(i.line);
  v.opt_text(i.db);
  bool unused = false;
  v.bits(i.is_unique, i.is_primary, unused);
  v.text(i.method);
  v.text(i.columns);
  v.opt_text(i.include_columns);
  v.opt_text(i.predicate);
  v.opt_text(i.constraint_name);
  v.text(i.definition);
  v.opt_texts(m.colnames);
}

template <typename V, typename S>
requires std::same_as<std::remove_const_t<S>, store::SequenceFact>
void fields(V& v, S& s) {
  v.text(s.schema_name);
  v.text(s.name);
  v.opt_int(s.line);
  v.opt_text(s.db);
  v.opt_text(s.data_type);
  v.opt_int(s.start_value);
  v.opt_int(s.increment);
  v.opt_int(s.min_value);
  v.opt_int(s.max_value);
  v.opt_int(s.cache);
  bool unused = false;
  v.bits(s.cycle, s.identity, unused);
  v.opt_text(s.owned_by_schema);
  v.opt_text(s.owned_by_table);
  v.opt_text(s.owned_by_column);
  v.opt_int(s.last_value);
  v.opt_int(s.is_called);
}

// The texts an object is found by (Shelf::Key), the first of its encoding.
Shelf<RelationModel>::Key key_of(const RelationModel& r) {
  return {r.fact.schema_name, r.fact.name, {}};
}
Shelf<store::ConstraintFact>::Key key_of(const store::ConstraintFact& c) {
  return {c.schema_name, c.table_name, c.name};
}
Shelf<IndexModel>::Key key_of(const IndexModel& m) {
  return {m.fact.schema_name, m.fact.name, m.fact.table_name};
}
Shelf<store::SequenceFact>::Key key_of(const store::SequenceFact& s) {
  return {s.schema_name, s.name, {}};
}
template <typename T>
constexpr size_t k_key_texts = 3;
template <>
constexpr size_t k_key_texts<RelationModel> = 2;
template <>
constexpr size_t k_key_texts<store::SequenceFact> = 2;

}  // namespace

template <typename T>
struct Codec {
  static void encode(const T& obj, std::string& out) {
    Packer p(out);
    fields(p, obj);
  }
  static void decode(std::string_view in, T& obj) {
    Unpacker u(in);
    fields(u, obj);
  }
  static typename Shelf<T>::Key key(const T& obj) { return key_of(obj); }
  static typename Shelf<T>::Key packed_key(std::string_view in) {
    Unpacker u(in);
    typename Shelf<T>::Key k{};
    for (size_t n = 0; n < k_key_texts<T>; ++n) {
      k[n] = u.text_view();
    }
    return k;
  }
};

// ---------------------------------------------------------------------------------------
// Shelf

template <typename T>
Shelf<T>::Shelf(const Shelf& other) : m_packed(other.m_packed) {
  for (const auto& [i, obj] : other.m_hot) {
    m_hot.emplace(i, std::make_unique<T>(*obj));
  }
}

template <typename T>
Shelf<T>& Shelf<T>::operator=(const Shelf& other) {
  if (this != &other) {
    Shelf copy(other);
    *this = std::move(copy);
  }
  return *this;
}

template <typename T>
T& Shelf<T>::add(T obj) {
  m_packed.emplace_back();
  auto& slot = m_hot[m_packed.size() - 1];
  slot = std::make_unique<T>(std::move(obj));
  return *slot;
}

template <typename T>
T& Shelf<T>::at(size_t i) {
  auto& slot = m_hot[i];
  if (!slot) {
    slot = std::make_unique<T>();
    Codec<T>::decode(m_packed[i], *slot);
    std::string().swap(m_packed[i]);
  }
  return *slot;
}

template <typename T>
const T& Shelf<T>::view(size_t i, T& scratch) const {
  if (auto it = m_hot.find(i); it != m_hot.end()) {
    return *it->second;
  }
  Codec<T>::decode(m_packed[i], scratch);
  return scratch;
}

template <typename T>
typename Shelf<T>::Key Shelf<T>::key(size_t i) const {
  if (auto it = m_hot.find(i); it != m_hot.end()) {
    return Codec<T>::key(*it->second);
  }
  return Codec<T>::packed_key(m_packed[i]);
}

template <typename T>
void Shelf<T>::settle() {
  for (auto& [i, obj] : m_hot) {
    std::string packed;
    Codec<T>::encode(*obj, packed);
    packed.shrink_to_fit();
    m_packed[i] = std::move(packed);
  }
  m_hot.clear();
}

template <typename T>
std::vector<size_t> Shelf<T>::erase_if(const std::function<bool(const Key&)>& maybe,
                                       const std::function<bool(const T&)>& doomed) {
  std::vector<size_t> gone;
  T scratch;
  for (size_t i = 0; i < m_packed.size(); ++i) {
    if (maybe(key(i)) && doomed(view(i, scratch))) {
      gone.push_back(i);
    }
  }
  if (gone.empty()) {
    return gone;
  }
  std::deque<std::string> kept;
  std::unordered_map<size_t, std::unique_ptr<T>> hot;
  auto next = gone.begin();
  for (size_t i = 0; i < m_packed.size(); ++i) {
    if (next != gone.end() && *next == i) {
      ++next;
      continue;
    }
    if (auto it = m_hot.find(i); it != m_hot.end()) {
      hot.emplace(kept.size(), std::move(it->second));
    }
    kept.push_back(std::move(m_packed[i]));
  }
  m_packed = std::move(kept);
  m_hot = std::move(hot);
  return gone;
}

template <typename T>
std::vector<size_t> Shelf<T>::decoded() const {
  std::vector<size_t> out;
  out.reserve(m_hot.size());
  for (const auto& [i, obj] : m_hot) {
    out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  return out;
}

template <typename T>
void Shelf<T>::for_each(const std::function<void(const T&)>& fn) const {
  T scratch;
  for (size_t i = 0; i < m_packed.size(); ++i) {
    fn(view(i, scratch));
  }
}

template <typename T>
void Shelf<T>::update_each(const std::function<void(T&)>& fn) {
  for (size_t i = 0; i < m_packed.size(); ++i) {
    if (auto it = m_hot.find(i); it != m_hot.end()) {
      fn(*it->second);
      continue;
    }
    T obj;
    Codec<T>::decode(m_packed[i], obj);
    fn(obj);
    std::string packed;
    Codec<T>::encode(obj, packed);
    packed.shrink_to_fit();
    m_packed[i] = std::move(packed);
  }
}

template class Shelf<RelationModel>;
template class Shelf<IndexModel>;
template class Shelf<store::ConstraintFact>;
template class Shelf<store::SequenceFact>;

// ---------------------------------------------------------------------------------------
// HashIndex

void HashIndex::clear() {
  std::vector<Slot>().swap(m_slots);
  m_count = 0;
}

uint32_t HashIndex::fold(uint64_t hash) {
  return static_cast<uint32_t>(hash ^ (hash >> 32));
}

void HashIndex::insert(uint64_t hash, size_t at) {
  if (at >= std::numeric_limits<uint32_t>::max()) {
    throw std::length_error("a catalog of 4 billion objects of one kind");
  }
  if ((m_count + 1) * 4 > m_slots.size() * 3) {
    std::vector<Slot> old;
    old.swap(m_slots);
    m_slots.assign(std::max<size_t>(16, old.size() * 2), Slot{});
    m_count = 0;
    for (const auto& s : old) {
      if (s.at != 0) {
        place(s);
      }
    }
  }
  place(Slot{fold(hash), static_cast<uint32_t>(at + 1)});
}

void HashIndex::place(Slot slot) {
  size_t mask = m_slots.size() - 1;
  for (size_t i = slot.hash & mask;; i = (i + 1) & mask) {
    if (m_slots[i].at == 0) {
      m_slots[i] = slot;
      ++m_count;
      return;
    }
  }
}

std::optional<size_t> HashIndex::find(uint64_t hash, const std::function<bool(size_t)>& fn) const {
  if (m_slots.empty()) {
    return std::nullopt;
  }
  uint32_t h = fold(hash);
  size_t mask = m_slots.size() - 1;
  for (size_t i = h & mask; m_slots[i].at != 0; i = (i + 1) & mask) {
    if (m_slots[i].hash == h && fn(m_slots[i].at - 1)) {
      return m_slots[i].at - 1;
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Catalog

namespace {

// The position of the object whose first `parts` key texts are `want`'s, by `index` (built
// from the shelf's keys first when it is not `valid`).
template <typename T>
std::optional<size_t> find_by_key(const Shelf<T>& shelf, HashIndex& index, bool& valid,
                                  size_t parts, const typename Shelf<T>::Key& want) {
  auto hash = [parts](const typename Shelf<T>::Key& k) {
    return hash_of(k[0], k[1], parts == 3 ? k[2] : std::string_view());
  };
  if (!valid) {
    for (size_t i = 0; i < shelf.size(); ++i) {
      index.insert(hash(shelf.key(i)), i);
    }
    valid = true;
  }
  return index.find(hash(want), [&](size_t i) {
    auto k = shelf.key(i);
    for (size_t p = 0; p < parts; ++p) {
      if (k[p] != want[p]) {
        return false;
      }
    }
    return true;
  });
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
  for (size_t i = 0; i < m_relations.size(); ++i) {
    auto k = m_relations.key(i);
    if (k[0] == name) {
      doomed.emplace_back(std::string(k[0]), std::string(k[1]));
    }
  }
  for (const auto& key : doomed) {
    drop_relation(key);
  }
  m_sequences.erase_if([&](const auto& k) { return k[0] == name; },
                       [](const auto&) { return true; });
  sequences_changed();
  erase_where(objects, [&](const auto& o) { return o.schema_name == name; });
  erase_where(comments, [&](const auto& c) { return c.schema_name == name; });
}

std::optional<size_t> Catalog::find_relation(const QualifiedName& key) const {
  return find_by_key(m_relations, m_relation_at, m_relation_at_valid, 2,
                     {key.first, key.second, {}});
}

RelationModel* Catalog::relation(const QualifiedName& key) {
  auto at = find_relation(key);
  return at ? &m_relations.at(*at) : nullptr;
}

const RelationModel* Catalog::relation(const QualifiedName& key) const {
  return const_cast<Catalog*>(this)->relation(key);
}

RelationModel& Catalog::add_relation(store::RelationFact fact) {
  RelationModel& r = m_relations.add(RelationModel{std::move(fact), {}, {}});
  if (m_relation_at_valid) {
    m_relation_at.insert(hash_of(r.fact.schema_name, r.fact.name), m_relations.size() - 1);
  }
  return r;
}

void Catalog::drop_relation(const QualifiedName& key) {
  auto same_table_key = [&](std::string_view schema, std::string_view table) {
    return schema == key.first && table == key.second;
  };
  m_indexes.erase_if([&](const auto& k) { return same_table_key(k[0], k[2]); },
                     [](const auto&) { return true; });
  m_constraints.erase_if([&](const auto& k) { return same_table_key(k[0], k[1]); },
                         [](const auto&) { return true; });
  // A sequence owned by a table is in the table's schema (PostgreSQL refuses OWNED BY a
  // table of another schema, and ALTER TABLE SET SCHEMA moves it along).
  m_sequences.erase_if([&](const auto& k) { return k[0] == key.first; },
                       [&](const store::SequenceFact& s) {
                         return s.name == key.second ||
                                (s.owned_by_schema == key.first && s.owned_by_table == key.second);
                       });
  std::vector<size_t> gone = m_relations.erase_if(
      [&](const auto& k) { return same_table_key(k[0], k[1]); }, [](const auto&) { return true; });
  // The positions after the dropped ones move down.
  std::set<size_t> with_parents;
  for (size_t i : m_with_parents) {
    auto below = std::lower_bound(gone.begin(), gone.end(), i);
    if (below == gone.end() || *below != i) {
      with_parents.insert(i - static_cast<size_t>(below - gone.begin()));
    }
  }
  m_with_parents = std::move(with_parents);
  names_changed();
}

void Catalog::rename_relation(const QualifiedName& key, const std::string& new_name) {
  if (auto* r = relation(key)) {
    r->fact.name = new_name;
    for (auto& c : r->columns) {
      c.table_name = new_name;
    }
  }
  for (size_t i = 0; i < m_indexes.size(); ++i) {
    auto k = m_indexes.key(i);
    if (k[0] == key.first && k[2] == key.second) {
      m_indexes.at(i).fact.table_name = new_name;
    }
  }
  m_constraints.update_each([&](store::ConstraintFact& c) {
    if (c.schema_name == key.first && c.table_name == key.second) {
      c.table_name = new_name;
    }
    if (c.ref_schema == key.first && c.ref_table == key.second) {
      c.ref_table = new_name;
    }
  });
  m_sequences.update_each([&](store::SequenceFact& s) {
    if (s.schema_name == key.first && s.name == key.second) {
      s.name = new_name;
    }
    if (s.owned_by_schema == key.first && s.owned_by_table == key.second) {
      s.owned_by_table = new_name;
    }
  });
  for (size_t i : children_candidates()) {
    for (auto& p : m_relations.at(i).parents) {
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
  for (size_t i = 0; i < m_indexes.size(); ++i) {
    auto k = m_indexes.key(i);
    if (k[0] == key.first && k[2] == key.second) {
      m_indexes.at(i).fact.schema_name = new_schema;
    }
  }
  m_constraints.update_each([&](store::ConstraintFact& c) {
    if (c.schema_name == key.first && c.table_name == key.second) {
      c.schema_name = new_schema;
    }
    if (c.ref_schema == key.first && c.ref_table == key.second) {
      c.ref_schema = new_schema;
    }
  });
  std::vector<std::string> owned;
  m_sequences.update_each([&](store::SequenceFact& s) {
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
  });
  for (const auto& name : owned) {
    if (auto* r = relation({key.first, name})) {
      r->fact.schema_name = new_schema;
    }
  }
  names_changed();
}

std::vector<size_t> Catalog::children_candidates() const {
  std::vector<size_t> out(m_with_parents.begin(), m_with_parents.end());
  for (size_t i : m_relations.decoded()) {
    out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<RelationModel*> Catalog::children_of(const QualifiedName& parent) {
  std::vector<RelationModel*> out;
  for (size_t i : children_candidates()) {
    RelationModel& r = m_relations.at(i);
    if (std::find(r.parents.begin(), r.parents.end(), parent) != r.parents.end()) {
      out.push_back(&r);
    }
  }
  return out;
}

void Catalog::for_each_relation(const std::function<void(const RelationModel&)>& fn) const {
  m_relations.for_each(fn);
}

bool Catalog::relation_name_taken(const std::string& schema, const std::string& name,
                                  bool constraints) const {
  if (find_relation({schema, name}) || find_index({schema, name})) {
    return true;
  }
  if (constraints) {
    for (size_t i = 0; i < m_constraints.size(); ++i) {
      auto k = m_constraints.key(i);
      if (k[0] == schema && k[2] == name) {
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
  return m_types.count({schema, name}) > 0 || find_relation({schema, name}).has_value();
}

std::optional<size_t> Catalog::find_sequence(const QualifiedName& key) const {
  return find_by_key(m_sequences, m_sequence_at, m_sequence_at_valid, 2,
                     {key.first, key.second, {}});
}

store::SequenceFact* Catalog::sequence(const QualifiedName& key) {
  auto at = find_sequence(key);
  return at ? &m_sequences.at(*at) : nullptr;
}

store::SequenceFact& Catalog::add_sequence(store::SequenceFact fact) {
  store::SequenceFact& s = m_sequences.add(std::move(fact));
  if (m_sequence_at_valid) {
    m_sequence_at.insert(hash_of(s.schema_name, s.name), m_sequences.size() - 1);
  }
  return s;
}

std::optional<size_t> Catalog::find_index(const QualifiedName& key) const {
  return find_by_key(m_indexes, m_index_at, m_index_at_valid, 2, {key.first, key.second, {}});
}

store::IndexFact* Catalog::index(const QualifiedName& key) {
  auto at = find_index(key);
  return at ? &m_indexes.at(*at).fact : nullptr;
}

store::IndexFact& Catalog::add_index(store::IndexFact fact) {
  IndexModel& m = m_indexes.add(IndexModel{std::move(fact), std::nullopt});
  if (m_index_at_valid) {
    m_index_at.insert(hash_of(m.fact.schema_name, m.fact.name), m_indexes.size() - 1);
  }
  return m.fact;
}

void Catalog::drop_index(const QualifiedName& key) {
  m_indexes.erase_if([&](const auto& k) { return k[0] == key.first && k[1] == key.second; },
                     [](const auto&) { return true; });
  indexes_changed();
}

void Catalog::for_each_index(const std::function<void(const store::IndexFact&)>& fn) const {
  m_indexes.for_each([&](const IndexModel& m) { fn(m.fact); });
}

std::optional<std::vector<std::string>> Catalog::index_colnames(const QualifiedName& key) {
  auto at = find_index(key);
  return at ? m_indexes.at(*at).colnames : std::nullopt;
}

void Catalog::set_index_colnames(const QualifiedName& key, std::vector<std::string> colnames) {
  if (auto at = find_index(key)) {
    m_indexes.at(*at).colnames = std::move(colnames);
  }
}

std::optional<size_t> Catalog::find_constraint(const std::string& schema, const std::string& table,
                                               const std::string& name) const {
  return find_by_key(m_constraints, m_constraint_at, m_constraint_at_valid, 3,
                     {schema, table, name});
}

store::ConstraintFact* Catalog::constraint(const std::string& schema, const std::string& table,
                                           const std::string& name) {
  auto at = find_constraint(schema, table, name);
  return at ? &m_constraints.at(*at) : nullptr;
}

store::ConstraintFact& Catalog::add_constraint(store::ConstraintFact fact) {
  store::ConstraintFact& c = m_constraints.add(std::move(fact));
  if (m_constraint_at_valid) {
    m_constraint_at.insert(hash_of(c.schema_name, c.table_name, c.name), m_constraints.size() - 1);
  }
  return c;
}

void Catalog::drop_constraint(const std::string& schema, const std::string& table,
                              const std::string& name) {
  m_constraints.erase_if(
      [&](const auto& k) { return k[0] == schema && k[1] == table && k[2] == name; },
      [](const auto&) { return true; });
  // The index behind a PRIMARY KEY / UNIQUE / EXCLUDE constraint goes with it.
  m_indexes.erase_if([&](const auto& k) { return k[0] == schema && k[2] == table; },
                     [&](const IndexModel& m) { return m.fact.constraint_name == name; });
  constraints_changed();
  indexes_changed();
}

std::vector<store::ConstraintFact*> Catalog::constraints_of(const QualifiedName& table) {
  std::vector<size_t> at;
  for (size_t i = 0; i < m_constraints.size(); ++i) {
    auto k = m_constraints.key(i);
    if (k[0] == table.first && k[1] == table.second) {
      at.push_back(i);
    }
  }
  std::vector<store::ConstraintFact*> out;
  for (size_t i : at) {
    out.push_back(&m_constraints.at(i));
  }
  return out;
}

store::ConstraintFact* Catalog::last_constraint_of(const QualifiedName& table) {
  for (size_t i = m_constraints.size(); i-- > 0;) {
    auto k = m_constraints.key(i);
    if (k[0] == table.first && k[1] == table.second) {
      return &m_constraints.at(i);
    }
  }
  return nullptr;
}

void Catalog::for_each_constraint(
    const std::function<void(const store::ConstraintFact&)>& fn) const {
  m_constraints.for_each(fn);
}

void Catalog::finalize() {
  // nextval('name'::regclass) with the name as a (possibly qualified, possibly quoted)
  // string literal.
  static const std::string k_prefix = "nextval('";
  static const std::string k_suffix = "'::regclass)";
  store::SequenceFact scratch;
  m_relations.update_each([&](RelationModel& r) {
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
        auto at = find_sequence({schema, parts.back()});
        const store::SequenceFact* seq = at ? &m_sequences.view(*at, scratch) : nullptr;
        if (seq && seq->owned_by_schema == c.schema_name && seq->owned_by_table == c.table_name &&
            seq->owned_by_column == c.name) {
          c.is_serial = true;
          c.serial_sequence = schema + "." + parts.back();
          break;
        }
      }
    }
  });
}

void Catalog::settle() {
  for (size_t i : m_relations.decoded()) {
    if (m_relations.at(i).parents.empty()) {
      m_with_parents.erase(i);
    } else {
      m_with_parents.insert(i);
    }
  }
  m_relations.settle();
  m_indexes.settle();
  m_constraints.settle();
  m_sequences.settle();
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
  m_relations.for_each([&](const RelationModel& r) {
    out.add(with_db(r.fact, db));
    for (const auto& c : r.columns) {
      out.add(with_db(c, db));
    }
  });
  m_sequences.for_each([&](const store::SequenceFact& s) { out.add(with_db(s, db)); });
  m_indexes.for_each([&](const IndexModel& m) { out.add(with_db(m.fact, db)); });
  m_constraints.for_each([&](const store::ConstraintFact& c) { out.add(with_db(c, db)); });
  for (const auto& f : objects) {
    out.add(with_db(f, db));
  }
  for (const auto& f : comments) {
    out.add(with_db(f, db));
  }
}

}  // namespace dbautopsy::pgsql
