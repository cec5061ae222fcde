// Application and ETL log readers (parsers/logs/app_log.cpp, app_format.cpp, app_time.cpp):
// the Python logging layouts, tracebacks, Django's error log, JSON lines, user formats, times
// with and without a zone, and what the readers say of lines they cannot place. The logs
// under fixtures/logs/app are written by the real logging module and the real Django 3.2
// (fixtures/generate/logs/app_log.sh), with what each must read as saved beside them.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "io/input.hpp"
#include "logs/app_format.hpp"
#include "logs/app_log.hpp"
#include "logs/app_time.hpp"
#include "support.hpp"

using namespace dbautopsy;
using namespace dbautopsy::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path app_dir() {
  return source_root() / "fixtures" / "logs" / "app";
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return json::parse(in);
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Read {
  store::Store store;
  int64_t artifact = 0;
  logs::AppLogSummary summary;
  int64_t errors = 0;

  std::vector<std::string> rows(const std::string& sql) {
    store::Statement st = store.prepare(sql);
    std::vector<std::string> out;
    while (st.step()) {
      std::string row;
      for (int i = 0; i < st.column_count(); ++i) {
        row += (i ? "|" : "") + (st.is_null(i) ? std::string("NULL") : st.get_text(i));
      }
      out.push_back(row);
    }
    st.reset();
    return out;
  }
  std::string one(const std::string& sql) {
    auto r = rows(sql);
    return r.empty() ? std::string() : r.front();
  }
  int64_t count(const std::string& sql) { return store.scalar_int(sql); }
};

enum class How { python, jsonl, user };

Read read_path(const fs::path& path, How how, const std::vector<logs::UserFormat>& formats = {}) {
  Read r{store::Store::open_memory()};
  store::ArtifactFact a;
  a.path = path.filename().string();
  a.kind = "app-log";
  r.artifact = store::add_artifact(r.store, a);
  store::FactWriter writer(r.store, r.artifact);
  io::InputStream in(path);
  switch (how) {
    case How::python:
      r.summary = logs::read_python_log(in, writer);
      break;
    case How::jsonl:
      r.summary = logs::read_json_lines(in, writer);
      break;
    case How::user:
      r.summary = logs::read_user_log(in, writer, formats);
      break;
  }
  r.errors = writer.errors();
  return r;
}

Read read_text(std::string_view text, How how, const std::vector<logs::UserFormat>& formats = {}) {
  TempDir dir;
  return read_path(dir.write("app.log", text), how, formats);
}

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

}  // namespace

TEST_CASE("timestamps: asctime, ISO 8601 with and without zones, Django's server time") {
  auto utc = [](std::string_view s) {
    auto t = logs::parse_timestamp(s);
    return t ? t->utc() : std::string("none");
  };
  CHECK(utc("2024-01-14 20:50:01,123") == "2024-01-14T20:50:01.123Z");  // naive: as UTC
  CHECK(utc("2024-01-14 20:50:01.123") == "2024-01-14T20:50:01.123Z");
  CHECK(utc("2024-01-14 20:50:01") == "2024-01-14T20:50:01Z");
  CHECK(utc("2026-03-16T17:40:12.226+0000") == "2026-03-16T17:40:12.226Z");
  CHECK(utc("2026-03-16T00:40:12+0130") == "2026-03-15T23:10:12Z");   // across midnight
  CHECK(utc("2024-03-01T00:30:00+01:00") == "2024-02-29T23:30:00Z");  // leap day
  CHECK(utc("2024-12-31T23:30:00-02") == "2025-01-01T01:30:00Z");
  CHECK(utc("2024-01-14T20:50:01Z") == "2024-01-14T20:50:01Z");
  CHECK(utc("2024-01-14 20:50:01 +0000") == "2024-01-14T20:50:01Z");
  CHECK(utc("2024-01-14 20:50:01 UTC") == "2024-01-14T20:50:01Z");
  CHECK(utc("14/Jan/2024 20:50:01") == "2024-01-14T20:50:01Z");
  CHECK(utc("2024-13-14 20:50:01") == "none");
  CHECK(utc("2024-01-14 20:50") == "none");
  CHECK(utc("2024-01-14 20:50:01 CET") == "none");  // a zone name is not guessed
  auto with_s = [](std::string_view s) {
    auto t = logs::parse_with_format(s, "%s");
    return t ? t->utc() : std::string("none");
  };
  CHECK(logs::from_epoch(1669575482.0968924)->utc() == "2022-11-27T18:58:02.096892Z");
  CHECK(logs::from_epoch(1669575482096.0)->utc() == "2022-11-27T18:58:02.096Z");
  CHECK(logs::from_epoch(1669575482)->utc() == "2022-11-27T18:58:02Z");
  CHECK_FALSE(logs::from_epoch(1e300));  // past the year 5138 even as nanoseconds
  CHECK_FALSE(logs::from_epoch(-std::numeric_limits<double>::infinity()));
  CHECK(with_s("99999999999999999999") == "none");  // more digits than a time: not one
  CHECK(with_s("-") == "none");
  CHECK(with_s("-1") == "1969-12-31T23:59:59Z");

  auto with = [](std::string_view s, std::string_view f) {
    auto t = logs::parse_with_format(s, f);
    return t ? t->utc() : std::string("none");
  };
  CHECK(with("05.12.2026 01:16:03+0100", "%d.%m.%Y %H:%M:%S%z") == "2026-12-05T00:16:03Z");
  CHECK(with("Dec  5 01:16:03 2026", "%b %e %H:%M:%S %Y") == "2026-12-05T01:16:03Z");
  CHECK(with("1733357763", "%s") == "2024-12-05T00:16:03Z");
  CHECK(with("2026-12-05T01:16:03.5", "%Y-%m-%dT%H:%M:%S.%f") == "2026-12-05T01:16:03.5Z");
  CHECK(with("12/05/26 01:16:03 PM", "%D %I:%M:%S %p") == "2026-12-05T13:16:03Z");
  CHECK(with("2026-12-05 01:16", "%F %T") == "none");
  // %Z: a zone written by name, read as PostgreSQL's Default set reads it (PgBouncer, servers)
  CHECK(with("2023-12-19 03:06:13.586 CET", "%Y-%m-%d %H:%M:%S.%f %Z") ==
        "2023-12-19T02:06:13.586Z");
  CHECK(with("2024-07-01 12:00:00 EDT", "%Y-%m-%d %H:%M:%S %Z") == "2024-07-01T16:00:00Z");
  CHECK(with("2024-07-01 12:00:00 UTC", "%Y-%m-%d %H:%M:%S %Z") == "2024-07-01T12:00:00Z");
  CHECK(with("2024-07-01 12:00:00 XYZT", "%Y-%m-%d %H:%M:%S %Z") == "none");  // unknown
  CHECK(logs::unknown_conversion("%Y-%m-%d %Q") == std::optional<std::string>("%Q"));
  CHECK_FALSE(logs::unknown_conversion("%F %T.%L %z"));
}

TEST_CASE("real Python logging output: every formatter, its entries, times and tracebacks") {
  json expected = read_json(app_dir() / "expected_app.json");
  const std::map<std::string, std::pair<How, bool>> files = {
      // file -> reader, whether its times carry a zone
      {"python_default.log", {How::python, false}},
      {"python_dotted_ms.log", {How::python, false}},
      {"python_no_ms.log", {How::python, false}},
      {"python_offset.log", {How::python, true}},
      {"python_levelname_first.log", {How::python, false}},
      {"python_basic.log", {How::python, false}},
      {"python_padded.log", {How::python, false}},
      {"python_pid.log", {How::python, false}},
      {"python_pid_level_brackets.log", {How::python, false}},
      {"app.jsonl", {How::jsonl, true}},
  };
  REQUIRE(expected.size() == files.size() + 1);  // + custom.log, read with its format below
  for (const auto& [name, how] : files) {
    INFO(name);
    const json& want = expected.at(name);
    Read r = read_path(app_dir() / name, how.first);
    CHECK(r.errors == 0);
    CHECK(r.summary.unmatched == 0);
    CHECK(r.summary.events == want["events"].get<uint64_t>());
    CHECK(r.summary.tracebacks == want["tracebacks"].get<uint64_t>());
    auto rows = r.rows(
        "SELECT severity, coalesce(logger, ''), message, coalesce(ts, ''), "
        "traceback IS NOT NULL, coalesce(ts_written, '') FROM log_event ORDER BY line");
    REQUIRE(rows.size() == want["entries"].size());
    store::Statement st = r.store.prepare(
        "SELECT severity, logger, message, ts, traceback, ts_written, pid FROM log_event ORDER "
        "BY line");
    size_t i = 0;
    while (st.step()) {
      const json& e = want["entries"][i++];
      INFO("entry " << i);
      CHECK(st.get_text(0) == e["level"].get<std::string>());
      std::string message = st.get_text(2);
      CHECK(first_line(message) == e["message"].get<std::string>());
      bool has_logger = name != "python_levelname_first.log";
      if (has_logger) {
        CHECK(st.get_text(1) == e["logger"].get<std::string>());
      }
      bool has_time = name != "python_levelname_first.log" && name != "python_basic.log";
      if (has_time) {
        std::string second = how.second ? e["utc_second"] : e["local_second"];
        CHECK(st.get_text(3).substr(0, 19) == second);
        CHECK(st.get_text(3).back() == 'Z');
        CHECK_FALSE(st.get_text(5).empty());
      } else {
        CHECK(st.is_null(3));
      }
      CHECK(!st.is_null(4) == e["traceback"].get<bool>());
      if (e.contains("process")) {
        // A layout with [%(process)d]: the record's own process id, not a logger "[1234]".
        REQUIRE_FALSE(st.is_null(6));
        CHECK(st.get_int(6) == e["process"].get<int64_t>());
      }
      if (e["traceback"].get<bool>()) {
        // The exception the traceback ends with is part of the message.
        CHECK(message.find("\n" + e["exception"].get<std::string>()) != std::string::npos);
        CHECK(st.get_text(4).rfind("Traceback (most recent call last):", 0) == 0);
      }
    }
    st.reset();
    // A message of several lines keeps them (but no trailing blank line).
    CHECK(r.one("SELECT message FROM log_event WHERE message LIKE 'summary:%'") ==
          "summary:\n  teams: 4\n  failed: 2");
    CHECK(r.count("SELECT count(*) FROM log_event WHERE message LIKE 'Équipe « 87169 »%'") == 1);
    // The ETL's ids and counts are entities.
    CHECK(r.count("SELECT count(*) FROM log_entity WHERE kind = 'id' AND name = 'team' AND "
                  "value = '87168'") >= 2);
    CHECK(r.count("SELECT count(*) FROM log_entity WHERE kind = 'count' AND name = 'rows' AND "
                  "value = '41'") == 3);
  }
}

TEST_CASE("the user format file reads custom.log; the same format in every way") {
  json expected = read_json(app_dir() / "expected_app.json");
  auto formats = logs::load_format_file(app_dir() / "custom.format.json", "custom.format.json");
  REQUIRE(formats.size() == 1);
  CHECK(formats[0].name == "pipe_log");
  CHECK(logs::sniff_user_log(slurp(app_dir() / "custom.log"), formats) == 95);
  CHECK(logs::sniff_user_log(slurp(app_dir() / "python_default.log"), formats) == 0);
  CHECK(logs::sniff_python_log(slurp(app_dir() / "custom.log")) == 0);
  Read r = read_path(app_dir() / "custom.log", How::user, formats);
  const json& want = expected.at("custom.log");
  CHECK(r.errors == 0);
  CHECK(r.summary.unmatched == 0);
  CHECK(r.summary.events == want["events"].get<uint64_t>());
  CHECK(r.summary.tracebacks == want["tracebacks"].get<uint64_t>());
  store::Statement st = r.store.prepare(
      "SELECT severity, logger, message, ts, pid, format FROM log_event ORDER BY line");
  size_t i = 0;
  while (st.step()) {
    const json& e = want["entries"][i++];
    CHECK(st.get_text(0) == e["level"].get<std::string>());
    CHECK(st.get_text(1) == e["logger"].get<std::string>());
    CHECK(first_line(st.get_text(2)) == e["message"].get<std::string>());
    CHECK(st.get_text(3).substr(0, 19) == e["utc_second"].get<std::string>());  // +0100 applied
    CHECK_FALSE(st.is_null(4));
    CHECK(st.get_text(5) == "user:pipe_log");
  }
  st.reset();
  CHECK(i == want["events"].get<size_t>());

  // lnav's layout (formats keyed by name), PCRE's (?<name>) and RE2's (?P<name>) alike, and a
  // format without "body" capture, whose message is the whole line.
  TempDir dir;
  fs::path lnav = dir.write("lnav.json", R"({
    "$schema": "https://lnav.org/schemas/format-v1.schema.json",
    "pipe_log": {
      "title": "pipe", "description": "not used",
      "regex": {"std": {"pattern": "^(?P<timestamp>\\d{2}\\.\\d{2}\\.\\d{4} \\S+)\\|(?P<pid>\\d+)\\|(?P<level>\\w+)\\|(?<module>[^|]+)\\|(?<body>.*)$"}},
      "timestamp-format": ["%d.%m.%Y %H:%M:%S%z"],
      "value": {"pid": {"kind": "integer"}}
    }
  })");
  auto lnav_formats = logs::load_format_file(lnav, "lnav.json");
  REQUIRE(lnav_formats.size() == 1);
  Read r2 = read_path(app_dir() / "custom.log", How::user, lnav_formats);
  CHECK(r2.summary.events == r.summary.events);
  CHECK(r2.rows("SELECT ts, severity, logger, message FROM log_event ORDER BY line") ==
        r.rows("SELECT ts, severity, logger, message FROM log_event ORDER BY line"));

  fs::path nobody = dir.write("nobody.json", R"({"name": "n", "regex": {"main": {"pattern":
      "^(?P<timestamp>\\S+ \\S+)\\|"}}, "timestamp-format": ["%d.%m.%Y %H:%M:%S%z"]})");
  Read r3 =
      read_path(app_dir() / "custom.log", How::user, logs::load_format_file(nobody, "nobody.json"));
  CHECK(r3.summary.events == r.summary.events);
  CHECK(r3.one("SELECT message FROM log_event ORDER BY line LIMIT 1").rfind("05.12.2026", 0) == 0);
}

TEST_CASE("a format file that is wrong is an error naming the file and what is wrong") {
  TempDir dir;
  auto error_of = [&](const std::string& name, const std::string& text) -> std::string {
    fs::path p = dir.write(name, text);
    try {
      logs::load_format_file(p, name);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  };
  std::string e = error_of("bad_regex.json",
                           R"({"name": "x", "regex": {"main": {"pattern": "^(?P<body>.*$"}}})");
  CHECK(e.rfind("bad_regex.json: ", 0) == 0);
  CHECK(e.find("format \"x\", regex \"main\": not a valid RE2 pattern") != std::string::npos);
  CHECK(e.find("missing )") != std::string::npos);

  e = error_of("not_json.json", "{\n  \"name\": \"x\",\n  \"regex\": {\n}");
  CHECK(e.rfind("not_json.json:4: not JSON", 0) == 0);

  e = error_of("no_regex.json", R"({"name": "x", "regex": {}})");
  CHECK(e.find("no_regex.json: format \"x\": expected \"regex\"") == 0);

  e = error_of("bad_time.json", R"({"name": "x", "regex": {"m": {"pattern": "^(?P<body>.*)$"}},
                                    "timestamp-format": ["%Y-%m-%d %Q"]})");
  CHECK(e.find("bad_time.json: format \"x\": timestamp format \"%Y-%m-%d %Q\" uses %Q") == 0);

  e = error_of("sample.json", R"({"name": "x", "regex": {"m": {"pattern": "^\\d+ (?P<body>.*)$"}},
                                  "sample": [{"line": "12 ok"}, {"line": "no digits"}]})");
  CHECK(e.find("sample.json: format \"x\": sample 2 matches none of its patterns: no digits") == 0);

  e = error_of("array.json", "[]");
  CHECK(e.find("array.json: expected a JSON object") == 0);

  try {
    logs::load_format_file(dir.path() / "missing.json", "missing.json");
    FAIL("no error for a missing file");
  } catch (const InputError& err) {
    CHECK(std::string(err.what()).rfind("missing.json: cannot read", 0) == 0);
  }
}

TEST_CASE("Django's error log: the database error is in the message, with its SQLSTATE") {
  json expected = read_json(app_dir() / "expected_django.json");
  size_t failed = 0;
  for (const auto& req : expected["requests"]) {
    failed += req["status"].get<int>() >= 400;
  }
  REQUIRE(failed == 5);
  for (const char* name : {"django_error.log", "django_error_bare.log"}) {
    INFO(name);
    std::string head = slurp(app_dir() / name);
    CHECK(logs::sniff_python_log(head) > 0);
    CHECK(logs::sniff_json_lines(head) == 0);
    Read r = read_path(app_dir() / name, How::python);
    CHECK(r.errors == 0);
    CHECK(r.summary.unmatched == 0);
    CHECK(r.summary.events == failed);
    CHECK(r.summary.tracebacks == expected["raised"].size());
    // Each 500 in request order, with the exception Django raised and psycopg2's code.
    auto rows = r.rows(
        "SELECT message, coalesce(sqlstate, '') FROM log_event WHERE traceback IS NOT NULL "
        "ORDER BY line");
    REQUIRE(rows.size() == expected["raised"].size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const json& x = expected["raised"][i];
      std::string want = "Internal Server Error: " + x["path"].get<std::string>() + "\n" +
                         x["exception"].get<std::string>() + ": " +
                         x["message"].get<std::string>() + "|" + x["pgcode"].get<std::string>();
      CHECK(rows[i] == want);
    }
    CHECK(r.count("SELECT count(*) FROM log_event WHERE message = 'Not Found: /teams/424242/' "
                  "AND traceback IS NULL") == 1);
    // The missing relation and column are entities of their events.
    CHECK(r.count("SELECT count(DISTINCT event_id) FROM log_entity WHERE kind = 'relation' AND "
                  "value = 'user_profile_about_item'") == 2);
    CHECK(r.count("SELECT count(DISTINCT event_id) FROM log_entity WHERE kind = 'column' AND "
                  "name = 'teams_teammembership' AND value = 'left_at'") == 2);
    CHECK(r.count("SELECT count(*) FROM log_entity WHERE kind = 'sqlstate_class' AND value = "
                  "'42'") == 4);
  }
  Read verbose = read_path(app_dir() / "django_error.log", How::python);
  CHECK(verbose.summary.format ==
        "%(levelname)s %(asctime)s %(module)s %(process)d %(thread)d %(message)s");
  CHECK(verbose.count("SELECT count(*) FROM log_event WHERE logger = 'log' AND pid > 0 AND ts "
                      "LIKE '____-__-__T__:__:__.___Z'") == 5);
  CHECK(verbose.count("SELECT count(*) FROM log_event WHERE severity = 'ERROR'") == 4);
  CHECK(verbose.count("SELECT count(*) FROM log_event WHERE severity = 'WARNING'") == 1);
}

TEST_CASE("Airflow task logs: {file:line} is the location, warnings keep their source lines") {
  std::string text =
      "[2026-03-16T17:40:12.295+0000] {taskinstance.py:2884} INFO - Starting attempt 1 of 3\n"
      "[2026-03-16T17:40:12.743+0100] {warnings.py:109} WARNING - /opt/dags/etl.py:93: "
      "FutureWarning: Passing literal json\n"
      "  dim_customer = pd.read_json(x)\n"
      "\n"
      "[2026-03-16T17:40:12.817+0000] {taskinstance.py:3336} ERROR - Task failed with "
      "exception\n"
      "Traceback (most recent call last):\n"
      "  File \"/opt/etl_load.py\", line 47, in upsert_dataframe\n"
      "    stmt = pg_insert(table).values(records)\n"
      "sqlalchemy.exc.ArgumentError: subject table for an INSERT, UPDATE or DELETE expected, "
      "got 'dim_customer'.\n"
      "[2026-03-16T17:40:12.849+0000] {taskinstance.py:1242} INFO - Marking task as "
      "UP_FOR_RETRY.\n";
  CHECK(logs::detect_python_layout(text) ==
        "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s");
  CHECK(logs::sniff_python_log(text) == 85);
  Read r = read_text(text, How::python);
  CHECK(r.errors == 0);
  CHECK(r.rows("SELECT line, end_line, severity, location, ts FROM log_event ORDER BY line") ==
        std::vector<std::string>{"1|1|INFO|taskinstance.py:2884|2026-03-16T17:40:12.295Z",
                                 "2|4|WARNING|warnings.py:109|2026-03-16T16:40:12.743Z",
                                 "5|9|ERROR|taskinstance.py:3336|2026-03-16T17:40:12.817Z",
                                 "10|10|INFO|taskinstance.py:1242|2026-03-16T17:40:12.849Z"});
  CHECK(r.one("SELECT message FROM log_event WHERE line = 2") ==
        "/opt/dags/etl.py:93: FutureWarning: Passing literal json\n"
        "  dim_customer = pd.read_json(x)");
  CHECK(r.one("SELECT message FROM log_event WHERE line = 5") ==
        "Task failed with exception\nsqlalchemy.exc.ArgumentError: subject table for an "
        "INSERT, UPDATE or DELETE expected, got 'dim_customer'.");
  CHECK(r.one("SELECT ts_written FROM log_event WHERE line = 2") == "2026-03-16T17:40:12.743+0100");
}

TEST_CASE("lines of no entry are counted, the first ones reported with their line") {
  std::string text;
  for (int i = 1; i <= 7; ++i) {
    text += "garbage line " + std::to_string(i) + "\n";
  }
  text += "2024-01-14 20:50:01,123 INFO app.db: connected\n";
  text += "2024-01-14 20:50:02,123 ERROR app.db: lost\n";
  Read r = read_text(text, How::python);
  CHECK(r.summary.events == 2);
  CHECK(r.summary.unmatched == 7);
  CHECK(r.errors == 0);
  auto problems = r.rows("SELECT line, severity, code FROM problem ORDER BY id");
  REQUIRE(problems.size() == 6);
  CHECK(problems[0] == "1|warning|log-unmatched-line");
  CHECK(problems[4] == "5|warning|log-unmatched-line");
  CHECK(problems[5] == "9|warning|log-unmatched-lines");
  CHECK(r.one("SELECT message FROM problem ORDER BY id LIMIT 1") ==
        "line 1: a line before the first entry; expected a Python logging line "
        "(%(asctime)s %(levelname)s %(name)s: %(message)s); the line is not read");
  CHECK(r.one("SELECT message FROM problem ORDER BY id DESC LIMIT 1") ==
        "7 lines belong to no log entry (the first 5 are listed)");

  // Nothing at all: an error naming the first line, and no event.
  Read none = read_text("just some text\nand more\n", How::python);
  CHECK(none.summary.events == 0);
  CHECK(none.errors == 1);
  CHECK(none.one("SELECT message FROM problem WHERE severity = 'error'")
            .find("no line is a Python logging line") == 0);
  CHECK(none.one("SELECT message FROM problem WHERE severity = 'error'")
            .find("(first line: \"just some text\")") != std::string::npos);

  // JSON lines: a line that is no object, and an object without a message.
  Read j = read_text(
      "{\"time\": \"2024-01-14T20:50:01Z\", \"level\": \"info\", \"msg\": \"a\"}\n"
      "not json\n"
      "{\"time\": \"2024-01-14T20:50:02Z\", \"level\": \"info\"}\n"
      "\n"
      "{\"ts\": 1705265403.5, \"severity\": \"ERROR\", \"event\": \"b\", \"logger\": \"x\"}\n",
      How::jsonl);
  CHECK(j.summary.events == 2);
  CHECK(j.summary.unmatched == 2);
  CHECK(j.rows("SELECT line, severity, message, ts, coalesce(logger, '') FROM log_event ORDER BY "
               "line") == std::vector<std::string>{"1|info|a|2024-01-14T20:50:01Z|",
                                                   "5|ERROR|b|2024-01-14T20:50:03.500Z|x"});
  CHECK(j.rows("SELECT line, message FROM problem ORDER BY id") ==
        std::vector<std::string>{
            "2|line 2: not a JSON object; expected a JSON object with a message field; the line "
            "is not read",
            "3|line 3: a JSON object without a message field; expected a JSON object with a "
            "message field; the line is not read"});
}

TEST_CASE("invalid UTF-8 is kept as U+FFFD and reported; an overlong line is cut and reported") {
  std::string text = "2024-01-14 20:50:01,123 INFO app: caf\xE9 ok\n";
  Read r = read_text(text, How::python);
  CHECK(r.summary.events == 1);
  CHECK(r.one("SELECT message FROM log_event") == "caf\xEF\xBF\xBD ok");
  CHECK(r.one("SELECT line || '|' || byte_offset || '|' || severity FROM problem") ==
        "1|37|warning");

  std::string big = "2024-01-14 20:50:01,123 INFO app: start\n2024-01-14 20:50:02,123 INFO app: ";
  big.append(10u << 20, 'x');
  big += "\n2024-01-14 20:50:03,123 INFO app: after\n";
  Read b = read_text(big, How::python);
  CHECK(b.summary.events == 3);
  CHECK(b.errors == 1);
  CHECK(b.one("SELECT code FROM problem WHERE severity = 'error'") == "log-line-too-long");
  CHECK(b.one("SELECT message FROM log_event WHERE line = 3") == "after");
}

TEST_CASE("a gzip cut short: the entries before the damage are kept") {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text +=
        fmt::format("2024-01-14 20:50:{:02d},{:03d} INFO app.loop: step {}\n", i % 60, i % 1000, i);
  }
  TempDir dir;
  fs::path plain = dir.write("loop.log", text);
  REQUIRE(std::system(("gzip -k -n " + plain.string()).c_str()) == 0);
  std::string gz = slurp(plain.string() + ".gz");
  fs::path cut = dir.write("cut.log.gz", gz.substr(0, gz.size() / 2));
  Read r{store::Store::open_memory()};
  store::ArtifactFact a;
  a.path = "cut.log.gz";
  r.artifact = store::add_artifact(r.store, a);
  store::FactWriter writer(r.store, r.artifact);
  io::InputStream in(cut);
  CHECK_THROWS_AS(logs::read_python_log(in, writer), InputError);
  int64_t events = r.count("SELECT count(*) FROM log_event");
  CHECK(events > 100);
  CHECK(events < 2000);
  // What was read is exactly the start of the file.
  CHECK(r.one("SELECT message FROM log_event ORDER BY line DESC LIMIT 1")
            .rfind(fmt::format("step {}", events - 1), 0) == 0);
}

TEST_CASE("the sniffers leave PostgreSQL's logs, csvlogs, jsonlogs and Django's exports alone") {
  auto corpus = corpus_dir();
  if (!corpus) {
    if (require_all()) {
      FAIL("the shared corpus was not found (set DBAUTOPSY_CORPUS)");
    }
    WARN("skipped: the shared corpus was not found (set DBAUTOPSY_CORPUS)");
    return;
  }
  size_t seen = 0;
  for (const auto& entry : fs::recursive_directory_iterator(*corpus / "pg_logs")) {
    if (!entry.is_regular_file()) {
      continue;
    }
    INFO(entry.path().string());
    io::Head head = io::read_head(entry.path());
    CHECK(logs::sniff_python_log(head.bytes) == 0);
    CHECK(logs::sniff_json_lines(head.bytes) == 0);
    ++seen;
  }
  CHECK(seen >= 30);
  size_t django = 0;
  for (const auto& entry : fs::recursive_directory_iterator(*corpus / "django_migrations")) {
    if (!entry.is_regular_file()) {
      continue;
    }
    INFO(entry.path().string());
    io::Head head = io::read_head(entry.path());
    CHECK(logs::sniff_python_log(head.bytes) == 0);
    CHECK(logs::sniff_json_lines(head.bytes) == 0);
    ++django;
  }
  CHECK(django > 10);
  // PostgreSQL 15's stderr with the default and Debian's prefixes, written here as the
  // server writes them: a Python level (ERROR, WARNING) after the prefix is not enough.
  std::string stderr_log =
      "2024-01-01 10:00:00.123 UTC [123] LOG:  database system is ready\n"
      "2024-01-01 10:00:01.123 UTC [124] ERROR:  relation \"x\" does not exist at character 15\n"
      "2024-01-01 10:00:01.123 UTC [124] STATEMENT:  select * from x;\n"
      "2024-01-01 10:00:02.123 UTC [125] postgres@db WARNING:  there is no transaction\n";
  CHECK(logs::sniff_python_log(stderr_log) == 0);
}

TEST_CASE("JSON lines: a numeric time past the year 5138 is a bad time, not a crash") {
  // 1e300 seconds stays 1e291 after the nanosecond scaling; casting it to int64_t was
  // undefined behaviour.
  Read r = read_text(
      "{\"ts\": 1e300, \"level\": \"info\", \"msg\": \"a\"}\n"
      "{\"ts\": 1705265401.5, \"level\": \"info\", \"msg\": \"b\"}\n",
      How::jsonl);
  CHECK(r.rows("SELECT message, coalesce(ts, 'NULL'), ts_written FROM log_event ORDER BY line") ==
        std::vector<std::string>{"a|NULL|1e+300", "b|2024-01-14T20:50:01.500Z|1705265401.5"});
  CHECK(r.one("SELECT code FROM problem") == "log-timestamp");
}

TEST_CASE("JSON lines with a format file's field names, and the built-in names") {
  TempDir dir;
  fs::path fmtfile = dir.write("fields.json", R"({"name": "zap", "json": true,
      "timestamp-field": "when", "level-field": "lvl", "body-field": "text",
      "logger-field": "component", "timestamp-format": ["%Y/%m/%d %H:%M:%S"]})");
  auto formats = logs::load_format_file(fmtfile, "fields.json");
  std::string text =
      "{\"when\": \"2024/01/14 20:50:01\", \"lvl\": \"warn\", \"text\": \"team 87169 kept\", "
      "\"component\": \"etl\"}\n"
      "{\"when\": \"14.01.2024\", \"lvl\": \"error\", \"text\": \"relation \\\"t_x\\\" does not "
      "exist\", \"component\": \"etl\"}\n";
  CHECK(logs::sniff_user_log(text, formats) == 95);
  CHECK(logs::sniff_json_lines(text) == 0);  // no common names: not for the built-in reader
  Read r = read_text(text, How::user, formats);
  CHECK(r.rows("SELECT severity, message, coalesce(ts, 'NULL'), ts_written, logger, format FROM "
               "log_event ORDER BY line") ==
        std::vector<std::string>{
            "warn|team 87169 kept|2024-01-14T20:50:01Z|2024/01/14 20:50:01|etl|json:zap",
            "error|relation \"t_x\" does not exist|NULL|14.01.2024|etl|json:zap"});
  CHECK(r.one("SELECT code FROM problem") == "log-timestamp");
  CHECK(r.count("SELECT count(*) FROM log_entity WHERE kind = 'relation' AND value = 't_x'") == 1);

  // python-json-logger's and structlog's names; a traceback field is a traceback.
  Read b = read_text(
      "{\"asctime\": \"2024-01-14 20:50:01,5\", \"levelname\": \"ERROR\", \"name\": \"app\", "
      "\"message\": \"boom\", \"exc_info\": \"Traceback (most recent call last):\\n  File "
      "\\\"x.py\\\", line 1, in <module>\\npsycopg2.errors.UndefinedTable: relation \\\"t\\\" "
      "does not exist\"}\n",
      How::jsonl);
  CHECK(b.rows("SELECT severity, logger, message, sqlstate, ts FROM log_event") ==
        std::vector<std::string>{"ERROR|app|boom\npsycopg2.errors.UndefinedTable: relation "
                                 "\"t\" does not exist|42P01|2024-01-14T20:50:01.5Z"});
}
