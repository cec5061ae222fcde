// What the HTML report shows beyond the JSON contract, read from the fact store: the
// `timeline` view (migrations recorded, log entries per template and hour, dumps taken), the
// message templates of the log entries each cause's findings cite, the inputs' defects and
// the versions their pg_dump headers name.

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

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

// The templates of a log's entries at a line, found without an index on lines: within a log
// the entries' ids follow its lines (log_span), so a binary search over the ids finds them.
// A log whose ids are not all its own (or whose entry is not found that way) is searched
// entry by entry, as SQL would.
class LogEntryFinder {
 public:
  explicit LogEntryFinder(store::Store& store)
      : m_spans(store.prepare("SELECT first_id, last_id, entries FROM log_span "
                              "WHERE artifact_id = ?1 ORDER BY first_id")),
        m_at(store.prepare("SELECT artifact_id, line FROM log_event_row WHERE id = ?1")),
        m_template(
            store.prepare("SELECT t.template FROM log_event_row e JOIN log_template t ON t.hash = "
                          "e.template_hash WHERE e.id = ?1")),
        m_scan(store.prepare(
            "SELECT DISTINCT t.template FROM log_event_row e JOIN log_template t ON t.hash = "
            "e.template_hash WHERE e.artifact_id = ?1 AND e.line = ?2 ORDER BY 1")) {}

  std::vector<std::string> templates_at(int64_t artifact, int64_t line) {
    std::vector<std::string> out;
    m_spans.bind(1, artifact);
    std::vector<std::pair<int64_t, int64_t>> spans;
    bool whole = true;
    while (m_spans.step()) {
      int64_t first = m_spans.get_int(0), last = m_spans.get_int(1);
      whole = whole && m_spans.get_int(2) == last - first + 1;
      spans.emplace_back(first, last);
    }
    m_spans.reset();
    for (auto [lo, hi] : spans) {
      if (!whole) {
        break;
      }
      // The first id whose line is at least `line`, then every entry at that line.
      while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (line_of(artifact, mid).value_or(line) < line) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      for (int64_t id = lo; line_of(artifact, id) == line; ++id) {
        m_template.bind(1, id);
        if (m_template.step()) {
          out.push_back(m_template.get_text(0));
        }
        m_template.reset();
      }
    }
    if (out.empty()) {
      m_scan.bind(1, artifact);
      m_scan.bind(2, line);
      while (m_scan.step()) {
        out.push_back(m_scan.get_text(0));
      }
      m_scan.reset();
    }
    return out;
  }

 private:
  // The line of the entry with this id, if it is one of this artifact's.
  std::optional<int64_t> line_of(int64_t artifact, int64_t id) {
    m_at.bind(1, id);
    std::optional<int64_t> line;
    if (m_at.step() && m_at.get_int(0) == artifact) {
      line = m_at.get_int(1);
    }
    m_at.reset();
    return line;
  }

  store::Statement m_spans, m_at, m_template, m_scan;
};

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
        "SELECT DISTINCT f.cause_id, a.path, a.id, "
        "CAST(json_extract(j.value, '$.line') AS INTEGER) AS line FROM finding f, "
        "json_each(CASE WHEN json_valid(f.evidence) THEN f.evidence ELSE '[]' END) j "
        "JOIN artifact a ON a.path = CASE WHEN j.type = 'object' "
        "THEN json_extract(j.value, '$.artifact') END "
        "WHERE f.rule LIKE 'log.%' AND f.cause_id IS NOT NULL "
        "AND j.type = 'object' AND json_type(j.value, '$.line') IN ('integer', 'real') "
        "AND CAST(json_extract(j.value, '$.line') AS INTEGER) = json_extract(j.value, '$.line')");
    LogEntryFinder finder(store);
    std::set<std::tuple<int64_t, std::string, std::string>> cited;  // cause, path, template
    while (st.step()) {
      for (auto& t : finder.templates_at(st.get_int(2), st.get_int(3))) {
        cited.emplace(st.get_int(0), st.get_text(1), std::move(t));
      }
    }
    for (const auto& [cause, path, templ] : cited) {
      if (auto it = by_id.find(fmt::format("C{}", cause)); it != by_id.end()) {
        it->second->log_templates.push_back(LogTemplate{path, templ});
      }
    }
  }
}

}  // namespace dbautopsy::reports
