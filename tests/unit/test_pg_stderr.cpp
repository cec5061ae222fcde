// The PostgreSQL stderr log reader (parsers/logs/pg_stderr.cpp): prefixes given and detected,
// entries over several lines, times in UTC, envelopes and bad input.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "base/error.hpp"
#include "io/input.hpp"
#include "logs/pg_stderr.hpp"
#include "logs/pg_structured.hpp"
#include "store/facts.hpp"
#include "support.hpp"

using namespace dbautopsy;

namespace {

struct Read {
  store::Store store = store::Store::open_memory();
  logs::PgStderrSummary summary;

  std::string one(const std::string& sql) {
    store::Statement st = store.prepare(sql);
    std::string out = st.step() ? st.get_text(0) : std::string();
    st.reset();
    return out;
  }
  int64_t count(const std::string& sql) { return store.scalar_int(sql); }
};

int64_t add_log_artifact(store::Store& s, std::string path, std::string kind) {
  store::ArtifactFact a;
  a.path = std::move(path);
  a.kind = std::move(kind);
  return store::add_artifact(s, a);
}

Read read_log(std::string_view text, std::optional<std::string> prefix = std::nullopt) {
  test::TempDir dir;
  auto path = dir.write("postgresql.log", text);
  Read r;
  store::FactWriter writer(r.store, add_log_artifact(r.store, "postgresql.log", "pg-log-stderr"));
  io::InputStream in(path);
  logs::PgStderrOptions options;
  options.prefix = std::move(prefix);
  r.summary = logs::read_pg_stderr(in, writer, options);
  return r;
}

std::string detected(std::string_view text) {
  auto d = logs::detect_pg_stderr(text);
  return d ? d->prefix : std::string("(none)");
}

}  // namespace

TEST_CASE("the common prefixes are recognised from the lines") {
  // Debian / Ubuntu: %m [%p] %q%u@%d, with lines of background processes (no user@db).
  CHECK(detected("2017-07-31 13:36:42.585 CEST [4974] LOG:  database system was shut down\n"
                 "2017-07-31 13:36:43.557 CEST [4983] postgres@postgres LOG:  duration: 1 ms\n"
                 "2017-07-31 13:36:44.557 CEST [4983] [unknown]@[unknown] LOG:  incomplete "
                 "startup packet\n") == "%m [%p] %q%u@%d ");
  // PostgreSQL's default.
  CHECK(detected("2019-10-21 12:03:31.311 MSK [5133] LOG:  duration: 0.007 ms  statement: "
                 "BEGIN;\n"
                 "2019-10-21 12:03:33.151 MSK [5134] ERROR:  relation \"t\" does not exist\n") ==
        "%m [%p] ");  // Debian's %q%u@%d fits these lines too, but none has a user@db
  // RDS.
  CHECK(detected("2020-03-11 20:40:43 CET::@:[12760]:LOG:  starting PostgreSQL 12.2\n"
                 "2020-03-11 20:41:00 CET:10.0.0.5(51234):app@prod:[12761]:ERROR:  oops\n") ==
        "%t:%r:%u@%d:[%p]:");
  // pgBadger's recommended prefix.
  CHECK(detected("2017-09-06 08:40:10 UTC [20]: [1-1] user=,db=,app=,client= LOG:  database "
                 "system was shut down\n"
                 "2017-09-06 08:41:41 UTC [36]: [121-1] user=postgres,db=postgres,app=pgbench,"
                 "client=172.23.0.1 LOG:  duration: 2.280 ms  statement: END;\n") ==
        "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ");
  // %t [%p-%l] %q%u@%d (Ubuntu 9.x).
  CHECK(detected("2018-11-17 03:14:01 EST [835-1] LOG:  autovacuum launcher started\n"
                 "2018-11-17 03:13:56 EST [768-1] postgres@postgres FATAL:  the database "
                 "system is starting up\n") == "%t [%p-%l] %q%u@%d ");
}

TEST_CASE("a prefix none of the common ones fits is derived from the lines") {
  std::string log =
      "2026-12-04 21:08:37.279 -03 [9285]: [4-1] user=,db=,app=,client=,e=00000 LOG:  "
      "listening\n"
      "2026-12-04 21:08:39.542 -03 [9327]: [3-1] user=app_user,db=league,app=etl, batch "
      "1,client=[local],e=42P01 ERROR:  relation \"x\" does not exist\n";
  auto d = logs::detect_pg_stderr(log);
  REQUIRE(d);
  CHECK(d->derived);
  CHECK(d->prefix == "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h,e=%e ");
  Read r = read_log(log);
  CHECK(r.count("SELECT count(*) FROM log_event") == 2);
  CHECK(r.one("SELECT application FROM log_event WHERE line = 2") == "etl, batch 1");
  CHECK(r.one("SELECT sqlstate FROM log_event WHERE line = 2") == "42P01");
  CHECK(r.one("SELECT client FROM log_event WHERE line = 2") == "[local]");
  CHECK(r.count("SELECT count(*) FROM log_event WHERE line = 1 AND user_name IS NULL AND "
                "database_name IS NULL") == 1);
}

TEST_CASE("--pg-prefix takes PostgreSQL's escapes") {
  SECTION("%n epoch, %c session, %v, %x, %e, %a with spaces, %%") {
    Read r = read_log(
        "1669575482.097 6383b33a.258 3/42 0 %42P01 [my app] ERROR:  relation \"a\" does not "
        "exist\n",
        "%n %c %v %x %%%e [%a] ");
    CHECK(r.one("SELECT ts FROM log_event") == "2022-11-27T18:58:02.097Z");
    CHECK(r.one("SELECT session FROM log_event") == "6383b33a.258");
    CHECK(r.one("SELECT sqlstate FROM log_event") == "42P01");
    CHECK(r.one("SELECT application FROM log_event") == "my app");
    CHECK(r.summary.unmatched == 0);
  }
  SECTION("%r host(port), %u@%d, %p, %l, %Q, %b") {
    Read r = read_log(
        "2024-01-14 20:50:01 UTC 10.0.0.1(5432) alice@shop [77-3] q=-123 client backend "
        "LOG:  statement: SELECT 1\n",
        "%t %r %u@%d [%p-%l] q=%Q %b ");
    CHECK(r.one("SELECT client FROM log_event") == "10.0.0.1(5432)");
    CHECK(r.one("SELECT user_name || '/' || database_name || '/' || pid FROM log_event") ==
          "alice/shop/77");
    CHECK(r.one("SELECT statement FROM log_event") == "SELECT 1");
  }
  SECTION("padding: %-10u and %5p") {
    Read r = read_log("bob        [   42] ERROR:  boom\n", "%-10u [%5p] ");
    CHECK(r.one("SELECT user_name || ':' || pid FROM log_event") == "bob:42");
  }
  SECTION("%q ends the prefix of background processes") {
    Read r = read_log(
        "2024-01-14 20:50:01.000 UTC [1] LOG:  checkpoint starting: time\n"
        "2024-01-14 20:50:02.000 UTC [2] app@db ERROR:  boom\n",
        "%m [%p] %q%u@%d ");
    CHECK(r.count("SELECT count(*) FROM log_event") == 2);
    CHECK(r.one("SELECT user_name FROM log_event WHERE line = 2") == "app");
  }
  SECTION("an unknown escape or a lone % is a usage error") {
    CHECK_THROWS_AS(logs::PgPrefix::parse("%m [%p] %z "), UsageError);
    CHECK_THROWS_AS(logs::PgPrefix::parse("%m [%p] %"), UsageError);
  }
  SECTION("a given prefix that does not fit leaves lines unmatched, said, not dropped") {
    Read r = read_log("2024-01-14 20:50:01.000 UTC [1] LOG:  hello\n", "%t [%p]: ");
    CHECK(r.summary.events == 0);
    CHECK(r.summary.unmatched == 1);
    CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-unmatched-line' AND line = 1") ==
          1);
    CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-no-entry' AND severity = "
                  "'error'") == 1);
  }
}

TEST_CASE("an entry is its primary line with its DETAIL, HINT, CONTEXT, STATEMENT lines") {
  Read r = read_log(
      "2024-01-14 20:50:01.123 CET [7] app@db ERROR:  duplicate key value violates unique "
      "constraint \"t_pkey\"\n"
      "2024-01-14 20:50:01.123 CET [7] app@db DETAIL:  Key (id)=(1) already exists.\n"
      "2024-01-14 20:50:01.123 CET [7] app@db HINT:  Try another id.\n"
      "2024-01-14 20:50:01.123 CET [7] app@db CONTEXT:  SQL statement \"SELECT 1 / (n - n)\"\n"
      "\tPL/pgSQL function f(integer) line 5 at PERFORM\n"
      "2024-01-14 20:50:01.123 CET [7] app@db STATEMENT:  INSERT INTO t\n"
      "\t\tVALUES (1)\n"
      "2024-01-14 20:50:01.200 CET [7] app@db LOG:  duration: 12.5 ms  statement: SELECT a,\n"
      "\t       b FROM t\n"
      "2024-01-14 20:50:02.000 CET [8] LOG:  00000: redo done at 0/1651398\n"
      "2024-01-14 20:50:02.000 CET [8] LOCATION:  StartupXLOG, xlog.c:7422\n"
      "2024-01-14 20:50:03.000 CET [9] WARNING:  line one\n"
      "\tline two\n");
  CHECK(r.count("SELECT count(*) FROM log_event") == 4);
  CHECK(r.summary.unmatched == 0);
  CHECK(r.one("SELECT line || '-' || end_line FROM log_event WHERE line = 1") == "1-7");
  CHECK(r.one("SELECT detail FROM log_event WHERE line = 1") == "Key (id)=(1) already exists.");
  CHECK(r.one("SELECT hint FROM log_event WHERE line = 1") == "Try another id.");
  CHECK(r.one("SELECT context FROM log_event WHERE line = 1") ==
        "SQL statement \"SELECT 1 / (n - n)\"\nPL/pgSQL function f(integer) line 5 at PERFORM");
  // The tab PostgreSQL puts after each newline is taken off; the statement's own stays.
  CHECK(r.one("SELECT statement FROM log_event WHERE line = 1") == "INSERT INTO t\n\tVALUES (1)");
  CHECK(r.one("SELECT statement FROM log_event WHERE line = 8") == "SELECT a,\n       b FROM t");
  CHECK(r.one("SELECT message FROM log_event WHERE line = 8") ==
        "duration: 12.5 ms  statement: SELECT a,\n       b FROM t");
  // log_error_verbosity = verbose: the SQLSTATE in the message, the LOCATION line.
  CHECK(r.one("SELECT sqlstate || '|' || message || '|' || location FROM log_event WHERE line = "
              "10") == "00000|redo done at 0/1651398|StartupXLOG, xlog.c:7422");
  CHECK(r.one("SELECT message FROM log_event WHERE line = 12") == "line one\nline two");
  CHECK(r.count("SELECT count(*) FROM log_event WHERE template_hash IS NULL") == 0);
  // 00000 is successful completion: no error class to name.
  CHECK(r.count("SELECT count(*) FROM log_entity WHERE kind = 'sqlstate_class'") == 0);
}

TEST_CASE("times go to UTC from the zone they were written in") {
  CHECK(logs::stderr_time_to_utc("2024-01-14 20:50:01.123 CET") == "2024-01-14T19:50:01.123Z");
  CHECK(logs::stderr_time_to_utc("2024-07-14 20:50:01.123 CEST") == "2024-07-14T18:50:01.123Z");
  CHECK(logs::stderr_time_to_utc("2024-01-14 20:50:01 UTC") == "2024-01-14T20:50:01.000Z");
  CHECK(logs::stderr_time_to_utc("2024-01-14 20:50:01.5 +01") == "2024-01-14T19:50:01.500Z");
  CHECK(logs::stderr_time_to_utc("2026-12-04 21:08:37.279 -03") == "2026-12-05T00:08:37.279Z");
  CHECK(logs::stderr_time_to_utc("2024-01-14 20:50:01 +0530") == "2024-01-14T15:20:01.000Z");
  CHECK(logs::stderr_time_to_utc("2018-11-17 03:14:01 EST") == "2018-11-17T08:14:01.000Z");
  CHECK(logs::stderr_time_to_utc("2019-10-21 12:03:31.311 MSK") == "2019-10-21T09:03:31.311Z");
  CHECK(logs::stderr_time_to_utc("1669575482.097") == "2022-11-27T18:58:02.097Z");
  CHECK(logs::stderr_time_to_utc("2019-03-14T00:22:56+00:00") == "2019-03-14T00:22:56.000Z");
  CHECK(logs::stderr_time_to_utc("2024-12-31 23:30:00 -03") == "2025-01-01T02:30:00.000Z");
  CHECK_FALSE(logs::stderr_time_to_utc("2024-01-14 20:50:01 XYZT"));
  CHECK_FALSE(logs::stderr_time_to_utc("2024-01-14 20:50:01"));

  Read r = read_log("2024-01-14 20:50:01 XYZT [1] LOG:  hello\n", "%t [%p] ");
  CHECK(r.one("SELECT coalesce(ts, 'null') || '|' || ts_written FROM log_event") ==
        "null|2024-01-14 20:50:01 XYZT");
  CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-unknown-zone'") == 1);
}

TEST_CASE("the stderr and the csvlog/jsonlog readers place every zone abbreviation alike") {
  // One table serves both (src/base/time.cpp); each line is an abbreviation the tz database
  // writes for zones servers log in, with its offset.
  const std::pair<const char*, const char*> zones[] = {
      {"SGT", "2024-01-14T12:50:01.000Z"}, {"WIB", "2024-01-14T13:50:01.000Z"},
      {"CAT", "2024-01-14T18:50:01.000Z"}, {"WEST", "2024-01-14T19:50:01.000Z"},
      {"ART", "2024-01-14T23:50:01.000Z"}, {"IST", "2024-01-14T15:20:01.000Z"},
      {"CST", "2024-01-15T02:50:01.000Z"}, {"NZDT", "2024-01-14T07:50:01.000Z"},
      {"MSK", "2024-01-14T17:50:01.000Z"}, {"cet", "2024-01-14T19:50:01.000Z"},
  };
  for (const auto& [zone, utc] : zones) {
    std::string written = fmt::format("2024-01-14 20:50:01 {}", zone);
    CAPTURE(written);
    CHECK(logs::stderr_time_to_utc(written) == utc);
    CHECK(logs::pg_time_to_utc(written).utc == utc);
  }

  // An ambiguous abbreviation is read, and said once per zone with the meaning taken.
  Read r = read_log(
      "2024-01-14 20:50:01 CST [1] LOG:  one\n2024-01-14 20:50:02 CST [1] LOG:  two\n"
      "2024-01-14 20:50:03 IST [1] LOG:  three\n2024-01-14 20:50:04 CET [1] LOG:  four\n",
      "%t [%p] ");
  CHECK(r.count("SELECT count(*) FROM log_event WHERE ts IS NOT NULL") == 4);
  CHECK(r.one("SELECT group_concat(message, ' / ') FROM (SELECT message FROM problem WHERE "
              "code = 'log-time-zone' ORDER BY line)") ==
        "line 1: time zone abbreviation 'CST' is ambiguous; read as -06:00, US Central; also "
        "China +08 and Cuba -05 / line 3: time zone abbreviation 'IST' is ambiguous; read as "
        "+05:30, India (Asia/Kolkata); also Israel +02 and Irish +01");
}

TEST_CASE("syslog and logplex envelopes") {
  SECTION("syslog: the envelope's pid, [N-k] continuations with #011 for the tab") {
    Read r = read_log(
        "Feb 11 13:15:39 test-pc postgres[10808]: [3-1] db=,user=,app=,client= LOG:  ending "
        "log output to stderr\n"
        "Feb 11 13:15:39 test-pc postgres[10808]: [3-2] db=,user=,app=,client= HINT:  Future "
        "log output will go to log destination \"syslog\".\n"
        "Feb 11 13:15:40 test-pc postgres[10819]: [7-1] db=postgres,user=postgres,app=psql,"
        "client=[local] LOG:  duration: 1.0 ms  statement: SELECT d.datname,\n"
        "Feb 11 13:15:40 test-pc postgres[10819]: [7-2] #011       d.datdba\n"
        "Feb 11 13:15:41 test-pc systemd[1]: Started PostgreSQL Cluster 11-main.\n");
    CHECK(r.summary.envelope == logs::Envelope::syslog);
    CHECK(r.summary.prefix == "db=%d,user=%u,app=%a,client=%h ");
    CHECK(r.count("SELECT count(*) FROM log_event") == 2);
    CHECK(r.one("SELECT hint FROM log_event WHERE line = 1") ==
          "Future log output will go to log destination \"syslog\".");
    CHECK(r.one("SELECT statement FROM log_event WHERE line = 3") ==
          "SELECT d.datname,\n       d.datdba");
    CHECK(r.one("SELECT pid FROM log_event WHERE line = 3") == "10819");
    // No year in a BSD syslog time: ts stays empty, ts_written keeps it.
    CHECK(r.one("SELECT coalesce(ts, 'null') || '|' || ts_written FROM log_event WHERE line = "
                "3") == "null|Feb 11 13:15:40");
    CHECK(r.summary.unmatched == 1);  // systemd's line
    CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-unmatched-line' AND line = 5") ==
          1);
  }
  SECTION("Heroku logplex") {
    Read r = read_log(
        "2019-03-14T00:23:00+00:00 app[postgres.4849]: [GREEN] [19-1]  sql_error_code = 40P01 "
        "ERROR:  deadlock detected\n"
        "2019-03-14T00:23:00+00:00 app[postgres.4849]: [GREEN] [19-2]  sql_error_code = 40P01 "
        "DETAIL:  Process 4849 waits for ShareLock on transaction 259635360.\n"
        "2019-03-14T00:23:00+00:00 app[postgres.4849]: [GREEN] [19-3] \tProcess 4821 waits.\n"
        "2021-09-07T04:01:27+00:00 d.af28b93f app[postgres.5925] [AQUA] [921320-1]  "
        "sql_error_code = 00000 LOG:  duration: 1.0 ms  execute <unnamed>: UPDATE x\n");
    CHECK(r.summary.envelope == logs::Envelope::logplex);
    CHECK(r.count("SELECT count(*) FROM log_event") == 2);
    CHECK(r.one("SELECT sqlstate || '|' || pid || '|' || ts FROM log_event WHERE line = 1") ==
          "40P01|4849|2019-03-14T00:23:00.000Z");
    CHECK(r.one("SELECT detail FROM log_event WHERE line = 1") ==
          "Process 4849 waits for ShareLock on transaction 259635360.\nProcess 4821 waits.");
    CHECK(r.one("SELECT statement FROM log_event WHERE line = 4") == "UPDATE x");
  }
}

TEST_CASE("bad input is said with its line and kept around") {
  SECTION("lines of no entry are counted and the first ones listed") {
    std::string log = "2024-01-14 20:50:01.000 UTC [1] LOG:  one\n";
    for (int i = 0; i < 15; ++i) {
      log += "pg_ctl: could not start server\n";
    }
    log += "2024-01-14 20:50:02.000 UTC [1] LOG:  two\n";
    Read r = read_log(log);
    CHECK(r.summary.events == 2);
    CHECK(r.summary.unmatched == 15);
    CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-unmatched-line'") == 10);
    CHECK(r.count("SELECT min(line) FROM problem WHERE code = 'log-unmatched-line'") == 2);
    CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-unmatched-lines' AND message "
                  "LIKE '15 lines%'") == 1);
  }
  SECTION("invalid UTF-8 is replaced and said") {
    Read r = read_log("2024-01-14 20:50:01.000 UTC [1] ERROR:  bad \xff byte\n");
    CHECK(r.one("SELECT message FROM log_event") == "bad \xEF\xBF\xBD byte");
    CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-invalid-utf8' AND line = 1 AND "
                  "byte_offset = 44") == 1);
  }
  SECTION("binary data") {
    Read r = read_log(std::string("2024-01-14 20:50:01.000 UTC [1] LOG:  ok\n\0\x01\x02\n", 45),
                      "%m [%p] ");
    CHECK(r.summary.events == 1);
    CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-unmatched-line' AND line = 2 "
                  "AND message LIKE '%NUL byte%'") == 1);
  }
  SECTION("a line longer than the read buffer keeps its first MiB") {
    std::string log = "2024-01-14 20:50:01.000 UTC [1] LOG:  statement: SELECT '";
    log += std::string(5u << 20, 'x');
    log += "'\n2024-01-14 20:50:02.000 UTC [1] LOG:  after\n";
    Read r = read_log(log, "%m [%p] ");
    CHECK(r.summary.events == 2);
    CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-line-too-long' AND line = 1") ==
          1);
    CHECK(r.count("SELECT length(message) FROM log_event WHERE line = 1") < (1 << 20) + 10);
    CHECK(r.one("SELECT message FROM log_event WHERE line = 2") == "after");
  }
  SECTION("not a log at all") {
    CHECK(logs::sniff_pg_stderr("CREATE TABLE t (id integer);\nINSERT INTO t VALUES (1);\n") == 0);
    CHECK(logs::sniff_pg_stderr(
              "2021-01-04 00:37:32.862 UTC,,,87,,5ff2634c.57,1,,2021-01-04 "
              "00:37:32 UTC,4/43,0,LOG,00000,\"automatic vacuum\",,,,,,,,,\"\"\n") == 0);
    CHECK(logs::sniff_pg_stderr("2024-01-14 20:50:01.000 UTC [1] LOG:  one\n") > 50);
  }
}

TEST_CASE("entries stored by the pipeline's thread keep their order, lines and problems") {
  // Many batches of entries, with lines of no entry among them (problems, written through
  // the same queue) and entries over several lines.
  std::string log;
  int lines = 0;
  for (int i = 0; i < 5000; ++i) {
    log +=
        fmt::format("2024-01-14 20:50:01.{:03d} UTC [{}] ERROR:  relation \"t{}\" does not exist\n",
                    i % 1000, 100 + i % 7, i);
    log += fmt::format("2024-01-14 20:50:01.{:03d} UTC [{}] STATEMENT:  SELECT * FROM t{}\n",
                       i % 1000, 100 + i % 7, i);
    lines += 2;
    if (i % 500 == 0) {
      log += "garbage that is no entry\n";
      ++lines;
    }
  }
  Read r = read_log(log, std::string("%m [%p] "));
  CHECK(r.summary.events == 5000);
  CHECK(r.summary.unmatched == 10);
  CHECK(r.count("SELECT count(*) FROM log_event_row") == 5000);
  // In the order of the lines, each entry with its statement.
  CHECK(r.count("SELECT count(*) FROM log_event_row a JOIN log_event_row b ON b.id = a.id + 1 "
                "WHERE b.line <= a.end_line") == 0);
  CHECK(r.count("SELECT count(*) FROM log_event_row WHERE statement = 'SELECT * FROM ' || "
                "substr(message, 11, instr(message, '\" does') - 11)") == 5000);
  CHECK(r.one("SELECT message FROM log_event_row ORDER BY id LIMIT 1 OFFSET 4321") ==
        "relation \"t4321\" does not exist");
  CHECK(r.count("SELECT max(end_line) FROM log_event_row") == lines);
  CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-unmatched-line'") == 10);
  CHECK(r.count("SELECT count(*) FROM problem a JOIN problem b ON b.id > a.id "
                "WHERE b.line < a.line") == 0);
  CHECK(r.count("SELECT count(*) FROM log_entity WHERE kind = 'relation'") == 5000);
}

TEST_CASE("a store error stops the pipeline and is said; what was added before stays") {
  store::Store s = store::Store::open_memory();
  int64_t id = add_log_artifact(s, "postgresql.log", "pg-log-stderr");
  auto event = [](int i) {
    store::LogEventFact e;
    e.line = e.end_line = i;
    e.message = fmt::format("message {}", i);
    e.format = "pg-stderr:%m ";
    return e;
  };
  SECTION("the error comes out of finish()") {
    s.exec("DROP VIEW log_event; DROP TABLE log_entity; DROP TABLE log_event_row");
    store::FactWriter writer(s, id);
    store::FactWriter::Pipeline pipeline(writer);
    CHECK_THROWS_WITH(
        [&] {
          for (int i = 1; i <= 3000; ++i) {
            writer.add(event(i));
          }
          pipeline.finish();
        }(),
        Catch::Contains("log_event_row"));
  }
  SECTION("an exception on its way: what was added is written") {
    store::FactWriter writer(s, id);
    try {
      store::FactWriter::Pipeline pipeline(writer);
      for (int i = 1; i <= 1500; ++i) {
        writer.add(event(i));
      }
      store::ProblemFact p;
      p.severity = "error";
      p.code = "test";
      p.message = "stopped";
      writer.add(p);
      throw InputError(Location{"postgresql.log", 1501, std::nullopt, false}, "stopped");
    } catch (const InputError&) {
    }
    CHECK(writer.errors() == 1);
    CHECK(s.scalar_int("SELECT count(*) FROM log_event_row") == 1500);
    CHECK(s.scalar_int("SELECT max(line) FROM log_event_row") == 1500);
    CHECK(s.scalar_int("SELECT count(*) FROM problem WHERE code = 'test'") == 1);
  }
}

TEST_CASE("the pipeline completes each event once, on whichever thread has room") {
  store::Store s = store::Store::open_memory();
  int64_t id = add_log_artifact(s, "app.log", "app-log");
  static std::atomic<int> calls{0};
  static std::mutex mutex;
  static std::set<std::thread::id> threads;
  calls = 0;
  threads.clear();
  // A slow finisher: the store thread completes the first batches, falls behind, and the
  // reader's thread then completes those it hands over.
  store::FactWriter::EventFinisher slow = [](store::LogEventFact& e) {
    ++calls;
    {
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    e.template_text = "template of " + e.message;
    e.template_hash = fmt::format("{:016x}", e.line % 7);
    e.entities.push_back({"id", std::string("entry"), std::to_string(e.line)});
  };
  store::FactWriter writer(s, id);
  writer.finish_events_with(slow);
  const int n = 8000;
  {
    store::FactWriter::Pipeline pipeline(writer);
    for (int i = 1; i <= n; ++i) {
      store::LogEventFact e;
      e.line = e.end_line = i;
      e.message = fmt::format("message {}", i);
      e.format = "python";
      writer.add(std::move(e));
    }
    pipeline.finish();
  }
  // Without a pipeline, at once.
  store::LogEventFact last;
  last.line = last.end_line = n + 1;
  last.message = fmt::format("message {}", n + 1);
  last.format = "python";
  writer.add(last);
  CHECK(calls == n + 1);
  CHECK(threads.size() == 2);
  CHECK(s.scalar_int("SELECT count(*) FROM log_event_row") == n + 1);
  CHECK(s.scalar_int("SELECT count(*) FROM log_event_row WHERE template_hash = "
                     "printf('%016x', line % 7)") == n + 1);
  CHECK(s.scalar_int("SELECT count(*) FROM log_template") == 7);
  CHECK(s.scalar_int("SELECT count(*) FROM log_entity x JOIN log_event_row e ON e.id = "
                     "x.event_id WHERE x.kind = 'id' AND x.value = CAST(e.line AS TEXT)") == n + 1);
  CHECK(s.scalar_int("SELECT count(*) FROM log_event_row a JOIN log_event_row b ON b.id = a.id + 1 "
                     "WHERE b.line != a.line + 1") == 0);
}

TEST_CASE("--pg-prefix takes the prefix as postgresql.conf writes it too") {
  CHECK(logs::user_prefix("%m [%p] %q%u@%d ") == "%m [%p] %q%u@%d ");
  CHECK(logs::user_prefix("'%m [%p] %q%u@%d '") == "%m [%p] %q%u@%d ");
  CHECK(logs::user_prefix("log_line_prefix = '%m [%p] %q%u@%d '") == "%m [%p] %q%u@%d ");
  CHECK(logs::user_prefix("log_line_prefix='%t [%p]: '\t# pgBadger's") == "%t [%p]: ");
  CHECK(logs::user_prefix("  LOG_LINE_PREFIX '%m ''quoted'' '  ") == "%m 'quoted' ");
  CHECK(logs::user_prefix("log_line_prefix = '%m \\'q\\' '") == "%m 'q' ");
  CHECK(logs::user_prefix("''") == "");
  // Not one quoted value: taken as it is.
  CHECK(logs::user_prefix("'%m' [%p] ") == "'%m' [%p] ");
  CHECK(logs::user_prefix("'%m [%p] ") == "'%m [%p] ");
  CHECK(logs::user_prefix("") == "");
}

TEST_CASE("a reload that changes log_line_prefix is followed from the line that announces it") {
  // Two files of one real server (fixtures/logs/prefixes): the first written with PostgreSQL's
  // default prefix, ending with the reload's announcement of Debian's; the second written
  // with Debian's. One after the other they are the log a server writes without rotation.
  // The default prefix reads the announcement itself (a postmaster line has no user@db) but
  // not the session lines after it. (The second file ends with the announcement of the
  // next prefix, RDS's, in which its last two lines are written: three prefixes in all.)
  std::string root = DBAUTOPSY_SOURCE_ROOT;
  auto slurp = [&](const std::string& name) {
    std::ifstream f(root + "/fixtures/logs/prefixes/" + name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  std::string first = slurp("prefix-1.log"), second = slurp("prefix-2.log");
  REQUIRE(first.find("changed to \"%m [%p] %q%u@%d \"") != std::string::npos);
  for (auto prefix : {std::optional<std::string>("%m [%p] "), std::optional<std::string>()}) {
    Read r = read_log(first + second, prefix);
    INFO(prefix.value_or("(detected)"));
    CHECK(r.summary.unmatched == 0);
    // Detected, the prefix announced in the log (Debian's) reads the first part as well: only
    // the change to RDS's is left.
    const int64_t changes = prefix ? 2 : 1;
    CHECK(r.count("SELECT count(*) FROM problem WHERE code = 'log-prefix-changed'") == changes);
    // Every session line of the second part names its user and database.
    CHECK(r.count("SELECT count(*) FROM log_event WHERE line > " +
                  std::to_string(std::count(first.begin(), first.end(), '\n')) +
                  " AND message LIKE 'connection authorized%' AND user_name = 'etl_user' AND "
                  "database_name = 'league'") == 1);
    CHECK(r.count("SELECT count(DISTINCT format) FROM log_event") == changes + 1);
  }
}
