// Reading a plain-SQL pg_dump (or pg_dumpall) into facts.
//
// The dump is read line by line and handed to a psql-compatible lexer
// (pgsql/script_lexer.hpp). Each statement goes to libpg_query and is replayed against a
// catalog model per database (pgsql/ddl.hpp); COPY ... FROM stdin data is never given to
// the SQL parser: its rows are streamed, counted and, when a CopyRouter asks for them,
// handed to a consumer (the django_migrations reader, the table statistics). INSERT
// statements are counted per table. psql meta-commands are honoured: \connect starts a
// new database, \restrict / \unrestrict are noted.
//
// Failure behaviour: a statement the parser rejects becomes a `warning` problem with its
// line and the parser's message, and reading goes on. Syntax of other PostgreSQL versions
// that PostgreSQL 15's grammar lacks is recognised and explained (and what can be known
// is recorded). Input that cannot be read on (truncated compression, NUL bytes, a
// statement over the size cap) becomes an `error` problem: the facts read so far are
// written and the artifact is partial.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/input.hpp"
#include "io/scan.hpp"
#include "store/facts.hpp"

namespace dbautopsy::pgdump {

// A COPY ... FROM stdin block about to be streamed.
struct CopyTarget {
  std::optional<std::string> db;
  std::string schema;
  std::string table;
  std::vector<std::string> columns;  // the COPY column list; empty: all columns in order
  // The table's columns as the dump created them (empty when the table is not known).
  std::vector<store::ColumnFact> table_columns;
  // Where table_columns come from when another dump declares them (a data-only dump's table,
  // as its schema-only dump declares it); empty when this dump does.
  std::string table_columns_from;
  bool csv = false;
  // The COPY's options, as the server reads them (pg_dump writes none: text format, a
  // tab, \N). A CSV COPY's defaults are a comma, '"' and NULL as an unquoted empty field.
  char delimiter = '\t';
  char quote = '"';
  char escape = '"';
  std::string null_string = "\\N";
  bool header = false;  // the first line (CSV: record) is a header, not a row
  uint64_t line = 0;
  int64_t section = 0;  // the COPY block's number in the artifact (table_stats.section)
};

// Receives the rows of one COPY block. Rows arrive in bulk, as the reader scans them:
// rows() gets complete rows, each ending in '\n', in COPY's text format (for a CSV COPY,
// raw lines). A row longer than the read buffer arrives through long_row() in pieces.
class CopyConsumer {
 public:
  virtual ~CopyConsumer() = default;
  virtual void rows(std::string_view block, uint64_t first_line) = 0;
  // The reader's fast path, for a consumer that can do the reader's scan of a block of whole
  // lines (io::scan_block()) in its own pass over it: takes, as rows() would, the lines of
  // `block` before the first one that begins with "\." or holds a NUL byte, and sets `scan`
  // as io::scan_block() would for the block, with `stop` also where a line with a NUL byte
  // starts (then has_nul) and `non_ascii` possibly set by a few bytes past `stop`. Returns
  // false, having done nothing, when it cannot: the reader then scans and calls rows().
  virtual bool scan_rows(std::string_view block, uint64_t first_line, io::BlockScan& scan) {
    (void)block;
    (void)first_line;
    (void)scan;
    return false;
  }
  virtual void long_row(std::string_view piece, uint64_t line, bool last) = 0;
  // complete: the block ended with "\." (false when the input ended first). A consumer may
  // add what it learnt to the section's table_stats row.
  virtual void end(bool complete, uint64_t end_line, store::TableStatsFact& stats) = 0;
};

// Hands the rows of a COPY block to several consumers in turn.
class FanOut final : public CopyConsumer {
 public:
  explicit FanOut(std::vector<std::unique_ptr<CopyConsumer>> consumers)
      : m_consumers(std::move(consumers)) {}
  void rows(std::string_view block, uint64_t first_line) override {
    for (auto& c : m_consumers) {
      c->rows(block, first_line);
    }
  }
  // The first consumer scans; the others take the rows it took.
  bool scan_rows(std::string_view block, uint64_t first_line, io::BlockScan& scan) override {
    if (m_consumers.empty() || !m_consumers.front()->scan_rows(block, first_line, scan)) {
      return false;
    }
    std::string_view taken = block.substr(0, std::min(scan.stop, block.size()));
    if (!taken.empty()) {
      for (size_t i = 1; i < m_consumers.size(); ++i) {
        m_consumers[i]->rows(taken, first_line);
      }
    }
    return true;
  }
  void long_row(std::string_view piece, uint64_t line, bool last) override {
    for (auto& c : m_consumers) {
      c->long_row(piece, line, last);
    }
  }
  void end(bool complete, uint64_t end_line, store::TableStatsFact& stats) override {
    for (auto& c : m_consumers) {
      c->end(complete, end_line, stats);
    }
  }

 private:
  std::vector<std::unique_ptr<CopyConsumer>> m_consumers;
};

// Decides which COPY blocks someone wants to see; returns nullptr for "just count".
using CopyRouter = std::function<std::unique_ptr<CopyConsumer>(const CopyTarget&)>;

// Rows of INSERT statements into a table someone asked for: each row's values as text
// (nullopt for NULL; an expression that is not a constant is nullopt too).
using InsertRows = std::vector<std::vector<std::optional<std::string>>>;
struct InsertRouter {
  std::function<bool(const std::string& table)> wants;
  std::function<void(const CopyTarget& target, const InsertRows& rows, uint64_t line)> rows;
};

// A dump of one section of a database (pg_dump --section=post-data: indexes, constraints
// and triggers on tables it does not create) read after the dump of its pre-data section,
// as if the two were one file (`cat pre-data.sql post-data.sql`).
struct AppendedDump {
  io::Source* source = nullptr;
  std::string path;  // as shown, for the notice
};

struct PgDumpOptions {
  size_t max_statement_bytes = 16u << 20;
  size_t read_buffer_bytes = 256u << 10;  // the line reader's buffer: L2-sized (tests make it tiny)
  CopyRouter router;
  InsertRouter inserts;
  // Read after the input, with its catalog (its statements' facts are the input's).
  std::vector<AppendedDump> appended;
  // The appended dumps are dumps of other tables of the same database state (pg_dump -t,
  // one file per table), not later sections of this one.
  bool appended_tables = false;
  // This dump's statements on relations it does not create were read after the dump at this
  // path, which creates them (see `appended`): they are not warned about one by one here.
  std::string relations_read_with;
};

struct PgDumpSummary {
  uint64_t statements = 0;
  uint64_t copy_blocks = 0;
  uint64_t copy_rows = 0;
  uint64_t insert_rows = 0;
  uint64_t databases = 0;
  bool saw_header = false;
  bool saw_trailer = false;
};

// Reads the whole stream. Never throws for defects of the input: they are problems in
// `out`. Throws only for failures of the fact store.
PgDumpSummary read_pgdump_sql(io::Source& in, store::FactWriter& out, const PgDumpOptions& options);

// How sure we are that `head` (the first bytes of a file) is a plain-SQL dump: 0 (not)
// to 100 (a pg_dump header).
int sniff_pgdump_sql(std::string_view head);
// The archive formats of pg_dump, which are recognised but not read yet.
bool is_pgdump_custom(std::string_view head);
bool is_pgdump_tar(std::string_view head);

}  // namespace dbautopsy::pgdump
