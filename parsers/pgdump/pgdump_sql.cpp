#include "pgdump/pgdump_sql.hpp"

#include <re2/re2.h>

#include <fmt/format.h>
#include <cstring>
#include <limits>
#include <utility>

#include "base/error.hpp"
#include "base/text.hpp"
#include "io/line_reader.hpp"
#include "io/scan.hpp"
#include "pgdump/copy_text.hpp"
#include "pgdump/version_syntax.hpp"
#include "pgsql/ddl.hpp"
#include "pgsql/names.hpp"
#include "pgsql/parse.hpp"
#include "pgsql/script_lexer.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::pgdump {

namespace {

constexpr size_t k_snippet = 160;
constexpr int k_max_encoding_warnings = 20;

std::string snippet(std::string_view s) {
  return text::abbreviate(text::squash_space(s.substr(0, k_snippet * 2)), k_snippet);
}

// Byte offset of a 1-based character position (libpg_query reports characters).
size_t char_to_byte(std::string_view s, int cursor) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (++chars == static_cast<size_t>(cursor)) {
        return i;
      }
    }
  }
  return s.size();
}

// A database of the dump. Its table_stats and sql_statement rows are written as soon as they
// are known (a dump of a million tables would hold gigabytes of them otherwise), without a
// database name: the name is recorded only for a pg_dumpall or an artifact of several
// databases, which only the end tells; write_all() then names them by their lines (a
// database's statements are the lines from its \connect to the next one).
struct Database {
  std::optional<std::string> name;
  pgsql::Catalog catalog;
  pgsql::Session session;
  uint64_t stats = 0;       // table_stats rows written
  uint64_t statements = 0;  // sql_statement rows written
  uint64_t first_line = 0;  // the line of its \connect (0: the first database)

  bool empty() const { return catalog.empty() && stats == 0 && statements == 0; }
};

// The COPY block being streamed.
struct CopyState {
  bool active = false;
  CopyTarget target;
  std::unique_ptr<CopyConsumer> consumer;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  bool in_quotes = false;  // CSV: inside a quoted field that spans lines
  char quote = '"';
  char escape = '"';
  bool known_table = true;
};

// The table whose "-- Data for Name: ...; Type: TABLE DATA" entry comment was read last, until
// the next entry: pg_dump --inserts writes nothing under it for an empty table, where a COPY
// dump writes an empty COPY. Without rows it still gets its table_stats row, of 0 rows.
struct DataEntry {
  bool active = false;
  std::string schema, table;
  uint64_t line = 0;
  bool saw_data = false;  // an INSERT or a COPY came after it
};

// Consecutive INSERTs into one table, counted as one data section. Their rows go to the
// consumers a COPY block of the table would have (the table statistics: distinct rows,
// stored rows, keys), written in COPY's text format: a dump made with --inserts,
// --column-inserts or --rows-per-insert is analysed as its COPY form would be.
struct InsertRun {
  bool active = false;
  std::string schema, table;
  uint64_t first_line = 0, last_line = 0, rows = 0;
  std::string columns;  // the first INSERT's column list (pg_dump --column-inserts), if any
  std::unique_ptr<CopyConsumer> consumer;  // null: the rows are only counted
  int64_t section = 0;
  // INSERTs without column names (--inserts) give every column, a generated one as DEFAULT,
  // which COPY leaves out: the places of the values left out.
  std::vector<bool> skip;
};

// The rows of an INSERT's VALUES lists as COPY would write them (encode_copy_field's text
// format, a tab between fields, a newline after each row) into `out`, without the
// values at the places `skip` marks. False when a value is not a constant (an expression, a
// function call, DEFAULT).
bool insert_rows_as_copy(const pgsql::Json& values, const std::vector<bool>& skip,
                         std::string& out) {
  out.clear();
  for (const pgsql::Json& list : values) {
    bool first = true;
    size_t at = 0;
    for (const pgsql::Json& v : pgsql::field(pgsql::node_body(list), "items")) {
      if (at < skip.size() && skip[at++]) {
        continue;
      }
      if (!first) {
        out += '\t';
      }
      first = false;
      const pgsql::Json* node = &v;
      while (pgsql::node_type(*node) == "TypeCast") {  // '...'::jsonb
        node = &pgsql::field(pgsql::node_body(*node), "arg");
      }
      if (pgsql::node_type(*node) != "A_Const") {
        return false;
      }
      const pgsql::Json& c = pgsql::node_body(*node);
      if (c.contains("isnull") && pgsql::flag(c, "isnull")) {
        encode_copy_field(std::nullopt, out);
        continue;
      }
      if (c.contains("boolval")) {  // COPY writes booleans as t and f
        out += pgsql::flag(c["boolval"], "boolval") ? 't' : 'f';
        continue;
      }
      std::optional<std::string> text = pgsql::const_text(*node);
      if (!text) {
        return false;
      }
      encode_copy_field(text, out);
    }
    out += '\n';
  }
  return true;
}

// A line pg_dump or pg_dumpall writes to stderr ("pg_dump: reading schemas", "pg_dump:
// warning: ..."), found in the dump when both went to one file (`pg_dump -v DB > FILE 2>&1`).
// No SQL statement starts so.
bool is_tool_message(std::string_view line) {
  return line.starts_with("pg_dump: ") || line.starts_with("pg_dumpall: ");
}

// pg_dump -v's message as it starts the data of a table, written after the COPY line.
constexpr std::string_view k_dumping_contents = "pg_dump: dumping contents of table ";

// Its own severity, for "pg_dump: warning: ..." and "pg_dump: error: ..." (else empty).
std::string_view tool_message_level(std::string_view line) {
  line = line.substr(line.find(": ") + 2);
  for (std::string_view level : {"error: ", "warning: ", "detail: ", "hint: "}) {
    if (line.starts_with(level)) {
      return level.substr(0, level.size() - 2);
    }
  }
  return {};
}

class DumpReader final : public pgsql::ScriptLexer::Handler {
 public:
  DumpReader(store::FactWriter& out, const PgDumpOptions& options)
      : m_out(out), m_options(options), m_lexer(*this, options.max_statement_bytes) {
    start_database(std::nullopt);
  }

  PgDumpSummary run(io::Source& in);
  // Reads one input's lines into the lexer; returns the number of lines read.
  uint64_t read_lines(io::Source& in);

  bool on_statement(pgsql::ScriptStatement& st) override;
  void on_meta_command(std::string_view text, uint64_t line) override;

 private:
  void start_database(std::optional<std::string> name);
  void problem(std::string severity, std::string code, std::string message,
               std::optional<uint64_t> line, std::optional<uint64_t> offset = std::nullopt,
               std::optional<std::string> snip = std::nullopt, bool offset_in_file = false);
  void header_line(std::string_view line);
  void copy_line(const io::Line& line);
  bool copy_block(io::LineReader& reader);
  void utf8_warnings(std::string_view block, uint64_t first_line, uint64_t offset);
  void utf8_piece(const io::Line& piece);
  bool utf8_session() const;
  void end_copy(bool complete, uint64_t end_line);
  bool begin_copy(const pgsql::Json* stmt, const pgsql::ScriptStatement& st);
  void count_insert(const pgsql::Json& stmt, uint64_t line);
  // A run of INSERTs into a table begins (columns: the INSERT's column list, if any).
  void start_insert_run(const std::string& schema, const std::string& table, uint64_t line,
                        std::vector<std::string> columns);
  void flush_insert_run();
  void end_data_entry(bool at_end = false);
  void apply_tree(const pgsql::Json& tree, const pgsql::ScriptStatement& st, bool* copy_started);
  void parse_failed(const pgsql::ScriptStatement& st, const pgsql::ParseError& error);
  void sync_lexer();
  void write_all();
  void note_statement(const pgsql::ScriptStatement& st, std::string type);

  store::FactWriter& m_out;
  const PgDumpOptions& m_options;
  pgsql::ScriptLexer m_lexer;
  std::vector<std::unique_ptr<Database>> m_databases;
  Database* m_db = nullptr;
  std::unique_ptr<pgsql::DdlApplier> m_applier;
  CopyState m_copy;
  InsertRun m_inserts;
  DataEntry m_data_entry;
  PgDumpSummary m_summary;
  store::ArtifactHeader m_header;
  int m_encoding_warnings = 0;
  uint64_t m_encoding_problems = 0;
  uint64_t m_current_line = 0;
  uint64_t m_current_offset = 0;
  bool m_stop = false;            // the input cannot be read on (binary data)
  bool m_cluster = false;         // pg_dumpall's "-- PostgreSQL database cluster dump" was read
  std::string m_utf8_carry;       // an incomplete UTF-8 sequence at the end of a line's piece
  int64_t m_sections = 0;         // COPY blocks and runs of INSERTs so far
  std::string m_insert_block;     // an INSERT's rows in COPY's text format
  int64_t m_read_with_other = 0;  // statements on relations another dump creates
  // Reading an appended later-sections dump that also holds data (pg_dump --section=data
  // --section=post-data, or a dump cut in two by hand): its rows are that dump's own facts
  // (it is read by itself as well), only its statements are this dump's.
  bool m_skip_data = false;
  uint64_t m_skipped_data_blocks = 0;
  // Lines of pg_dump's own messages (its stderr in the same file): how many, the first's line.
  int64_t m_tool_messages = 0;
  uint64_t m_first_tool_message = 0;
  void tool_message(std::string_view text, uint64_t line);
};

void DumpReader::start_database(std::optional<std::string> name) {
  end_data_entry();
  flush_insert_run();
  auto db = std::make_unique<Database>();
  db->name = std::move(name);
  db->first_line = m_databases.empty() ? 0 : m_current_line;
  m_db = db.get();
  m_databases.push_back(std::move(db));
  m_applier = std::make_unique<pgsql::DdlApplier>(
      m_db->catalog, m_db->session, [this](uint64_t line, std::string code, std::string message) {
        if (code == "unknown-object" && !m_options.relations_read_with.empty()) {
          ++m_read_with_other;  // read after the dump that creates them: said once
          return;
        }
        problem("warning", std::move(code), std::move(message), line);
      });
  sync_lexer();
}

void DumpReader::tool_message(std::string_view text, uint64_t line) {
  if (m_tool_messages++ == 0) {
    m_first_tool_message = line;
  }
  if (std::string_view level = tool_message_level(text); !level.empty()) {
    // What pg_dump warned of, or why it failed (the dump then ends short of its trailer).
    problem(level == "error" ? "warning" : "notice", "tool-message",
            fmt::format("pg_dump wrote: {}", text::trim(text)), line);
  }
}

void DumpReader::sync_lexer() {
  m_lexer.set_standard_conforming_strings(m_db->session.standard_conforming_strings);
}

void DumpReader::problem(std::string severity, std::string code, std::string message,
                         std::optional<uint64_t> line, std::optional<uint64_t> offset,
                         std::optional<std::string> snip, bool offset_in_file) {
  store::ProblemFact p;
  p.in_file = offset_in_file;
  if (line) {
    p.line = static_cast<int64_t>(*line);
  }
  if (offset) {
    p.byte_offset = static_cast<int64_t>(*offset);
  }
  p.severity = std::move(severity);
  p.code = std::move(code);
  p.message = std::move(message);
  p.snippet = std::move(snip);
  m_out.add(p);
}

void DumpReader::header_line(std::string_view line) {
  auto value = [&](std::string_view prefix) -> std::optional<std::string> {
    if (line.substr(0, prefix.size()) == prefix) {
      return std::string(text::trim(line.substr(prefix.size())));
    }
    return std::nullopt;
  };
  std::string_view trimmed = text::trim(line);
  if (trimmed.starts_with("-- Name: ") || trimmed.starts_with("-- Data for Name: ") ||
      trimmed.starts_with("-- TOC entry ") || trimmed.starts_with("-- PostgreSQL database")) {
    end_data_entry();
  }
  if (trimmed.starts_with("-- dbautopsy: ")) {
    // The script of an archive says its data was not read (missing, cut, damaged, a TOC
    // cut short): how many rows it has is not known, not 0.
    m_data_entry.saw_data = true;
  }
  static constexpr std::string_view k_data_for = "-- Data for Name: ";
  static constexpr std::string_view k_type = "; Type: TABLE DATA; Schema: ";
  if (size_t type = trimmed.rfind(k_type);
      trimmed.starts_with(k_data_for) && type != std::string_view::npos) {
    // "-- Data for Name: <table>; Type: TABLE DATA; Schema: <schema>; Owner: <owner>", the
    // names as they are, but for line breaks (pg_dump writes them as spaces).
    std::string_view schema = trimmed.substr(type + k_type.size());
    schema = schema.substr(0, schema.find("; Owner: "));
    m_data_entry =
        DataEntry{true, std::string(schema),
                  std::string(trimmed.substr(k_data_for.size(), type - k_data_for.size())),
                  m_current_line, false};
  }
  if (trimmed == "-- PostgreSQL database dump" ||
      trimmed == "-- PostgreSQL database cluster dump") {
    m_cluster = m_cluster || trimmed == "-- PostgreSQL database cluster dump";
    m_summary.saw_header = true;
    m_summary.saw_trailer = false;
  } else if (trimmed == "-- PostgreSQL database dump complete" ||
             trimmed == "-- PostgreSQL database cluster dump complete") {
    m_summary.saw_trailer = true;
  } else if (auto v = value("-- Dumped from database version ")) {
    if (!m_header.dumped_from) {
      m_header.dumped_from = v;
    }
  } else if (auto v2 = value("-- Dumped by pg_dump version ")) {
    if (!m_header.dumped_by) {
      m_header.dumped_by = v2;
    }
  } else if (auto v3 = value("-- Started on ")) {
    if (!m_header.started_on) {
      m_header.started_on = v3;
    }
  } else if (auto v4 = value("-- Completed on ")) {
    m_header.completed_on = v4;
  }
}

uint64_t DumpReader::read_lines(io::Source& in) {
  io::LineReader reader(in, m_options.read_buffer_bytes);
  io::Line line;
  std::string long_line;  // the held-back tail of a long SQL line delivered in pieces
  uint64_t lines = 0;
  try {
    for (;;) {
      if (m_copy.active && m_copy.bytes == 0 && m_copy.rows == 0) {
        // pg_dump -v says "dumping contents of table" once the COPY line is written: with
        // its stderr in the file, that line comes first in the data.
        std::string_view block = reader.complete_lines();
        size_t end = block.find('\n');
        if (end != std::string_view::npos && block.starts_with(k_dumping_contents)) {
          tool_message(block.substr(0, end), reader.next_line_number());
          reader.skip(end + 1, 1);
          continue;
        }
      }
      if (m_copy.active && !m_copy.target.csv && copy_block(reader)) {
        lines = reader.next_line_number() - 1;
        if (m_stop) {
          break;
        }
        continue;
      }
      if (!reader.next(line)) {
        break;
      }
      lines = line.number;
      m_current_line = line.number;
      m_current_offset = line.offset;
      if (std::memchr(line.text.data(), '\0', line.text.size()) != nullptr) {
        size_t at =
            static_cast<const char*>(std::memchr(line.text.data(), '\0', line.text.size())) -
            line.text.data();
        problem("error", "binary-data",
                fmt::format("a NUL byte at line {} (byte {}): a SQL dump is text, this is binary "
                            "data; reading stopped here",
                            line.number, line.offset + at),
                line.number, line.offset + at);
        m_stop = true;
        break;
      }
      if (m_copy.active) {
        if (m_copy.bytes == 0 && m_copy.rows == 0 && line.first_piece && line.complete &&
            line.text.starts_with(k_dumping_contents)) {
          tool_message(line.text, line.number);
          continue;
        }
        copy_line(line);
        continue;
      }
      if (m_lexer.idle() && line.first_piece && line.complete && is_tool_message(line.text)) {
        tool_message(line.text, line.number);
        continue;
      }
      std::string_view text = line.text;
      uint64_t text_offset = line.offset;
      if (!line.complete || !line.first_piece) {
        // A line longer than the read buffer goes to the lexer in pieces; the lexer keeps
        // a lookahead at the end of each, which comes back at the front of the next.
        if (utf8_session()) {
          utf8_piece(line);
        }
        long_line.append(line.text);
        text_offset = line.offset + line.text.size() - long_line.size();
        if (!line.complete) {
          bool paused = false;
          size_t used = m_lexer.feed_piece(long_line, line.number, text_offset, &paused);
          if (paused) {
            m_copy.active = true;  // a COPY statement ended inside the long line
          }
          long_line.erase(0, used);
          continue;
        }
        text = long_line;
      } else if (utf8_session()) {
        utf8_warnings(text, line.number, text_offset);
      }
      if (m_lexer.idle() && line.first_piece && text.size() >= 2 && text[0] == '-' &&
          text[1] == '-') {
        header_line(text);
      }
      if (!m_lexer.feed(text, line.number, text_offset)) {
        // Paused: COPY data starts on the next line.
        m_copy.active = true;
      }
      long_line.clear();
    }
  } catch (const InputError& e) {
    Location where = e.where();
    problem("error", "unreadable", e.detail(),
            lines ? std::optional<uint64_t>(lines) : std::nullopt, where.offset, std::nullopt,
            where.offset_in_file);
  }
  return lines;
}

PgDumpSummary DumpReader::run(io::Source& in) {
  uint64_t lines = read_lines(in);
  if (!m_options.appended.empty() && !m_stop && !m_copy.active &&
      m_lexer.open_construct().empty()) {
    // The dumps of the later sections of the same database, read on with this one's catalog
    // as psql would run the files one after the other. Their lines are their own.
    m_lexer.finish();
    std::vector<std::string> paths;
    for (const AppendedDump& more : m_options.appended) {
      paths.push_back(more.path);
      if (!m_options.appended_tables) {
        // This dump's last data entry and run of INSERTs end here, before the other file's.
        end_data_entry(true);
        flush_insert_run();
        m_skip_data = true;
      }
      read_lines(*more.source);
      if (m_skip_data) {
        end_data_entry(true);
      }
      if (!m_copy.active) {
        m_skip_data = false;  // (inside a COPY cut short, its rows stay unread to the end)
      }
      if (m_stop || m_copy.active || !m_lexer.open_construct().empty()) {
        break;
      }
      m_lexer.finish();
    }
    if (m_options.appended_tables) {
      problem("notice", "tables-joined",
              fmt::format("read with {} after it, dumps of the other tables of the same "
                          "database state (pg_dump -t, one file per table): their facts are "
                          "this dump's, with the lines of those files",
                          text::join(paths, ", ")),
              std::nullopt);
    } else {
      problem("notice", "sections-joined",
              fmt::format("read with {} after it, which holds the indexes, constraints and "
                          "triggers of its tables (pg_dump --section=post-data): their facts "
                          "are this dump's, with the lines of that file{}",
                          text::join(paths, ", "),
                          m_skipped_data_blocks > 0
                              ? "; the table data there is that file's own, not read here"
                              : ""),
              std::nullopt);
    }
  }
  if (m_copy.active && !m_stop) {
    problem("error", "truncated",
            fmt::format("the input ends inside the COPY data of {} that starts at line {} (no "
                        "\"\\.\" line): the dump is truncated; {} rows were read",
                        pgsql::qualified(m_copy.target.schema, m_copy.target.table),
                        m_copy.target.line, m_copy.rows),
            lines);
  }
  if (m_copy.active) {
    end_copy(false, lines);
  }
  std::string open = m_lexer.open_construct();
  if (!open.empty() && !m_stop) {
    problem("error", "truncated",
            fmt::format("the input ends inside {}: the dump is truncated or damaged", open), lines);
  }
  m_lexer.finish();
  end_data_entry(true);
  flush_insert_run();
  if (m_encoding_problems > k_max_encoding_warnings) {
    problem("warning", "invalid-utf8",
            fmt::format("{} lines with invalid UTF-8 in all; only the first {} are listed",
                        m_encoding_problems, k_max_encoding_warnings),
            std::nullopt);
  }
  if (lines == 0) {
    problem("error", "empty", "the file is empty: no SQL to read", std::nullopt);
  } else if (m_summary.saw_header && !m_summary.saw_trailer) {
    problem("notice", "dump-incomplete",
            "the dump has pg_dump's header but not its closing \"-- PostgreSQL database dump "
            "complete\" line: it was cut short or edited",
            lines);
  }
  if (m_tool_messages > 0) {
    problem(
        "notice", "tool-messages",
        fmt::format("{} lines of pg_dump's own messages, from line {} on (\"pg_dump: ...\": its "
                    "stderr written into the same file, as `pg_dump -v DB > FILE 2>&1` does), "
                    "are not SQL and were passed over",
                    m_tool_messages, m_first_tool_message),
        m_first_tool_message);
  }
  if (m_read_with_other > 0) {
    problem("notice", "sections-joined",
            fmt::format("{} statements on tables this dump does not create (pg_dump "
                        "--section=post-data) were read after {}, which creates them: their "
                        "indexes and constraints are that dump's facts",
                        m_read_with_other, m_options.relations_read_with),
            std::nullopt);
  }
  write_all();
  store::set_artifact_header(m_out.store(), m_out.artifact_id(), m_header);
  store::set_artifact_progress(m_out.store(), m_out.artifact_id(),
                               static_cast<int64_t>(in.offset()), static_cast<int64_t>(lines));
  return m_summary;
}

void DumpReader::write_all() {
  // Database names are recorded when the artifact is a pg_dumpall (even of one user
  // database: template1 and postgres are most often empty) or holds several databases; roles
  // and CREATE DATABASE before a \connect are cluster-wide and do not count.
  int with_content = 0;
  for (const auto& db : m_databases) {
    if (db->catalog.has_database_objects() || db->stats > 0) {
      ++with_content;
    }
  }
  for (size_t i = 0; i < m_databases.size(); ++i) {
    const auto& db = m_databases[i];
    if (db->empty()) {
      continue;
    }
    store::OptText name = with_content > 1 || m_cluster ? db->name : std::nullopt;
    db->catalog.finalize();
    db->catalog.write(m_out, name);
    if (name && (db->stats > 0 || db->statements > 0)) {
      // Its rows of table_stats and sql_statement were written without the name.
      int64_t from = static_cast<int64_t>(db->first_line);
      int64_t to = i + 1 < m_databases.size() ? static_cast<int64_t>(m_databases[i + 1]->first_line)
                                              : std::numeric_limits<int64_t>::max();
      for (const char* table : {"table_stats", "sql_statement"}) {
        m_out.store()
            .prepare(fmt::format("UPDATE {} SET db = ? WHERE artifact_id = ? AND db IS NULL AND "
                                 "line >= ? AND line < ?",
                                 table))
            .run(*name, m_out.artifact_id(), from, to);
      }
    }
  }
  m_summary.databases = static_cast<uint64_t>(with_content);
}

void DumpReader::on_meta_command(std::string_view text, uint64_t line) {
  std::string_view cmd = text.substr(0, text.find_first_of(" \t"));
  std::string_view args = cmd.size() < text.size() ? text::trim(text.substr(cmd.size())) : "";
  if (cmd == "\\connect" || cmd == "\\c") {
    // \connect [-reuse-previous=on|off] dbname-or-conninfo [user] [host] [port]
    std::optional<std::string> dbname = pgsql::connect_database(args);
    flush_insert_run();
    start_database(dbname);
    return;
  }
  if (cmd == "\\restrict" || cmd == "\\unrestrict" || cmd == "\\." || cmd == "\\set" ||
      cmd == "\\encoding") {
    // \restrict / \unrestrict (pg_dump 17.6+, 16.10+, 15.14+) fence the dump against
    // injected meta-commands; nothing to record.
    if (cmd == "\\encoding" && !args.empty()) {
      m_db->session.client_encoding = std::string(args);
    }
    return;
  }
  problem("warning", "meta-command",
          fmt::format("psql meta-command {} at line {} is not understood and was ignored",
                      std::string(cmd), line),
          line, std::nullopt, std::string(text.substr(0, k_snippet)));
}

void DumpReader::note_statement(const pgsql::ScriptStatement& st, std::string type) {
  store::StatementFact f;
  f.line = static_cast<int64_t>(st.first_line);
  f.end_line = static_cast<int64_t>(st.last_line ? st.last_line : st.first_line);
  f.type = std::move(type);
  f.bytes = static_cast<int64_t>(st.size);
  m_out.add(f);
  ++m_db->statements;
}

bool DumpReader::on_statement(pgsql::ScriptStatement& st) {
  ++m_summary.statements;
  if (m_db) {
    // What the statement before decoded is encoded again (a dump of a million tables holds
    // its schema in a few hundred bytes a table); no pointer into the catalog is kept
    // from one statement to the next.
    m_db->catalog.settle();
  }
  if (st.oversized) {
    problem(
        "error", "statement-too-long",
        fmt::format("the statement at {} is {}, over the {} limit "
                    "(--max-statement-mb); it was skipped",
                    st.last_line > st.first_line
                        ? fmt::format("lines {}-{}", st.first_line, st.last_line)
                        : fmt::format("line {}", st.first_line),
                    text::human_bytes(st.size), text::human_bytes(m_options.max_statement_bytes)),
        st.first_line, st.offset, snippet(st.text));
    note_statement(st, "unparsed");
    // A COPY that is too long to parse would still be followed by data.
    if (text::istarts_with(st.text, "copy")) {
      return begin_copy(nullptr, st);
    }
    return false;
  }
  if (!st.terminated) {
    problem("warning", "unterminated",
            fmt::format("the last statement (line {}) has no terminating semicolon; psql would "
                        "still run it",
                        st.first_line),
            st.first_line);
  }
  pgsql::ParseResult parsed = pgsql::parse(st.text);
  if (!parsed.ok()) {
    if (text::istarts_with(text::trim(st.text), "copy") &&
        pgsql::find_keyword(st.text, "stdin") != std::string::npos) {
      parse_failed(st, *parsed.error);
      return begin_copy(nullptr, st);
    }
    if (auto recovered = recover_other_version(st.text)) {
      problem("warning", "other-version-syntax", recovered->explanation, st.first_line, st.offset,
              snippet(st.text));
      for (const auto& fact : recovered->objects) {
        store::ObjectFact of = fact;
        of.line = static_cast<int64_t>(st.first_line);
        m_db->catalog.objects.push_back(of);
      }
      pgsql::ParseResult again;
      if (!recovered->rewritten.empty()) {
        again = pgsql::parse(recovered->rewritten);
      }
      if (recovered->rewritten.empty() || !again.ok()) {
        note_statement(st, "unparsed");
      } else {
        {
          pgsql::ScriptStatement rewritten = st;
          rewritten.text = recovered->rewritten;
          bool copy = false;
          apply_tree(again.tree, rewritten, &copy);
          for (const auto& [table, column] : recovered->virtual_columns) {
            (void)table;
            std::vector<pgsql::QualifiedName> made;
            m_db->catalog.for_each_relation([&](const pgsql::RelationModel& rel) {
              if (rel.fact.line == static_cast<int64_t>(st.first_line)) {
                made.emplace_back(rel.fact.schema_name, rel.fact.name);
              }
            });
            for (const auto& key : made) {
              if (auto* col = m_db->catalog.relation(key)->column(column)) {
                col->generated = "virtual";
              }
            }
          }
        }
      }
      return false;
    }
    parse_failed(st, *parsed.error);
    return false;
  }
  bool copy = false;
  apply_tree(parsed.tree, st, &copy);
  return copy;
}

void DumpReader::parse_failed(const pgsql::ScriptStatement& st, const pgsql::ParseError& error) {
  note_statement(st, "unparsed");
  size_t at = error.cursor > 0 ? char_to_byte(st.text, error.cursor) : 0;
  uint64_t line = pgsql::line_at(st.text, at, st.first_line);
  problem("error", "sql-syntax",
          fmt::format("PostgreSQL 15's parser rejects the statement at line {}: {}{}",
                      st.first_line, error.message,
                      error.cursor > 0 ? fmt::format(" (at line {})", line) : std::string()),
          line, st.offset + at, snippet(st.text));
}

void DumpReader::apply_tree(const pgsql::Json& tree, const pgsql::ScriptStatement& st,
                            bool* copy_started) {
  for (const pgsql::Json& item : pgsql::field(tree, "stmts")) {
    const pgsql::Json& node = pgsql::field(item, "stmt");
    std::string_view type = pgsql::node_type(node);
    if (type != "InsertStmt") {
      note_statement(st, std::string(type.empty() ? "empty" : type));
    }
    if (type == "InsertStmt") {
      if (m_skip_data) {
        ++m_skipped_data_blocks;
        continue;
      }
      count_insert(pgsql::node_body(node), st.first_line);
      continue;
    }
    flush_insert_run();
    if (type == "CopyStmt") {
      const pgsql::Json& copy = pgsql::node_body(node);
      if (pgsql::flag(copy, "is_from") && pgsql::field(copy, "filename").is_null() &&
          !pgsql::flag(copy, "is_program")) {
        *copy_started = begin_copy(&copy, st);
      }
      continue;
    }
    m_applier->apply(node, pgsql::StatementText{st.text, st.first_line});
    if (type == "VariableSetStmt" || type == "SelectStmt") {
      sync_lexer();
    }
  }
}

bool DumpReader::begin_copy(const pgsql::Json* copy, const pgsql::ScriptStatement& st) {
  m_data_entry.saw_data = true;
  m_copy = CopyState{};
  m_copy.active = false;  // set by run() once the lexer pauses
  m_copy.target.db = m_db->name;
  m_copy.target.line = st.first_line;
  m_copy.target.section = ++m_sections;
  if (copy) {
    const pgsql::Json& rv = pgsql::field(*copy, "relation");
    auto key = m_applier->resolve_or_guess(rv);
    if (key) {
      m_copy.target.schema = key->first;
      m_copy.target.table = key->second;
      if (const auto* rel = m_db->catalog.relation(*key)) {
        m_copy.target.table_columns = rel->columns;
      } else {
        m_copy.known_table = false;
      }
    } else {
      m_copy.target.table = pgsql::str(rv, "relname");
      m_copy.known_table = false;
    }
    for (const pgsql::Json& a : pgsql::field(*copy, "attlist")) {
      m_copy.target.columns.push_back(pgsql::str(pgsql::node_body(a), "sval"));
    }
    std::optional<char> delimiter;
    std::optional<std::string> null_string;
    for (const pgsql::Json& o : pgsql::field(*copy, "options")) {
      const pgsql::Json& d = pgsql::node_body(o);
      std::string name = pgsql::str(d, "defname");
      auto value = pgsql::const_text(pgsql::field(d, "arg"));
      if (name == "format" && value && text::iequals(*value, "csv")) {
        m_copy.target.csv = true;
      } else if (name == "csv") {
        m_copy.target.csv = true;
      } else if (name == "quote" && value && !value->empty()) {
        m_copy.quote = (*value)[0];
      } else if (name == "escape" && value && !value->empty()) {
        m_copy.escape = (*value)[0];
      } else if (name == "delimiter" && value && !value->empty()) {
        delimiter = (*value)[0];
      } else if (name == "null" && value) {
        null_string = *value;
      } else if (name == "header") {
        // HEADER alone is true; HEADER true/on/1/match, false/off/0 (a boolean or a word).
        m_copy.target.header = !value || !(text::iequals(*value, "false") ||
                                           text::iequals(*value, "off") || *value == "0");
      }
    }
    if (m_copy.target.csv && m_copy.escape == '"' && m_copy.quote != '"') {
      m_copy.escape = m_copy.quote;
    }
    m_copy.target.delimiter = delimiter.value_or(m_copy.target.csv ? ',' : '\t');
    m_copy.target.null_string = null_string.value_or(m_copy.target.csv ? "" : "\\N");
    m_copy.target.quote = m_copy.quote;
    m_copy.target.escape = m_copy.escape;
  } else {
    m_copy.target.table = "?";
    m_copy.known_table = false;
  }
  if (m_skip_data) {
    ++m_skipped_data_blocks;
    return true;  // its lines are passed over (end_copy keeps no fact of them)
  }
  if (m_options.router) {
    m_copy.consumer = m_options.router(m_copy.target);
  }
  ++m_summary.copy_blocks;
  return true;
}

void DumpReader::copy_line(const io::Line& line) {
  std::string_view t = line.text;
  if (line.first_piece && line.complete && !m_copy.in_quotes && (t == "\\." || t == "\\.\r")) {
    end_copy(true, line.number);
    if (!m_lexer.resume()) {
      m_copy.active = true;
    }
    return;
  }
  if (utf8_session()) {
    utf8_warnings(t, line.number, line.offset);
  }
  m_copy.bytes += t.size() + (line.has_newline ? 1 : 0);
  bool row_ends = line.complete;
  if (m_copy.target.csv) {
    // A quoted CSV field may hold newlines: the row ends only outside quotes.
    for (char c : t) {
      if (c == m_copy.quote) {
        m_copy.in_quotes = !m_copy.in_quotes;
      }
    }
    row_ends = line.complete && !m_copy.in_quotes;
  }
  if (m_copy.consumer) {
    if (line.complete && line.first_piece && line.has_newline) {
      // The line's '\n' follows it in the reader's buffer.
      m_copy.consumer->rows(std::string_view(t.data(), t.size() + 1), line.number);
    } else {
      m_copy.consumer->long_row(t, line.number, line.complete);
    }
  }
  if (row_ends) {
    ++m_copy.rows;
  }
}

bool DumpReader::utf8_session() const {
  return text::iequals(m_db->session.client_encoding, "UTF8") ||
         text::iequals(m_db->session.client_encoding, "UTF-8");
}

// Reports the lines of `block` that are not valid UTF-8 (the first few in full, all in the
// final count).
void DumpReader::utf8_warnings(std::string_view block, uint64_t first_line, uint64_t offset) {
  size_t from = 0;
  // The line of a bad byte, counted on from the last one (a block of rows that are all
  // LATIN1 would otherwise be counted from its start once per row).
  uint64_t line = first_line;
  size_t counted = 0;
  while (from < block.size()) {
    auto bad = text::invalid_utf8_at(block.substr(from));
    if (!bad) {
      return;
    }
    size_t at = from + *bad;
    line += io::count_newlines(block.substr(counted, at - counted));
    counted = at;
    ++m_encoding_problems;
    if (++m_encoding_warnings <= k_max_encoding_warnings) {
      std::string what =
          m_copy.active ? fmt::format("in the COPY data of {}",
                                      pgsql::qualified(m_copy.target.schema, m_copy.target.table))
                        : std::string("in a statement");
      problem("warning", "invalid-utf8",
              fmt::format("invalid UTF-8 {} at line {}, byte {}, while the dump declares "
                          "client_encoding UTF8: the server would reject it",
                          what, line, offset + at),
              line, offset + at);
    }
    size_t nl = block.find('\n', at);
    from = nl == std::string_view::npos ? block.size() : nl + 1;
  }
}

// UTF-8 check of a line that arrives in pieces: a character cut at the end of a piece is
// carried over to the next one.
void DumpReader::utf8_piece(const io::Line& piece) {
  std::string data = m_utf8_carry + std::string(piece.text);
  size_t upto = data.size();
  if (!piece.complete) {
    size_t back = 0;
    while (back < 3 && back < data.size() &&
           (static_cast<unsigned char>(data[data.size() - 1 - back]) & 0xC0) == 0x80) {
      ++back;
    }
    if (back < data.size() && static_cast<unsigned char>(data[data.size() - 1 - back]) >= 0xC0) {
      upto = data.size() - 1 - back;  // a lead byte whose sequence may go on
    }
  }
  utf8_warnings(std::string_view(data).substr(0, upto), piece.number,
                piece.offset - m_utf8_carry.size());
  m_utf8_carry = data.substr(upto);
  if (piece.complete) {
    m_utf8_carry.clear();
  }
}

// The fast path for COPY data in text format: takes every complete row the reader has
// buffered, up to the "\." line, in one scan. Returns false when it made no progress (the
// terminator is next, or a long line or the end of the data is next: copy_line handles
// those one line at a time).
bool DumpReader::copy_block(io::LineReader& reader) {
  std::string_view block = reader.complete_lines();
  if (block.empty()) {
    return false;
  }
  uint64_t first_line = reader.next_line_number();
  uint64_t offset = reader.position();
  // One pass when the consumer can scan for the reader: it takes the rows as it goes.
  io::BlockScan scan;
  const bool taken = m_copy.consumer && m_copy.consumer->scan_rows(block, first_line, scan);
  if (!taken) {
    scan = io::scan_block(block);
  }
  // The data ends at a line that is exactly "\." (a line merely starting with it is data
  // that psql would also take as the end, so it ends here too).
  std::string_view rows =
      block.substr(0, scan.stop == std::string_view::npos ? block.size() : scan.stop);
  if (taken && scan.has_nul) {
    // The consumer stopped at the line of the NUL byte: report it as below.
    rows = block.substr(0, block.find('\0', scan.stop) + 1);
  }
  if (rows.empty()) {
    return false;  // the "\." line is next: copy_line ends the block
  }

  if (scan.has_nul) {
    size_t at = rows.find('\0');
    uint64_t line = first_line + io::count_newlines(rows.substr(0, at));
    problem("error", "binary-data",
            fmt::format("a NUL byte at line {} (byte {}): a SQL dump is text, this is binary "
                        "data; reading stopped here",
                        line, offset + at),
            line, offset + at);
    // Keep the rows before the bad line.
    size_t line_start = rows.rfind('\n', at);
    rows = rows.substr(0, line_start == std::string_view::npos ? 0 : line_start + 1);
    if (!taken) {
      scan = io::scan_block(rows);
    }
    m_stop = true;
  }
  if (scan.non_ascii && utf8_session()) {
    utf8_warnings(rows, first_line, offset);
  }
  if (!taken && m_copy.consumer && !rows.empty()) {
    m_copy.consumer->rows(rows, first_line);
  }
  m_copy.rows += scan.newlines;
  m_copy.bytes += rows.size();
  reader.skip(rows.size(), scan.newlines);
  return true;
}

void DumpReader::end_copy(bool complete, uint64_t end_line) {
  if (m_skip_data) {
    m_copy = CopyState{};
    return;
  }
  if (m_copy.target.header && m_copy.rows > 0) {
    --m_copy.rows;  // the first line (record) is the HEADER, not a row
  }
  store::TableStatsFact f;
  f.line = static_cast<int64_t>(m_copy.target.line);
  f.end_line = static_cast<int64_t>(end_line);
  f.schema_name = m_copy.target.schema;
  f.table_name = m_copy.target.table;
  f.source = "copy";
  if (!m_copy.target.columns.empty()) {
    f.columns = text::join(m_copy.target.columns, ", ");
  }
  f.rows = static_cast<int64_t>(m_copy.rows);
  f.bytes = static_cast<int64_t>(m_copy.bytes);
  f.complete = complete;
  f.section = m_copy.target.section;
  if (m_copy.consumer) {
    m_copy.consumer->end(complete, end_line, f);
  }
  m_out.add(f);
  ++m_db->stats;
  m_summary.copy_rows += m_copy.rows;
  m_copy = CopyState{};
}

void DumpReader::start_insert_run(const std::string& schema, const std::string& table,
                                  uint64_t line, std::vector<std::string> columns) {
  m_inserts = InsertRun{true, schema, table, line, line, 0, text::join(columns, ", ")};
  m_inserts.section = ++m_sections;
  // (The rows a reader of their own wants, django_migrations', go to it instead.)
  if (!m_options.router || (m_options.inserts.wants && m_options.inserts.wants(table))) {
    return;
  }
  CopyTarget target;
  target.db = m_db->name;
  target.schema = schema;
  target.table = table;
  target.line = line;
  target.section = m_inserts.section;
  target.columns = std::move(columns);
  if (const auto* rel = m_db->catalog.relation({schema, table})) {
    target.table_columns = rel->columns;
    if (target.columns.empty()) {  // --inserts: the values of every column, in order
      for (const auto& c : rel->columns) {
        m_inserts.skip.push_back(c.generated.has_value());
        if (!c.generated) {
          target.columns.push_back(c.name);
        }
      }
      m_inserts.columns = text::join(target.columns, ", ");
    }
  }
  if (!target.columns.empty()) {
    m_inserts.consumer = m_options.router(target);
  }
}

void DumpReader::count_insert(const pgsql::Json& ins, uint64_t line) {
  m_data_entry.saw_data = true;
  auto key = m_applier->resolve_or_guess(pgsql::field(ins, "relation"));
  std::string schema = key ? key->first : "";
  std::string table = key ? key->second : pgsql::str(pgsql::field(ins, "relation"), "relname");
  if (m_inserts.active && (m_inserts.schema != schema || m_inserts.table != table)) {
    flush_insert_run();
  }
  if (!m_inserts.active) {
    std::vector<std::string> columns;
    for (const pgsql::Json& c : pgsql::field(ins, "cols")) {
      columns.push_back(pgsql::str(pgsql::node_body(c), "name"));
    }
    start_insert_run(schema, table, line, std::move(columns));
  }
  const pgsql::Json& select = pgsql::node_body(pgsql::field(ins, "selectStmt"));
  const pgsql::Json& values = pgsql::field(select, "valuesLists");
  if (m_inserts.consumer) {
    if (values.is_array() && insert_rows_as_copy(values, m_inserts.skip, m_insert_block)) {
      // pg_dump --rows-per-insert writes each row on a line of its own after the INSERT's.
      m_inserts.consumer->rows(m_insert_block, values.size() > 1 ? line + 1 : line);
    } else {
      // INSERT ... SELECT, or a value that is not a constant: its rows cannot be compared
      // with a COPY's, and the section is only counted (said once per run).
      m_inserts.consumer.reset();
      store::ProblemFact p;
      p.line = static_cast<int64_t>(line);
      p.severity = "notice";
      p.code = "pgdump-insert-not-constant";
      p.message = fmt::format(
          "line {}: an INSERT into {} whose values are not all constants: the rows of this "
          "run of INSERTs are counted, not analysed (no distinct or repeated rows, keys or "
          "references)",
          line, table);
      m_out.add(p);
    }
  }
  if (m_options.inserts.wants && m_options.inserts.wants(table) && values.is_array()) {
    CopyTarget target;
    target.db = m_db->name;
    target.schema = schema;
    target.table = table;
    target.line = line;
    for (const pgsql::Json& c : pgsql::field(ins, "cols")) {
      target.columns.push_back(pgsql::str(pgsql::node_body(c), "name"));
    }
    InsertRows rows;
    for (const pgsql::Json& list : values) {
      std::vector<std::optional<std::string>> row;
      for (const pgsql::Json& v : pgsql::field(pgsql::node_body(list), "items")) {
        row.push_back(pgsql::const_text(v));
      }
      rows.push_back(std::move(row));
    }
    m_options.inserts.rows(target, rows, line);
  }
  uint64_t rows = values.is_array() ? values.size() : 1;
  m_inserts.rows += rows;
  m_inserts.last_line = line;
  m_summary.insert_rows += rows;
}

void DumpReader::flush_insert_run() {
  if (!m_inserts.active || m_db == nullptr) {
    return;
  }
  store::TableStatsFact f;
  f.line = static_cast<int64_t>(m_inserts.first_line);
  f.end_line = static_cast<int64_t>(m_inserts.last_line);
  f.schema_name = m_inserts.schema;
  f.table_name = m_inserts.table;
  f.source = "insert";
  if (!m_inserts.columns.empty()) {
    f.columns = m_inserts.columns;
  }
  f.rows = static_cast<int64_t>(m_inserts.rows);
  if (m_inserts.consumer) {
    f.section = m_inserts.section;
    m_inserts.consumer->end(true, m_inserts.last_line, f);
  }
  m_out.add(f);
  ++m_db->stats;
  m_inserts = InsertRun{};
}

void DumpReader::end_data_entry(bool at_end) {
  DataEntry entry = std::exchange(m_data_entry, DataEntry{});
  if (!entry.active || entry.saw_data || m_db == nullptr || m_skip_data) {
    return;
  }
  if (at_end) {
    // The input ends at the entry's comment, before pg_dump's closing line: the file was
    // cut there (a dump split in two by hand at its data), and its rows are elsewhere, not
    // none.
    return;
  }
  // A table of this dump's schema, or any table when the dump holds no schema (a data-only
  // dump: a COPY one has a row for every table, as this gives).
  if (m_db->catalog.has_database_objects() &&
      m_db->catalog.relation({entry.schema, entry.table}) == nullptr) {
    return;
  }
  flush_insert_run();
  // A run of no INSERT, at the entry's comment: an empty table, analysed as its empty COPY
  // block would be.
  start_insert_run(entry.schema, entry.table, entry.line, {});
  flush_insert_run();
}

}  // namespace

PgDumpSummary read_pgdump_sql(io::Source& in, store::FactWriter& out,
                              const PgDumpOptions& options) {
  DumpReader reader(out, options);
  return reader.run(in);
}

int sniff_pgdump_sql(std::string_view head) {
  if (head.find('\0') != std::string_view::npos) {
    return 0;
  }
  if (head.find("-- PostgreSQL database dump") != std::string_view::npos ||
      head.find("-- PostgreSQL database cluster dump") != std::string_view::npos) {
    return 100;
  }
  // Header stripped by other tooling (dbmate, Rails) or a 7.x-era dump: look at the first
  // statement after comments.
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find('\n', pos);
    std::string_view line =
        text::trim(head.substr(pos, eol == std::string_view::npos ? eol : eol - pos));
    pos = eol == std::string_view::npos ? head.size() : eol + 1;
    if (line.empty() || line.substr(0, 2) == "--") {
      continue;
    }
    static const RE2 k_statement(
        R"((?i)^(SET\s+\w+\s*(=|TO)|SELECT\s+pg_catalog\.(set_config|setval)|CREATE\s+(SCHEMA|TABLE|EXTENSION|SEQUENCE|TYPE|FUNCTION|DOMAIN|DATABASE|ROLE)|DROP\s+(DATABASE|TABLE|SCHEMA)|ALTER\s+TABLE\s|COPY\s+\S.*\sFROM\s+stdin\s*;|\\connect|\\restrict))");
    return RE2::PartialMatch(line, k_statement) ? 60 : 0;
  }
  return 0;
}

bool is_pgdump_custom(std::string_view head) {
  return head.substr(0, 5) == "PGDMP";
}

bool is_pgdump_tar(std::string_view head) {
  return head.size() > 262 && head.substr(257, 5) == "ustar" && head.substr(0, 7) == "toc.dat";
}

}  // namespace dbautopsy::pgdump
