// The psql-compatible statement splitter: what ends a statement and what does not.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "base/text.hpp"
#include "pgsql/script_lexer.hpp"

using dbautopsy::pgsql::ScriptLexer;
using dbautopsy::pgsql::ScriptStatement;

namespace {

struct Collected : ScriptLexer::Handler {
  std::vector<ScriptStatement> statements;
  std::vector<std::string> metas;
  std::string pause_on;  // pause after a statement starting with this
  bool on_statement(ScriptStatement& st) override {
    statements.push_back(st);
    return !pause_on.empty() && dbautopsy::text::istarts_with(st.text, pause_on);
  }
  void on_meta_command(std::string_view text, uint64_t) override { metas.emplace_back(text); }
};

// Feeds a script line by line, as the dump reader does.
Collected split(const std::string& script, bool standard_strings = true) {
  Collected c;
  ScriptLexer lexer(c, 1 << 20);
  lexer.set_standard_conforming_strings(standard_strings);
  uint64_t number = 0;
  uint64_t offset = 0;
  for (auto line : dbautopsy::text::split(script, '\n')) {
    lexer.feed(line, ++number, offset);
    offset += line.size() + 1;
  }
  lexer.finish();
  return c;
}

}  // namespace

TEST_CASE("semicolons inside quotes, identifiers and comments do not end a statement") {
  auto c = split(
      "SELECT 'a;b', \"odd;name\" FROM t; -- trailing; comment\n"
      "/* a ; comment /* nested ; */ still comment; */ SELECT 2;\n");
  REQUIRE(c.statements.size() == 2);
  CHECK(c.statements[0].text == "SELECT 'a;b', \"odd;name\" FROM t;");
  CHECK(c.statements[1].text == "SELECT 2;");
  CHECK(c.statements[1].first_line == 2);
}

TEST_CASE("doubled quotes inside literals and identifiers") {
  auto c = split("SELECT 'it''s; fine', \"a\"\"b;\" ; SELECT 3;");
  REQUIRE(c.statements.size() == 2);
  CHECK(c.statements[0].text == "SELECT 'it''s; fine', \"a\"\"b;\" ;");
}

TEST_CASE("dollar quoting, with and without tags, is opaque") {
  auto c = split(
      "CREATE FUNCTION f() RETURNS int AS $$\n"
      "BEGIN; RETURN 1; END;\n"
      "$$ LANGUAGE plpgsql;\n"
      "CREATE FUNCTION g() RETURNS text AS $body$ SELECT $$;$$ || 'x;' $body$ LANGUAGE sql;\n"
      "SELECT $1, foo$bar FROM t;\n");
  REQUIRE(c.statements.size() == 3);
  CHECK(c.statements[0].first_line == 1);
  CHECK(c.statements[0].last_line == 3);
  CHECK(c.statements[1].text.find("$body$ SELECT $$;$$ || 'x;' $body$") != std::string::npos);
  CHECK(c.statements[2].text == "SELECT $1, foo$bar FROM t;");
}

TEST_CASE("E'' strings take backslash escapes; standard strings do not") {
  auto c = split("SELECT E'it\\'s;', 'back\\'; SELECT 2;");
  // 'back\' is a complete standard string: the statement ends at the first ';' after it.
  REQUIRE(c.statements.size() == 2);
  CHECK(c.statements[0].text == "SELECT E'it\\'s;', 'back\\';");
}

TEST_CASE("with standard_conforming_strings off, backslash escapes in '' and literals become E''") {
  auto c = split("INSERT INTO t VALUES ('it\\'s; here');\nSELECT 2;", false);
  REQUIRE(c.statements.size() == 2);
  CHECK(c.statements[0].text == "INSERT INTO t VALUES (E'it\\'s; here');");
}

TEST_CASE("parentheses protect semicolons (CREATE RULE ... DO (a; b))") {
  auto c = split("CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);\nSELECT 3;");
  REQUIRE(c.statements.size() == 2);
  CHECK(c.statements[0].text.find("SELECT 2)") != std::string::npos);
}

TEST_CASE("SQL-standard function bodies: BEGIN ATOMIC ... END keeps its semicolons") {
  auto c = split(
      "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
      "BEGIN ATOMIC\n"
      "  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;\n"
      "  SELECT 2;\n"
      "END;\n"
      "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n"
      "BEGIN;\nSELECT 1;\nCOMMIT;\n");
  REQUIRE(c.statements.size() == 5);
  CHECK(c.statements[0].last_line == 5);
  CHECK(c.statements[2].text == "BEGIN;");
}

TEST_CASE("psql meta-commands run to the end of their line") {
  auto c = split(
      "\\restrict abc123\n"
      "SELECT 1;\n"
      "\\connect -reuse-previous=on \"dbname='x'\"\n"
      "SELECT 2;\n"
      "\\unrestrict abc123\n");
  REQUIRE(c.statements.size() == 2);
  REQUIRE(c.metas.size() == 3);
  CHECK(c.metas[0] == "\\restrict abc123");
  CHECK(c.metas[1] == "\\connect -reuse-previous=on \"dbname='x'\"");
}

TEST_CASE("a backslash inside a function body is not a meta-command") {
  auto c = split("CREATE FUNCTION f() RETURNS text AS $$\n\\not_meta\n$$ LANGUAGE sql;\n");
  REQUIRE(c.statements.size() == 1);
  CHECK(c.metas.empty());
}

TEST_CASE("pausing after COPY keeps the rest of the line for resume()") {
  Collected c;
  c.pause_on = "COPY";
  ScriptLexer lexer(c, 1 << 20);
  CHECK_FALSE(lexer.feed("COPY t (a) FROM stdin; SELECT 9;", 1, 0));
  REQUIRE(c.statements.size() == 1);
  // The caller would stream the COPY data here, then resume.
  CHECK(lexer.resume());
  REQUIRE(c.statements.size() == 2);
  CHECK(c.statements[1].text == "SELECT 9;");
}

TEST_CASE("the last statement without a semicolon is still handed on, unterminated") {
  auto c = split("SELECT 1;\nSELECT 2\n\n");
  REQUIRE(c.statements.size() == 2);
  CHECK_FALSE(c.statements[1].terminated);
  CHECK(c.statements[1].text == "SELECT 2");
}

TEST_CASE("input ending inside a string is reported with where the string began") {
  Collected c;
  ScriptLexer lexer(c, 1 << 20);
  lexer.feed("SELECT 1;", 1, 0);
  lexer.feed("INSERT INTO t VALUES ('never", 2, 10);
  lexer.feed("closed", 3, 40);
  CHECK(lexer.open_construct() == "a string literal opened at line 2");
}

TEST_CASE("a statement over the size cap is followed to its end but only its start is kept") {
  Collected c;
  ScriptLexer lexer(c, 32);
  lexer.feed("INSERT INTO t VALUES ('" + std::string(100, 'x') + "');", 1, 0);
  lexer.feed("SELECT 1;", 2, 200);
  REQUIRE(c.statements.size() == 2);
  CHECK(c.statements[0].oversized);
  CHECK(c.statements[0].size > 100);
  CHECK(c.statements[0].text.size() <= 32);
  CHECK_FALSE(c.statements[1].oversized);
}

TEST_CASE("\\connect names its database in every form psql and pg_dumpall write", "[lexer]") {
  using dbautopsy::pgsql::connect_database;
  // pg_dumpall's forms (appendPsqlMetaConnect): a plain name, a name fmtId() quotes, and the
  // connection string of a name with other characters, quoted by appendConnStrVal then fmtId.
  CHECK(connect_database("shop") == "shop");
  CHECK(connect_database("\"Shop\"") == "Shop");
  CHECK(connect_database("\"dot.name\"") == "dot.name");
  CHECK(connect_database("-reuse-previous=on \"dbname='shop floor'\"") == "shop floor");
  CHECK(connect_database("-reuse-previous=on \"dbname='it\\'s'\"") == "it's");
  CHECK(connect_database("-reuse-previous=on \"dbname='a\"\"b'\"") == "a\"b");
  CHECK(connect_database("-reuse-previous=on \"dbname='back\\\\slash'\"") == "back\\slash");
  CHECK(connect_database("-reuse-previous=on \"dbname='\u00fcn\u00efcode'\"") ==
        "\u00fcn\u00efcode");
  // What a person writes: \c with a user, a bare connection string, a URI, single quotes.
  CHECK(connect_database("shop postgres") == "shop");
  CHECK(connect_database("  shop\t") == "shop");
  CHECK(connect_database("'my db' admin") == "my db");
  CHECK(connect_database("\"dbname=shop user=admin\"") == "shop");
  CHECK(connect_database("'host=db1 dbname = \\'x y\\' port=5432'") == "x y");
  CHECK(connect_database("postgresql://admin@db1:5432/my%20db?sslmode=require") == "my db");
  CHECK(connect_database("postgres://db1/shop") == "shop");
  // No database named: psql keeps the previous one.
  CHECK_FALSE(connect_database(""));
  CHECK_FALSE(connect_database("-"));
  CHECK_FALSE(connect_database("-reuse-previous=on"));
  CHECK_FALSE(connect_database("\"host=db1 user=admin\""));
  CHECK_FALSE(connect_database("postgresql://db1"));
}
