#include "logs/pg_stderr.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "base/error.hpp"
#include "base/text.hpp"
#include "base/time.hpp"
#include "io/line_reader.hpp"
#include "logs/pg_messages.hpp"
#include "logs/template.hpp"

namespace dbautopsy::logs {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The severities PostgreSQL writes (elog.c error_severity), and the lines that belong to an
// entry (send_message_to_server_log): which field each of those fills.
enum class Field : uint8_t { none, detail, hint, query, context, statement, location };
struct SeverityWord {
  std::string_view word;
  Field field;  // none: a primary line
};

Field field_of_label(std::string_view english) {
  static constexpr std::pair<std::string_view, Field> k_labels[] = {
      {"DETAIL", Field::detail},   {"HINT", Field::hint},           {"QUERY", Field::query},
      {"CONTEXT", Field::context}, {"STATEMENT", Field::statement}, {"LOCATION", Field::location},
  };
  for (const auto& [label, field] : k_labels) {
    if (label == english) {
      return field;
    }
  }
  return Field::none;
}

// The words of a server writing in another language (lc_messages: FEHLER, TIPP, ASTUCE ),
// as SeverityWords, in the order of translated_words().
const std::vector<SeverityWord>& translated_severities() {
  static const std::vector<SeverityWord> words = [] {
    std::vector<SeverityWord> out;
    for (const auto& w : translated_words()) {
      out.push_back({w.text, field_of_label(w.english)});
    }
    return out;
  }();
  return words;
}

const SeverityWord* translated_severity_at(std::string_view line, size_t pos) {
  // (Korean writes its QUERY label without the two spaces after the colon.)
  const TranslatedWord* w = translated_word_at(line, pos);
  if (!w) {
    return nullptr;
  }
  return &translated_severities()[static_cast<size_t>(w - translated_words().data())];
}
constexpr std::array<SeverityWord, 19> k_severities = {{
    {"LOG", Field::none},          {"ERROR", Field::none},  {"STATEMENT", Field::statement},
    {"DETAIL", Field::detail},     {"HINT", Field::hint},   {"CONTEXT", Field::context},
    {"WARNING", Field::none},      {"FATAL", Field::none},  {"PANIC", Field::none},
    {"NOTICE", Field::none},       {"INFO", Field::none},   {"QUERY", Field::query},
    {"LOCATION", Field::location}, {"DEBUG", Field::none},  {"DEBUG1", Field::none},
    {"DEBUG2", Field::none},       {"DEBUG3", Field::none}, {"DEBUG4", Field::none},
    {"DEBUG5", Field::none},
}};

// The severity word at `pos` followed by ':' and a space (or the end of the line): in English,
// or in another language of PostgreSQL's catalogue.
const SeverityWord* severity_at(std::string_view line, size_t pos) {
  if (pos >= line.size()) {
    return nullptr;
  }
  const auto c = static_cast<unsigned char>(line[pos]);
  if (!is_upper(line[pos])) {
    // Cyrillic, CJK, Georgian, Korean words start with a byte of 0x80 or more.
    return c >= 0x80 ? translated_severity_at(line, pos) : nullptr;
  }
  size_t end = pos;
  while (end < line.size() && (is_upper(line[end]) || is_digit(line[end]))) {
    ++end;
  }
  if (end >= line.size() ||
      (line[end] != ':' && line[end] != ' ' && static_cast<unsigned char>(line[end]) < 0x80)) {
    return nullptr;
  }
  if (line[end] == ':' && (end + 1 >= line.size() || line[end + 1] == ' ')) {
    std::string_view word = line.substr(pos, end - pos);
    for (const auto& s : k_severities) {
      if (s.word == word) {
        return &s;
      }
    }
  }
  // FEHLER:, ASTUCE :, DÉTAIL:
  return translated_severity_at(line, pos);
}

using timeutil::zone_offset;

using timeutil::days_from_civil;

std::string iso_utc(int64_t seconds, int millis) {
  return timeutil::iso_utc(seconds * 1000 + millis);
}

int digits_value(std::string_view s, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    v = v * 10 + (s[pos + i] - '0');
  }
  return v;
}

bool digits_at(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) {
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!is_digit(s[pos + i])) {
      return false;
    }
  }
  return true;
}

// Length of `YYYY-MM-DD HH:MM:SS` (or with 'T') at pos, then of an optional fraction.
size_t datetime_length(std::string_view s, size_t pos, bool& fraction) {
  fraction = false;
  if (!digits_at(s, pos, 4) || pos + 19 > s.size() || s[pos + 4] != '-' ||
      !digits_at(s, pos + 5, 2) || s[pos + 7] != '-' || !digits_at(s, pos + 8, 2) ||
      (s[pos + 10] != ' ' && s[pos + 10] != 'T') || !digits_at(s, pos + 11, 2) ||
      s[pos + 13] != ':' || !digits_at(s, pos + 14, 2) || s[pos + 16] != ':' ||
      !digits_at(s, pos + 17, 2)) {
    return 0;
  }
  size_t n = 19;
  if (pos + n < s.size() && s[pos + n] == '.' && pos + n + 1 < s.size() &&
      is_digit(s[pos + n + 1])) {
    fraction = true;
    ++n;
    while (pos + n < s.size() && is_digit(s[pos + n])) {
      ++n;
    }
  }
  return n;
}

// A zone after a time: an abbreviation (letters; digits after them) or a numeric offset
// (+HH, -HH, +HHMM, +HH:MM).
size_t zone_length(std::string_view s, size_t pos) {
  size_t n = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    n = 1;
    while (pos + n < s.size() && (is_digit(s[pos + n]) || s[pos + n] == ':') && n < 6) {
      ++n;
    }
    if (s[pos + n - 1] == ':') {
      --n;
    }
    return n > 1 ? n : 0;
  }
  while (pos + n < s.size()) {
    char c = s[pos + n];
    if (is_upper(c) || (c >= 'a' && c <= 'z') || (n > 0 && is_digit(c))) {
      ++n;
    } else {
      break;
    }
  }
  return n;
}

// `%m`/`%t`/`%s` at pos: date, time, optional fraction, a space, the zone. 0 when none.
size_t pg_time_length(std::string_view s, size_t pos, bool want_fraction) {
  bool fraction = false;
  size_t n = datetime_length(s, pos, fraction);
  if (n == 0 || fraction != want_fraction || s[pos + 10] != ' ') {
    return 0;
  }
  if (pos + n >= s.size() || s[pos + n] != ' ') {
    return 0;
  }
  size_t z = zone_length(s, pos + n + 1);
  return z == 0 ? 0 : n + 1 + z;
}

// `%n`: seconds since the epoch with milliseconds.
size_t epoch_length(std::string_view s, size_t pos) {
  size_t n = 0;
  while (pos + n < s.size() && is_digit(s[pos + n])) {
    ++n;
  }
  if (n < 9 || pos + n >= s.size() || s[pos + n] != '.') {
    return 0;
  }
  size_t f = 1;
  while (pos + n + f < s.size() && is_digit(s[pos + n + f])) {
    ++f;
  }
  return f == 1 ? 0 : n + f;
}

std::optional<int64_t> parse_int(std::string_view s) {
  if (s.empty() || s.size() > 18) {
    return std::nullopt;
  }
  int64_t v = 0;
  bool neg = s[0] == '-';
  for (size_t i = neg ? 1 : 0; i < s.size(); ++i) {
    if (!is_digit(s[i])) {
      return std::nullopt;
    }
    v = v * 10 + (s[i] - '0');
  }
  return neg ? -v : v;
}

std::string_view* text_field(PrefixFields& f, char c) {
  switch (c) {
    case 'u':
      return &f.user;
    case 'd':
      return &f.database;
    case 'a':
      return &f.application;
    case 'h':
    case 'r':
      return &f.client;
    case 'b':
      return &f.backend_type;
    default:
      return nullptr;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Prefixes

PgPrefix PgPrefix::parse(std::string_view spec) {
  PgPrefix p;
  p.m_spec = std::string(spec);
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] != '%') {
      if (p.m_tokens.empty() || p.m_tokens.back().kind != Token::literal) {
        p.m_tokens.push_back({});
      }
      p.m_tokens.back().text += spec[i];
      continue;
    }
    size_t start = i;
    ++i;
    // Padding, as elog.c's process_log_prefix_padding reads it: an optional '-', digits.
    int padding = 0;
    bool negative = false;
    if (i < spec.size() && spec[i] == '-') {
      negative = true;
      ++i;
    }
    while (i < spec.size() && is_digit(spec[i])) {
      padding = padding * 10 + (spec[i] - '0');
      ++i;
    }
    if (i >= spec.size()) {
      throw UsageError(fmt::format(
          "--pg-prefix '{}': a '%' at offset {} ends the prefix; write %% for a literal '%'", spec,
          start));
    }
    char c = spec[i];
    if (c == '%') {
      if (p.m_tokens.empty() || p.m_tokens.back().kind != Token::literal) {
        p.m_tokens.push_back({});
      }
      p.m_tokens.back().text += '%';
      continue;
    }
    static constexpr std::string_view k_known = "mtnpludahrecsvxqQbiP*";
    if (k_known.find(c) == std::string_view::npos) {
      throw UsageError(fmt::format(
          "--pg-prefix '{}': %{} at offset {} is not a log_line_prefix escape; PostgreSQL knows "
          "%a %u %d %r %h %b %p %P %t %m %n %i %e %c %l %s %v %x %q %Q %%",
          spec, c, start));
    }
    Token t;
    t.kind = c == 'q' ? Token::stop : Token::escape;
    t.escape_char = c;
    t.padding = negative ? -padding : padding;
    p.m_tokens.push_back(t);
  }
  return p;
}

bool PgPrefix::has_time() const {
  return std::any_of(m_tokens.begin(), m_tokens.end(), [](const Token& t) {
    return t.kind == Token::escape &&
           (t.escape_char == 'm' || t.escape_char == 't' || t.escape_char == 'n');
  });
}

bool PgPrefix::has_sqlstate() const {
  return std::any_of(m_tokens.begin(), m_tokens.end(), [](const Token& t) {
    return t.kind == Token::escape && t.escape_char == 'e';
  });
}

std::optional<size_t> PgPrefix::match(std::string_view line, PrefixFields& fields) const {
  fields = PrefixFields{};
  size_t end = 0;
  if (match_from(0, line, 0, fields, end, 16)) {
    return end;
  }
  return std::nullopt;
}

bool PgPrefix::match_from(size_t ti, std::string_view line, size_t pos, PrefixFields& f,
                          size_t& end, int budget) const {
  if (ti == m_tokens.size()) {
    if (severity_at(line, pos)) {
      end = pos;
      return true;
    }
    return false;
  }
  const Token& t = m_tokens[ti];
  if (t.kind == Token::literal) {
    if (line.compare(pos, t.text.size(), t.text) != 0) {
      return false;
    }
    return match_from(ti + 1, line, pos + t.text.size(), f, end, budget);
  }
  if (t.kind == Token::stop) {
    // %q: a session line goes on; other processes' lines end the prefix here.
    PrefixFields saved = f;
    if (match_from(ti + 1, line, pos, f, end, budget)) {
      return true;
    }
    f = saved;
    if (severity_at(line, pos)) {
      end = pos;
      return true;
    }
    return false;
  }
  if (t.padding > 0) {
    while (pos < line.size() && line[pos] == ' ') {
      ++pos;
    }
  }
  auto after = [&](size_t n) {
    size_t next = pos + n;
    if (t.padding < 0) {
      while (next < line.size() && line[next] == ' ') {
        ++next;
      }
    }
    return match_from(ti + 1, line, next, f, end, budget);
  };
  const char c = t.escape_char;
  switch (c) {
    case 'm':
    case 't':
    case 's': {
      size_t n = pg_time_length(line, pos, c == 'm');
      if (n == 0) {
        return false;
      }
      if (c != 's') {
        f.time = line.substr(pos, n);
        f.time_kind = c;
      }
      return after(n);
    }
    case 'n': {
      size_t n = epoch_length(line, pos);
      if (n == 0) {
        return false;
      }
      f.time = line.substr(pos, n);
      f.time_kind = 'n';
      return after(n);
    }
    case 'p':
    case 'l':
    case 'x':
    case 'P':
    case 'Q':
    case 'v': {
      size_t n = 0;
      if (c == 'Q' && pos < line.size() && line[pos] == '-') {
        ++n;
      }
      while (pos + n < line.size() &&
             (is_digit(line[pos + n]) || (c == 'v' && line[pos + n] == '/'))) {
        ++n;
      }
      // %P and %v are empty for processes without them.
      if (n == 0 && c != 'P' && c != 'v') {
        return false;
      }
      if (c == 'p') {
        f.pid = parse_int(line.substr(pos, n));
      } else if (c == 'l') {
        f.line_number = parse_int(line.substr(pos, n));
      }
      return after(n);
    }
    case 'e': {
      if (pos + 5 > line.size()) {
        return false;
      }
      for (size_t i = 0; i < 5; ++i) {
        if (!is_digit(line[pos + i]) && !is_upper(line[pos + i])) {
          return false;
        }
      }
      f.sqlstate = line.substr(pos, 5);
      return after(5);
    }
    case 'c': {
      size_t n = 0;
      while (pos + n < line.size() && is_hex(line[pos + n])) {
        ++n;
      }
      if (n == 0 || pos + n >= line.size() || line[pos + n] != '.') {
        return false;
      }
      size_t m = n + 1;
      while (pos + m < line.size() && is_hex(line[pos + m])) {
        ++m;
      }
      if (m == n + 1) {
        return false;
      }
      f.session = line.substr(pos, m);
      return after(m);
    }
    default:
      break;
  }
  // Free text (%u %d %a %h %r %b %i): up to an occurrence of what follows it.
  std::string_view* field = text_field(f, c);
  auto assign = [&](size_t stop) {
    if (field) {
      std::string_view v = line.substr(pos, stop - pos);
      if (t.padding != 0) {
        v = text::trim(v);
      }
      *field = v;
    }
  };
  size_t next = ti + 1;
  if (next < m_tokens.size() && m_tokens[next].kind == Token::literal) {
    const std::string& lit = m_tokens[next].text;
    size_t at = line.find(lit, pos);
    while (at != std::string_view::npos && budget-- > 0) {
      assign(at);
      if (match_from(next, line, at, f, end, budget)) {
        return true;
      }
      at = line.find(lit, at + 1);
    }
    return false;
  }
  if (next == m_tokens.size()) {
    // The last of the prefix: up to a severity word.
    for (size_t at = pos; at < line.size() && budget > 0; ++at) {
      if ((at == pos || line[at - 1] == ' ') && severity_at(line, at)) {
        --budget;
        assign(at);
        end = at;
        return true;
      }
    }
    return false;
  }
  // Followed by another escape: one word.
  size_t stop = line.find(' ', pos);
  if (stop == std::string_view::npos) {
    return false;
  }
  assign(stop);
  return match_from(next, line, stop, f, end, budget);
}

const std::vector<std::string>& common_pg_prefixes() {
  // Most specific first: when two fit every line, the first wins.
  static const std::vector<std::string> k_prefixes = {
      // pgBadger's recommended prefixes and their variants.
      "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
      "%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
      "%t [%p]: [%l-1] user=%u,db=%d,host=%h,app=%a ",
      "%t [%p]: [%l-1] db=%d,user=%u,app=%a,client=%h ",
      "%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a ",
      "%t [%p]: [%l-1] user=%u,db=%d ",
      "%t [%p]: db=%d,user=%u,app=%a,client=%h ",
      "%m [%p]: db=%d,user=%u,app=%a,client=%h ",
      "%t [%p]: [%l-1] ",
      "%m [%p]: [%l-1] ",
      // Behind syslog (the envelope gives time and pid).
      "db=%d,user=%u,app=%a,client=%h ",
      "user=%u,db=%d,app=%a,client=%h ",
      // Heroku.
      " sql_error_code = %e ",
      // Amazon RDS.
      "%t:%r:%u@%d:[%p]:",
      "%t:%h:%u@%d:[%p]:",
      // Debian / Ubuntu, and the default.
      "%m [%p] [queryid=%Q] %q%u@%d ",
      "%m [%p] user=%u,db=%d ",
      "%m [%p] %q%u@%d ",
      "%t [%p-%l] %q%u@%d ",
      "%t [%p] %q%u@%d ",
      "%m [%p] ",
      "%t [%p] ",
      "%m [%p]: ",
      "%t [%p]: ",
      "",
  };
  return k_prefixes;
}

// ---------------------------------------------------------------------------------------------
// Times

std::optional<std::string> stderr_time_to_utc(std::string_view w) {
  w = text::trim(w);
  if (size_t n = epoch_length(w, 0); n != 0 && n == w.size()) {
    size_t dot = w.find('.');
    auto secs = parse_int(w.substr(0, dot));
    std::string frac(w.substr(dot + 1));
    frac.resize(3, '0');
    if (!secs) {
      return std::nullopt;
    }
    return iso_utc(*secs, std::stoi(frac));
  }
  bool fraction = false;
  size_t n = datetime_length(w, 0, fraction);
  if (n == 0) {
    return std::nullopt;
  }
  int millis = 0;
  if (fraction) {
    std::string frac(w.substr(20, n - 20));
    frac.resize(3, '0');
    millis = std::stoi(frac);
  }
  std::string_view zone = w.substr(n);
  if (!zone.empty() && zone[0] == ' ') {
    zone.remove_prefix(1);
  }
  if (zone.empty()) {
    return std::nullopt;  // a local time of an unknown zone
  }
  auto offset = zone_offset(zone);
  if (!offset) {
    return std::nullopt;
  }
  int month = digits_value(w, 5, 2), day = digits_value(w, 8, 2);
  int hour = digits_value(w, 11, 2), minute = digits_value(w, 14, 2),
      second = digits_value(w, 17, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  int64_t days = days_from_civil(digits_value(w, 0, 4), month, day);
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - *offset;
  return iso_utc(secs, millis);
}

// ---------------------------------------------------------------------------------------------
// Envelopes

std::string_view envelope_name(Envelope e) {
  switch (e) {
    case Envelope::syslog:
      return "syslog";
    case Envelope::logplex:
      return "logplex";
    default:
      return "none";
  }
}

namespace {

struct EnvelopeFields {
  std::string_view time;
  bool time_has_year = false;
  std::optional<int64_t> pid;
  int64_t chunk = 1;  // the k of PostgreSQL's [N-k] syslog sequence
};

// `[N-k] ` at pos: returns the length, fills chunk.
size_t sequence_length(std::string_view s, size_t pos, int64_t& chunk) {
  if (pos >= s.size() || s[pos] != '[') {
    return 0;
  }
  size_t i = pos + 1;
  size_t a = i;
  while (i < s.size() && is_digit(s[i])) {
    ++i;
  }
  if (i == a || i >= s.size() || s[i] != '-') {
    return 0;
  }
  size_t b = ++i;
  while (i < s.size() && is_digit(s[i])) {
    ++i;
  }
  if (i == b || i >= s.size() || s[i] != ']') {
    return 0;
  }
  chunk = parse_int(s.substr(b, i - b)).value_or(1);
  ++i;
  if (i < s.size() && s[i] == ' ') {
    ++i;
  }
  return i - pos;
}

// ISO 8601 with an offset or Z (RFC 3339 syslog, logplex): its length, 0 when none.
size_t iso_time_length(std::string_view s, size_t pos) {
  bool fraction = false;
  size_t n = datetime_length(s, pos, fraction);
  if (n == 0 || s[pos + 10] != 'T') {
    return 0;
  }
  if (pos + n < s.size() && s[pos + n] == 'Z') {
    return n + 1;
  }
  if (pos + n + 6 <= s.size() && (s[pos + n] == '+' || s[pos + n] == '-') &&
      digits_at(s, pos + n + 1, 2) && s[pos + n + 3] == ':' && digits_at(s, pos + n + 4, 2)) {
    return n + 6;
  }
  return 0;
}

// `ident[pid]: ` at pos (syslog); the length.
size_t ident_length(std::string_view s, size_t pos, std::optional<int64_t>& pid) {
  size_t i = pos;
  while (i < s.size() && s[i] != '[' && s[i] != ' ' && s[i] != ':') {
    ++i;
  }
  if (i == pos || i >= s.size() || s[i] != '[') {
    return 0;
  }
  size_t a = ++i;
  while (i < s.size() && is_digit(s[i])) {
    ++i;
  }
  if (i == a || i + 2 > s.size() || s[i] != ']' || s[i + 1] != ':') {
    return 0;
  }
  pid = parse_int(s.substr(a, i - a));
  i += 2;
  if (i < s.size() && s[i] == ' ') {
    ++i;
  }
  return i - pos;
}

// The line without its envelope; nullopt when it has not the envelope.
std::optional<std::string_view> strip_envelope(Envelope e, std::string_view s, EnvelopeFields& ef) {
  ef = EnvelopeFields{};
  if (e == Envelope::syslog) {
    size_t pos = 0;
    if (size_t n = iso_time_length(s, 0); n != 0) {
      ef.time = s.substr(0, n);
      ef.time_has_year = true;
      pos = n;
    } else {
      // Mmm dd HH:MM:SS
      static constexpr std::string_view k_months = "JanFebMarAprMayJunJulAugSepOctNovDec";
      if (s.size() < 16 || k_months.find(s.substr(0, 3)) == std::string_view::npos ||
          k_months.find(s.substr(0, 3)) % 3 != 0 || s[3] != ' ' ||
          !(is_digit(s[4]) || s[4] == ' ') || !is_digit(s[5]) || s[6] != ' ' ||
          !digits_at(s, 7, 2) || s[9] != ':' || !digits_at(s, 10, 2) || s[12] != ':' ||
          !digits_at(s, 13, 2)) {
        return std::nullopt;
      }
      ef.time = s.substr(0, 15);
      pos = 15;
    }
    if (pos >= s.size() || s[pos] != ' ') {
      return std::nullopt;
    }
    // host
    size_t host = ++pos;
    while (pos < s.size() && s[pos] != ' ') {
      ++pos;
    }
    if (pos == host || pos >= s.size()) {
      return std::nullopt;
    }
    ++pos;
    size_t n = ident_length(s, pos, ef.pid);
    if (n == 0) {
      return std::nullopt;
    }
    pos += n;
    pos += sequence_length(s, pos, ef.chunk);
    return s.substr(pos);
  }
  if (e == Envelope::logplex) {
    size_t n = iso_time_length(s, 0);
    if (n == 0 || n >= s.size() || s[n] != ' ') {
      return std::nullopt;
    }
    ef.time = s.substr(0, n);
    ef.time_has_year = true;
    // Words up to app[postgres.PID], optionally followed by ':'.
    size_t app = s.find(" app[postgres.", n);
    if (app == std::string_view::npos) {
      if (s.compare(n + 1, 14, "app[postgres.") != 0) {
        return std::nullopt;
      }
      app = n;
    }
    size_t i = app + 14;
    size_t a = i;
    while (i < s.size() && is_digit(s[i])) {
      ++i;
    }
    if (i == a || i >= s.size() || s[i] != ']') {
      return std::nullopt;
    }
    ef.pid = parse_int(s.substr(a, i - a));
    ++i;
    if (i < s.size() && s[i] == ':') {
      ++i;
    }
    if (i < s.size() && s[i] == ' ') {
      ++i;
    }
    // [COLOR]
    if (i < s.size() && s[i] == '[' && i + 1 < s.size() && is_upper(s[i + 1])) {
      size_t close = s.find(']', i);
      if (close == std::string_view::npos) {
        return std::nullopt;
      }
      i = close + 1;
      if (i < s.size() && s[i] == ' ') {
        ++i;
      }
    }
    size_t q = sequence_length(s, i, ef.chunk);
    if (q == 0) {
      return std::nullopt;
    }
    return s.substr(i + q);
  }
  return s;
}

std::string_view trim_cr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> head_lines(std::string_view head, size_t max) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < head.size() && out.size() < max) {
    size_t nl = head.find('\n', start);
    if (nl == std::string_view::npos) {
      break;  // an incomplete last line
    }
    out.push_back(trim_cr(head.substr(start, nl - start)));
    start = nl + 1;
  }
  return out;
}

// rsyslog writes each control character of a message as '#' and its three octal digits (a tab
// is #011, the mark of PostgreSQL's continuation lines and of the tabs within statements):
// the text with them read back, in `out`.
std::string_view syslog_unescaped(std::string_view s, std::string& out) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '#' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      const int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      if (v < 32 || v == 127) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

bool continuation_text(std::string_view s) {
  return !s.empty() && (s[0] == '\t' || s.compare(0, 4, "#011") == 0);
}

// The offset of the first severity marker written as PostgreSQL does (`WORD:  `).
std::optional<size_t> marker_at(std::string_view s) {
  for (size_t i = 0; i < s.size() && i < 400; ++i) {
    if ((i == 0 || s[i - 1] == ' ' || s[i - 1] == ':' || s[i - 1] == ']') &&
        (is_upper(s[i]) || static_cast<unsigned char>(s[i]) >= 0x80)) {
      if (const SeverityWord* w = severity_at(s, i)) {
        size_t colon = i + w->word.size();
        if (s.compare(colon, 3, ":  ") == 0) {
          return i;
        }
      }
    }
  }
  return std::nullopt;
}

char key_escape(std::string_view key, std::string_view value) {
  if (value.size() == 5 &&
      std::all_of(value.begin(), value.end(), [](char c) { return is_digit(c) || is_upper(c); }) &&
      std::any_of(value.begin(), value.end(), is_digit)) {
    return 'e';
  }
  std::string k = text::lower(key);
  static const std::pair<std::string_view, char> k_keys[] = {
      {"user", 'u'},
      {"usr", 'u'},
      {"u", 'u'},
      {"username", 'u'},
      {"user_name", 'u'},
      {"role", 'u'},
      {"db", 'd'},
      {"database", 'd'},
      {"dbname", 'd'},
      {"d", 'd'},
      {"app", 'a'},
      {"appli", 'a'},
      {"application", 'a'},
      {"application_name", 'a'},
      {"a", 'a'},
      {"client", 'h'},
      {"host", 'h'},
      {"h", 'h'},
      {"remote", 'h'},
      {"client_addr", 'h'},
      {"pid", 'p'},
      {"p", 'p'},
      {"session", 'c'},
      {"session_id", 'c'},
      {"c", 'c'},
      {"sqlstate", 'e'},
      {"e", 'e'},
      {"state", 'e'},
      {"code", 'e'},
      {"error_code", 'e'},
      {"sql_error_code", 'e'},
      {"xid", 'x'},
      {"txid", 'x'},
      {"tx", 'x'},
      {"x", 'x'},
      {"vxid", 'v'},
      {"v", 'v'},
      {"line", 'l'},
      {"l", 'l'},
      {"queryid", 'Q'},
      {"query_id", 'Q'},
      {"backend", 'b'},
      {"backend_type", 'b'},
      {"b", 'b'},
  };
  for (const auto& [name, c] : k_keys) {
    if (k == name) {
      return c;
    }
  }
  return '*';
}

// A log_line_prefix of fields between one delimiter (`%m|%p|%l|%u|%d|%a|%e|%c| `), derived
// from `p` (the text before a severity), or "" when p is not so delimited. Each field is
// told by its form: a time, an epoch, numbers (the pid, then the line number, then the
// transaction), a SQLSTATE, a session id, a host; the fields of free text (or empty, as in
// a background process's line) are taken as user, database, application and host, in the
// order PostgreSQL's documentation and most configurations write them.
std::string derive_delimited_prefix(std::string_view p) {
  char delimiter = 0;
  size_t most = 1;
  for (char c : {'|', ';', ','}) {
    size_t n = static_cast<size_t>(std::count(p.begin(), p.end(), c));
    if (n > most) {
      most = n;
      delimiter = c;
    }
  }
  if (delimiter == 0) {
    return {};
  }
  std::vector<std::string_view> fields = text::split(p, delimiter);
  std::string out;
  const char* numbers = "plx";
  const char* texts = "udah";
  auto all = [](std::string_view f, auto pred) {
    return !f.empty() && std::all_of(f.begin(), f.end(), pred);
  };
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    std::string_view f = fields[i];
    char c = 0;
    if (!f.empty() && pg_time_length(f, 0, true) == f.size()) {
      c = 'm';
    } else if (!f.empty() && pg_time_length(f, 0, false) == f.size()) {
      c = 't';
    } else if (!f.empty() && epoch_length(f, 0) == f.size() && f.find('.') != f.npos) {
      c = 'n';
    } else if (f.size() == 5 && all(f, [](char ch) { return is_digit(ch) || is_upper(ch); }) &&
               std::any_of(f.begin(), f.end(), [](char ch) { return is_digit(ch); }) &&
               (f[0] == '0' || !all(f, [](char ch) { return is_digit(ch); }) || *numbers == 'x')) {
      // A SQLSTATE (00000, 42P01; 23505 once the pid and line number are placed): pids and
      // line numbers do not start with 0.
      c = 'e';
    } else if (all(f, [](char ch) { return is_digit(ch); })) {
      c = *numbers ? *numbers++ : 0;
    } else if (f.find('.') != f.npos && all(f, [](char ch) {
                 return is_digit(ch) || (ch >= 'a' && ch <= 'f') || ch == '.';
               })) {
      c = 'c';
    } else if (f == "[local]" || f.find('(') != f.npos) {
      c = f.find('(') != f.npos ? 'r' : 'h';
    } else {
      c = *texts ? *texts++ : 0;
    }
    if (c == 0) {
      return {};
    }
    out += '%';
    out += c;
    out += delimiter;
  }
  for (char ch : fields.back()) {
    out += ch == '%' ? "%%" : std::string(1, ch);
  }
  return out;
}

// A log_line_prefix that would print `p` (the text before a severity), or "" when none fits.
std::string derive_prefix(std::string_view p) {
  std::string out;
  bool pid = false;
  size_t i = 0;
  while (i < p.size()) {
    if (size_t n = pg_time_length(p, i, true); n != 0) {
      out += "%m";
      i += n;
      continue;
    }
    if (size_t n = pg_time_length(p, i, false); n != 0) {
      out += "%t";
      i += n;
      continue;
    }
    if (size_t n = epoch_length(p, i); n != 0 && (i == 0 || !is_digit(p[i - 1]))) {
      out += "%n";
      i += n;
      continue;
    }
    if (p[i] == '[' && i + 1 < p.size() && is_digit(p[i + 1])) {
      size_t j = i + 1;
      while (j < p.size() && is_digit(p[j])) {
        ++j;
      }
      if (j < p.size() && p[j] == ']') {
        out += pid ? "[%l]" : "[%p]";
        pid = true;
        i = j + 1;
        continue;
      }
      if (j < p.size() && p[j] == '-') {
        size_t k = j + 1;
        while (k < p.size() && is_digit(p[k])) {
          ++k;
        }
        if (k < p.size() && p[k] == ']' && k > j + 1) {
          out += pid ? "[%l-" + std::string(p.substr(j + 1, k - j - 1)) + "]" : "[%p-%l]";
          pid = true;
          i = k + 1;
          continue;
        }
      }
    }
    // A SQLSTATE on its own (00000, 42P01): five digits or capitals, at least two digits,
    // between spaces or brackets.
    if (i + 5 <= p.size() && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '[') &&
        (i + 5 == p.size() || p[i + 5] == ' ' || p[i + 5] == ']' || p[i + 5] == ':')) {
      std::string_view code = p.substr(i, 5);
      if (std::all_of(code.begin(), code.end(),
                      [](char c) { return is_digit(c) || is_upper(c); }) &&
          std::count_if(code.begin(), code.end(), is_digit) >= 2 &&
          (code[0] == '0' || !std::all_of(code.begin(), code.end(), is_digit))) {
        out += "%e";
        i += 5;
        continue;
      }
    }
    // key=value
    if ((is_upper(p[i]) || (p[i] >= 'a' && p[i] <= 'z')) &&
        (i == 0 || !std::isalnum(static_cast<unsigned char>(p[i - 1])))) {
      size_t j = i;
      while (j < p.size() && (std::isalnum(static_cast<unsigned char>(p[j])) || p[j] == '_')) {
        ++j;
      }
      if (j < p.size() && p[j] == '=') {
        size_t v = j + 1;
        size_t e = v;
        // A value in brackets ([local], [unknown]) keeps them; else ']' closes the pair.
        bool bracketed = v < p.size() && p[v] == '[';
        while (e < p.size() && p[e] != ',' && p[e] != ' ' && p[e] != ';' &&
               (bracketed || p[e] != ']')) {
          ++e;
        }
        // A time as the value (ts=%m, time=%t): up to its zone, white space and all.
        size_t time = pg_time_length(p, v, true);
        const char* escape = "%m";
        if (time == 0) {
          time = pg_time_length(p, v, false);
          escape = "%t";
        }
        if (time != 0) {
          for (char ch : p.substr(i, j + 1 - i)) {
            out += ch == '%' ? "%%" : std::string(1, ch);
          }
          out += escape;
          i = v + time;
          continue;
        }
        char c = key_escape(p.substr(i, j - i), p.substr(v, e - v));
        if (c == 'p') {
          pid = true;
        }
        for (char ch : p.substr(i, j + 1 - i)) {
          out += ch == '%' ? "%%" : std::string(1, ch);
        }
        out += '%';
        out += c;
        i = e;
        continue;
      }
      // user@db
      size_t e = i;
      while (e < p.size() && p[e] != ' ' && p[e] != '@') {
        ++e;
      }
      if (e < p.size() && p[e] == '@') {
        size_t f = e + 1;
        while (f < p.size() && p[f] != ' ' && p[f] != ':') {
          ++f;
        }
        out += "%u@%d";
        i = f;
        continue;
      }
    }
    if (p[i] == '@') {  // an empty user before @
      size_t f = i + 1;
      while (f < p.size() && p[f] != ' ' && p[f] != ':') {
        ++f;
      }
      out += "%u@%d";
      i = f;
      continue;
    }
    out += p[i] == '%' ? std::string("%%") : std::string(1, p[i]);
    ++i;
  }
  return out;
}

// The number of % escapes of a prefix (%% not counted).
int escapes(std::string_view spec) {
  int n = 0;
  for (size_t i = 0; i + 1 < spec.size(); ++i) {
    if (spec[i] == '%') {
      n += spec[i + 1] != '%';
      ++i;
    }
  }
  return n;
}

int count_matches(const PgPrefix& prefix, const std::vector<std::string_view>& lines) {
  PrefixFields f;
  int n = 0;
  for (auto l : lines) {
    if (prefix.match(l, f)) {
      ++n;
    }
  }
  return n;
}

}  // namespace

std::string user_prefix(std::string_view given) {
  using text::trim;
  std::string_view t = trim(given);
  // log_line_prefix = '...' (the name in any case, with or without '=')
  if (t.size() > 15 && text::iequals(t.substr(0, 15), "log_line_prefix")) {
    std::string_view rest = trim(t.substr(15));
    if (!rest.empty() && rest.front() == '=') {
      rest = trim(rest.substr(1));
    }
    if (!rest.empty() && rest.front() == '\'') {
      t = rest;
    }
  }
  if (t.size() < 2 || t.front() != '\'') {
    return std::string(given);
  }
  // '...' as postgresql.conf quotes it: '' or \' for a quote; a # comment may follow.
  std::string out;
  size_t i = 1;
  for (; i < t.size(); ++i) {
    if (t[i] == '\'' && i + 1 < t.size() && t[i + 1] == '\'') {
      out += '\'';
      ++i;
    } else if (t[i] == '\\' && i + 1 < t.size() && t[i + 1] == '\'') {
      out += '\'';
      ++i;
    } else if (t[i] == '\'') {
      break;
    } else {
      out += t[i];
    }
  }
  std::string_view after = i < t.size() ? trim(t.substr(i + 1)) : std::string_view("x");
  if (i >= t.size() || (!after.empty() && after.front() != '#')) {
    return std::string(given);  // not one quoted value: the text is the prefix
  }
  return out;
}

std::optional<std::string> announced_prefix(std::string_view line) {
  static constexpr std::string_view k_said = "parameter \"log_line_prefix\" changed to \"";
  size_t at = line.find(k_said);
  if (at == std::string_view::npos || line.size() < at + k_said.size() + 1 || line.back() != '"') {
    return std::nullopt;
  }
  std::string_view value = line.substr(at + k_said.size());
  value.remove_suffix(1);
  try {
    PgPrefix::parse(value);
  } catch (const Error&) {
    return std::nullopt;
  }
  return std::string(value);
}

std::optional<Detection> detect_pg_stderr(std::string_view head,
                                          const std::optional<std::string>& given) {
  auto lines = head_lines(head, 400);
  if (lines.empty()) {
    return std::nullopt;
  }
  Detection d;
  // The envelope that most lines have.
  int syslog = 0, logplex = 0;
  EnvelopeFields ef;
  for (auto l : lines) {
    syslog += strip_envelope(Envelope::syslog, l, ef).has_value();
    logplex += strip_envelope(Envelope::logplex, l, ef).has_value();
  }
  if (logplex * 2 >= static_cast<int>(lines.size()) && logplex > 0) {
    d.envelope = Envelope::logplex;
  } else if (syslog * 2 >= static_cast<int>(lines.size()) && syslog > 0) {
    d.envelope = Envelope::syslog;
  }
  // The lines that should carry a prefix: not continuations.
  std::vector<std::string_view> rests;
  for (auto l : lines) {
    if (auto r = strip_envelope(d.envelope, l, ef); r && !continuation_text(*r) && !r->empty()) {
      rests.push_back(*r);
    }
  }
  if (rests.empty()) {
    return std::nullopt;
  }
  d.lines_tried = static_cast<int>(rests.size());
  int best = 0;
  if (given) {
    d.prefix = *given;
    d.lines_matched = count_matches(PgPrefix::parse(*given), rests);
    if (d.lines_matched == 0 || d.lines_matched * 2 < d.lines_tried) {
      return std::nullopt;
    }
    return d;
  }
  // The prefixes the log itself announces (a reload that changed it) come first, then the
  // common ones. No prefix at all (`LOG:  ...`) only when nearly every line reads so: a
  // severity word and two spaces are little to go on.
  std::vector<std::string> candidates;
  for (auto r : rests) {
    if (auto said = announced_prefix(r);
        said && std::find(candidates.begin(), candidates.end(), *said) == candidates.end()) {
      candidates.push_back(*said);
    }
  }
  candidates.insert(candidates.end(), common_pg_prefixes().begin(), common_pg_prefixes().end());
  for (const auto& spec : candidates) {
    int n = count_matches(PgPrefix::parse(spec), rests);
    if (spec.empty() && d.envelope == Envelope::none && n * 10 < d.lines_tried * 9) {
      continue;
    }
    // %q: what follows it is left out of background processes' lines. When no line has it,
    // the prefix without that part fits as well and says what the lines hold: it wins a tie.
    if (size_t q = spec.find("%q");
        q != std::string::npos && n > 0 &&
        count_matches(PgPrefix::parse(spec.substr(0, q) + spec.substr(q + 2)), rests) == 0) {
      --n;
    }
    if (n > best) {
      best = n;
      d.prefix = spec;
    }
  }
  {
    // Derive one from the lines; keep it if it reads more of them, or as many with more
    // fields (a %e or %c that a common prefix's free text would swallow).
    int best_fields = escapes(d.prefix);
    int tried = 0;
    for (auto r : rests) {
      auto at = marker_at(r);
      if (!at) {
        continue;
      }
      if (++tried > 8) {
        break;
      }
      for (const std::string& spec :
           {derive_prefix(r.substr(0, *at)), derive_delimited_prefix(r.substr(0, *at))}) {
        if (spec.empty() && d.envelope == Envelope::none) {
          continue;
        }
        int n = count_matches(PgPrefix::parse(spec), rests);
        if (n > best || (n == best && escapes(spec) > best_fields)) {
          best = n;
          best_fields = escapes(spec);
          d.prefix = spec;
          d.derived = true;
        }
      }
    }
  }
  if (d.derived && best < d.lines_tried && d.prefix.find("%q") == std::string::npos) {
    // A derived prefix that reads the sessions' lines but not the background processes'
    // (the postmaster, the checkpointer): their lines stop where the prefix has %q. Try it
    // at the start (a syslog envelope's "%q%u@%d "), and after each space, where
    // PostgreSQL's documented prefixes put it.
    const std::string base = d.prefix;
    std::vector<size_t> cuts{0};
    for (size_t at = base.find(' '); at != std::string::npos; at = base.find(' ', at + 1)) {
      cuts.push_back(at + 1);
    }
    for (size_t cut : cuts) {
      // "pid=%p  db=%d" was "pid=%p %q db=%d" (%q printed nothing); "[%p] %u@%d" was
      // "[%p] %q%u@%d".
      std::string spec = base.substr(0, cut) + "%q" + base.substr(cut);
      int n = count_matches(PgPrefix::parse(spec), rests);
      if (n > best) {
        best = n;
        d.prefix = spec;
      }
    }
  }
  d.lines_matched = best;
  if (best == 0 || best * 2 < d.lines_tried) {
    return std::nullopt;
  }
  return d;
}

int sniff_pg_stderr(std::string_view head, const std::optional<std::string>& given) {
  if (given) {
    // The user's word: above every guess when the prefix fits most lines.
    if (auto d = detect_pg_stderr(head, given)) {
      return d->lines_matched * 10 >= d->lines_tried * 9 ? 80 : 65;
    }
  }
  auto d = detect_pg_stderr(head);
  if (!d) {
    return 0;
  }
  int score = d->lines_matched * 10 >= d->lines_tried * 9 ? 70 : 55;
  if (d->prefix.empty() && d->envelope == Envelope::none) {
    score = 50;  // bare `LOG:  ` lines: below any kind that is sure of itself
  }
  return d->derived ? score - 10 : score;
}

// ---------------------------------------------------------------------------------------------
// The reader

namespace {

// How entries read with this envelope and prefix were read (log_format): pg-stderr:PREFIX,
// pg-stderr+ENVELOPE:PREFIX.
std::string stderr_format(Envelope envelope, const std::string& prefix) {
  return envelope == Envelope::none
             ? "pg-stderr:" + prefix
             : fmt::format("pg-stderr+{}:{}", envelope_name(envelope), prefix);
}

constexpr size_t k_max_line = 1u << 20;  // bytes of one line kept
constexpr int k_examples = 10;           // unmatched lines reported one by one

// Replaces invalid UTF-8 by U+FFFD; returns the offset of the first invalid byte.
std::optional<size_t> make_utf8(std::string_view in, std::string& out) {
  auto bad = text::invalid_utf8_at(in);
  if (!bad) {
    return std::nullopt;
  }
  out.clear();
  size_t first = *bad;
  std::string_view rest = in;
  while (auto b = text::invalid_utf8_at(rest)) {
    out.append(rest.substr(0, *b));
    out.append("\xEF\xBF\xBD");
    rest.remove_prefix(*b + 1);
  }
  out.append(rest);
  return first;
}

bool ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return false;
    }
  }
  return true;
}

class Reader {
 public:
  Reader(store::FactWriter& out, PgPrefix prefix, Envelope envelope, std::string format)
      : m_out(out),
        m_prefix(std::move(prefix)),
        m_envelope(envelope),
        m_format(std::move(format)) {}

  void line(std::string_view text, uint64_t number, uint64_t offset) {
    ++m_lines;
    EnvelopeFields ef;
    auto rest = strip_envelope(m_envelope, text, ef);
    if (!rest) {
      unmatched(text, number, offset, "not in the log's envelope");
      return;
    }
    std::string_view r = *rest;
    if (m_envelope == Envelope::syslog && r.find("#0") != std::string_view::npos) {
      r = syslog_unescaped(r, m_unescaped);
    }
    PrefixFields f;
    std::optional<size_t> sev_at;
    m_by_previous = false;
    if (!continuation_text(r)) {
      sev_at = m_prefix.match(r, f);
      if (!sev_at && m_previous) {
        // Right after a reload that changed the prefix, a backend that has not reloaded yet
        // still writes the old one.
        f = PrefixFields{};
        sev_at = m_previous->match(r, f);
        m_by_previous = sev_at.has_value();
      }
    }
    if (!sev_at) {
      if (m_pending && (!ef.pid || !m_pending_pid || *ef.pid == *m_pending_pid)) {
        if (continuation_text(r)) {
          continue_field(r.substr(r[0] == '\t' ? 1 : 4), number, true);
          return;
        }
        if (m_envelope != Envelope::none && ef.chunk > 1) {
          continue_field(r, number, false);  // a long line split by syslog
          return;
        }
      }
      if (switch_prefix(r, number)) {
        line(text, number, offset);
        --m_lines;
        return;
      }
      unmatched(text, number, offset, "");
      return;
    }
    const SeverityWord* sev = severity_at(r, *sev_at);
    size_t msg = *sev_at + sev->word.size() + 1;
    for (int i = 0; i < 2 && msg < r.size() && r[msg] == ' '; ++i) {
      ++msg;
    }
    std::string_view message = r.substr(std::min(msg, r.size()));
    std::optional<int64_t> pid = f.pid ? f.pid : ef.pid;
    if (sev->field != Field::none) {
      if (m_pending && (!pid || !m_pending_pid || *pid == *m_pending_pid)) {
        std::string* field = field_of(sev->field);
        if (field->empty() && !m_has[static_cast<int>(sev->field)]) {
          field->assign(message);
        } else {
          field->append("\n").append(message);
        }
        m_has[static_cast<int>(sev->field)] = true;
        m_last = field;
        m_pending->end_line = static_cast<int64_t>(number);
        return;
      }
      ++m_orphans;
      if (m_orphans <= k_examples) {
        store::ProblemFact p;
        p.line = static_cast<int64_t>(number);
        p.byte_offset = static_cast<int64_t>(offset);
        p.severity = "notice";
        p.code = "log-orphan-line";
        p.message = fmt::format(
            "line {}: a {} line with no entry of its process before it; kept as an entry of its "
            "own",
            number, sev->word);
        m_out.add(p);
      }
    }
    flush();
    // The old prefix may read the announcement of the new one too (a postmaster's line has
    // no user@db either way): the lines after it are read with the new one all the same.
    if (sev->word == "LOG" && message.starts_with("parameter \"log_line_prefix\" changed to")) {
      if (auto said = announced_prefix(message); said && *said != m_prefix.spec()) {
        switch_to(*said, PgPrefix::parse(*said), number);
      }
    }
    start(r, f, ef, *sev, message, pid, number);
  }

  // A line holding a NUL byte: binary data, not text.
  void binary(uint64_t number, uint64_t offset) {
    ++m_lines;
    unmatched("", number, offset, "binary data (a NUL byte)");
  }

  // A line longer than the read buffer: its first part stands for it.
  void long_line(std::string_view first_piece, uint64_t number, uint64_t offset) {
    store::ProblemFact p;
    p.line = static_cast<int64_t>(number);
    p.byte_offset = static_cast<int64_t>(offset);
    p.severity = "warning";
    p.code = "log-line-too-long";
    p.message = fmt::format(
        "line {} is longer than the read buffer ({}); its first {} are read, the rest is not",
        number, text::human_bytes(first_piece.size()), text::human_bytes(k_max_line));
    m_out.add(p);
    std::string_view kept = first_piece.substr(0, text::utf8_prefix(first_piece, k_max_line));
    line(kept, number, offset);
  }

  void finish(PgStderrSummary& s) {
    flush();
    if (m_unmatched > k_examples) {
      store::ProblemFact p;
      p.severity = "notice";
      p.code = "log-unmatched-lines";
      p.message = fmt::format(
          "{} lines in all are not entries of the prefix '{}' (the first {} are listed)",
          m_unmatched, m_prefix.spec(), k_examples);
      m_out.add(p);
    }
    if (m_bad_utf8 > k_examples) {
      store::ProblemFact p;
      p.severity = "notice";
      p.code = "log-invalid-utf8";
      p.message = fmt::format("{} lines in all hold invalid UTF-8 (the first {} are listed)",
                              m_bad_utf8, k_examples);
      m_out.add(p);
    }
    s.events = m_events;
    s.unmatched = m_unmatched;
    s.lines = m_lines;
  }

  // Invalid UTF-8 is replaced (U+FFFD) and said, once per line.
  std::string_view checked(std::string_view text, uint64_t number, uint64_t offset) {
    if (ascii(text)) {
      return text;
    }
    auto bad = make_utf8(text, m_utf8);
    if (!bad) {
      return text;
    }
    if (++m_bad_utf8 <= k_examples) {
      store::ProblemFact p;
      p.line = static_cast<int64_t>(number);
      p.byte_offset = static_cast<int64_t>(offset + *bad);
      p.severity = "warning";
      p.code = "log-invalid-utf8";
      p.message = fmt::format(
          "line {}: invalid UTF-8 at byte {} of the line (expected UTF-8 text); read with "
          "U+FFFD in its place",
          number, *bad);
      m_out.add(p);
    }
    return m_utf8;
  }

 private:
  // A line the prefix does not read that announces a new one (a reload changed
  // log_line_prefix; the announcement is written with the new prefix): read with it from
  // here, and said. False when the line announces nothing, or not a prefix it is written in.
  bool switch_prefix(std::string_view r, uint64_t number) {
    auto said = announced_prefix(r);
    if (!said || *said == m_prefix.spec()) {
      return false;
    }
    PgPrefix next = PgPrefix::parse(*said);
    PrefixFields f;
    if (!next.match(r, f)) {
      return false;
    }
    switch_to(*said, std::move(next), number);
    return true;
  }

  // From here, lines are read with the prefix `said`, and the problems say so.
  void switch_to(const std::string& said, PgPrefix next, uint64_t number) {
    store::ProblemFact p;
    p.line = static_cast<int64_t>(number);
    p.severity = "notice";
    p.code = "log-prefix-changed";
    p.message = fmt::format(
        "line {}: the server's log_line_prefix changed from '{}' to '{}' (a reload); the lines "
        "from here are read with the new one",
        number, m_prefix.spec(), said);
    m_out.add(p);
    m_previous = std::move(m_prefix);
    m_previous_format = std::move(m_format);
    m_prefix = std::move(next);
    m_format = stderr_format(m_envelope, said);
  }

  std::string* field_of(Field f) {
    auto& e = *m_pending;
    auto opt = [](store::OptText& t) -> std::string* {
      if (!t) {
        t.emplace();
      }
      return &*t;
    };
    switch (f) {
      case Field::detail:
        return opt(e.detail);
      case Field::hint:
        return opt(e.hint);
      case Field::query:
        return opt(e.query);
      case Field::context:
        return opt(e.context);
      case Field::statement:
        return opt(e.statement);
      case Field::location:
        return opt(e.location);
      default:
        return &e.message;
    }
  }

  void continue_field(std::string_view text, uint64_t number, bool new_line) {
    if (new_line) {
      m_last->append("\n");
    }
    m_last->append(text);
    m_pending->end_line = static_cast<int64_t>(number);
  }

  void start(std::string_view, const PrefixFields& f, const EnvelopeFields& ef,
             const SeverityWord& sev, std::string_view message, std::optional<int64_t> pid,
             uint64_t number) {
    m_pending.emplace();
    m_has.fill(false);
    auto& e = *m_pending;
    e.line = e.end_line = static_cast<int64_t>(number);
    e.format = m_by_previous ? m_previous_format : m_format;
    e.severity = std::string(sev.word);
    if (!f.time.empty()) {
      e.ts_written = std::string(f.time);
      e.ts = stderr_time_to_utc(f.time);
    } else if (!ef.time.empty()) {
      e.ts_written = std::string(ef.time);
      if (ef.time_has_year) {
        e.ts = stderr_time_to_utc(ef.time);
      }
    }
    if (e.ts_written && !e.ts && ef.time.empty()) {
      note_unknown_zone(*e.ts_written, number);
    }
    if (e.ts) {
      note_ambiguous_zone(*e.ts_written, number);
    }
    e.pid = pid;
    m_pending_pid = pid;
    auto text = [](std::string_view v) -> store::OptText {
      if (v.empty()) {
        return std::nullopt;
      }
      return std::string(v);
    };
    e.user_name = text(f.user);
    e.database_name = text(f.database);
    e.application = text(f.application);
    e.client = text(f.client);
    e.session = text(f.session);
    e.sqlstate = text(f.sqlstate);
    if (sev.field != Field::none) {
      // An orphan DETAIL / STATEMENT ... line: its text is its message.
      e.message = std::string(message);
      m_last = &e.message;
      return;
    }
    // log_error_verbosity = verbose: `ERROR:  42P01: relation ...`.
    if (message.size() > 7 && message[5] == ':' && message[6] == ' ') {
      std::string_view code = message.substr(0, 5);
      if (std::all_of(code.begin(), code.end(),
                      [](char c) { return is_digit(c) || is_upper(c); }) &&
          std::count_if(code.begin(), code.end(), is_digit) >= 2) {
        if (!e.sqlstate) {
          e.sqlstate = std::string(code);
        }
        message.remove_prefix(7);
      }
    }
    e.message = std::string(message);
    m_last = &e.message;
  }

  // The position of an error in its statement, which stderr appends to the message
  // (" at character 15"; csvlog and jsonlog keep it in a field of its own): taken off, so
  // that the message is the server's message and one template stands for every position.
  static void drop_position(std::string& m) {
    static constexpr std::string_view k_at = " at character ";
    size_t at = m.rfind(k_at);
    if (at == std::string::npos || at + k_at.size() == m.size()) {
      // A server writing in another language: ` bei Zeichen 15`, `(15文字目)`.
      if (auto keep = without_translated_position(m)) {
        m.resize(*keep);
      }
      return;
    }
    for (size_t i = at + k_at.size(); i < m.size(); ++i) {
      if (!is_digit(m[i])) {
        return;
      }
    }
    m.resize(at);
  }

  void note_unknown_zone(const std::string& written, uint64_t number) {
    if (m_zone_noted) {
      return;
    }
    m_zone_noted = true;
    store::ProblemFact p;
    p.line = static_cast<int64_t>(number);
    p.severity = "warning";
    p.code = "log-unknown-zone";
    p.message = fmt::format(
        "line {}: the time \"{}\" has a zone dbautopsy does not know (expected an abbreviation "
        "of PostgreSQL's Default set or a numeric offset); ts is left empty, ts_written keeps it",
        number, written);
    m_out.add(p);
  }

  // A notice, once per zone, for a time read in an ambiguous zone abbreviation (IST, CST):
  // which meaning was taken. The zone last looked at is remembered, so that a log written
  // in one zone costs one comparison per entry.
  void note_ambiguous_zone(std::string_view written, uint64_t number) {
    size_t space = written.rfind(' ');
    std::string_view zone = space == std::string_view::npos ? "" : written.substr(space + 1);
    if (zone == m_last_zone) {
      return;
    }
    m_last_zone = std::string(zone);
    auto abbreviation = timeutil::zone_abbreviation(zone);
    if (!abbreviation || abbreviation->ambiguity.empty() ||
        std::find(m_ambiguous_noted.begin(), m_ambiguous_noted.end(), m_last_zone) !=
            m_ambiguous_noted.end()) {
      return;
    }
    m_ambiguous_noted.push_back(m_last_zone);
    store::ProblemFact p;
    p.line = static_cast<int64_t>(number);
    p.severity = "notice";
    p.code = "log-time-zone";
    p.message = fmt::format("line {}: time zone abbreviation '{}' is ambiguous; read as {}", number,
                            zone, abbreviation->ambiguity);
    m_out.add(p);
  }

  // The statement of `duration: ... statement: ...`, `statement: ...` and `execute X: ...`.
  static std::optional<std::string_view> logged_statement(std::string_view m) {
    if (m.compare(0, 10, "duration: ") == 0) {
      size_t two = m.find("  ");
      if (two == std::string_view::npos) {
        return std::nullopt;
      }
      m.remove_prefix(two + 2);
    }
    if (m.compare(0, 11, "statement: ") == 0) {
      return m.substr(11);
    }
    for (std::string_view verb : {"execute ", "parse ", "bind "}) {
      if (m.compare(0, verb.size(), verb) == 0) {
        size_t colon = m.find(": ", verb.size());
        if (colon != std::string_view::npos) {
          return m.substr(colon + 2);
        }
      }
    }
    return std::nullopt;
  }

  void flush() {
    if (!m_pending) {
      return;
    }
    auto& e = *m_pending;
    if (e.severity != "LOG") {
      drop_position(e.message);
    }
    if (!e.statement && e.severity == "LOG") {
      if (auto st = logged_statement(e.message)) {
        e.statement = std::string(*st);
      }
    }
    m_out.add(std::move(e));
    ++m_events;
    m_pending.reset();
    m_last = nullptr;
  }

  void unmatched(std::string_view text, uint64_t number, uint64_t offset, std::string_view why) {
    ++m_unmatched;
    if (m_unmatched > k_examples) {
      return;
    }
    store::ProblemFact p;
    p.line = static_cast<int64_t>(number);
    p.byte_offset = static_cast<int64_t>(offset);
    p.severity = "warning";
    p.code = "log-unmatched-line";
    p.message = fmt::format(
        "line {}: not a PostgreSQL log line{}{} (expected the prefix '{}'{} then SEVERITY:  "
        "message, or a tab-indented continuation of an entry)",
        number, why.empty() ? "" : ": ", why, m_prefix.spec(),
        m_envelope == Envelope::none
            ? ""
            : fmt::format(" inside a {} envelope", envelope_name(m_envelope)));
    p.snippet = text::abbreviate(text, 200);
    m_out.add(p);
  }

  store::FactWriter& m_out;
  PgPrefix m_prefix;
  Envelope m_envelope;
  std::string m_format;
  std::optional<store::LogEventFact> m_pending;
  std::optional<int64_t> m_pending_pid;
  std::array<bool, 8> m_has{};
  std::string* m_last = nullptr;
  std::string m_utf8;
  int64_t m_events = 0, m_lines = 0, m_unmatched = 0, m_orphans = 0, m_bad_utf8 = 0;
  bool m_zone_noted = false;
  std::vector<std::string> m_ambiguous_noted;  // the ambiguous zones a notice was given for
  std::string m_last_zone;
  std::string m_unescaped;  // a syslog line with its #ooo escapes read back
  // The prefix before the last reload that changed it, and whether the line at hand was read
  // with it.
  std::optional<PgPrefix> m_previous;
  std::string m_previous_format;
  bool m_by_previous = false;
};

}  // namespace

PgStderrSummary read_pg_stderr(io::Source& in, store::FactWriter& out,
                               const PgStderrOptions& options) {
  PgStderrSummary s;
  io::LineReader reader(in);
  std::string_view head = reader.complete_lines();
  auto detected = detect_pg_stderr(head.substr(0, std::min<size_t>(head.size(), 256 * 1024)));
  if (options.prefix) {
    s.prefix = *options.prefix;
    s.envelope = detected ? detected->envelope : Envelope::none;
  } else if (detected) {
    s.prefix = detected->prefix;
    s.envelope = detected->envelope;
    s.derived = detected->derived;
  } else {
    s.prefix = "%m [%p] ";
    store::ProblemFact p;
    p.severity = "warning";
    p.code = "log-prefix-unknown";
    p.message = fmt::format(
        "no log_line_prefix fits the first lines (fewer than half of them read as `PREFIX "
        "SEVERITY:  message`); read with PostgreSQL's default '{}'; give the prefix with "
        "--pg-prefix",
        s.prefix);
    out.add(p);
  }
  std::string format = stderr_format(s.envelope, s.prefix);
  Reader r(out, PgPrefix::parse(s.prefix), s.envelope, std::move(format));
  // The entries are stored by a thread of their own while the next ones are parsed.
  out.finish_events_with(&finish_event);  // templates and entities
  store::FactWriter::Pipeline pipeline(out);
  io::Line line;
  try {
    while (reader.next(line)) {
      if (!line.first_piece) {
        continue;  // the rest of a long line
      }
      if (!line.complete) {
        r.long_line(r.checked(line.text, line.number, line.offset), line.number, line.offset);
        continue;
      }
      std::string_view t = trim_cr(line.text);
      if (size_t nul = t.find('\0'); nul != std::string_view::npos) {
        r.binary(line.number, line.offset + nul);
        continue;
      }
      r.line(r.checked(t, line.number, line.offset), line.number, line.offset);
      if (!line.has_newline) {
        // The server ends every line it writes with a newline: the file was cut (copied while
        // written, truncated on the way), and the entry of this line with it.
        store::ProblemFact p;
        p.line = static_cast<int64_t>(line.number);
        p.byte_offset = static_cast<int64_t>(line.offset + line.text.size());
        p.severity = "error";
        p.code = "log-truncated";
        p.message = fmt::format(
            "line {}: the file ends in the middle of this line (no newline after it): the log "
            "was cut, and its last entry is kept only as far as it goes",
            line.number);
        out.add(p);
      }
    }
  } catch (const InputError&) {
    r.finish(s);  // what was read stays
    throw;
  }
  r.finish(s);
  if (s.events == 0 && s.lines > 0) {
    store::ProblemFact p;
    p.severity = "error";
    p.code = "log-no-entry";
    p.message = fmt::format(
        "none of the {} lines is a PostgreSQL log entry with the prefix '{}' (expected `PREFIX "
        "SEVERITY:  message`)",
        s.lines, s.prefix);
    out.add(p);
  }
  pipeline.finish();
  return s;
}

}  // namespace dbautopsy::logs
