// Column types rendered as format_type() renders them, from libpg_query's parse tree.

#include <catch2/catch.hpp>

#include "pgsql/parse.hpp"
#include "pgsql/sql_text.hpp"

using namespace dbautopsy::pgsql;

namespace {

// The format_type() of the single column of `CREATE TABLE t (c <type>)`.
std::string type_of(const std::string& type) {
  std::string sql = "CREATE TABLE t (c " + type + ")";
  ParseResult r = parse(sql);
  REQUIRE(r.ok());
  const Json& create = node_body(r.tree["stmts"][0]["stmt"]);
  const Json& col = node_body(create["tableElts"][0]);
  return format_type(col["typeName"], {}, sql);
}

}  // namespace

TEST_CASE("SQL-standard type names map to format_type's spelling") {
  CHECK(type_of("int") == "integer");
  CHECK(type_of("int4") == "integer");
  CHECK(type_of("bigint") == "bigint");
  CHECK(type_of("smallint") == "smallint");
  CHECK(type_of("boolean") == "boolean");
  CHECK(type_of("real") == "real");
  CHECK(type_of("float") == "double precision");
  CHECK(type_of("double precision") == "double precision");
  CHECK(type_of("text") == "text");
  CHECK(type_of("jsonb") == "jsonb");
}

TEST_CASE("typmods: character types, numeric, bit") {
  CHECK(type_of("varchar(20)") == "character varying(20)");
  CHECK(type_of("character varying") == "character varying");
  CHECK(type_of("char") == "character(1)");
  CHECK(type_of("char(3)") == "character(3)");
  CHECK(type_of("numeric(5,2)") == "numeric(5,2)");
  CHECK(type_of("numeric(7)") == "numeric(7,0)");
  CHECK(type_of("numeric") == "numeric");
  CHECK(type_of("bit varying(8)") == "bit varying(8)");
  CHECK(type_of("bit") == "bit(1)");
}

TEST_CASE("date and time types") {
  CHECK(type_of("timestamp") == "timestamp without time zone");
  CHECK(type_of("timestamptz") == "timestamp with time zone");
  CHECK(type_of("timestamp(3) with time zone") == "timestamp(3) with time zone");
  CHECK(type_of("time with time zone") == "time with time zone");
  CHECK(type_of("time(2)") == "time(2) without time zone");
  CHECK(type_of("interval") == "interval");
  CHECK(type_of("interval day to second(2)") == "interval day to second(2)");
  CHECK(type_of("interval year to month") == "interval year to month");
  CHECK(type_of("interval(3)") == "interval(3)");
}

TEST_CASE("arrays, qualified user types, quoted names") {
  CHECK(type_of("integer[]") == "integer[]");
  CHECK(type_of("varchar(10)[][]") == "character varying(10)[]");
  CHECK(type_of("public.mpaa_rating") == "public.mpaa_rating");
  CHECK(type_of("public.\"Mood\"[]") == "public.\"Mood\"[]");
  CHECK(type_of("\"char\"") == "\"char\"");
  // An identifier typmod is shown by the type's own typmodout; taken as written.
  CHECK(type_of("public.geometry(Point,4326)") == "public.geometry(Point,4326)");
}

TEST_CASE("names quoted without need read as PostgreSQL writes them unquoted") {
  using dbautopsy::pgsql::unquote_needless;
  // pg_dump --quote-all-identifiers' forms, and what pg_dump writes without it.
  CHECK(unquote_needless("\"now\"()") == "now()");
  CHECK(unquote_needless("\"nextval\"('\"public\".\"s_id_seq\"'::\"regclass\")") ==
        "nextval('public.s_id_seq'::regclass)");
  CHECK(unquote_needless("'pending'::\"public\".\"order_status\"") ==
        "'pending'::public.order_status");
  CHECK(unquote_needless("('0'::\"bit\")::\"bit varying\"") == "('0'::\"bit\")::\"bit varying\"");
  CHECK(unquote_needless("nextval('public.\"Order Notes_NoteId_seq\"'::regclass)") ==
        "nextval('public.\"Order Notes_NoteId_seq\"'::regclass)");
  // Names that need their quotes keep them: upper case, keywords, spaces, quotes, U&.
  for (const char* kept : {"\"Mixed\"", "\"user\"", "\"order\"", "\"a b\"", "\"a\"\"b\"",
                           "U&\"d\\0061t\"", "\"9lives\"", "\"x$\""}) {
    CHECK(unquote_needless(kept) == kept);
  }
  // Unreserved keywords need no quotes.
  CHECK(unquote_needless("\"action\"") == "action");
  // Literals, comments and dollar-quoted bodies are not names.
  for (const char* kept : {"'\"now\"'", "E'\\'\"x\"'", "$$ \"now\" $$", "$f$\"x\"$f$",
                           "-- \"now\"\n", "/* \"now\" */", "'a''\"b\"'"}) {
    CHECK(unquote_needless(kept) == kept);
  }
  // Unterminated quotes are left as they are.
  CHECK(unquote_needless("\"abc") == "\"abc");
  CHECK(unquote_needless("'abc \"x\"") == "'abc \"x\"");
}
