// Splits a psql script (a plain pg_dump, a sqlmigrate output) into statements and psql
// meta-commands the way psql itself does (src/fe_utils/psqlscan.l, PostgreSQL 15):
//
//   - a statement ends at a ';' outside quotes, comments and parentheses, and outside a
//     BEGIN ... END block of CREATE FUNCTION/PROCEDURE (SQL-standard bodies), using
//     psql's own heuristic for the latter;
//   - '...', E'...', "...", $tag$...$tag$, -- comments and nested /* */ comments are
//     opaque; with `standard_conforming_strings = off` a backslash escapes inside '...'
//     too, and such literals are handed on as E'...' so that libpg_query, which always
//     assumes the modern setting, reads them as the server did;
//   - a backslash outside quotes starts a meta-command that runs to the end of the line
//     (\connect, \restrict, \unrestrict, ...).
//
// The lexer is fed whole lines. It never sees COPY data: the caller pauses it after a
// COPY ... FROM stdin statement (the data begins on the next line), streams the data
// itself, and resumes it after the "\." line. Statement text is capped: past the cap the
// statement is still followed to its end, but only its start is kept and it is flagged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dbautopsy::pgsql {

struct ScriptStatement {
  std::string text;  // from the first significant character through the ';' (if any)
  uint64_t first_line = 0;
  uint64_t last_line = 0;
  uint64_t offset = 0;      // byte offset of text[0] in the input
  bool terminated = false;  // ended with ';' (false only for the last statement)
  bool oversized = false;   // longer than the cap; `text` holds only its start
  uint64_t size = 0;        // the full size in bytes
};

class ScriptLexer {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Called for each complete statement. Return true to pause the lexer: the rest of the
    // current line is kept until resume().
    virtual bool on_statement(ScriptStatement& statement) = 0;
    virtual void on_meta_command(std::string_view text, uint64_t line) = 0;
  };

  ScriptLexer(Handler& handler, size_t max_statement_bytes);

  void set_standard_conforming_strings(bool on) { m_standard_strings = on; }
  bool standard_conforming_strings() const { return m_standard_strings; }

  // Lexes one line (without its '\n'). Returns false if the handler paused the lexer.
  bool feed(std::string_view line, uint64_t number, uint64_t offset);
  // Lexes a leading part of a line too long to hold whole, and returns how many of its
  // bytes it consumed: it starts no token in the last k_piece_lookahead bytes (they serve
  // as lookahead), so the caller passes the unconsumed rest again, followed by more of
  // the line, in the next feed_piece() or in the final feed(). Sets *paused like feed()'s
  // false return.
  size_t feed_piece(std::string_view piece, uint64_t number, uint64_t offset, bool* paused);
  static constexpr size_t k_piece_lookahead = 128;
  // Lexes what was left of the line on which the lexer paused.
  bool resume();
  // At the end of the input: hands on an unterminated last statement, if any.
  void finish();

  // True when no statement has started and no quote or comment is open.
  bool idle() const { return !m_started && m_state == State::normal; }
  // When the input ends inside a quote or comment: what is open and where it began.
  std::string open_construct() const;

 private:
  enum class State { normal, block_comment, single_quote, double_quote, dollar_quote };

  // Lexes `line`; with line_end false, stops before the lookahead zone and stores how far
  // it got in m_consumed.
  bool lex(std::string_view line, uint64_t number, uint64_t offset, bool line_end);
  void start(uint64_t number, uint64_t offset);
  void append(std::string_view s);
  void append(char c);
  bool emit();
  void reset_statement();
  void note_word(std::string_view word);

  Handler& m_handler;
  size_t m_max;
  bool m_standard_strings = true;

  State m_state = State::normal;
  bool m_started = false;
  ScriptStatement m_statement;
  char m_prev = ' ';  // last character lexed in the current statement, for prefixes
  char m_prev2 = ' ';
  int m_comment_depth = 0;
  bool m_backslash_quote = false;  // inside '...' where backslash escapes
  std::string m_dollar_tag;        // "$tag$" of the open dollar quote
  uint64_t m_construct_line = 0;   // where the open quote / comment began
  int m_paren_depth = 0;
  int m_begin_depth = 0;
  int m_identifier_count = 0;
  char m_identifiers[4] = {};
  // The rest of the current line is a -- comment, or a meta-command's arguments (only
  // ever true between feed_piece() calls).
  bool m_in_line_comment = false;
  bool m_in_meta_command = false;
  bool m_rest_line_end = true;
  size_t m_consumed = 0;

  std::string m_rest;  // the remainder of a paused line
  uint64_t m_rest_line = 0;
  uint64_t m_rest_offset = 0;
  bool m_paused = false;
};

// The database a `\connect` (or `\c`) meta-command connects to, from its arguments (the
// text after the command word), read as psql reads them: an argument runs to unquoted white
// space; "..." is taken without its quotes ("" is one "), '...' without its quotes with
// psql's backslash escapes; a leading -reuse-previous=on|off is an option. The first argument
// is a database name or, when it holds '=' or starts with postgres:// or postgresql://, a
// connection string whose dbname it gives (libpq's key = value form, with '...' values and
// backslash escapes, or a URI). pg_dumpall writes `\connect name`, `\connect "Name"` and,
// for names with other characters than [A-Za-z0-9_.], `\connect -reuse-previous=on
// "dbname='it''s'"` (appendPsqlMetaConnect). nullopt when no database is named (no argument,
// "-", or a connection string without dbname).
std::optional<std::string> connect_database(std::string_view args);

}  // namespace dbautopsy::pgsql
