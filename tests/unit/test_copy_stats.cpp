// Table statistics computed from COPY data (pgdump/copy_stats, pgdump/copy_text), checked
// against figures PostgreSQL 15 computed itself:
// - fixtures/pgdump/copy_edge.sql.gz, a real pg_dump of fixtures/generate/copy_edge.sql
//   (NULLs, every escaped character, bytea, arrays, json, a 241-column row holding a
//   multi-megabyte text, a table without rows, surrogate columns, an integer key without a
//   default, a COPY column list in another order than the restored CREATE TABLE, a
//   generated column), with copy_edge.expected.json from the same database;
// - the pagila sample database as dumped by five pg_dump generations (shared corpus), with
//   copy_edge.pagila.expected.json from restoring each of them into PostgreSQL 15.
// Both expected files are written by fixtures/generate/copy_edge.sh (see
// copy_edge.stats.sql for what each figure means).

#include <catch2/catch.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "io/digest.hpp"
#include "pgdump/copy_text.hpp"
#include "support.hpp"

using dbautopsy::test::corpus_dir;
using dbautopsy::test::ingest_file_with_stats;
using dbautopsy::test::ingest_sql_with_stats;
using dbautopsy::test::Ingested;
using dbautopsy::test::require_all;
using dbautopsy::test::source_root;
using dbautopsy::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;
namespace pgdump = dbautopsy::pgdump;

namespace {

json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return json::parse(in);
}

fs::path fixture(const std::string& name) {
  return source_root() / "fixtures" / "pgdump" / name;
}

// "public.t" -> (public, t); an unqualified name (old dumps set search_path) is in public.
std::pair<std::string, std::string> split_target(const std::string& target) {
  auto dot = target.find('.');
  if (dot == std::string::npos) {
    return {"public", target};
  }
  return {target.substr(0, dot), target.substr(dot + 1)};
}

// One table_stats row of a COPY block, as JSON (null for NULL).
json stats_of(Ingested& r, const std::string& target, const std::string& source = "copy") {
  auto [schema, table] = split_target(target);
  auto st = r.store.prepare(
      "SELECT section, rows, complete, columns, distinct_rows, repeated_rows, distinct_method, "
      "ignored_columns, distinct_without_first, top_rows, stored_rows FROM table_stats "
      "WHERE schema_name = ?1 AND table_name = ?2 AND source = ?3");
  st.bind(1, schema);
  st.bind(2, table);
  st.bind(3, source);
  json out = json::array();
  while (st.step()) {
    json row;
    for (int i = 0; i < st.column_count(); ++i) {
      if (st.is_null(i)) {
        row[st.column_name(i)] = nullptr;
      } else if (st.column_name(i) == "columns" || st.column_name(i) == "distinct_method" ||
                 st.column_name(i) == "ignored_columns" || st.column_name(i) == "top_rows") {
        row[st.column_name(i)] = st.get_text(i);
      } else {
        row[st.column_name(i)] = st.get_int(i);
      }
    }
    out.push_back(row);
  }
  st.reset();
  INFO("COPY " << target);
  REQUIRE(out.size() == 1);  // one COPY block per table
  return out[0];
}

struct StoredRow {
  int64_t line;
  json values;
};

std::vector<StoredRow> stored_rows(Ingested& r, int64_t section) {
  auto st =
      r.store.prepare("SELECT line, row_values FROM table_row WHERE section = ?1 ORDER BY line");
  st.bind(1, section);
  std::vector<StoredRow> out;
  while (st.step()) {
    out.push_back({st.get_int(0), json::parse(st.get_text(1))});
  }
  st.reset();
  return out;
}

// Characters (code points) of UTF-8 text, as PostgreSQL's length() counts them.
std::vector<std::string_view> characters(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) {
      ++n;
    }
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// A value as copy_edge.stats.sql lists it: text over 1000 characters is
// "<length>|<first 40>|<last 40>".
json listed(const json& v) {
  if (!v.is_string()) {
    return v;
  }
  auto chars = characters(v.get_ref<const std::string&>());
  if (chars.size() <= 1000) {
    return v;
  }
  std::string head, tail;
  for (size_t i = 0; i < 40; ++i) {
    head += chars[i];
    tail += chars[chars.size() - 40 + i];
  }
  return fmt::format("{}|{}|{}", chars.size(), head, tail);
}

// The decoded row restricted to the listed columns, in their order.
json project(const json& row, const std::vector<size_t>& positions) {
  json out = json::array();
  for (size_t p : positions) {
    out.push_back(p < row.size() ? listed(row[p]) : json("<missing field>"));
  }
  return out;
}

std::vector<size_t> positions_of(const json& columns, const json& wanted) {
  std::vector<size_t> out;
  for (const auto& w : wanted) {
    auto it = std::find(columns.begin(), columns.end(), w);
    REQUIRE(it != columns.end());
    out.push_back(static_cast<size_t>(it - columns.begin()));
  }
  return out;
}

// "id (nextval default), created_at (insert time)", or null when nothing is left out.
json ignored_columns(const json& surrogates) {
  std::vector<std::string> parts;
  for (const auto& s : surrogates) {
    parts.push_back(
        fmt::format("{} ({})", s["column"].get<std::string>(), s["reason"].get<std::string>()));
  }
  if (parts.empty()) {
    return nullptr;
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string joined(const json& names) {
  std::vector<std::string> v = names.get<std::vector<std::string>>();
  return fmt::format("{}", fmt::join(v, ", "));
}

// The rows of table_row against the server's list: the same multiset of rows.
void check_values(const std::vector<StoredRow>& stored, const json& expected) {
  if (!expected.contains("values")) {
    return;
  }
  auto positions = positions_of(expected["columns"], expected["value_columns"]);
  std::vector<std::string> got, want;
  for (const auto& r : stored) {
    got.push_back(project(r.values, positions).dump());
  }
  for (const auto& v : expected["values"]) {
    want.push_back(v.dump());
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  CHECK(got.size() == want.size());
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    INFO("row " << i << " of the sorted rows");
    CHECK(got[i] == want[i]);
  }
}

// The most repeated row: its count, the first line it is on, its text.
void check_top_rows(const json& stats, const json& expected, const std::vector<StoredRow>& stored) {
  const json& groups = expected["top_groups"];
  if (groups.empty()) {
    CHECK(stats["top_rows"].is_null());
    return;
  }
  REQUIRE(stats["top_rows"].is_string());
  json top = json::parse(stats["top_rows"].get<std::string>());
  std::vector<int64_t> got, want;
  for (const auto& g : top) {
    got.push_back(g["count"].get<int64_t>());
  }
  for (const auto& g : groups) {
    want.push_back(g["count"].get<int64_t>());
  }
  CHECK(got == want);
  // Ties come in any order from the server: the rest only for a group that leads alone.
  if (top.empty() || (groups.size() > 1 && groups[0]["count"] == groups[1]["count"])) {
    return;
  }
  const json& values = groups[0]["values"];  // {column: text} of the columns kept
  json names = json::array();
  for (const auto& [name, v] : values.items()) {
    names.push_back(name);
  }
  auto positions = positions_of(expected["columns"], names);
  json want_values = json::array();
  for (const auto& [name, v] : values.items()) {
    want_values.push_back(v);
  }
  // The first stored row holding those values is the line the group names.
  int64_t first = -1;
  for (const auto& r : stored) {
    if (project(r.values, positions) == want_values) {
      first = r.line;
      break;
    }
  }
  CHECK(top[0]["line"].get<int64_t>() == first);
  // The sample is the row's COPY text (cut at 2000 bytes).
  std::string sample = top[0].value("row", std::string());
  if (!sample.empty() && sample.size() < 2000) {
    std::vector<pgdump::CopyField> fields = pgdump::decode_copy_row(sample);
    json decoded = json::array();
    for (const auto& f : fields) {
      decoded.push_back(f ? json(*f) : json());
    }
    CHECK(project(decoded, positions) == want_values);
  }
}

// Every figure of one COPY block against the server's.
// source: "copy", or "insert" for the same data as INSERTs; columns: the column list the
// table_stats row names, when not the COPY's.
void check_table(Ingested& r, const std::string& target, const json& expected, bool with_schema,
                 const std::string& source = "copy", const json* columns = nullptr) {
  INFO(source << " " << target << (with_schema ? "" : " (read without its schema)"));
  json stats = stats_of(r, target, source);
  INFO("table_stats: " << stats.dump());
  CHECK(stats["rows"] == expected["rows"]);
  CHECK(stats["complete"] == 1);
  CHECK(stats["columns"] == joined(columns ? *columns : expected["columns"]));
  CHECK(stats["distinct_method"] == "exact");
  if (with_schema) {
    CHECK(stats["distinct_rows"] == expected["distinct_rows"]);
    CHECK(stats["ignored_columns"] == ignored_columns(expected["surrogates"]));
    CHECK(stats["distinct_without_first"] == expected["distinct_without_first"]);
    CHECK(stats["repeated_rows"] == expected["repeated_rows"]);
  } else {
    // No CREATE TABLE: no column is known to be a surrogate, nor the first to be a key.
    CHECK(stats["distinct_rows"] == expected["distinct_rows_all_columns"]);
    CHECK(stats["ignored_columns"].is_null());
    CHECK(stats["distinct_without_first"].is_null());
  }
  CHECK(stats["stored_rows"] == expected["rows"]);
  auto stored = stored_rows(r, stats["section"].get<int64_t>());
  CHECK(static_cast<int64_t>(stored.size()) == expected["rows"].get<int64_t>());
  for (const auto& s : stored) {
    CHECK(s.values.size() == expected["columns"].size());
  }
  check_values(stored, expected);
  if (with_schema) {
    check_top_rows(stats, expected, stored);
  }
}

json copy_edge_expected() {
  return read_json(fixture("copy_edge.expected.json"));
}

}  // namespace

TEST_CASE("copy_edge fixture: every table's statistics are the server's figures") {
  json expected = copy_edge_expected();
  auto r = ingest_file_with_stats(fixture(expected["dump"].get<std::string>()));
  CHECK(r.count("SELECT count(*) FROM problem") == 0);
  CHECK(r.summary.copy_blocks == expected["tables"].size());
  CHECK(r.count("SELECT count(*) FROM table_stats") ==
        static_cast<int64_t>(expected["tables"].size()));
  for (const auto& [target, facts] : expected["tables"].items()) {
    check_table(r, target, facts, true);
  }
}

TEST_CASE("copy_edge fixture: the same data as INSERTs gives the COPY dump's figures") {
  // pg_dump --inserts (a row per INSERT, every column in the table's order, DEFAULT for a
  // generated column) and --column-inserts --rows-per-insert=3 of the same database: each
  // run of INSERTs into a table is analysed as its COPY block is.
  json expected = copy_edge_expected();
  for (const char* dump : {"copy_edge.inserts.sql.gz", "copy_edge.column_inserts.sql.gz"}) {
    INFO(dump);
    const bool named = std::string_view(dump).find("column") != std::string_view::npos;
    auto r = ingest_file_with_stats(fixture(dump));
    CHECK(r.count("SELECT count(*) FROM problem") == 0);
    CHECK(r.count("SELECT count(*) FROM table_stats WHERE source = 'insert'") ==
          static_cast<int64_t>(expected["tables"].size()));
    for (const auto& [target, facts] : expected["tables"].items()) {
      // Without column names, the values are in the dumped table's order, which the dump's
      // CREATE TABLE of an inheritance child may not restore (pg_dump's documented limit of
      // --inserts: the restore then fails): named by the restored columns, whose surrogates
      // are then other values; only the counts of rows are the same.
      if (!named && facts["columns"] != facts["restored_columns"]) {
        json stats = stats_of(r, target, "insert");
        CHECK(stats["columns"] == joined(facts["restored_columns"]));
        CHECK(stats["rows"] == facts["rows"]);
        CHECK(stats["stored_rows"] == facts["rows"]);
        continue;
      }
      check_table(r, target, facts, true, "insert");
    }
  }
}

TEST_CASE("copy_edge fixture: the same figures whatever the read buffer's size") {
  // 64 bytes: every row over 64 bytes arrives in pieces (long_row), the 3.4 MB rows in
  // some 50,000 each; 4 KiB: most rows fit; 16 MiB: even the 3.4 MB rows fit whole.
  json expected = copy_edge_expected();
  for (size_t buffer : {size_t{64}, size_t{4096}, size_t{16} << 20}) {
    INFO("read buffer of " << buffer << " bytes");
    pgdump::PgDumpOptions options;
    options.read_buffer_bytes = buffer;
    auto r = ingest_file_with_stats(fixture(expected["dump"].get<std::string>()), {}, options);
    CHECK(r.count("SELECT count(*) FROM problem") == 0);
    for (const auto& [target, facts] : expected["tables"].items()) {
      check_table(r, target, facts, true);
    }
  }
}

TEST_CASE("copy_edge fixture: a dump's data read without its schema counts every column") {
  // The COPY blocks alone (as in a data-only dump): nothing says which columns are
  // surrogates, so distinct rows compare whole rows.
  json expected = copy_edge_expected();
  TempDir dir;
  std::string data;
  {
    dbautopsy::io::InputStream in(fixture(expected["dump"].get<std::string>()));
    std::string all;
    char buf[1 << 16];
    for (size_t n; (n = in.read(buf, sizeof buf)) > 0;) {
      all.append(buf, n);
    }
    // Keep the COPY statements and their data, and nothing else.
    std::istringstream lines(all);
    bool in_copy = false;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("COPY ", 0) == 0) {
        in_copy = true;
      }
      if (in_copy) {
        data += line + "\n";
      }
      if (line == "\\.") {
        in_copy = false;
      }
    }
  }
  auto r = ingest_file_with_stats(dir.write("data-only.sql", data));
  for (const auto& [target, facts] : expected["tables"].items()) {
    check_table(r, target, facts, false);
  }
}

TEST_CASE("a COPY column list in another order than the restored CREATE TABLE") {
  // created_at was added to the parent after the child existed: the child's COPY lists
  // (a, b, c, created_at), but its CREATE TABLE ... INHERITS restores (a, b, created_at, c).
  json expected = copy_edge_expected();
  const json& child = expected["tables"]["public.child"];
  REQUIRE(child["columns"] != child["restored_columns"]);  // what the fixture is for
  auto r = ingest_file_with_stats(fixture(expected["dump"].get<std::string>()));

  // The schema facts follow the CREATE TABLE, as the server restores it ...
  CHECK(r.one("SELECT group_concat(name, ', ') FROM (SELECT name FROM db_column WHERE "
              "table_name = 'child' ORDER BY ordinal)") == joined(child["restored_columns"]));
  // ... while the statistics and the stored rows follow the COPY column list.
  json stats = stats_of(r, "public.child");
  CHECK(stats["columns"] == joined(child["columns"]));
  CHECK(stats["ignored_columns"] == "created_at (insert time)");
  CHECK(stats["distinct_rows"] == child["distinct_rows"]);
  auto stored = stored_rows(r, stats["section"].get<int64_t>());
  REQUIRE(!stored.empty());
  for (const auto& s : stored) {
    REQUIRE(s.values.size() == 4);
    CHECK(s.values[2].get<std::string>().rfind("c", 0) == 0);                // c
    CHECK(s.values[3].get<std::string>().find("+00") != std::string::npos);  // created_at
  }
  // Leaving out the column at created_at's restored position (c) instead would give
  // another figure: the fixture tells the two apart.
  std::set<std::string> without_c;
  for (const auto& row : child["values"]) {
    without_c.insert(json::array({row[0], row[1], row[3]}).dump());
  }
  CHECK(static_cast<int64_t>(without_c.size()) != child["distinct_rows"].get<int64_t>());

  // Dropped and re-added columns do not reorder anything: pg_dump declares the columns in
  // attribute-number order, holes left out, and lists them so in COPY as well.
  const json& reshaped = expected["tables"]["public.reshaped"];
  CHECK(reshaped["columns"] == reshaped["restored_columns"]);
  CHECK(stats_of(r, "public.reshaped")["columns"] == joined(reshaped["columns"]));
  CHECK(r.one("SELECT group_concat(name, ', ') FROM (SELECT name FROM db_column WHERE "
              "table_name = 'reshaped' ORDER BY ordinal)") == joined(reshaped["restored_columns"]));

  // A stored generated column is in the table but not in the COPY list.
  const json& gen = expected["tables"]["public.with_generated"];
  CHECK(r.count("SELECT count(*) FROM db_column WHERE table_name = 'with_generated'") == 3);
  CHECK(stats_of(r, "public.with_generated")["columns"] == joined(gen["columns"]));
}

TEST_CASE("copy_edge fixture: a table without rows") {
  json expected = copy_edge_expected();
  REQUIRE(expected["tables"]["public.empty_table"]["rows"] == 0);
  auto r = ingest_file_with_stats(fixture(expected["dump"].get<std::string>()));
  json stats = stats_of(r, "public.empty_table");
  CHECK(stats["rows"] == 0);
  CHECK(stats["distinct_rows"] == 0);
  CHECK(stats["repeated_rows"] == 0);
  CHECK(stats["distinct_method"] == "exact");
  CHECK(stats["top_rows"].is_null());
  CHECK(stats["stored_rows"] == 0);
  CHECK(stored_rows(r, stats["section"].get<int64_t>()).empty());
}

TEST_CASE("copy_edge fixture: a multi-megabyte value in a 241-column row") {
  json expected = copy_edge_expected();
  const json& wide = expected["tables"]["public.wide"];
  REQUIRE(wide["columns"].size() == 241);
  auto r = ingest_file_with_stats(fixture(expected["dump"].get<std::string>()));
  json stats = stats_of(r, "public.wide");
  // Rows 1 and 3 are the same logical row; row 2 differs from them in the last of its
  // ~3.2 million characters only.
  CHECK(stats["rows"] == 4);
  CHECK(stats["distinct_rows"] == wide["distinct_rows"]);
  CHECK(stats["repeated_rows"] == 1);
  auto stored = stored_rows(r, stats["section"].get<int64_t>());
  REQUIRE(stored.size() == 4);
  size_t body = positions_of(wide["columns"], json::array({"body"}))[0];
  size_t value_body = positions_of(wide["value_columns"], json::array({"body"}))[0];
  // Compared as "<length>|<first 40>|<last 40>" characters.
  std::vector<std::string> got, want;
  for (const auto& s : stored) {
    got.push_back(listed(s.values[body]).dump());
  }
  for (const auto& v : wide["values"]) {
    want.push_back(v[value_body].dump());
  }
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  CHECK(got == want);
  // The row that differs only in its last character is told apart from its twin.
  std::set<std::string> bodies;
  for (const auto& s : stored) {
    bodies.insert(s.values[body].get<std::string>());
  }
  CHECK(bodies.size() == 3);
}

TEST_CASE("exact_cap, stored_rows and --ignore-columns options on the fixture") {
  json expected = copy_edge_expected();
  const fs::path dump = fixture(expected["dump"].get<std::string>());
  const json& keyed = expected["tables"]["public.keyed"];
  const json& events = expected["tables"]["public.events"];

  SECTION("past the exact cap the figure is an estimate, and says so") {
    pgdump::CopyStatsOptions o;
    o.exact_cap = 10;
    auto r = ingest_file_with_stats(dump, o);
    json k = stats_of(r, "public.keyed");  // 30 distinct rows > 10
    CHECK(k["distinct_method"] == "sketch");
    // HyperLogLog in its small range (linear counting over 16,384 registers) is within a
    // row or two of 30.
    CHECK(std::abs(k["distinct_rows"].get<int64_t>() - keyed["distinct_rows"].get<int64_t>()) <= 2);
    json e = stats_of(r, "public.events");  // 6 distinct rows <= 10
    CHECK(e["distinct_method"] == "exact");
    CHECK(e["distinct_rows"] == events["distinct_rows"]);
  }
  SECTION("only the first rows are stored") {
    pgdump::CopyStatsOptions o;
    o.stored_rows = 5;
    auto r = ingest_file_with_stats(dump, o);
    json e = stats_of(r, "public.events");
    CHECK(e["rows"] == events["rows"]);
    CHECK(e["stored_rows"] == 5);
    auto stored = stored_rows(r, e["section"].get<int64_t>());
    REQUIRE(stored.size() == 5);
    int64_t copy_line = r.count("SELECT line FROM table_stats WHERE table_name = 'events'");
    for (size_t i = 0; i < stored.size(); ++i) {
      CHECK(stored[i].line == copy_line + 1 + static_cast<int64_t>(i));
    }
  }
  SECTION("columns named by the user are left out as well") {
    pgdump::CopyStatsOptions o;
    o.ignore = {"keyed.id"};
    auto r = ingest_file_with_stats(dump, o);
    json k = stats_of(r, "public.keyed");
    CHECK(k["ignored_columns"] == "id (--ignore-columns)");
    CHECK(k["distinct_rows"] == keyed["distinct_without_first"]);
    // Only keyed.id: the other tables' ids stay.
    CHECK(stats_of(r, "public.escapes")["distinct_rows"] ==
          expected["tables"]["public.escapes"]["distinct_rows"]);
  }
}

TEST_CASE("small COPY blocks: NULL, empty and \\N text are three values") {
  // COPY text written by hand here (three rows of one column), to pin the token rules
  // down on their own: \N is NULL, an empty field is '', \\N is the text \N.
  auto r = ingest_sql_with_stats(
      "CREATE TABLE public.t (id bigserial, v text);\n"
      "COPY public.t (id, v) FROM stdin;\n"
      "1\t\\N\n"
      "2\t\n"
      "3\t\\\\N\n"
      "4\t\\N\n"
      "\\.\n");
  json stats = stats_of(r, "public.t");
  CHECK(stats["rows"] == 4);
  CHECK(stats["distinct_rows"] == 3);
  CHECK(stats["repeated_rows"] == 1);
  auto stored = stored_rows(r, stats["section"].get<int64_t>());
  REQUIRE(stored.size() == 4);
  CHECK(stored[0].values[1].is_null());
  CHECK(stored[1].values[1] == "");
  CHECK(stored[2].values[1] == "\\N");
}

TEST_CASE("rows counted again without the columns an application may fill as it inserts") {
  // (id serial, created timestamptz without a default, played_on date without a default,
  // team): 3 teams saved 4 times each, every row with its own created, played_on one of two.
  std::string sql =
      "CREATE TABLE public.s (id integer DEFAULT nextval('s_id_seq'::regclass) NOT NULL, "
      "created timestamp with time zone NOT NULL, played_on date NOT NULL, team text);\n"
      "COPY public.s (id, created, played_on, team) FROM stdin;\n";
  int id = 0;
  for (int round = 0; round < 4; ++round) {
    for (int t = 0; t < 3; ++t) {
      ++id;
      sql += fmt::format("{}\t2026-03-02 10:00:{:02}+00\t2026-03-0{}\tTeam {}\n", id, id, 1 + t % 2,
                         t);
    }
  }
  sql += "\\.\n";
  auto r = ingest_sql_with_stats(sql);
  auto st = r.store.prepare("SELECT distinct_rows, variants FROM table_stats");
  REQUIRE(st.step());
  CHECK(st.get_int(0) == 12);  // created is data here
  json v = json::parse(st.get_text(1));
  st.reset();
  CHECK(v["candidates"] == json::array({"created", "played_on"}));
  CHECK(v["counts"][""] == json::array({12, nullptr, nullptr}));
  CHECK(v["counts"]["created"] == json::array({3, 4, 3}));  // 3 rows, 4 times each
  CHECK(v["counts"]["played_on"] == json::array({12, nullptr, nullptr}));
  CHECK(v["counts"]["created,played_on"] == json::array({3, 4, 3}));
}

TEST_CASE("a count without the columns an application may fill stops past its exact cap") {
  // 3,000 distinct rows even without `created`: past the further counts' cap (1,024 at an
  // exact cap of 16,384) that count is no longer kept -- the rule then counts created as
  // data -- while the table's own count goes on.
  std::string sql =
      "CREATE TABLE public.s (id integer DEFAULT nextval('s_id_seq'::regclass) NOT NULL, "
      "created timestamp with time zone NOT NULL, team text);\n"
      "COPY public.s (id, created, team) FROM stdin;\n";
  for (int i = 1; i <= 3000; ++i) {
    sql += fmt::format("{}\t2026-03-02 10:00:00+00\tTeam {}\n", i, i);
  }
  sql += "\\.\n";
  pgdump::CopyStatsOptions options;
  options.exact_cap = 16384;
  auto r = ingest_sql_with_stats(sql, options);
  auto st = r.store.prepare("SELECT distinct_rows, variants FROM table_stats");
  REQUIRE(st.step());
  CHECK(st.get_int(0) == 3000);
  json v = json::parse(st.get_text(1));
  st.reset();
  CHECK(v["candidates"] == json::array({"created"}));
  CHECK(v["counts"].contains(""));
  CHECK_FALSE(v["counts"].contains("created"));
}

TEST_CASE("pagila as dumped by five pg_dump generations: the figures of PostgreSQL 15") {
  auto corpus = corpus_dir();
  if (!corpus) {
    if (require_all()) {
      FAIL("the shared corpus was not found (set DBAUTOPSY_CORPUS)");
    }
    WARN("skipped: the shared corpus was not found (set DBAUTOPSY_CORPUS)");
    return;
  }
  json expected = read_json(fixture("copy_edge.pagila.expected.json"));
  REQUIRE(expected["versions"].size() >= 2);
  std::map<std::string, std::map<std::string, json>> seen;  // version -> target -> stats
  for (const auto& [version, entry] : expected["versions"].items()) {
    INFO("pagila " << version << " (" << entry["dumped_by"] << ")");
    fs::path schema = *corpus / entry["schema"].get<std::string>();
    fs::path data = *corpus / entry["data"].get<std::string>();
    if (!fs::exists(schema) || !fs::exists(data)) {
      if (require_all()) {
        FAIL("missing from the corpus: " << entry["data"]);
      }
      WARN("skipped: missing from the corpus: " << entry["data"]);
      continue;
    }
    // The figures were computed from these very files.
    REQUIRE(dbautopsy::io::sha256_file(schema) == entry["schema_sha256"]);
    REQUIRE(dbautopsy::io::sha256_file(data) == entry["data_sha256"]);

    // Schema then data, as a restore reads them: surrogates are known.
    TempDir dir;
    std::string both;
    for (const auto& p : {schema, data}) {
      std::ifstream in(p, std::ios::binary);
      both.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto full = ingest_file_with_stats(dir.write("pagila.sql", both));
    // The data file alone: nothing is a surrogate.
    auto data_only = ingest_file_with_stats(data);
    for (const auto& [target, facts] : entry["tables"].items()) {
      check_table(full, target, facts, true);
      check_table(data_only, target, facts, false);
      seen[version][split_target(target).second] = stats_of(full, target);
    }
  }

  // Two dumps of the same data by pg_dump 15beta2 (from a 12.11 server, timestamps in UTC)
  // and 17.0 (timestamps at +03): where the server finds the same figures, dbautopsy must
  // find the same figures in both dumps.
  const std::string a = "pg15beta2", b = "pg17.0";
  if (!seen.count(a) || !seen.count(b)) {
    return;
  }
  const json& ea = expected["versions"][a]["tables"];
  const json& eb = expected["versions"][b]["tables"];
  int same = 0;
  std::vector<std::string> differ;
  for (const auto& [target, fa] : ea.items()) {
    if (!eb.contains(target)) {
      continue;
    }
    const json& fb = eb[target];
    std::string table = split_target(target).second;
    bool server_same = fa["rows"] == fb["rows"] && fa["distinct_rows"] == fb["distinct_rows"] &&
                       fa["distinct_without_first"] == fb["distinct_without_first"] &&
                       fa["repeated_rows"] == fb["repeated_rows"];
    if (!server_same) {
      differ.push_back(table);
      continue;
    }
    ++same;
    INFO(target << ": " << a << " " << seen[a][table].dump() << " vs " << b << " "
                << seen[b][table].dump());
    for (const char* k : {"rows", "distinct_rows", "distinct_without_first", "repeated_rows",
                          "ignored_columns", "columns"}) {
      CHECK(seen[a][table][k] == seen[b][table][k]);
    }
  }
  INFO("tables whose data differs between the two dumps: " << fmt::format("{}",
                                                                          fmt::join(differ, ", ")));
  CHECK(same >= 15);
  CHECK(differ.size() <= 5);
}

TEST_CASE("a CSV COPY block: rows are CSV records, not lines") {
  // Not what pg_dump writes, but a COPY the reader accepts (and counts right: 3 rows). The
  // server reads these three records as (1, 'two\nlines'), (2, 'x'), (2, 'x'): 3 rows, 2
  // distinct (checked with PostgreSQL 15).
  auto r = ingest_sql_with_stats(
      "CREATE TABLE t (a int, b text);\n"
      "COPY t FROM stdin WITH (FORMAT csv);\n"
      "1,\"two\nlines\"\n"
      "2,\"x\"\n"
      "2,\"x\"\n"
      "\\.\n");
  json stats = stats_of(r, "public.t");
  CHECK(stats["rows"] == 3);
  CHECK(stats["distinct_rows"] == 2);
  CHECK(stats["repeated_rows"] == 1);
  CHECK(stats["stored_rows"] == 3);
  auto stored = stored_rows(r, stats["section"].get<int64_t>());
  REQUIRE(stored.size() >= 1);
  CHECK(stored[0].values == json::array({"1", "two\nlines"}));
}

TEST_CASE("a row longer than the 64 MiB hashing limit still counts as a distinct row") {
  // copy_stats counts such a row without hashing it; the figures must still add up: two
  // different rows are two distinct rows (or the statistics must say one was not compared).
  std::string sql =
      "CREATE TABLE public.t (id integer, v text);\nCOPY public.t (id, v) FROM stdin;\n";
  sql += "1\t";
  sql.append(size_t{65} << 20, 'x');
  sql += "\n2\tshort\n\\.\n";
  auto r = ingest_sql_with_stats(sql);
  json stats = stats_of(r, "public.t");
  CHECK(stats["rows"] == 2);
  CHECK(stats["distinct_rows"] == 2);
}

TEST_CASE("CSV and text COPY options: HEADER, quotes, NULL and another delimiter") {
  // Both blocks were loaded into PostgreSQL 15: t holds 5 rows, count(DISTINCT t::text) 3;
  // u holds 4 rows, 3 distinct. In CSV, NULL is the unquoted empty field: "" is '', an
  // unquoted NULL is the text 'NULL', like "NULL"; in u, nil is NULL and \| a '|'.
  const std::string sql =
      "CREATE TABLE t (a int, b text, c text);\n"
      "COPY t FROM stdin WITH (FORMAT csv, HEADER true);\n"
      "a,b,c\n"
      "1,\"x \"\"q\"\" y\",\n"
      "1,\"x \"\"q\"\" y\",\"\"\n"
      "1,\"x \"\"q\"\" y\",\n"
      "2,\"multi\nline\",NULL\n"
      "2,\"multi\nline\",\"NULL\"\n"
      "\\.\n"
      "CREATE TABLE u (a int, b text);\n"
      "COPY u FROM stdin WITH (DELIMITER '|', NULL 'nil');\n"
      "1|nil\n"
      "1|\n"
      "1|nil\n"
      "2|a\\|b\n"
      "\\.\n";
  // Whole lines, and lines in pieces of a few bytes (long_row).
  for (size_t buffer : {size_t{256} << 10, size_t{8}}) {
    INFO("read buffer of " << buffer << " bytes");
    pgdump::PgDumpOptions options;
    options.read_buffer_bytes = buffer;
    auto r = ingest_sql_with_stats(sql, {}, options);
    json t = stats_of(r, "public.t");
    CHECK(t["rows"] == 5);
    CHECK(t["distinct_rows"] == 3);
    CHECK(t["repeated_rows"] == 2);
    auto stored = stored_rows(r, t["section"].get<int64_t>());
    REQUIRE(stored.size() == 5);
    CHECK(stored[0].values == json::array({"1", "x \"q\" y", nullptr}));
    CHECK(stored[1].values == json::array({"1", "x \"q\" y", ""}));
    CHECK(stored[3].values == json::array({"2", "multi\nline", "NULL"}));
    CHECK(stored[4].values == json::array({"2", "multi\nline", "NULL"}));
    json u = stats_of(r, "public.u");
    CHECK(u["rows"] == 4);
    CHECK(u["distinct_rows"] == 3);
    stored = stored_rows(r, u["section"].get<int64_t>());
    REQUIRE(stored.size() == 4);
    CHECK(stored[0].values == json::array({"1", nullptr}));
    CHECK(stored[1].values == json::array({"1", ""}));
    CHECK(stored[3].values == json::array({"2", "a|b"}));
  }
}

TEST_CASE("rows over 64 MiB are compared whole, and reported as not stored") {
  // Two equal rows of 65 MiB and a short one: 3 rows, 2 distinct, the long one repeated.
  std::string sql =
      "CREATE TABLE public.t (id integer, v text);\nCOPY public.t (id, v) FROM stdin;\n";
  for (int i = 0; i < 2; ++i) {
    sql += "1\t";
    sql.append(size_t{65} << 20, 'x');
    sql += "\n";
  }
  sql += "2\tshort\n\\.\n";
  auto r = ingest_sql_with_stats(sql);
  json stats = stats_of(r, "public.t");
  CHECK(stats["rows"] == 3);
  CHECK(stats["distinct_rows"] == 2);
  CHECK(stats["repeated_rows"] == 1);
  CHECK(stats["distinct_without_first"] == 2);
  CHECK(stats["stored_rows"] == 1);  // the short row only
  // The repeated row's sample is its start.
  REQUIRE(stats["top_rows"].is_string());
  json top = json::parse(stats["top_rows"].get<std::string>());
  REQUIRE(top.size() == 1);
  CHECK(top[0]["count"] == 2);
  CHECK(top[0]["line"] == 3);
  CHECK(top[0]["row"] == "1\t" + std::string(1998, 'x'));
  CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'copy-row-too-long' AND line = 3 "
                "AND message LIKE '2 rows of the COPY data of public.t are longer than 64 MiB%'") ==
        1);
}

TEST_CASE("surrogate_reason: the insert-time defaults of old dumps") {
  // pagila 0.10.1's dump (standard_conforming_strings off) declares
  // create_date date DEFAULT ('now'::text)::date; the same default with the literal
  // written E'now' is the same expression.
  dbautopsy::store::ColumnFact c;
  c.name = "create_date";
  c.type = "date";
  for (const char* d : {"('now'::text)::date", "(E'now'::text)::date", "(e'now'::text)::date",
                        "('today'::text)::date"}) {
    INFO(d);
    c.default_expr = d;
    CHECK(pgdump::surrogate_reason(c) == "insert time");
  }
  c.default_expr = "'2020-01-01'::date";  // a fixed date is data
  CHECK(pgdump::surrogate_reason(c).empty());
  c.default_expr = "('now'::text)";
  c.type = "text";  // not a time: the text 'now'
  CHECK(pgdump::surrogate_reason(c).empty());
}

TEST_CASE("surrogate_reason: values drawn at random for each row") {
  dbautopsy::store::ColumnFact c;
  c.name = "id";
  c.type = "uuid";
  for (const char* d : {"gen_random_uuid()", "public.uuid_generate_v4()",
                        "extensions.uuid_generate_v1mc()", "md5((random())::text)"}) {
    INFO(d);
    c.default_expr = d;
    CHECK(pgdump::surrogate_reason(c) == "random default");
  }
  c.default_expr = "'00000000-0000-0000-0000-000000000000'::uuid";  // a fixed value is data
  CHECK(pgdump::surrogate_reason(c).empty());
}
