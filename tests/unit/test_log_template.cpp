// Message templates and the entities of log messages (parsers/logs/template.cpp).
#include <catch2/catch.hpp>

#include <random>

#include <fmt/format.h>
#include <xxhash.h>

#include "base/text.hpp"
#include "logs/template.hpp"

using namespace dbautopsy;

namespace {

bool has(const std::vector<store::LogEntityFact>& es, std::string kind,
         std::optional<std::string> name, std::string value) {
  for (const auto& e : es) {
    if (e.kind == kind && e.name == name && e.value == value) {
      return true;
    }
  }
  return false;
}

// message_template as it was first written, one character at a time: the faster one must
// give the same templates (their hashes are stored facts).
bool ref_is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool ref_is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string reference_template(std::string_view m) {
  std::string out;
  out.reserve(m.size());
  size_t i = 0;
  m = text::trim(m);
  while (i < m.size()) {
    char c = m[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      // Runs of white space are one space: a statement logged over several lines, indented
      // by whoever wrote it, has the template of its one-line form.
      while (i < m.size() && (m[i] == ' ' || m[i] == '\t' || m[i] == '\n' || m[i] == '\r')) {
        ++i;
      }
      out += ' ';
      continue;
    }
    if (c == '"' || c == '\'') {
      // A quoted string, up to its closing quote (a doubled quote stays inside); an
      // apostrophe inside a word (don't) is not a quote.
      if (c == '\'' && i > 0 && ref_is_word(m[i - 1])) {
        out += c;
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < m.size()) {
        if (m[j] == c) {
          if (j + 1 < m.size() && m[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      if (j >= m.size()) {  // unbalanced: keep the quote as text
        out += c;
        ++i;
        continue;
      }
      out += c;
      out += '?';
      out += c;
      i = j + 1;
      continue;
    }
    if (ref_is_word(c)) {
      // A word: replaced when it holds a digit (42, 3.5, 0x1f, 5f2c-..., abc123 ids).
      size_t j = i;
      bool digit = false;
      while (j < m.size() && (ref_is_word(m[j]) || m[j] == '-' || m[j] == ':' ||
                              (m[j] == '.' && j + 1 < m.size() && ref_is_digit(m[j + 1])))) {
        if (m[j] == '-' || m[j] == ':') {
          // Keep a hyphenated word (read-only) or a colon label; join only runs that hold a
          // digit (uuids, dates, times).
          if (!(digit || (j > i && ref_is_digit(m[j - 1]))) || j + 1 >= m.size() ||
              !ref_is_word(m[j + 1])) {
            break;
          }
        }
        digit = digit || ref_is_digit(m[j]);
        ++j;
      }
      if (j == i) {
        j = i + 1;
      }
      if (digit) {
        out += '?';
      } else {
        out.append(m.substr(i, j - i));
      }
      i = j;
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

}  // namespace

TEST_CASE("messages that differ only in names, numbers and ids share one template") {
  CHECK(logs::message_template(R"(relation "teams_team" does not exist)") ==
        R"(relation "?" does not exist)");
  CHECK(logs::message_template(R"(relation "a" does not exist)") ==
        logs::message_template(R"(relation "b" does not exist)"));
  CHECK(logs::message_template("Team ID preservation failed for team 87169") ==
        "Team ID preservation failed for team ?");
  CHECK(logs::message_template("copy batch 3 (41 rows) failed, retrying in 0.5s") ==
        "copy batch ? (? rows) failed, retrying in ?");
  CHECK(logs::message_template("duration: 1204.337 ms  statement: SELECT 1") ==
        "duration: ? ms statement: SELECT ?");
  CHECK(logs::message_template("job 5f2c-11aa-9b00 started at 2024-01-14 20:50:01") ==
        "job ? started at ? ?");
  // An apostrophe inside a word is no quote; an unbalanced quote stays text.
  CHECK(logs::message_template("can't read 'x.csv'") == "can't read '?'");
  CHECK(logs::message_template("value \"unterminated") == "value \"unterminated");
  // Words keep their hyphens; a label keeps its colon.
  CHECK(logs::message_template("read-only transaction: 12") == "read-only transaction: ?");
  CHECK(logs::message_template("statement: \n    INSERT INTO t\n\tVALUES (1, 'x')\n") ==
        "statement: INSERT INTO t VALUES (?, '?')");
  CHECK(logs::template_hash("a") != logs::template_hash("b"));
  CHECK(logs::template_hash("a").size() == 16);
}

TEST_CASE("PostgreSQL's messages name the missing relation, column and schema") {
  auto es = logs::message_entities(R"(relation "user_profile_about_item" does not exist)", "42P01");
  CHECK(has(es, "relation", std::nullopt, "user_profile_about_item"));
  CHECK(has(es, "sqlstate_class", std::nullopt, "42"));
  // Class 00 is successful completion (every routine entry of a log with %e): none named.
  CHECK(logs::message_entities("checkpoint starting: time", "00000").empty());
  CHECK(has(logs::message_entities("could not receive data from client", "08006"), "sqlstate_class",
            std::nullopt, "08"));
  CHECK(has(logs::message_entities("there is no transaction in progress", "01000"),
            "sqlstate_class", std::nullopt, "01"));

  es = logs::message_entities("column teams_teammembership.left_at does not exist", "42703");
  CHECK(has(es, "column", "teams_teammembership", "left_at"));
  CHECK(has(es, "relation", std::nullopt, "teams_teammembership"));

  es = logs::message_entities(R"(column "label" of relation "shop_item" does not exist)", "");
  CHECK(has(es, "column", "shop_item", "label"));
  CHECK(has(es, "relation", std::nullopt, "shop_item"));

  es = logs::message_entities(R"(column "left_at" does not exist)", "42703");
  CHECK(has(es, "column", std::nullopt, "left_at"));

  es = logs::message_entities(R"(schema "test_schema" does not exist)", "3F000");
  CHECK(has(es, "schema", std::nullopt, "test_schema"));
}

TEST_CASE("ETL messages name ids, counts and tables") {
  auto es = logs::message_entities("Team ID preservation failed for team 87169", "");
  CHECK(has(es, "id", "team", "87169"));
  es = logs::message_entities("copy batch 3 (41 rows) into polls_backup failed, attempt 5000", "");
  CHECK(has(es, "id", "batch", "3"));
  CHECK(has(es, "count", "rows", "41"));
  CHECK(has(es, "id", "attempt", "5000"));
  CHECK(has(es, "table", "written", "polls_backup"));
  // "id 87018" is an id of whatever the message is about; "retry 3/5" names a retry.
  es = logs::message_entities("fallback path: team 87169 inserted again with new id 88100", "");
  CHECK(has(es, "id", "team", "87169"));
  CHECK(has(es, "id", "id", "88100"));
  es = logs::message_entities("poll export retry 3/5 failed; IDs: 7", "");
  CHECK(has(es, "id", "retry", "3"));
  CHECK(has(es, "id", "id", "7"));
  es = logs::message_entities("inserted 1,204 rows", "");
  CHECK(has(es, "count", "rows", "1204"));
  // The same digits as an id and as a count: each read where it stands.
  es = logs::message_entities("copy batch 41: 41 rows copied into t_backup (1681 rows in all)", "");
  CHECK(has(es, "id", "batch", "41"));
  CHECK(has(es, "count", "rows", "41"));
  CHECK(has(es, "count", "rows", "1681"));
  // The table a statement writes, and the ones it reads.
  es = logs::message_entities(
      "statement: INSERT INTO practice_backup (a) SELECT a FROM generate_series(1, 2) k", "");
  CHECK(has(es, "table", "written", "practice_backup"));
  CHECK(has(es, "table", std::nullopt, "generate_series"));
}

namespace {

std::string entities_text(const std::vector<store::LogEntityFact>& es) {
  std::string out;
  for (const auto& e : es) {
    out += e.kind + "|" + e.name.value_or("<null>") + "|" + e.value + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("the hand-written entity searches find what RE2 finds") {
  // Messages of the shapes the searches look for, then random strings of the characters their
  // patterns turn on (word and non-word boundaries, separators, digit runs, quotes, keywords in
  // any case), read both ways in both modes.
  std::vector<std::string> messages = {
      "copy batch 3 (41 rows) into polls_backup failed, attempt 5000",
      "copy batch 41: 41 rows copied into t_backup (1681 rows in all)",
      "Team ID preservation failed for team 87169",
      "inserted 1,204 rows",
      "statement: INSERT INTO practice_backup (a) SELECT a FROM generate_series(1, 2) k",
      "statement: insert\tinto \"My_T\".x_y$1 values (1)",
      "insert into(x) update a_b from \"c_d\"\"e_f\" into  s.t_u table_x tablex_y",
      "duration: 0.123 ms  statement: UPDATE pgbench_accounts SET abalance = abalance + -4 "
      "WHERE aid = 42;",
      "automatic vacuum of table \"db.public.t_x\": index scans: 1 pages: 0 removed, 5 remain",
      "id=5 ids: 7 team#8 team #9 abc123 4 x4 5rows 6 rows_7 3,4,5 rows",
      "3 rows5 x",
      "a 1b 2 c",
      "x_:1 y==#2 z #3# 4",
      "",
      "5",
      "FROM",
      "from t_a\"update t_b",
      "processed 12 records in 3 batches; record 44 skipped",
  };
  std::mt19937 rng(20261205);
  const std::vector<std::string> pieces = {
      "a",    "Z",      "_",    "t_x",      "9",     "12",     "3,4",    ",",      " ",
      "  ",   "\t",     "\n",   "#",        "=",     ":",      ".",      "\"",     "$",
      "-",    "(",      ")",    "row",      "rows",  "record", "insert", "INSERT", "into",
      "Into", "update", "from", "FROM",     "table", "Table",  "team",   "id",     "ed",
      "ing",  "s.t_u",  "x1",   "\xc3\xa9", "Rows",  "1 row",  "'"};
  // Short ones, then long ones, whose matches and their boundaries fall anywhere in and
  // across the 16-byte blocks the starts are looked for in.
  for (int i = 0; i < 24000; ++i) {
    std::string m;
    int n = static_cast<int>(i < 20000 ? rng() % 14 : rng() % 90);
    for (int k = 0; k < n; ++k) {
      m += pieces[rng() % pieces.size()];
    }
    messages.push_back(m);
  }
  for (const auto& m : messages) {
    for (auto mode : {logs::NumberEntities::all, logs::NumberEntities::row_counts}) {
      INFO(m);
      CHECK(entities_text(logs::message_entities(m, "", mode)) ==
            entities_text(logs::message_entities_re2(m, "", mode)));
    }
  }
}

TEST_CASE("message templates equal those the first version wrote one character at a time") {
  std::mt19937 rng(20261207);
  const std::vector<std::string> pieces = {
      "a",  "Z",  "_", "t_x", "9",    "12", "3.5", ".",    "-",     ":", " ", "  ", "\t",  "\n",
      "\r", "\"", "'", "''",  "\"\"", "x1", "é",   "\xff", "can't", "(", ")", ",",  "0x1f"};
  for (int i = 0; i < 30000; ++i) {
    std::string m;
    int n = static_cast<int>(i < 20000 ? rng() % 14 : rng() % 200);
    for (int k = 0; k < n; ++k) {
      m += pieces[rng() % pieces.size()];
    }
    INFO(m);
    CHECK(logs::message_template(m) == reference_template(m));
    // The hash as fmt writes it (leading zeros included).
    CHECK(logs::template_hash(m) == fmt::format("{:016x}", XXH3_64bits(m.data(), m.size())));
  }
}
