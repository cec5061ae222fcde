#include "pgsql/catalog.hpp"

#include <algorithm>
#include <concepts>
#include <cstring>
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
//
// The texts of an object's key (Shelf::Key) come first, as they are. Every other text is a
// word: the object's key texts in it replaced by the bytes 1, 2 and 3 (byte 4 escapes those
// bytes where the text has them), then its number in the shelf's Words when there is room
// (2 × number), else the bytes (2 × length + 1, then them).

using Key = ObjectKey;
constexpr char k_escape = 4;

// `text` with the key texts in it replaced by their markers, into `out`.
void mark_keys(std::string_view text, const Key& key, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size();) {
    size_t best = key.size();
    size_t best_len = 0;
    for (size_t k = 0; k < key.size(); ++k) {
      const auto& name = key[k];
      if (name.size() > best_len && name.size() <= text.size() - i && text[i] == name[0] &&
          text.compare(i, name.size(), name) == 0) {
        best = k;
        best_len = name.size();
      }
    }
    if (best_len > 0) {
      out.push_back(static_cast<char>(1 + best));
      i += best_len;
      continue;
    }
    char c = text[i++];
    if (c >= 1 && c <= k_escape) {
      out.push_back(k_escape);
    }
    out.push_back(c);
  }
}

// The text mark_keys() made `marked` from.
void unmark_keys(std::string_view marked, const Key& key, std::string& out) {
  out.clear();
  for (size_t i = 0; i < marked.size(); ++i) {
    char c = marked[i];
    if (c >= 1 && c < k_escape) {
      out.append(key[static_cast<size_t>(c - 1)]);
    } else if (c == k_escape) {
      if (++i == marked.size()) {
        throw std::logic_error("catalog: a damaged encoding");
      }
      out.push_back(marked[i]);
    } else {
      out.push_back(c);
    }
  }
}

class Packer {
 public:
  Packer(std::string& out, Words& words, Key key) : m_out(out), m_words(words), m_key(key) {}
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
      list(*v, [&](const std::string& s) { word(s); });
    }
  }
  void word(std::string_view s) {
    mark_keys(s, m_key, m_marked);
    if (auto n = m_words.intern(m_marked)) {
      uint(uint64_t{*n} << 1);
    } else {
      uint((uint64_t{m_marked.size()} << 1) | 1);
      m_out.append(m_marked);
    }
  }
  void opt_word(const store::OptText& s) {
    m_out.push_back(s ? 1 : 0);
    if (s) {
      word(*s);
    }
  }
  // A number near another (a column's line near its table's), as the difference.
  void opt_int_near(const store::OptInt& v, const store::OptInt& near) {
    m_out.push_back(v ? 1 : 0);
    if (v) {
      uint64_t d = static_cast<uint64_t>(*v) - static_cast<uint64_t>(near.value_or(0));
      sint(static_cast<int64_t>(d));
    }
  }

 private:
  std::string& m_out;
  Words& m_words;
  Key m_key;
  std::string m_marked;
};

class Unpacker {
 public:
  explicit Unpacker(std::string_view in, const Words* words = nullptr, Key key = {})
      : m_in(in), m_words(words), m_key(key) {}
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
      list(*v, [&](std::string& s) { word(s); });
    }
  }
  void word(std::string& s) {
    uint64_t n = uint();
    if (n & 1) {
      unmark_keys(take(n >> 1), m_key, s);
    } else if (m_words == nullptr || (n >> 1) > std::numeric_limits<uint32_t>::max()) {
      throw std::logic_error("catalog: a damaged encoding");
    } else {
      unmark_keys(m_words->at(static_cast<uint32_t>(n >> 1)), m_key, s);
    }
  }
  void opt_word(store::OptText& s) {
    if (byte() == 0) {
      s.reset();
    } else {
      s.emplace();
      word(*s);
    }
  }
  void opt_int_near(store::OptInt& v, const store::OptInt& near) {
    if (byte() == 0) {
      v.reset();
    } else {
      int64_t d = 0;
      sint(d);
      v = static_cast<int64_t>(static_cast<uint64_t>(d) + static_cast<uint64_t>(near.value_or(0)));
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
  const Words* m_words;
  Key m_key;
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
  v.word(f.kind);
  v.word(f.persistence);
  v.opt_int(f.line);
  v.opt_word(f.db);
  v.opt_word(f.parent_schema);
  v.opt_word(f.parent_name);
  v.opt_word(f.partition_bound);
  v.opt_word(f.partition_key);
  v.opt_word(f.inherits);
  v.opt_word(f.definition);
  v.list(r.parents, [&](auto& p) {
    v.word(p.first);
    v.word(p.second);
  });
  v.list(r.columns, [&](auto& c) {
    v.word(c.name);
    v.opt_int_near(c.line, f.line);
    v.opt_text_like(c.db, f.db);
    v.text_like(c.schema_name, f.schema_name);
    v.text_like(c.table_name, f.name);
    v.sint(c.ordinal);
    v.word(c.type);
    v.bits(c.not_null, c.is_serial, c.inherited);
    v.opt_word(c.default_expr);
    v.opt_word(c.identity);
    v.opt_word(c.generated);
    v.opt_word(c.generated_expr);
    v.opt_word(c.serial_sequence);
    v.opt_word(c.collation);
  });
}

template <typename V, typename C>
requires std::same_as<std::remove_const_t<C>, store::ConstraintFact>
void fields(V& v, C& c) {
  v.text(c.schema_name);
  v.text(c.table_name);
  v.text(c.name);
  v.opt_int(c.line);
  v.opt_word(c.db);
  v.word(c.kind);
  v.opt_word(c.columns);
  v.opt_word(c.ref_schema);
  v.opt_word(c.ref_table);
  v.opt_word(c.ref_columns);
  v.opt_word(c.on_update);
  v.opt_word(c.on_delete);
  v.bits(c.deferrable, c.validated, c.inherited);
  v.opt_word(c.definition);
}

template <typename V, typename M>
requires std::same_as<std::remove_const_t<M>, IndexModel>
void fields(V& v, M& m) {
  auto& i = m.fact;
  v.text(i.schema_name);
  v.text(i.name);
  v.text(i.table_name);
  v.opt_int(i.line);
  v.opt_word(i.db);
  bool unused = false;
  v.bits(i.is_unique, i.is_primary, unused);
  v.word(i.method);
  v.word(i.columns);
  v.opt_word(i.include_columns);
  v.opt_word(i.predicate);
  v.opt_word(i.constraint_name);
  v.word(i.definition);
  v.opt_texts(m.colnames);
}

template <typename V, typename S>
requires std::same_as<std::remove_const_t<S>, store::SequenceFact>
void fields(V& v, S& s) {
  v.text(s.schema_name);
  v.text(s.name);
  v.opt_int(s.line);
  v.opt_word(s.db);
  v.opt_word(s.data_type);
  v.opt_int(s.start_value);
  v.opt_int(s.increment);
  v.opt_int(s.min_value);
  v.opt_int(s.max_value);
  v.opt_int(s.cache);
  bool unused = false;
  v.bits(s.cycle, s.identity, unused);
  v.opt_word(s.owned_by_schema);
  v.opt_word(s.owned_by_table);
  v.opt_word(s.owned_by_column);
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
  static void encode(const T& obj, std::string& out, Words& words) {
    Packer p(out, words, key(obj));
    fields(p, obj);
  }
  static void decode(std::string_view in, T& obj, const Words& words) {
    Unpacker u(in, &words, packed_key(in));
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
Shelf<T>::Shelf(const Shelf& other) : m_packed(other.m_packed), m_words(other.m_words) {
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
  m_packed.add();
  auto& slot = m_hot[m_packed.size() - 1];
  slot = std::make_unique<T>(std::move(obj));
  return *slot;
}

template <typename T>
T& Shelf<T>::at(size_t i) {
  auto& slot = m_hot[i];
  if (!slot) {
    slot = std::make_unique<T>();
    Codec<T>::decode(m_packed.at(i), *slot, m_words);
    m_packed.drop(i);
  }
  return *slot;
}

template <typename T>
const T& Shelf<T>::view(size_t i, T& scratch) const {
  if (auto it = m_hot.find(i); it != m_hot.end()) {
    return *it->second;
  }
  Codec<T>::decode(m_packed.at(i), scratch, m_words);
  return scratch;
}

template <typename T>
typename Shelf<T>::Key Shelf<T>::key(size_t i) const {
  if (auto it = m_hot.find(i); it != m_hot.end()) {
    return Codec<T>::key(*it->second);
  }
  return Codec<T>::packed_key(m_packed.at(i));
}

template <typename T>
void Shelf<T>::settle() {
  std::string packed;
  for (auto& [i, obj] : m_hot) {
    packed.clear();
    Codec<T>::encode(*obj, packed, m_words);
    m_packed.put(i, packed);
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
  std::unordered_map<size_t, std::unique_ptr<T>> hot;
  auto next = gone.begin();
  for (size_t i = 0, kept = 0; i < m_packed.size(); ++i) {
    if (next != gone.end() && *next == i) {
      ++next;
      continue;
    }
    if (auto it = m_hot.find(i); it != m_hot.end()) {
      hot.emplace(kept, std::move(it->second));
    }
    ++kept;
  }
  m_packed.erase(gone);
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
  std::string packed;
  for (size_t i = 0; i < m_packed.size(); ++i) {
    if (auto it = m_hot.find(i); it != m_hot.end()) {
      fn(*it->second);
      continue;
    }
    T obj;
    Codec<T>::decode(m_packed.at(i), obj, m_words);
    fn(obj);
    packed.clear();
    Codec<T>::encode(obj, packed, m_words);
    if (packed != m_packed.at(i)) {
      m_packed.put(i, packed);
    }
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
// Arena

namespace {
constexpr size_t k_first_chunk = size_t{4} << 10;
constexpr size_t k_chunk = size_t{4} << 20;
}  // namespace

Arena::Arena(const Arena& other) {
  m_at.reserve(other.m_at.size());
  for (size_t i = 0; i < other.m_at.size(); ++i) {
    m_at.push_back(k_none);
    if (other.m_at[i] != k_none) {
      put(i, other.at(i));
    }
  }
}

Arena& Arena::operator=(const Arena& other) {
  if (this != &other) {
    Arena copy(other);
    *this = std::move(copy);
  }
  return *this;
}

std::pair<size_t, size_t> Arena::header(const char* item) {
  uint64_t n = 0;
  for (size_t i = 0, shift = 0;; ++i, shift += 7) {
    auto b = static_cast<unsigned char>(item[i]);
    n |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      return {i + 1, n};
    }
  }
}

const char* Arena::item(uint64_t loc) const {
  return m_chunks[loc >> 32].bytes.get() + (loc & 0xffffffff);
}

std::string_view Arena::at(size_t i) const {
  if (m_at[i] == k_none) {
    return {};
  }
  const char* it = item(m_at[i]);
  auto [header_size, size] = header(it);
  return {it + header_size, size};
}

void Arena::put(size_t i, std::string_view bytes) {
  drop(i);
  char header[10];
  size_t header_size = 0;
  for (uint64_t v = bytes.size();; v >>= 7) {
    header[header_size++] = static_cast<char>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    if (v < 0x80) {
      break;
    }
  }
  size_t size = header_size + bytes.size();
  if (m_chunks.empty() || m_chunks.back().capacity - m_used < size) {
    size_t capacity =
        m_chunks.empty() ? k_first_chunk : std::min(k_chunk, m_chunks.back().capacity * 2);
    capacity = std::max(capacity, size);
    if (capacity > std::numeric_limits<uint32_t>::max() ||
        m_chunks.size() >= std::numeric_limits<uint32_t>::max()) {
      throw std::length_error("catalog: an object of 4 GiB");
    }
    m_chunks.push_back({std::make_unique<char[]>(capacity), capacity});
    m_used = 0;
  }
  char* at = m_chunks.back().bytes.get() + m_used;
  std::memcpy(at, header, header_size);
  if (!bytes.empty()) {
    std::memcpy(at + header_size, bytes.data(), bytes.size());
  }
  m_at[i] = (static_cast<uint64_t>(m_chunks.size() - 1) << 32) | m_used;
  m_used += size;
  m_live += size;
  if (m_dead > m_live / 4 && m_dead > k_first_chunk) {
    compact();
  }
}

void Arena::drop(size_t i) {
  if (m_at[i] != k_none) {
    auto [header_size, size] = header(item(m_at[i]));
    m_live -= header_size + size;
    m_dead += header_size + size;
    m_at[i] = k_none;
  }
}

void Arena::erase(const std::vector<size_t>& gone) {
  auto next = gone.begin();
  size_t kept = 0;
  for (size_t i = 0; i < m_at.size(); ++i) {
    if (next != gone.end() && *next == i) {
      drop(i);
      ++next;
      continue;
    }
    m_at[kept++] = m_at[i];
  }
  m_at.resize(kept);
}

void Arena::compact() {
  // The items in the order they lie, each moved down to the first place it fits: never past
  // where it is, so that moving one never overwrites one not yet moved.
  std::vector<std::pair<uint64_t, size_t>> order;
  order.reserve(m_at.size());
  for (size_t i = 0; i < m_at.size(); ++i) {
    if (m_at[i] != k_none) {
      order.emplace_back(m_at[i], i);
    }
  }
  std::sort(order.begin(), order.end());
  size_t chunk = 0;
  size_t used = 0;
  for (const auto& [loc, i] : order) {
    const char* from = item(loc);
    auto [header_size, payload] = header(from);
    size_t size = header_size + payload;
    while (m_chunks[chunk].capacity - used < size) {
      if (++chunk > (loc >> 32)) {
        throw std::logic_error("catalog: an arena compacted past its items");
      }
      used = 0;
    }
    std::memmove(m_chunks[chunk].bytes.get() + used, from, size);
    m_at[i] = (static_cast<uint64_t>(chunk) << 32) | used;
    used += size;
  }
  if (!m_chunks.empty()) {
    m_chunks.resize(chunk + 1);
  }
  m_used = used;
  m_dead = 0;
}

// ---------------------------------------------------------------------------------------
// Words

std::optional<uint32_t> Words::intern(std::string_view text) {
  uint64_t hash = std::hash<std::string_view>{}(text);
  if (auto at = m_at.find(hash, [&](size_t n) { return m_texts[n] == text; })) {
    return static_cast<uint32_t>(*at);
  }
  if (m_texts.size() >= k_max) {
    return std::nullopt;
  }
  m_texts.emplace_back(text);
  m_at.insert(hash, m_texts.size() - 1);
  return static_cast<uint32_t>(m_texts.size() - 1);
}

std::string_view Words::at(uint32_t n) const {
  if (n >= m_texts.size()) {
    throw std::logic_error("catalog: a damaged encoding");
  }
  return m_texts[n];
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
         settings.empty() && m_relations.empty() && m_indexes.empty() && m_constraints.empty() &&
         m_sequences.empty();
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
  for (const auto& f : settings) {
    out.add(with_db(f, db));
  }
}

}  // namespace dbautopsy::pgsql
