// Reports read only findings, causes and facts (never artifacts), and render them:
//   text      for a terminal, grouped by cause; colour only when told (a TTY)
//   json      the output contract: {tool, version, inputs, findings, causes}
//   markdown  for an incident report
//   sql       the repair script: every finding's repair, grouped by cause, never run
//   sarif     SARIF 2.1.0 for code-scanning tools: rules with their docs, results, locations
//   html      one self-contained page for a customer or a ticket: summary, causes with their
//             timeline charts, evidence and repairs, inputs (no network, inline CSS/JS/SVG)
// Findings are numbered F1, F2, ... in report order (by cause, then rule, then subject);
// causes C1, C2, ... by severity.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace dbautopsy::reports {

struct Evidence {
  std::string artifact;
  std::optional<int64_t> line;
  std::string text;
};

struct Finding {
  std::string id;  // F1
  std::string rule, severity, message;
  // The nine subject keys of the contract, in contract order, then `database` (the database
  // of a multi-database input); nullopt is JSON null.
  std::vector<std::pair<std::string, std::optional<std::string>>> subject;
  std::vector<Evidence> evidence;
  std::optional<nlohmann::ordered_json> metrics;
  std::optional<std::string> repair;
  std::string cause;  // C1
};

// A row of the store's `timeline` view: a migration recorded, the log entries of one message
// template in one hour, a dump taken.
struct TimelineEvent {
  std::string ts;    // UTC, ISO 8601
  std::string kind;  // migration, log, dump
  std::string what;  // app.name; "SEVERITY: template"; "dump taken: path"
  int64_t count = 1;
  std::optional<std::string> last_ts;
  std::string artifact;
  std::optional<int64_t> line;
};

// A defect of an input (the store's `problem` table), error or warning.
struct Problem {
  std::string artifact;
  std::optional<int64_t> line;
  std::string severity, code, message;
};

// What a cause concerns on the timeline: the message templates of the log entries its
// findings cite, by artifact.
struct LogTemplate {
  std::string artifact, what;
};

struct Cause {
  std::string id, kind, summary, narrative, severity;
  int database = -1;  // index in Report::databases when there are several, else -1
  std::optional<std::string> repair;
  std::vector<Evidence> evidence;
  std::vector<std::string> findings;
  std::vector<LogTemplate> log_templates;
};

struct Input {
  std::string path, kind, sha256, codec, status;
  std::optional<std::string> detail;
  int64_t problems = 0;
  // From a pg_dump header: the server it dumped ("dumped_from") and the pg_dump that did.
  std::optional<std::string> dumped_from, dumped_by;
};

// A database the dumps show, and why its dumps were taken as one database.
struct Database {
  std::optional<std::string> name;  // as the dump names it (pg_dumpall), else nullopt
  std::string label;                // the name, else its dumps' paths
  std::vector<std::string> dumps;
  std::string grouped_by;
};

struct Report {
  std::string version;
  std::string title;  // the case folder or store
  std::vector<Input> inputs;
  std::vector<Cause> causes;
  std::vector<Finding> findings;
  std::vector<std::string> notes;
  std::vector<Database> databases;  // each analysed on its own
  // For the HTML report (not part of the JSON contract):
  std::vector<TimelineEvent> timeline;  // ordered by time
  std::vector<Problem> problems;        // the first k_problems_listed, by artifact and line
  int64_t problem_count = 0;            // all of them
  static constexpr int64_t k_problems_listed = 200;
};

Report load_report(store::Store& store, const std::string& version, const std::string& title);

// The report as it may be shown: every name, path, message and note that comes from the
// inputs passed through text::printable (no newline, terminal escape sequence, other control
// or bidirectional override left to act on a terminal or a document). Repairs (SQL, quoted as
// PostgreSQL quotes) and database names (used in \connect) are left as they are; a renderer
// escapes each line of a repair it shows. JSON escapes itself and needs none of this.
Report displayable(const Report& report);

void write_json(std::ostream& out, const Report& report);
void write_text(std::ostream& out, const Report& report, bool colour, bool verbose);
void write_markdown(std::ostream& out, const Report& report);
void write_repair_script(std::ostream& out, const Report& report);

// The HTML report. Every string from the inputs is escaped, control characters shown.
void write_html(std::ostream& out, const Report& report);

// Reads what only the HTML report shows (timeline, problems, dump versions) into a report
// load_report has filled; load_report calls it.
void load_report_context(store::Store& store, Report& report);

// verify.sql: per finding whose repair is SQL, a SELECT that returns a row while the fault is
// still there (none once repair.sql held).
void write_verify_script(std::ostream& out, const Report& report);

// What SARIF says of a rule (the rules layer knows them; reports does not depend on it).
struct RuleDoc {
  std::string id, severity, title, rationale, remedy, doc;
};
void write_sarif(std::ostream& out, const Report& report, const std::vector<RuleDoc>& rules);

// The table object a finding is about, as reports name it: schema.table[.column][ index I]
// [ constraint C][ row R]; empty when its subject names no table.
std::string table_object_text(const Finding& f);

// The argument of psql's \connect for a database name, as pg_dumpall writes it: the name
// itself when it is plain, else a quoted connection string naming it.
std::string psql_connect_arg(const std::string& name);

// The number of findings at or above a severity (error > warning > info).
int count_at_least(const Report& report, const std::string& severity);

}  // namespace dbautopsy::reports
