// Typed writers for the fact tables of schema.sql.
//
// Each struct mirrors one table (same field names as the columns, minus artifact_id, which
// the FactWriter supplies). Parsers build these and hand them to a FactWriter; nothing else
// writes facts, so schema.sql and this file are the two places a new column touches.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "store/store.hpp"

namespace dbautopsy::store {

using OptText = std::optional<std::string>;
using OptInt = std::optional<int64_t>;

struct ArtifactFact {
  std::string path;
  std::string kind;
  std::string sha256;
  int64_t size_bytes = 0;
  OptText mtime;
  std::string codec = "none";
  std::string status = "ok";
  OptText status_detail;
  OptText read_options;  // the ingest options that shape its facts, to know when to re-read
};

struct ArtifactHeader {
  OptText dumped_from, dumped_by, started_on, completed_on;
};

struct ProblemFact {
  OptInt line;
  OptInt byte_offset;
  bool in_file = false;
  std::string severity = "warning";
  std::string code;
  std::string message;
  OptText snippet;
};

// The notice for a file whose text starts with a byte order mark (io::InputStream reads past
// it): `mark` is its name (UTF-8, UTF-16LE, UTF-16BE); UTF-16 text was converted to UTF-8.
ProblemFact byte_order_mark_notice(std::string_view mark);

struct SchemaFact {
  OptInt line;
  OptText db;
  std::string name;
};

struct ExtensionFact {
  OptInt line;
  OptText db;
  std::string name;
  OptText schema_name;
  OptText version;
};

struct RelationFact {
  OptInt line;
  OptText db;
  std::string schema_name, name, kind;
  std::string persistence = "permanent";
  OptText parent_schema, parent_name, partition_bound, partition_key, inherits, definition;
};

struct ColumnFact {
  OptInt line;
  OptText db;
  std::string schema_name, table_name, name;
  int64_t ordinal = 0;
  std::string type;
  bool not_null = false;
  OptText default_expr;
  OptText identity;
  OptText generated;
  OptText generated_expr;
  bool is_serial = false;
  OptText serial_sequence;
  OptText collation;
  bool inherited = false;
};

struct SequenceFact {
  OptInt line;
  OptText db;
  std::string schema_name, name;
  OptText data_type;
  OptInt start_value, increment, min_value, max_value, cache;
  bool cycle = false;
  OptText owned_by_schema, owned_by_table, owned_by_column;
  bool identity = false;
  OptInt last_value;
  OptInt is_called;
};

struct IndexFact {
  OptInt line;
  OptText db;
  std::string schema_name, table_name, name;
  bool is_unique = false;
  bool is_primary = false;
  std::string method = "btree";
  std::string columns;
  OptText include_columns, predicate, constraint_name;
  std::string definition;
};

struct ConstraintFact {
  OptInt line;
  OptText db;
  std::string schema_name, table_name, name;
  std::string kind;  // p u f c x
  OptText columns, ref_schema, ref_table, ref_columns, on_update, on_delete;
  bool deferrable = false;
  bool validated = true;
  bool inherited = false;
  OptText definition;
};

struct ObjectFact {
  OptInt line;
  OptText db;
  std::string kind;
  OptText schema_name;
  std::string name;
  OptText table_name;
};

struct CommentFact {
  OptInt line;
  OptText db;
  std::string object_kind;
  OptText schema_name;
  std::string object_name;
  OptText sub_name;
  OptText comment;
};

// A setting of a role or database, or a session's search_path (db_setting).
struct SettingFact {
  OptInt line;
  OptText db;
  std::string source;  // dump, log
  std::string scope;   // role, role_in_database, database, all_roles, session, transaction
  OptText role_name, database_name;
  std::string name;    // lower case; "all" for RESET ALL
  std::string action;  // set, reset, set_from_current
  OptText value;
  OptText schemas;  // search_path: JSON array of the schema names
  bool failed = false;
  OptText ts;
  OptInt pid;
  OptText statement;
};

struct TableStatsFact {
  OptInt section;
  OptInt line, end_line;
  OptText db;
  std::string schema_name, table_name, source;
  OptText columns;
  int64_t rows = 0;
  OptInt bytes;
  bool complete = true;
  OptInt distinct_rows, repeated_rows;
  OptText distinct_method, ignored_columns;
  OptInt distinct_without_first;
  OptText top_rows;
  OptInt stored_rows;
  OptText variants;
};

struct TableRowFact {
  int64_t section = 0;
  int64_t line = 0;
  std::string row_values;  // JSON array
};

struct StatementFact {
  int64_t line = 0, end_line = 0;
  OptText db;
  std::string type;
  int64_t bytes = 0;
};

struct MigrationRecordFact {
  OptInt line;
  OptText db, schema_name;
  OptInt record_id;
  std::string app, name;
  OptText applied_at;
  std::string source;
};

struct MigrationFact {
  OptInt line;
  std::string app, name, source;
  OptInt initial, operations;
  OptText replaces;
};

struct MigrationDependencyFact {
  OptInt line;
  std::string app, name, dep_app, dep_name;
  OptText swappable;
};

struct MigrationOperationFact {
  OptInt line;
  std::string app, name;
  int64_t seq = 0;
  std::string type;
  bool known = true;
  OptText summary;
};

struct MigrationEffectFact {
  OptInt line;
  std::string app, migration;
  int64_t seq = 0;
  std::string action, object;
  OptText schema_name, table_name;
  std::string name;
  OptText new_name, type;
  OptInt not_null;
  OptText default_expr, kind, columns, ref_schema, ref_table, definition;
  OptText predicate;  // indexes: the WHERE of a partial index
  bool conditional = false;
  std::string source;
  OptText fill_value;  // columns: what the NULLs got before this SET NOT NULL
};

// One log entry (log_event), with the entities it names (log_entity).
struct LogEntityFact {
  std::string kind;  // relation, column, schema, sqlstate_class, sqlstate, table, id, count
  OptText name;
  std::string value;
};

struct LogEventFact {
  int64_t line = 0, end_line = 0;
  OptText ts, ts_written, severity, sqlstate;
  OptText level;  // the severity in PostgreSQL's English when written in another language
  OptInt pid;
  OptText user_name, database_name, application, client, session, logger;
  std::string message;
  OptText detail, hint, context, statement, query, location, traceback;
  std::string format;
  // From message, by parsers/logs/template.hpp (finish_event).
  OptText template_text, template_hash;
  std::vector<LogEntityFact> entities;
  // The settings its statement sets or resets (db_setting), by finish_event.
  std::vector<SettingFact> settings;
};

// The artifact already stored for a path, if any.
struct StoredArtifact {
  int64_t id = 0;
  std::string sha256;
  int64_t size_bytes = 0;
  OptText mtime;
  std::string status;
  OptText read_options;
};
std::optional<StoredArtifact> find_artifact(Store& store, const std::string& path);
// Adds an artifact row and returns its id.
int64_t add_artifact(Store& store, const ArtifactFact& artifact);
// Deletes an artifact and every fact that names it.
void forget_artifact(Store& store, int64_t artifact_id);
void set_artifact_status(Store& store, int64_t artifact_id, std::string_view status,
                         const OptText& detail);
void set_artifact_progress(Store& store, int64_t artifact_id, int64_t bytes_read,
                           int64_t lines_read);
void set_artifact_header(Store& store, int64_t artifact_id, const ArtifactHeader& header);
void set_artifact_sha256(Store& store, int64_t artifact_id, std::string_view sha256);

class FactWriter {
 public:
  FactWriter(Store& store, int64_t artifact_id);
  ~FactWriter();
  FactWriter(const FactWriter&) = delete;
  FactWriter& operator=(const FactWriter&) = delete;

  int64_t artifact_id() const { return m_artifact; }
  Store& store() { return m_store; }

  void add(const ProblemFact& f);
  void add(const SchemaFact& f);
  void add(const ExtensionFact& f);
  void add(const RelationFact& f);
  void add(const ColumnFact& f);
  void add(const SequenceFact& f);
  void add(const IndexFact& f);
  void add(const ConstraintFact& f);
  void add(const ObjectFact& f);
  void add(const CommentFact& f);
  void add(const SettingFact& f);
  void add(const TableStatsFact& f);
  void add(const StatementFact& f);
  void add(const TableRowFact& f);
  void add(const MigrationRecordFact& f);
  void add(const MigrationFact& f);
  void add(const MigrationDependencyFact& f);
  void add(const MigrationOperationFact& f);
  void add(const MigrationEffectFact& f);
  // Returns the log_event id (0 while pipelined: the id is not known yet); writes its entities
  // too.
  int64_t add(const LogEventFact& f);
  // The same, taking the event (no copy while pipelined).
  void add(LogEventFact&& f);

  // What completes a log event before it is written (its template and entities: the log
  // readers give parsers/logs' finish_event). Set once by a reader; every event added from then
  // on is completed by it before it is written: at once without a pipeline, and with one on
  // whichever thread has room -- the store thread, or the reader's own when the store thread
  // falls behind -- so that the work is shared by both cores.
  using EventFinisher = void (*)(LogEventFact&);
  void finish_events_with(EventFinisher finisher) { m_finisher = finisher; }

  // A log reader's pipeline: while one is open, the log events and problems added are written
  // by a store thread of their own, in the order they were added, while the reader goes on
  // parsing (two cores: parsing, and SQLite). Batches of entries wait in a bounded queue. Only
  // add(ProblemFact) and add(LogEventFact) may be called while it is open, and store() may not
  // be used. finish() waits until every fact is written and throws the store's error, if one
  // stopped the store thread (adding throws it too, as soon as it is known); the destructor
  // (a reader's exception on its way) writes what was added, the error aside.
  class Pipeline {
   public:
    explicit Pipeline(FactWriter& writer);
    ~Pipeline();
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;
    void finish();

   private:
    FactWriter& m_writer;
  };

  // Counts of problems written so far, by severity.
  int64_t errors() const { return m_errors; }
  int64_t warnings() const { return m_warnings; }

  // Writes log_hour (the log entries written so far, counted per message template and hour
  // as they were written: the timeline reads these instead of grouping every entry) and
  // log_span (the ids they were stored under). Called once the reader is done, with no
  // pipeline open; entries written after it are counted anew.
  void finish_logs();

 private:
  Statement& statement(int slot, std::string_view sql);
  void write(const ProblemFact& f);
  int64_t write(const LogEventFact& f);
  int64_t format_id(const std::string& format);  // log_format, each once
  struct Queue;
  void close_queue(bool rethrow);

  Store& m_store;
  std::unique_ptr<Queue> m_queue;  // while a Pipeline is open
  EventFinisher m_finisher = nullptr;
  int64_t m_artifact;
  // Prepared statements by slot, each with its SQL: a slot asked for with other SQL is a
  // programming error, said at once (it would run the other statement). The SQL is always a
  // literal, whose view is kept.
  std::map<int, std::pair<std::string_view, std::unique_ptr<Statement>>> m_statements;
  std::unordered_set<std::string> m_templates;         // template hashes written by this writer
  std::unordered_map<std::string, int64_t> m_formats;  // log_format ids of this writer
  // log_hour's rows, by template hash (or "\x01" for none), a NUL, and the hour (the first
  // 13 characters of the entry's UTC time).
  struct HourCount {
    std::optional<std::string> template_hash;
    std::string hour, first_ts, last_ts;
    std::optional<std::string> severity;  // the least, as SQL's min() (NULLs left out)
    int64_t entries = 0;
    int64_t first_line = 0;
  };
  std::unordered_map<std::string, HourCount> m_hours;
  std::string m_hour_key;  // the key being looked up (its memory reused)
  // log_span's row: the ids of the log entries written.
  int64_t m_first_id = 0, m_last_id = 0, m_entries = 0;
  int64_t m_errors = 0;
  int64_t m_warnings = 0;
};

}  // namespace dbautopsy::store
