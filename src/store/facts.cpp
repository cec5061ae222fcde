#include "store/facts.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <variant>

#include "base/error.hpp"
#include "base/text.hpp"

namespace dbautopsy::store {

namespace {

// Problems quote the input; a 10 MB token must not become a 10 MB message.
constexpr size_t k_max_message = 2000;
constexpr size_t k_max_snippet = 400;

std::string utc_now() {
  auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now);
}

}  // namespace

std::optional<StoredArtifact> find_artifact(Store& store, const std::string& path) {
  Statement st = store.prepare(
      "SELECT id, sha256, size_bytes, mtime, status, read_options FROM artifact WHERE path = ?1");
  st.bind(1, path);
  if (!st.step()) {
    return std::nullopt;
  }
  return StoredArtifact{st.get_int(0),           st.get_text(1), st.get_int(2),
                        st.get_optional_text(3), st.get_text(4), st.get_optional_text(5)};
}

int64_t add_artifact(Store& store, const ArtifactFact& a) {
  store
      .prepare(
          "INSERT INTO artifact(path, kind, sha256, size_bytes, mtime, codec, status, "
          "status_detail, read_options, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
          "?10)")
      .run(a.path, a.kind, a.sha256, a.size_bytes, a.mtime, a.codec, a.status, a.status_detail,
           a.read_options, utc_now());
  return store.last_insert_id();
}

void forget_artifact(Store& store, int64_t artifact_id) {
  // Every fact table: the ones schema.sql declares with an artifact_id column.
  std::vector<std::string> tables;
  store::Statement st = store.prepare(
      "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' AND EXISTS "
      "(SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'artifact_id')");
  while (st.step()) {
    tables.push_back(st.get_text(0));
  }
  st.reset();
  for (const auto& table : tables) {
    store.prepare(fmt::format("DELETE FROM {} WHERE artifact_id = ?1", table)).run(artifact_id);
  }
  store.prepare("DELETE FROM artifact WHERE id = ?1").run(artifact_id);
}

void set_artifact_status(Store& store, int64_t artifact_id, std::string_view status,
                         const OptText& detail) {
  store.prepare("UPDATE artifact SET status = ?2, status_detail = ?3 WHERE id = ?1")
      .run(artifact_id, status, detail);
}

void set_artifact_progress(Store& store, int64_t artifact_id, int64_t bytes_read,
                           int64_t lines_read) {
  store.prepare("UPDATE artifact SET bytes_read = ?2, lines_read = ?3 WHERE id = ?1")
      .run(artifact_id, bytes_read, lines_read);
}

void set_artifact_header(Store& store, int64_t artifact_id, const ArtifactHeader& h) {
  store
      .prepare(
          "UPDATE artifact SET dumped_from = ?2, dumped_by = ?3, started_on = ?4, "
          "completed_on = ?5 WHERE id = ?1")
      .run(artifact_id, h.dumped_from, h.dumped_by, h.started_on, h.completed_on);
}

void set_artifact_sha256(Store& store, int64_t artifact_id, std::string_view sha256) {
  store.prepare("UPDATE artifact SET sha256 = ?2 WHERE id = ?1").run(artifact_id, sha256);
}

// The facts a Pipeline's store thread writes: batches of them, in the order they were added.
struct FactWriter::Queue {
  using Item = std::variant<ProblemFact, LogEventFact>;
  static constexpr size_t k_batch = 512;   // entries handed over at a time
  static constexpr size_t k_batches = 16;  // batches waiting at most (a bounded memory)
  // Batches waiting from which the reader completes the events of its next batch itself (the
  // store thread is behind); below it, the store thread completes them.
  static constexpr size_t k_behind = 2;

  struct Batch {
    std::vector<Item> items;
    bool finished = false;  // its events completed by the reader's thread
  };

  explicit Queue(EventFinisher f) : finisher(f) {}

  EventFinisher finisher;
  std::vector<Item> filling;  // the reader's batch
  std::mutex mutex;
  std::condition_variable work, room;
  std::deque<Batch> batches;
  // Batches written, given back to the reader's thread to be freed there: its allocations
  // are freed by the thread that made them (glibc's malloc is slower across threads).
  std::vector<std::vector<Item>> spent;
  bool closing = false;
  std::exception_ptr error;  // what stopped the store thread
  std::thread thread;

  void add(Item&& item) {
    filling.push_back(std::move(item));
    if (filling.size() >= k_batch) {
      hand_over();
    }
  }

  void finish(std::vector<Item>& items) const {
    for (auto& item : items) {
      if (auto* e = std::get_if<LogEventFact>(&item)) {
        finisher(*e);
      }
    }
  }

  void hand_over() {
    Batch batch;
    if (finisher) {
      bool behind;
      {
        std::lock_guard lock(mutex);
        behind = batches.size() >= k_behind;
      }
      if (behind) {
        finish(filling);
        batch.finished = true;
      }
    }
    batch.items = std::move(filling);
    std::vector<std::vector<Item>> written;
    {
      std::unique_lock lock(mutex);
      room.wait(lock, [&] { return batches.size() < k_batches || error; });
      if (error) {
        std::rethrow_exception(error);
      }
      batches.push_back(std::move(batch));
      written.swap(spent);
      work.notify_one();
    }
    filling = {};
    filling.reserve(k_batch);
    // `written` is freed here, outside the lock.
  }

  void run(FactWriter& writer) {
    for (;;) {
      Batch batch;
      {
        std::unique_lock lock(mutex);
        work.wait(lock, [&] { return !batches.empty() || closing; });
        if (batches.empty()) {
          return;
        }
        batch = std::move(batches.front());
        batches.pop_front();
        room.notify_one();
      }
      try {
        const bool here = finisher && !batch.finished;
        if (here) {
          finish(batch.items);
        }
        for (const auto& item : batch.items) {
          std::visit([&](const auto& f) { writer.write(f); }, item);
        }
        if (here) {
          // What this thread allocated is freed by it (see `spent`).
          for (auto& item : batch.items) {
            if (auto* e = std::get_if<LogEventFact>(&item)) {
              e->template_text.reset();
              e->template_hash.reset();
              std::vector<LogEntityFact>().swap(e->entities);
            }
          }
        }
        std::lock_guard lock(mutex);
        spent.push_back(std::move(batch.items));
      } catch (...) {
        std::lock_guard lock(mutex);
        error = std::current_exception();
        batches.clear();
        room.notify_one();
        return;
      }
    }
  }
};

FactWriter::FactWriter(Store& store, int64_t artifact_id)
    : m_store(store), m_artifact(artifact_id) {}

FactWriter::~FactWriter() {
  if (m_queue) {
    close_queue(false);
  }
}

FactWriter::Pipeline::Pipeline(FactWriter& writer) : m_writer(writer) {
  if (writer.m_queue) {
    throw Error("a fact writer's pipeline is already open");
  }
  writer.m_queue = std::make_unique<Queue>(writer.m_finisher);
  writer.m_queue->filling.reserve(Queue::k_batch);
  Queue& q = *writer.m_queue;
  q.thread = std::thread([&q, &writer] { q.run(writer); });
}

FactWriter::Pipeline::~Pipeline() {
  if (m_writer.m_queue) {
    try {
      m_writer.close_queue(false);
    } catch (...) {
    }
  }
}

void FactWriter::Pipeline::finish() {
  if (m_writer.m_queue) {
    m_writer.close_queue(true);
  }
}

void FactWriter::close_queue(bool rethrow) {
  Queue& q = *m_queue;
  std::exception_ptr error;
  try {
    if (!q.filling.empty()) {
      q.hand_over();
    }
  } catch (...) {
    error = std::current_exception();
  }
  {
    std::lock_guard lock(q.mutex);
    q.closing = true;
    q.work.notify_one();
  }
  q.thread.join();
  q.spent.clear();
  error = error ? error : q.error;
  m_queue.reset();
  if (error && rethrow) {
    std::rethrow_exception(error);
  }
}

void FactWriter::finish_logs() {
  if (m_queue) {
    throw std::logic_error("FactWriter::finish_logs while a pipeline is open");
  }
  // In a stable order (the map's is not): the rows are facts a user may read.
  std::vector<const HourCount*> rows;
  rows.reserve(m_hours.size());
  for (const auto& [key, h] : m_hours) {
    rows.push_back(&h);
  }
  std::sort(rows.begin(), rows.end(), [](const HourCount* a, const HourCount* b) {
    return std::tie(a->first_line, a->hour, a->template_hash) <
           std::tie(b->first_line, b->hour, b->template_hash);
  });
  for (const HourCount* h : rows) {
    statement(23,
              "INSERT INTO log_hour(artifact_id, template_hash, hour, first_ts, last_ts, severity, "
              "entries, first_line) VALUES (?,?,?,?,?,?,?,?)")
        .run(m_artifact, h->template_hash, h->hour, h->first_ts, h->last_ts, h->severity,
             h->entries, h->first_line);
  }
  m_hours.clear();
  if (m_entries > 0) {
    statement(24, "INSERT INTO log_span(artifact_id, first_id, last_id, entries) VALUES (?,?,?,?)")
        .run(m_artifact, m_first_id, m_last_id, m_entries);
    m_entries = 0;
  }
}

Statement& FactWriter::statement(int slot, std::string_view sql) {
  auto& [text, st] = m_statements[slot];
  if (!st) {
    text = sql;
    st = std::make_unique<Statement>(m_store.prepare(sql));
  } else if (sql.data() != text.data() && sql != text) {
    throw std::logic_error(
        fmt::format("FactWriter: statement slot {} is already \"{}\"", slot, text.substr(0, 60)));
  }
  return *st;
}

void FactWriter::add(const ProblemFact& f) {
  (f.severity == "error" ? m_errors : m_warnings) += 1;
  if (m_queue) {
    m_queue->add(Queue::Item(f));
    return;
  }
  write(f);
}

void FactWriter::write(const ProblemFact& f) {
  statement(0,
            "INSERT INTO problem(artifact_id, line, byte_offset, in_file, severity, code, message, "
            "snippet) VALUES (?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.byte_offset, f.in_file, f.severity, f.code,
           text::abbreviate(f.message, k_max_message),
           f.snippet ? std::optional<std::string>(text::abbreviate(*f.snippet, k_max_snippet))
                     : std::nullopt);
}

void FactWriter::add(const SchemaFact& f) {
  statement(1, "INSERT INTO db_schema(artifact_id, line, db, name) VALUES (?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.name);
}

void FactWriter::add(const ExtensionFact& f) {
  statement(2,
            "INSERT INTO db_extension(artifact_id, line, db, name, schema_name, version) "
            "VALUES (?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.name, f.schema_name, f.version);
}

void FactWriter::add(const RelationFact& f) {
  statement(3,
            "INSERT INTO db_relation(artifact_id, line, db, schema_name, name, kind, persistence, "
            "parent_schema, parent_name, partition_bound, partition_key, inherits, definition) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.schema_name, f.name, f.kind, f.persistence, f.parent_schema,
           f.parent_name, f.partition_bound, f.partition_key, f.inherits, f.definition);
}

void FactWriter::add(const ColumnFact& f) {
  statement(4,
            "INSERT INTO db_column(artifact_id, line, db, schema_name, table_name, name, ordinal, "
            "type, not_null, default_expr, identity, generated, generated_expr, is_serial, "
            "serial_sequence, collation, inherited) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.schema_name, f.table_name, f.name, f.ordinal, f.type,
           f.not_null, f.default_expr, f.identity, f.generated, f.generated_expr, f.is_serial,
           f.serial_sequence, f.collation, f.inherited);
}

void FactWriter::add(const SequenceFact& f) {
  statement(5,
            "INSERT INTO db_sequence(artifact_id, line, db, schema_name, name, data_type, "
            "start_value, increment, min_value, max_value, cache, cycle, owned_by_schema, "
            "owned_by_table, owned_by_column, identity, last_value, is_called) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.schema_name, f.name, f.data_type, f.start_value, f.increment,
           f.min_value, f.max_value, f.cache, f.cycle, f.owned_by_schema, f.owned_by_table,
           f.owned_by_column, f.identity, f.last_value, f.is_called);
}

void FactWriter::add(const IndexFact& f) {
  statement(6,
            "INSERT INTO db_index(artifact_id, line, db, schema_name, table_name, name, is_unique, "
            "is_primary, method, columns, include_columns, predicate, constraint_name, definition) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.schema_name, f.table_name, f.name, f.is_unique, f.is_primary,
           f.method, f.columns, f.include_columns, f.predicate, f.constraint_name, f.definition);
}

void FactWriter::add(const ConstraintFact& f) {
  statement(7,
            "INSERT INTO db_constraint(artifact_id, line, db, schema_name, table_name, name, kind, "
            "columns, ref_schema, ref_table, ref_columns, on_update, on_delete, is_deferrable, "
            "validated, inherited, definition) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.schema_name, f.table_name, f.name, f.kind, f.columns,
           f.ref_schema, f.ref_table, f.ref_columns, f.on_update, f.on_delete, f.deferrable,
           f.validated, f.inherited, f.definition);
}

void FactWriter::add(const ObjectFact& f) {
  statement(8,
            "INSERT INTO db_object(artifact_id, line, db, kind, schema_name, name, table_name) "
            "VALUES (?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.kind, f.schema_name, f.name, f.table_name);
}

void FactWriter::add(const CommentFact& f) {
  statement(9,
            "INSERT INTO db_comment(artifact_id, line, db, object_kind, schema_name, object_name, "
            "sub_name, comment) VALUES (?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.object_kind, f.schema_name, f.object_name, f.sub_name,
           f.comment);
}

void FactWriter::add(const SettingFact& f) {
  statement(25,
            "INSERT INTO db_setting(artifact_id, line, db, source, scope, role_name, "
            "database_name, name, action, value, schemas, failed, ts, pid, statement) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.source, f.scope, f.role_name, f.database_name, f.name,
           f.action, f.value, f.schemas, f.failed, f.ts, f.pid, f.statement);
}

void FactWriter::add(const TableStatsFact& f) {
  statement(10,
            "INSERT INTO table_stats(artifact_id, section, line, end_line, db, schema_name, "
            "table_name, source, columns, rows, bytes, complete, distinct_rows, repeated_rows, "
            "distinct_method, ignored_columns, distinct_without_first, top_rows, stored_rows, "
            "variants) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.section, f.line, f.end_line, f.db, f.schema_name, f.table_name, f.source,
           f.columns, f.rows, f.bytes, f.complete, f.distinct_rows, f.repeated_rows,
           f.distinct_method, f.ignored_columns, f.distinct_without_first, f.top_rows,
           f.stored_rows, f.variants);
}

void FactWriter::add(const StatementFact& f) {
  statement(11,
            "INSERT INTO sql_statement(artifact_id, line, end_line, db, type, bytes) "
            "VALUES (?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.end_line, f.db, f.type, f.bytes);
}

void FactWriter::add(const MigrationRecordFact& f) {
  statement(
      12,
      "INSERT INTO migration_record(artifact_id, line, db, schema_name, record_id, app, name, "
      "applied_at, source) VALUES (?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.db, f.schema_name, f.record_id, f.app, f.name, f.applied_at,
           f.source);
}

void FactWriter::add(const MigrationFact& f) {
  statement(13,
            "INSERT INTO migration(artifact_id, line, app, name, source, initial, operations, "
            "replaces) VALUES (?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.app, f.name, f.source, f.initial, f.operations, f.replaces);
}

void FactWriter::add(const MigrationDependencyFact& f) {
  statement(14,
            "INSERT INTO migration_dependency(artifact_id, line, app, name, dep_app, dep_name, "
            "swappable) VALUES (?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.app, f.name, f.dep_app, f.dep_name, f.swappable);
}

void FactWriter::add(const MigrationOperationFact& f) {
  statement(15,
            "INSERT INTO migration_operation(artifact_id, line, app, name, seq, type, known, "
            "summary) VALUES (?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.app, f.name, f.seq, f.type, f.known, f.summary);
}

void FactWriter::add(const MigrationEffectFact& f) {
  statement(16,
            "INSERT INTO migration_effect(artifact_id, line, app, migration, seq, action, object, "
            "schema_name, table_name, name, new_name, type, not_null, default_expr, kind, columns, "
            "ref_schema, ref_table, definition, predicate, conditional, source, fill_value) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.app, f.migration, f.seq, f.action, f.object, f.schema_name,
           f.table_name, f.name, f.new_name, f.type, f.not_null, f.default_expr, f.kind, f.columns,
           f.ref_schema, f.ref_table, f.definition, f.predicate, f.conditional, f.source,
           f.fill_value);
}

void FactWriter::add(const TableRowFact& f) {
  statement(17, "INSERT INTO table_row(artifact_id, section, line, row_values) VALUES (?,?,?,?)")
      .run(m_artifact, f.section, f.line, f.row_values);
}

int64_t FactWriter::add(const LogEventFact& f) {
  if (m_queue) {
    m_queue->add(Queue::Item(f));
    return 0;
  }
  if (m_finisher) {
    LogEventFact e = f;
    m_finisher(e);
    return write(e);
  }
  return write(f);
}

void FactWriter::add(LogEventFact&& f) {
  if (m_queue) {
    m_queue->add(std::move(f));
    return;
  }
  if (m_finisher) {
    m_finisher(f);
  }
  write(f);
}

namespace {

// Where a statement that is the end of its message starts in it, as substr()'s 1-based
// position: a routine `statement: ...` or `duration: ... statement: ...` entry's text is
// then stored once and the log_event view takes the statement from the message. Only when
// what comes before it is ASCII without NUL and the statement has no NUL, where SQLite's
// substr() counts characters as bytes and reads to the end.
std::optional<int64_t> statement_at(const std::string& message, const OptText& statement) {
  if (!statement || statement->empty() || statement->size() > message.size()) {
    return std::nullopt;
  }
  size_t at = message.size() - statement->size();
  if (std::string_view(message).substr(at) != *statement ||
      statement->find('\0') != std::string::npos) {
    return std::nullopt;
  }
  for (size_t i = 0; i < at; ++i) {
    auto c = static_cast<unsigned char>(message[i]);
    if (c == 0 || c >= 0x80) {
      return std::nullopt;
    }
  }
  return static_cast<int64_t>(at) + 1;
}

}  // namespace

int64_t FactWriter::format_id(const std::string& format) {
  if (auto it = m_formats.find(format); it != m_formats.end()) {
    return it->second;
  }
  statement(21, "INSERT OR IGNORE INTO log_format(format) VALUES (?)").run(format);
  Statement& get = statement(22, "SELECT id FROM log_format WHERE format = ?");
  get.bind(1, format);
  int64_t id = get.step() ? get.get_int(0) : 0;
  get.reset();
  m_formats.emplace(format, id);
  return id;
}

int64_t FactWriter::write(const LogEventFact& f) {
  // Each template once (log_template); the log_event view joins it back.
  if (f.template_hash && f.template_text && m_templates.insert(*f.template_hash).second) {
    statement(20, "INSERT OR IGNORE INTO log_template(hash, template) VALUES (?,?)")
        .run(f.template_hash, f.template_text);
  }
  int64_t format = format_id(f.format);
  std::optional<int64_t> at = statement_at(f.message, f.statement);
  static const OptText k_none;
  const OptText& stored_statement = at ? k_none : f.statement;
  statement(18,
            "INSERT INTO log_event_row(artifact_id, line, end_line, ts, ts_written, severity, "
            "level, sqlstate, pid, user_name, database_name, application, client, session, "
            "logger, message, detail, hint, context, statement, statement_at, query, location, "
            "traceback, format_id, template_hash) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
      .run(m_artifact, f.line, f.end_line, f.ts, f.ts_written, f.severity, f.level, f.sqlstate,
           f.pid, f.user_name, f.database_name, f.application, f.client, f.session, f.logger,
           f.message, f.detail, f.hint, f.context, stored_statement, at, f.query, f.location,
           f.traceback, format, f.template_hash);
  int64_t id = m_store.last_insert_id();
  m_first_id = m_entries == 0 ? id : std::min(m_first_id, id);
  m_last_id = m_entries == 0 ? id : std::max(m_last_id, id);
  ++m_entries;
  if (f.ts) {
    const std::string_view hour = std::string_view(*f.ts).substr(0, 13);
    m_hour_key.assign(f.template_hash ? std::string_view(*f.template_hash) : "\x01");
    m_hour_key += '\0';
    m_hour_key += hour;
    auto it = m_hours.find(m_hour_key);
    if (it == m_hours.end()) {
      it = m_hours
               .emplace(m_hour_key, HourCount{f.template_hash, std::string(hour), *f.ts, *f.ts,
                                              f.severity, 0, f.line})
               .first;
    }
    HourCount& h = it->second;
    ++h.entries;
    // As SQL compares text (the bytes, unsigned) and min() and max() take it.
    if (*f.ts < h.first_ts) {
      h.first_ts = *f.ts;
    }
    if (h.last_ts < *f.ts) {
      h.last_ts = *f.ts;
    }
    if (f.severity && (!h.severity || *f.severity < *h.severity)) {
      h.severity = f.severity;
    }
    h.first_line = std::min(h.first_line, f.line);
  }
  int64_t n = 0;
  for (const auto& e : f.entities) {
    statement(19,
              "INSERT INTO log_entity(event_id, n, artifact_id, kind, name, value) "
              "VALUES (?,?,?,?,?,?)")
        .run(id, ++n, m_artifact, e.kind, e.name, e.value);
  }
  for (const auto& setting : f.settings) {
    add(setting);
  }
  return id;
}

ProblemFact byte_order_mark_notice(std::string_view mark) {
  ProblemFact p;
  p.severity = "notice";
  p.code = "byte-order-mark";
  p.line = 1;
  p.message = fmt::format(
      "the file starts with a {} byte order mark (as Windows tools write one): {}", mark,
      mark == "UTF-8"
          ? "read without it"
          : "read as that text converted to UTF-8; byte offsets count the converted text");
  return p;
}

}  // namespace dbautopsy::store
