// What a log's load writes besides its entries (src/store/facts.cpp): log_hour, which the
// timeline reads instead of grouping every entry, and log_span, through which the report
// finds the entries a finding cites. Both are checked against SQL over the entries themselves.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <tuple>

#include "reports/report.hpp"
#include "store/facts.hpp"
#include "support.hpp"

using namespace dbautopsy;

namespace {

int64_t add_log(store::Store& s, const std::string& path) {
  store::ArtifactFact a;
  a.path = path;
  a.kind = "app-log";
  return store::add_artifact(s, a);
}

// An entry of one of four templates (one without any), at a time among a few hours (or none),
// with a severity or none.
store::LogEventFact random_entry(std::mt19937_64& rng, int64_t line) {
  store::LogEventFact e;
  e.line = e.end_line = line;
  e.format = "python";
  e.message = fmt::format("message {}", line);
  static const char* const k_severities[] = {"ERROR", "INFO", "WARNING"};
  if (rng() % 4 != 0) {
    e.severity = k_severities[rng() % 3];
  }
  if (rng() % 5 != 0) {
    e.ts = fmt::format("2026-01-0{}T{:02}:{:02}:{:02}.{:03}Z", 1 + rng() % 2, rng() % 3, rng() % 60,
                       rng() % 60, rng() % 1000);
  }
  if (auto t = rng() % 4; t != 0) {
    e.template_text = fmt::format("template {}", t);
    e.template_hash = fmt::format("{:016x}", t);
  }
  return e;
}

using HourRow = std::tuple<int64_t, std::string, std::string, std::string, std::string, std::string,
                           int64_t, int64_t>;

std::vector<HourRow> rows_of(store::Store& s, const std::string& sql) {
  std::vector<HourRow> out;
  store::Statement st = s.prepare(sql);
  while (st.step()) {
    auto opt = [&](int i) { return st.is_null(i) ? std::string("(null)") : st.get_text(i); };
    out.emplace_back(st.get_int(0), opt(1), st.get_text(2), st.get_text(3), st.get_text(4), opt(5),
                     st.get_int(6), st.get_int(7));
  }
  return out;
}

}  // namespace

TEST_CASE("log_hour holds what grouping the entries per template and hour gives") {
  store::Store s = store::Store::open_memory();
  std::mt19937_64 rng(20261206);
  for (const char* path : {"app.log", "etl.log"}) {
    store::FactWriter writer(s, add_log(s, path));
    for (int64_t line = 1; line <= 3000; ++line) {
      writer.add(random_entry(rng, line));
    }
    writer.finish_logs();
  }
  auto expected = rows_of(
      s,
      "SELECT artifact_id, template_hash, substr(ts, 1, 13), min(ts), max(ts), min(severity), "
      "count(*), min(line) FROM log_event_row WHERE ts IS NOT NULL "
      "GROUP BY artifact_id, template_hash, substr(ts, 1, 13) ORDER BY 1, 2, 3");
  auto got = rows_of(s,
                     "SELECT artifact_id, template_hash, hour, first_ts, last_ts, severity, "
                     "entries, first_line FROM log_hour ORDER BY 1, 2, 3");
  REQUIRE(expected.size() > 20);
  CHECK(got == expected);
  // Every entry with a time is counted once.
  CHECK(s.scalar_int("SELECT sum(entries) FROM log_hour") ==
        s.scalar_int("SELECT count(*) FROM log_event_row WHERE ts IS NOT NULL"));
  CHECK(s.scalar_int("SELECT count(*) FROM log_span") == 2);
}

TEST_CASE("the report finds the entries log findings cite, whether a log's ids are its own") {
  store::Store s = store::Store::open_memory();
  std::mt19937_64 rng(7);
  // app.log's entries are stored alone; etl.log's and cron.log's alternate, so neither has
  // all the ids of its span (the report then searches them entry by entry).
  int64_t app = add_log(s, "app.log");
  int64_t etl = add_log(s, "etl.log");
  int64_t cron = add_log(s, "cron.log");
  {
    store::FactWriter writer(s, app);
    for (int64_t line = 1; line <= 999; line += 2) {  // odd lines only
      writer.add(random_entry(rng, line));
    }
    writer.finish_logs();
  }
  {
    store::FactWriter a(s, etl);
    store::FactWriter b(s, cron);
    for (int64_t line = 1; line <= 300; ++line) {
      a.add(random_entry(rng, line));
      b.add(random_entry(rng, line));
    }
    a.finish_logs();
    b.finish_logs();
  }
  CHECK(s.scalar_int("SELECT count(*) FROM log_span WHERE entries = last_id - first_id + 1") == 1);
  s.exec(
      "INSERT INTO analysis(analysed_at, rules, findings) VALUES ('2026-12-06T00:00:00Z', 1, 3)");
  s.exec(
      "INSERT INTO cause(id, kind, summary, narrative) VALUES (1, 'k', 's', 'n'), "
      "(2, 'k', 's', 'n')");
  // Cited lines: first, last, middle, missing (an even line of app.log, a line past the end),
  // a line of each interleaved log, and lines written as a real number or as text.
  s.exec(R"(INSERT INTO finding(rule, severity, message, cause_id, evidence) VALUES
    ('log.etl-failure', 'error', 'm', 1,
     '[{"artifact":"app.log","line":1},{"artifact":"app.log","line":999},
       {"artifact":"app.log","line":501},{"artifact":"app.log","line":500},
       {"artifact":"app.log","line":5000},{"artifact":"etl.log","line":150},
       {"artifact":"cron.log","line":300},{"artifact":"app.log","line":77.0},
       {"artifact":"app.log","line":"79"},{"artifact":"app.log"},"text"]'),
    ('log.repeated-batch', 'warning', 'm', 2,
     '[{"artifact":"cron.log","line":1},{"artifact":"nowhere.log","line":1}]'),
    ('drift.table-missing', 'error', 'm', 2, '[{"artifact":"app.log","line":3}]'))");
  reports::Report report = reports::load_report(s, "test", "test");
  std::set<std::tuple<std::string, std::string, std::string>> got;
  for (const auto& c : report.causes) {
    for (const auto& t : c.log_templates) {
      got.emplace(c.id, t.artifact, t.what);
    }
  }
  // What the cited entries' templates are, by SQL over every entry.
  std::set<std::tuple<std::string, std::string, std::string>> expected;
  store::Statement st = s.prepare(R"(
    SELECT 'C' || f.cause_id, a.path, t.template
      FROM finding f, json_each(f.evidence) j
      JOIN artifact a ON a.path = json_extract(j.value, '$.artifact')
      JOIN log_event_row e ON e.artifact_id = a.id AND e.line = json_extract(j.value, '$.line')
      JOIN log_template t ON t.hash = e.template_hash
     WHERE f.rule LIKE 'log.%' AND j.type = 'object'
       AND json_type(j.value, '$.line') IN ('integer', 'real'))");
  while (st.step()) {
    expected.emplace(st.get_text(0), st.get_text(1), st.get_text(2));
  }
  REQUIRE(expected.size() >= 3);
  CHECK(got == expected);
}
