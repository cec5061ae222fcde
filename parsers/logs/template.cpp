#include "logs/template.hpp"

#include <cstring>

#include <re2/re2.h>
#include <xxhash.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/text.hpp"
#include "logs/pg_messages.hpp"
#include "pgsql/parse.hpp"
#include "pgsql/settings.hpp"

namespace dbautopsy::logs {

namespace {

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RE2's \w and \b: ASCII letters, digits and _.
bool is_ascii_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_space(char c) {  // RE2's \s
  return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

// Hand-written equivalents of the searches message_entities makes most often, for ASCII
// messages (RE2 reads the others: its (?i) folds a few non-ASCII letters to ASCII ones). Each
// finds the leftmost match from `from`, as RE2::FindAndConsume does on the rest of the text
// after its last match -- where `\b` holds at the start of that rest, since RE2 sees it as the
// start of a text -- and returns where the match ends, or npos.
// A search resumes at `from` = the end of the last match (0 at first).
bool boundary_at(std::string_view m, size_t p, size_t from) {
  return p == from || !is_ascii_word(m[p - 1]);
}

// Whether `needle` is in `m`: glibc's memmem, faster than string_view::find (a memchr for the
// first byte, then a compare at each) on long statements, where the first byte is frequent.
bool contains(std::string_view m, std::string_view needle) {
  return memmem(m.data(), m.size(), needle.data(), needle.size()) != nullptr;
}

bool is_separator(char c) {  // between a name and its number: [ #=:]
  return c == ' ' || c == '#' || c == '=' || c == ':';
}

// Whether c, in any case, is the first letter of a keyword find_sql_table looks for.
bool keyword_letter(char c) {
  c = static_cast<char>(c | 0x20);
  return c == 'i' || c == 'u' || c == 'f' || c == 't';
}

// Where each search may start, found 16 bytes at a time: each kind of start is a class of
// the byte there and a class of the byte before it. The scalar loops after the vector ones
// (and without SSE2) are the definitions.
enum class Start {
  keyword,          // keyword_letter at a boundary
  number,           // a digit at a boundary
  after_separator,  // a digit after is_separator
};

bool start_at(Start kind, std::string_view m, size_t p, size_t from) {
  switch (kind) {
    case Start::keyword:
      return keyword_letter(m[p]) && boundary_at(m, p, from);
    case Start::number:
      return is_digit(m[p]) && boundary_at(m, p, from);
    case Start::after_separator:
      return is_digit(m[p]) && p > from && is_separator(m[p - 1]);
  }
  return false;
}

// The first p >= start where a start of `kind` is, for a search that began at `from`; npos
// when there is none.
size_t next_start(Start kind, std::string_view m, size_t start, size_t from) {
  size_t p = start;
#if defined(__SSE2__)
  if (p < m.size()) {
    const auto* b = reinterpret_cast<const unsigned char*>(m.data());
    // Signed compares: bytes of 0x80 or more are negative, never letters or digits.
    const __m128i lower_bit = _mm_set1_epi8(0x20);
    auto in = [](__m128i v, char lo, char hi) {
      return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                           _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
    };
    auto eq = [](__m128i v, char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
    auto mask = [](__m128i v) { return static_cast<unsigned>(_mm_movemask_epi8(v)); };
    // The class of the byte before the block: what a byte before `from` never is.
    unsigned before = 0;
    if (p > from) {
      before = kind == Start::after_separator ? is_separator(m[p - 1]) : is_ascii_word(m[p - 1]);
    }
    for (; p + 16 <= m.size(); p += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + p));
      const unsigned digits = mask(in(v, '0', '9'));
      unsigned here = 0;
      unsigned classes = 0;  // of each byte, as the byte after it needs it
      if (kind == Start::after_separator) {
        here = digits;
        classes = mask(_mm_or_si128(_mm_or_si128(eq(v, ' '), eq(v, '#')),
                                    _mm_or_si128(eq(v, '='), eq(v, ':'))));
      } else {
        const __m128i folded = _mm_or_si128(v, lower_bit);
        classes = mask(in(folded, 'a', 'z')) | digits | mask(eq(v, '_'));
        here = kind == Start::number
                   ? digits
                   : mask(_mm_or_si128(_mm_or_si128(eq(folded, 'i'), eq(folded, 'u')),
                                       _mm_or_si128(eq(folded, 'f'), eq(folded, 't'))));
      }
      const unsigned shifted = ((classes << 1) | before) & 0xffffu;
      const unsigned starts = kind == Start::after_separator ? here & shifted : here & ~shifted;
      if (starts != 0) {
        return p + static_cast<size_t>(__builtin_ctz(starts));
      }
      before = classes >> 15;
    }
  }
#endif
  for (; p < m.size(); ++p) {
    if (start_at(kind, m, p, from)) {
      return p;
    }
  }
  return std::string_view::npos;
}

// (?i)\b([A-Za-z][A-Za-z_]*)[ #=:]+#?(\d+)\b
size_t find_word_number(std::string_view m, size_t from, std::string_view& name,
                        std::string_view& number) {
  // From each number after a separator back to its name: matches do not overlap and a name
  // holds no digit, so the first number that has a name is the leftmost match.
  for (size_t d = next_start(Start::after_separator, m, from, from); d != std::string_view::npos;
       d = next_start(Start::after_separator, m, d + 1, from)) {
    size_t j = d + 1;
    while (j < m.size() && is_digit(m[j])) {
      ++j;
    }
    if (j < m.size() && is_ascii_word(m[j])) {
      d = j - 1;  // digits then a word character: no \b, and no number starts inside
      continue;
    }
    size_t name_end = d - 1;
    while (name_end > from && is_separator(m[name_end - 1])) {
      --name_end;
    }
    size_t p = name_end;
    while (p > from && (is_alpha(m[p - 1]) || m[p - 1] == '_')) {
      --p;
    }
    if (p == name_end || !is_alpha(m[p]) || !boundary_at(m, p, from)) {
      d = j - 1;
      continue;
    }
    name = m.substr(p, name_end - p);
    number = m.substr(d, j - d);
    return j;
  }
  return std::string_view::npos;
}

// \b(\d[\d,]*) ([A-Za-z][A-Za-z_]*)
size_t find_number_word(std::string_view m, size_t from, std::string_view& number,
                        std::string_view& noun) {
  for (size_t p = next_start(Start::number, m, from, from); p != std::string_view::npos;
       p = next_start(Start::number, m, p + 1, from)) {
    size_t j = p + 1;
    while (j < m.size() && (is_digit(m[j]) || m[j] == ',')) {
      ++j;
    }
    if (j + 1 >= m.size() || m[j] != ' ' || !is_alpha(m[j + 1])) {
      continue;
    }
    size_t n = j + 1;
    size_t e = n + 1;
    while (e < m.size() && (is_alpha(m[e]) || m[e] == '_')) {
      ++e;
    }
    number = m.substr(p, j - p);
    noun = m.substr(n, e - n);
    return e;
  }
  return std::string_view::npos;
}

// Whether the letters of `word` (lower case) are at m[p], in any case.
bool letters_at(std::string_view m, size_t p, std::string_view word) {
  if (m.size() - p < word.size()) {
    return false;
  }
  for (size_t i = 0; i < word.size(); ++i) {
    if (static_cast<char>(m[p + i] | 0x20) != word[i]) {  // only A-Z and a-z give a-z
      return false;
    }
  }
  return true;
}

// The length of `word` (lower case) at m[p], in any case; 0 when it is not there.
size_t keyword_at(std::string_view m, size_t p, std::string_view word) {
  return letters_at(m, p, word) ? word.size() : 0;
}

// (?i)\b(insert\s+into|update|from|into|table)\s+"?([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?)"?
size_t find_sql_table(std::string_view m, size_t from, std::string_view& keyword,
                      std::string_view& table) {
  auto ident_end = [&](size_t i) {
    while (i < m.size() && (is_ascii_word(m[i]) || m[i] == '$')) {
      ++i;
    }
    return i;
  };
  // The rest after the keyword (at k): returns the end of the match, or npos.
  auto rest = [&](size_t k, std::string_view& t) {
    size_t j = k;
    while (j < m.size() && is_space(m[j])) {
      ++j;
    }
    if (j == k) {
      return std::string_view::npos;
    }
    if (j < m.size() && m[j] == '"') {
      ++j;
    }
    if (j >= m.size() || !(is_alpha(m[j]) || m[j] == '_')) {
      return std::string_view::npos;
    }
    size_t start = j;
    j = ident_end(j + 1);
    if (j + 1 < m.size() && m[j] == '.' && (is_alpha(m[j + 1]) || m[j + 1] == '_')) {
      j = ident_end(j + 2);
    }
    t = m.substr(start, j - start);
    if (j < m.size() && m[j] == '"') {
      ++j;
    }
    return j;
  };
  static constexpr std::string_view k_words[] = {"update", "from", "into", "table"};
  for (size_t p = next_start(Start::keyword, m, from, from); p != std::string_view::npos;
       p = next_start(Start::keyword, m, p + 1, from)) {
    // The alternatives in their order: the first that matches at p.
    if (size_t n = keyword_at(m, p, "insert")) {
      size_t j = p + n;
      while (j < m.size() && is_space(m[j])) {
        ++j;
      }
      if (j > p + n) {
        if (size_t n2 = keyword_at(m, j, "into")) {
          if (size_t end = rest(j + n2, table); end != std::string_view::npos) {
            keyword = m.substr(p, j + n2 - p);
            return end;
          }
        }
      }
    }
    for (std::string_view word : k_words) {
      if (size_t n = keyword_at(m, p, word)) {
        if (size_t end = rest(p + n, table); end != std::string_view::npos) {
          keyword = m.substr(p, n);
          return end;
        }
      }
    }
  }
  return std::string_view::npos;
}

}  // namespace

std::string message_template(std::string_view m) {
  m = text::trim(m);
  // Written through a pointer into a buffer of this thread that is large enough for any
  // template of m: an empty quoted string '' (2 bytes) becomes '?' (3), nothing else grows.
  thread_local std::string buffer;
  if (buffer.size() < m.size() + m.size() / 2 + 1) {
    buffer.resize(m.size() + m.size() / 2 + 1);
  }
  char* const start = buffer.data();
  char* o = start;
  const char* const p = m.data();
  const size_t n = m.size();
  size_t i = 0;
  while (i < n) {
    const char c = p[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      // Runs of white space are one space: a statement logged over several lines, indented
      // by whoever wrote it, has the template of its one-line form.
      do {
        ++i;
      } while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'));
      *o++ = ' ';
      continue;
    }
    if (c == '"' || c == '\'') {
      // A quoted string, up to its closing quote (a doubled quote stays inside); an
      // apostrophe inside a word (don't) is not a quote.
      if (c == '\'' && i > 0 && is_word(p[i - 1])) {
        *o++ = c;
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < n) {
        const void* q = std::memchr(p + j, c, n - j);
        if (q == nullptr) {
          j = n;
          break;
        }
        j = static_cast<size_t>(static_cast<const char*>(q) - p);
        if (j + 1 < n && p[j + 1] == c) {
          j += 2;
          continue;
        }
        break;
      }
      if (j >= n) {  // unbalanced: keep the quote as text
        *o++ = c;
        ++i;
        continue;
      }
      *o++ = c;
      *o++ = '?';
      *o++ = c;
      i = j + 1;
      continue;
    }
    if (is_word(c)) {
      // A word: replaced when it holds a digit (42, 3.5, 0x1f, 5f2c-..., abc123 ids).
      size_t j = i;
      bool digit = false;
      while (j < n && (is_word(p[j]) || p[j] == '-' || p[j] == ':' ||
                       (p[j] == '.' && j + 1 < n && is_digit(p[j + 1])))) {
        if (p[j] == '-' || p[j] == ':') {
          // Keep a hyphenated word (read-only) or a colon label; join only runs that hold a
          // digit (uuids, dates, times).
          if (!(digit || (j > i && is_digit(p[j - 1]))) || j + 1 >= n || !is_word(p[j + 1])) {
            break;
          }
        }
        digit = digit || is_digit(p[j]);
        ++j;
      }
      if (j == i) {
        j = i + 1;
      }
      if (digit) {
        *o++ = '?';
      } else {
        std::memcpy(o, p + i, j - i);
        o += j - i;
      }
      i = j;
      continue;
    }
    *o++ = c;
    ++i;
  }
  return std::string(start, static_cast<size_t>(o - start));
}

std::string template_hash(std::string_view templ) {
  // fmt::format("{:016x}") by hand: once per entry of a log, where fmt's parsing of its
  // format string showed in the profile.
  static constexpr char k_hex[] = "0123456789abcdef";
  uint64_t h = XXH3_64bits(templ.data(), templ.size());
  std::string out(16, '0');
  for (size_t i = 16; i-- > 0; h >>= 4) {
    out[i] = k_hex[h & 0xf];
  }
  return out;
}

namespace {

// What a message holds that the searches of entities_of look for, from one pass over it.
// Each search runs only where its gate holds; a gate may hold where its search then finds
// nothing, never the other way round (message_entities_re2 runs every search, and the unit
// tests compare the two).
struct Gates {
  bool ascii = true;
  bool quote = false;
  bool digit = false;
  // A number, one space, then "row" or "record": where a count of rows may be.
  bool row_count = false;
};

// Whether m[i], an 'r' or 'R', starts a count of rows: a number, one space, then "row" or
// "record".
bool row_count_at(std::string_view m, size_t i) {
  return i >= 2 && m[i - 1] == ' ' && (is_digit(m[i - 2]) || m[i - 2] == ',') &&
         (letters_at(m, i, "row") || letters_at(m, i, "record"));
}

Gates gates_of(std::string_view m) {
  Gates g;
  size_t i = 0;
#if defined(__SSE2__)
  // 16 bytes at a time: the flags as masks, the counts of rows tested only where an 'r'
  // follows a space.
  const auto* p = reinterpret_cast<const unsigned char*>(m.data());
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i below_zero = _mm_set1_epi8('0' - 1);
  const __m128i above_nine = _mm_set1_epi8('9' + 1);
  const __m128i space = _mm_set1_epi8(' ');
  const __m128i lower_bit = _mm_set1_epi8(0x20);
  const __m128i r = _mm_set1_epi8('r');
  unsigned high = 0;
  unsigned quotes = 0;
  unsigned digits = 0;
  unsigned space_before = 0;  // whether the byte before the block is a space
  for (; i + 16 <= m.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    high |= static_cast<unsigned>(_mm_movemask_epi8(v));
    quotes |= static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)));
    // Signed compares: a byte of 0x80 or more is negative, never a digit.
    digits |= static_cast<unsigned>(_mm_movemask_epi8(
        _mm_and_si128(_mm_cmpgt_epi8(v, below_zero), _mm_cmplt_epi8(v, above_nine))));
    const auto spaces = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, space)));
    if (!g.row_count) {
      unsigned after_space =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(v, lower_bit), r))) &
          ((spaces << 1) | space_before);
      for (; after_space != 0 && !g.row_count; after_space &= after_space - 1) {
        g.row_count = row_count_at(m, i + static_cast<size_t>(__builtin_ctz(after_space)));
      }
    }
    space_before = spaces >> 15;
  }
  g.ascii = high == 0;
  g.quote = quotes != 0;
  g.digit = digits != 0;
#endif
  for (; i < m.size(); ++i) {
    const auto c = static_cast<unsigned char>(m[i]);
    if (c >= 0x80) {
      g.ascii = false;
    } else if (c == '"') {
      g.quote = true;
    } else if (is_digit(static_cast<char>(c))) {
      g.digit = true;
    } else if ((c | 0x20) == 'r' && !g.row_count) {
      g.row_count = row_count_at(m, i);
    }
  }
  return g;
}

// Whether one of the SQL words find_sql_table starts from is in `m`, in any case.
bool has_sql_word(std::string_view m) {
  for (size_t i = 0; i + 4 <= m.size(); ++i) {
    char c = static_cast<char>(m[i] | 0x20);
    if ((c == 'i' || c == 'u' || c == 'f' || c == 't') &&
        (letters_at(m, i, "into") || letters_at(m, i, "update") || letters_at(m, i, "from") ||
         letters_at(m, i, "table"))) {
      return true;
    }
  }
  return false;
}

// The first name in quotes of a message, whatever its language's quotes: "x", »x«, «x»,
// « x », „x“, “x”, 'x', 「x」; else a dotted name such as t.c after the first space-separated
// word that holds a dot (German "Spalte t.c existiert nicht").
std::optional<std::string> first_quoted_name(std::string_view m) {
  static constexpr std::pair<std::string_view, std::string_view> k_quotes[] = {
      {"\"", "\""},
      {"\xc2\xbb", "\xc2\xab"},
      {"\xc2\xab", "\xc2\xbb"},
      {"\xe2\x80\x9e", "\xe2\x80\x9c"},
      {"\xe2\x80\x9c", "\xe2\x80\x9d"},
      {"\xe3\x80\x8c", "\xe3\x80\x8d"},
      {"'", "'"}};
  size_t best = std::string_view::npos;
  std::optional<std::string> out;
  for (const auto& [open, close] : k_quotes) {
    size_t a = m.find(open);
    if (a == std::string_view::npos || a >= best) {
      continue;
    }
    size_t b = m.find(close, a + open.size());
    if (b == std::string_view::npos) {
      continue;
    }
    std::string_view name = text::trim(m.substr(a + open.size(), b - a - open.size()));
    if (name.empty()) {
      continue;
    }
    best = a;
    out = std::string(name);
  }
  if (out) {
    return out;
  }
  for (size_t i = 0; i < m.size();) {
    size_t e = m.find(' ', i);
    std::string_view word = m.substr(i, e == std::string_view::npos ? e : e - i);
    if (word.find('.') != std::string_view::npos && word.front() != '.' && word.back() != '.' &&
        std::all_of(word.begin(), word.end(),
                    [](char c) { return is_ascii_word(c) || c == '.' || c == '$'; })) {
      return std::string(word);
    }
    if (e == std::string_view::npos) {
      break;
    }
    i = e + 1;
  }
  return std::nullopt;
}

std::vector<store::LogEntityFact> entities_of(std::string_view message, std::string_view sqlstate,
                                              NumberEntities numbers, bool use_re2) {
  // RE2 alone (message_entities_re2) runs every search: what the gates and the hand-written
  // searches must agree with.
  const bool gated = !use_re2;
  const Gates gates = gates_of(message);
  // The hand-written searches read ASCII messages; RE2 the others.
  use_re2 = use_re2 || !gates.ascii;
  std::vector<store::LogEntityFact> out;
  auto add = [&](std::string kind, std::optional<std::string> name, std::string value) {
    for (const auto& e : out) {
      if (e.kind == kind && e.name == name && e.value == value) {
        return;
      }
    }
    out.push_back({std::move(kind), std::move(name), std::move(value)});
  };
  // Class 00 is successful completion (every routine entry of a log whose prefix has %e):
  // no error class to name.
  if (sqlstate.size() == 5 && !sqlstate.starts_with("00")) {
    add("sqlstate_class", std::nullopt, std::string(sqlstate.substr(0, 2)));
  }
  re2::StringPiece in(message.data(), message.size());
  std::string a, b;
  // Cheap tests first: most entries (LOG lines, INFO lines) name nothing, and a search over
  // every message is most of the cost of reading a large log.
  const bool quoted = !gated || gates.quote;
  const bool has_column = !gated || contains(message, "column ");
  // Counts of rows only: a message that names no row or record has none.
  const bool row_counts = numbers == NumberEntities::row_counts;
  const bool has_digit = !gated || (row_counts ? gates.row_count : gates.digit);
  // The hand-written search for tables is its own gate; RE2's costs a scan all the same.
  const bool sql_words = !gated || !use_re2 || has_sql_word(message);
  // PostgreSQL's messages about missing and named objects.
  // Each pattern only where its words are: a search that cannot match costs a scan of the
  // message by RE2 all the same.
  auto names = [&](std::string_view words) {
    return !gated || (quoted && contains(message, words));
  };
  const bool named_relation = names("relation \"");
  const bool named_table = names("table \"");
  const bool named_schema = names("schema \"");
  static const re2::RE2 relation(R"re(relation "([^"]+)")re");
  static const re2::RE2 column_of(R"re(column "([^"]+)" of relation "([^"]+)")re");
  static const re2::RE2 column_qualified(R"re(column ([A-Za-z_][\w$]*)\.([A-Za-z_][\w$]*) )re");
  static const re2::RE2 column_quoted(R"re(column "([^"]+)")re");
  static const re2::RE2 schema(R"re(schema "([^"]+)")re");
  static const re2::RE2 table(R"re(table "([^"]+)")re");
  if (named_relation) {
    re2::StringPiece s = in;
    while (re2::RE2::FindAndConsume(&s, relation, &a)) {
      add("relation", std::nullopt, a);
    }
  }
  if (named_table) {
    re2::StringPiece s = in;
    while (re2::RE2::FindAndConsume(&s, table, &a)) {
      add("table", std::nullopt, a);
    }
  }
  if (!has_column) {
    // no column named
  } else if (re2::RE2::PartialMatch(in, column_of, &a, &b)) {
    add("column", b, a);
  } else if (re2::RE2::PartialMatch(in, column_qualified, &a, &b)) {
    add("column", a, b);
    add("relation", std::nullopt, a);
  } else if (re2::RE2::PartialMatch(in, column_quoted, &a)) {
    add("column", std::nullopt, a);
  }
  if (named_schema) {
    re2::StringPiece s = in;
    while (re2::RE2::FindAndConsume(&s, schema, &a)) {
      add("schema", std::nullopt, a);
    }
  }
  // A server that writes its messages in another language (lc_messages = 'de_DE': "Relation
  // »x« existiert nicht", "Spalte »c« existiert nicht") still gives the SQLSTATE: of a missing
  // relation (42P01) or column (42703), the first name in quotes of any style is the object.
  if ((sqlstate == "42P01" || sqlstate == "42703") &&
      std::none_of(out.begin(), out.end(), [](const store::LogEntityFact& e) {
        return e.kind == "relation" || e.kind == "column";
      })) {
    if (auto name = first_quoted_name(message)) {
      if (sqlstate == "42P01") {
        add("relation", std::nullopt, *name);
      } else if (size_t dot = name->find('.'); dot != std::string::npos && name->front() != '"') {
        add("column", name->substr(0, dot), name->substr(dot + 1));
      } else {
        add("column", std::nullopt, *name);
      }
    }
  }
  // Application and ETL messages: INSERT INTO t / UPDATE t / FROM t name tables; "team 87018"
  // is an id of a team, "41 rows" a count of rows.
  static const re2::RE2 sql_table(
      R"re((?i)\b(insert\s+into|update|from|into|table)\s+"?([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?)"?)re");
  std::string keyword;
  auto next_sql_table = [&](re2::StringPiece& s, size_t& pos) {
    if (use_re2) {
      return re2::RE2::FindAndConsume(&s, sql_table, &keyword, &a);
    }
    std::string_view k, t;
    pos = find_sql_table(message, pos, k, t);
    if (pos == std::string_view::npos) {
      return false;
    }
    keyword.assign(k);
    a.assign(t);
    return true;
  };
  if (sql_words) {
    re2::StringPiece s = in;
    size_t pos = 0;
    while (next_sql_table(s, pos)) {
      // The table an INSERT INTO / UPDATE / "into t" writes is named "written": a loop's
      // target, rather than the tables it reads FROM.
      std::string k = text::lower(keyword);
      std::optional<std::string> role;
      if (k.rfind("insert", 0) == 0 || k == "update" || k == "into") {
        role = "written";
      }
      static const char* const k_words[] = {"the", "a", "an", "table", "this", "that"};
      bool stop = false;
      for (const char* w : k_words) {
        stop = stop || a == w;
      }
      if (!stop && a.find('_') != std::string::npos) {
        add("table", role, a);
      }
    }
  }
  static const re2::RE2 word_number(R"re((?i)\b([A-Za-z][A-Za-z_]*)[ #=:]+#?(\d+)\b)re");
  static const re2::RE2 number_word(R"re(\b(\d[\d,]*) ([A-Za-z][A-Za-z_]*))re");
  // Where each id's number starts, so that the same digits are not also read as a count
  // ("batch 41: 41 rows": batch 41 is an id, 41 rows a count).
  std::vector<size_t> id_at;
  // The searches of both patterns, by RE2 or by hand.
  auto next_pair = [&](const re2::RE2& re, re2::StringPiece& s, size_t& pos, re2::StringPiece& one,
                       re2::StringPiece& two) {
    if (use_re2) {
      return re2::RE2::FindAndConsume(&s, re, &one, &two);
    }
    std::string_view x, y;
    pos = &re == &word_number ? find_word_number(message, pos, x, y)
                              : find_number_word(message, pos, x, y);
    if (pos == std::string_view::npos) {
      return false;
    }
    one = re2::StringPiece(x.data(), x.size());
    two = re2::StringPiece(y.data(), y.size());
    return true;
  };
  if (has_digit) {
    re2::StringPiece s = in;
    re2::StringPiece name_piece, number_piece;
    size_t pos = 0;
    while (next_pair(word_number, s, pos, name_piece, number_piece)) {
      std::string name = text::lower(std::string_view(name_piece.data(), name_piece.size()));
      auto ends = [&](std::string_view tail) {
        return name.size() > tail.size() + 2 && name.ends_with(tail);
      };
      if (ends("ed") || ends("ing")) {
        continue;  // a verb ("inserted 1,204 rows", "loading 3 files"): a count follows
      }
      id_at.push_back(static_cast<size_t>(number_piece.data() - message.data()));
      if (row_counts) {
        continue;
      }
      // "id 87018", "ID 5": an id of whatever the message is about (the rules tie it to the
      // rows of any finding with that id); "team 87018", "team_id=87018": of a team.
      add("id", name == "ids" ? std::string("id") : name,
          std::string(number_piece.data(), number_piece.size()));
    }
  }
  if (has_digit) {
    re2::StringPiece s = in;
    re2::StringPiece number_piece, noun_piece;
    size_t pos = 0;
    while (next_pair(number_word, s, pos, number_piece, noun_piece)) {
      size_t at = static_cast<size_t>(number_piece.data() - message.data());
      if (std::find(id_at.begin(), id_at.end(), at) != id_at.end()) {
        continue;
      }
      std::string_view noun(noun_piece.data(), noun_piece.size());
      if (row_counts && !text::iequals(noun, "rows") && !text::iequals(noun, "row") &&
          !text::iequals(noun, "records") && !text::iequals(noun, "record")) {
        continue;
      }
      std::string value;
      for (char ch : std::string_view(number_piece.data(), number_piece.size())) {
        if (ch != ',') {
          value += ch;
        }
      }
      add("count", std::string(noun_piece.data(), noun_piece.size()), value);
    }
  }
  return out;
}

}  // namespace

std::vector<store::LogEntityFact> message_entities(std::string_view message,
                                                   std::string_view sqlstate,
                                                   NumberEntities numbers) {
  return entities_of(message, sqlstate, numbers, false);
}

std::vector<store::LogEntityFact> message_entities_re2(std::string_view message,
                                                       std::string_view sqlstate,
                                                       NumberEntities numbers) {
  return entities_of(message, sqlstate, numbers, true);
}

namespace {

// The tables a statement reads or writes (every RangeVar of its parse tree), each with the
// alias it is given there.
struct TableRef {
  std::string name;  // schema.table when qualified
  std::string alias;
};

void table_refs(const pgsql::Json& node, std::vector<TableRef>& out) {
  if (node.is_array()) {
    for (const auto& n : node) {
      table_refs(n, out);
    }
    return;
  }
  if (!node.is_object()) {
    return;
  }
  for (const auto& [key, value] : node.items()) {
    if (key == "RangeVar" && value.is_object()) {
      TableRef t;
      t.name = pgsql::str(value, "relname");
      if (std::string schema = pgsql::str(value, "schemaname"); !schema.empty()) {
        t.name = schema + "." + t.name;
      }
      t.alias = pgsql::str(pgsql::field(value, "alias"), "aliasname");
      if (!t.name.empty()) {
        out.push_back(std::move(t));
      }
      continue;
    }
    table_refs(value, out);
  }
}

// An error that a column does not exist names the column's table by the statement's alias
// for it ("column t.left_at does not exist" for `FROM teams t`), or not at all ("column
// \"left_at\" does not exist"): the table the statement gives it, from the statement's parse
// tree, when it says which (the alias's table; the one table the statement names).
void resolve_column_table(store::LogEventFact& event) {
  auto col = std::find_if(event.entities.begin(), event.entities.end(),
                          [](const store::LogEntityFact& e) { return e.kind == "column"; });
  if (col == event.entities.end() || !event.statement || event.statement->size() > 65536) {
    return;
  }
  pgsql::ParseResult parsed = pgsql::parse(*event.statement);
  if (!parsed.ok()) {
    return;
  }
  std::vector<TableRef> refs;
  table_refs(parsed.tree, refs);
  std::optional<std::string> table;
  if (col->name) {
    for (const auto& t : refs) {
      if (t.name == *col->name || t.name.ends_with("." + *col->name)) {
        return;  // a table's own name
      }
    }
    for (const auto& t : refs) {
      if (!t.alias.empty() && t.alias == *col->name) {
        if (table && *table != t.name) {
          return;  // the same alias twice (subqueries): not sure which
        }
        table = t.name;
      }
    }
    if (!table) {
      return;
    }
    // The alias was also read as a relation the message names: it is the table.
    for (auto& e : event.entities) {
      if (e.kind == "relation" && e.value == *col->name) {
        e.value = *table;
      }
    }
  } else {
    for (const auto& t : refs) {
      if (table && *table != t.name) {
        return;  // several tables: the column could be any one's
      }
      table = t.name;
    }
    if (!table) {
      return;
    }
  }
  col->name = table;
}

}  // namespace

bool routine_server_entry(const store::LogEventFact& event) {
  return event.format.starts_with("pg-") && event.severity && *event.severity == "LOG";
}

namespace {

// The settings of roles, databases and the session that an entry's statement sets or resets
// (ALTER ROLE app SET search_path ..., SET search_path TO ..., set_config('search_path', ...)):
// a statement that log_statement shows (LOG), or the STATEMENT of an error (then marked
// failed: what it set did not last).
void statement_settings(store::LogEventFact& event) {
  pgsql::ParseResult parsed = pgsql::parse(*event.statement);
  if (!parsed.ok()) {
    return;
  }
  const std::string& level = event.level ? *event.level : event.severity.value_or("");
  bool failed = level == "ERROR" || level == "FATAL" || level == "PANIC";
  for (const pgsql::Json& item : pgsql::field(parsed.tree, "stmts")) {
    for (store::SettingFact f : pgsql::settings_of(pgsql::field(item, "stmt"), event.user_name)) {
      f.source = "log";
      f.line = event.line;
      f.failed = failed;
      f.ts = event.ts;
      f.pid = event.pid;
      f.statement = pgsql::statement_one_line(*event.statement);
      if ((f.scope == "session" || f.scope == "transaction") && !f.database_name) {
        f.database_name = event.database_name;
      }
      event.settings.push_back(std::move(f));
    }
  }
}

}  // namespace

void finish_event(store::LogEventFact& event) {
  // A server writing in another language (lc_messages): FEHLER is an ERROR.
  if (!event.level && event.severity && *event.severity != "LOG") {
    if (auto english = english_severity(*event.severity)) {
      event.level = std::string(*english);
    }
  }
  if (!event.template_text) {
    event.template_text = message_template(event.message);
  }
  if (!event.template_hash) {
    event.template_hash = template_hash(*event.template_text);
  }
  if (event.entities.empty()) {
    event.entities = message_entities(
        event.message, event.sqlstate.value_or(""),
        routine_server_entry(event) ? NumberEntities::row_counts : NumberEntities::all);
    // The missing relation or column of a message in another language of PostgreSQL's
    // catalogue (Relation »x« existiert nicht; Japanese and Chinese name a relation's column
    // after the relation). Without a SQLSTATE (a stderr log whose prefix has no %e), the
    // SQLSTATE PostgreSQL raises that message with is an entity of its own (kind sqlstate):
    // the sign log_missing_object reads, as it reads an English message's words.
    bool translated_column = false;
    static const std::string k_none;
    const std::string& level = event.level      ? *event.level
                               : event.severity ? *event.severity
                                                : k_none;
    if (event.sqlstate == "42P01" || event.sqlstate == "42703" ||
        (!event.sqlstate && (level == "ERROR" || level == "FATAL") &&
         !contains(event.message, " does not exist"))) {
      if (auto missing = translated_missing_object(event.message)) {
        std::erase_if(event.entities, [](const store::LogEntityFact& x) {
          return x.kind == "relation" || x.kind == "column";
        });
        std::vector<store::LogEntityFact> named;
        if (missing->column) {
          translated_column = true;
          named.push_back({"column",
                           missing->relation.empty()
                               ? std::nullopt
                               : std::optional<std::string>(missing->relation),
                           missing->name});
          if (!missing->relation.empty()) {
            named.push_back({"relation", std::nullopt, missing->relation});
          }
        } else {
          named.push_back({"relation", std::nullopt, missing->relation});
        }
        if (!event.sqlstate) {
          named.push_back(
              {"sqlstate", std::string("message"), missing->column ? "42703" : "42P01"});
        }
        event.entities.insert(event.entities.begin(), named.begin(), named.end());
      }
    }
    if (event.statement && (event.sqlstate == "42703" || translated_column ||
                            (!event.sqlstate && contains(event.message, "column ") &&
                             contains(event.message, " does not exist")))) {
      resolve_column_table(event);
    }
  }
  if (event.settings.empty() && event.statement && pgsql::may_set_search_path(*event.statement)) {
    statement_settings(event);
  }
}

}  // namespace dbautopsy::logs
