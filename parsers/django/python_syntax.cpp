#include "django/python_syntax.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "base/utf8.hpp"

namespace dbautopsy::django::py {

namespace {

// How deep expressions may nest before the reader stops descending. Migration files
// nest a handful of levels; the limit exists so that hostile input cannot exhaust the
// stack.
constexpr int k_max_depth = 96;

enum class Tok { name, number, string, op, newline, indent, dedent, end };

struct Token {
  Tok type = Tok::end;
  size_t begin = 0;  // byte offsets into the (normalized) source
  size_t end = 0;
  uint64_t line = 0;
  std::string value;  // strings: the decoded value; others: the text
  bool bytes = false;
  bool formatted = false;
};

bool is_ident_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

bool is_ident_char(unsigned char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Decodes the body of a non-raw literal the way Python's compiler does. \N{...} names
// are kept as written (resolving them needs the Unicode name table).
std::string decode_escapes(std::string_view body, bool bytes) {
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\' || i + 1 >= body.size()) {
      out += c;
      continue;
    }
    char e = body[++i];
    switch (e) {
      case '\n':
        break;  // line continuation inside the literal
      case '\\':
        out += '\\';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x': {
        int h1 = i + 1 < body.size() ? hex_value(body[i + 1]) : -1;
        int h2 = i + 2 < body.size() ? hex_value(body[i + 2]) : -1;
        if (h1 < 0 || h2 < 0) {
          out += "\\x";
          break;
        }
        uint32_t v = static_cast<uint32_t>(h1 * 16 + h2);
        if (bytes) {
          out += static_cast<char>(v);
        } else {
          text::append_utf8(out, v);
        }
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const size_t len = e == 'u' ? 4 : 8;
        uint32_t v = 0;
        bool ok = !bytes && i + len < body.size();
        for (size_t k = 1; ok && k <= len; ++k) {
          int h = hex_value(body[i + k]);
          ok = h >= 0;
          v = v * 16 + static_cast<uint32_t>(ok ? h : 0);
        }
        if (!ok) {
          out += '\\';
          out += e;
          break;
        }
        text::append_utf8(out, v);
        i += len;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7';
               ++k) {
            v = v * 8 + static_cast<uint32_t>(body[++i] - '0');
          }
          if (bytes) {
            out += static_cast<char>(v & 0xFF);
          } else {
            text::append_utf8(out, v);
          }
        } else {
          // Unknown escapes (and \N{...}) keep their backslash, as Python does.
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class Tokenizer {
 public:
  Tokenizer(std::string_view src, std::vector<Problem>& problems)
      : m_src(src), m_problems(problems) {}

  std::vector<Token> run() {
    std::vector<int> indents{0};
    bool line_start = true;
    bool has_tokens = false;  // the current logical line has tokens
    const size_t n = m_src.size();
    while (m_pos < n) {
      if (line_start && m_brackets.empty()) {
        size_t p = m_pos;
        int col = 0;
        while (p < n) {
          char c = m_src[p];
          if (c == ' ') {
            ++col;
          } else if (c == '\t') {
            col = (col / 8 + 1) * 8;
          } else if (c == '\f') {
            col = 0;
          } else {
            break;
          }
          ++p;
        }
        if (p >= n) {
          m_pos = p;
          break;
        }
        if (m_src[p] == '\n' || m_src[p] == '#') {
          // A blank or comment-only line: no tokens, no indentation change.
          size_t nl = m_src.find('\n', p);
          m_pos = nl == std::string_view::npos ? n : nl + 1;
          ++m_line;
          continue;
        }
        if (col > indents.back()) {
          indents.push_back(col);
          push(Tok::indent, p, p, "");
        } else if (col < indents.back()) {
          while (col < indents.back()) {
            indents.pop_back();
            push(Tok::dedent, p, p, "");
          }
          if (col != indents.back()) {
            problem(m_line, "unindent does not match any outer indentation level");
            indents.push_back(col);
          }
        }
        m_pos = p;
        line_start = false;
      }
      char c = m_src[m_pos];
      if (c == ' ' || c == '\t' || c == '\f') {
        ++m_pos;
        continue;
      }
      if (c == '#') {
        size_t nl = m_src.find('\n', m_pos);
        m_pos = nl == std::string_view::npos ? n : nl;
        continue;
      }
      if (c == '\n') {
        if (m_brackets.empty()) {
          if (has_tokens) {
            push(Tok::newline, m_pos, m_pos + 1, "");
            has_tokens = false;
          }
          line_start = true;
        }
        ++m_pos;
        ++m_line;
        continue;
      }
      if (c == '\\') {
        if (m_pos + 1 < n && m_src[m_pos + 1] == '\n') {
          m_pos += 2;
          ++m_line;
        } else if (m_pos + 1 >= n) {
          ++m_pos;
        } else {
          problem(m_line, "unexpected character after line continuation character");
          ++m_pos;
        }
        continue;
      }
      has_tokens = true;
      lex_token();
    }
    for (auto it = m_brackets.rbegin(); it != m_brackets.rend(); ++it) {
      problem(it->second, std::string("'") + it->first + "' was never closed");
    }
    if (has_tokens) {
      push(Tok::newline, n, n, "");
    }
    while (indents.size() > 1) {
      indents.pop_back();
      push(Tok::dedent, n, n, "");
    }
    push(Tok::end, n, n, "");
    return std::move(m_tokens);
  }

 private:
  void push(Tok type, size_t begin, size_t end, std::string value, uint64_t line = 0) {
    Token t;
    t.type = type;
    t.begin = begin;
    t.end = end;
    t.line = line ? line : m_line;
    t.value = std::move(value);
    m_tokens.push_back(std::move(t));
  }

  void problem(uint64_t line, std::string message) {
    m_problems.push_back(Problem{line, std::move(message)});
  }

  void lex_token() {
    const size_t n = m_src.size();
    const size_t start = m_pos;
    const unsigned char c = static_cast<unsigned char>(m_src[m_pos]);
    if (is_ident_start(c)) {
      size_t p = m_pos;
      while (p < n && is_ident_char(static_cast<unsigned char>(m_src[p]))) {
        ++p;
      }
      std::string_view word = m_src.substr(m_pos, p - m_pos);
      if (p < n && (m_src[p] == '\'' || m_src[p] == '"') && is_string_prefix(word)) {
        lex_string(start, p, word);
        return;
      }
      m_pos = p;
      push(Tok::name, start, p, std::string(word));
      return;
    }
    if (c == '\'' || c == '"') {
      lex_string(start, m_pos, {});
      return;
    }
    if (is_digit(c) || (c == '.' && m_pos + 1 < n && is_digit(m_src[m_pos + 1]))) {
      size_t p = m_pos;
      bool radix = c == '0' && p + 1 < n && std::strchr("xXoObB", m_src[p + 1]) != nullptr;
      while (p < n) {
        unsigned char d = static_cast<unsigned char>(m_src[p]);
        if ((d < 0x80 && std::isalnum(d)) || d == '_' || d == '.') {
          ++p;
        } else if ((d == '+' || d == '-') && !radix &&
                   (m_src[p - 1] == 'e' || m_src[p - 1] == 'E')) {
          ++p;
        } else {
          break;
        }
      }
      m_pos = p;
      push(Tok::number, start, p, std::string(m_src.substr(start, p - start)));
      return;
    }
    static constexpr std::array<std::string_view, 13> k_three = {
        "**=", "//=", ">>=", "<<=", "...", "!=", "==", "<=", ">=", "->", ":=", "**", "//"};
    static constexpr std::array<std::string_view, 14> k_two = {
        "<<", ">>", "<>", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "!=", "=="};
    for (std::string_view op : k_three) {
      if (m_src.substr(m_pos, op.size()) == op) {
        m_pos += op.size();
        push(Tok::op, start, m_pos, std::string(op));
        return;
      }
    }
    for (std::string_view op : k_two) {
      if (m_src.substr(m_pos, op.size()) == op) {
        m_pos += op.size();
        push(Tok::op, start, m_pos, std::string(op));
        return;
      }
    }
    static constexpr std::string_view k_single = "()[]{}:,;.+-*/%&|^~<>=@";
    if (k_single.find(static_cast<char>(c)) != std::string_view::npos) {
      ++m_pos;
      if (c == '(' || c == '[' || c == '{') {
        m_brackets.emplace_back(static_cast<char>(c), m_line);
      } else if (c == ')' || c == ']' || c == '}') {
        char want = c == ')' ? '(' : c == ']' ? '[' : '{';
        if (m_brackets.empty()) {
          problem(m_line, std::string("unmatched '") + static_cast<char>(c) + "'");
          return;  // dropped: nothing was open
        }
        if (m_brackets.back().first != want) {
          problem(m_line, std::string("closing '") + static_cast<char>(c) +
                              "' does not match the opening '" + m_brackets.back().first +
                              "' of line " + std::to_string(m_brackets.back().second));
        }
        m_brackets.pop_back();
      }
      push(Tok::op, start, m_pos, std::string(1, static_cast<char>(c)));
      return;
    }
    problem(m_line, "invalid character '" + std::string(1, static_cast<char>(c)) + "' in source");
    // Skip a whole UTF-8 sequence so that the next token starts on a character boundary.
    ++m_pos;
    while (m_pos < n && (static_cast<unsigned char>(m_src[m_pos]) & 0xC0) == 0x80) {
      ++m_pos;
    }
  }

  static bool is_string_prefix(std::string_view word) {
    if (word.size() > 2) {
      return false;
    }
    std::string w;
    for (char ch : word) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    return w == "r" || w == "u" || w == "f" || w == "b" || w == "br" || w == "rb" || w == "fr" ||
           w == "rf" || w == "ur";
  }

  // `start` is where the token (prefix included) begins, `quote_pos` the opening quote.
  void lex_string(size_t start, size_t quote_pos, std::string_view prefix) {
    const size_t n = m_src.size();
    const uint64_t first_line = m_line;
    bool raw = false, bytes = false, formatted = false;
    for (char ch : prefix) {
      char l = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      raw = raw || l == 'r';
      bytes = bytes || l == 'b';
      formatted = formatted || l == 'f';
    }
    const char q = m_src[quote_pos];
    const bool triple = quote_pos + 2 < n && m_src[quote_pos + 1] == q && m_src[quote_pos + 2] == q;
    const size_t body_start = quote_pos + (triple ? 3 : 1);
    size_t p = body_start;
    bool closed = false;
    while (p < n) {
      char ch = m_src[p];
      if (ch == '\\') {
        if (p + 1 < n && m_src[p + 1] == '\n') {
          ++m_line;
        }
        p += 2;
        continue;
      }
      if (triple) {
        if (ch == q && p + 2 < n && m_src[p + 1] == q && m_src[p + 2] == q) {
          closed = true;
          break;
        }
      } else if (ch == q) {
        closed = true;
        break;
      } else if (ch == '\n') {
        break;
      }
      if (ch == '\n') {
        ++m_line;
      }
      ++p;
    }
    p = std::min(p, n);
    std::string_view body = m_src.substr(body_start, p - body_start);
    if (closed) {
      m_pos = p + (triple ? 3 : 1);
    } else {
      problem(first_line,
              std::string("unterminated ") + (triple ? "triple-quoted " : "") + "string literal");
      m_pos = p;  // a single-quoted literal stops at the end of its line
    }
    Token t;
    t.type = Tok::string;
    t.begin = start;
    t.end = m_pos;
    t.line = first_line;
    t.value = raw ? std::string(body) : decode_escapes(body, bytes);
    t.bytes = bytes;
    t.formatted = formatted;
    m_tokens.push_back(std::move(t));
  }

  std::string_view m_src;
  std::vector<Problem>& m_problems;
  std::vector<Token> m_tokens;
  std::vector<std::pair<char, uint64_t>> m_brackets;
  size_t m_pos = 0;
  uint64_t m_line = 1;
};

bool is_keyword(std::string_view w) {
  static constexpr std::array<std::string_view, 31> k_keywords = {
      "and",    "as",   "assert", "async",  "await",  "break",   "class",    "continue",
      "def",    "del",  "elif",   "else",   "except", "finally", "for",      "from",
      "global", "if",   "import", "in",     "is",     "lambda",  "nonlocal", "not",
      "or",     "pass", "raise",  "return", "try",    "while",   "with"};
  return std::find(k_keywords.begin(), k_keywords.end(), w) != k_keywords.end() || w == "yield";
}

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> tokens, std::vector<Problem>& problems)
      : m_src(src), m_tokens(std::move(tokens)), m_problems(problems) {
    m_limit = m_tokens.size() - 1;  // the END token
  }

  void parse_module(Module& m) { parse_statements(m, nullptr, false); }

  Node parse_lone_expression() {
    Node n = parse_testlist();
    skip_newlines();
    if (!at_end()) {
      problem(peek().line, "unexpected " + describe(peek()) + " after the expression");
    }
    return n;
  }

 private:
  // Tokens -------------------------------------------------------------------------
  const Token& peek(size_t k = 0) const {
    size_t i = m_pos + k;
    return i < m_limit ? m_tokens[i] : m_tokens[m_limit];
  }
  bool at_end() const { return m_pos >= m_limit || m_tokens[m_pos].type == Tok::end; }
  bool at_op(std::string_view op, size_t k = 0) const {
    const Token& t = peek(k);
    return t.type == Tok::op && t.value == op && m_pos + k < m_limit;
  }
  bool at_name(std::string_view w, size_t k = 0) const {
    const Token& t = peek(k);
    return t.type == Tok::name && t.value == w && m_pos + k < m_limit;
  }
  const Token& take() {
    const Token& t = peek();
    if (m_pos < m_limit) {
      ++m_pos;
    }
    return t;
  }
  void skip_newlines() {
    while (!at_end() && peek().type == Tok::newline) {
      take();
    }
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case Tok::newline:
        return "end of line";
      case Tok::indent:
        return "indent";
      case Tok::dedent:
        return "dedent";
      case Tok::end:
        return "end of file";
      case Tok::string:
        return "string literal";
      default:
        return "'" + t.value + "'";
    }
  }
  void problem(uint64_t line, std::string message) {
    if (m_abandoned) {
      return;
    }
    m_problems.push_back(Problem{line, std::move(message)});
  }
  std::string source(size_t first_token, size_t end_token) const {
    if (end_token <= first_token || first_token >= m_tokens.size()) {
      return {};
    }
    size_t b = m_tokens[first_token].begin;
    size_t e = m_tokens[end_token - 1].end;
    return e > b ? std::string(m_src.substr(b, e - b)) : std::string();
  }
  Node opaque(size_t first_token, uint64_t line) const {
    Node n;
    n.kind = NodeKind::opaque;
    n.line = line;
    n.text = source(first_token, m_pos);
    return n;
  }
  // Index of the NEWLINE (or END) that ends the logical line starting at m_pos.
  size_t line_end() const {
    size_t i = m_pos;
    while (i < m_tokens.size() && m_tokens[i].type != Tok::newline &&
           m_tokens[i].type != Tok::end) {
      ++i;
    }
    return i;
  }
  static int bracket_delta(const Token& t) {
    if (t.type != Tok::op || t.value.size() != 1) {
      return 0;
    }
    char c = t.value[0];
    return (c == '(' || c == '[' || c == '{') ? 1 : (c == ')' || c == ']' || c == '}') ? -1 : 0;
  }

  // Statements -----------------------------------------------------------------------
  void parse_statements(Module& m, ClassDef* cls, bool until_dedent) {
    while (true) {
      const Token& t = m_tokens[m_pos];
      if (t.type == Tok::end) {
        return;
      }
      if (t.type == Tok::dedent) {
        ++m_pos;
        if (until_dedent) {
          return;
        }
        continue;
      }
      if (t.type == Tok::newline) {
        ++m_pos;
        continue;
      }
      if (t.type == Tok::indent) {
        problem(t.line, "unexpected indent");
        skip_block();
        continue;
      }
      size_t before = m_pos;
      statement(m, cls);
      if (m_pos == before) {
        ++m_pos;  // never stand still
      }
    }
  }

  // At an INDENT: skips to just after the matching DEDENT.
  void skip_block() {
    int depth = 0;
    while (m_tokens[m_pos].type != Tok::end) {
      Tok type = m_tokens[m_pos].type;
      ++m_pos;
      if (type == Tok::indent) {
        ++depth;
      } else if (type == Tok::dedent) {
        if (--depth <= 0) {
          return;
        }
      }
    }
  }

  // Skips the rest of the logical line, its NEWLINE, and an indented block after it.
  void skip_statement_and_block() {
    m_pos = line_end();
    if (m_tokens[m_pos].type == Tok::newline) {
      ++m_pos;
    }
    if (m_tokens[m_pos].type == Tok::indent) {
      skip_block();
    }
  }

  // The first ':' at bracket depth 0 of the current logical line, or npos.
  size_t header_colon() const {
    size_t end = line_end();
    int depth = 0;
    for (size_t i = m_pos; i < end; ++i) {
      depth += bracket_delta(m_tokens[i]);
      if (depth == 0 && m_tokens[i].type == Tok::op && m_tokens[i].value == ":") {
        return i;
      }
    }
    return std::string::npos;
  }

  void statement(Module& m, ClassDef* cls) {
    const Token& t = m_tokens[m_pos];
    m_abandoned = false;
    if (t.type == Tok::op && t.value == "@") {
      m_pos = line_end();  // a decorator: the definition follows on the next line
      return;
    }
    if (t.type == Tok::name) {
      const std::string& w = t.value;
      if (w == "import" || w == "from") {
        import_statement(m);
        return;
      }
      if (w == "def" ||
          (w == "async" && m_pos + 1 < m_tokens.size() && m_tokens[m_pos + 1].value == "def")) {
        size_t i = m_pos + (w == "async" ? 2 : 1);
        FunctionDef f{t.line, i < m_tokens.size() && m_tokens[i].type == Tok::name
                                  ? m_tokens[i].value
                                  : std::string()};
        (cls ? cls->functions : m.functions).push_back(f);
        compound(m, cls, /*descend=*/false);
        return;
      }
      if (w == "class") {
        if (cls) {
          compound(m, cls, false);  // a nested class (Meta, ...): not modelled
        } else {
          class_statement(m);
        }
        return;
      }
      static constexpr std::array<std::string_view, 11> k_compound = {
          "if",     "elif",    "else", "while", "for",  "try",
          "except", "finally", "with", "async", "match"};
      bool is_compound = std::find(k_compound.begin(), k_compound.end(), w) != k_compound.end();
      if (w == "match") {
        // A soft keyword: only a statement when the line ends with ':'.
        is_compound = header_colon() != std::string::npos && m_tokens[line_end() - 1].value == ":";
      }
      if (is_compound) {
        compound(m, cls, true);
        return;
      }
    }
    simple_statements(m, cls);
  }

  // A statement with a ':' header: descends into its body (or skips it).
  void compound(Module& m, ClassDef* cls, bool descend) {
    uint64_t line = m_tokens[m_pos].line;
    size_t colon = header_colon();
    if (colon == std::string::npos) {
      problem(line, "expected ':' after the " + m_tokens[m_pos].value + " statement header");
      skip_statement_and_block();
      return;
    }
    m_pos = colon + 1;
    if (!descend) {
      skip_statement_and_block();
      return;
    }
    if (m_tokens[m_pos].type == Tok::newline) {
      ++m_pos;
      if (m_tokens[m_pos].type == Tok::indent) {
        ++m_pos;
        parse_statements(m, cls, true);
      } else {
        problem(line, "expected an indented block");
      }
      return;
    }
    simple_statements(m, cls);  // `if x: y = 1`
  }

  void class_statement(Module& m) {
    ClassDef c;
    c.line = m_tokens[m_pos].line;
    ++m_pos;  // class
    size_t end = line_end();
    if (m_pos < end && m_tokens[m_pos].type == Tok::name) {
      c.name = m_tokens[m_pos].value;
      ++m_pos;
    } else {
      problem(c.line, "expected a class name");
    }
    size_t saved_limit = m_limit;
    m_limit = end;
    if (at_op("(")) {
      uint64_t open_line = take().line;
      parse_arguments(c.bases, ")", open_line);
    }
    m_limit = saved_limit;
    if (!(m_pos < end && m_tokens[m_pos].type == Tok::op && m_tokens[m_pos].value == ":")) {
      problem(c.line, "expected ':' after the class header");
      skip_statement_and_block();
      m.classes.push_back(std::move(c));
      return;
    }
    ++m_pos;
    // The class is stored before its body is read so that the body can add to it.
    m.classes.push_back(std::move(c));
    size_t index = m.classes.size() - 1;
    if (m_tokens[m_pos].type == Tok::newline) {
      ++m_pos;
      if (m_tokens[m_pos].type == Tok::indent) {
        ++m_pos;
        ClassDef body;
        parse_statements(m, &body, true);
        auto& target = m.classes[index];
        for (auto& a : body.assignments) {
          target.assignments.push_back(std::move(a));
        }
        for (auto& f : body.functions) {
          target.functions.push_back(std::move(f));
        }
      } else {
        problem(m.classes[index].line, "expected an indented block");
      }
      return;
    }
    ClassDef body;
    simple_statements(m, &body);
    for (auto& a : body.assignments) {
      m.classes[index].assignments.push_back(std::move(a));
    }
  }

  std::string dotted_name_tokens(size_t end) {
    std::string out;
    while (m_pos < end && m_tokens[m_pos].type == Tok::name && m_tokens[m_pos].value != "import") {
      out += m_tokens[m_pos].value;
      ++m_pos;
      if (m_pos < end && m_tokens[m_pos].type == Tok::op && m_tokens[m_pos].value == ".") {
        out += '.';
        ++m_pos;
      } else {
        break;
      }
    }
    return out;
  }

  void import_statement(Module& m) {
    const uint64_t line = m_tokens[m_pos].line;
    const bool from = m_tokens[m_pos].value == "from";
    ++m_pos;
    size_t end = line_end();
    // Stop at a ';' that ends this simple statement.
    for (size_t i = m_pos; i < end; ++i) {
      if (m_tokens[i].type == Tok::op && m_tokens[i].value == ";") {
        end = i;
        break;
      }
    }
    auto is_op = [&](std::string_view op) {
      return m_pos < end && m_tokens[m_pos].type == Tok::op && m_tokens[m_pos].value == op;
    };
    auto is_word = [&](std::string_view w) {
      return m_pos < end && m_tokens[m_pos].type == Tok::name && m_tokens[m_pos].value == w;
    };
    bool ok = true;
    if (!from) {
      while (m_pos < end) {
        std::string module = dotted_name_tokens(end);
        if (module.empty()) {
          ok = false;
          break;
        }
        Import imp{line, module, "", module.substr(0, module.find('.'))};
        if (is_word("as")) {
          ++m_pos;
          if (m_pos < end && m_tokens[m_pos].type == Tok::name) {
            imp.alias = m_tokens[m_pos++].value;
          } else {
            ok = false;
          }
        }
        m.imports.push_back(imp);
        if (is_op(",")) {
          ++m_pos;
        } else {
          break;
        }
      }
    } else {
      std::string module;
      while (is_op(".") || is_op("...")) {
        module += m_tokens[m_pos++].value;
      }
      module += dotted_name_tokens(end);
      if (module.empty() || !is_word("import")) {
        ok = false;
      } else {
        ++m_pos;
        bool paren = is_op("(");
        if (paren) {
          ++m_pos;
        }
        if (is_op("*")) {
          ++m_pos;
          m.imports.push_back(Import{line, module, "*", "*"});
        } else {
          while (m_pos < end && m_tokens[m_pos].type == Tok::name) {
            Import imp{line, module, m_tokens[m_pos].value, m_tokens[m_pos].value};
            ++m_pos;
            if (is_word("as")) {
              ++m_pos;
              if (m_pos < end && m_tokens[m_pos].type == Tok::name) {
                imp.alias = m_tokens[m_pos++].value;
              } else {
                ok = false;
              }
            }
            m.imports.push_back(imp);
            if (is_op(",")) {
              ++m_pos;
            } else {
              break;
            }
          }
        }
        if (paren) {
          if (is_op(")")) {
            ++m_pos;
          } else {
            ok = false;
          }
        }
      }
    }
    if (!ok || m_pos < end) {
      problem(line, "malformed import statement");
    }
    m_pos = end;
    if (m_pos < m_tokens.size() && m_tokens[m_pos].type == Tok::op &&
        m_tokens[m_pos].value == ";") {
      ++m_pos;
      if (m_tokens[m_pos].type != Tok::newline && m_tokens[m_pos].type != Tok::end) {
        simple_statements(m, nullptr);
      }
    }
  }

  // Simple statements up to the end of the logical line, split at ';'.
  void simple_statements(Module& m, ClassDef* cls) {
    size_t end = line_end();
    while (m_pos < end) {
      size_t seg_end = end;
      int depth = 0;
      for (size_t i = m_pos; i < end; ++i) {
        depth += bracket_delta(m_tokens[i]);
        if (depth <= 0 && m_tokens[i].type == Tok::op && m_tokens[i].value == ";") {
          seg_end = i;
          break;
        }
      }
      simple_statement(m, cls, seg_end);
      m_pos = seg_end;
      if (m_pos < end) {
        ++m_pos;  // ';'
      }
    }
    if (m_tokens[m_pos].type == Tok::newline) {
      ++m_pos;
    }
  }

  void simple_statement(Module& m, ClassDef* cls, size_t end) {
    if (m_pos >= end) {
      return;
    }
    const Token& first = m_tokens[m_pos];
    if (first.type == Tok::name && (first.value == "import" || first.value == "from")) {
      import_statement(m);
      return;
    }
    // Where the '=' of an assignment are (depth 0), or the ':' of an annotation.
    std::vector<size_t> eqs;
    int depth = 0;
    bool annotated = false;
    for (size_t i = m_pos; i < end; ++i) {
      const Token& t = m_tokens[i];
      depth += bracket_delta(t);
      if (depth == 0 && t.type == Tok::name && t.value == "lambda") {
        break;  // a lambda's default values are not assignments
      }
      if (depth != 0 || t.type != Tok::op) {
        continue;
      }
      if (t.value == "=") {
        eqs.push_back(i);
      } else if (t.value == ":" && eqs.empty() && i == m_pos + 1 && first.type == Tok::name) {
        annotated = true;
      }
    }
    if (eqs.empty()) {
      change_statement(m, cls, end);  // `x += v`, `x.append(v)`; else nothing to record
      return;
    }
    if (first.type == Tok::name && is_keyword(first.value)) {
      return;  // `return x == y`, `assert a, b` and the like contain no assignment
    }
    Assignment a;
    a.line = first.line;
    a.annotated = annotated;
    size_t saved_limit = m_limit;
    if (annotated) {
      a.targets.push_back(first.value);
    } else {
      size_t seg_begin = m_pos;
      for (size_t eq : eqs) {
        m_limit = eq;
        m_pos = seg_begin;
        Node target = parse_testlist();
        if (m_pos < eq) {
          problem(m_tokens[m_pos].line,
                  "unexpected " + describe(m_tokens[m_pos]) + " in an assignment target");
        }
        collect_targets(target, a.targets);
        seg_begin = eq + 1;
      }
    }
    m_pos = eqs.back() + 1;
    m_limit = end;
    if (at_name("yield")) {
      size_t start = m_pos;
      m_pos = end;
      a.value = opaque(start, m_tokens[start].line);
    } else if (m_pos >= end) {
      problem(a.line, "expected a value after '='");
    } else {
      a.value = parse_testlist();
      if (m_pos < end) {
        problem(m_tokens[m_pos].line, "unexpected " + describe(m_tokens[m_pos]));
      }
    }
    m_limit = saved_limit;
    m_pos = end;
    (cls ? cls->assignments : m.assignments).push_back(std::move(a));
  }

  // `a.b op= v` (an augmented assignment) and `a.b.method(...)` (a method called on a name, as
  // a whole statement): kept as an Assignment marked with its `augment`, so that a list built
  // in steps (`operations += [...]`, `operations.append(...)`) can be followed. Any other
  // expression statement is left alone.
  void change_statement(Module& m, ClassDef* cls, size_t end) {
    // The dotted name the statement starts with, and the token after it.
    size_t i = m_pos;
    if (m_tokens[i].type != Tok::name || is_keyword(m_tokens[i].value)) {
      return;
    }
    ++i;
    while (i + 1 < end && m_tokens[i].type == Tok::op && m_tokens[i].value == "." &&
           m_tokens[i + 1].type == Tok::name) {
      i += 2;
    }
    if (i >= end || m_tokens[i].type != Tok::op) {
      return;
    }
    static constexpr std::array<std::string_view, 13> k_augmented = {
        "+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "|=", "^=", "@="};
    const std::string& op = m_tokens[i].value;
    bool augmented = std::find(k_augmented.begin(), k_augmented.end(), op) != k_augmented.end();
    // A method call: the name is `a.b.method`, followed by '(' whose ')' ends the statement.
    bool call = op == "(" && i - m_pos >= 3 && m_tokens[end - 1].type == Tok::op &&
                m_tokens[end - 1].value == ")";
    if (!augmented && !call) {
      return;
    }
    Assignment a;
    a.line = m_tokens[m_pos].line;
    size_t saved_limit = m_limit;
    if (augmented) {
      std::string target;
      for (size_t k = m_pos; k < i; ++k) {
        target += m_tokens[k].value;
      }
      a.targets.push_back(target);
      a.augment = op;
      m_pos = i + 1;
      m_limit = end;
      if (m_pos >= end) {
        problem(a.line, "expected a value after '" + op + "'");
      } else {
        a.value = parse_testlist();
      }
    } else {
      m_limit = end;
      a.value = parse_testlist();
      const Node* callee = a.value.callee();
      if (a.value.kind != NodeKind::call || !callee || callee->kind != NodeKind::attribute ||
          callee->children.empty() || callee->children[0].dotted().empty()) {
        m_limit = saved_limit;
        m_pos = end;
        return;
      }
      a.targets.push_back(callee->children[0].dotted());
      a.augment = "." + callee->text;
    }
    if (m_pos < end) {
      problem(m_tokens[m_pos].line, "unexpected " + describe(m_tokens[m_pos]));
    }
    m_limit = saved_limit;
    m_pos = end;
    (cls ? cls->assignments : m.assignments).push_back(std::move(a));
  }

  static void collect_targets(const Node& target, std::vector<std::string>& out) {
    if (target.kind == NodeKind::tuple || target.kind == NodeKind::list) {
      for (const auto& c : target.children) {
        collect_targets(c, out);
      }
      return;
    }
    std::string d = target.dotted();
    if (!d.empty()) {
      out.push_back(d);
    }
  }

  // Expressions ---------------------------------------------------------------------
  struct DepthGuard {
    explicit DepthGuard(int& d) : depth(d) { ++depth; }
    ~DepthGuard() { --depth; }
    int& depth;
  };

  bool can_start_expression() const {
    const Token& t = peek();
    if (at_end()) {
      return false;
    }
    switch (t.type) {
      case Tok::name:
        return !is_keyword(t.value) || t.value == "lambda" || t.value == "not" ||
               t.value == "await" || t.value == "yield";
      case Tok::number:
      case Tok::string:
        return true;
      case Tok::op:
        return t.value == "(" || t.value == "[" || t.value == "{" || t.value == "-" ||
               t.value == "+" || t.value == "~" || t.value == "..." || t.value == "*" ||
               t.value == "**";
      default:
        return false;
    }
  }

  // Nesting is cut off: the rest of the statement becomes part of an opaque node.
  Node abandon(size_t start, uint64_t line) {
    problem(line, "expression nested too deeply; the rest of the statement is not read");
    m_abandoned = true;
    m_pos = m_limit;
    return opaque(start, line);
  }

  // testlist / exprlist with star elements: a tuple when there is a comma.
  Node parse_testlist() {
    uint64_t line = peek().line;
    Node first = parse_star_or_test();
    if (!at_op(",")) {
      return first;
    }
    Node t;
    t.kind = NodeKind::tuple;
    t.line = line;
    t.children.push_back(std::move(first));
    while (at_op(",")) {
      take();
      if (!can_start_expression()) {
        break;
      }
      size_t before = m_pos;
      t.children.push_back(parse_star_or_test());
      if (m_pos == before) {
        break;
      }
    }
    return t;
  }

  Node parse_star_or_test() {
    if (at_op("*") || at_op("**")) {
      int star = peek().value == "*" ? 1 : 2;
      take();
      Node n = parse_test();
      n.star = star;
      return n;
    }
    return parse_test();
  }

  Node parse_test() {
    DepthGuard guard(m_depth);
    size_t start = m_pos;
    uint64_t line = peek().line;
    if (m_depth > k_max_depth) {
      return abandon(start, line);
    }
    if (at_name("lambda")) {
      take();
      int depth = 0;
      while (!at_end()) {
        if (depth == 0 && at_op(":")) {
          break;
        }
        depth += bracket_delta(peek());
        if (depth < 0) {
          break;
        }
        take();
      }
      if (at_op(":")) {
        take();
        parse_test();
      } else {
        problem(line, "expected ':' in lambda");
      }
      return opaque(start, line);
    }
    if (at_name("yield")) {
      take();
      if (at_name("from")) {
        take();
      }
      if (can_start_expression()) {
        parse_testlist();
      }
      return opaque(start, line);
    }
    Node n = parse_binary(1);
    if (at_name("if")) {
      take();
      parse_binary(1);
      if (at_name("else")) {
        take();
        parse_test();
      } else {
        problem(line, "expected 'else' in a conditional expression");
      }
      return opaque(start, line);
    }
    if (at_op(":=")) {
      take();
      parse_test();
      return opaque(start, line);
    }
    return n;
  }

  // Binary operator at the cursor: its precedence (0: none) and token count.
  int binary_op(std::string& op, size_t& ntok) const {
    const Token& t = peek();
    ntok = 1;
    if (at_end()) {
      return 0;
    }
    if (t.type == Tok::name) {
      if (t.value == "or") {
        op = "or";
        return 1;
      }
      if (t.value == "and") {
        op = "and";
        return 2;
      }
      if (t.value == "in") {
        op = "in";
        return 4;
      }
      if (t.value == "is") {
        if (at_name("not", 1)) {
          op = "is not";
          ntok = 2;
        } else {
          op = "is";
        }
        return 4;
      }
      if (t.value == "not" && at_name("in", 1)) {
        op = "not in";
        ntok = 2;
        return 4;
      }
      return 0;
    }
    if (t.type != Tok::op) {
      return 0;
    }
    static const std::array<std::pair<std::string_view, int>, 21> k_ops = {
        {{"<", 4},  {">", 4},  {"==", 4},  {">=", 4}, {"<=", 4}, {"!=", 4},  {"<>", 4},
         {"|", 5},  {"^", 6},  {"&", 7},   {"<<", 8}, {">>", 8}, {"+", 9},   {"-", 9},
         {"*", 10}, {"/", 10}, {"//", 10}, {"%", 10}, {"@", 10}, {"**", 12}, {"", 0}}};
    for (const auto& [o, prec] : k_ops) {
      if (!o.empty() && t.value == o) {
        op = std::string(o);
        return prec;
      }
    }
    return 0;
  }

  Node parse_binary(int min_prec) {
    DepthGuard guard(m_depth);
    if (m_depth > k_max_depth) {
      return abandon(m_pos, peek().line);
    }
    Node lhs = parse_prefix(min_prec);
    while (true) {
      std::string op;
      size_t ntok = 1;
      int prec = binary_op(op, ntok);
      if (prec == 0 || prec < min_prec) {
        break;
      }
      for (size_t i = 0; i < ntok; ++i) {
        take();
      }
      Node rhs = op == "**" ? parse_binary(11) : parse_binary(prec + 1);
      Node b;
      b.kind = NodeKind::binary;
      b.line = lhs.line;
      b.text = op;
      b.children.push_back(std::move(lhs));
      b.children.push_back(std::move(rhs));
      lhs = std::move(b);
    }
    return lhs;
  }

  Node parse_prefix(int min_prec) {
    uint64_t line = peek().line;
    if (min_prec <= 3 && at_name("not")) {
      take();
      Node u;
      u.kind = NodeKind::unary;
      u.line = line;
      u.text = "not";
      u.children.push_back(parse_binary(3));
      return u;
    }
    if (min_prec <= 11 && (at_op("-") || at_op("+") || at_op("~"))) {
      std::string op = take().value;
      Node u;
      u.kind = NodeKind::unary;
      u.line = line;
      u.text = op;
      u.children.push_back(parse_binary(11));
      return u;
    }
    return parse_atom_expr();
  }

  Node parse_atom_expr() {
    size_t start = m_pos;
    uint64_t line = peek().line;
    if (at_name("await")) {
      take();
      parse_atom_expr();
      return opaque(start, line);
    }
    Node n = parse_atom();
    while (!at_end()) {
      if (at_op(".")) {
        take();
        if (peek().type == Tok::name && !at_end()) {
          Node a;
          a.kind = NodeKind::attribute;
          a.line = n.line;
          a.text = take().value;
          a.children.push_back(std::move(n));
          n = std::move(a);
        } else {
          problem(peek().line, "expected an attribute name after '.'");
          break;
        }
      } else if (at_op("(")) {
        uint64_t open_line = take().line;
        Node c;
        c.kind = NodeKind::call;
        c.line = n.line;
        c.children.push_back(std::move(n));
        parse_arguments(c.children, ")", open_line);
        n = std::move(c);
      } else if (at_op("[")) {
        uint64_t open_line = take().line;
        Node s;
        s.kind = NodeKind::subscript;
        s.line = n.line;
        s.children.push_back(std::move(n));
        size_t index_start = m_pos;
        Node index;
        if (!at_op(":")) {
          index = parse_testlist();
        }
        if (!at_op("]")) {
          skip_to_closer("]");
          index = opaque(index_start, open_line);
        }
        s.children.push_back(std::move(index));
        expect_close("]", open_line);
        n = std::move(s);
      } else {
        break;
      }
    }
    return n;
  }

  // Moves to the `closer` that closes the current bracket (not consuming it), or to the
  // end of the statement.
  void skip_to_closer(std::string_view closer) {
    int depth = 0;
    while (!at_end()) {
      if (depth == 0 && at_op(closer)) {
        return;
      }
      int d = bracket_delta(peek());
      if (depth == 0 && d < 0) {
        return;  // a different closer: the caller reports it
      }
      depth += d;
      take();
    }
  }

  void expect_close(std::string_view closer, uint64_t open_line) {
    if (at_op(closer)) {
      take();
      return;
    }
    problem(peek().line, "expected '" + std::string(closer) + "' to close the bracket of line " +
                             std::to_string(open_line) + ", found " + describe(peek()));
    skip_to_closer(closer);
    if (at_op(closer)) {
      take();
    }
  }

  // A comprehension's `for ... in ... [if ...]` clauses.
  void parse_comp_for() {
    while (at_name("for") || (at_name("async") && at_name("for", 1))) {
      if (at_name("async")) {
        take();
      }
      take();  // for
      size_t before = m_pos;
      parse_binary(5);
      while (at_op(",")) {
        take();
        if (at_name("in")) {
          break;
        }
        parse_binary(5);
      }
      if (m_pos == before) {
        problem(peek().line, "expected a target after 'for'");
      }
      if (at_name("in")) {
        take();
        parse_binary(1);
      } else {
        problem(peek().line, "expected 'in' in a comprehension");
        return;
      }
      while (at_name("if")) {
        take();
        parse_binary(1);
      }
    }
  }

  bool at_comp_for() const { return at_name("for") || (at_name("async") && at_name("for", 1)); }

  // Arguments of a call (or bases of a class), after the opening '('.
  void parse_arguments(std::vector<Node>& out, std::string_view closer, uint64_t open_line) {
    while (!at_end() && !at_op(closer)) {
      size_t before = m_pos;
      uint64_t line = peek().line;
      Node arg;
      if (at_op("*") || at_op("**")) {
        int star = take().value == "*" ? 1 : 2;
        arg = parse_test();
        arg.star = star;
      } else if (peek().type == Tok::name && at_op("=", 1) && !is_keyword(peek().value)) {
        std::string kw = take().value;
        take();  // =
        arg = parse_test();
        arg.keyword = kw;
      } else {
        arg = parse_test();
        if (at_comp_for()) {
          parse_comp_for();
          arg = opaque(before, line);
        }
      }
      out.push_back(std::move(arg));
      if (at_op(",")) {
        take();
        continue;
      }
      if (m_pos == before) {
        break;
      }
      if (!at_op(closer)) {
        break;
      }
    }
    expect_close(closer, open_line);
  }

  // Elements of a list / tuple / set display until `closer`; returns false when a
  // comprehension was found instead (the caller makes the display opaque).
  bool parse_elements(std::vector<Node>& out, std::string_view closer, bool* saw_comma) {
    bool first = true;
    while (!at_end() && !at_op(closer)) {
      size_t before = m_pos;
      out.push_back(parse_star_or_test());
      if (first && at_comp_for()) {
        parse_comp_for();
        return false;
      }
      first = false;
      if (at_op(",")) {
        take();
        if (saw_comma) {
          *saw_comma = true;
        }
        continue;
      }
      if (m_pos == before) {
        problem(peek().line, "unexpected " + describe(peek()));
        take();
      }
      break;
    }
    return true;
  }

  Node parse_atom() {
    DepthGuard guard(m_depth);
    size_t start = m_pos;
    const Token& t = peek();
    uint64_t line = t.line;
    if (m_depth > k_max_depth) {
      return abandon(start, line);
    }
    Node n;
    n.line = line;
    if (at_end()) {
      problem(line, "expected an expression, found " + describe(t));
      return n;
    }
    switch (t.type) {
      case Tok::number:
        n.kind = NodeKind::number;
        n.text = take().value;
        return n;
      case Tok::string: {
        n.kind = NodeKind::string;
        bool any_bytes = false, any_str = false;
        while (!at_end() && peek().type == Tok::string) {
          const Token& s = take();
          n.text += s.value;
          n.formatted = n.formatted || s.formatted;
          (s.bytes ? any_bytes : any_str) = true;
        }
        if (any_bytes && any_str) {
          problem(line, "cannot mix bytes and non-bytes literals");
        }
        if (any_bytes && !any_str) {
          n.kind = NodeKind::bytes;
        }
        return n;
      }
      case Tok::name: {
        const std::string& w = t.value;
        if (w == "True" || w == "False") {
          n.kind = NodeKind::boolean;
          n.text = take().value;
          return n;
        }
        if (w == "None") {
          take();
          n.kind = NodeKind::none;
          return n;
        }
        if (is_keyword(w)) {
          problem(line, "unexpected keyword '" + w + "'");
          take();
          return opaque(start, line);
        }
        n.kind = NodeKind::name;
        n.text = take().value;
        return n;
      }
      case Tok::op:
        break;
      default:
        problem(line, "expected an expression, found " + describe(t));
        return n;  // NEWLINE / INDENT / DEDENT: not consumed, the statement ends here
    }
    if (t.value == "...") {
      take();
      n.kind = NodeKind::ellipsis;
      return n;
    }
    if (t.value == ")" || t.value == "]" || t.value == "}" || t.value == "," || t.value == ":" ||
        t.value == "=") {
      // Left for the enclosing construct, which knows how to go on.
      problem(line, "expected an expression, found " + describe(t));
      return opaque(start, line);
    }
    if (t.value == "(") {
      take();
      if (at_op(")")) {
        take();
        n.kind = NodeKind::tuple;
        return n;
      }
      if (at_name("yield")) {
        skip_to_closer(")");
        expect_close(")", line);
        return opaque(start, line);
      }
      bool comma = false;
      std::vector<Node> elems;
      if (!parse_elements(elems, ")", &comma)) {
        skip_to_closer(")");
        expect_close(")", line);
        return opaque(start, line);
      }
      expect_close(")", line);
      if (!comma && elems.size() == 1 && elems[0].star == 0) {
        return std::move(elems[0]);  // a parenthesised expression
      }
      n.kind = NodeKind::tuple;
      n.children = std::move(elems);
      return n;
    }
    if (t.value == "[") {
      take();
      n.kind = NodeKind::list;
      if (!parse_elements(n.children, "]", nullptr)) {
        skip_to_closer("]");
        expect_close("]", line);
        return opaque(start, line);
      }
      expect_close("]", line);
      return n;
    }
    if (t.value == "{") {
      take();
      n.kind = NodeKind::dict;
      if (at_op("}")) {
        take();
        return n;
      }
      bool is_dict = at_op("**");
      bool first = true;
      while (!at_end() && !at_op("}")) {
        size_t before = m_pos;
        if (at_op("**")) {
          take();
          Node e = parse_binary(5);
          e.star = 2;
          n.children.push_back(std::move(e));
        } else {
          Node key = parse_star_or_test();
          if (first && at_op(":")) {
            is_dict = true;
          }
          if (is_dict) {
            Node entry;
            entry.kind = NodeKind::tuple;
            entry.line = key.line;
            entry.children.push_back(std::move(key));
            if (at_op(":")) {
              take();
              entry.children.push_back(parse_test());
            } else {
              problem(peek().line, "expected ':' in a dict display");
              entry.children.emplace_back();
            }
            n.children.push_back(std::move(entry));
          } else {
            n.children.push_back(std::move(key));
          }
          if (first && at_comp_for()) {
            parse_comp_for();
            skip_to_closer("}");
            expect_close("}", line);
            return opaque(start, line);
          }
        }
        first = false;
        if (at_op(",")) {
          take();
          continue;
        }
        if (m_pos == before) {
          problem(peek().line, "unexpected " + describe(peek()));
          take();
        }
        break;
      }
      if (!is_dict) {
        n.kind = NodeKind::set;
      }
      expect_close("}", line);
      return n;
    }
    problem(line, "unexpected " + describe(t));
    take();
    return opaque(start, line);
  }

  std::string_view m_src;
  std::vector<Token> m_tokens;
  std::vector<Problem>& m_problems;
  size_t m_pos = 0;
  size_t m_limit = 0;  // tokens at or past this index read as END
  int m_depth = 0;
  bool m_abandoned = false;
};

// Text of a declared single-byte encoding converted to UTF-8; UTF-8 (BOM removed) and
// line endings normalized to '\n'.
std::string normalize_source(std::string_view raw, std::string* encoding) {
  if (raw.size() >= 3 && static_cast<unsigned char>(raw[0]) == 0xEF &&
      static_cast<unsigned char>(raw[1]) == 0xBB && static_cast<unsigned char>(raw[2]) == 0xBF) {
    raw.remove_prefix(3);
  }
  // PEP 263: a coding declaration in a comment on line 1 or 2.
  std::string enc;
  size_t pos = 0;
  for (int line = 0; line < 2 && pos < raw.size(); ++line) {
    size_t nl = raw.find('\n', pos);
    std::string_view l =
        raw.substr(pos, nl == std::string_view::npos ? raw.size() - pos : nl - pos);
    size_t hash = l.find('#');
    if (hash != std::string_view::npos && l.find_first_not_of(" \t\f") == hash) {
      size_t c = l.find("coding", hash);
      if (c != std::string_view::npos && c + 6 < l.size() && (l[c + 6] == ':' || l[c + 6] == '=')) {
        size_t b = c + 7;
        while (b < l.size() && (l[b] == ' ' || l[b] == '\t')) {
          ++b;
        }
        size_t e = b;
        while (e < l.size() && (std::isalnum(static_cast<unsigned char>(l[e])) || l[e] == '-' ||
                                l[e] == '_' || l[e] == '.')) {
          ++e;
        }
        for (size_t k = b; k < e; ++k) {
          enc += static_cast<char>(std::tolower(static_cast<unsigned char>(l[k])));
        }
        break;
      }
    }
    if (nl == std::string_view::npos) {
      break;
    }
    pos = nl + 1;
  }
  *encoding = enc;
  std::replace(enc.begin(), enc.end(), '_', '-');
  bool latin1 = enc == "latin-1" || enc == "latin1" || enc == "iso-8859-1" || enc == "iso8859-1" ||
                enc == "iso-latin-1" || enc == "l1" || enc == "cp1252" || enc == "windows-1252" ||
                enc == "iso-8859-15" || enc == "latin-9";
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\r') {
      out += '\n';
      if (i + 1 < raw.size() && raw[i + 1] == '\n') {
        ++i;
      }
    } else if (latin1 && static_cast<unsigned char>(c) >= 0x80) {
      text::append_utf8(out, static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

std::string quote_python(std::string_view s, bool bytes) {
  std::string out = bytes ? "b'" : "'";
  for (unsigned char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F || (bytes && c >= 0x80)) {
          static constexpr char k_hex[] = "0123456789abcdef";
          out += "\\x";
          out += k_hex[c >> 4];
          out += k_hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '\'';
  return out;
}

}  // namespace

std::string_view kind_name(NodeKind kind) {
  switch (kind) {
    case NodeKind::string:
      return "string";
    case NodeKind::bytes:
      return "bytes";
    case NodeKind::number:
      return "number";
    case NodeKind::boolean:
      return "boolean";
    case NodeKind::none:
      return "None";
    case NodeKind::ellipsis:
      return "Ellipsis";
    case NodeKind::name:
      return "name";
    case NodeKind::attribute:
      return "attribute";
    case NodeKind::subscript:
      return "subscript";
    case NodeKind::call:
      return "call";
    case NodeKind::list:
      return "list";
    case NodeKind::tuple:
      return "tuple";
    case NodeKind::set:
      return "set";
    case NodeKind::dict:
      return "dict";
    case NodeKind::unary:
      return "unary operation";
    case NodeKind::binary:
      return "binary operation";
    case NodeKind::opaque:
      return "expression";
  }
  return "expression";
}

const Node* Node::callee() const {
  return kind == NodeKind::call && !children.empty() ? &children[0] : nullptr;
}

const Node* Node::argument(size_t index) const {
  if (kind != NodeKind::call) {
    return nullptr;
  }
  size_t k = 0;
  for (size_t i = 1; i < children.size(); ++i) {
    if (children[i].keyword.empty() && children[i].star == 0) {
      if (k++ == index) {
        return &children[i];
      }
    }
  }
  return nullptr;
}

const Node* Node::keyword_argument(std::string_view name) const {
  if (kind != NodeKind::call) {
    return nullptr;
  }
  for (size_t i = children.size(); i-- > 1;) {  // the last of repeated keywords wins
    if (children[i].keyword == name) {
      return &children[i];
    }
  }
  return nullptr;
}

std::vector<const Node*> Node::positional_arguments() const {
  std::vector<const Node*> out;
  if (kind == NodeKind::call) {
    for (size_t i = 1; i < children.size(); ++i) {
      if (children[i].keyword.empty() && children[i].star == 0) {
        out.push_back(&children[i]);
      }
    }
  }
  return out;
}

std::vector<const Node*> Node::keyword_arguments() const {
  std::vector<const Node*> out;
  if (kind == NodeKind::call) {
    for (size_t i = 1; i < children.size(); ++i) {
      if (!children[i].keyword.empty()) {
        out.push_back(&children[i]);
      }
    }
  }
  return out;
}

std::string Node::dotted() const {
  if (kind == NodeKind::name) {
    return text;
  }
  if (kind == NodeKind::attribute && !children.empty()) {
    std::string base = children[0].dotted();
    return base.empty() ? std::string() : base + "." + text;
  }
  return {};
}

std::string to_source(const Node& n) {
  auto prefix = [&](const Node& c) {
    std::string p = c.star == 1 ? "*" : c.star == 2 ? "**" : "";
    if (!c.keyword.empty()) {
      p = c.keyword + "=" + p;
    }
    return p;
  };
  auto join = [&](size_t from, std::string_view sep) {
    std::string out;
    for (size_t i = from; i < n.children.size(); ++i) {
      if (i > from) {
        out += sep;
      }
      out += prefix(n.children[i]) + to_source(n.children[i]);
    }
    return out;
  };
  auto operand = [&](const Node& c) {
    std::string s = to_source(c);
    return (c.kind == NodeKind::binary || c.kind == NodeKind::unary) ? "(" + s + ")" : s;
  };
  switch (n.kind) {
    case NodeKind::string:
      return (n.formatted ? "f" : "") + quote_python(n.text, false);
    case NodeKind::bytes:
      return quote_python(n.text, true);
    case NodeKind::number:
    case NodeKind::boolean:
    case NodeKind::name:
    case NodeKind::opaque:
      return n.text;
    case NodeKind::none:
      return "None";
    case NodeKind::ellipsis:
      return "...";
    case NodeKind::attribute:
      return (n.children.empty() ? std::string() : operand(n.children[0])) + "." + n.text;
    case NodeKind::subscript:
      return n.children.size() == 2 ? operand(n.children[0]) + "[" + to_source(n.children[1]) + "]"
                                    : n.text;
    case NodeKind::call:
      return (n.children.empty() ? std::string() : operand(n.children[0])) + "(" + join(1, ", ") +
             ")";
    case NodeKind::list:
      return "[" + join(0, ", ") + "]";
    case NodeKind::tuple:
      if (n.children.size() == 1) {
        return "(" + join(0, ", ") + ",)";
      }
      return "(" + join(0, ", ") + ")";
    case NodeKind::set:
      return n.children.empty() ? "set()" : "{" + join(0, ", ") + "}";
    case NodeKind::dict: {
      std::string out = "{";
      for (size_t i = 0; i < n.children.size(); ++i) {
        const Node& e = n.children[i];
        if (i) {
          out += ", ";
        }
        if (e.star == 2) {
          out += "**" + to_source(e);
        } else if (e.children.size() == 2) {
          out += to_source(e.children[0]) + ": " + to_source(e.children[1]);
        }
      }
      return out + "}";
    }
    case NodeKind::unary:
      if (n.children.empty()) {
        return n.text;
      }
      return n.text == "not" ? "not " + operand(n.children[0]) : n.text + operand(n.children[0]);
    case NodeKind::binary:
      if (n.children.size() != 2) {
        return n.text;
      }
      return operand(n.children[0]) + " " + n.text + " " + operand(n.children[1]);
  }
  return n.text;
}

const Assignment* Module::assignment(std::string_view name) const {
  for (auto it = assignments.rbegin(); it != assignments.rend(); ++it) {
    if (!it->augment.empty()) {
      continue;
    }
    for (const auto& t : it->targets) {
      if (t == name) {
        return &*it;
      }
    }
  }
  return nullptr;
}

const ClassDef* Module::class_named(std::string_view name) const {
  for (auto it = classes.rbegin(); it != classes.rend(); ++it) {
    if (it->name == name) {
      return &*it;
    }
  }
  return nullptr;
}

bool Module::defines_function(std::string_view name) const {
  return std::any_of(functions.begin(), functions.end(),
                     [&](const FunctionDef& f) { return f.name == name; });
}

namespace {

// Whether `from MODULE import *` binds `name`, for the Django modules a migration imports
// that way (their __all__ in Django 3.2, or their public names): django.db.migrations and
// its operations module give Migration, swappable_dependency and the operations;
// django.db.models (and its deletion and functions modules) and django.contrib.postgres's
// modules give their classes and constants, capitalised. Another module's names are not
// known.
bool star_binds(std::string_view module, std::string_view name) {
  static constexpr std::array<std::string_view, 22> k_migrations = {"Migration",
                                                                    "swappable_dependency",
                                                                    "CreateModel",
                                                                    "DeleteModel",
                                                                    "AlterModelTable",
                                                                    "AlterUniqueTogether",
                                                                    "RenameModel",
                                                                    "AlterIndexTogether",
                                                                    "AlterModelOptions",
                                                                    "AddIndex",
                                                                    "RemoveIndex",
                                                                    "AddField",
                                                                    "RemoveField",
                                                                    "AlterField",
                                                                    "RenameField",
                                                                    "AddConstraint",
                                                                    "RemoveConstraint",
                                                                    "SeparateDatabaseAndState",
                                                                    "RunSQL",
                                                                    "RunPython",
                                                                    "AlterOrderWithRespectTo",
                                                                    "AlterModelManagers"};
  bool migrations_name =
      std::find(k_migrations.begin(), k_migrations.end(), name) != k_migrations.end();
  if (module == "django.db.migrations" || module == "django.db.migrations.operations") {
    return migrations_name;
  }
  bool capitalised = !name.empty() && name[0] >= 'A' && name[0] <= 'Z';
  if (module == "django.db.models") {
    return capitalised && !migrations_name;
  }
  return capitalised &&
         (module == "django.db.models.deletion" || module == "django.db.models.functions" ||
          module == "django.contrib.postgres.operations" ||
          module == "django.contrib.postgres.fields" ||
          module == "django.contrib.postgres.indexes" ||
          module == "django.contrib.postgres.constraints");
}

}  // namespace

std::string Module::resolve(std::string_view dotted) const {
  size_t dot = dotted.find('.');
  std::string_view first = dotted.substr(0, dot);
  std::string_view rest = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot);
  // A name the module defines itself is not one a star import gives.
  bool defined_here = assignment(first) || class_named(first) || defines_function(first);
  for (auto it = imports.rbegin(); it != imports.rend(); ++it) {
    if (it->alias == "*" && !defined_here && star_binds(it->module, first)) {
      return it->module + "." + std::string(dotted);
    }
    if (it->alias != first || it->alias == "*") {
      continue;
    }
    std::string target;
    if (it->name.empty()) {
      // `import a.b.c` binds `a` to module a; `import a.b as c` binds c to a.b.
      bool plain = it->module == it->alias || it->module.rfind(it->alias + ".", 0) == 0;
      target = plain ? it->alias : it->module;
    } else {
      std::string mod = it->module;
      target = mod.empty() || mod.back() == '.' ? mod + it->name : mod + "." + it->name;
    }
    return target + std::string(rest);
  }
  return std::string(dotted);
}

Module parse_module(std::string_view source) {
  Module m;
  std::string text = normalize_source(source, &m.encoding);
  std::vector<Token> tokens = Tokenizer(text, m.problems).run();
  Parser parser(text, std::move(tokens), m.problems);
  parser.parse_module(m);
  std::stable_sort(m.problems.begin(), m.problems.end(),
                   [](const Problem& a, const Problem& b) { return a.line < b.line; });
  return m;
}

Node parse_expression(std::string_view source, std::vector<Problem>* problems) {
  std::vector<Problem> local;
  std::vector<Problem>& out = problems ? *problems : local;
  std::string encoding;
  std::string text = normalize_source(source, &encoding);
  std::vector<Token> tokens = Tokenizer(text, out).run();
  // The tokenizer may have opened an indented block for leading white space.
  std::vector<Token> filtered;
  for (auto& t : tokens) {
    if (t.type != Tok::indent && t.type != Tok::dedent) {
      filtered.push_back(std::move(t));
    }
  }
  Parser parser(text, std::move(filtered), out);
  return parser.parse_lone_expression();
}

}  // namespace dbautopsy::django::py
