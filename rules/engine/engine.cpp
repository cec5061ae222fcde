#include "rules/engine/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/timing.hpp"
#include "rules/engine/options.hpp"
#include "rules/engine/sql_functions.hpp"

namespace dbautopsy::rules {

namespace {

// The subject keys of the JSON contract, in its order.
constexpr const char* k_subject_keys[] = {"schema", "table",      "column",
                                          "index",  "constraint", "migration",
                                          "row_id", "value",      "suggested_value"};

void run_rule(store::Store& store, const Rule& rule) {
  // A rule only reads the facts (a rule of --rules-dir is anyone's): ATTACH, writes and
  // pragmas that set a value are refused before it runs. Its findings are written below.
  store::Statement st = store.prepare_read_only(rule.sql, "its SQL");
  if (timing::enabled()) {
    timing::phase("prepare " + rule.id);
  }
  std::map<std::string, int> columns;
  for (int i = 0; i < st.column_count(); ++i) {
    std::string name = st.column_name(i);
    if (name.rfind("subject_", 0) == 0) {
      name = name.substr(8);
    }
    columns[name] = i;
  }
  if (!columns.count("message")) {
    throw Error(
        fmt::format("rule {} ({}): its SELECT has no `message` column", rule.id, rule.origin));
  }
  auto text = [&](const char* name) -> std::optional<std::string> {
    auto it = columns.find(name);
    if (it == columns.end() || st.is_null(it->second)) {
      return std::nullopt;
    }
    return st.get_text(it->second);
  };
  store::Statement insert = store.prepare(
      "INSERT INTO finding(rule, severity, subject_schema, subject_table, subject_column, "
      "subject_index, subject_constraint, subject_migration, subject_row_id, subject_value, "
      "subject_suggested_value, message, evidence, metrics, repair, cause_key) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
  std::set<std::vector<std::optional<std::string>>> seen;
  while (st.step()) {
    std::vector<std::optional<std::string>> subject;
    for (const char* key : k_subject_keys) {
      subject.push_back(text(key));
    }
    if (!seen.insert(subject).second) {
      continue;  // one finding per subject, even if the SELECT yields it twice
    }
    insert.bind(1, rule.id);
    insert.bind(2, rule.severity);
    for (size_t i = 0; i < subject.size(); ++i) {
      insert.bind(static_cast<int>(i) + 3, subject[i]);
    }
    insert.bind(12, text("message").value_or(""));
    insert.bind(13, text("evidence"));
    insert.bind(14, text("metrics"));
    insert.bind(15, text("repair"));
    insert.bind(16, text("cause_key"));
    while (insert.step()) {
    }
    insert.reset();
  }
  if (timing::enabled()) {
    timing::phase("run " + rule.id);
  }
}

}  // namespace

namespace {
void analyze_one(store::Store& store, const std::vector<OptionRow>& option_rows,
                 const std::vector<Rule>& rules, const Subject* scope, AnalyzeSummary& summary);

// With several databases, the log entries that name none but say an object does not exist
// which one database has and another lacks are not that database's, nor an error about a
// column of a table a database does not have (log_event_elsewhere):
// each database's snapshot is derived once more, before the analyses, to tell.
void place_log_events(store::Store& store, const AnalyzeOptions& options,
                      const std::vector<Subject>& subjects) {
  store.exec("DELETE FROM log_event_elsewhere");
  if (subjects.size() < 2 ||
      !store.prepare("SELECT 1 FROM log_missing_object WHERE database_name IS NULL LIMIT 1")
           .step()) {
    return;
  }
  store::Statement analysing = store.prepare("UPDATE subject SET analysing = (id = ?1)");
  store::Statement visible = store.prepare(
      "INSERT OR IGNORE INTO log_event_elsewhere(event_id, subject_id) "
      "SELECT n.id, ?1 FROM log_missing_object n "
      " WHERE n.database_name IS NULL AND n.table_name IS NOT NULL "
      "   AND CASE n.what WHEN 'relation' THEN "
      "         EXISTS (SELECT 1 FROM current_relation c WHERE c.name = n.table_name "
      "                    AND c.schema_name = coalesce(n.schema_name, ?2)) "
      "       ELSE EXISTS (SELECT 1 FROM current_column c WHERE c.name = n.column_name "
      "                       AND c.table_name = n.table_name "
      "                       AND c.schema_name = coalesce(n.schema_name, ?2)) "
      // A database without the table: there the statement would have failed on the
      // relation, not on its column.
      "         OR NOT EXISTS (SELECT 1 FROM current_relation c WHERE c.name = n.table_name "
      "                          AND c.schema_name = coalesce(n.schema_name, ?2)) END");
  for (const Subject& subject : subjects) {
    analysing.run(subject.id);
    DeriveSummary derived = derive(store, options.derive, &subject);
    visible.run(subject.id, derived.default_schema);
  }
  // Found in every database: it may have come from any of them.
  store.exec(
      "DELETE FROM log_event_elsewhere WHERE event_id IN (SELECT event_id FROM "
      "log_event_elsewhere GROUP BY event_id HAVING count(*) >= (SELECT count(*) FROM subject))");
  store.exec("UPDATE subject SET analysing = 0");
  timing::phase("analyze: log entries placed");
}

// With several databases, an entry of a log that names none (an ETL's or an application's
// log) is in the scope of each, so an ETL failure or a batch loop it shows is found once per
// database, from the same entries. Where one database ties such a finding to a finding of its
// own (the ids the ETL remapped, the table the loop duplicated), the log was of that
// database's job: the copies that stand alone elsewhere (a cause of log findings only) are
// removed, with their causes. Copies are findings of the same rule, subject (but for the
// database each was found in), metrics and evidence: the same entries. A finding tied
// nowhere, or in several databases, stays in each. Errors about missing objects are left as
// they are: whether an entry that names no database came from one is what the object's
// presence tells (place_log_events), and each database lacking it may have logged some.
// Returns how many causes went.
int drop_lone_log_copies(store::Store& store) {
  store.exec(
      "CREATE TEMP TABLE IF NOT EXISTS lone_log_copy(id INTEGER PRIMARY KEY, cause_id INTEGER)");
  store.exec("DELETE FROM lone_log_copy");
  store.exec(R"(
    WITH copy AS MATERIALIZED (
      SELECT f.*, c.subject_id,
             EXISTS (SELECT 1 FROM finding o
                      WHERE o.cause_id = f.cause_id AND o.rule NOT LIKE 'log.%') AS tied
        FROM finding f JOIN cause c ON c.id = f.cause_id
       WHERE f.rule IN ('log.etl-failure', 'log.repeated-batch'))
    INSERT INTO lone_log_copy(id, cause_id)
    SELECT a.id, a.cause_id FROM copy a
     WHERE NOT a.tied
       AND EXISTS (SELECT 1 FROM copy b
                    WHERE b.tied AND b.subject_id IS NOT a.subject_id AND b.rule = a.rule
                      AND (b.subject_schema, b.subject_table, b.subject_column, b.subject_index,
                           b.subject_constraint, b.subject_migration, b.subject_row_id,
                           b.subject_value, b.subject_suggested_value, b.metrics, b.evidence)
                       IS (a.subject_schema, a.subject_table, a.subject_column, a.subject_index,
                           a.subject_constraint, a.subject_migration, a.subject_row_id,
                           a.subject_value, a.subject_suggested_value, a.metrics, a.evidence)))");
  store.exec("DELETE FROM finding WHERE id IN (SELECT id FROM lone_log_copy)");
  const std::string empty =
      "FROM cause WHERE id IN (SELECT cause_id FROM lone_log_copy) "
      "AND NOT EXISTS (SELECT 1 FROM finding f WHERE f.cause_id = cause.id)";
  auto causes = static_cast<int>(store.scalar_int("SELECT count(*) " + empty));
  store.exec("DELETE " + empty);
  timing::phase("analyze: lone log copies dropped");
  return causes;
}

}  // namespace

std::vector<Rule> all_rules(const AnalyzeOptions& options) {
  std::vector<Rule> rules = builtin_rules();
  for (const auto& r : options.extra_rules) {
    if (find_rule(rules, r.id)) {
      throw Error(fmt::format("rule {} from {} has the id of a built-in rule", r.id, r.origin));
    }
    rules.push_back(r);
  }
  return rules;
}

AnalyzeSummary analyze(store::Store& store, const AnalyzeOptions& options) {
  AnalyzeSummary summary;
  store.set_cache_mib(store::Store::k_read_cache_mib);
  std::vector<Rule> rules = all_rules(options);
  // Read (and refused when wrong) before anything is derived.
  const std::vector<OptionRow> option_rows =
      resolve_rule_options(store, rules, options.options, summary.derived.notes);
  register_sql_functions(store);
  std::vector<Subject> subjects;
  {
    store::Store::Transaction tx(store);
    DeriveSummary grouping;
    subjects = derive_subjects(store, options.derive, grouping);
    // Until this analysis is written, the store holds none (report refuses it).
    store.exec("DELETE FROM analysis");
    store.exec("DELETE FROM finding");
    store.exec("DELETE FROM cause");
    tx.commit();
    summary.derived.notes.insert(summary.derived.notes.end(), grouping.notes.begin(),
                                 grouping.notes.end());
  }
  timing::phase("analyze: subjects");
  // One database: derived and analysed as a whole. Several (a pg_dumpall, unrelated dumps):
  // each on its own, its findings named after it.
  bool several = subjects.size() > 1;
  // The Django databases last, the one with the most recorded migrations at the very end:
  // the derived tables (expected_object, recorded_migration, ...) are left holding those of
  // the database analysed last, and the one the migration files describe best is the one
  // they are most useful for.
  std::stable_sort(subjects.begin(), subjects.end(), [](const Subject& a, const Subject& b) {
    return std::pair(a.migration_files, a.records) < std::pair(b.migration_files, b.records);
  });
  place_log_events(store, options, subjects);
  for (size_t i = 0; i < std::max<size_t>(subjects.size(), 1); ++i) {
    const Subject* scope = several ? &subjects[i] : nullptr;
    if (!subjects.empty()) {
      store.prepare("UPDATE subject SET analysing = (id = ?1)").run(subjects[i].id);
    }
    DeriveSummary derived = derive(store, options.derive, scope);
    summary.derived.snapshots += derived.snapshots;
    summary.derived.recorded_migrations += derived.recorded_migrations;
    summary.derived.expected_objects += derived.expected_objects;
    if (i == 0 || derived.default_schema != "public") {
      summary.derived.default_schema = derived.default_schema;
    }
    for (const auto& note : derived.notes) {
      summary.derived.notes.push_back(several ? subjects[i].label + ": " + note : note);
    }
    analyze_one(store, option_rows, rules, scope, summary);
  }
  if (!subjects.empty()) {
    store.exec("UPDATE subject SET analysing = 0");
  }

  store::Store::Transaction tx(store);
  if (several) {
    summary.causes -= drop_lone_log_copies(store);
  } else if (subjects.size() == 1 && subjects[0].database) {
    // One database that the dumps name (a pg_dumpall of one user database): analysed as a
    // whole, its findings still say which it is.
    store.prepare("UPDATE finding SET subject_database = ?1").run(*subjects[0].database);
  }
  store.exec("DELETE FROM analysis");
  store
      .prepare(
          "INSERT INTO analysis(analysed_at, rules, findings) VALUES "
          "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?1, (SELECT count(*) FROM finding))")
      .run(static_cast<int64_t>(rules.size()));
  tx.commit();
  timing::phase("analyze: analysis row");

  store::Statement counts =
      store.prepare("SELECT severity, count(*) FROM finding GROUP BY severity");
  while (counts.step()) {
    summary.by_severity[counts.get_text(0)] = static_cast<int>(counts.get_int(1));
    summary.findings += static_cast<int>(counts.get_int(1));
  }
  return summary;
}

namespace {

// A migration file that is not recorded as applied but removes, renames or alters what a
// drift finding says is missing or different (a migration run whose django_migrations row was
// deleted by hand, to "run it again", leaves exactly that): the database may well be as that
// migration left it, and the finding's repair would undo it. The repair is kept, commented
// out, behind a warning that says so; the message and evidence name the migration.
// A database state sent one table per file (pg_dump -t) is read as one dump, the first
// file's (cli read_tables_together): the facts of the other files are that dump's, with their
// own lines. A finding's evidence then names the file that holds its table, whose lines they
// are.
void point_evidence_at_table_dumps(store::Store& store, int64_t first_before) {
  // host path -> (schema.table held by a member, member path)
  std::map<std::string, std::map<std::string, std::string>> held;
  {
    const std::string mark = ";tables-into=";
    store::Statement members = store.prepare(
        "SELECT id, path, read_options FROM artifact WHERE read_options LIKE '%;tables-into=%'");
    store::Statement tables = store.prepare(R"(
      SELECT schema_name, name FROM db_relation WHERE artifact_id = ?1
      UNION SELECT schema_name, table_name FROM table_stats WHERE artifact_id = ?1)");
    while (members.step()) {
      std::string read = members.get_text(2);
      std::string host = read.substr(read.find(mark) + mark.size());
      tables.bind(1, members.get_int(0));
      while (tables.step()) {
        held[host].emplace(tables.get_text(0) + "." + tables.get_text(1), members.get_text(1));
      }
      tables.reset();
    }
  }
  if (held.empty()) {
    return;
  }
  store::Statement findings = store.prepare(
      "SELECT id, subject_schema, subject_table, evidence FROM finding "
      "WHERE id > ?1 AND subject_table IS NOT NULL AND evidence IS NOT NULL");
  findings.bind(1, first_before);
  store::Statement update = store.prepare("UPDATE finding SET evidence = ?2 WHERE id = ?1");
  std::vector<std::pair<int64_t, std::string>> changed;
  while (findings.step()) {
    auto schema = findings.get_optional_text(1);
    std::string table = findings.get_text(2);
    nlohmann::json evidence = nlohmann::json::parse(findings.get_text(3), nullptr, false);
    if (!evidence.is_array()) {
      continue;
    }
    bool any = false;
    for (auto& e : evidence) {
      if (!e.is_object() || !e.contains("artifact") || !e["artifact"].is_string()) {
        continue;
      }
      auto host = held.find(e["artifact"].get<std::string>());
      if (host == held.end()) {
        continue;
      }
      for (const auto& [qualified, member] : host->second) {
        std::string bare = qualified.substr(qualified.find('.') + 1);
        if (schema ? qualified == *schema + "." + table : bare == table) {
          e["artifact"] = member;
          any = true;
          break;
        }
      }
    }
    if (any) {
      changed.emplace_back(findings.get_int(0), evidence.dump());
    }
  }
  findings.reset();
  for (const auto& [id, evidence] : changed) {
    update.run(id, evidence);
  }
}

void hold_repairs_undone_by_unrecorded(store::Store& store, int64_t first_before) {
  store
      .prepare(R"(
-- (Each set computed once: as correlated subqueries over the recorded_migration view, a
-- history of 1,260 migrations took 30 CPU s here.)
WITH recorded AS MATERIALIZED (
  SELECT DISTINCT app, name FROM recorded_migration),
first_source AS MATERIALIZED (
  SELECT app, migration, min(source) AS source FROM migration_effect GROUP BY app, migration),
replaced AS MATERIALIZED (
  SELECT ', ' || s.replaces || ', ' AS list FROM migration s
    JOIN recorded r ON r.app = s.app AND r.name = s.name
   WHERE s.replaces IS NOT NULL),
unrecorded AS MATERIALIZED (
  SELECT e.app, e.migration, e.action, e.object, e.table_name, e.name, e.new_name,
         e.artifact_id, e.line
    FROM migration_effect e
    JOIN first_source fs ON fs.app = e.app AND fs.migration = e.migration
                        AND fs.source = e.source
   WHERE e.action IN ('drop', 'rename', 'alter', 'set_schema')
     AND NOT EXISTS (SELECT 1 FROM recorded r WHERE r.app = e.app AND r.name = e.migration)
     AND instr(e.migration, '_squashed_') = 0
     AND NOT EXISTS (SELECT 1 FROM replaced x
                      WHERE x.list LIKE '%, ' || e.app || '.' || e.migration || ', %')),
held AS (
  SELECT f.id, u.app || '.' || u.migration AS migration,
         CASE u.action WHEN 'drop' THEN 'removes' WHEN 'alter' THEN 'alters'
                       ELSE 'renames or moves' END AS verb,
         a.path, u.line,
         row_number() OVER (PARTITION BY f.id ORDER BY u.app, u.migration, u.line) AS n
    FROM finding f
    JOIN unrecorded u ON
         CASE f.rule
           WHEN 'drift.table-missing' THEN u.object = 'table' AND u.name = f.subject_table
                AND u.action IN ('drop', 'rename', 'set_schema')
           WHEN 'drift.column-missing' THEN
                (u.object = 'column' AND u.table_name = f.subject_table AND u.name = f.subject_column
                 AND u.action IN ('drop', 'rename'))
                OR (u.object = 'table' AND u.name = f.subject_table AND u.action = 'drop')
           WHEN 'drift.column-mismatch' THEN u.object = 'column' AND u.action = 'alter'
                AND u.table_name = f.subject_table AND u.name = f.subject_column
           -- an index or a constraint: by its name, its table's drop, or a column it is on
           ELSE f.rule IN ('drift.index-missing', 'drift.constraint-missing') AND (
                (u.object = CASE f.rule WHEN 'drift.index-missing' THEN 'index' ELSE 'constraint' END
                 AND u.name = coalesce(f.subject_index, f.subject_constraint)
                 AND u.action IN ('drop', 'rename'))
                OR (u.object = 'table' AND u.name = f.subject_table AND u.action = 'drop')
                OR (u.object = 'column' AND u.action IN ('drop', 'rename')
                    AND u.table_name = f.subject_table AND EXISTS (
                      SELECT 1 FROM expected_object eo
                       WHERE eo.kind IN ('index', 'constraint') AND eo.table_name = f.subject_table
                         AND eo.name = coalesce(f.subject_index, f.subject_constraint)
                         AND (' ' || replace(replace(replace(replace(eo.columns, ',', ' '), '"', ''),
                                                     '(', ' '), ')', ' ') || ' ')
                             LIKE '% ' || u.name || ' %')))
           END
    JOIN artifact a ON a.id = u.artifact_id
   WHERE f.id > ?1 AND f.repair IS NOT NULL AND f.repair <> '')
UPDATE finding
   SET message = message || printf('; but migration %s, not recorded as applied, %s it: if it ran and its django_migrations row was deleted by hand, the database is as it left it',
                                   h.migration, h.verb),
       evidence = json_insert(coalesce(evidence, '[]'), '$[#]',
                              json_object('artifact', h.path, 'line', h.line,
                                          'text', h.migration || ' (not recorded as applied) ' || h.verb || ' it')),
       repair = printf('-- NOT RUN: migration %s is not recorded as applied, yet it %s this; if it ran (its row deleted from django_migrations), the line below would undo it. Check first: if it ran, record it instead (python manage.py migrate %s %s --fake) and leave this commented out.%s-- %s',
                       h.migration, h.verb,
                       substr(h.migration, 1, instr(h.migration, '.') - 1),
                       substr(h.migration, instr(h.migration, '.') + 1),
                       char(10), replace(repair, char(10), char(10) || '-- '))
  FROM held h
 WHERE finding.id = h.id AND h.n = 1)")
      .run(first_before);
}

void analyze_one(store::Store& store, const std::vector<OptionRow>& option_rows,
                 const std::vector<Rule>& rules, const Subject* scope, AnalyzeSummary& summary) {
  store::Store::Transaction tx(store);
  int64_t before = 0;
  int64_t causes_before = 0;
  {
    store::Statement st = store.prepare(
        "SELECT (SELECT coalesce(max(id), 0) FROM finding), (SELECT coalesce(max(id), 0) FROM "
        "cause)");
    if (st.step()) {
      before = st.get_int(0);
      causes_before = st.get_int(1);
    }
  }
  store.exec("DELETE FROM analysis_scope");
  store.prepare("INSERT INTO analysis_scope(first_finding) VALUES (?1)").run(before + 1);
  store.exec("DELETE FROM rule_option");
  store::Statement opt =
      store.prepare("INSERT INTO rule_option(rule, name, value) VALUES (?1, ?2, ?3)");
  for (const auto& row : option_rows) {
    opt.run(row.rule, row.name, row.value);
  }
  timing::phase("analyze: rule options");
  for (const Rule& rule : rules) {
    if (rule.origin == "built-in") {
      run_rule(store, rule);
      continue;
    }
    try {
      store.exec("SAVEPOINT user_rule");
      run_rule(store, rule);
      store.exec("RELEASE user_rule");
    } catch (const Error& e) {
      store.exec("ROLLBACK TO user_rule");
      store.exec("RELEASE user_rule");
      summary.rule_errors.push_back(
          fmt::format("rule {} ({}) failed: {}", rule.id, rule.origin, e.what()));
    }
  }
  hold_repairs_undone_by_unrecorded(store, before);
  point_evidence_at_table_dumps(store, before);
  if (scope && scope->database) {
    store.prepare("UPDATE finding SET subject_database = ?1 WHERE id > ?2")
        .run(*scope->database, before);
  }
  timing::phase("analyze: rules");
  summary.causes += correlate(store, before);
  timing::phase("analyze: causes");
  if (scope) {
    // Each cause is of one database: its summary says which.
    store.prepare("UPDATE cause SET summary = ?1 || ': ' || summary, subject_id = ?3 WHERE id > ?2")
        .run(scope->label, causes_before, scope->id);
  }
  tx.commit();
  timing::phase("analyze: commit");
}

}  // namespace

}  // namespace dbautopsy::rules
