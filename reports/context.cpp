// What the HTML report shows beyond the JSON contract, read from the fact store: the
// `timeline` view (migrations recorded, log entries per template and hour, dumps taken), the
// message templates of the log entries each cause's findings cite, the inputs' defects and
// the versions their pg_dump headers name.

#include <fmt/format.h>

#include <map>

#include "base/error.hpp"
#include "base/time.hpp"
#include "reports/report.hpp"

namespace dbautopsy::reports {

namespace {

// The `timeline` view calls utc_time(), which the rules layer registers when it analyses; a
// store opened only to report has not had it. Same definition (timeutil::to_iso_utc).
void utc_time(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  auto iso = text ? timeutil::to_iso_utc(text, true) : std::nullopt;
  if (iso) {
    sqlite3_result_text(ctx, iso->data(), static_cast<int>(iso->size()), SQLITE_TRANSIENT);
  } else {
    sqlite3_result_null(ctx);
  }
}

}  // namespace

void load_report_context(store::Store& store, Report& report) {
  if (sqlite3_create_function(store.handle(), "utc_time", 1,
                              SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                              utc_time, nullptr, nullptr) != SQLITE_OK) {
    throw Error("cannot register SQL function utc_time");
  }
  {
    std::map<std::string, Input*> by_path;
    for (auto& in : report.inputs) {
      by_path[in.path] = &in;
    }
    store::Statement st = store.prepare(
        "SELECT path, dumped_from, dumped_by FROM artifact "
        "WHERE dumped_from IS NOT NULL OR dumped_by IS NOT NULL");
    while (st.step()) {
      if (auto it = by_path.find(st.get_text(0)); it != by_path.end()) {
        it->second->dumped_from = st.get_optional_text(1);
        it->second->dumped_by = st.get_optional_text(2);
      }
    }
  }
  {
    store::Statement st = store.prepare(
        "SELECT ts, kind, what, count, last_ts, artifact, line FROM timeline "
        "WHERE ts IS NOT NULL ORDER BY ts, kind, artifact, line");
    while (st.step()) {
      report.timeline.push_back(TimelineEvent{st.get_text(0), st.get_text(1), st.get_text(2),
                                              st.get_int(3), st.get_optional_text(4),
                                              st.get_text(5), st.get_optional_int(6)});
    }
  }
  {
    report.problem_count =
        store.scalar_int("SELECT count(*) FROM problem WHERE severity <> 'notice'");
    store::Statement st = store.prepare(
        fmt::format("SELECT a.path, p.line, p.severity, p.code, p.message FROM problem p "
                    "JOIN artifact a ON a.id = p.artifact_id WHERE p.severity <> 'notice' "
                    "ORDER BY a.path, p.line IS NULL, p.line, p.id LIMIT {}",
                    Report::k_problems_listed));
    while (st.step()) {
      report.problems.push_back(Problem{st.get_text(0), st.get_optional_int(1), st.get_text(2),
                                        st.get_text(3), st.get_text(4)});
    }
  }
  {
    // The log entries a cause's log findings cite as evidence, by message template: the
    // timeline rows of those templates are what the cause's chart shows of the logs.
    std::map<std::string, Cause*> by_id;
    for (auto& c : report.causes) {
      by_id[c.id] = &c;
    }
    store::Statement st = store.prepare(
        "SELECT DISTINCT f.cause_id, a.path, e.template FROM finding f, "
        "json_each(CASE WHEN json_valid(f.evidence) THEN f.evidence ELSE '[]' END) j "
        "JOIN artifact a ON a.path = CASE WHEN j.type = 'object' "
        "THEN json_extract(j.value, '$.artifact') END "
        "JOIN log_event e ON e.artifact_id = a.id "
        "AND e.line = CASE WHEN j.type = 'object' THEN json_extract(j.value, '$.line') END "
        "WHERE f.rule LIKE 'log.%' AND f.cause_id IS NOT NULL "
        "AND e.template IS NOT NULL ORDER BY f.cause_id, a.path, e.template");
    while (st.step()) {
      if (auto it = by_id.find(fmt::format("C{}", st.get_int(0))); it != by_id.end()) {
        it->second->log_templates.push_back(LogTemplate{st.get_text(1), st.get_text(2)});
      }
    }
  }
}

}  // namespace dbautopsy::reports
