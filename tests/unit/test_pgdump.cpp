// The plain-SQL dump reader: DDL replayed into facts as the server would, COPY streamed
// and counted, bad input turned into located problems.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "support.hpp"

using dbautopsy::test::ingest_file;
using dbautopsy::test::ingest_sql;
using dbautopsy::test::ingest_sql_with_stats;
using dbautopsy::test::Ingested;
using dbautopsy::test::source_root;
using dbautopsy::test::TempDir;

namespace {

std::string names(Ingested& r, const std::string& sql) {
  return r.one("SELECT group_concat(x, ' ') FROM (" + sql + ")");
}

}  // namespace

TEST_CASE("pg_dump's serial idiom: sequence, OWNED BY and SET DEFAULT make a serial column") {
  auto r = ingest_sql(R"(
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.t (id integer NOT NULL, name text);
CREATE SEQUENCE public.t_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id;
ALTER TABLE ONLY public.t ALTER COLUMN id SET DEFAULT nextval('public.t_id_seq'::regclass);
ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);
SELECT pg_catalog.setval('public.t_id_seq', 42, true);
)");
  CHECK(r.one("SELECT default_expr FROM db_column WHERE name = 'id'") ==
        "nextval('public.t_id_seq'::regclass)");
  CHECK(r.one("SELECT is_serial || serial_sequence FROM db_column WHERE name = 'id'") ==
        "1public.t_id_seq");
  CHECK(r.one("SELECT is_serial FROM db_column WHERE name = 'name'") == "0");
  CHECK(r.one("SELECT owned_by_table || '.' || owned_by_column || ' ' || last_value FROM "
              "db_sequence") == "t.id 42");
  CHECK(r.one("SELECT kind FROM db_relation WHERE name = 't_id_seq'") == "sequence");
  CHECK(r.one("SELECT constraint_name || ' ' || is_primary || ' ' || columns FROM db_index") ==
        "t_pkey 1 id");
  CHECK(r.one("SELECT line FROM db_constraint WHERE name = 't_pkey'") == "7");
}

TEST_CASE("hand-written serial and identity columns create their sequences as the server does") {
  auto r = ingest_sql(R"(
CREATE TABLE orders (id serial PRIMARY KEY, big bigserial, code int GENERATED ALWAYS AS IDENTITY, note text);
)");
  CHECK(names(r, "SELECT name x FROM db_sequence ORDER BY name") ==
        "orders_big_seq orders_code_seq orders_id_seq");
  CHECK(r.one("SELECT type || ' ' || not_null || ' ' || default_expr FROM db_column WHERE name = "
              "'id'") == "integer 1 nextval('public.orders_id_seq'::regclass)");
  CHECK(r.one("SELECT data_type FROM db_sequence WHERE name = 'orders_big_seq'") == "bigint");
  CHECK(r.one("SELECT identity || ' ' || not_null FROM db_column WHERE name = 'code'") ==
        "always 1");
  CHECK(r.one("SELECT identity FROM db_sequence WHERE name = 'orders_code_seq'") == "1");
}

TEST_CASE("unnamed constraints get the names PostgreSQL gives them") {
  auto r = ingest_sql(R"(
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE t (
  a int PRIMARY KEY,
  b int UNIQUE,
  c int CHECK (c > 0) CHECK (c < 100),
  d int REFERENCES parent,
  e int, f int,
  CHECK (a < b),
  UNIQUE (e, f),
  FOREIGN KEY (e) REFERENCES parent (id) ON DELETE CASCADE
);
CREATE INDEX ON t (lower(e::text));
CREATE INDEX ON t (e, f);
CREATE INDEX ON t (e, f);
)");
  CHECK(names(r, "SELECT name x FROM db_constraint WHERE table_name = 't' ORDER BY name") ==
        "t_b_key t_c_check t_c_check1 t_check t_d_fkey t_e_f_key t_e_fkey t_pkey");
  CHECK(r.one("SELECT ref_table || '(' || ref_columns || ') ' || on_delete FROM db_constraint "
              "WHERE name = 't_d_fkey'") == "parent(id) a");
  CHECK(r.one("SELECT on_delete FROM db_constraint WHERE name = 't_e_fkey'") == "c");
  CHECK(names(r, "SELECT name x FROM db_index WHERE table_name = 't' ORDER BY name") ==
        "t_b_key t_e_f_idx t_e_f_idx1 t_e_f_key t_lower_idx t_pkey");
  CHECK(r.one("SELECT columns FROM db_index WHERE name = 't_lower_idx'") == "lower(e::text)");
}

TEST_CASE("search_path decides where unqualified objects are created and found") {
  auto r = ingest_sql(R"(
CREATE SCHEMA app;
SET search_path = app, public;
CREATE TABLE items (id int);
CREATE INDEX items_id ON items (id);
SET search_path = public;
CREATE TABLE items (id int);
ALTER TABLE items ADD COLUMN extra text;
SELECT pg_catalog.set_config('search_path', 'app', false);
ALTER TABLE items ADD CONSTRAINT items_pk PRIMARY KEY (id);
)");
  CHECK(names(r, "SELECT schema_name || '.' || name x FROM db_relation ORDER BY 1") ==
        "app.items public.items");
  CHECK(r.one("SELECT schema_name FROM db_index WHERE name = 'items_id'") == "app");
  CHECK(r.one("SELECT schema_name FROM db_column WHERE name = 'extra'") == "public");
  CHECK(r.one("SELECT schema_name FROM db_constraint WHERE name = 'items_pk'") == "app");
}

TEST_CASE("an unqualified CREATE with an empty search_path is refused, as by the server") {
  auto r = ingest_sql(
      "SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE lost (a int);\n");
  CHECK(r.count("SELECT count(*) FROM db_relation") == 0);
  CHECK(r.one("SELECT code || ':' || line FROM problem") == "no-creation-schema:2");
}

TEST_CASE("inheritance and partitions carry their parents' columns and constraints") {
  auto r = ingest_sql(R"(
CREATE TABLE base (id int NOT NULL, at date, CONSTRAINT base_at_check CHECK (at > '2000-01-01'));
CREATE TABLE child (extra text) INHERITS (base);
CREATE TABLE m (id int, at date, v int, CONSTRAINT m_v_check CHECK (v >= 0)) PARTITION BY RANGE (at);
CREATE TABLE m_2024 PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE m_2025 (id int, at date, v int);
ALTER TABLE ONLY m ATTACH PARTITION m_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
)");
  CHECK(names(r, "SELECT name x FROM db_column WHERE table_name = 'child' ORDER BY ordinal") ==
        "id at extra");
  CHECK(r.one("SELECT inherited FROM db_constraint WHERE table_name = 'child' AND name = "
              "'base_at_check'") == "1");
  CHECK(r.one("SELECT inherits FROM db_relation WHERE name = 'child'") == "public.base");
  CHECK(r.one("SELECT kind || ' ' || partition_key FROM db_relation WHERE name = 'm'") ==
        "partitioned_table PARTITION BY RANGE (at)");
  CHECK(names(r, "SELECT name x FROM db_column WHERE table_name = 'm_2024' ORDER BY ordinal") ==
        "id at v");
  CHECK(
      r.one(
          "SELECT parent_name || ' ' || partition_bound FROM db_relation WHERE name = 'm_2024'") ==
      "m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')");
  CHECK(r.one("SELECT parent_name FROM db_relation WHERE name = 'm_2025'") == "m");
  CHECK(r.count("SELECT count(*) FROM db_constraint WHERE name = 'm_v_check'") == 3);
}

TEST_CASE("unqualified user types resolve through search_path, as the server shows them") {
  auto r = ingest_sql(R"(
CREATE SCHEMA hr;
SET search_path = hr, pg_catalog;
CREATE TYPE gender AS ENUM ('f', 'm', 'x');
CREATE DOMAIN year AS integer CHECK (VALUE > 1900);
CREATE TABLE staff (g gender, y year, tags gender[], t text, n numeric(4,1));
SET search_path = public, pg_catalog;
CREATE EXTENSION citext;
CREATE TABLE people (email citext, g hr.gender);
)");
  CHECK(names(r, "SELECT type x FROM db_column WHERE table_name = 'staff' ORDER BY ordinal") ==
        "hr.gender hr.year hr.gender[] text numeric(4,1)");
  CHECK(names(r, "SELECT type x FROM db_column WHERE table_name = 'people' ORDER BY ordinal") ==
        "public.citext hr.gender");
  CHECK(r.one("SELECT schema_name FROM db_object WHERE name = 'gender'") == "hr");
}

TEST_CASE("indexes and keys of a partitioned table are given to its partitions") {
  auto r = ingest_sql(R"(
CREATE TABLE m (id int NOT NULL, at date NOT NULL, s text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE m_a PARTITION OF m FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE m_b (id int NOT NULL, at date NOT NULL, s text);
CREATE INDEX m_b_by_s ON m_b (s);
ALTER TABLE m ATTACH PARTITION m_b FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE INDEX ON m (s);
CREATE INDEX m_at_only ON ONLY m (at);
)");
  // m_a got its key when it was created; m_b when attached; the index on s reuses m_b's
  // equivalent index and makes one for m_a; ON ONLY gives nothing to the partitions.
  CHECK(names(r, "SELECT name x FROM db_index WHERE table_name = 'm_a' ORDER BY name") ==
        "m_a_pkey m_a_s_idx");
  CHECK(names(r, "SELECT name x FROM db_index WHERE table_name = 'm_b' ORDER BY name") ==
        "m_b_by_s m_b_pkey");
  CHECK(r.one("SELECT kind || ' ' || columns FROM db_constraint WHERE name = 'm_b_pkey'") ==
        "p id, at");
  CHECK(r.count("SELECT count(*) FROM db_index WHERE name LIKE '%at_only%'") == 1);
}

TEST_CASE("COPY data is streamed and counted, never parsed as SQL") {
  auto r = ingest_sql(
      "CREATE TABLE public.t (a int, b text);\n"
      "COPY public.t (a, b) FROM stdin;\n"
      "1\tcontains; a semicolon and 'quote\n"
      "2\t\\N\n"
      "3\tCREATE TABLE not_a_table (x int);\n"
      "\\.\n"
      "COPY public.t (a, b) FROM stdin;\n"
      "\\.\n"
      "INSERT INTO public.t VALUES (4, 'x'), (5, 'y');\n"
      "INSERT INTO public.t VALUES (6, 'z');\n");
  CHECK(r.count("SELECT count(*) FROM db_relation") == 1);
  CHECK(names(r,
              "SELECT source || ':' || rows || ':' || line || '-' || end_line x FROM table_stats "
              "ORDER BY line") == "copy:3:2-6 copy:0:7-8 insert:3:9-10");
  CHECK(r.one("SELECT columns FROM table_stats WHERE line = 2") == "a, b");
  CHECK(r.count("SELECT count(*) FROM problem") == 0);
}

TEST_CASE("CSV COPY rows may span lines inside quotes") {
  auto r = ingest_sql(
      "CREATE TABLE t (a int, b text);\n"
      "COPY t FROM stdin WITH (FORMAT csv);\n"
      "1,\"two\nlines\"\n"
      "2,\"\\.\"\n"
      "\\.\n");
  CHECK(r.one("SELECT rows FROM table_stats") == "2");
}

TEST_CASE("statements and COPY rows that cross read-buffer boundaries give the same facts") {
  std::string sql = "CREATE TABLE t (id int, payload text);\nCOPY t (id, payload) FROM stdin;\n";
  for (int i = 0; i < 300; ++i) {
    sql += std::to_string(i) + "\t" + std::string(static_cast<size_t>(i % 97), 'p') + "\n";
  }
  sql += "\\.\n";
  sql += "CREATE VIEW v AS SELECT id,\n  payload\n  FROM t WHERE payload <> ';';\n";
  dbautopsy::pgdump::PgDumpOptions tiny;
  tiny.read_buffer_bytes = 64;
  auto big = ingest_sql(sql);
  auto small = ingest_sql(sql, tiny);
  CHECK(small.one("SELECT rows FROM table_stats") == "300");
  CHECK(big.one("SELECT bytes FROM table_stats") == small.one("SELECT bytes FROM table_stats"));
  CHECK(small.one("SELECT line FROM db_relation WHERE name = 'v'") == "304");
  CHECK(small.count("SELECT count(*) FROM problem") == 0);
}

TEST_CASE("a statement on one line longer than the read buffer is lexed in pieces") {
  // Quotes, comments, dollar quotes and multibyte characters everywhere, on one line of
  // ~40 KB read through a 64-byte buffer: the facts must equal those of a normal read.
  std::string cols;
  for (int i = 0; i < 400; ++i) {
    cols += " c" + std::to_string(i) + " text DEFAULT 'x;y ''é'' -- not a comment' /* c;o */,";
  }
  std::string sql =
      "CREATE TABLE t (" + cols + " last int);" +
      " CREATE FUNCTION f() RETURNS text AS $body$ SELECT ';--$$' $body$ LANGUAGE sql;"
      " COMMENT ON TABLE t IS 'naïve ; text';\n"
      "CREATE TABLE u (a int);\n";
  dbautopsy::pgdump::PgDumpOptions tiny;
  tiny.read_buffer_bytes = 64;
  auto r = ingest_sql(sql, tiny);
  CHECK(r.count("SELECT count(*) FROM problem") == 0);
  CHECK(r.count("SELECT count(*) FROM db_column WHERE table_name = 't'") == 401);
  CHECK(r.one("SELECT default_expr FROM db_column WHERE name = 'c399'") ==
        "'x;y ''é'' -- not a comment'");
  CHECK(r.one("SELECT comment FROM db_comment") == "naïve ; text");
  CHECK(r.one("SELECT line FROM db_relation WHERE name = 'u'") == "2");
  CHECK(r.count("SELECT count(*) FROM db_object WHERE kind = 'function'") == 1);
}

TEST_CASE("a dump cut inside COPY data keeps what was read and says it is truncated") {
  auto r = ingest_sql(
      "-- PostgreSQL database dump\n"
      "CREATE TABLE t (a int);\n"
      "COPY t (a) FROM stdin;\n"
      "1\n2\n3\n");
  CHECK(r.one("SELECT rows || ' ' || complete FROM table_stats") == "3 0");
  CHECK(r.one("SELECT severity || ' ' || code FROM problem WHERE code = 'truncated'") ==
        "error truncated");
  CHECK(r.count("SELECT count(*) FROM db_relation") == 1);
}

TEST_CASE("binary data stops reading with an error that names the line and byte") {
  auto r = ingest_sql(
      std::string("CREATE TABLE t (a int);\nSELECT 1;\nab\0cd\nCREATE TABLE u (b int);\n", 60));
  CHECK(r.one("SELECT code || ' ' || line || ' ' || byte_offset FROM problem") ==
        "binary-data 3 36");
  CHECK(r.count("SELECT count(*) FROM db_relation") == 1);
}

// The statistics consumer scans COPY blocks for the reader in its own pass (scan_rows);
// without a consumer the reader scans them itself (io::scan_block). Both must end the data
// at the same "\." line and stop at the same NUL byte, with the same rows, line and offset,
// wherever in the 64-byte steps of the scan they fall, and whatever the read buffer.
TEST_CASE("COPY data scanned with the row statistics ends and stops where the reader's scan does") {
  auto facts = [](Ingested& r) {
    return r.one(
               "SELECT group_concat(rows || ' ' || complete || ' ' || end_line, ';') FROM "
               "table_stats") +
           " | " +
           r.one(
               "SELECT group_concat(code || ' ' || line || ' ' || byte_offset, ';') FROM "
               "(SELECT * FROM problem ORDER BY line, code)");
  };
  const std::string head =
      "SET client_encoding = 'UTF8';\nCREATE TABLE t (a text, b text);\nCOPY t (a, b) FROM "
      "stdin;\n";
  size_t cases = 0;
  for (size_t pad = 0; pad < 140; pad += 7) {
    std::string fill(pad, 'x');
    std::vector<std::string> datas = {
        // A NUL byte in the third row, at varied offsets.
        "r1\t" + fill + "\nr2\tb\n" + fill + "\tc" + std::string(1, '\0') + "d\nr4\te\n\\.\n",
        // A NUL byte in the first row.
        fill + std::string(1, '\0') + "\tz\nr2\tb\n\\.\n",
        // A NUL byte after the end of the data, close to it.
        "r1\t" + fill + "\n\\.\n" + std::string(1, '\0') + "\n",
        // The end of the data next, then more rows of another block.
        "\\.\n",
        "r1\t" + fill + "\n\\.x\nCOPY t (a, b) FROM stdin;\n" + fill + "\tq\n\\.\n",
        // A line that begins with a backslash but is not the end, and invalid UTF-8 (a
        // warning) before and after the end.
        "\\N\t" + fill + "\n\\t\tcaf\xe9\n" + fill + "\n\\.\nSELECT 'caf\xe9';\n",
        // Rows of one field, the last without a newline at the end of the file.
        "a\nb\n" + fill + "\nc",
    };
    for (const std::string& data : datas) {
      for (size_t buffer : {size_t{64}, size_t{256} << 10}) {
        INFO("pad " << pad << ", buffer " << buffer << ", data " << data);
        dbautopsy::pgdump::PgDumpOptions options;
        options.read_buffer_bytes = buffer;
        auto plain = ingest_sql(head + data, options);
        auto with_stats = ingest_sql_with_stats(head + data, {}, options);
        CHECK(facts(with_stats) == facts(plain));
        CHECK(with_stats.summary.copy_rows == plain.summary.copy_rows);
        ++cases;
      }
    }
  }
  CHECK(cases == 20 * 7 * 2);
  // One of them by hand: the NUL byte in the third row, at line 6.
  std::string data = "r1\ta\nr2\tb\nr3\tc" + std::string(1, '\0') + "\nr4\te\n\\.\n";
  auto r = ingest_sql_with_stats(head + data);
  CHECK(r.one("SELECT rows FROM table_stats") == "2");
  CHECK(r.one("SELECT code || ' ' || line || ' ' || byte_offset FROM problem WHERE code = "
              "'binary-data'") ==
        "binary-data 6 " + std::to_string(head.size() + std::string("r1\ta\nr2\tb\nr3\tc").size()));
}

TEST_CASE("invalid UTF-8 in a UTF8 dump is a located warning and reading goes on") {
  auto r = ingest_sql(
      "SET client_encoding = 'UTF8';\n"
      "COMMENT ON SCHEMA public IS 'caf\xe9';\n"
      "CREATE TABLE t (a int);\n");
  CHECK(r.one("SELECT severity || ' ' || code || ' ' || line FROM problem") ==
        "warning invalid-utf8 2");
  CHECK(r.count("SELECT count(*) FROM db_relation") == 1);
}

TEST_CASE("invalid UTF-8 in the COPY rows is located row by row") {
  // LATIN1 rows in a dump that declares UTF8: every row is bad; each warning names its own
  // line (the lines are counted on from the last bad one, not from the block's start).
  std::string data;
  for (int i = 0; i < 300; ++i) {
    data += std::to_string(i) + (i % 3 == 0 ? "\tcaf\xe9\n" : "\tcafe\n");
  }
  auto r = ingest_sql(
      "SET client_encoding = 'UTF8';\nCREATE TABLE t (id int, name text);\n"
      "COPY public.t (id, name) FROM stdin;\n" +
      data + "\\.\n");
  CHECK(r.one("SELECT group_concat(line, ',') FROM (SELECT line FROM problem WHERE code = "
              "'invalid-utf8' AND line IS NOT NULL ORDER BY line LIMIT 4)") == "4,7,10,13");
  CHECK(r.one("SELECT max(line) FROM problem WHERE code = 'invalid-utf8'") ==
        std::to_string(4 + 3 * (static_cast<int>(r.count(
                                    "SELECT count(*) FROM problem WHERE code = 'invalid-utf8' "
                                    "AND line IS NOT NULL")) -
                                1)));
}

TEST_CASE("a rejected statement is an error with its line and the parser's message") {
  // An error: facts the statement held are missing, so the artifact is only partly read.
  auto r = ingest_sql(
      "CREATE TABLE ok1 (a int);\nCREATE TABLE broken (a int,,);\nCREATE TABLE ok2 (a int);\n");
  CHECK(r.count("SELECT count(*) FROM db_relation") == 2);
  CHECK(r.one("SELECT severity || ' ' || code || ' ' || line FROM problem") ==
        "error sql-syntax 2");
  CHECK_THAT(r.one("SELECT message FROM problem"), Catch::Contains("syntax error"));
  CHECK(r.one("SELECT type FROM sql_statement WHERE line = 2") == "unparsed");
}

TEST_CASE("a 10 MB line of garbage is one error with a short message") {
  auto r = ingest_sql("CREATE TABLE t (a int);\n" + std::string(10 << 20, 'z') +
                      ";\nCREATE TABLE u (a int);\n");
  CHECK(r.one("SELECT severity || ' ' || code || ' ' || line FROM problem") ==
        "error sql-syntax 2");
  std::string message = r.one("SELECT message FROM problem");
  CHECK(message.size() < 400);
  CHECK_THAT(message, Catch::Contains("a token of 10.0 MiB"));
  CHECK(r.count("SELECT count(*) FROM db_relation") == 2);
}

TEST_CASE("an oversized statement at the end of the input without a semicolon is reported") {
  dbautopsy::pgdump::PgDumpOptions opts;
  opts.max_statement_bytes = 1 << 20;
  auto r = ingest_sql("CREATE TABLE t (a text);\n" + std::string(3 << 20, 'x') + "\n", opts);
  CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'statement-too-long' AND line = 2 AND "
                "severity = 'error'") == 1);
}

TEST_CASE("a statement over the size limit is an error, and the rest is still read") {
  dbautopsy::pgdump::PgDumpOptions opts;
  opts.max_statement_bytes = 1 << 20;
  std::string huge = "INSERT INTO t VALUES ('" + std::string(3 << 20, 'x') + "');\n";
  auto r = ingest_sql("CREATE TABLE t (a text);\n" + huge + "CREATE TABLE u (a int);\n", opts);
  CHECK(r.one("SELECT severity || ' ' || code || ' ' || line FROM problem") ==
        "error statement-too-long 2");
  CHECK(r.count("SELECT count(*) FROM db_relation") == 2);
}

TEST_CASE("an empty file is an error") {
  auto r = ingest_sql("");
  CHECK(r.one("SELECT severity || ' ' || code FROM problem") == "error empty");
}

TEST_CASE("old dumps: standard_conforming_strings off and search_path per section") {
  auto r = ingest_sql(R"(
SET standard_conforming_strings = off;
SET search_path = public, pg_catalog;
CREATE TABLE t (a text DEFAULT 'it\'s; tricky', b int);
COMMENT ON TABLE t IS 'a \'quoted\' comment';
)");
  CHECK(r.count("SELECT count(*) FROM problem") == 0);
  CHECK(r.one("SELECT default_expr FROM db_column WHERE name = 'a'") == "E'it\\'s; tricky'");
  CHECK(r.one("SELECT comment FROM db_comment") == "a 'quoted' comment");
}

TEST_CASE("pg_dumpall: \\connect starts another database") {
  auto r = ingest_sql(R"(
CREATE ROLE app;
\connect template1
\connect -reuse-previous=on "dbname='shop'"
CREATE TABLE public.orders (id int);
\connect analytics
CREATE TABLE public.orders (id int, total numeric);
)");
  CHECK(names(r, "SELECT db || '.' || name x FROM db_relation ORDER BY db") ==
        "analytics.orders shop.orders");
  CHECK(r.one("SELECT count(*) FROM db_column WHERE db = 'analytics'") == "2");
}

TEST_CASE("a single database, even after \\connect, is recorded without a db name") {
  auto r =
      ingest_sql("CREATE DATABASE shop;\n\\connect shop\nCREATE TABLE public.orders (id int);\n");
  CHECK(r.one("SELECT coalesce(db, 'NULL') FROM db_relation") == "NULL");
}

TEST_CASE("a pg_dumpall of one user database names it") {
  // template1 and postgres empty, as in most clusters: the name is the dump's word for the
  // database (findings and the repair's \connect need it).
  auto r = ingest_sql(
      "--\n-- PostgreSQL database cluster dump\n--\n\nCREATE ROLE app;\n"
      "\\connect template1\n--\n-- PostgreSQL database dump\n--\n"
      "\\connect postgres\n--\n-- PostgreSQL database dump\n--\n"
      "CREATE DATABASE shop;\n\\connect shop\n--\n-- PostgreSQL database dump\n--\n"
      "CREATE TABLE public.orders (id int);\n"
      "COPY public.orders (id) FROM stdin;\n1\n\\.\n");
  CHECK(r.one("SELECT coalesce(db, 'NULL') FROM db_relation") == "shop");
  CHECK(r.one("SELECT coalesce(db, 'NULL') FROM table_stats") == "shop");
}

TEST_CASE("PostgreSQL 18 VIRTUAL generated columns: explained, and the table still recorded") {
  auto r = ingest_sql(
      "CREATE TABLE public.film (id int, length smallint,\n"
      "  length_hours numeric GENERATED ALWAYS AS ((length::numeric / 60.0)) VIRTUAL,\n"
      "  title text);\n");
  CHECK(names(r, "SELECT name x FROM db_column ORDER BY ordinal") ==
        "id length length_hours title");
  CHECK(r.one("SELECT generated FROM db_column WHERE name = 'length_hours'") == "virtual");
  CHECK(r.one("SELECT code FROM problem") == "other-version-syntax");
  CHECK_THAT(r.one("SELECT message FROM problem"), Catch::Contains("PostgreSQL 18"));
}

TEST_CASE("the pg_dump header and its closing line") {
  auto r = ingest_sql(
      "--\n-- PostgreSQL database dump\n--\n\n"
      "-- Dumped from database version 15.4 (Debian 15.4-1)\n"
      "-- Dumped by pg_dump version 15.5\n\n"
      "CREATE TABLE public.t (a int);\n");
  CHECK(r.one("SELECT dumped_from || ' / ' || dumped_by FROM artifact") ==
        "15.4 (Debian 15.4-1) / 15.5");
  CHECK(r.one("SELECT severity || ' ' || code FROM problem") == "notice dump-incomplete");
}
