// Derived facts about the data of the dumps: natural keys of parent tables, which columns
// refer to which table, ids that an ETL changed between two snapshots, and child rows
// whose parent is gone (with the id they should point at, when it can be known).
//
// Everything is computed from the stored rows (table_row: the first --row-cap rows of each
// table) and the schema facts of the same snapshot; tables whose rows were not all stored
// say so in the evidence.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/json_row.hpp"
#include "base/text.hpp"
#include "base/timing.hpp"
#include "rules/engine/derive.hpp"
#include "rules/engine/sql_functions.hpp"

namespace dbautopsy::rules {

namespace {

using Value = std::optional<std::string>;
using View = json_row::View;

// The stored rows of a table, read back into blocks of memory that never move: each row's
// values are views of them. (Up to --row-cap rows of every table are read; a string per
// value made allocation, and the fresh memory it touches, most of the reading.)
struct RowText {
  static constexpr size_t k_block = size_t{1} << 20;
  std::vector<std::unique_ptr<char[]>> blocks;
  std::vector<View> cells;
  char* free = nullptr;  // where the last block's unused room starts
  size_t room = 0;

  // Keeps the values decode_into() put in `scratch` and `row`, and returns where the first
  // of them is in `cells`.
  size_t add(const std::string& scratch, const std::vector<json_row::Cell>& row) {
    if (scratch.size() > room) {
      room = std::max(k_block, scratch.size());
      blocks.emplace_back(new char[room]);  // (not zeroed: only what is copied is touched)
      free = blocks.back().get();
    }
    std::copy(scratch.begin(), scratch.end(), free);
    size_t first = cells.size();
    for (const json_row::Cell& c : row) {
      cells.push_back(c.null ? View() : View(std::string_view(free + c.at, c.size)));
    }
    free += scratch.size();
    room -= scratch.size();
    return first;
  }
};

struct Row {
  int64_t line = 0;
  std::span<const View> values;  // of its table's RowText
};

struct Table {
  std::string schema, name;
  std::vector<std::string> columns;
  std::map<std::string, std::string> types;     // column -> type
  std::map<std::string, std::string> defaults;  // column -> default expression
  std::vector<Row> rows;                // read by load_rows(), for the tables that need them
  std::shared_ptr<const RowText> text;  // what the rows' values view (a copy shares it)
  int64_t artifact = 0;
  int64_t section = 0;  // of table_row
  int64_t total_rows = 0;
  int64_t stored_rows = 0;
  bool complete = true;           // the data section ended with its "\." (not truncated)
  std::optional<std::string> pk;  // single-column primary key
  std::set<std::string> surrogates;

  int index_of(const std::string& column) const {
    auto it = std::find(columns.begin(), columns.end(), column);
    return it == columns.end() ? -1 : static_cast<int>(it - columns.begin());
  }
  bool all_rows() const { return static_cast<int64_t>(rows.size()) == total_rows; }
  bool loaded() const { return text != nullptr; }
};

struct Snapshot {
  int64_t id = 0;
  int64_t schema_artifact = 0;
  std::optional<int64_t> data_artifact;
  std::optional<std::string> db;
  std::map<std::pair<std::string, std::string>, Table> tables;
};

std::vector<std::string> split_columns(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string c = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!c.empty() && c.front() == ' ') {
      c.erase(0, 1);
    }
    while (!c.empty() && c.back() == ' ') {
      c.pop_back();
    }
    if (c.size() >= 2 && c.front() == '"' && c.back() == '"') {
      c = c.substr(1, c.size() - 2);
    }
    if (!c.empty()) {
      out.push_back(c);
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

// Reads a table's stored rows, once: only the tables that a key or reference check reads
// are read (on a large table, reading them back is most of the analysis).
void load_rows(store::Store& store, Table& t) {
  if (t.loaded()) {
    return;
  }
  const auto stored = static_cast<size_t>(std::max<int64_t>(t.stored_rows, 0));
  t.rows.reserve(stored);
  // In the index's order (the order they were stored in, which is the order of their
  // lines), sorted by line here only if need be: an ORDER BY would copy every row's text
  // into a sorter first.
  store::Statement rows = store.prepare(
      "SELECT line, row_values FROM table_row WHERE artifact_id = ?1 AND section = ?2");
  rows.bind(1, t.artifact);
  rows.bind(2, t.section);
  auto text = std::make_shared<RowText>();
  text->cells.reserve(stored * t.columns.size());
  std::string scratch;
  std::vector<json_row::Cell> row;
  std::vector<std::pair<int64_t, size_t>> starts;  // each row's line and first cell
  starts.reserve(stored);
  while (rows.step()) {
    scratch.clear();
    row.clear();
    // (Text that is not a JSON array is a row without values, as it always was.)
    json_row::decode_into(rows.get_text_view(1), scratch, row);
    starts.emplace_back(rows.get_int(0), text->add(scratch, row));
  }
  // The rows' spans are made once every value is in (`cells` moves while it grows).
  for (size_t k = 0; k < starts.size(); ++k) {
    size_t end = k + 1 < starts.size() ? starts[k + 1].second : text->cells.size();
    t.rows.push_back(
        Row{starts[k].first,
            std::span<const View>(text->cells.data() + starts[k].second, end - starts[k].second)});
  }
  t.text = std::move(text);
  auto by_line = [](const Row& a, const Row& b) { return a.line < b.line; };
  if (!std::is_sorted(t.rows.begin(), t.rows.end(), by_line)) {
    std::stable_sort(t.rows.begin(), t.rows.end(), by_line);
  }
}

// A snapshot's tables, their columns and keys; their rows are read by load_rows().
std::optional<Snapshot> load_snapshot(store::Store& store, const std::string& role) {
  store::Statement st =
      store.prepare("SELECT id, artifact_id, data_artifact_id, db FROM snapshot WHERE role = ?1");
  st.bind(1, role);
  if (!st.step()) {
    return std::nullopt;
  }
  Snapshot s;
  s.id = st.get_int(0);
  s.schema_artifact = st.get_int(1);
  s.data_artifact = st.get_optional_int(2);
  s.db = st.get_optional_text(3);
  st.reset();
  if (!s.data_artifact) {
    return s;
  }
  store::Statement sections = store.prepare(
      "SELECT section, schema_name, table_name, columns, rows, stored_rows, complete FROM "
      "table_stats WHERE artifact_id = ?1 AND db IS ?2 AND source IN ('copy', 'insert') AND "
      "section IS NOT NULL");
  sections.bind(1, *s.data_artifact);
  sections.bind(2, s.db);
  while (sections.step()) {
    Table t;
    t.schema = sections.get_text(1);
    t.name = sections.get_text(2);
    t.artifact = *s.data_artifact;
    t.total_rows = sections.get_int(4);
    t.columns = split_columns(sections.get_text(3));
    t.section = sections.get_int(0);
    t.stored_rows = sections.get_optional_int(5).value_or(0);
    t.complete = sections.get_optional_int(6).value_or(1) != 0;
    s.tables[{t.schema, t.name}] = std::move(t);
  }
  // Schema facts of the same snapshot: column types, single-column primary keys, surrogates.
  store::Statement cols = store.prepare(
      "SELECT schema_name, table_name, name, type, default_expr, identity FROM db_column "
      "WHERE artifact_id = ?1 AND db IS ?2");
  cols.bind(1, s.schema_artifact);
  cols.bind(2, s.db);
  while (cols.step()) {
    auto it = s.tables.find({cols.get_text(0), cols.get_text(1)});
    if (it == s.tables.end()) {
      continue;
    }
    std::string name = cols.get_text(2);
    it->second.types[name] = cols.get_text(3);
    auto def = cols.get_optional_text(4);
    if (def) {
      it->second.defaults[name] = *def;
    }
    if (!cols.is_null(5) || (def && def->rfind("nextval(", 0) == 0)) {
      it->second.surrogates.insert(name);
    }
  }
  store::Statement pks = store.prepare(
      "SELECT schema_name, table_name, columns FROM db_constraint "
      "WHERE artifact_id = ?1 AND db IS ?2 AND kind = 'p'");
  pks.bind(1, s.schema_artifact);
  pks.bind(2, s.db);
  while (pks.step()) {
    auto it = s.tables.find({pks.get_text(0), pks.get_text(1)});
    auto columns = split_columns(pks.get_text(2));
    if (it != s.tables.end() && columns.size() == 1 && it->second.index_of(columns[0]) >= 0) {
      it->second.pk = columns[0];
    }
  }
  return s;
}

bool is_text(const std::string& type) {
  return type == "text" || type.rfind("character", 0) == 0 ||
         type.find("citext") != std::string::npos;
}

std::string text_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_integer(const std::string& type) {
  return type == "integer" || type == "bigint" || type == "smallint";
}

// The values as a JSON array, as nlohmann::json's dump() writes it. The values come from
// stored rows, which json_row wrote and read as valid UTF-8, so json_row::encode (whose
// replacement of invalid UTF-8 is the one difference from dump()) gives the same text
// without building a document.
std::string key_text(const std::vector<View>& values) {
  return json_row::encode(std::span<const View>(values));
}

struct NaturalKey {
  std::vector<std::string> columns;
  std::string source;
};

// The natural key of a parent table: a UNIQUE constraint or unique index other than the
// primary key (fewest columns first), else the user's --natural-key, else the best
// candidate in the data: a text column, alone or with one scoping column, unique in every
// stored row (names that read like a name or a code are preferred).
std::optional<NaturalKey> natural_key(store::Store& store, const Snapshot& snap, const Table& t,
                                      const std::map<std::string, std::vector<std::string>>& given,
                                      std::vector<NaturalKey>* others = nullptr) {
  auto given_it = given.find(t.name);
  if (given_it == given.end()) {
    given_it = given.find(t.schema + "." + t.name);
  }
  if (given_it != given.end()) {
    return NaturalKey{given_it->second, "--natural-key"};
  }
  store::Statement st = store.prepare(R"(
    SELECT columns, 'UNIQUE constraint ' || name FROM db_constraint
     WHERE artifact_id = ?1 AND db IS ?2 AND schema_name = ?3 AND table_name = ?4 AND kind = 'u'
    UNION ALL
    SELECT columns, 'unique index ' || name FROM db_index
     WHERE artifact_id = ?1 AND db IS ?2 AND schema_name = ?3 AND table_name = ?4
       AND is_unique = 1 AND constraint_name IS NULL AND predicate IS NULL)");
  st.bind(1, snap.schema_artifact);
  st.bind(2, snap.db);
  st.bind(3, t.schema);
  st.bind(4, t.name);
  std::optional<NaturalKey> best;
  while (st.step()) {
    auto columns = split_columns(st.get_text(0));
    bool usable =
        !columns.empty() && std::all_of(columns.begin(), columns.end(),
                                        [&](const auto& c) { return t.index_of(c) >= 0; });
    if (usable && (!best || columns.size() < best->columns.size())) {
      best = NaturalKey{columns, st.get_text(1)};
    }
    if (usable && others) {
      others->push_back(NaturalKey{columns, st.get_text(1)});
    }
  }
  if (best || t.rows.empty()) {
    return best;
  }
  // Whether the columns `idx` (one or two) are unique and never null in every stored row.
  // The keys are views of the rows' values (compared exactly; nothing copied), found through
  // an open-addressing table of row numbers (no node per row), made once for every candidate.
  using Key = std::pair<std::string_view, std::string_view>;
  auto key_of = [&](const Row& r, const std::vector<int>& idx, Key& key) {
    for (size_t n = 0; n < idx.size(); ++n) {
      int i = idx[n];
      if (i >= static_cast<int>(r.values.size()) || !r.values[static_cast<size_t>(i)]) {
        return false;
      }
      (n == 0 ? key.first : key.second) = *r.values[static_cast<size_t>(i)];
    }
    return true;
  };
  std::vector<size_t> slots(std::bit_ceil(t.rows.size() * 2));  // a row's index + 1; 0: none
  const size_t mask = slots.size() - 1;
  auto unique = [&](const std::vector<int>& idx) {
    std::fill(slots.begin(), slots.end(), 0);
    for (size_t k = 0; k < t.rows.size(); ++k) {
      Key key;
      if (!key_of(t.rows[k], idx, key)) {
        return false;
      }
      size_t a = std::hash<std::string_view>()(key.first);
      size_t h = a ^ (std::hash<std::string_view>()(key.second) + 0x9e3779b97f4a7c15ULL + (a << 6) +
                      (a >> 2));
      for (h &= mask; slots[h] != 0; h = (h + 1) & mask) {
        Key other;
        key_of(t.rows[slots[h] - 1], idx, other);
        if (other == key) {
          return false;
        }
      }
      slots[h] = k + 1;
    }
    return true;
  };
  std::vector<std::string> texts;
  for (const auto& c : t.columns) {
    if (is_text(t.types.count(c) ? t.types.at(c) : "") && !t.surrogates.count(c) && c != t.pk) {
      texts.push_back(c);
    }
  }
  auto namelike = [](const std::string& c) {
    return c == "name" || c.ends_with("_name") || c == "code" || c == "slug" || c == "title" ||
           c == "email" || c == "username";
  };
  std::stable_sort(texts.begin(), texts.end(),
                   [&](const auto& a, const auto& b) { return namelike(a) && !namelike(b); });
  std::string evidence = fmt::format("inferred: unique in {} {} stored rows",
                                     t.all_rows() ? "all" : "the first", t.rows.size());
  // With `others` (a snapshot before to choose by), every candidate up to a bound of checks:
  // a code the import regenerates may be unique too, and come first.
  std::optional<NaturalKey> first;
  int checks = 0;
  auto found = [&](std::vector<std::string> columns) {
    if (!first) {
      first = NaturalKey{columns, evidence};
    }
    if (others) {
      others->push_back(NaturalKey{std::move(columns), evidence});
    }
    return !others;  // done at the first unless all are wanted
  };
  for (const auto& c : texts) {
    ++checks;
    if (unique({t.index_of(c)}) && found({c})) {
      return first;
    }
  }
  for (const auto& c : texts) {
    for (const auto& scope : t.columns) {
      if (scope == c || scope == t.pk || t.surrogates.count(scope)) {
        continue;
      }
      if (others && first && ++checks > 64) {
        return first;
      }
      if (unique({t.index_of(scope), t.index_of(c)}) && found({scope, c})) {
        return first;
      }
    }
  }
  return first;
}

// What follows the last underscore (the whole text without one).
std::string last_word(const std::string& s) {
  size_t underscore = s.rfind('_');
  return underscore == std::string::npos ? s : s.substr(underscore + 1);
}

// A reference column's name without its `_id` / `id` ending (in any case: `teamId`,
// `TeamID`, `homeTeamId` as home_team_id) and without an `fk_` / `_fk` mark (`fk_team`, `team_fk`),
// lower-cased; none for other names. `exact` says the name had neither ending (`team`, `fk_team`):
// then only a parent named exactly so matches it, never one whose last word does.
struct Stem {
  std::string text;
  bool exact = false;
};
std::optional<Stem> column_stem(const std::string& column) {
  // camelCase words parted as snake_case ones: homeTeamId -> home_team_id, TeamID -> team_id.
  std::string c;
  for (size_t i = 0; i < column.size(); ++i) {
    auto ch = static_cast<unsigned char>(column[i]);
    if (i > 0 && std::isupper(ch) &&
        (std::islower(static_cast<unsigned char>(column[i - 1])) ||
         std::isdigit(static_cast<unsigned char>(column[i - 1])))) {
      c += '_';
    }
    c += static_cast<char>(std::tolower(ch));
  }
  if (c.size() > 3 && c.rfind("fk_", 0) == 0) {
    c = c.substr(3);
  } else if (c.size() > 3 && c.ends_with("_fk")) {
    c = c.substr(0, c.size() - 3);
  }
  if (c.ends_with("_id") && c.size() > 3) {
    return Stem{c.substr(0, c.size() - 3), false};
  }
  if (c.ends_with("id") && c.size() > 2) {
    return Stem{c.substr(0, c.size() - 2), false};
  }
  if (c.empty() || c == "id") {
    return std::nullopt;
  }
  // A bare name (`team`, `fk_team`) is a reference only to a table of that name.
  return Stem{c, true};
}

// Whether a column's name names a parent table: `team_id`, `home_team_id`, `teamid`, `teamId`,
// `fk_team` and `team` name `teams`, `league_id` names `leagues`. Every match has the parent's
// name equal to the stem, or the last words of the stem and of the parent's singular name
// equal: ParentIndex finds the candidates by those.
bool names_parent(const std::string& column, const std::string& parent) {
  auto stem_or = column_stem(column);
  if (!stem_or) {
    return false;
  }
  const std::string& stem = stem_or->text;
  std::string lower = text_lower(parent);
  std::string p = singular(lower);
  if (stem_or->exact) {
    return stem == p || stem == lower;
  }
  std::string p_last = last_word(p);
  std::string s_last = last_word(stem);
  return stem == p || s_last == p || stem == lower || (s_last == p_last && stem.ends_with(p_last));
}

bool whole_word_icase(std::string_view hay, std::string_view needle) {
  if (needle.empty() || hay.size() < needle.size()) {
    return false;
  }
  auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  std::string h(hay.size(), ' ');
  std::string n(needle.size(), ' ');
  std::transform(hay.begin(), hay.end(), h.begin(), lower);
  std::transform(needle.begin(), needle.end(), n.begin(), lower);
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t pos = h.find(n); pos != std::string::npos; pos = h.find(n, pos + 1)) {
    bool left = pos == 0 || !word(h[pos - 1]);
    bool right = pos + n.size() == h.size() || !word(h[pos + n.size()]);
    if (left && right) {
      return true;
    }
  }
  return false;
}

// A parent's rows by id: views of the rows' own values (the rows outlive it), in the order of
// the values, the last row of an id kept (as a std::map assigned row by row would keep it),
// in one sorted vector rather than a node per row.
class IdIndex {
 public:
  using Entry = std::pair<std::string_view, const Row*>;
  void add(std::string_view id, const Row* row) { m_entries.emplace_back(id, row); }
  // After the last add().
  void seal() {
    std::stable_sort(m_entries.begin(), m_entries.end(),
                     [](const Entry& a, const Entry& b) { return a.first < b.first; });
    auto last_of_each =
        std::unique(m_entries.rbegin(), m_entries.rend(),
                    [](const Entry& a, const Entry& b) { return a.first == b.first; });
    m_entries.erase(m_entries.begin(), last_of_each.base());
  }
  size_t count(std::string_view id) const {
    return std::binary_search(m_entries.begin(), m_entries.end(), Entry{id, nullptr},
                              [](const Entry& a, const Entry& b) { return a.first < b.first; });
  }
  auto begin() const { return m_entries.begin(); }
  auto end() const { return m_entries.end(); }

 private:
  std::vector<Entry> m_entries;
};

struct Parent {
  const Table* table = nullptr;
  IdIndex by_id;
  std::optional<NaturalKey> nk;
};

// The parents a column may name, without trying each one: a dump of tens of thousands of
// tables made that a product of tables and parents (30,000 tables with a serial id: 6.5
// minutes). Candidates come in the parents' map order, so the first best match is the same.
class ParentIndex {
 public:
  using Parents = std::map<std::pair<std::string, std::string>, Parent>;

  explicit ParentIndex(const Parents& parents) {
    for (const auto& [k, p] : parents) {
      size_t n = m_order.size();
      m_order.push_back(&p);
      std::string name = text_lower(p.table->name);
      m_by_last_word[last_word(singular(name))].push_back(n);
      m_by_name[name].push_back(n);
      m_by_name[singular(name)].push_back(n);
    }
  }

  // A superset of the parents that names_parent() matches `column` with, in map order.
  std::vector<const Parent*> candidates(const std::string& column) const {
    std::vector<const Parent*> out;
    auto stem = column_stem(column);
    if (!stem) {
      return out;
    }
    std::vector<size_t> found;
    auto add = [&](const Index& index, const std::string& key) {
      if (auto it = index.find(key); it != index.end()) {
        found.insert(found.end(), it->second.begin(), it->second.end());
      }
    };
    add(m_by_last_word, last_word(stem->text));
    add(m_by_name, stem->text);
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    for (size_t n : found) {
      out.push_back(m_order[n]);
    }
    return out;
  }

 private:
  using Index = std::unordered_map<std::string, std::vector<size_t>>;  // to m_order's positions
  std::vector<const Parent*> m_order;
  Index m_by_last_word;
  Index m_by_name;
};

// A row's values of some columns (null for a column it lacks).
std::vector<View> key_of(const Table& t, const Row& r, const std::vector<std::string>& columns) {
  std::vector<View> key;
  for (const auto& c : columns) {
    int i = t.index_of(c);
    key.push_back(i >= 0 && i < static_cast<int>(r.values.size()) ? r.values[static_cast<size_t>(i)]
                                                                  : View());
  }
  return key;
}

// A key's text lower-cased, with runs of white space made one space and none at the ends;
// empty for a key with a NULL (which matches nothing).
std::string folded(const std::vector<View>& key) {
  std::string out;
  for (const View& v : key) {
    if (!v) {
      return {};
    }
    bool space = true;  // at the start: leading spaces dropped
    for (char c : *v) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        space = true;
        continue;
      }
      if (space && !out.empty() && out.back() != '\x1f') {
        out += ' ';
      }
      space = false;
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    out += '\x1f';
  }
  return out;
}

// Types whose text in a dump is one per value: two values are equal exactly when their texts
// are (not numeric: 1.0 = 1.00; not citext, float, interval, json...).
bool exact_text_type(const std::string& type) {
  static const std::set<std::string, std::less<>> k_exact = {"integer",
                                                             "bigint",
                                                             "smallint",
                                                             "text",
                                                             "uuid",
                                                             "boolean",
                                                             "date",
                                                             "timestamp without time zone",
                                                             "timestamp with time zone",
                                                             "time without time zone"};
  return k_exact.count(type) > 0 || type.rfind("character varying", 0) == 0 ||
         type.rfind("character(", 0) == 0 || type == "character";
}

// A value as a message shows it: control characters escaped, long text cut.
std::string shown_value(const View& v) {
  if (!v) {
    return "NULL";
  }
  std::string out;
  for (char c : *v) {
    if (out.size() >= 60) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

// expected_data_check: what the current snapshot's rows say of the constraints the repairs
// would add -- a missing UNIQUE / PRIMARY KEY constraint or unique index (values that repeat;
// for a primary key also NULLs) and a NOT NULL the column lacks (NULLs). Adding one the rows
// break fails, and with it the repair script's whole transaction.
void check_data(store::Store& store, Snapshot& snap) {
  store::Statement objects = store.prepare(R"(
    SELECT o.id, o.kind, o.constraint_kind, coalesce(o.columns, o.name), o.predicate,
           p.location, o.table_name, upper(coalesce(o.definition, '')) LIKE '%NULLS NOT DISTINCT%'
      FROM expected_object o JOIN expected_presence p ON p.object_id = o.id
     WHERE p.location IS NOT NULL AND (
           (o.kind = 'constraint' AND o.constraint_kind IN ('p', 'u') AND NOT p.present)
        OR (o.kind = 'index' AND o.constraint_kind = 'unique index' AND NOT p.present)
        OR (o.kind = 'column' AND o.not_null = 1 AND p.present AND EXISTS (
              SELECT 1 FROM current_column c WHERE c.schema_name = p.location
                 AND c.table_name = o.table_name AND c.name = o.name AND NOT c.not_null)))
     ORDER BY o.id)");
  store::Statement insert = store.prepare(
      "INSERT INTO expected_data_check(object_id, check_kind, columns, rows_read, rows, complete, "
      "violations, violating_rows, example, example_rows, artifact_id, line) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  while (objects.step()) {
    int64_t id = objects.get_int(0);
    std::string kind = objects.get_text(1);
    std::string constraint_kind = objects.get_optional_text(2).value_or("");
    auto it = snap.tables.find({objects.get_text(5), objects.get_text(6)});
    if (it == snap.tables.end() || (kind == "index" && !objects.is_null(4))) {
      continue;  // no data for the table; a partial index's WHERE is not evaluated here
    }
    Table& t = it->second;
    std::vector<std::string> columns = split_columns(objects.get_text(3));
    bool plain = !columns.empty();
    for (const auto& c : columns) {
      plain = plain && t.index_of(c) >= 0;  // an expression, an operator class: not a column
    }
    if (!plain) {
      continue;
    }
    bool nulls_distinct = objects.get_int(7) == 0;
    load_rows(store, t);
    const bool all_read =
        t.complete && static_cast<int64_t>(t.rows.size()) == t.total_rows && t.total_rows >= 0;
    std::string column_list = fmt::format("{}", fmt::join(columns, ", "));
    auto record = [&](const char* check, bool exact, int64_t violations, int64_t violating,
                      const std::optional<std::string>& example, int64_t example_rows,
                      int64_t line) {
      insert.run(id, check, column_list, static_cast<int64_t>(t.rows.size()), t.total_rows,
                 all_read && exact ? 1 : 0, violations, violating, example,
                 violations > 0 ? std::optional<int64_t>(example_rows) : std::nullopt,
                 violations > 0 ? std::optional<int64_t>(t.artifact) : std::nullopt,
                 violations > 0 ? std::optional<int64_t>(line) : std::nullopt);
    };
    if (kind == "column" || constraint_kind == "p") {
      // NULLs: in the column, or in any column of a primary key.
      int64_t nulls = 0, first = 0;
      for (const Row& r : t.rows) {
        for (const View& v : key_of(t, r, columns)) {
          if (!v) {
            if (nulls++ == 0) {
              first = r.line;
            }
            break;
          }
        }
      }
      record("not_null", true, nulls, nulls,
             nulls > 0 ? std::optional<std::string>("NULL") : std::nullopt, nulls, first);
    }
    if (kind == "column") {
      continue;
    }
    bool exact = true;
    for (const auto& c : columns) {
      auto type = t.types.find(c);
      exact = exact && type != t.types.end() && exact_text_type(type->second);
    }
    struct Group {
      int64_t rows = 0;
      int64_t first_line = 0;
      size_t first_row = 0;
    };
    std::unordered_map<std::string, Group> groups;
    for (size_t k = 0; k < t.rows.size(); ++k) {
      std::vector<View> key = key_of(t, t.rows[k], columns);
      if (nulls_distinct && std::any_of(key.begin(), key.end(), [](const View& v) { return !v; })) {
        continue;  // NULLs are never equal (a primary key's are counted above)
      }
      Group& g = groups[key_text(key)];
      if (g.rows++ == 0) {
        g.first_line = t.rows[k].line;
        g.first_row = k;
      }
    }
    int64_t repeated = 0, rows = 0;
    const Group* top = nullptr;
    for (const auto& [text, g] : groups) {
      if (g.rows < 2) {
        continue;
      }
      ++repeated;
      rows += g.rows;
      if (!top || g.rows > top->rows || (g.rows == top->rows && g.first_line < top->first_line)) {
        top = &g;
      }
    }
    std::optional<std::string> example;
    if (top) {
      std::vector<std::string> shown;
      for (const View& v : key_of(t, t.rows[top->first_row], columns)) {
        shown.push_back(shown_value(v));
      }
      example = fmt::format("({})", fmt::join(shown, ", "));
    }
    record("unique", exact, repeated, rows, example, top ? top->rows : 0,
           top ? top->first_line : 0);
  }
}

// How many rows of `old` and `now` share a complete value of `columns` that is unique in
// each (a NULL in it matches nothing, as in a UNIQUE constraint).
size_t shared_keys(const Table& old, const Table& now, const std::vector<std::string>& columns) {
  auto count = [&](const Table& t) {
    std::unordered_map<std::string, int> n;
    for (const Row& r : t.rows) {
      auto key = key_of(t, r, columns);
      if (std::all_of(key.begin(), key.end(), [](const View& v) { return v.has_value(); })) {
        ++n[key_text(key)];
      }
    }
    return n;
  };
  auto a = count(old);
  auto b = count(now);
  size_t shared = 0;
  for (const auto& [key, n] : a) {
    auto it = b.find(key);
    shared += n == 1 && it != b.end() && it->second == 1 ? 1 : 0;
  }
  return shared;
}

// pass_marker: columns that mark the passes of a loop. A job that inserts the same batch again
// and again but stamps each pass (a run counter, a batch uuid, the time it set for the pass, the
// file it imported) makes every row distinct for the dump's counts. In the stored rows of a
// large table whose counts found few repeats, a column marks the passes when each of its values
// holds the same number of rows (passes cut short hold fewer), and the rows without it are one
// batch that every pass holds whole: the same rows, as many times each. A column that merely
// repeats (a user's events, a quantity, a status) holds groups of other sizes or other rows.
constexpr int64_t k_pass_min_rows = 1000;   // rows a table must have
constexpr size_t k_pass_min_read = 200;     // stored rows to judge by
constexpr size_t k_pass_max_sets = 8;       // candidate columns tried per table
constexpr size_t k_pass_max_columns = 100;  // columns compared

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t cell_hash(const Row& r, size_t i) {
  if (i >= r.values.size() || !r.values[i]) {
    return 0x6a09e667f3bcc909ULL;  // NULL (and a field the row lacks)
  }
  return mix64(std::hash<std::string_view>{}(*r.values[i]));
}

// A set of 64-bit hashes (open addressing, grown as it fills; 0 stands for itself as 1).
class HashSet {
 public:
  bool insert(uint64_t h) {
    h = h ? h : 1;
    if (2 * (m_size + 1) > m_slots.size()) {
      grow();
    }
    const size_t mask = m_slots.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      if (m_slots[i] == h) {
        return false;
      }
      if (m_slots[i] == 0) {
        m_slots[i] = h;
        ++m_size;
        return true;
      }
    }
  }
  size_t size() const { return m_size; }

 private:
  void grow() {
    std::vector<uint64_t> old(std::max<size_t>(64, 2 * m_slots.size()), 0);
    old.swap(m_slots);
    const size_t mask = m_slots.size() - 1;
    for (uint64_t h : old) {
      if (h != 0) {
        size_t i = h & mask;
        while (m_slots[i] != 0) {
          i = (i + 1) & mask;
        }
        m_slots[i] = h;
      }
    }
  }
  std::vector<uint64_t> m_slots;
  size_t m_size = 0;
};

// Whether every compared column of a table's stored rows has at most half as many values as
// there are rows (and the passes cut short): in a loop, the column that marks the passes has a
// value per pass of two rows or more, every other column at most the batch's values. Read
// straight from table_row, and given up at the first column past the bound: most tables have
// a column of a value per row (a time, a name), found at about half their rows, without the
// cost of reading them all back.
bool few_values(store::Store& store, const Table& t, const std::vector<size_t>& kept) {
  const size_t n = static_cast<size_t>(std::max<int64_t>(t.stored_rows, 0));
  const size_t bound = n / 2 + 2;
  std::vector<HashSet> seen(kept.size());
  store::Statement rows =
      store.prepare("SELECT row_values FROM table_row WHERE artifact_id = ?1 AND section = ?2");
  rows.bind(1, t.artifact);
  rows.bind(2, t.section);
  std::string scratch;
  std::vector<json_row::Cell> cells;
  while (rows.step()) {
    scratch.clear();
    cells.clear();
    json_row::decode_into(rows.get_text_view(0), scratch, cells);
    for (size_t k = 0; k < kept.size(); ++k) {
      size_t i = kept[k];
      uint64_t h = i < cells.size() && !cells[i].null
                       ? mix64(std::hash<std::string_view>{}(
                             std::string_view(scratch).substr(cells[i].at, cells[i].size)))
                       : 0x6a09e667f3bcc909ULL;
      if (seen[k].insert(h) && seen[k].size() > bound) {
        return false;
      }
    }
  }
  return true;
}

// Whether a column's name is in a list of "name (why), ..." (table_stats.ignored_columns).
bool listed(const std::string& list, const std::string& name) {
  return list.rfind(name + " (", 0) == 0 || list.find(", " + name + " (") != std::string::npos;
}

void find_pass_markers(store::Store& store, Snapshot& snap, DeriveSummary& summary) {
  store::Statement stats = store.prepare(
      "SELECT ignored_columns, distinct_rows, distinct_without_first FROM table_stats "
      "WHERE artifact_id = ?1 AND section = ?2");
  // The columns the application fills as it inserts (as data.duplicate-rows leaves them out).
  store::Statement app_set = store.prepare(
      "SELECT j.value FROM table_stats t, json_each(t.variants, '$.candidates') j "
      "WHERE t.artifact_id = ?1 AND t.section = ?2 AND t.variants IS NOT NULL "
      "AND (SELECT yes FROM migration_files_in_scope) = 1 AND EXISTS (SELECT 1 FROM "
      "migration_app_value a WHERE a.table_name = t.table_name AND a.column_name = j.value)");
  store::Statement insert = store.prepare(
      "INSERT INTO pass_marker(schema_name, table_name, columns, rows, rows_read, distinct_rows, "
      "passes, batch_rows, short_passes, left_out, artifact_id, line) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  for (auto& [k, t] : snap.tables) {
    if (t.total_rows < k_pass_min_rows || t.stored_rows < static_cast<int64_t>(k_pass_min_read)) {
      continue;
    }
    stats.reset();
    stats.bind(1, t.artifact);
    stats.bind(2, t.section);
    if (!stats.step() || stats.is_null(1)) {
      continue;  // not counted: nothing to compare with
    }
    std::string ignored = stats.get_optional_text(0).value_or("");
    int64_t distinct = stats.get_int(1);
    bool key_first = t.pk && !t.columns.empty() && t.columns.front() == *t.pk;
    if (key_first && !stats.is_null(2)) {
      distinct = std::min(distinct, stats.get_int(2));
    }
    if (distinct * 2 <= t.total_rows) {
      continue;  // the counts show the repeats already: data.duplicate-rows judges them
    }
    std::set<std::string> app;
    app_set.reset();
    app_set.bind(1, t.artifact);
    app_set.bind(2, t.section);
    while (app_set.step()) {
      app.insert(app_set.get_text(0));
    }
    // The columns compared: all but the surrogates, the key and what the application fills.
    std::vector<size_t> kept;
    std::string left_out = ignored;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      const std::string& c = t.columns[i];
      if (listed(ignored, c)) {
        continue;
      }
      std::string why = t.pk && c == *t.pk ? "primary key"
                        : app.count(c)     ? "set by the application"
                                           : "";
      if (!why.empty()) {
        left_out += fmt::format("{}{} ({})", left_out.empty() ? "" : ", ", c, why);
        continue;
      }
      kept.push_back(i);
    }
    if (kept.size() < 2) {
      continue;
    }
    if (kept.size() > k_pass_max_columns) {
      // (Each column's values are held while the rows are read: memory stays bounded.)
      summary.notes.push_back(fmt::format(
          "{}.{} has {} columns to compare; not searched for a column that marks the passes of a "
          "loop (at most {})",
          t.schema, t.name, kept.size(), k_pass_max_columns));
      continue;
    }
    const bool was_loaded = t.loaded();
    if (!few_values(store, t, kept)) {
      continue;
    }
    load_rows(store, t);
    const size_t n = t.rows.size();
    const bool all_read = t.complete && static_cast<int64_t>(n) == t.total_rows;
    const size_t max_short = all_read ? 1 : 2;  // the row cap may cut one pass more
    // Candidates: columns whose values each hold B rows (B >= 2, at least two such values),
    // but for at most max_short values holding fewer.
    struct Candidate {
      size_t column;
      size_t passes, batch, full, shorts;
    };
    std::vector<Candidate> candidates;
    if (n >= k_pass_min_read) {
      for (size_t i : kept) {
        std::unordered_map<uint64_t, size_t> counts;
        bool many = false;
        for (const Row& r : t.rows) {
          ++counts[cell_hash(r, i)];
          if (counts.size() > n / 2 + max_short) {
            many = true;  // fewer than two rows a value: no batch
            break;
          }
        }
        if (many || counts.size() < 2) {
          continue;
        }
        std::map<size_t, size_t> sizes;  // rows a value holds -> values
        for (const auto& [h, c] : counts) {
          ++sizes[c];
        }
        size_t batch = 0, most = 0;
        for (const auto& [size, values] : sizes) {
          if (values >= most) {
            most = values;
            batch = size;
          }
        }
        size_t shorts = 0;
        bool over = false;
        for (const auto& [size, values] : sizes) {
          shorts += size < batch ? values : 0;
          over = over || size > batch;
        }
        if (batch >= 2 && most >= 2 && !over && shorts <= max_short) {
          candidates.push_back(Candidate{i, counts.size(), batch, most, shorts});
          if (candidates.size() >= 4 * k_pass_max_sets) {
            break;
          }
        }
      }
    }
    // Columns that always change together (a run's number and its start time) are one set.
    std::vector<std::vector<size_t>> sets;  // indexes into candidates
    std::vector<bool> taken(candidates.size(), false);
    for (size_t a = 0; a < candidates.size() && sets.size() < k_pass_max_sets; ++a) {
      if (taken[a]) {
        continue;
      }
      std::vector<size_t> set{a};
      for (size_t b = a + 1; b < candidates.size(); ++b) {
        if (taken[b] || candidates[b].passes != candidates[a].passes) {
          continue;
        }
        std::unordered_map<uint64_t, uint64_t> pairs;
        bool same = true;
        for (const Row& r : t.rows) {
          auto [it, fresh] = pairs.try_emplace(cell_hash(r, candidates[a].column),
                                               cell_hash(r, candidates[b].column));
          if (!fresh && it->second != cell_hash(r, candidates[b].column)) {
            same = false;
            break;
          }
        }
        if (same) {
          set.push_back(b);
          taken[b] = true;
        }
      }
      sets.push_back(std::move(set));
    }
    for (const auto& set : sets) {
      const Candidate& c = candidates[set.front()];
      std::set<size_t> marker;
      for (size_t s : set) {
        marker.insert(candidates[s].column);
      }
      // Each row without the marker columns; each pass's rows as a multiset (a sum of their
      // hashes, in any order).
      struct Pass {
        size_t rows = 0;
        uint64_t sum = 0;
      };
      std::unordered_map<uint64_t, Pass> passes;
      std::unordered_set<uint64_t> rows;
      std::vector<uint64_t> row_hash(n);
      std::vector<uint64_t> pass_of(n);
      for (size_t r = 0; r < n; ++r) {
        uint64_t h = 0x243f6a8885a308d3ULL;
        for (size_t i : kept) {
          if (!marker.count(i)) {
            h = mix64(h ^ cell_hash(t.rows[r], i));
          }
        }
        row_hash[r] = h;
        pass_of[r] = cell_hash(t.rows[r], c.column);
        Pass& p = passes[pass_of[r]];
        ++p.rows;
        p.sum += mix64(h);
        rows.insert(h);
      }
      if (rows.size() * 2 > n || rows.size() > c.batch) {
        continue;
      }
      std::optional<uint64_t> whole, first;
      bool same = true;
      for (size_t r = 0; r < n && same; ++r) {
        const Pass& p = passes[pass_of[r]];
        if (p.rows == c.batch) {
          if (!whole) {
            whole = p.sum;
            first = pass_of[r];
          }
          same = p.sum == *whole;
        }
      }
      if (!same || !first) {
        continue;
      }
      // Every row read is one of a whole pass's (a pass cut short holds no other).
      std::unordered_set<uint64_t> batch;
      for (size_t r = 0; r < n; ++r) {
        if (pass_of[r] == *first) {
          batch.insert(row_hash[r]);
        }
      }
      if (batch.size() != rows.size()) {
        continue;
      }
      nlohmann::json names = nlohmann::json::array();
      for (size_t i : marker) {
        names.push_back(t.columns[i]);
      }
      insert.run(t.schema, t.name, names.dump(), t.total_rows, static_cast<int64_t>(n),
                 static_cast<int64_t>(rows.size()), static_cast<int64_t>(c.passes),
                 static_cast<int64_t>(c.batch), static_cast<int64_t>(c.shorts),
                 left_out.empty() ? std::optional<std::string>() : std::optional(left_out),
                 t.artifact, t.rows.front().line);
      if (!all_read) {
        summary.notes.push_back(fmt::format(
            "{}.{} has {} rows; the column that marks its passes was found in the first {} "
            "(--row-cap)",
            t.schema, t.name, t.total_rows, n));
      }
      break;
    }
    if (!was_loaded) {
      t.rows.clear();
      t.rows.shrink_to_fit();
      t.text.reset();
    }
  }
}

// A parent table's rows in the snapshot before, by id.
struct BeforeParent {
  const Table* table = nullptr;
  std::string path;  // the dump's path, as the evidence names it
  std::map<std::string_view, const Row*, std::less<>> by_id;
};

}  // namespace

void derive_data(store::Store& store, const DeriveOptions& options, DeriveSummary& summary) {
  for (const char* t : {"key_inventory", "natural_key", "ref_inventory", "id_remap", "orphan",
                        "expected_data_check", "pass_marker"}) {
    store.exec(fmt::format("DELETE FROM {}", t));
  }
  auto current = load_snapshot(store, "current");
  if (!current || !current->data_artifact) {
    return;
  }
  check_data(store, *current);
  timing::phase("derive: data checks");
  find_pass_markers(store, *current, summary);
  timing::phase("derive: pass markers");
  auto before = load_snapshot(store, "before");
  timing::phase("derive: load snapshots");
  // key_inventory gets a row per stored row of every parent table: its index is made once
  // they are all in (one sort), not row by row. (In the analysis's transaction: one that fails
  // leaves the index as it was.) Made again as schema.sql declares it.
  std::string key_index;
  {
    store::Statement st =
        store.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1");
    st.bind(1, "key_inventory_row");
    if (st.step()) {
      key_index = st.get_text(0);
    }
  }
  if (!key_index.empty()) {
    store.exec("DROP INDEX key_inventory_row");
  }

  // --natural-key values that name no table or no column of it are said, not used.
  std::map<std::string, std::vector<std::string>> given;
  // Names are matched as written, else without regard to case (Teams:League_ID for
  // teams.league_id) when that names one table, one column.
  for (const auto& [name, written] : options.natural_keys) {
    const Table* table = nullptr;
    int folded = 0;
    const Table* folded_table = nullptr;
    for (const auto& [k, t] : current->tables) {
      if (t.name == name || t.schema + "." + t.name == name) {
        table = &t;
      } else if (text::iequals(t.name, name) || text::iequals(t.schema + "." + t.name, name)) {
        ++folded;
        folded_table = &t;
      }
    }
    if (!table && folded == 1) {
      table = folded_table;
    }
    std::string missing;
    std::vector<std::string> columns;
    for (const auto& c : written) {
      if (!table) {
        continue;
      }
      std::string found = table->index_of(c) >= 0 ? c : std::string();
      if (found.empty()) {
        for (const auto& have : table->columns) {
          if (text::iequals(have, c)) {
            found = found.empty() ? have : "\n";  // two columns fold alike: neither
          }
        }
      }
      if (found.empty() || found == "\n") {
        missing += (missing.empty() ? "" : ", ") + c;
      } else {
        columns.push_back(found);
      }
    }
    if (!table) {
      summary.notes.push_back(
          fmt::format("--natural-key {}: the latest dump has no data for that table", name));
    } else if (!missing.empty()) {
      summary.notes.push_back(fmt::format("--natural-key {}: no column {} in {}.{}; not used", name,
                                          missing, table->schema, table->name));
    } else {
      given[table->schema + "." + table->name] = columns;
    }
  }

  // Parent tables of the current snapshot: the tables with a single-column primary key.
  std::map<std::pair<std::string, std::string>, Parent> parents;
  store::Statement key_insert = store.prepare(
      "INSERT INTO key_inventory(snapshot_id, schema_name, table_name, key_column, row_id, "
      "natural_key, artifact_id, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  store::Statement nk_insert = store.prepare(
      "INSERT INTO natural_key(schema_name, table_name, columns, source) VALUES (?1, ?2, ?3, ?4)");
  auto inventory = [&](const Snapshot& snap, const Table& t, const std::optional<NaturalKey>& nk) {
    int pk = t.index_of(*t.pk);
    for (const Row& r : t.rows) {
      if (pk >= static_cast<int>(r.values.size()) || !r.values[static_cast<size_t>(pk)]) {
        continue;
      }
      std::optional<std::string> key;
      if (nk) {
        std::vector<View> values;
        for (const auto& c : nk->columns) {
          int i = t.index_of(c);
          values.push_back(i >= 0 && i < static_cast<int>(r.values.size())
                               ? r.values[static_cast<size_t>(i)]
                               : View());
        }
        key = key_text(values);
      }
      key_insert.run(snap.id, t.schema, t.name, *t.pk, *r.values[static_cast<size_t>(pk)], key,
                     t.artifact, r.line);
    }
  };
  for (const auto& [k, t] : current->tables) {
    if (t.pk) {
      parents[k].table = &t;
    }
  }

  // Reference columns: declared foreign keys, and integer columns whose name names a parent
  // table and most of whose values are keys of it.
  struct Ref {
    const Table* child;
    std::string column;
    const Parent* parent;
    bool declared;
    std::string passed_over = {};  // the other candidates, and why not them
  };
  std::vector<Ref> refs;
  std::set<std::tuple<std::string, std::string, std::string>> declared_cols;
  {
    store::Statement fks = store.prepare(
        "SELECT schema_name, table_name, columns, ref_schema, ref_table, ref_columns FROM "
        "db_constraint "
        "WHERE artifact_id = ?1 AND db IS ?2 AND kind = 'f'");
    fks.bind(1, current->schema_artifact);
    fks.bind(2, current->db);
    while (fks.step()) {
      auto cols = split_columns(fks.get_text(2));
      auto ref_cols = split_columns(fks.get_text(5));
      auto child = current->tables.find({fks.get_text(0), fks.get_text(1)});
      auto parent = parents.find({fks.get_text(3), fks.get_text(4)});
      if (cols.size() != 1 || child == current->tables.end() || parent == parents.end()) {
        continue;
      }
      // A key that refers to another unique column of its parent (Django's to_field): its
      // values are that column's, not ids, and are neither compared with the ids nor
      // inferred to be ids below.
      if (ref_cols.size() != 1 || ref_cols[0] != *parent->second.table->pk) {
        declared_cols.insert({fks.get_text(0), fks.get_text(1), cols[0]});
        summary.notes.push_back(fmt::format(
            "{}.{}.{} refers to {}.{}({}), not to its primary key: not checked for orphaned "
            "references (its FOREIGN KEY constraint checks it)",
            fks.get_text(0), fks.get_text(1), cols[0], fks.get_text(3), fks.get_text(4),
            fks.get_text(5)));
        continue;
      }
      refs.push_back(Ref{&child->second, cols[0], &parent->second, true});
      declared_cols.insert({fks.get_text(0), fks.get_text(1), cols[0]});
    }
  }
  // The columns that may refer to a parent by their name, and the parents they may name: their
  // values decide, below.
  struct Candidates {
    const Table* child;
    std::string column;
    std::vector<const Parent*> parents;
  };
  std::vector<Candidates> inferred;
  ParentIndex parent_index(parents);
  for (const auto& [k, t] : current->tables) {
    for (const auto& c : t.columns) {
      if (declared_cols.count({t.schema, t.name, c}) || c == t.pk || t.surrogates.count(c) ||
          !is_integer(t.types.count(c) ? t.types.at(c) : "")) {
        continue;
      }
      Candidates found{&t, c, {}};
      for (const Parent* p : parent_index.candidates(c)) {
        if (p->table != &t && names_parent(c, p->table->name)) {
          found.parents.push_back(p);
        }
      }
      if (!found.parents.empty()) {
        inferred.push_back(std::move(found));
      }
    }
  }

  // The stored rows of the tables those checks read (only those), and the parents' ids.
  std::unordered_set<const Table*> read;
  for (const Ref& r : refs) {
    read.insert(r.child);
    read.insert(r.parent->table);
  }
  for (const Candidates& c : inferred) {
    read.insert(c.child);
    for (const Parent* p : c.parents) {
      read.insert(p->table);
    }
  }
  for (auto& [k, t] : current->tables) {
    if (read.count(&t) > 0) {
      load_rows(store, t);
    }
  }
  for (auto& [k, p] : parents) {
    const Table& t = *p.table;
    int pk = t.index_of(*t.pk);
    for (const Row& r : t.rows) {
      if (pk < static_cast<int>(r.values.size()) && r.values[static_cast<size_t>(pk)]) {
        p.by_id.add(*r.values[static_cast<size_t>(pk)], &r);
      }
    }
    p.by_id.seal();
  }
  timing::phase("derive: load snapshots");

  store::Statement ref_insert = store.prepare(
      "INSERT INTO ref_inventory(schema_name, table_name, column_name, parent_schema, "
      "parent_table, "
      "parent_column, declared, distinct_values, matched_values, evidence) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  // The distinct values of a column (views of the rows' own values), and how many of them
  // are ids of a parent.
  auto distinct_values = [](const Table& t, int i) {
    std::set<std::string_view> values;
    for (const Row& r : t.rows) {
      if (i >= 0 && i < static_cast<int>(r.values.size()) && r.values[static_cast<size_t>(i)]) {
        values.insert(*r.values[static_cast<size_t>(i)]);
      }
    }
    return values;
  };
  auto matched_ids = [](const std::set<std::string_view>& values, const Parent& p) {
    size_t matched = 0;
    for (const auto& v : values) {
      matched += p.by_id.count(v);
    }
    return matched;
  };
  auto value_counts = [&](const Table& t, int i, const Parent& p) {
    auto values = distinct_values(t, i);
    return std::make_pair(values.size(), matched_ids(values, p));
  };
  // Which parent a column refers to, when several tables of its name have ids for most of its
  // values. The best match is not enough: after an incident, the table that still has the
  // old ids -- a copy a DBA kept before the import, another app's table of the same name whose
  // ids also start at 1 -- matches the orphaned values that the real parent lost. So among the
  // candidates that hold at least half of the values, in this order:
  //   1. not a copy: a table whose id draws on a sequence that another table owns (CREATE
  //      TABLE ... (LIKE parent INCLUDING ALL) copies the default) is a copy of that table;
  //      a table in a schema named like a copy (backup, bak, archive, old, copy, snapshot,
  //      tmp, temp) is taken for one too;
  //   2. of the child's own Django app: `league_membership.team_id` -> `league_team` before
  //      `club_team` (the first word of the two tables' names equal);
  //   3. in the child's own schema, then in public (the usual search_path), then elsewhere;
  //   4. the one holding more of the values; then the first in (schema, table) order.
  // The evidence names the candidates passed over, and why.
  std::map<std::pair<std::string, std::string>, std::pair<std::string, std::string>> seq_owner;
  {
    store::Statement st = store.prepare(
        "SELECT schema_name, name, owned_by_schema, owned_by_table FROM db_sequence "
        "WHERE artifact_id = ?1 AND db IS ?2 AND owned_by_table IS NOT NULL");
    st.bind(1, current->schema_artifact);
    st.bind(2, current->db);
    while (st.step()) {
      seq_owner[{st.get_text(0), st.get_text(1)}] = {
          st.get_optional_text(2).value_or(st.get_text(0)), st.get_text(3)};
    }
  }
  // Why a parent is taken for a copy of another table, or empty.
  auto copy_reason = [&](const Parent& p) -> std::string {
    const Table& t = *p.table;
    auto def = t.defaults.find(*t.pk);
    if (def != t.defaults.end() && def->second.rfind("nextval('", 0) == 0) {
      std::string name = def->second.substr(9, def->second.find('\'', 9) - 9);
      name.erase(std::remove(name.begin(), name.end(), '"'), name.end());
      size_t dot = name.find('.');
      std::pair<std::string, std::string> seq =
          dot == std::string::npos ? std::make_pair(t.schema, name)
                                   : std::make_pair(name.substr(0, dot), name.substr(dot + 1));
      auto owner = seq_owner.find(seq);
      if (owner != seq_owner.end() && owner->second != std::make_pair(t.schema, t.name)) {
        return fmt::format("a copy: its {} draws on {}.{}, the sequence of {}.{}", *t.pk, seq.first,
                           seq.second, owner->second.first, owner->second.second);
      }
    }
    std::string lower = text_lower(t.schema);
    for (const char* word :
         {"backup", "bak", "archive", "old", "copy", "snapshot", "tmp", "temp"}) {
      for (size_t at = lower.find(word); at != std::string::npos; at = lower.find(word, at + 1)) {
        size_t end = at + std::string_view(word).size();
        bool left = at == 0 || !std::isalpha(static_cast<unsigned char>(lower[at - 1]));
        bool right = end == lower.size() || !std::isalpha(static_cast<unsigned char>(lower[end]));
        if (left && right) {
          return fmt::format("in schema {}, whose name reads like a copy's", t.schema);
        }
      }
    }
    return {};
  };
  auto first_word = [](const std::string& s) {
    size_t underscore = s.find('_');
    return underscore == std::string::npos ? std::string() : s.substr(0, underscore);
  };
  for (const Candidates& c : inferred) {
    struct Candidate {
      const Parent* parent;
      size_t matched;
      double rate;
      std::string copy;
      std::tuple<bool, bool, int> rank;  // lower is better
    };
    std::vector<Candidate> held;
    auto values = distinct_values(*c.child, c.child->index_of(c.column));
    const std::string app = first_word(c.child->name);
    for (const Parent* p : c.parents) {
      size_t n = values.size();
      size_t matched = matched_ids(values, *p);
      double rate = n ? static_cast<double>(matched) / static_cast<double>(n) : 0;
      if (n >= 2 && rate >= 0.5) {
        std::string copy = copy_reason(*p);
        const Table& t = *p->table;
        int schema = t.schema == c.child->schema ? 0 : t.schema == "public" ? 1 : 2;
        bool other_app = app.empty() || first_word(t.name) != app;
        held.push_back(Candidate{p, matched, rate, copy, {!copy.empty(), other_app, schema}});
      }
    }
    if (held.empty()) {
      continue;
    }
    auto best = std::min_element(held.begin(), held.end(), [](const auto& a, const auto& b) {
      return a.rank != b.rank ? a.rank < b.rank : a.rate > b.rate;
    });
    std::vector<std::string> passed;
    for (const Candidate& other : held) {
      if (&other == &*best) {
        continue;
      }
      const Table& t = *other.parent->table;
      std::string why =
          !other.copy.empty()                                   ? other.copy
          : std::get<1>(other.rank) && !std::get<1>(best->rank) ? "another app's table"
          : std::get<2>(other.rank) > std::get<2>(best->rank) ? "in another schema than the child's"
                                                              : "fewer values match";
      passed.push_back(fmt::format("{}.{}.{} ({} of {}: {})", t.schema, t.name, *t.pk,
                                   other.matched, values.size(), why));
    }
    refs.push_back(
        Ref{c.child, c.column, best->parent, false,
            passed.empty() ? std::string() : fmt::format("; not {}", fmt::join(passed, ", "))});
  }
  timing::phase("derive: references");
  std::unordered_set<const Parent*> referenced_parents;
  std::unordered_set<const Table*> child_tables;
  for (const Ref& r : refs) {
    referenced_parents.insert(r.parent);
    child_tables.insert(r.child);
  }
  // The natural keys and the key inventory of the tables that are parents: those a column
  // refers to.
  for (auto& [k, p] : parents) {
    if (referenced_parents.count(&p) == 0) {
      continue;
    }
    const Table& t = *p.table;
    std::vector<NaturalKey> keys;
    Table* old = nullptr;
    if (before) {
      auto it = before->tables.find(k);
      old = it == before->tables.end() ? nullptr : &it->second;
    }
    // Of several unique keys, the one a re-import kept: the one that finds the most rows of
    // the snapshot before again (a code the import regenerates, or leaves NULL, finds none).
    p.nk = natural_key(store, *current, t, given, old ? &keys : nullptr);
    old = keys.size() > 1 ? old : nullptr;
    if (old) {
      load_rows(store, *old);
      size_t best = 0;
      for (const NaturalKey& key : keys) {
        size_t found = shared_keys(*old, t, key.columns);
        if (found > best ||
            (found == best && found > 0 && key.columns.size() < p.nk->columns.size())) {
          best = found;
          p.nk = NaturalKey{key.columns,
                            key.source + fmt::format(" (of {} unique keys, the one that finds the "
                                                     "most rows of the snapshot before: {})",
                                                     keys.size(), found)};
        }
      }
    }
    if (p.nk) {
      std::string cols;
      for (const auto& c : p.nk->columns) {
        cols += (cols.empty() ? "" : ", ") + c;
      }
      nk_insert.run(t.schema, t.name, cols, p.nk->source);
    }
    inventory(*current, t, p.nk);
  }
  timing::phase("derive: keys");
  // Ids that changed between the snapshot before and this one, for the same natural key.
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::string, std::less<>>>
      remapped;
  if (before) {
    store::Statement remap_insert = store.prepare(
        "INSERT INTO id_remap(schema_name, table_name, key_column, old_id, new_id, natural_key, "
        "before_artifact, before_line, after_artifact, after_line) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    for (auto& [k, p] : parents) {
      auto old = before->tables.find(k);
      // Only tables that something refers to: a parent whose ids changed breaks references.
      bool referenced = referenced_parents.count(&p) > 0;
      if (!p.nk || old == before->tables.end() || !referenced) {
        continue;
      }
      load_rows(store, old->second);
      Table old_table = old->second;
      if (!old_table.pk) {
        old_table.pk = p.table->pk;
      }
      inventory(*before, old_table, p.nk);
      std::map<std::string, std::pair<std::string, const Row*>> old_by_key;
      int old_pk = old_table.index_of(*old_table.pk);
      std::vector<int> old_nk;
      for (const auto& c : p.nk->columns) {
        old_nk.push_back(old_table.index_of(c));
      }
      if (old_pk < 0 || std::find(old_nk.begin(), old_nk.end(), -1) != old_nk.end()) {
        continue;
      }
      // A key with a NULL in it identifies nobody: NULLs are never equal in a UNIQUE
      // constraint, so any number of rows may have one (customers without an email). Such
      // rows match no other, and a key that two rows of one snapshot share (a --natural-key
      // or inferred key that the other snapshot does not keep unique) matches neither.
      auto complete = [](const std::vector<View>& key) {
        return std::all_of(key.begin(), key.end(), [](const View& v) { return v.has_value(); });
      };
      std::set<std::string> old_twice;
      for (const Row& r : old->second.rows) {
        std::vector<View> key;
        for (int i : old_nk) {
          key.push_back(i < static_cast<int>(r.values.size()) ? r.values[static_cast<size_t>(i)]
                                                              : View());
        }
        if (complete(key) && old_pk < static_cast<int>(r.values.size()) &&
            r.values[static_cast<size_t>(old_pk)]) {
          auto [it, fresh] = old_by_key.try_emplace(
              key_text(key), std::string(*r.values[static_cast<size_t>(old_pk)]), &r);
          if (!fresh) {
            old_twice.insert(it->first);
          }
        }
      }
      for (const auto& twice : old_twice) {
        old_by_key.erase(twice);
      }
      std::map<std::string, int> new_count;
      std::vector<std::pair<std::string, std::pair<std::string_view, const Row*>>> new_keys;
      for (const auto& [id, row] : p.by_id) {
        std::vector<View> key;
        for (const auto& c : p.nk->columns) {
          int i = p.table->index_of(c);
          key.push_back(i >= 0 && i < static_cast<int>(row->values.size())
                            ? row->values[static_cast<size_t>(i)]
                            : View());
        }
        if (complete(key)) {
          new_keys.emplace_back(key_text(key), std::make_pair(id, row));
          ++new_count[new_keys.back().first];
        }
      }
      for (const auto& [key, entry] : new_keys) {
        const auto& [id, row] = entry;
        auto hit = new_count[key] == 1 ? old_by_key.find(key) : old_by_key.end();
        if (hit != old_by_key.end() && hit->second.first != id) {
          remapped[k][hit->second.first] = std::string(id);
          remap_insert.run(k.first, k.second, *p.table->pk, hit->second.first, id, key,
                           old->second.artifact, hit->second.second->line, p.table->artifact,
                           row->line);
        }
      }
    }
  }

  // The parents' rows in the snapshot before, read once each, for the orphans whose parent
  // no remap explains.
  std::map<const Parent*, std::optional<BeforeParent>> before_parents;
  auto before_parent = [&](const Parent& p) -> const BeforeParent* {
    auto [it, fresh] = before_parents.try_emplace(&p);
    if (fresh && before) {
      auto old = before->tables.find({p.table->schema, p.table->name});
      int pk = old == before->tables.end() ? -1 : old->second.index_of(*p.table->pk);
      if (pk >= 0) {
        load_rows(store, old->second);
        BeforeParent b;
        b.table = &old->second;
        store::Statement path = store.prepare("SELECT path FROM artifact WHERE id = ?1");
        path.bind(1, old->second.artifact);
        b.path = path.step() ? path.get_text(0) : std::string();
        for (const Row& r : old->second.rows) {
          if (pk < static_cast<int>(r.values.size()) && r.values[static_cast<size_t>(pk)]) {
            b.by_id[*r.values[static_cast<size_t>(pk)]] = &r;
          }
        }
        it->second = std::move(b);
      }
    }
    return it->second ? &*it->second : nullptr;
  };
  // The current parents' natural keys, exact and folded (case and white space), made once
  // per parent that an orphan of a deleted row needs.
  struct CurrentKeys {
    std::unordered_map<std::string, std::vector<std::string_view>> exact;
    std::unordered_map<std::string, std::vector<std::pair<std::string_view, std::string>>> folded;
  };
  std::map<const Parent*, CurrentKeys> current_keys_of;
  auto current_keys = [&](const Parent& p) -> const CurrentKeys& {
    auto [it, fresh] = current_keys_of.try_emplace(&p);
    if (fresh && p.nk) {
      for (const auto& [id, row] : p.by_id) {
        auto key = key_of(*p.table, *row, p.nk->columns);
        std::string f = folded(key);
        if (!f.empty()) {
          it->second.exact[key_text(key)].push_back(id);
          it->second.folded[f].emplace_back(id, key_text(key));
        }
      }
    }
    return it->second;
  };
  // Without a snapshot before: the ids an ETL log says a parent changed, per parent. A log
  // entry counts when it names, as ids of the parent (`team 87189`, `id 88120`), exactly one
  // id the parent does not have and one it has, and says that one replaced the other ("new
  // id", "became", "inserted again as", "renumbered", "->"); an old id given two new ones, or
  // a new id claimed twice, counts for none. ("moved from team 3 to team 7" says no such thing.)
  struct LogMove {
    std::string new_id, path, message;
    int64_t line = 0;
  };
  std::map<const Parent*, std::map<std::string, std::optional<LogMove>, std::less<>>> log_moves;
  auto log_move = [&](const Parent& p, std::string_view v) -> const LogMove* {
    auto [it, fresh] = log_moves.try_emplace(&p);
    if (fresh) {
      std::string noun = singular(text_lower(p.table->name));
      store::Statement st = store.prepare(R"(
        SELECT e.event_id, lower(e.name), e.value, l.message, l.line, a.path
          FROM log_entity e JOIN log_event_in_scope l ON l.id = e.event_id
          JOIN artifact a ON a.id = l.artifact_id
         WHERE e.kind = 'id' ORDER BY e.event_id, e.n)");
      struct Entry {
        std::set<std::string> olds, news;
        std::string message, path;
        int64_t line = 0;
      };
      std::map<int64_t, Entry> entries;
      while (st.step()) {
        std::string name = st.get_optional_text(1).value_or("");
        if (name != noun && name != text_lower(p.table->name) && name != "id") {
          continue;
        }
        Entry& e = entries[st.get_int(0)];
        std::string value = st.get_text(2);
        (p.by_id.count(value) ? e.news : e.olds).insert(value);
        e.message = st.get_text(3);
        e.line = st.get_int(4);
        e.path = st.get_text(5);
      }
      std::map<std::string, int> claimed;  // new id -> how many old ids the log gives it
      auto& moves = it->second;
      for (const auto& [id, e] : entries) {
        std::string lower = text_lower(e.message);
        bool says = false;
        for (const char* word :
             {"new id", "became", "again as", "inserted as", "renumbered", "->", "\u2192"}) {
          says = says || lower.find(word) != std::string::npos;
        }
        if (!says || e.olds.size() != 1 || e.news.size() != 1) {
          continue;
        }
        const std::string& old_id = *e.olds.begin();
        const std::string& new_id = *e.news.begin();
        auto [m, first] = moves.try_emplace(old_id, LogMove{new_id, e.path, e.message, e.line});
        if (first) {
          ++claimed[new_id];
        } else if (m->second && m->second->new_id != new_id) {
          m->second.reset();  // two new ids for one old one: neither
        }
      }
      for (auto& [old_id, m] : moves) {
        if (m && claimed[m->new_id] > 1) {
          m.reset();
        }
      }
    }
    auto m = it->second.find(v);
    return m != it->second.end() && m->second ? &*m->second : nullptr;
  };
  store::Statement orphan_insert = store.prepare(
      "INSERT INTO orphan(schema_name, table_name, column_name, row_id, value, parent_schema, "
      "parent_table, parent_column, suggested_value, method, detail, artifact_id, line, repeats) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  for (const Ref& ref : refs) {
    const Table& t = *ref.child;
    const Table& pt = *ref.parent->table;
    int col = t.index_of(ref.column);
    auto [n, matched] = value_counts(t, col, *ref.parent);
    std::string evidence =
        ref.declared
            ? fmt::format("declared: FOREIGN KEY ({}) REFERENCES {}.{}", ref.column, pt.schema,
                          pt.name)
            : fmt::format("inferred: {} of {} distinct values of {}.{} are {}.{}.{} values{}{}",
                          matched, n, t.name, ref.column, pt.schema, pt.name, *pt.pk,
                          t.all_rows() ? "" : fmt::format(" (first {} rows)", t.rows.size()),
                          ref.passed_over);
    ref_insert.run(t.schema, t.name, ref.column, pt.schema, pt.name, *pt.pk, ref.declared,
                   static_cast<int64_t>(n), static_cast<int64_t>(matched), evidence);
    int child_pk = t.pk ? t.index_of(*t.pk) : -1;
    const auto& remaps = remapped[{pt.schema, pt.name}];
    // A child without a primary key (a backup loop's table, often) has no way to name one of
    // its equal rows: each distinct orphaned row is one orphan, at its first line, standing
    // for its repeats -- not thousands of findings that all say the same.
    struct Pending {
      std::string row_id, value;
      Value suggested;
      std::string method, detail;
      int64_t line = 0, repeats = 1;
    };
    std::vector<Pending> pending;
    std::unordered_map<std::string, size_t> equal_rows;  // row text -> its pending orphan
    // The ids that the re-import gave to another parent row: new ids of a remap that the
    // parent had before, for another natural key.
    std::unordered_map<std::string_view, std::string_view> taken;  // id -> the old id of its row
    const BeforeParent* bp = remaps.empty() || child_pk < 0 ? nullptr : before_parent(*ref.parent);
    if (bp) {
      for (const auto& [old_id, new_id] : remaps) {
        if (bp->by_id.count(new_id) > 0) {
          taken.emplace(new_id, old_id);
        }
      }
    }
    // The child's rows in the snapshot before: its primary key -> the column's value.
    std::unordered_map<std::string_view, Value> child_before;
    if (!taken.empty() && before) {
      auto old = before->tables.find({t.schema, t.name});
      int pk = old == before->tables.end() ? -1 : old->second.index_of(*t.pk);
      int c = old == before->tables.end() ? -1 : old->second.index_of(ref.column);
      if (pk >= 0 && c >= 0) {
        load_rows(store, old->second);
        for (const Row& br : old->second.rows) {
          if (pk < static_cast<int>(br.values.size()) && c < static_cast<int>(br.values.size()) &&
              br.values[static_cast<size_t>(pk)]) {
            const View& bv = br.values[static_cast<size_t>(c)];
            child_before[*br.values[static_cast<size_t>(pk)]] =
                bv ? Value(std::string(*bv)) : Value();
          }
        }
      }
    }
    auto shown_key = [&](const Table& table, const Row& row) {
      return ref.parent->nk ? key_text(key_of(table, row, ref.parent->nk->columns))
                            : std::string("?");
    };
    auto misdirected = [&](const Ref& rf, const Row& r, std::string_view v,
                           const std::map<std::string, std::string, std::less<>>& moves)
        -> std::optional<Pending> {
      auto t_it = taken.find(v);
      if (t_it == taken.end() || child_pk >= static_cast<int>(r.values.size()) ||
          !r.values[static_cast<size_t>(child_pk)]) {
        return std::nullopt;
      }
      std::string_view row_id = *r.values[static_cast<size_t>(child_pk)];
      auto was = child_before.find(row_id);
      if (was == child_before.end() || !was->second || *was->second != v) {
        return std::nullopt;
      }
      const Row* before_row = bp->by_id.find(v)->second;
      const Row* now_row = nullptr;
      for (auto it = std::lower_bound(rf.parent->by_id.begin(), rf.parent->by_id.end(),
                                      IdIndex::Entry{v, nullptr},
                                      [](const auto&a, const auto&b) { return a.first < b.first; });
           it != rf.parent->by_id.end() && it->first == v; ++it) {
        now_row = it->second;
      }
      Pending m;
      m.row_id = std::string(row_id);
      m.value = std::string(v);
      m.method = "misdirected";
      m.line = r.line;
      m.detail = fmt::format(
          "{} {} is now another row: before the re-import it was the row whose natural key is {} "
          "({}:{}); now it is {}, which was {} {} before; the row is unchanged since the snapshot "
          "before",
          pt.name, v, shown_key(*bp->table, *before_row),
          bp->path.substr(bp->path.find_last_of('/') + 1), before_row->line,
          now_row ? shown_key(pt, *now_row) : std::string("?"), pt.name, t_it->second);
      if (auto it = moves.find(v); it != moves.end()) {
        m.suggested = it->second;
        m.detail +=
            fmt::format("; its parent is {} {} now (same natural key)", pt.name, it->second);
      } else {
        m.detail += fmt::format("; no row of {} has its natural key now", pt.name);
      }
      return m;
    };
    for (const Row& r : t.rows) {
      if (col >= static_cast<int>(r.values.size()) || !r.values[static_cast<size_t>(col)]) {
        continue;
      }
      std::string_view v = *r.values[static_cast<size_t>(col)];
      if (ref.parent->by_id.count(v)) {
        // The id exists, but may now be another parent's: a swap, or a sequence reset that
        // gave the old ids to other rows. Said only of a row the snapshot before has with the
        // same value (one written since may mean the parent that has the id now).
        if (auto m = misdirected(ref, r, v, remaps)) {
          pending.push_back(std::move(*m));
        }
        continue;
      }
      if (child_pk < 0) {
        auto [it, fresh] = equal_rows.try_emplace(json_row::encode(r.values), pending.size());
        if (!fresh) {
          ++pending[it->second].repeats;
          continue;
        }
      }
      std::string row_id = child_pk >= 0 && child_pk < static_cast<int>(r.values.size()) &&
                                   r.values[static_cast<size_t>(child_pk)]
                               ? std::string(*r.values[static_cast<size_t>(child_pk)])
                               : fmt::format("line {}", r.line);
      Value suggested;
      std::string method = "none";
      std::string detail;
      if (auto it = remaps.find(v); it != remaps.end()) {
        suggested = it->second;
        method = "remapped";
        detail = fmt::format("{}.{} {} became {} (same natural key) between the snapshots", pt.name,
                             *pt.pk, v, it->second);
      } else if (const LogMove* lm = !before ? log_move(*ref.parent, v) : nullptr) {
        // Without an earlier snapshot, the ETL's own log may say which id a parent got.
        suggested = lm->new_id;
        method = "log";
        detail = fmt::format("the log says {} {} got the new id {} ({}:{}: \"{}\")", pt.name, v,
                             lm->new_id, lm->path.substr(lm->path.find_last_of('/') + 1), lm->line,
                             shown_value(lm->message));
      } else if (!before && ref.parent->nk) {
        // Without an earlier snapshot: the parent whose natural-key text the row mentions.
        std::string text_column;
        for (const auto& c : ref.parent->nk->columns) {
          if (is_text(pt.types.count(c) ? pt.types.at(c) : "")) {
            text_column = c;
          }
        }
        int tc = pt.index_of(text_column);
        std::vector<std::string> hits;
        std::string needle;
        for (const auto& [id, prow] : ref.parent->by_id) {
          if (tc < 0 || tc >= static_cast<int>(prow->values.size()) ||
              !prow->values[static_cast<size_t>(tc)]) {
            continue;
          }
          std::string_view name = *prow->values[static_cast<size_t>(tc)];
          for (size_t i = 0; i < r.values.size(); ++i) {
            if (static_cast<int>(i) != col && r.values[i] && whole_word_icase(*r.values[i], name)) {
              hits.emplace_back(id);
              needle = name;
              break;
            }
          }
        }
        if (hits.size() == 1) {
          suggested = hits.front();
          method = "text";
          detail = fmt::format("the row mentions \"{}\", the {} of {}.{} {} only", needle,
                               text_column, pt.name, *pt.pk, hits.front());
        } else if (hits.size() > 1) {
          method = "ambiguous";
          detail = fmt::format("the row mentions \"{}\", the {} of {} rows of {} ({}): ambiguous",
                               needle, text_column, hits.size(), pt.name, fmt::join(hits, ", "));
        } else {
          detail = fmt::format("no row of {} is named in it", pt.name);
        }
      } else if (const BeforeParent* b = before_parent(*ref.parent)) {
        // With a snapshot before, say what it shows: the parent was there and was deleted
        // (the fact that decides between restoring it and deleting its children), or it was
        // in neither snapshot.
        auto it = b->by_id.find(v);
        if (it == b->by_id.end()) {
          detail = fmt::format("{} {} is in neither the snapshot before nor the current one",
                               pt.name, v);
        } else {
          method = "deleted";
          detail = fmt::format("{} {} was in the snapshot before ({}:{}) and was deleted", pt.name,
                               v, b->path.substr(b->path.find_last_of('/') + 1), it->second->line);
          if (ref.parent->nk) {
            auto key = key_of(*b->table, *it->second, ref.parent->nk->columns);
            const CurrentKeys& now = current_keys(*ref.parent);
            auto exact = now.exact.find(key_text(key));
            std::string cols = fmt::format("{}", fmt::join(ref.parent->nk->columns, ", "));
            if (exact == now.exact.end() || folded(key).empty()) {
              detail += fmt::format("; no row of {} has its natural key ({}) = {} now", pt.name,
                                    cols, key_text(key));
            } else {
              detail += fmt::format(
                  "; its natural key ({}) = {} is that of {} rows of {} now ({}), "
                  "which tells none of them",
                  cols, key_text(key), exact->second.size(), pt.name,
                  fmt::join(exact->second, ", "));
            }
            // A re-import that changed the key's case or spacing ("Tennaqua 2B" as "TENNAQUA
            // 2B") is a clue for the person deciding, not a match: no id is suggested.
            auto alike = folded(key).empty() ? now.folded.end() : now.folded.find(folded(key));
            if (alike != now.folded.end() && exact == now.exact.end() &&
                alike->second.size() <= 3) {
              std::vector<std::string> rows;
              for (const auto& [id, text] : alike->second) {
                rows.push_back(fmt::format("{} {} = {}", pt.name, id, text));
              }
              detail += fmt::format(
                  " (but for case or white space it is that of {}: the same parent, re-imported "
                  "with its key spelled differently?)",
                  fmt::join(rows, ", "));
            }
          }
        }
      } else {
        detail = fmt::format("{} {} is in no snapshot's {}", pt.name, v, pt.name);
      }
      pending.push_back(Pending{row_id, std::string(v), suggested, method, detail, r.line, 1});
    }
    for (const Pending& o : pending) {
      orphan_insert.run(t.schema, t.name, ref.column, o.row_id, o.value, pt.schema, pt.name, *pt.pk,
                        o.suggested, o.method, o.detail, t.artifact, o.line, o.repeats);
    }
  }
  for (const auto& [k, t] : current->tables) {
    // (Tables whose rows no check read are not said.)
    if (t.loaded() && !t.all_rows() && (t.pk || child_tables.count(&t) > 0)) {
      summary.notes.push_back(fmt::format(
          "{}.{} has {} rows; keys and references were checked in the first {} (--row-cap)",
          t.schema, t.name, t.total_rows, t.rows.size()));
    }
  }
  if (!key_index.empty()) {
    store.exec(key_index);
  }
}

}  // namespace dbautopsy::rules
