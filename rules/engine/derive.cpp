#include "rules/engine/derive.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <map>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/text.hpp"
#include "base/timing.hpp"
#include "pgsql/ddl.hpp"
#include "pgsql/names.hpp"

namespace dbautopsy::rules {

namespace {

// --- snapshots ------------------------------------------------------------------------------

struct Candidate {
  int64_t artifact = 0;
  std::optional<std::string> db;
  std::string path;
  std::string kind;  // pgdump-sql, pgdump-custom, ...
  std::string schema_fp;
  std::string data_fp;
  std::optional<std::string> taken_at;
  std::optional<std::string> mtime;
  int64_t relations = 0;
  int64_t data_sections = 0;
  // What its data says of the state, to tell two states apart whose row counts agree (a
  // re-import by DELETE + INSERT keeps every count): each sequence's setval value, the bytes
  // of each table's COPY data, and -- read only when all else agrees -- a hash of each table's
  // rows where all of them were stored.
  std::map<std::string, int64_t> sequences;   // schema.name -> last_value
  std::map<std::string, int64_t> copy_bytes;  // schema.table -> bytes of its COPY data
                                              // (compared between dumps of one kind only)
  mutable std::optional<std::map<std::string, std::string>> row_hashes;
};

std::vector<Candidate> candidates(store::Store& store, const Subject* scope = nullptr) {
  std::vector<Candidate> out;
  store::Statement st = store.prepare(R"(
    SELECT a.id, u.db, a.path, coalesce(a.started_on, a.completed_on),
           (SELECT count(*) FROM db_relation r WHERE r.artifact_id = a.id AND r.db IS u.db),
           (SELECT count(*) FROM table_stats t WHERE t.artifact_id = a.id AND t.db IS u.db),
           a.mtime, a.kind
      FROM artifact a
      JOIN (SELECT DISTINCT artifact_id, db FROM db_relation
            UNION SELECT DISTINCT artifact_id, db FROM table_stats) u ON u.artifact_id = a.id
     WHERE a.kind IN ('pgdump-sql', 'pgdump-custom', 'pgdump-tar', 'pgdump-dir')
       AND a.status IN ('ok', 'partial')
       -- a per-table dump read as part of another (pg_dump -t, one file per table)
       AND coalesce(a.read_options, '') NOT LIKE '%;tables-into=%'
     ORDER BY a.id, u.db)");
  while (st.step()) {
    Candidate c;
    c.artifact = st.get_int(0);
    c.db = st.get_optional_text(1);
    c.path = st.get_text(2);
    c.taken_at = st.get_optional_text(3);
    c.relations = st.get_int(4);
    c.data_sections = st.get_int(5);
    c.mtime = st.get_optional_text(6);
    c.kind = st.get_text(7);
    if (scope && !scope->dumps.count({c.artifact, c.db})) {
      continue;  // a dump of another database
    }
    out.push_back(c);
  }
  // A fingerprint of the schema (every relation, column, index and constraint) and of the
  // data (rows per table), to tell which dumps show the same state.
  for (auto& c : out) {
    store::Statement fp = store.prepare(R"(
      SELECT coalesce(group_concat(x, '|'), '') FROM (
        SELECT 'r:' || schema_name || '.' || name || ':' || kind AS x FROM db_relation
         WHERE artifact_id = ?1 AND db IS ?2
        UNION ALL SELECT 'c:' || schema_name || '.' || table_name || '.' || name || ':' || type ||
               ':' || not_null FROM db_column WHERE artifact_id = ?1 AND db IS ?2
        UNION ALL SELECT 'i:' || schema_name || '.' || name FROM db_index
         WHERE artifact_id = ?1 AND db IS ?2
        UNION ALL SELECT 'k:' || schema_name || '.' || table_name || '.' || name || ':' || kind
          FROM db_constraint WHERE artifact_id = ?1 AND db IS ?2
        ORDER BY 1))");
    fp.bind(1, c.artifact);
    fp.bind(2, c.db);
    c.schema_fp = fp.step() ? fp.get_text(0) : "";
    fp.reset();
    store::Statement data = store.prepare(R"(
      SELECT coalesce(group_concat(x, '|'), '') FROM (
        SELECT schema_name || '.' || table_name || ':' || sum(rows) AS x FROM table_stats
         WHERE artifact_id = ?1 AND db IS ?2 GROUP BY schema_name, table_name ORDER BY 1))");
    data.bind(1, c.artifact);
    data.bind(2, c.db);
    c.data_fp = data.step() ? data.get_text(0) : "";
    data.reset();
    store::Statement seq = store.prepare(
        "SELECT schema_name || '.' || name, last_value FROM db_sequence "
        "WHERE artifact_id = ?1 AND db IS ?2 AND last_value IS NOT NULL");
    seq.bind(1, c.artifact);
    seq.bind(2, c.db);
    while (seq.step()) {
      c.sequences.emplace(seq.get_text(0), seq.get_int(1));
    }
    seq.reset();
    // Only tables whose every section is COPY data read to its end.
    store::Statement bytes = store.prepare(R"(
      SELECT schema_name || '.' || table_name, sum(bytes) FROM table_stats
       WHERE artifact_id = ?1 AND db IS ?2 GROUP BY schema_name, table_name
      HAVING min(source = 'copy' AND complete = 1 AND bytes IS NOT NULL) = 1)");
    bytes.bind(1, c.artifact);
    bytes.bind(2, c.db);
    while (bytes.step()) {
      c.copy_bytes.emplace(bytes.get_text(0), bytes.get_int(1));
    }
    bytes.reset();
  }
  return out;
}

// A hash of each table's rows, where every row of it was stored (not cut at --row-cap) and
// read to its end: a sum of the rows' hashes, so that the order of the rows does not count,
// with the form they were read in (COPY and INSERT rows are compared only among themselves).
const std::map<std::string, std::string>& row_hashes(store::Store& store, const Candidate& c) {
  if (c.row_hashes) {
    return *c.row_hashes;
  }
  auto mix = [](std::string_view text) {
    uint64_t h = 1469598103934665603ULL;  // FNV-1a, then splitmix64's finalizer
    for (unsigned char ch : text) {
      h = (h ^ ch) * 1099511628211ULL;
    }
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
  };
  struct Sum {
    uint64_t hash = 0;
    int64_t rows = 0;
    std::set<std::string> sources;
    bool whole = true;
  };
  std::map<std::string, Sum> sums;
  store::Statement sections = store.prepare(
      "SELECT schema_name || '.' || table_name, section, source, rows, "
      "section IS NOT NULL AND complete = 1 AND stored_rows = rows FROM table_stats "
      "WHERE artifact_id = ?1 AND db IS ?2");
  sections.bind(1, c.artifact);
  sections.bind(2, c.db);
  store::Statement stored =
      store.prepare("SELECT row_values FROM table_row WHERE artifact_id = ?1 AND section = ?2");
  while (sections.step()) {
    Sum& sum = sums[sections.get_text(0)];
    sum.sources.insert(sections.get_text(2));
    sum.rows += sections.get_int(3);
    if (!sections.get_int(4)) {
      sum.whole = false;
      continue;
    }
    stored.bind(1, c.artifact);
    stored.bind(2, sections.get_int(1));
    while (stored.step()) {
      sum.hash += mix(stored.get_text(0));
    }
    stored.reset();
  }
  sections.reset();
  c.row_hashes.emplace();
  for (const auto& [table, sum] : sums) {
    if (sum.whole) {
      c.row_hashes->emplace(
          table, fmt::format("{}:{}:{:016x}", fmt::join(sum.sources, "+"), sum.rows, sum.hash));
    }
  }
  return *c.row_hashes;
}

// Whether two maps give another value to a name both have.
template <typename T>
bool differ(const std::map<std::string, T>& a, const std::map<std::string, T>& b) {
  for (const auto& [name, value] : a) {
    auto it = b.find(name);
    if (it != b.end() && it->second != value) {
      return true;
    }
  }
  return false;
}

// Of two row hashes, those read in one form (see row_hashes) that differ.
bool rows_differ(const std::map<std::string, std::string>& a,
                 const std::map<std::string, std::string>& b) {
  for (const auto& [table, hash] : a) {
    auto it = b.find(table);
    if (it != b.end() && it->second != hash &&
        hash.substr(0, hash.find(':')) == it->second.substr(0, it->second.find(':'))) {
      return true;
    }
  }
  return false;
}

// The evidence a state carries about when it was taken: the last values of its sequences
// (setval() in a data dump), the highest integer primary key of each table whose rows were
// all stored, pg_dump's "Started on" header, and the file's modification time.
struct Group {
  std::vector<const Candidate*> members;
  std::optional<std::string> taken_at;
  std::optional<std::string> mtime;
  std::map<std::string, int64_t> sequences;  // schema.name -> last_value
  std::map<std::string, int64_t> max_ids;    // schema.table -> highest primary key
  std::optional<std::string> name_date;      // the date its files' names give (name_date)

  std::string name() const {
    std::string out;
    for (const Candidate* m : members) {
      out += (out.empty() ? "" : " = ") + m->path;
    }
    return out;
  }
};

bool is_integer_type(std::string type) {
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type == "integer" || type == "bigint" || type == "smallint" || type == "int" ||
         type == "int2" || type == "int4" || type == "int8" || type == "serial" ||
         type == "bigserial" || type == "smallserial";
}

std::string unquote(std::string_view c) {
  c = text::trim(c);
  if (c.size() >= 2 && c.front() == '"' && c.back() == '"') {
    c = c.substr(1, c.size() - 2);
  }
  return std::string(c);
}

// The date and time a file's name gives, as YYYYMMDDhhmmss: the first date in it written
// YYYY-MM-DD, YYYY_MM_DD, YYYY.MM.DD or YYYYMMDD (not part of a longer number), with the time
// that follows it if any (T, _, - or a space, then hh:mm[:ss], hh-mm[-ss], hhmm[ss]).
std::optional<std::string> name_date(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);  // a directory archive
  }
  if (size_t slash = path.find_last_of('/'); slash != std::string_view::npos) {
    path.remove_prefix(slash + 1);
  }
  auto digit = [&](size_t at) {
    return at < path.size() && std::isdigit(static_cast<unsigned char>(path[at])) != 0;
  };
  auto number = [&](size_t at, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t k = at; k < at + n; ++k) {
      if (!digit(k)) {
        return std::nullopt;
      }
      v = v * 10 + (path[k] - '0');
    }
    return v;
  };
  auto is_sep = [](char ch) { return ch == '-' || ch == '_' || ch == '.'; };
  for (size_t i = 0; i + 8 <= path.size(); ++i) {
    if ((i > 0 && digit(i - 1)) || !number(i, 4)) {
      continue;
    }
    size_t j = i + 4;
    char sep = j < path.size() && is_sep(path[j]) ? path[j++] : 0;
    auto month = number(j, 2);
    j += 2;
    if (sep && (j >= path.size() || path[j++] != sep)) {
      continue;
    }
    auto day = number(j, 2);
    j += 2;
    int year = *number(i, 4);
    if (!month || !day || year < 1970 || year > 2099 || *month < 1 || *month > 12 || *day < 1 ||
        *day > 31) {
      continue;
    }
    // The time: after a separator, or (YYYYMMDDhhmm[ss]) right after the digits.
    std::string time = "000000";
    size_t k = j;
    bool joined = !sep && digit(k);
    if (!joined && k < path.size() &&
        (path[k] == 'T' || path[k] == '_' || path[k] == '-' || path[k] == ' ')) {
      ++k;
    }
    auto hour = number(k, 2);
    if (hour && (joined || k > j)) {
      size_t m = k + 2;
      char tsep =
          m < path.size() && (path[m] == ':' || path[m] == '-' || path[m] == '.') ? path[m++] : 0;
      auto minute = number(m, 2);
      m += 2;
      std::optional<int> second = 0;
      if (minute && tsep && m < path.size() && path[m] == tsep) {
        second = number(m + 1, 2);
        m += 3;
      } else if (minute && !tsep && digit(m)) {
        second = number(m, 2);
        m += 2;
      }
      if (minute && second && !digit(m) && *hour < 24 && *minute < 60 && *second < 60) {
        time = fmt::format("{:02}{:02}{:02}", *hour, *minute, *second);
      } else if (joined) {
        continue;  // YYYYMMDD followed by other digits: a longer number
      }
    } else if (joined || digit(j)) {
      continue;
    }
    return fmt::format("{:04}{:02}{:02}{}", year, *month, *day, time);
  }
  return std::nullopt;
}

void load_sequences(store::Store& store, const Candidate& c, Group& g) {
  store::Statement st = store.prepare(
      "SELECT schema_name || '.' || name, last_value FROM db_sequence "
      "WHERE artifact_id = ?1 AND db IS ?2 AND last_value IS NOT NULL");
  st.bind(1, c.artifact);
  st.bind(2, c.db);
  while (st.step()) {
    g.sequences.emplace(st.get_text(0), st.get_int(1));
  }
  st.reset();
}

// The highest value of each single-column integer primary key, over the rows of a data
// section that were all stored (a table cut at --row-cap says nothing: its rows are in
// physical order, not in id order). The key is declared in the same dump, else in any dump
// of the same database (a data-only dump has none).
void load_max_ids(store::Store& store, const Candidate& c, Group& g) {
  std::map<std::string, std::string> pk;  // schema.table -> column
  {
    store::Statement st = store.prepare(R"(
      SELECT k.schema_name || '.' || k.table_name, k.columns, k.artifact_id = ?1 AS own,
             (SELECT col.type FROM db_column col
               WHERE col.artifact_id = k.artifact_id AND col.db IS k.db
                 AND col.schema_name = k.schema_name AND col.table_name = k.table_name
                 AND col.name = k.columns)
        FROM db_constraint k
       WHERE k.kind = 'p' AND k.db IS ?2 AND k.columns NOT LIKE '%,%'
       ORDER BY own DESC, k.artifact_id)");
    st.bind(1, c.artifact);
    st.bind(2, c.db);
    while (st.step()) {
      auto type = st.get_optional_text(3);
      if (type && is_integer_type(*type)) {
        pk.emplace(st.get_text(0), unquote(st.get_text(1)));
      }
    }
    st.reset();
  }
  store::Statement sections = store.prepare(
      "SELECT schema_name || '.' || table_name, columns, section FROM table_stats "
      "WHERE artifact_id = ?1 AND db IS ?2 AND source IN ('copy', 'insert') AND section IS NOT "
      "NULL "
      "AND complete = 1 AND stored_rows = rows AND rows > 0");
  sections.bind(1, c.artifact);
  sections.bind(2, c.db);
  store::Statement max = store.prepare(
      "SELECT max(CAST(json_extract(row_values, ?3) AS INTEGER)) FROM table_row "
      "WHERE artifact_id = ?1 AND section = ?2");
  while (sections.step()) {
    std::string table = sections.get_text(0);
    auto key = pk.find(table);
    if (key == pk.end()) {
      continue;
    }
    std::string columns = sections.get_text(1);
    int index = -1;
    int i = 0;
    for (auto part : text::split(columns, ',')) {
      if (unquote(std::string(part)) == key->second) {
        index = i;
      }
      ++i;
    }
    if (index < 0) {
      continue;
    }
    max.bind(1, c.artifact);
    max.bind(2, sections.get_int(2));
    max.bind(3, fmt::format("$[{}]", index));
    if (max.step()) {
      if (auto v = max.get_optional_int(0)) {
        auto [it, fresh] = g.max_ids.emplace(table, *v);
        if (!fresh) {
          it->second = std::max(it->second, *v);
        }
      }
    }
    max.reset();
  }
  sections.reset();
}

// How many items say that the state `a` is behind `b` (earlier) and how many that it is
// ahead (later); the verdict is the majority: -1 earlier, 1 later, 0 undecided.
struct Tally {
  int64_t behind = 0;
  int64_t ahead = 0;
  int verdict() const { return behind > ahead ? -1 : ahead > behind ? 1 : 0; }
};

Tally tally(const std::map<std::string, int64_t>& a, const std::map<std::string, int64_t>& b) {
  Tally t;
  for (const auto& [name, value] : a) {
    auto it = b.find(name);
    if (it != b.end()) {
      t.behind += value < it->second;
      t.ahead += value > it->second;
    }
  }
  return t;
}

int compare_text(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a || !b || *a == *b) {
    return 0;
  }
  return *a < *b ? -1 : 1;
}

// What the evidence says about the order of two states, and in what words.
struct Verdict {
  int order = 0;                     // -1: a was taken first, 1: b was, 0: nothing tells
  std::string decided_by;            // sequences, max ids, header (joined by '+'), mtime, order
  std::string reasons;               // what each kind of evidence that spoke says
  std::vector<std::string> dissent;  // the kinds that said otherwise
  bool tie = false;                  // as many kinds said one thing as the other
};

// Whether dumps of these databases may show one database: two databases of a pg_dumpall never
// do; a dump that names none (pg_dump's), grouped with one of them, is that database
// (derive_subjects put them together).
bool one_database(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  return !a || !b || *a == *b;
}

Verdict weigh(const Group& a, const Group& b) {
  // Sequences and tables of two databases say nothing of each other.
  bool same_db = one_database(a.members.front()->db, b.members.front()->db);
  Tally seq = same_db ? tally(a.sequences, b.sequences) : Tally{};
  Tally ids = same_db ? tally(a.max_ids, b.max_ids) : Tally{};
  // To the second: an archive's creation time names no zone, a plain dump's does.
  auto second = [](const std::optional<std::string>& t) {
    return t ? std::optional<std::string>(t->substr(0, 19)) : std::nullopt;
  };
  int header = compare_text(second(a.taken_at), second(b.taken_at));
  // Each kind of evidence that speaks, and what it says in words: `later` is the state it
  // says was taken later.
  struct Vote {
    int verdict;
    std::string kind;
    std::string says;
  };
  auto later = [&](int verdict) { return verdict < 0 ? b.name() : a.name(); };
  std::vector<Vote> votes;
  if (seq.verdict()) {
    votes.push_back({seq.verdict(), "sequences",
                     fmt::format("the sequences: {} of the {} that moved are higher in {} "
                                 "(setval)",
                                 std::max(seq.behind, seq.ahead), seq.behind + seq.ahead,
                                 later(seq.verdict()))});
  }
  if (ids.verdict()) {
    votes.push_back({ids.verdict(), "max ids",
                     fmt::format("the tables' highest ids: {} of the {} that changed are "
                                 "higher in {}",
                                 std::max(ids.behind, ids.ahead), ids.behind + ids.ahead,
                                 later(ids.verdict()))});
  }
  if (header) {
    votes.push_back(
        {header, "header",
         fmt::format("pg_dump's \"Started on\" header: {} was started later", later(header))});
  }
  Verdict v;
  if (votes.empty()) {
    int names = compare_text(a.name_date, b.name_date);
    int mtime = compare_text(a.mtime, b.mtime);
    if (names) {
      v.order = names;
      v.decided_by = "file names";
      v.reasons = fmt::format(
          "the dates in the file names only ({} is dated later; no sequence moved, no table's "
          "highest id changed, no \"Started on\" header tells them apart)",
          later(names));
    } else if (mtime) {
      v.order = mtime;
      v.decided_by = "mtime";
      v.reasons = fmt::format(
          "the files' modification times only ({} is newer; no sequence moved, no table's "
          "highest id changed, no \"Started on\" header or date in the file names tells them "
          "apart)",
          later(mtime));
    } else {
      v.decided_by = "order";
      v.reasons =
          "nothing tells them apart (no sequence moved, no table's highest id changed, "
          "no \"Started on\" header, no date in the file names, same modification time): "
          "taken in the order read";
    }
    return v;
  }
  int sum = 0;
  for (const Vote& vote : votes) {
    sum += vote.verdict;
  }
  // The majority of the kinds of evidence; on a tie, the first kind (sequences, then max
  // ids, then the header).
  v.order = sum > 0 ? 1 : sum < 0 ? -1 : votes.front().verdict;
  v.tie = sum == 0;
  std::vector<std::string> said;
  for (const Vote& vote : votes) {
    if (vote.verdict == v.order) {
      v.decided_by += (v.decided_by.empty() ? "" : "+") + vote.kind;
      said.push_back(vote.says);
    } else {
      v.dissent.push_back(vote.says);
    }
  }
  v.reasons = fmt::format("{}", fmt::join(said, "; and "));
  if (!a.taken_at && !b.taken_at) {
    v.reasons += " (neither dump has a \"Started on\" header: pg_dump -v writes it)";
  }
  return v;
}

// Two dumps show one state only when nothing they both have differs: the schema, each
// table's row count, the "Started on" times, the sequences' setval values, the bytes of each
// table's COPY data, and each table's rows (all stored, read in one form). A re-import by
// DELETE + INSERT keeps every count; its sequences, ids and rows tell it apart.
bool same_state(store::Store& store, const Candidate& a, const Candidate& b) {
  if (!one_database(a.db, b.db)) {
    return false;
  }
  // A data-only dump (no relations) belongs with a schema dump of the same database.
  bool schema_agrees = a.schema_fp == b.schema_fp || a.relations == 0 || b.relations == 0;
  bool data_agrees = a.data_fp == b.data_fp || a.data_fp.empty() || b.data_fp.empty();
  // Two dumps with data taken at different times are different states, even if alike.
  // (To the second: a plain dump's "Started on" names its zone, an archive's creation time
  // -- which `pg_restore -v` prints as "Started on" -- does not.)
  bool times_agree = !a.taken_at || !b.taken_at || a.data_fp.empty() || b.data_fp.empty() ||
                     a.taken_at->substr(0, 19) == b.taken_at->substr(0, 19);
  if (!schema_agrees || !data_agrees || !times_agree) {
    return false;
  }
  if (differ(a.sequences, b.sequences) ||
      (a.kind == b.kind && differ(a.copy_bytes, b.copy_bytes))) {
    return false;
  }
  return a.data_fp.empty() || b.data_fp.empty() ||
         !rows_differ(row_hashes(store, a), row_hashes(store, b));
}

void derive_snapshots(store::Store& store, const DeriveOptions& given, DeriveSummary& summary,
                      const Subject* scope) {
  std::vector<Candidate> all = candidates(store, scope);
  // --before / --after order the dumps of the database they name (derive_subjects has made
  // sure that both name dumps of one database, and that each names a dump).
  DeriveOptions options = given;
  if (scope) {
    auto here = [&](const std::optional<std::string>& path) {
      return path && std::any_of(all.begin(), all.end(),
                                 [&](const Candidate& c) { return c.path == *path; });
    };
    if (!here(options.before)) {
      options.before.reset();
    }
    if (!here(options.after)) {
      options.after.reset();
    }
  }
  // The dumps --before and --after name are two states, whatever they show.
  auto named_apart = [&](const Candidate& x, const Candidate& y) {
    auto is = [](const std::optional<std::string>& p, const Candidate& c) {
      return p && *p == c.path;
    };
    return (is(options.before, x) && is(options.after, y)) ||
           (is(options.after, x) && is(options.before, y));
  };
  std::vector<Group> groups;
  // The dumps with data are placed first, then the schema-only ones. A schema-only dump agrees
  // with every dump of the same schema: it joins the data-only dump it completes (a group
  // that declares no table), else the first group it agrees with. So a pg_dump --schema-only
  // beside the --data-only of the same night is one state with it, whatever the order read,
  // and not with an earlier full dump whose schema was the same.
  std::vector<const Candidate*> placing;
  for (const auto& c : all) {
    placing.push_back(&c);
  }
  std::stable_partition(placing.begin(), placing.end(),
                        [](const Candidate* c) { return !c->data_fp.empty(); });
  for (const Candidate* placed : placing) {
    const Candidate& c = *placed;
    auto agrees = [&](const Group& g) {
      return std::all_of(g.members.begin(), g.members.end(), [&](const Candidate* m) {
        return !named_apart(*m, c) && same_state(store, *m, c);
      });
    };
    auto declares = [](const Group& g) {
      return std::any_of(g.members.begin(), g.members.end(),
                         [](const Candidate* m) { return m->relations > 0; });
    };
    auto it = groups.end();
    if (c.data_fp.empty() && c.relations > 0) {
      it = std::find_if(groups.begin(), groups.end(),
                        [&](const Group& g) { return !declares(g) && agrees(g); });
    }
    if (it == groups.end()) {
      it = std::find_if(groups.begin(), groups.end(), agrees);
    }
    if (it == groups.end()) {
      groups.push_back(Group{{&c}, c.taken_at, c.mtime, {}, {}});
    } else {
      it->members.push_back(&c);
      if (!it->taken_at || (c.taken_at && *c.taken_at > *it->taken_at)) {
        it->taken_at = c.taken_at;
      }
      if (!it->mtime || (c.mtime && *c.mtime > *it->mtime)) {
        it->mtime = c.mtime;
      }
    }
  }
  if (groups.empty()) {
    if (options.before || options.after) {
      throw UsageError(fmt::format("--{} {}: there is no dump to order",
                                   options.before ? "before" : "after",
                                   options.before ? *options.before : *options.after));
    }
    return;
  }
  for (Group& g : groups) {
    // The dumps with data first: their setval() values and rows speak for the state.
    std::vector<const Candidate*> by_data = g.members;
    std::stable_sort(by_data.begin(), by_data.end(), [](const Candidate* x, const Candidate* y) {
      return x->data_sections > y->data_sections;
    });
    for (const Candidate* m : by_data) {
      load_sequences(store, *m, g);
      load_max_ids(store, *m, g);
    }
    // The date its files' names give, when they all give one and the same.
    for (const Candidate* m : g.members) {
      auto date = name_date(m->path);
      if (!date || (m != g.members.front() && date != g.name_date)) {
        g.name_date.reset();
        break;
      }
      g.name_date = date;
    }
  }
  // Order in time from the evidence the dumps carry (sequences, highest ids, header, file
  // time; see weigh), each new state placed after every state it does not precede.
  std::vector<Group> ordered;
  for (Group& g : groups) {
    size_t at = ordered.size();
    while (at > 0 && weigh(g, ordered[at - 1]).order < 0) {
      --at;
    }
    ordered.insert(ordered.begin() + static_cast<std::ptrdiff_t>(at), std::move(g));
  }
  groups = std::move(ordered);

  std::vector<std::string> evidence_notes;
  std::vector<std::string> ordered_by(groups.size(), groups.front().taken_at ? "header" : "order");
  for (size_t i = 1; i < groups.size(); ++i) {
    Verdict v = weigh(groups[i - 1], groups[i]);
    ordered_by[i] = v.decided_by;
    if (i == 1) {
      ordered_by[0] = v.decided_by;
    }
    std::string note;
    if (v.order == 0) {
      note = fmt::format("snapshot order: {} and {}: {} -- give --before/--after to be sure",
                         groups[i - 1].name(), groups[i].name(), v.reasons);
    } else {
      note = fmt::format("snapshot order: {} was taken before {}, by {}", groups[i - 1].name(),
                         groups[i].name(), v.reasons);
      if (!v.dissent.empty()) {
        note += fmt::format(
            "; but the evidence disagrees: {}; {} -- give --before/--after to be sure",
            fmt::join(v.dissent, "; and "),
            v.tie ? "as many kinds of evidence say one thing as the other, and the first of them "
                    "(sequences, then highest ids, then the header) decided"
                  : "the majority of the kinds of evidence decided");
      } else if (v.decided_by == "mtime" || v.decided_by == "file names") {
        note += " -- give --before/--after to be sure";
      }
    }
    evidence_notes.push_back(note);
  }

  // The user's --before/--after come first: the state that holds the named dump goes before
  // (after) every other state. The CLI has matched the flags to artifact paths already; a
  // flag that names no dump is an error, never ignored.
  size_t notes_before = summary.notes.size();
  if (options.before || options.after) {
    auto holder = [&](const char* flag,
                      const std::optional<std::string>& path) -> std::optional<size_t> {
      if (!path) {
        return std::nullopt;
      }
      for (size_t i = 0; i < groups.size(); ++i) {
        for (const Candidate* m : groups[i].members) {
          if (m->path == *path) {
            return i;
          }
        }
      }
      std::string dumps;
      for (const auto& c : all) {
        dumps += (dumps.empty() ? "" : ", ") + c.path;
      }
      throw UsageError(fmt::format("--{} {}: no such dump among the inputs (the dumps: {})", flag,
                                   *path, dumps));
    };
    std::optional<size_t> before = holder("before", options.before);
    std::optional<size_t> after = holder("after", options.after);
    if (before && after && *before > *after) {
      Verdict v = weigh(groups[*after], groups[*before]);
      summary.notes.push_back(fmt::format(
          "--before {} --after {}: taken as given, although the dumps' own evidence says the "
          "opposite: {}",
          *options.before, *options.after, v.reasons));
    }
    std::vector<int> rank(groups.size(), 1);
    if (before) {
      rank[*before] = 0;
    }
    if (after && (!before || *after != *before)) {
      rank[*after] = 2;
    }
    std::vector<size_t> index(groups.size());
    for (size_t i = 0; i < index.size(); ++i) {
      index[i] = i;
    }
    std::stable_sort(index.begin(), index.end(),
                     [&](size_t x, size_t y) { return rank[x] < rank[y]; });
    std::vector<Group> by_option;
    for (size_t i : index) {
      by_option.push_back(std::move(groups[i]));
    }
    groups = std::move(by_option);
    std::fill(ordered_by.begin(), ordered_by.end(), "option");
    std::vector<std::string> names;
    for (const Group& g : groups) {
      names.push_back(g.name());
    }
    summary.notes.insert(
        summary.notes.begin() + static_cast<std::ptrdiff_t>(notes_before),
        fmt::format("snapshot order: {}, as --before/--after say", fmt::join(names, " before ")));
  } else {
    summary.notes.insert(summary.notes.end(), evidence_notes.begin(), evidence_notes.end());
  }

  for (size_t i = 0; i < groups.size(); ++i) {
    const Group& g = groups[i];
    std::string role = i + 1 == groups.size()   ? "current"
                       : i + 2 == groups.size() ? "before"
                                                : "earlier";
    const Candidate* rep = g.members.front();
    const Candidate* data = nullptr;
    std::vector<std::string> ids;
    for (const Candidate* m : g.members) {
      if (m->relations > rep->relations) {
        rep = m;
      }
      if (m->data_sections > 0 && (!data || m->data_sections > data->data_sections)) {
        data = m;
      }
      ids.push_back(std::to_string(m->artifact));
    }
    std::string joined;
    for (const auto& id : ids) {
      joined += (joined.empty() ? "" : ",") + id;
    }
    store
        .prepare(
            "INSERT INTO snapshot(role, artifact_id, db, data_artifact_id, artifacts, taken_at, "
            "ordered_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
        .run(role, rep->artifact, rep->db,
             data ? std::optional<int64_t>(data->artifact) : std::nullopt, joined, g.taken_at,
             ordered_by[i]);
  }
  summary.snapshots = static_cast<int>(groups.size());
}

// --- recorded migrations -----------------------------------------------------------------

struct Recorded {
  std::string app, name;
  std::optional<int64_t> record_id;
  std::optional<std::string> applied_at;
  int64_t first_seen = 0;
  int64_t artifact = 0;
  std::optional<int64_t> line;
};

std::vector<Recorded> recorded_migrations(store::Store& store, const Subject* scope) {
  std::vector<Recorded> out;
  // The records of the database analysed: those of its dumps and of the exports that are
  // its own (temp.scope_record; every record when there is one database).
  store.exec("DROP TABLE IF EXISTS temp.scope_record");
  store.exec("CREATE TEMP TABLE scope_record(artifact_id INTEGER, db TEXT)");
  if (scope) {
    store::Statement add =
        store.prepare("INSERT INTO temp.scope_record(artifact_id, db) VALUES (?1, ?2)");
    for (const auto& [artifact, db] : scope->dumps) {
      add.run(artifact, db);
    }
    for (int64_t artifact : scope->record_artifacts) {
      add.run(artifact, std::optional<std::string>());
    }
  }
  // The evidence row: a real export (csv/json/psql/copy/insert) before showmigrations.
  // Of a dump with a django_migrations in several schemas, the records of the application's
  // one (the current snapshot's, public first, as derive's default_schema): another schema's
  // django_migrations is another Django database's (a test run's or a tenant's), whose
  // migrations made their tables in that schema.
  store::Statement st = store.prepare(fmt::format(R"(
    WITH mr AS (SELECT rowid AS rid, * FROM migration_record m
                 WHERE ({} OR EXISTS (SELECT 1 FROM temp.scope_record s
                                       WHERE s.artifact_id = m.artifact_id AND s.db IS m.db))
                   AND (m.schema_name IS NULL
                        OR NOT EXISTS (SELECT 1 FROM current_migrations_schema)
                        OR m.schema_name = (SELECT schema_name FROM current_migrations_schema)))
    SELECT app, name, min(record_id), min(applied_at), min(rid),
           (SELECT artifact_id FROM mr r2 WHERE r2.app = r.app AND r2.name = r.name
             ORDER BY source = 'showmigrations', rid LIMIT 1),
           (SELECT line FROM mr r2 WHERE r2.app = r.app AND r2.name = r.name
             ORDER BY source = 'showmigrations', rid LIMIT 1)
      FROM mr r GROUP BY app, name)",
                                                  scope ? "0" : "1"));
  while (st.step()) {
    Recorded r;
    r.app = st.get_text(0);
    r.name = st.get_text(1);
    r.record_id = st.get_optional_int(2);
    r.applied_at = st.get_optional_text(3);
    r.first_seen = st.get_int(4);
    r.artifact = st.get_int(5);
    r.line = st.get_optional_int(6);
    out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(), [](const Recorded& a, const Recorded& b) {
    if (a.record_id && b.record_id) {
      return *a.record_id < *b.record_id;
    }
    if (a.applied_at && b.applied_at && *a.applied_at != *b.applied_at) {
      return *a.applied_at < *b.applied_at;
    }
    return a.first_seen < b.first_seen;
  });
  return out;
}

// --- expected schema -----------------------------------------------------------------------

struct Intent {
  std::string migration, action;  // create, alter, ensure, rename (old_name), follow
  bool conditional = false;
  int64_t artifact = 0;
  std::optional<int64_t> line;
  std::optional<std::string> old_name;  // rename: the name before it
  // alter of a column: its type, nullability, default and COLLATE clause before this
  // alteration
  std::optional<std::string> before_type, before_default, before_collation;
  std::optional<int64_t> before_not_null;
};

struct Obj {
  std::string kind, schema, table, name;
  std::optional<std::string> type, default_expr, fill_value, constraint_kind, columns, definition;
  std::optional<std::string> predicate;  // indexes: the WHERE of a partial index
  std::optional<int64_t> not_null;
  std::optional<std::string> ref_schema, ref_table;  // foreign keys: the referenced table
  bool implied = false;
  std::string migration;
  int64_t artifact = 0;
  std::optional<int64_t> line;
  std::vector<Intent> intents;
  bool alive = true;
};

// What a recorded migration removes (DROP TABLE / COLUMN / INDEX / CONSTRAINT), named as it
// is named at the end of the history (later renames of its table followed), with what the
// fold knew of the object when it was removed.
struct Removal {
  std::string kind, schema;
  std::optional<std::string> table;  // NULL: an index whose table nothing recorded names
  std::string name;
  std::optional<std::string> constraint_kind, columns, definition, created_by;
  std::string migration;
  int64_t artifact = 0;
  std::optional<int64_t> line;
  bool known = false;  // a recorded migration created it (the fold held it when it was removed)
};

struct Effect {
  int64_t artifact = 0;
  std::optional<int64_t> line;
  std::string action, object;
  std::optional<std::string> schema, table, new_name, type, default_expr, kind, columns, definition,
      ref_schema, ref_table, predicate, fill_value;
  std::string name;
  std::optional<int64_t> not_null;
  bool conditional = false;
};

class Fold {
 public:
  explicit Fold(std::string default_schema) : m_default(std::move(default_schema)) {}

  void apply(const std::string& migration, const Effect& e) {
    std::string schema = e.schema.value_or(m_default);
    Intent intent{migration, "create", e.conditional, e.artifact, e.line};
    if (e.object == "table") {
      table(migration, e, schema, intent);
    } else if (e.object == "column") {
      column(migration, e, schema, intent);
    } else if (e.object == "index" || e.object == "constraint") {
      named(migration, e, schema, intent);
    } else if (e.object == "extension") {
      extension(migration, e, intent);
    }
  }

  const std::vector<Obj>& objects() const { return m_objects; }

  // The removals whose object is not expected again at the end of the history: the last
  // removal of each object, unless a later migration created it again.
  std::vector<Removal> removals() const {
    std::vector<Removal> out;
    std::set<std::tuple<std::string, std::string, std::string, std::string>> seen;
    for (auto it = m_removals.rbegin(); it != m_removals.rend(); ++it) {
      const Removal& r = *it;
      if (!seen.insert({r.kind, r.schema, r.table.value_or(""), r.name}).second) {
        continue;
      }
      bool again = false;
      for (const auto& o : m_objects) {
        again = again || (o.alive && o.kind == r.kind && o.schema == r.schema && o.name == r.name &&
                          (r.kind == "index" || o.table == r.table));
      }
      if (!again) {
        out.push_back(r);
      }
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  using TableKey = std::pair<std::string, std::string>;

  Obj* find_table(const std::string& schema, const std::string& table) {
    auto it = m_tables.find({schema, table});
    return it == m_tables.end() || !m_objects[it->second].alive ? nullptr : &m_objects[it->second];
  }

  Obj& add(Obj o) {
    m_objects.push_back(std::move(o));
    return m_objects.back();
  }

  // The table an effect on a column, index or constraint refers to; a table that no recorded
  // migration created is implied (made by an unrecorded migration, or by hand).
  void ensure_table(const std::string& migration, const Effect& e, const std::string& schema,
                    const std::string& table) {
    if (find_table(schema, table)) {
      return;
    }
    Obj t;
    t.kind = "table";
    t.schema = schema;
    t.table = table;
    t.name = table;
    t.implied = true;
    t.migration = migration;
    t.artifact = e.artifact;
    t.line = e.line;
    m_tables[{schema, table}] = m_objects.size();
    add(std::move(t));
  }

  void table(const std::string& migration, const Effect& e, const std::string& schema,
             Intent intent) {
    Obj* t = find_table(schema, e.name);
    if (e.action == "create") {
      if (t) {
        intent.action = "ensure";
        t->intents.push_back(intent);
        if (t->implied && !e.conditional) {
          t->implied = false;
          t->migration = migration;
        }
        return;
      }
      Obj o;
      o.kind = "table";
      o.schema = schema;
      o.table = e.name;
      o.name = e.name;
      o.migration = migration;
      o.artifact = e.artifact;
      o.line = e.line;
      o.intents.push_back(intent);
      m_tables[{schema, e.name}] = m_objects.size();
      add(std::move(o));
    } else if (e.action == "drop") {
      // Earlier migrations' removals of its columns, indexes and constraints: gone with it
      // either way.
      std::erase_if(m_removals, [&](const Removal& r) {
        return r.migration != migration && r.kind != "table" && r.schema == schema &&
               r.table == e.name;
      });
      remove(migration, e, "table", schema, e.name, e.name, t);
      // DROP TABLE ... CASCADE: its columns, indexes and constraints, and the foreign keys of
      // other tables that reference it.
      for (auto& o : m_objects) {
        if (o.alive && ((o.schema == schema && o.table == e.name) ||
                        (o.kind == "constraint" && o.ref_table == e.name &&
                         o.ref_schema.value_or(m_default) == schema))) {
          o.alive = false;
        }
      }
    } else if ((e.action == "rename" || e.action == "set_schema") && e.new_name) {
      std::string new_schema = e.action == "set_schema" ? *e.new_name : schema;
      std::string new_table = e.action == "rename" ? *e.new_name : e.name;
      for (auto& o : m_objects) {
        if (o.alive && o.schema == schema && o.table == e.name) {
          o.schema = new_schema;
          o.table = new_table;
          // The table is renamed; what is on it follows (an ALTER TABLE ... SET SCHEMA moves
          // both alike).
          Intent i = intent;
          i.action = e.action == "rename" ? (o.kind == "table" ? "rename" : "follow") : "alter";
          if (o.kind == "table" && e.action == "rename") {
            i.old_name = e.name;
            o.name = new_table;
          } else if (o.kind == "table") {
            o.name = new_table;
          }
          o.intents.push_back(i);
        }
        if (o.alive && o.kind == "constraint" && o.ref_table == e.name &&
            o.ref_schema.value_or(m_default) == schema) {
          o.ref_table = new_table;
          o.ref_schema = new_schema;
          if (e.action == "rename") {
            // A foreign key follows its table's new name: so must the DDL that re-creates it.
            o.definition = rename_reference(o.definition, e.name, new_table);
          }
        }
      }
      // Earlier removals from the table are looked for under its final name.
      for (auto& r : m_removals) {
        if (r.schema == schema && r.table == e.name) {
          r.schema = new_schema;
          r.table = new_table;
          if (r.kind == "table") {
            r.name = new_table;
          }
        }
      }
      if (t) {
        size_t index = m_tables[{schema, e.name}];
        m_tables.erase({schema, e.name});
        m_tables[{new_schema, new_table}] = index;
      }
    }
  }

  // CREATE EXTENSION (Django's CreateExtension and its named subclasses, RunSQL): an object
  // of its own, in no table, whatever schema it lands in (schema: the WITH SCHEMA it names,
  // else empty). A later DROP EXTENSION ends it; that removal is not checked (no rule says
  // what an extension left behind means).
  void extension(const std::string& migration, const Effect& e, Intent intent) {
    Obj* found = nullptr;
    for (auto& o : m_objects) {
      if (o.alive && o.kind == "extension" && o.name == e.name) {
        found = &o;
      }
    }
    if (e.action == "create") {
      if (found) {
        intent.action = "ensure";
        found->intents.push_back(intent);
        return;
      }
      Obj o;
      o.kind = "extension";
      o.schema = e.schema.value_or("");
      o.name = e.name;
      o.migration = migration;
      o.artifact = e.artifact;
      o.line = e.line;
      o.intents.push_back(intent);
      add(std::move(o));
    } else if (e.action == "drop" && found) {
      found->alive = false;
    }
  }

  void remove(const std::string& migration, const Effect& e, const std::string& kind,
              const std::string& schema, const std::optional<std::string>& table,
              const std::string& name, const Obj* known) {
    Removal r;
    r.kind = kind;
    r.schema = schema;
    r.table = known ? std::optional<std::string>(known->table) : table;
    r.name = name;
    r.migration = migration;
    r.artifact = e.artifact;
    r.line = e.line;
    if (known && !known->implied) {
      r.known = true;
      r.constraint_kind = known->constraint_kind;
      r.columns = known->columns;
      r.definition = known->definition;
      r.created_by = known->migration;
    }
    m_removals.push_back(std::move(r));
  }

  // A constraint definition with "REFERENCES [schema.]from" naming `to` instead.
  static std::optional<std::string> rename_reference(const std::optional<std::string>& definition,
                                                     const std::string& from,
                                                     const std::string& to) {
    if (!definition) {
      return definition;
    }
    std::string d = *definition;
    const std::string key = "REFERENCES ";
    for (size_t at = d.find(key); at != std::string::npos; at = d.find(key, at + 1)) {
      size_t start = at + key.size();
      // The last component of a possibly qualified, possibly quoted name.
      size_t pos = start;
      size_t last = start;
      while (pos < d.size()) {
        last = pos;
        if (d[pos] == '"') {
          size_t close = pos + 1;
          while (close < d.size() &&
                 !(d[close] == '"' && (close + 1 >= d.size() || d[close + 1] != '"'))) {
            close += d[close] == '"' ? 2 : 1;
          }
          pos = close + 1;
        } else {
          while (pos < d.size() && d[pos] != '.' && d[pos] != ' ' && d[pos] != '(') {
            ++pos;
          }
        }
        if (pos < d.size() && d[pos] == '.') {
          ++pos;
          continue;
        }
        break;
      }
      std::string name = d.substr(last, pos - last);
      bool quoted = name.size() >= 2 && name.front() == '"';
      if ((quoted && name == "\"" + from + "\"") || (!quoted && name == from)) {
        d.replace(last, pos - last, pgsql::quote_ident(to));
      }
    }
    return d;
  }

  // A column that a key or index column list refers to, and where its name is in the list.
  struct ColumnRef {
    size_t at = 0, len = 0;
    std::string name;
    bool quoted = false;
  };

  // The columns a key or index column list refers to: the first name of each item ("a, b",
  // quoted or not; what follows it is its operator class, collation or order:
  // "slug varchar_pattern_ops", "name DESC", "code COLLATE \"C\""), and inside an expression
  // ("(lower(email))", "upper(code)") each name that is neither a function's (before "(")
  // nor a type's (after "::").
  static std::vector<ColumnRef> column_refs(std::string_view list) {
    std::vector<ColumnRef> out;
    auto word_char = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
    };
    int depth = 0;
    bool item_start = true;  // the next name is an item's first (at depth 0)
    bool type_name = false;  // the names that follow "::"
    size_t i = 0;
    while (i < list.size()) {
      const char c = list[i];
      if (c == '\'') {  // a string constant: nothing in it is a name
        for (++i; i < list.size(); ++i) {
          if (list[i] == '\'') {
            if (i + 1 < list.size() && list[i + 1] == '\'') {
              ++i;
              continue;
            }
            ++i;
            break;
          }
        }
        item_start = type_name = false;
        continue;
      }
      if (c == ':' && i + 1 < list.size() && list[i + 1] == ':') {
        type_name = true;
        i += 2;
        continue;
      }
      if (c == '"' || (word_char(c) && !(c >= '0' && c <= '9'))) {
        ColumnRef ref;
        ref.at = i;
        if (c == '"') {
          ref.quoted = true;
          for (++i; i < list.size(); ++i) {
            if (list[i] == '"') {
              if (i + 1 < list.size() && list[i + 1] == '"') {
                ref.name += '"';
                ++i;
                continue;
              }
              ++i;
              break;
            }
            ref.name += list[i];
          }
        } else {
          while (i < list.size() && word_char(list[i])) {
            ref.name += list[i++];
          }
        }
        ref.len = i - ref.at;
        size_t next = i;
        while (next < list.size() && list[next] == ' ') {
          ++next;
        }
        const bool function = next < list.size() && list[next] == '(';
        if (!function && !type_name && (depth > 0 || item_start)) {
          out.push_back(std::move(ref));
        }
        if (depth == 0) {
          item_start = false;
        }
        continue;
      }
      if (c == '(') {
        ++depth;
      } else if (c == ')') {
        depth = std::max(depth - 1, 0);
      } else if (c == ',' && depth == 0) {
        item_start = true;
      }
      if (c != ' ') {
        type_name = false;
      }
      if (word_char(c)) {  // a number
        while (i < list.size() && word_char(list[i])) {
          ++i;
        }
        continue;
      }
      ++i;
    }
    return out;
  }

  // Whether a key or index column list names a column (dropping the column drops the key or
  // index with it).
  static bool names_column(const std::optional<std::string>& columns, const std::string& column) {
    if (!columns) {
      return false;
    }
    for (const auto& ref : column_refs(*columns)) {
      if (ref.name == column) {
        return true;
      }
    }
    return false;
  }

  // The column list with a renamed column's new name (PostgreSQL renames it in every index
  // and key that uses it, expressions too).
  static std::optional<std::string> rename_column_in(const std::optional<std::string>& columns,
                                                     const std::string& from,
                                                     const std::string& to) {
    if (!columns) {
      return columns;
    }
    std::string out;
    size_t done = 0;
    for (const auto& ref : column_refs(*columns)) {
      if (ref.name != from) {
        continue;
      }
      out.append(*columns, done, ref.at - done);
      if (ref.quoted) {
        out += '"';
        for (char ch : to) {
          out += ch;
          if (ch == '"') {
            out += '"';
          }
        }
        out += '"';
      } else {
        out += pgsql::quote_ident(to);
      }
      done = ref.at + ref.len;
    }
    out.append(*columns, done);
    return out;
  }

  void column(const std::string& migration, const Effect& e, const std::string& schema,
              Intent intent) {
    if (!e.table) {
      return;
    }
    ensure_table(migration, e, schema, *e.table);
    Obj* c = nullptr;
    for (auto& o : m_objects) {
      if (o.alive && o.kind == "column" && o.schema == schema && o.table == *e.table &&
          o.name == e.name) {
        c = &o;
      }
    }
    if (e.action == "create") {
      if (c) {
        intent.action = "ensure";
        c->intents.push_back(intent);
        if (!e.conditional) {
          set_props(*c, e);
        }
        return;
      }
      Obj o;
      o.kind = "column";
      o.schema = schema;
      o.table = *e.table;
      o.name = e.name;
      set_props(o, e);
      o.migration = migration;
      o.artifact = e.artifact;
      o.line = e.line;
      o.intents.push_back(intent);
      add(std::move(o));
    } else if (e.action == "alter" && c) {
      intent.before_type = c->type;
      intent.before_not_null = c->not_null;
      intent.before_default = c->default_expr;
      intent.before_collation = c->definition;
      set_props(*c, e);
      intent.action = "alter";
      c->intents.push_back(intent);
    } else if (e.action == "drop") {
      remove(migration, e, "column", schema, *e.table, e.name, c);
      if (c) {
        c->alive = false;
      }
      // DROP COLUMN ... CASCADE: the indexes and constraints on the column go with it, and an
      // earlier migration's removal of one of them is no longer a sign of anything (gone
      // either way). This migration's own explicit removals stay (Django drops a foreign key
      // before its column: both are reported when both are still there).
      for (auto& o : m_objects) {
        if (o.alive && (o.kind == "index" || o.kind == "constraint") && o.schema == schema &&
            o.table == *e.table && names_column(o.columns, e.name)) {
          o.alive = false;
        }
      }
      std::erase_if(m_removals, [&](const Removal& r) {
        return r.migration != migration && (r.kind == "index" || r.kind == "constraint") &&
               r.schema == schema && r.table == *e.table && names_column(r.columns, e.name);
      });
    } else if (e.action == "rename" && e.new_name) {
      if (c) {
        c->name = *e.new_name;
        intent.action = "rename";
        intent.old_name = e.name;
        c->intents.push_back(intent);
      }
      for (auto& o : m_objects) {
        if (o.alive && (o.kind == "index" || o.kind == "constraint") && o.schema == schema &&
            o.table == *e.table) {
          o.columns = rename_column_in(o.columns, e.name, *e.new_name);
        }
      }
      for (auto& r : m_removals) {
        if (r.schema == schema && r.table == *e.table) {
          r.columns = rename_column_in(r.columns, e.name, *e.new_name);
        }
      }
    }
  }

  static void set_props(Obj& o, const Effect& e) {
    if (e.type && *e.type != "unknown") {
      o.type = e.type;
    }
    if (e.not_null) {
      o.not_null = e.not_null;
    }
    if (e.default_expr) {
      o.default_expr = e.default_expr->empty() ? std::nullopt : e.default_expr;  // "" = dropped
      if (!e.default_expr->empty()) {
        o.fill_value = e.default_expr;
      }
    }
    // What the NULLs got before a SET NOT NULL (UPDATE ... WHERE c IS NULL): Django fills them
    // with the field's default even when the default is not set in the database (it was the
    // same before the alteration).
    if (e.fill_value) {
      o.fill_value = e.fill_value;
    }
    // A column's COLLATE clause: kept from its creation until an ALTER of its type gives
    // another or puts it back to the type's default.
    if (e.definition) {
      o.definition = *e.definition == pgsql::k_default_collation ? std::nullopt : e.definition;
    }
  }

  void named(const std::string& migration, const Effect& e, const std::string& schema,
             Intent intent) {
    Obj* existing = nullptr;
    for (auto& o : m_objects) {
      if (o.alive && o.kind == e.object && o.schema == schema && o.name == e.name &&
          (e.object == "index" || !e.table || o.table == *e.table)) {
        existing = &o;
      }
    }
    if (!existing && e.action == "rename") {
      // ALTER INDEX ... RENAME of a UNIQUE / PRIMARY KEY constraint's index renames the
      // constraint, and RENAME CONSTRAINT of one renames its index.
      for (auto& o : m_objects) {
        if (o.alive && (o.kind == "index" || o.kind == "constraint") && o.schema == schema &&
            o.name == e.name && (!e.table || o.table == *e.table)) {
          existing = &o;
        }
      }
    }
    if (e.action == "create") {
      if (!e.table) {
        return;
      }
      ensure_table(migration, e, schema, *e.table);
      if (existing) {
        intent.action = "ensure";
        existing->intents.push_back(intent);
        return;
      }
      Obj o;
      o.kind = e.object;
      o.schema = schema;
      o.table = *e.table;
      o.name = e.name;
      o.constraint_kind = e.kind;
      o.columns = e.columns;
      o.definition = e.definition;
      o.predicate = e.predicate;
      o.ref_schema = e.ref_schema;
      o.ref_table = e.ref_table;
      o.migration = migration;
      o.artifact = e.artifact;
      o.line = e.line;
      o.intents.push_back(intent);
      add(std::move(o));
    } else if (e.action == "drop") {
      remove(migration, e, e.object, schema, e.table, e.name, existing);
      if (existing) {
        existing->alive = false;
      }
    } else if (e.action == "rename" && existing && e.new_name) {
      existing->name = *e.new_name;
      intent.action = "rename";
      intent.old_name = e.name;
      existing->intents.push_back(intent);
    }
  }

  std::string m_default;
  std::vector<Obj> m_objects;
  std::vector<Removal> m_removals;
  std::map<TableKey, size_t> m_tables;
};

std::vector<Effect> effects_of(store::Store& store, const std::string& app, const std::string& name,
                               std::string* source) {
  std::vector<Effect> out;
  for (const char* src : {"sqlmigrate", "py"}) {
    store::Statement st = store.prepare(R"(
      SELECT artifact_id, line, action, object, schema_name, table_name, name, new_name, type,
             not_null, default_expr, kind, columns, conditional, definition, ref_schema,
             ref_table, predicate, fill_value
        FROM migration_effect
       WHERE app = ?1 AND migration = ?2 AND source = ?3
         AND artifact_id = (SELECT min(artifact_id) FROM migration_effect
                             WHERE app = ?1 AND migration = ?2 AND source = ?3)
       ORDER BY seq)");
    st.bind(1, app);
    st.bind(2, name);
    st.bind(3, src);
    while (st.step()) {
      Effect e;
      e.artifact = st.get_int(0);
      e.line = st.get_optional_int(1);
      e.action = st.get_text(2);
      e.object = st.get_text(3);
      e.schema = st.get_optional_text(4);
      e.table = st.get_optional_text(5);
      e.name = st.get_text(6);
      e.new_name = st.get_optional_text(7);
      e.type = st.get_optional_text(8);
      e.not_null = st.get_optional_int(9);
      e.default_expr = st.get_optional_text(10);
      e.kind = st.get_optional_text(11);
      e.columns = st.get_optional_text(12);
      e.conditional = st.get_int(13) != 0;
      e.definition = st.get_optional_text(14);
      e.ref_schema = st.get_optional_text(15);
      e.ref_table = st.get_optional_text(16);
      e.predicate = st.get_optional_text(17);
      e.fill_value = st.get_optional_text(18);
      out.push_back(e);
    }
    st.reset();
    // A migration is known to have been read when its file was, even without effects.
    store::Statement known = store.prepare(
        "SELECT count(*) FROM migration WHERE app = ?1 AND name = ?2 AND source = ?3");
    known.bind(1, app);
    known.bind(2, name);
    known.bind(3, src);
    bool read = known.step() && known.get_int(0) > 0;
    known.reset();
    if (!out.empty() || read) {
      *source = src;
      return out;
    }
  }
  source->clear();
  return out;
}

}  // namespace

namespace {

// What a dump shows of its database, to tell whether two dumps are of one database: its
// tables and their columns (from the DDL, else from the COPY / INSERT column lists of a
// data-only dump), each as schema.table and schema.table.column.
struct Shape {
  std::set<std::string> tables, columns;
};

Shape shape_of(store::Store& store, const Candidate& c) {
  Shape s;
  store::Statement st = store.prepare(R"(
    SELECT schema_name || '.' || name, NULL FROM db_relation
     WHERE artifact_id = ?1 AND db IS ?2 AND kind IN ('table', 'partitioned_table', 'foreign_table')
    UNION ALL SELECT schema_name || '.' || table_name, name FROM db_column
     WHERE artifact_id = ?1 AND db IS ?2
    UNION ALL SELECT schema_name || '.' || table_name, columns FROM table_stats
     WHERE artifact_id = ?1 AND db IS ?2)");
  st.bind(1, c.artifact);
  st.bind(2, c.db);
  while (st.step()) {
    std::string table = st.get_text(0);
    s.tables.insert(table);
    if (auto cols = st.get_optional_text(1)) {
      for (auto part : text::split(*cols, ',')) {
        std::string name = unquote(std::string(part));
        if (!name.empty()) {
          s.columns.insert(table + "." + name);
        }
      }
    }
  }
  return s;
}

// What two dumps have in common: the items (tables and columns) both have, of all that
// either has, and of those the smaller one has.
struct Overlap {
  size_t common = 0, all = 0, smaller = 0;
  double share() const { return all ? static_cast<double>(common) / static_cast<double>(all) : 0; }
  double contained() const {
    return smaller ? static_cast<double>(common) / static_cast<double>(smaller) : 0;
  }
  // Two dumps are of one database when at least half of all their tables and columns are
  // common to both (a migration or two between them changes a few), or when nearly all of
  // the smaller one's are in the other (a database that grew: an early dump before the
  // migrations that added most tables). Unrelated databases share almost none.
  bool same_database() const { return share() >= 0.5 || contained() >= 0.9; }
};

Overlap overlap(const Shape& a, const Shape& b) {
  // Columns when both show some (a dump of INSERTs without column lists shows none), else
  // tables.
  bool by_columns = !a.columns.empty() && !b.columns.empty();
  const auto& x = by_columns ? a.columns : a.tables;
  const auto& y = by_columns ? b.columns : b.tables;
  Overlap o;
  for (const auto& item : x) {
    o.common += y.count(item);
  }
  o.all = x.size() + y.size() - o.common;
  o.smaller = std::min(x.size(), y.size());
  return o;
}

std::string percent(const Overlap& o) {
  return fmt::format("{}% ({} of {} tables and columns; {}% of the smaller one's)",
                     static_cast<int>(o.share() * 100 + 0.5), o.common, o.all,
                     static_cast<int>(o.contained() * 100 + 0.5));
}

}  // namespace

std::vector<Subject> derive_subjects(store::Store& store, const DeriveOptions& options,
                                     DeriveSummary& summary) {
  store.exec("DELETE FROM subject");
  std::vector<Candidate> all = candidates(store);
  for (const auto& [flag, path] : {std::pair{"before", options.before}, {"after", options.after}}) {
    if (path && !all.empty() &&
        std::none_of(all.begin(), all.end(),
                     [&wanted = *path](const Candidate& c) { return c.path == wanted; })) {
      std::string dumps;
      for (const auto& c : all) {
        dumps += (dumps.empty() ? "" : ", ") + c.path;
      }
      throw UsageError(fmt::format("--{} {}: no such dump among the inputs (the dumps: {})", flag,
                                   *path, dumps));
    }
  }
  std::vector<Shape> shapes;
  for (const auto& c : all) {
    shapes.push_back(shape_of(store, c));
  }
  struct Group {
    std::vector<size_t> members;
    std::vector<std::string> why;
  };
  std::vector<Group> groups;
  auto is_flagged = [&](const Candidate& c) {
    return (options.before && *options.before == c.path) ||
           (options.after && *options.after == c.path);
  };
  for (size_t i = 0; i < all.size(); ++i) {
    const Candidate& c = all[i];
    // A named database (pg_dumpall): the dumps of that name, and only those.
    auto named = [&](const Group& g) -> std::optional<std::string> {
      for (size_t m : g.members) {
        if (all[m].db) {
          return all[m].db;
        }
      }
      return std::nullopt;
    };
    if (c.db) {
      auto it = std::find_if(groups.begin(), groups.end(),
                             [&](const Group& g) { return named(g) == c.db; });
      if (it != groups.end()) {
        it->members.push_back(i);
        it->why.push_back(fmt::format("{} holds database {} too", c.path, *c.db));
        continue;
      }
    }
    // Else the group whose first dump it has most in common with (Overlap::same_database).
    size_t best = groups.size();
    Overlap best_overlap;
    for (size_t g = 0; g < groups.size(); ++g) {
      if (c.db && named(groups[g])) {
        continue;  // two databases of their own names
      }
      if (std::any_of(groups[g].members.begin(), groups[g].members.end(),
                      [&](size_t m) { return all[m].artifact == c.artifact; })) {
        continue;  // two databases of one pg_dumpall
      }
      Overlap o = overlap(shapes[i], shapes[groups[g].members.front()]);
      bool flagged =
          is_flagged(c) && std::any_of(groups[g].members.begin(), groups[g].members.end(),
                                       [&](size_t m) { return is_flagged(all[m]); });
      if ((o.same_database() || flagged) &&
          (best == groups.size() || o.share() > best_overlap.share())) {
        best = g;
        best_overlap = o;
      }
    }
    if (best < groups.size()) {
      const Candidate& first = all[groups[best].members.front()];
      groups[best].members.push_back(i);
      groups[best].why.push_back(
          best_overlap.same_database()
              ? fmt::format("{} and {} have {} in common", first.path, c.path,
                            percent(best_overlap))
              : fmt::format("--before / --after order {} and {}", first.path, c.path));
      continue;
    }
    Group g;
    g.members.push_back(i);
    if (c.db) {
      g.why.push_back(fmt::format("database {} of {}", *c.db, c.path));
    }
    groups.push_back(std::move(g));
  }

  // The records of exports outside the dumps (a CSV of django_migrations, showmigrations)
  // belong to the database that has the django_migrations table -- when several have it, to
  // the one whose own records share most with them.
  std::vector<std::set<std::string>> own_records(groups.size());
  std::vector<bool> django(groups.size(), false);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t m : groups[g].members) {
      store::Statement st = store.prepare(
          "SELECT app || '.' || name FROM migration_record WHERE artifact_id = ?1 AND db IS ?2");
      st.bind(1, all[m].artifact);
      st.bind(2, all[m].db);
      while (st.step()) {
        own_records[g].insert(st.get_text(0));
      }
      st.reset();
      store::Statement t = store.prepare(
          "SELECT 1 FROM db_relation WHERE artifact_id = ?1 AND db IS ?2 "
          "AND name = 'django_migrations' UNION ALL SELECT 1 FROM table_stats "
          "WHERE artifact_id = ?1 AND db IS ?2 AND table_name = 'django_migrations'");
      t.bind(1, all[m].artifact);
      t.bind(2, all[m].db);
      django[g] = django[g] || t.step() || !own_records[g].empty();
      t.reset();
    }
  }
  std::vector<std::set<int64_t>> record_artifacts(groups.size());
  std::vector<std::set<std::string>> records(own_records);
  if (groups.size() > 1) {
    store::Statement exports = store.prepare(R"(
      SELECT r.artifact_id, a.path, group_concat(r.app || '.' || r.name, char(10))
        FROM migration_record r JOIN artifact a ON a.id = r.artifact_id
       WHERE a.kind NOT IN ('pgdump-sql', 'pgdump-custom', 'pgdump-tar', 'pgdump-dir')
       GROUP BY r.artifact_id ORDER BY r.artifact_id)");
    while (exports.step()) {
      int64_t artifact = exports.get_int(0);
      std::string path = exports.get_text(1);
      std::set<std::string> names;
      const std::string listed = exports.get_text(2);  // split's views point into it
      for (auto n : text::split(listed, '\n')) {
        names.insert(std::string(n));
      }
      size_t best = groups.size();
      size_t best_common = 0;
      for (size_t g = 0; g < groups.size(); ++g) {
        size_t common = 0;
        for (const auto& n : names) {
          common += own_records[g].count(n);
        }
        bool better = best == groups.size() ? django[g]
                                            : common > best_common || (common == best_common &&
                                                                       django[g] && !django[best]);
        if (better) {
          best = g;
          best_common = common;
        }
      }
      if (best == groups.size()) {
        best = 0;  // no database has django_migrations: the first one, and say so
        summary.notes.push_back(fmt::format(
            "{}: no dump has the django_migrations table; its records are taken as those of {}",
            path, all[groups[0].members.front()].path));
      }
      record_artifacts[best].insert(artifact);
      records[best].insert(names.begin(), names.end());
      django[best] = true;
    }
  }

  // Migration files fit a Django database whose records name them (or that has no record
  // to tell); a database without django_migrations is not checked against them.
  std::set<std::string> files;
  {
    store::Statement st = store.prepare("SELECT DISTINCT app || '.' || name FROM migration");
    while (st.step()) {
      files.insert(st.get_text(0));
    }
  }
  std::vector<Subject> out;
  store::Statement insert = store.prepare(
      "INSERT INTO subject(database, label, dumps, grouped_by, migration_files) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  for (size_t g = 0; g < groups.size(); ++g) {
    Subject s;
    const Candidate& first = all[groups[g].members.front()];
    s.database = first.db;
    std::vector<std::string> paths;
    for (size_t m : groups[g].members) {
      s.dumps.insert({all[m].artifact, all[m].db});
      if (std::find(paths.begin(), paths.end(), all[m].path) == paths.end()) {
        paths.push_back(all[m].path);
      }
    }
    s.record_artifacts = record_artifacts[g];
    s.records = records[g].size();
    bool fits = records[g].empty() || files.empty() ||
                std::any_of(records[g].begin(), records[g].end(),
                            [&](const std::string& r) { return files.count(r) > 0; });
    s.migration_files = groups.size() == 1 || (django[g] && fits);
    s.label = s.database ? "database " + *s.database
                         : fmt::format("{} {}", paths.size() == 1 ? "dump" : "dumps",
                                       fmt::join(paths, ", "));
    std::string why;
    if (groups.size() == 1) {
      why = all.size() == 1         ? "the one dump"
            : groups[g].why.empty() ? "one database"
                                    : fmt::format("{}", fmt::join(groups[g].why, "; "));
    } else {
      std::vector<std::string> reasons = groups[g].why;
      if (!s.database) {
        // Why it is a database of its own: what it shares with the others at most.
        Overlap most;
        std::string with;
        for (size_t h = 0; h < groups.size(); ++h) {
          if (h == g) {
            continue;
          }
          Overlap o = overlap(shapes[groups[g].members.front()], shapes[groups[h].members.front()]);
          if (with.empty() || o.share() > most.share()) {
            most = o;
            with = all[groups[h].members.front()].path;
            if (all[groups[h].members.front()].db) {
              with = "database " + *all[groups[h].members.front()].db + " of " + with;
            }
          }
        }
        reasons.push_back(fmt::format("a database of its own: at most {} in common with {}",
                                      percent(most), with));
      }
      reasons.push_back(!s.migration_files
                            ? (django[g] ? "its django_migrations records name none of the "
                                           "migration files: not checked against them"
                                         : "no django_migrations: not checked against the "
                                           "migration files")
                        : files.empty() ? "a Django database"
                                        : "checked against the migration files");
      why = fmt::format("{}", fmt::join(reasons, "; "));
    }
    insert.run(s.database, s.label, nlohmann::json(paths).dump(), why, s.migration_files);
    s.id = store.last_insert_id();
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

// Where the effects of recorded squashed migrations (Django's `replaces`) are folded.
// `manage.py migrate` records the migrations a squash replaces as it applies them (the
// squash's operations under their names), and the squash's own row last, once every one it
// replaces is recorded (MigrationExecutor.check_replacements): after any later migration of
// the same run. Folded at its own row, a squash would replay its operations after those later
// migrations (a column that a later RenameField renamed would be expected again, and the
// repair would add it back). So a squash whose replaced migrations are recorded is folded in
// their place: through their own effects when they have any (the squash's row then adds
// nothing); else (the reader planned the squash in their place, or their files are gone) by
// the squash's effects, right after the first of them that is recorded.
struct SquashPlaces {
  std::set<std::string> skipped;  // app.name of squashes whose row adds nothing
  // app.name of a replaced migration -> the squashes folded right after it, with effects
  std::map<std::string, std::vector<std::pair<std::string, std::vector<Effect>>>> before;
};

// The number a migration's name starts with ("0003_contact_phone": 3), or -1.
int migration_number(std::string_view name) {
  if (name.size() < 4 ||
      !std::all_of(name.begin(), name.begin() + 4, [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoi(std::string(name.substr(0, 4)));
}

SquashPlaces squash_places(store::Store& store, const std::vector<Recorded>& recorded) {
  SquashPlaces out;
  std::map<std::string, size_t> at;  // app.name -> its place among the records
  for (size_t i = 0; i < recorded.size(); ++i) {
    at.emplace(recorded[i].app + "." + recorded[i].name, i);
  }
  // Each squash with the migrations it replaces: from its file's `replaces`; else, for a
  // recorded migration known only by its SQL (a sqlmigrate output says nothing of
  // `replaces`) and named as `squashmigrations` names one (0001_squashed_0004_x,
  // 0002_y_squashed_0004_x), the recorded migrations of its app numbered from the first to
  // the last it names.
  struct Squash {
    std::string app, name;
    std::vector<std::string> replaces;  // app.name
  };
  std::vector<Squash> squashes;
  std::set<std::string> with_file;
  {
    store::Statement st = store.prepare(
        "SELECT app, name, min(replaces) FROM migration WHERE replaces IS NOT NULL "
        "GROUP BY app, name ORDER BY app, name");
    while (st.step()) {
      Squash q{st.get_text(0), st.get_text(1), {}};
      const std::string replaces = st.get_text(2);  // split's views point into it
      for (auto piece : text::split(replaces, ',')) {
        q.replaces.emplace_back(text::trim(piece));
      }
      with_file.insert(q.app + "." + q.name);
      squashes.push_back(std::move(q));
    }
    st.reset();
    store::Statement py = store.prepare(
        "SELECT 1 FROM migration WHERE app = ?1 AND name = ?2 AND source = 'py' LIMIT 1");
    for (const Recorded& r : recorded) {
      const size_t cut = r.name.find("_squashed_");
      if (cut == std::string::npos || with_file.count(r.app + "." + r.name)) {
        continue;
      }
      py.bind(1, r.app);
      py.bind(2, r.name);
      const bool has_py = py.step();
      py.reset();
      const int from = migration_number(r.name);
      const int to = migration_number(std::string_view(r.name).substr(cut + 10));
      if (has_py || from < 0 || to < from) {
        continue;  // a file without `replaces` is no squash
      }
      Squash q{r.app, r.name, {}};
      for (const Recorded& o : recorded) {
        const int n = migration_number(o.name);
        if (o.app == r.app && o.name.find("_squashed_") == std::string::npos && n >= from &&
            n <= to) {
          q.replaces.push_back(o.app + "." + o.name);
        }
      }
      squashes.push_back(std::move(q));
    }
  }
  for (const Squash& q : squashes) {
    const std::string squash = q.app + "." + q.name;
    std::optional<size_t> first;
    bool replaced_have_effects = false;
    for (const std::string& replaced : q.replaces) {
      auto it = at.find(replaced);
      if (it == at.end()) {
        continue;
      }
      first = first ? std::min(*first, it->second) : it->second;
      std::string source;
      replaced_have_effects =
          replaced_have_effects ||
          !effects_of(store, recorded[it->second].app, recorded[it->second].name, &source).empty();
    }
    if (!first) {
      continue;  // none of them recorded: the squash's row is where it ran
    }
    out.skipped.insert(squash);
    if (!replaced_have_effects) {
      std::string source;
      std::vector<Effect> effects = effects_of(store, q.app, q.name, &source);
      const Recorded& r = recorded[*first];
      out.before[r.app + "." + r.name].emplace_back(squash, std::move(effects));
    }
  }
  return out;
}

// Fills each derived table from its `..._source` view, in the order given (see schema.sql:
// rules look rows up in them per object, which through the views recomputed the view).
void refill(store::Store& store, std::initializer_list<const char*> tables) {
  for (const char* table : tables) {
    store.exec(fmt::format("DELETE FROM {0}; INSERT INTO {0} SELECT * FROM {0}_source", table));
  }
}

}  // namespace

DeriveSummary derive(store::Store& store, const DeriveOptions& options, const Subject* scope) {
  DeriveSummary summary;
  store::Store::Transaction tx(store);
  for (const char* table : {"expected_intent", "expected_object", "expected_removal",
                            "recorded_migration", "snapshot"}) {
    store.exec(fmt::format("DELETE FROM {}", table));
  }
  derive_snapshots(store, options, summary, scope);
  // The current snapshot's objects, in the tables the rules search.
  refill(store, {"current_relation", "current_column", "current_index", "current_constraint"});
  timing::phase("derive: snapshots");

  {
    store::Statement st = store.prepare("SELECT schema_name FROM current_migrations_schema");
    summary.default_schema = st.step() ? st.get_text(0) : "public";
    st.reset();
  }

  Fold fold(summary.default_schema);
  int64_t position = 0;
  const std::vector<Recorded> recorded = recorded_migrations(store, scope);
  const SquashPlaces squashes = squash_places(store, recorded);
  for (const Recorded& r : recorded) {
    std::string source;
    std::vector<Effect> effects = effects_of(store, r.app, r.name, &source);
    std::string migration = r.app + "." + r.name;
    if (!squashes.skipped.count(migration)) {
      for (const Effect& e : effects) {
        fold.apply(migration, e);
      }
    }
    // A squash folded in the place of the first migration it replaces (squash_places).
    if (auto it = squashes.before.find(migration); it != squashes.before.end()) {
      for (const auto& [squash, squash_effects] : it->second) {
        for (const Effect& e : squash_effects) {
          fold.apply(squash, e);
        }
      }
    }
    store
        .prepare(
            "INSERT INTO recorded_migration(app, name, position, record_id, applied_at, "
            "artifact_id, line, effects_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
        .run(r.app, r.name, ++position, r.record_id, r.applied_at, r.artifact, r.line,
             source.empty() ? std::optional<std::string>() : std::optional<std::string>(source));
  }
  summary.recorded_migrations = static_cast<int>(position);

  store::Statement insert_object = store.prepare(
      "INSERT INTO expected_object(kind, schema_name, table_name, name, type, not_null, "
      "default_expr, constraint_kind, columns, definition, implied, migration, artifact_id, line, "
      "fill_value, predicate) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
  store::Statement insert_intent = store.prepare(
      "INSERT INTO expected_intent(object_id, migration, action, conditional, artifact_id, line, "
      "old_name, before_type, before_not_null, before_default, before_collation) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  for (const Obj& o : fold.objects()) {
    if (!o.alive) {
      continue;
    }
    insert_object.run(o.kind, o.schema, o.table, o.name, o.type, o.not_null, o.default_expr,
                      o.constraint_kind, o.columns, o.definition, o.implied, o.migration,
                      o.artifact, o.line, o.fill_value, o.predicate);
    int64_t id = store.last_insert_id();
    for (const Intent& i : o.intents) {
      insert_intent.run(id, i.migration, i.action, i.conditional, i.artifact, i.line, i.old_name,
                        i.before_type, i.before_not_null, i.before_default, i.before_collation);
    }
    ++summary.expected_objects;
  }
  store::Statement insert_removal = store.prepare(
      "INSERT INTO expected_removal(kind, schema_name, table_name, name, constraint_kind, "
      "columns, definition, created_by, migration, artifact_id, line) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  for (const Removal& r : fold.removals()) {
    insert_removal.run(r.kind, r.schema, r.table, r.name, r.constraint_kind, r.columns,
                       r.definition, r.created_by, r.migration, r.artifact, r.line);
  }
  // What the expected objects are in the current snapshot, each after those it reads.
  refill(store, {"faked_rename", "faked_recreate", "expected_table_copy", "expected_unseen_table",
                 "expected_location", "expected_presence", "expected_removal_presence",
                 "unrun_alter", "intent_presence"});
  timing::phase("derive: expected");
  derive_data(store, options, summary);
  timing::phase("derive: data");
  tx.commit();
  timing::phase("derive: commit");
  return summary;
}

}  // namespace dbautopsy::rules
