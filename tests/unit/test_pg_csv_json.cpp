// PostgreSQL's csvlog and jsonlog readers and the cloud envelopes (parsers/logs/pg_csv.cpp,
// pg_json.cpp, pg_structured.cpp). Records are taken from the csvlog and jsonlog that a real
// PostgreSQL 15 wrote (fixtures/logs/formats) and cut down to the older layouts.
#include <catch2/catch.hpp>

#include <fstream>

#include "io/input.hpp"
#include "logs/pg_csv.hpp"
#include "logs/pg_json.hpp"
#include "logs/pg_structured.hpp"
#include "store/facts.hpp"
#include "support.hpp"

using namespace dbautopsy;

namespace {

struct LogRead {
  store::Store store;
  int64_t artifact = 0;
  int64_t events = 0;
  int64_t unmatched = 0;

  std::string one(const std::string& sql) {
    store::Statement st = store.prepare(sql);
    std::string out = st.step() ? st.get_text(0) : std::string();
    st.reset();
    return out;
  }
  int64_t count(const std::string& sql) { return store.scalar_int(sql); }
};

LogRead read_csv(std::string_view content, size_t max_record = 16u << 20) {
  test::TempDir dir;
  auto path = dir.write("postgresql.csv", content);
  LogRead r{store::Store::open_memory()};
  store::ArtifactFact a;
  a.path = "postgresql.csv";
  a.kind = "pg-log-csv";
  r.artifact = store::add_artifact(r.store, a);
  store::FactWriter writer(r.store, r.artifact);
  io::InputStream in(path);
  auto s = logs::read_pg_csv(in, writer, max_record);
  r.events = s.events;
  r.unmatched = s.unmatched;
  return r;
}

LogRead read_json(std::string_view content) {
  test::TempDir dir;
  auto path = dir.write("postgresql.json", content);
  LogRead r{store::Store::open_memory()};
  store::ArtifactFact a;
  a.path = "postgresql.json";
  a.kind = "pg-log-json";
  r.artifact = store::add_artifact(r.store, a);
  store::FactWriter writer(r.store, r.artifact);
  io::InputStream in(path);
  auto s = logs::read_pg_json(in, writer);
  r.events = s.events;
  r.unmatched = s.unmatched;
  return r;
}

// A PostgreSQL 15 csvlog record (26 columns) of fixtures/logs/formats/formats.csv.
const std::string k_error26 =
    R"(2026-12-05 05:48:14.039 +0545,"shop_app","shop",4379,"127.0.0.1:60460",6b1354c1.111b,3,)"
    R"("SELECT",2026-12-05 05:48:13 +0545,3/14,0,ERROR,42P01,"relation ""teams_teammembership"" )"
    R"(does not exist",,,,,,"SELECT * FROM teams_teammembership;",15,,"webapp","client backend",,0)";

// The first n fields of a record (the layouts of older servers are prefixes of newer ones).
std::string first_fields(const std::string& record, size_t n) {
  logs::CsvRecords r;
  REQUIRE(r.feed(record, 1, true));
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    std::string f = r.fields().at(i);
    std::string quoted = "\"";
    for (char c : f) {
      quoted += c;
      if (c == '"') {
        quoted += '"';
      }
    }
    out += (i ? "," : "") + (f.empty() ? std::string() : quoted + "\"");
  }
  return out;
}

}  // namespace

TEST_CASE("csvlog fields: quoted newlines, doubled quotes, empty and unquoted fields") {
  logs::CsvRecords r;
  CHECK_FALSE(r.feed(R"(a,"first line)", 1, true));
  CHECK_FALSE(r.feed(R"(second ""quoted"", line)", 2, true));
  REQUIRE(r.feed(R"(third",,"",x)", 3, true));
  CHECK(r.first_line() == 1);
  REQUIRE(r.fields().size() == 5);
  CHECK(r.fields()[0] == "a");
  CHECK(r.fields()[1] == "first line\nsecond \"quoted\", line\nthird");
  CHECK(r.fields()[2].empty());
  CHECK(r.fields()[3].empty());
  CHECK(r.fields()[4] == "x");

  // A long line given in pieces, cut between the two quotes of a doubled quote and right
  // after a closing quote.
  logs::CsvRecords p;
  CHECK_FALSE(p.feed(R"("say ")", 7, false));
  CHECK_FALSE(p.feed(R"("hi"" now")", 7, false));
  REQUIRE(p.feed(R"(,b)", 7, true));
  REQUIRE(p.fields().size() == 2);
  CHECK(p.fields()[0] == R"(say "hi" now)");
  CHECK(p.fields()[1] == "b");

  // A record whose field ends the line with a quote, then a new record.
  logs::CsvRecords q;
  REQUIRE(q.feed(R"(x,"ends in a quote""")", 1, true));
  CHECK(q.fields()[1] == "ends in a quote\"");
  REQUIRE(q.feed("y", 2, true));
  CHECK(q.fields().size() == 1);
  CHECK(q.first_line() == 2);
}

TEST_CASE("csvlog of every layout: 22 (8.4), 23 (9.0-12), 24 (13) and 26 (14+) columns") {
  for (size_t n : {22u, 23u, 24u, 26u}) {
    CAPTURE(n);
    auto r = read_csv(first_fields(k_error26, n) + "\n");
    CHECK(r.events == 1);
    CHECK(r.count("SELECT count(*) FROM problem") == 0);
    CHECK(r.one("SELECT ts FROM log_event") == "2026-12-05T00:03:14.039Z");
    CHECK(r.one("SELECT ts_written FROM log_event") == "2026-12-05 05:48:14.039 +0545");
    CHECK(r.one("SELECT severity FROM log_event") == "ERROR");
    CHECK(r.one("SELECT sqlstate FROM log_event") == "42P01");
    CHECK(r.one("SELECT pid FROM log_event") == "4379");
    CHECK(r.one("SELECT user_name FROM log_event") == "shop_app");
    CHECK(r.one("SELECT database_name FROM log_event") == "shop");
    CHECK(r.one("SELECT client FROM log_event") == "127.0.0.1:60460");
    CHECK(r.one("SELECT session FROM log_event") == "6b1354c1.111b");
    CHECK(r.one("SELECT message FROM log_event") ==
          R"(relation "teams_teammembership" does not exist)");
    CHECK(r.one("SELECT statement FROM log_event") == "SELECT * FROM teams_teammembership;");
    CHECK(r.one("SELECT format FROM log_event") == "pg-csv");
    CHECK(r.one("SELECT application FROM log_event") == (n >= 23 ? "webapp" : ""));
    CHECK(r.one("SELECT template_hash FROM log_event").size() == 16);
    CHECK(r.count("SELECT count(*) FROM log_entity WHERE kind = 'relation' AND "
                  "value = 'teams_teammembership'") == 1);
  }
}

TEST_CASE("csvlog records of other widths: 25 read by their first 24 with a notice, 21 not") {
  auto r = read_csv(first_fields(k_error26, 25) + "\n" + first_fields(k_error26, 25) + "\n");
  CHECK(r.events == 2);
  CHECK(r.count("SELECT count(*) FROM problem WHERE severity = 'notice' AND "
                "code = 'pg-csv-layout' AND line = 1") == 1);
  CHECK(r.count("SELECT count(*) FROM problem") == 1);

  auto s = read_csv(k_error26 + "\n" + first_fields(k_error26, 21) + "\n" + k_error26 + "\n");
  CHECK(s.events == 2);
  CHECK(s.unmatched == 1);
  CHECK(s.count("SELECT count(*) FROM problem WHERE severity = 'warning' AND line = 2 AND "
                "message LIKE '%21 fields%expected 22, 23, 24 or 26%'") == 1);
  CHECK(s.count("SELECT count(*) FROM problem WHERE severity = 'error'") == 0);
}

TEST_CASE("csvlog: a multi-line record, and lines that are no csvlog among records") {
  std::string rec =
      "2021-01-04 00:22:01.903 UTC,\"postgres\",\"postgres\",59,\"172.24.0.1:42642\","
      "5ff25f96.3b,3,\"SELECT\",2021-01-04 00:21:42 UTC,3/0,0,LOG,00000,\"duration: 0.658 ms  "
      "statement: SELECT 'multi',\n'line';\",,,,,,,,,\"psql\"\n";
  auto r = read_csv(rec + "pg_ctl: could not start server\n" + rec);
  CHECK(r.events == 2);
  CHECK(r.count("SELECT count(*) FROM log_event WHERE line = 1 AND end_line = 2") == 1);
  CHECK(r.count("SELECT count(*) FROM log_event WHERE line = 4 AND end_line = 5") == 1);
  CHECK(r.one("SELECT statement FROM log_event WHERE line = 1") == "SELECT 'multi',\n'line';");
  CHECK(r.one("SELECT ts FROM log_event WHERE line = 1") == "2021-01-04T00:22:01.903Z");
  CHECK(r.count("SELECT count(*) FROM problem WHERE line = 3 AND severity = 'warning' AND "
                "code = 'pg-csv-record'") == 1);

  // More lines of no format than are listed: the first five, then a notice with the count.
  std::string many = rec;
  for (int i = 0; i < 12; ++i) {
    many += "garbage line\n";
  }
  auto m = read_csv(many);
  CHECK(m.events == 1);
  CHECK(m.unmatched == 12);
  CHECK(m.count("SELECT count(*) FROM problem WHERE severity = 'warning'") == 5);
  CHECK(m.count("SELECT count(*) FROM problem WHERE severity = 'notice' AND message LIKE "
                "'12 lines or records%first at line 3%'") == 1);
}

TEST_CASE("csvlog: a truncated last record is an error, the records before it stay") {
  // The file ends inside the quoted message.
  std::string cut = k_error26 + "\n" + k_error26.substr(0, 180);
  auto r = read_csv(cut);
  CHECK(r.events == 1);
  CHECK(r.count("SELECT count(*) FROM problem WHERE severity = 'error' AND "
                "code = 'pg-csv-truncated' AND line = 2") == 1);

  // The file ends between fields, without its newline.
  auto s = read_csv(k_error26 + "\n" + k_error26.substr(0, 60));
  CHECK(s.events == 1);
  CHECK(s.count("SELECT count(*) FROM problem WHERE severity = 'error' AND "
                "code = 'pg-csv-truncated' AND line = 2") == 1);

  // A complete last record without its newline is read.
  auto t = read_csv(k_error26 + "\n" + k_error26);
  CHECK(t.events == 2);
  CHECK(t.count("SELECT count(*) FROM problem") == 0);
}

TEST_CASE("csvlog: invalid UTF-8 is read as U+FFFD with a warning; a record over the cap is not") {
  std::string bad = k_error26;
  bad.replace(bad.find("teams_teammembership"), 5,
              "te\xff\xfe"
              "s");
  auto r = read_csv(bad + "\n");
  CHECK(r.events == 1);
  CHECK(r.one("SELECT message FROM log_event") ==
        "relation \"te\xEF\xBF\xBD\xEF\xBF\xBDs_teammembership\" does not exist");
  CHECK(r.count("SELECT count(*) FROM problem WHERE severity = 'warning' AND "
                "code = 'pg-csv-utf8' AND line = 1") == 1);

  auto big = read_csv(k_error26 + "\n" + k_error26 + "\n", 100);
  CHECK(big.events == 0);
  CHECK(big.count("SELECT count(*) FROM problem WHERE code = 'pg-csv-record' AND "
                  "message LIKE '%longer than%'") == 2);
}

TEST_CASE("the csvlog sniffer accepts csvlog, also quoted, and refuses stderr logs") {
  CHECK(logs::sniff_pg_csv(k_error26 + "\n" + k_error26 + "\n") >= 90);
  CHECK(logs::sniff_pg_csv("\"2026-05-16 05:11:50.269 UTC\"" +
                           k_error26.substr(k_error26.find(',')) + "\n") >= 90);
  CHECK(logs::sniff_pg_csv("2025-01-21 18:32:48.288 CET [77898] LOG:  invalid value for "
                           "parameter \"lc_messages\": \"en_US.UTF-8\"\n") == 0);
  CHECK(logs::sniff_pg_csv("app,name,applied\nauth,0001_initial,2024-01-01\n") == 0);
}

TEST_CASE("PostgreSQL log times in UTC: abbreviations, numeric offsets, RFC 3339") {
  CHECK(logs::pg_time_to_utc("2024-06-27 00:00:07.369 CEST").utc == "2024-06-26T22:00:07.369Z");
  CHECK(logs::pg_time_to_utc("2025-01-21 18:32:48.288 CET").utc == "2025-01-21T17:32:48.288Z");
  CHECK(logs::pg_time_to_utc("2021-01-04 00:37:32 UTC").utc == "2021-01-04T00:37:32.000Z");
  CHECK(logs::pg_time_to_utc("2026-12-05 05:47:31.213 +0545").utc == "2026-12-05T00:02:31.213Z");
  CHECK(logs::pg_time_to_utc("2024-01-01 00:10:00.5 +01").utc == "2023-12-31T23:10:00.500Z");
  CHECK(logs::pg_time_to_utc("2024-02-28 22:00:00 -03:00").utc == "2024-02-29T01:00:00.000Z");
  CHECK(logs::pg_time_to_utc("2020-05-02T13:00:20.382318Z").utc == "2020-05-02T13:00:20.382Z");
  CHECK(logs::epoch_to_utc(1669575482.0968924) == "2022-11-27T18:58:02.096Z");

  auto ist = logs::pg_time_to_utc("2024-03-01 10:00:00 IST");
  CHECK(ist.utc == "2024-03-01T04:30:00.000Z");
  CHECK(ist.ambiguous_zone);
  auto unknown = logs::pg_time_to_utc("2024-03-01 10:00:00 XYZT");
  CHECK_FALSE(unknown.utc);
  CHECK(unknown.unknown_zone);
  CHECK_FALSE(logs::pg_time_to_utc("not a time").utc);
  CHECK_FALSE(logs::pg_time_to_utc("2024-13-01 10:00:00 UTC").utc);
}

TEST_CASE("the statement a message carries") {
  CHECK(logs::statement_in_message("duration: 0.658 ms  statement: SELECT 1") == "SELECT 1");
  CHECK(logs::statement_in_message("statement: BEGIN;") == "BEGIN;");
  CHECK(logs::statement_in_message("duration: 7.775 ms  parse py:0x7f: SELECT $1") == "SELECT $1");
  CHECK(logs::statement_in_message("duration: 1.0 ms  execute <unnamed>: SELECT 2") == "SELECT 2");
  CHECK_FALSE(logs::statement_in_message("duration: 1.0 ms"));
  CHECK_FALSE(logs::statement_in_message("connection received: host=[local]"));
}

TEST_CASE("jsonlog: one event per object; a line that is no object is reported and counted") {
  const std::string event =
      R"({"timestamp":"2026-12-05 05:48:14.119 +0545","user":"shop_app","dbname":"shop",)"
      R"("pid":4379,"remote_host":"127.0.0.1","remote_port":60460,"session_id":"6b1354c1.111b",)"
      R"("line_num":12,"ps":"SELECT","session_start":"2026-12-05 05:48:13 +0545","vxid":"3/20",)"
      R"("txid":0,"error_severity":"ERROR","state_code":"P0001","message":"Team ID preservation )"
      R"(failed for team 87169","detail":"team 87169 would collide","hint":"Run it again.",)"
      R"("context":"PL/pgSQL function preserve_team(integer) line 3 at RAISE",)"
      R"("statement":"SELECT preserve_team(87169);","func_name":"exec_stmt_raise",)"
      R"("file_name":"pl_exec.c","file_line_num":3907,"application_name":"webapp",)"
      R"("backend_type":"client backend","query_id":0})";
  auto r = read_json(event + "\n[1, 2]\n42\n{\"a\": \n" + event + "\n{\"other\": true}\n");
  CHECK(r.events == 2);
  CHECK(r.unmatched == 4);
  CHECK(r.count("SELECT count(*) FROM problem WHERE severity = 'warning' AND line = 2 AND "
                "message LIKE '%a JSON array where a JSON object was expected%'") == 1);
  CHECK(r.count("SELECT count(*) FROM problem WHERE line = 3 AND message LIKE '%JSON number%'") ==
        1);
  CHECK(r.count("SELECT count(*) FROM problem WHERE line = 4 AND message LIKE '%invalid JSON%'") ==
        1);
  CHECK(r.count("SELECT count(*) FROM problem WHERE line = 6 AND message LIKE '%none of the "
                "fields%'") == 1);
  CHECK(r.count("SELECT count(*) FROM problem WHERE severity = 'error'") == 0);
  CHECK(r.one("SELECT ts FROM log_event WHERE line = 1") == "2026-12-05T00:03:14.119Z");
  CHECK(r.one("SELECT client FROM log_event WHERE line = 1") == "127.0.0.1:60460");
  CHECK(r.one("SELECT location FROM log_event WHERE line = 1") ==
        "exec_stmt_raise, pl_exec.c:3907");
  CHECK(r.one("SELECT hint FROM log_event WHERE line = 5") == "Run it again.");
  CHECK(r.one("SELECT statement FROM log_event WHERE line = 5") == "SELECT preserve_team(87169);");
  CHECK(r.count("SELECT count(*) FROM log_entity WHERE kind = 'id' AND value = '87169'") >= 2);

  // Only lines that are no object: the file is no log of this kind (an error).
  auto none = read_json("[1]\n[2]\n");
  CHECK(none.events == 0);
  CHECK(none.count("SELECT count(*) FROM problem WHERE severity = 'error' AND "
                   "code = 'pg-json-empty'") == 1);
  // A last line cut short.
  auto cut = read_json(event + "\n" + event.substr(0, 100));
  CHECK(cut.events == 1);
  CHECK(cut.count("SELECT count(*) FROM problem WHERE severity = 'error' AND "
                  "code = 'pg-json-truncated' AND line = 2") == 1);
}

TEST_CASE("jsonlog: numbers past a double's range are reported, not a crash") {
  // nlohmann refuses 1e400 with out_of_range (not parse_error); 1e300 seconds is valid JSON
  // but no time (past the year 5138); before, the first ended the process and the second
  // was undefined behaviour (a double cast to int64_t).
  auto r = read_json(
      "{\"error_severity\":\"LOG\",\"message\":\"before\"}\n"
      "{\"error_severity\":\"LOG\",\"message\":\"m\",\"pid\":1e400}\n"
      "{\"textPayload\":\"2024-01-01 00:00:00 UTC [12]: LOG:  hi\",\"timestamp\":1e300}\n"
      "{\"level\":\"info\",\"msg\":\"x\",\"ts\":-1e308,\"logging_pod\":\"p\"}\n"
      "{\"error_severity\":\"LOG\",\"message\":\"after\"}\n");
  CHECK(r.events == 4);
  CHECK(r.unmatched == 1);
  CHECK(r.count("SELECT count(*) FROM problem WHERE line = 2 AND message LIKE "
                "'%invalid JSON: number overflow parsing ''1e400''%'") == 1);
  CHECK(r.one("SELECT message FROM log_event WHERE line = 3") == "hi");
  CHECK(r.one("SELECT coalesce(ts, 'null') FROM log_event WHERE line = 3") == "null");
  CHECK(r.one("SELECT coalesce(ts, 'null') FROM log_event WHERE line = 4") == "null");
  CHECK(r.one("SELECT ts_written FROM log_event WHERE line = 4") == "-1e+308");
  CHECK(r.count("SELECT count(*) FROM log_event WHERE message IN ('before', 'after')") == 2);
}

TEST_CASE("Cloud SQL: the stderr-form payload, its field lines and continuation lines") {
  auto env = [](std::string payload, std::string ts) {
    return R"({"logName":"projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log",)"
           R"("resource":{"labels":{"database_id":"p:db1"},"type":"cloudsql_database"},)"
           R"("severity":"INFO","textPayload":")" +
           payload + R"(","timestamp":")" + ts + "\"}\n";
  };
  std::string log =
      env("[24667]: [1-1] db=shop,user=app ERROR:  relation \\\"x\\\" does not exist",
          "2020-05-02T13:00:20.382318Z") +
      env("[24667]: [2-1] db=shop,user=app STATEMENT:  SELECT * FROM x", "2020-05-02T13:00:20.4Z") +
      env("[24668]: [1-1] db=[unknown],user=[unknown] LOG:  automatic vacuum of table "
          "\\\"t\\\": index scans: 0",
          "2020-05-02T13:00:21Z") +
      env("\\tpages: 0 removed, 1 remain", "2020-05-02T13:00:21Z") +
      env("\\ttuples: 60 removed", "2020-05-02T13:00:21Z");
  CHECK(logs::sniff_pg_json(log) >= 90);
  auto r = read_json(log);
  CHECK(r.events == 2);
  CHECK(r.count("SELECT count(*) FROM problem") == 0);
  CHECK(r.one("SELECT severity FROM log_event WHERE line = 1") == "ERROR");
  CHECK(r.one("SELECT message FROM log_event WHERE line = 1") == "relation \"x\" does not exist");
  CHECK(r.one("SELECT statement FROM log_event WHERE line = 1") == "SELECT * FROM x");
  CHECK(r.one("SELECT end_line FROM log_event WHERE line = 1") == "2");
  CHECK(r.one("SELECT pid FROM log_event WHERE line = 1") == "24667");
  CHECK(r.one("SELECT database_name FROM log_event WHERE line = 1") == "shop");
  CHECK(r.one("SELECT user_name FROM log_event WHERE line = 1") == "app");
  CHECK(r.one("SELECT ts FROM log_event WHERE line = 1") == "2020-05-02T13:00:20.382Z");
  CHECK(r.one("SELECT format FROM log_event WHERE line = 1") == "pg-json:cloudsql");
  CHECK(r.one("SELECT message FROM log_event WHERE line = 3") ==
        "automatic vacuum of table \"t\": index scans: 0\npages: 0 removed, 1 remain\n"
        "tuples: 60 removed");
  CHECK(r.one("SELECT end_line FROM log_event WHERE line = 3") == "5");
  CHECK(r.one("SELECT coalesce(user_name, 'null') FROM log_event WHERE line = 3") == "null");
}

TEST_CASE("CloudNativePG: records and the operator's own lines") {
  std::string log =
      R"({"level":"info","ts":1669575482.0968924,"logger":"postgres","msg":"record",)"
      R"("logging_pod":"pg-1","record":{"log_time":"2022-11-27 18:58:02.096 UTC",)"
      R"("user_name":"postgres","database_name":"postgres","process_id":"600",)"
      R"("connection_from":"[local]","session_id":"6383b33a.258","error_severity":"ERROR",)"
      R"("sql_state_code":"42703","message":"column \"left_at\" does not exist",)"
      R"("query":"SELECT left_at FROM t","application_name":"psql"}})"
      "\n"
      R"({"level":"info","ts":1669574898.9436,"logger":"postgres","msg":"2022-11-27 )"
      R"(18:48:18.943 UTC [28] LOG:  redirecting log output to logging collector process",)"
      R"("pipe":"stderr","logging_pod":"pg-1"})"
      "\n"
      R"({"level":"info","ts":1669574897.5,"msg":"Starting webserver","logging_pod":"pg-1",)"
      R"("address":":8000"})"
      "\n";
  CHECK(logs::sniff_pg_json(log) >= 90);
  auto r = read_json(log);
  CHECK(r.events == 3);
  CHECK(r.count("SELECT count(*) FROM problem") == 0);
  CHECK(r.one("SELECT pid FROM log_event WHERE line = 1") == "600");
  CHECK(r.one("SELECT sqlstate FROM log_event WHERE line = 1") == "42703");
  CHECK(r.one("SELECT statement FROM log_event WHERE line = 1") == "SELECT left_at FROM t");
  CHECK(r.one("SELECT format FROM log_event WHERE line = 1") == "pg-json:cnpg");
  CHECK(r.one("SELECT severity FROM log_event WHERE line = 2") == "LOG");
  CHECK(r.one("SELECT pid FROM log_event WHERE line = 2") == "28");
  CHECK(r.one("SELECT ts FROM log_event WHERE line = 2") == "2022-11-27T18:48:18.943Z");
  CHECK(r.one("SELECT message FROM log_event WHERE line = 2") ==
        "redirecting log output to logging collector process");
  CHECK(r.one("SELECT severity FROM log_event WHERE line = 3") == "info");
  CHECK(r.one("SELECT ts FROM log_event WHERE line = 3") == "2022-11-27T18:48:17.500Z");
  CHECK(r.one("SELECT format FROM log_event WHERE line = 3") == "cnpg");

  // Generic JSON lines are not this kind.
  CHECK(logs::sniff_pg_json("{\"time\": \"2024-01-01\", \"level\": \"INFO\", \"message\": \"x\"}\n"
                            "{\"time\": \"2024-01-01\", \"level\": \"INFO\", \"message\": "
                            "\"y\"}\n") == 0);
}

TEST_CASE("the stderr-form line inside envelopes, split minimally") {
  auto l = logs::split_stderr_line("[24667]: [1-1] db=shop,user=app LOG:  connection: x=1");
  REQUIRE(l);
  CHECK(l->keyword == "LOG");
  CHECK(l->text == "connection: x=1");
  auto p = logs::read_prefix(l->prefix);
  CHECK(p.pid == 24667);
  CHECK(p.database == "shop");
  CHECK(p.user == "app");
  auto d = logs::split_stderr_line("2022-11-27 18:48:18.943 UTC [28] DEBUG2:  a:  b");
  REQUIRE(d);
  CHECK(d->keyword == "DEBUG2");
  CHECK(d->text == "a:  b");
  CHECK(logs::read_prefix(d->prefix).ts_written == "2022-11-27 18:48:18.943 UTC");
  CHECK_FALSE(logs::split_stderr_line("no severity here: at all"));
}

TEST_CASE("csvlog time zones: an ambiguous abbreviation is a notice, an unknown one a warning") {
  auto with_zone = [](const std::string& zone) {
    std::string rec = k_error26;
    rec.replace(0, rec.find(','), "2024-03-01 10:00:00.250 " + zone);
    return rec + "\n";
  };
  auto r = read_csv(with_zone("IST") + with_zone("IST"));
  CHECK(r.events == 2);
  CHECK(r.one("SELECT ts FROM log_event WHERE line = 1") == "2024-03-01T04:30:00.250Z");
  CHECK(r.count("SELECT count(*) FROM problem WHERE severity = 'notice' AND "
                "code = 'log-time-zone' AND message LIKE '%IST%ambiguous%India%'") == 1);
  CHECK(r.count("SELECT count(*) FROM problem") == 1);

  auto u = read_csv(with_zone("XYZT") + with_zone("UTC"));
  CHECK(u.events == 2);
  CHECK(u.count("SELECT count(*) FROM log_event WHERE line = 1 AND ts IS NULL AND "
                "ts_written = '2024-03-01 10:00:00.250 XYZT'") == 1);
  CHECK(u.one("SELECT ts FROM log_event WHERE line = 2") == "2024-03-01T10:00:00.250Z");
  CHECK(u.count("SELECT count(*) FROM problem WHERE severity = 'warning' AND line = 1 AND "
                "code = 'log-time-zone' AND message LIKE '%XYZT%unknown%'") == 1);
}

TEST_CASE("sniffers: a first entry longer than the head is still recognised") {
  // What io::read_head gives of a file whose first entry is a statement of 100 kB: the head
  // ends inside it.
  std::string statement = "SELECT " + std::string(100'000, 'x');
  std::string csv = k_error26;
  csv.replace(csv.find("SELECT * FROM teams_teammembership;"), 35, statement);
  CHECK(logs::sniff_pg_csv(std::string_view(csv).substr(0, 64 * 1024)) >= 60);
  CHECK(logs::sniff_pg_csv(std::string(64 * 1024, 'x')) == 0);
  std::string json = R"({"timestamp":"2026-12-05 05:48:14.119 +0545","pid":1,)"
                     R"("error_severity":"LOG","message":"duration: 1 ms  statement: )" +
                     statement + "\"}\n";
  CHECK(logs::sniff_pg_json(std::string_view(json).substr(0, 64 * 1024)) >= 60);
  CHECK(logs::sniff_pg_json(R"({"time":")" + std::string(70'000, 'x')) == 0);
}
