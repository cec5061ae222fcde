#include "pgsql/script_lexer.hpp"

#include <vector>

#include <fmt/format.h>

#include "base/text.hpp"

namespace dbautopsy::pgsql {

namespace {

bool is_ident_start(char c) {
  auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || u >= 0x80;
}

bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

ScriptLexer::ScriptLexer(Handler& handler, size_t max_statement_bytes)
    : m_handler(handler), m_max(max_statement_bytes) {}

void ScriptLexer::start(uint64_t number, uint64_t offset) {
  if (m_started) {
    return;
  }
  m_started = true;
  m_statement = ScriptStatement{};
  m_statement.first_line = number;
  m_statement.offset = offset;
}

void ScriptLexer::append(std::string_view s) {
  m_statement.size += s.size();
  if (m_statement.text.size() + s.size() > m_max) {
    m_statement.oversized = true;
    return;
  }
  m_statement.text += s;
}

void ScriptLexer::append(char c) {
  append(std::string_view(&c, 1));
}

void ScriptLexer::reset_statement() {
  m_started = false;
  m_statement = ScriptStatement{};
  m_prev = m_prev2 = ' ';
  m_paren_depth = 0;
  m_begin_depth = 0;
  m_identifier_count = 0;
  std::fill(std::begin(m_identifiers), std::end(m_identifiers), '\0');
}

bool ScriptLexer::emit() {
  bool pause = m_handler.on_statement(m_statement);
  reset_statement();
  return pause;
}

// psql's heuristic for SQL-standard function bodies (psqlscan.l, {identifier} rule):
// inside CREATE [OR REPLACE] FUNCTION|PROCEDURE, BEGIN opens a block that END closes, and
// CASE ... END nests inside it, so that the semicolons of the body do not end the statement.
void ScriptLexer::note_word(std::string_view word) {
  if (m_identifier_count == 0) {
    std::fill(std::begin(m_identifiers), std::end(m_identifiers), '\0');
  }
  if (text::iequals(word, "create") || text::iequals(word, "function") ||
      text::iequals(word, "procedure") || text::iequals(word, "or") ||
      text::iequals(word, "replace")) {
    if (m_identifier_count < 4) {
      m_identifiers[m_identifier_count] = text::ascii_lower(word[0]);
    }
  }
  ++m_identifier_count;
  const char* id = m_identifiers;
  if (id[0] == 'c' &&
      (id[1] == 'f' || id[1] == 'p' ||
       (id[1] == 'o' && id[2] == 'r' && (id[3] == 'f' || id[3] == 'p'))) &&
      m_paren_depth == 0) {
    if (text::iequals(word, "begin")) {
      ++m_begin_depth;
    } else if (text::iequals(word, "case")) {
      if (m_begin_depth >= 1) {
        ++m_begin_depth;
      }
    } else if (text::iequals(word, "end")) {
      if (m_begin_depth > 0) {
        --m_begin_depth;
      }
    }
  }
}

bool ScriptLexer::feed(std::string_view line, uint64_t number, uint64_t offset) {
  return lex(line, number, offset, true);
}

size_t ScriptLexer::feed_piece(std::string_view piece, uint64_t number, uint64_t offset,
                               bool* paused) {
  *paused = !lex(piece, number, offset, false);
  return m_consumed;
}

bool ScriptLexer::resume() {
  if (!m_paused) {
    return true;
  }
  m_paused = false;
  std::string rest = std::move(m_rest);
  m_rest.clear();
  return lex(rest, m_rest_line, m_rest_offset, m_rest_line_end);
}

bool ScriptLexer::lex(std::string_view line, uint64_t number, uint64_t offset, bool line_end) {
  size_t i = 0;
  const size_t n = line.size();
  // Tokens start only before `limit`; bytes past it are lookahead for a piece of a line.
  const size_t limit = line_end ? n : (n > k_piece_lookahead ? n - k_piece_lookahead : 0);
  m_consumed = n;
  auto pause_here = [&](size_t next) {
    m_consumed = n;
    m_rest.assign(line.substr(next));
    m_rest_line = number;
    m_rest_offset = offset + next;
    m_rest_line_end = line_end;
    m_paused = true;
    return false;
  };
  auto finish_line = [&]() {
    if (!line_end) {
      return true;
    }
    m_in_line_comment = false;
    m_in_meta_command = false;
    if (m_started) {
      append('\n');
      m_statement.last_line = number;
    }
    if (m_state == State::normal) {
      m_prev2 = m_prev;
      m_prev = ' ';
    }
    return true;
  };
  if (m_in_meta_command) {
    return finish_line();  // the rest of a long meta-command line: already handed on
  }
  auto stop_here = [&](size_t at) {
    m_consumed = at;
    return true;
  };
  if (m_in_line_comment) {
    if (m_started) {
      append(line);
    }
    return finish_line();
  }

  while (i < limit) {
    switch (m_state) {
      case State::block_comment: {
        size_t j = i;
        while (j < limit) {
          if (line[j] == '*' && j + 1 < n && line[j + 1] == '/') {
            j += 2;
            if (--m_comment_depth == 0) {
              m_state = State::normal;
              break;
            }
          } else if (line[j] == '/' && j + 1 < n && line[j + 1] == '*') {
            j += 2;
            ++m_comment_depth;
          } else {
            ++j;
          }
        }
        if (m_started) {
          append(line.substr(i, j - i));
        }
        i = j;
        continue;
      }
      case State::single_quote: {
        size_t j = i;
        bool closed = false;
        while (j < limit) {
          char c = line[j];
          if (c == '\\' && m_backslash_quote) {
            j += 2;
            continue;
          }
          if (c == '\'') {
            if (j + 1 < n && line[j + 1] == '\'') {
              j += 2;
              continue;
            }
            ++j;
            closed = true;
            break;
          }
          ++j;
        }
        j = std::min(j, line_end ? n : std::max(limit, j));
        j = std::min(j, n);
        append(line.substr(i, j - i));
        i = j;
        if (closed) {
          m_state = State::normal;
          m_prev2 = m_prev;
          m_prev = '\'';
        }
        continue;
      }
      case State::double_quote: {
        size_t j = i;
        bool closed = false;
        while (j < limit) {
          if (line[j] == '"') {
            if (j + 1 < n && line[j + 1] == '"') {
              j += 2;
              continue;
            }
            ++j;
            closed = true;
            break;
          }
          ++j;
        }
        append(line.substr(i, j - i));
        i = j;
        if (closed) {
          m_state = State::normal;
          m_prev2 = m_prev;
          m_prev = '"';
        }
        continue;
      }
      case State::dollar_quote: {
        size_t pos = line.find(m_dollar_tag, i);
        if (pos != std::string_view::npos && pos >= limit) {
          pos = std::string_view::npos;  // found only in the lookahead: next time
        }
        size_t j = pos == std::string_view::npos ? limit : pos + m_dollar_tag.size();
        append(line.substr(i, j - i));
        i = j;
        if (pos != std::string_view::npos) {
          m_state = State::normal;
          m_prev2 = m_prev;
          m_prev = '$';
        }
        continue;
      }
      case State::normal:
        break;
    }

    char c = line[i];
    if (is_space(c)) {
      if (m_started) {
        append(c);
      }
      m_prev2 = m_prev;
      m_prev = ' ';
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < n && line[i + 1] == '-') {
      if (m_started) {
        append(line.substr(i));
      }
      m_in_line_comment = !line_end;
      i = n;
      break;
    }
    if (c == '/' && i + 1 < n && line[i + 1] == '*') {
      m_state = State::block_comment;
      m_comment_depth = 1;
      m_construct_line = number;
      if (m_started) {
        append("/*");
      }
      i += 2;
      continue;
    }
    if (c == '\\') {
      // A psql meta-command: the rest of the line. psql keeps any statement in progress.
      m_handler.on_meta_command(line.substr(i), number);
      m_in_meta_command = !line_end;
      i = n;
      break;
    }

    start(number, offset + i);
    if (c == '\'') {
      bool after_ident = is_ident_char(m_prev);
      bool escape_prefix = (m_prev == 'E' || m_prev == 'e') && !is_ident_char(m_prev2);
      m_backslash_quote = escape_prefix;
      if (!m_standard_strings && !after_ident && m_prev != '&') {
        // Old dumps: SET standard_conforming_strings = off. Hand the literal on as E'...'.
        m_backslash_quote = true;
        append('E');
      }
      m_state = State::single_quote;
      m_construct_line = number;
      append(c);
      ++i;
      continue;
    }
    if (c == '"') {
      m_state = State::double_quote;
      m_construct_line = number;
      append(c);
      ++i;
      continue;
    }
    if (c == '$' && !is_ident_char(m_prev)) {
      size_t j = i + 1;
      if (j < n && is_ident_start(line[j]) && line[j] != '$') {
        while (j < n && is_ident_char(line[j]) && line[j] != '$') {
          ++j;
        }
      }
      if (j < n && line[j] == '$') {
        m_dollar_tag.assign(line.substr(i, j + 1 - i));
        m_state = State::dollar_quote;
        m_construct_line = number;
        append(m_dollar_tag);
        i = j + 1;
        continue;
      }
    }
    if (is_ident_start(c) && !is_ident_char(m_prev)) {
      size_t j = i + 1;
      while (j < n && is_ident_char(line[j])) {
        ++j;
      }
      if (j == n && !line_end) {
        return stop_here(i);  // the word may go on in the next piece
      }
      std::string_view word = line.substr(i, j - i);
      note_word(word);
      append(word);
      m_prev2 = j - i >= 2 ? line[j - 2] : m_prev;
      m_prev = line[j - 1];
      i = j;
      continue;
    }
    if (c == '(') {
      ++m_paren_depth;
    } else if (c == ')') {
      if (m_paren_depth > 0) {
        --m_paren_depth;
      }
    } else if (c == ';' && m_paren_depth == 0 && m_begin_depth == 0) {
      append(c);
      m_statement.terminated = true;
      m_statement.last_line = number;
      ++i;
      if (emit()) {
        return pause_here(i);
      }
      continue;
    }
    append(c);
    m_prev2 = m_prev;
    m_prev = c;
    ++i;
  }
  if (!line_end) {
    return stop_here(std::min(i, n));
  }
  return finish_line();
}

void ScriptLexer::finish() {
  if (!m_started) {
    return;
  }
  // Trailing white space of the last statement is not part of it.
  while (!m_statement.text.empty() &&
         (m_statement.text.back() == '\n' || is_space(m_statement.text.back()))) {
    m_statement.text.pop_back();
  }
  if (!m_statement.text.empty() || m_statement.oversized) {
    emit();
  } else {
    reset_statement();
  }
}

std::string ScriptLexer::open_construct() const {
  switch (m_state) {
    case State::normal:
      return {};
    case State::block_comment:
      return fmt::format("a /* comment opened at line {}", m_construct_line);
    case State::single_quote:
      return fmt::format("a string literal opened at line {}", m_construct_line);
    case State::double_quote:
      return fmt::format("a quoted identifier opened at line {}", m_construct_line);
    case State::dollar_quote:
      return fmt::format("a dollar-quoted string ({}) opened at line {}", m_dollar_tag,
                         m_construct_line);
  }
  return {};
}

namespace {

bool is_space_char(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// psql's arguments of a meta-command (psqlscanslash.l, OT_SQLIDHACK: quotes taken off,
// nothing folded to lower case).
std::vector<std::string> meta_arguments(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space_char(s[i])) {
      ++i;
    }
    if (i >= s.size()) {
      break;
    }
    std::string arg;
    while (i < s.size() && !is_space_char(s[i])) {
      if (s[i] == '"') {
        ++i;
        while (i < s.size()) {
          if (s[i] == '"') {
            if (i + 1 < s.size() && s[i + 1] == '"') {
              arg += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          arg += s[i++];
        }
      } else if (s[i] == '\'') {
        ++i;
        while (i < s.size()) {
          if (s[i] == '\'') {
            if (i + 1 < s.size() && s[i + 1] == '\'') {
              arg += '\'';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (s[i] == '\\' && i + 1 < s.size()) {
            char e = s[i + 1];
            arg += e == 'n'   ? '\n'
                   : e == 't' ? '\t'
                   : e == 'r' ? '\r'
                   : e == 'b' ? '\b'
                   : e == 'f' ? '\f'
                              : e;
            i += 2;
            continue;
          }
          arg += s[i++];
        }
      } else {
        arg += s[i++];
      }
    }
    out.push_back(std::move(arg));
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = static_cast<char>(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// libpq's URI: postgresql://[userspec@][hostspec][/dbname][?params], %XX decoded.
std::optional<std::string> uri_database(std::string_view uri) {
  size_t scheme = uri.find("://");
  std::string_view rest = uri.substr(scheme + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view path = rest.substr(slash + 1);
  path = path.substr(0, path.find('?'));
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size() && hex_value(path[i + 1]) >= 0 &&
        hex_value(path[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(path[i + 1]) * 16 + hex_value(path[i + 2]));
      i += 2;
    } else {
      out += path[i];
    }
  }
  if (out.empty()) {
    return std::nullopt;
  }
  return out;
}

// libpq's key = value connection string (conninfo_parse): the value of dbname.
std::optional<std::string> conninfo_database(std::string_view s) {
  std::optional<std::string> db;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space_char(s[i])) {
      ++i;
    }
    size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !is_space_char(s[i])) {
      ++i;
    }
    std::string_view key = s.substr(key_start, i - key_start);
    while (i < s.size() && is_space_char(s[i])) {
      ++i;
    }
    if (i >= s.size() || s[i] != '=') {
      return db;  // libpq refuses the string; what came before stands
    }
    ++i;
    while (i < s.size() && is_space_char(s[i])) {
      ++i;
    }
    std::string value;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      while (i < s.size() && s[i] != '\'') {
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
        }
        value += s[i++];
      }
      ++i;
    } else {
      while (i < s.size() && !is_space_char(s[i])) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
        }
        value += s[i++];
      }
    }
    if (key == "dbname") {
      db = value.empty() ? std::nullopt : std::optional<std::string>(value);
    }
  }
  return db;
}

}  // namespace

std::optional<std::string> connect_database(std::string_view args) {
  std::vector<std::string> list = meta_arguments(args);
  size_t i = 0;
  if (i < list.size() && list[i].starts_with("-reuse-previous")) {
    ++i;
  }
  if (i >= list.size() || list[i].empty() || list[i] == "-") {
    return std::nullopt;
  }
  const std::string& first = list[i];
  if (first.starts_with("postgresql://") || first.starts_with("postgres://")) {
    return uri_database(first);
  }
  if (first.find('=') != std::string::npos) {
    return conninfo_database(first);
  }
  return first;
}

}  // namespace dbautopsy::pgsql
