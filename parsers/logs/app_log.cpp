#include "logs/app_log.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/text.hpp"
#include "io/line_reader.hpp"
#include "logs/app_time.hpp"
#include "logs/template.hpp"

namespace dbautopsy::logs {

namespace {

using nlohmann::json;

constexpr size_t k_examples = 5;                 // unmatched lines reported one by one
constexpr size_t k_max_continuation = 1u << 20;  // bytes of continuation kept per entry
constexpr size_t k_head_lines = 400;             // lines that decide the layout

// ---------------------------------------------------------------------------------------
// Lines: invalid UTF-8 repaired and reported, overlong lines cut and reported.

class Lines {
 public:
  Lines(io::Source& in, store::FactWriter& out) : m_reader(in), m_out(out) {}

  // The next line (without '\r'), valid until the next call.
  bool next(std::string_view& text, uint64_t& number) {
    io::Line line;
    while (m_reader.next(line)) {
      if (!line.first_piece) {
        continue;  // the rest of an overlong line, reported with its first piece
      }
      if (!line.complete) {
        store::ProblemFact p;
        p.line = static_cast<int64_t>(line.number);
        p.byte_offset = static_cast<int64_t>(line.offset + line.text.size());
        p.severity = "error";
        p.code = "log-line-too-long";
        p.message = fmt::format(
            "line {} is longer than {} MiB: its first {} MiB are read, the rest of the line is "
            "not; expected log lines",
            line.number, line.text.size() >> 20, line.text.size() >> 20);
        m_out.add(p);
      }
      std::string_view t = line.text;
      if (!t.empty() && t.back() == '\r') {
        t.remove_suffix(1);
      }
      number = line.number;
      ++m_lines;
      if (auto bad = text::invalid_utf8_at(t)) {
        ++m_bad_utf8;
        if (m_bad_utf8 <= k_examples) {
          store::ProblemFact p;
          p.line = static_cast<int64_t>(line.number);
          p.byte_offset = static_cast<int64_t>(line.offset + *bad);
          p.severity = "warning";
          p.code = "log-encoding";
          p.message = fmt::format(
              "line {}: invalid UTF-8 at byte {} (column {}); expected UTF-8 text; the line is "
              "read with U+FFFD in place of the bad bytes",
              line.number, line.offset + *bad, *bad + 1);
          m_out.add(p);
        }
        m_fixed = repair_utf8(t);
        text = m_fixed;
        return true;
      }
      text = t;
      return true;
    }
    if (m_bad_utf8 > k_examples) {
      store::ProblemFact p;
      p.severity = "warning";
      p.code = "log-encoding";
      p.message = fmt::format("{} lines hold invalid UTF-8 (the first {} are listed)", m_bad_utf8,
                              k_examples);
      m_out.add(p);
      m_bad_utf8 = 0;
    }
    return false;
  }

  uint64_t lines() const { return m_lines; }

  static std::string repair_utf8(std::string_view t) {
    std::string out;
    out.reserve(t.size() + 8);
    while (!t.empty()) {
      auto bad = text::invalid_utf8_at(t);
      if (!bad) {
        out.append(t);
        break;
      }
      out.append(t.substr(0, *bad));
      out += "\xEF\xBF\xBD";
      t.remove_prefix(*bad + 1);
    }
    return out;
  }

 private:
  io::LineReader m_reader;
  store::FactWriter& m_out;
  std::string m_fixed;
  uint64_t m_lines = 0;
  uint64_t m_bad_utf8 = 0;
};

// Lines that belong to no entry: counted, the first few reported.
class Unmatched {
 public:
  Unmatched(store::FactWriter& out, std::string expected)
      : m_out(out), m_expected(std::move(expected)) {}
  void set_expected(std::string expected) { m_expected = std::move(expected); }

  void add(uint64_t line, std::string_view text, std::string_view why = {}) {
    ++m_count;
    if (m_count > k_examples) {
      return;
    }
    store::ProblemFact p;
    p.line = static_cast<int64_t>(line);
    p.severity = "warning";
    p.code = "log-unmatched-line";
    p.message = fmt::format("line {}: {}; expected {}; the line is not read", line,
                            why.empty() ? "a line of no entry" : why, m_expected);
    p.snippet = std::string(text.substr(0, text::utf8_prefix(text, 200)));
    m_out.add(p);
  }

  // The total, once the file is read.
  void finish(uint64_t last_line) {
    if (m_count > k_examples) {
      store::ProblemFact p;
      p.line = static_cast<int64_t>(last_line);
      p.severity = "warning";
      p.code = "log-unmatched-lines";
      p.message = fmt::format("{} lines belong to no log entry (the first {} are listed)", m_count,
                              k_examples);
      m_out.add(p);
    }
  }
  uint64_t count() const { return m_count; }

 private:
  store::FactWriter& m_out;
  std::string m_expected;
  uint64_t m_count = 0;
};

// ---------------------------------------------------------------------------------------
// Tracebacks.

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

std::string_view rtrim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// An exception line: `module.Class: text` or `Class` at the start of a line.
bool exception_line(std::string_view s) {
  size_t i = 0;
  while (i < s.size() &&
         (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '.')) {
    ++i;
  }
  if (i == 0 || std::isdigit(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  return i == s.size() || (s[i] == ':' && (i + 1 == s.size() || s[i + 1] == ' '));
}

// The SQLSTATE of psycopg2's / psycopg's exception classes (psycopg2.errors.UndefinedTable).
std::optional<std::string> sqlstate_of(std::string_view exception) {
  static const std::pair<std::string_view, std::string_view> k_classes[] = {
      {"UndefinedTable", "42P01"},
      {"UndefinedColumn", "42703"},
      {"UndefinedFunction", "42883"},
      {"UndefinedObject", "42704"},
      {"InvalidSchemaName", "3F000"},
      {"DuplicateTable", "42P07"},
      {"DuplicateColumn", "42701"},
      {"DuplicateObject", "42710"},
      {"SyntaxError", "42601"},
      {"InsufficientPrivilege", "42501"},
      {"UniqueViolation", "23505"},
      {"ForeignKeyViolation", "23503"},
      {"NotNullViolation", "23502"},
      {"CheckViolation", "23514"},
      {"ExclusionViolation", "23P01"},
      {"DivisionByZero", "22012"},
      {"InvalidTextRepresentation", "22P02"},
      {"StringDataRightTruncation", "22001"},
      {"NumericValueOutOfRange", "22003"},
      {"InvalidDatetimeFormat", "22007"},
      {"DatetimeFieldOverflow", "22008"},
      {"QueryCanceled", "57014"},
      {"AdminShutdown", "57P01"},
      {"DeadlockDetected", "40P01"},
      {"SerializationFailure", "40001"},
      {"LockNotAvailable", "55P03"},
      {"ObjectInUse", "55006"},
      {"InFailedSqlTransaction", "25P02"},
      {"ReadOnlySqlTransaction", "25006"},
      {"TooManyConnections", "53300"},
      {"DiskFull", "53100"},
      {"IdleInTransactionSessionTimeout", "25P03"},
  };
  for (std::string_view module : {"psycopg2.errors.", "psycopg.errors."}) {
    if (starts_with(exception, module)) {
      std::string_view cls = exception.substr(module.size());
      cls = cls.substr(0, cls.find(':'));
      for (const auto& [name, state] : k_classes) {
        if (cls == name) {
          return std::string(state);
        }
      }
    }
  }
  return std::nullopt;
}

std::string join_lines(const std::vector<std::string_view>& lines, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) {
      out += '\n';
    }
    out.append(lines[i]);
  }
  return out;
}

// One entry being read: its first line's fields, and the lines that continue it.
class Entry {
 public:
  Entry(store::FactWriter& out, Unmatched& unmatched, AppLogSummary& summary)
      : m_out(out), m_unmatched(unmatched), m_summary(summary) {}

  bool open() const { return m_open; }
  store::LogEventFact& start(uint64_t line, std::string format) {
    flush();
    m_event = store::LogEventFact{};
    m_event.line = m_event.end_line = static_cast<int64_t>(line);
    m_event.format = std::move(format);
    m_open = true;
    m_more.clear();
    return m_event;
  }
  void add(std::string_view text, uint64_t line) {
    if (m_more.size() + text.size() > k_max_continuation) {
      m_unmatched.add(line, text,
                      fmt::format("the entry of line {} already holds {} KiB of continuation "
                                  "lines",
                                  m_event.line, k_max_continuation >> 10));
      return;
    }
    m_more.append(text);
    m_more += '\n';
    m_event.end_line = static_cast<int64_t>(line);
  }
  void flush();

 private:
  void take_continuation();

  store::FactWriter& m_out;
  Unmatched& m_unmatched;
  AppLogSummary& m_summary;
  store::LogEventFact m_event;
  std::string m_more;
  bool m_open = false;
};

void Entry::take_continuation() {
  std::vector<std::string_view> lines;
  std::string_view rest = m_more;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    lines.push_back(rtrim(rest.substr(0, nl)));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
  size_t end = lines.size();
  while (end > 0 && lines[end - 1].empty()) {
    --end;  // trailing blank lines (Python's warnings end with one)
  }
  size_t tb = end;
  for (size_t i = 0; i < end; ++i) {
    if (starts_with(lines[i], "Traceback (most recent call last):")) {
      tb = i;
      break;
    }
  }
  if (tb > 0) {
    m_event.message += '\n';
    m_event.message += join_lines(lines, 0, tb);
  }
  if (tb == end) {
    return;
  }
  ++m_summary.tracebacks;
  m_event.traceback = join_lines(lines, tb, end);
  // The final exception, and what follows it (psycopg2: LINE 1:, DETAIL:, HINT:).
  std::optional<size_t> last;
  for (size_t i = tb + 1; i < end; ++i) {
    std::string_view l = lines[i];
    if (l.empty() || l[0] == ' ' || l[0] == '\t' || starts_with(l, "Traceback (") ||
        starts_with(l, "During handling of the above") || starts_with(l, "The above exception")) {
      continue;
    }
    if (exception_line(l)) {
      last = i;
      if (auto state = sqlstate_of(l)) {
        m_event.sqlstate = *state;
      }
    }
  }
  if (!last) {
    return;
  }
  std::string_view exc = lines[*last];
  if (m_event.message != exc) {
    m_event.message += '\n';
    m_event.message.append(exc);
  }
  for (size_t i = *last + 1; i < end; ++i) {
    if (starts_with(lines[i], "DETAIL:")) {
      m_event.detail = std::string(text::trim(lines[i].substr(7)));
    } else if (starts_with(lines[i], "HINT:")) {
      m_event.hint = std::string(text::trim(lines[i].substr(5)));
    }
  }
}

void Entry::flush() {
  if (!m_open) {
    return;
  }
  m_open = false;
  if (!m_more.empty()) {
    take_continuation();
  }
  m_out.add(std::move(m_event));  // start() makes it anew
  ++m_summary.events;
}

void set_time(store::LogEventFact& e, std::string_view written, const TimeParts& t) {
  e.ts_written = std::string(written);
  e.ts = t.utc();
}

// ---------------------------------------------------------------------------------------
// Python logging layouts, written as logging format strings and matched by hand.

enum class El {
  lit,
  asctime,
  level,
  name,
  module,
  filename,
  lineno,
  funcname,
  process,
  thread,
  message,
  other
};

struct Element {
  El kind;
  std::string text;  // the literal
};

struct Layout {
  std::string format;  // as Python writes it
  std::vector<Element> elements;
  bool strong = false;  // has a time and a level: a line that matches starts an entry
  bool django = false;  // Django's request log with no prefix
};

Layout compile(std::string format) {
  Layout l;
  l.format = format;
  size_t i = 0;
  std::string lit;
  bool time = false, level = false;
  while (i < format.size()) {
    if (format.compare(i, 2, "%(") == 0) {
      size_t close = format.find(')', i);
      std::string name = format.substr(i + 2, close - i - 2);
      size_t j = close + 1;
      while (j < format.size() &&
             (format[j] == '-' || std::isdigit(static_cast<unsigned char>(format[j])))) {
        ++j;
      }
      ++j;  // the conversion: s, d
      if (!lit.empty()) {
        l.elements.push_back({El::lit, lit});
        lit.clear();
      }
      El k = name == "asctime" || name == "server_time" ? El::asctime
             : name == "levelname"                      ? El::level
             : name == "name"                           ? El::name
             : name == "module"                         ? El::module
             : name == "filename"                       ? El::filename
             : name == "lineno"                         ? El::lineno
             : name == "funcName"                       ? El::funcname
             : name == "process"                        ? El::process
             : name == "thread"                         ? El::thread
             : name == "message"                        ? El::message
                                                        : El::other;
      time = time || k == El::asctime;
      level = level || k == El::level;
      l.elements.push_back({k, {}});
      i = j;
      continue;
    }
    lit += format[i++];
  }
  if (!lit.empty()) {
    l.elements.push_back({El::lit, lit});
  }
  l.strong = time && level;
  return l;
}

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> k_layouts = [] {
    std::vector<Layout> v;
    for (const char* f : {
             // Airflow's task and scheduler logs.
             "[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s",
             // gunicorn's error log.
             "[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s",
             // Django's documentation ("verbose").
             "%(levelname)s %(asctime)s %(module)s %(process)d %(thread)d %(message)s",
             // The logging cookbook's and the common variants.
             "%(asctime)s - %(name)s - %(levelname)s - %(message)s",
             "%(asctime)s - %(levelname)s - %(name)s - %(message)s",
             "%(asctime)s - %(levelname)s - %(message)s",
             "%(asctime)s [%(levelname)s] %(name)s: %(message)s",
             "[%(asctime)s] [%(levelname)s] %(name)s: %(message)s",
             "[%(asctime)s] %(levelname)s [%(name)s] %(message)s",
             "[%(asctime)s] %(levelname)s in %(module)s: %(message)s",
             "[%(asctime)s] %(levelname)s %(name)s: %(message)s",
             "%(asctime)s %(levelname)s %(name)s: %(message)s",
             "%(asctime)s %(levelname)s [%(name)s] %(message)s",
             // with the process id (workers of an ETL or a web server)
             "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s",
             "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s",
             "[%(asctime)s] [%(process)d] %(levelname)s %(name)s: %(message)s",
             "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s",
             "%(asctime)s:%(levelname)s:%(name)s:%(message)s",
             "%(asctime)s %(name)s %(levelname)s %(message)s",
             "%(asctime)s [%(levelname)s] %(message)s",
             "[%(asctime)s] [%(levelname)s] %(message)s",
             "[%(asctime)s] %(levelname)s %(message)s",
             "%(asctime)s %(levelname)s %(message)s",
             "%(levelname)s %(asctime)s %(module)s %(message)s",
             "%(levelname)s %(asctime)s %(message)s",
             "[%(levelname)s] %(asctime)s %(name)s: %(message)s",
             "[%(levelname)s] %(name)s: %(message)s",
             "[%(levelname)s] %(message)s",
             // logging.BASIC_FORMAT, what basicConfig() writes.
             "%(levelname)s:%(name)s:%(message)s",
             // The common layout without its time (a container or journal log adds its own,
             // or the time was cut off the lines).
             "%(levelname)s %(name)s: %(message)s",
             "%(name)s - %(levelname)s - %(message)s",
             // django.server's default formatter.
             "[%(server_time)s] %(message)s",
         }) {
      v.push_back(compile(f));
    }
    Layout django;
    django.format = "%(message)s";
    django.django = true;
    v.push_back(django);
    return v;
  }();
  return k_layouts;
}

bool is_level(std::string_view w) {
  static constexpr std::string_view k_levels[] = {"DEBUG", "INFO",      "WARNING", "WARN",
                                                  "ERROR", "CRITICAL",  "FATAL",   "NOTSET",
                                                  "TRACE", "EXCEPTION", "SUCCESS", "NOTICE"};
  if (w.size() < 4 || w.size() > 9) {
    return false;
  }
  for (auto l : k_levels) {
    if (text::iequals(w, l)) {
      // Upper case as Python writes it, or all lower case (structlog, loguru's sinks).
      bool all_upper = true, all_lower = true;
      for (char c : w) {
        all_upper = all_upper && !(c >= 'a' && c <= 'z');
        all_lower = all_lower && !(c >= 'A' && c <= 'Z');
      }
      return all_upper || all_lower;
    }
  }
  return false;
}

// django.request's messages (django/utils/log.py log_response, django/core/handlers).
bool django_request_start(std::string_view s) {
  static constexpr std::string_view k_starts[] = {"Internal Server Error: ", "Not Found: ",
                                                  "Bad Request: ",           "Forbidden (",
                                                  "Method Not Allowed (",    "Gone: ",
                                                  "Service Unavailable: ",   "Unauthorized: ",
                                                  "Too Many Requests: ",     "Not Implemented: ",
                                                  "Bad Gateway: ",           "Gateway Timeout: "};
  for (auto p : k_starts) {
    if (starts_with(s, p)) {
      return true;
    }
  }
  return false;
}

struct Fields {
  std::string_view time, level, name, module, filename, lineno, funcname, process, message;
  TimeParts parts;
};

bool match(const Layout& layout, std::string_view s, Fields& f) {
  f = Fields{};
  if (layout.django) {
    if (!django_request_start(s)) {
      return false;
    }
    f.message = s;
    return true;
  }
  size_t i = 0;
  bool padded = false;
  const auto& els = layout.elements;
  for (size_t k = 0; k < els.size(); ++k) {
    const Element& e = els[k];
    switch (e.kind) {
      case El::lit: {
        std::string_view lit = e.text;
        if (padded && lit[0] == ' ') {
          if (i >= s.size() || s[i] != ' ') {
            return false;
          }
          while (i < s.size() && s[i] == ' ') {
            ++i;
          }
          lit.remove_prefix(lit.find_first_not_of(' ') == std::string_view::npos
                                ? lit.size()
                                : lit.find_first_not_of(' '));
        }
        padded = false;
        if (s.substr(i, lit.size()) != lit) {
          return false;
        }
        i += lit.size();
        break;
      }
      case El::asctime: {
        size_t n = read_timestamp(s.substr(i), f.parts);
        if (n == 0) {
          return false;
        }
        f.time = s.substr(i, n);
        i += n;
        break;
      }
      case El::level: {
        while (i < s.size() && s[i] == ' ') {
          ++i;
        }
        size_t j = i;
        while (j < s.size() && ((s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z'))) {
          ++j;
        }
        if (!is_level(s.substr(i, j - i))) {
          return false;
        }
        f.level = s.substr(i, j - i);
        i = j;
        padded = true;
        break;
      }
      case El::lineno:
      case El::process:
      case El::thread: {
        size_t j = i;
        while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
          ++j;
        }
        if (j == i) {
          return false;
        }
        if (e.kind == El::lineno) {
          f.lineno = s.substr(i, j - i);
        } else if (e.kind == El::process) {
          f.process = s.substr(i, j - i);
        }
        i = j;
        break;
      }
      case El::message:
        while (i < s.size() && s[i] == ' ' && padded) {
          ++i;
        }
        f.message = s.substr(i);
        return true;
      default: {
        // A word up to the next literal.
        size_t j;
        if (k + 1 < els.size() && els[k + 1].kind == El::lit) {
          j = s.find(els[k + 1].text, i);
          if (j == std::string_view::npos) {
            return false;
          }
        } else {
          j = s.find(' ', i);
          if (j == std::string_view::npos) {
            j = s.size();
          }
        }
        std::string_view w = s.substr(i, j - i);
        if (w.empty() || w.find(' ') != std::string_view::npos) {
          return false;
        }
        if (e.kind == El::name) {
          f.name = w;
        } else if (e.kind == El::module) {
          f.module = w;
        } else if (e.kind == El::filename) {
          f.filename = w;
        } else if (e.kind == El::funcname) {
          f.funcname = w;
        }
        i = j;
        break;
      }
    }
  }
  return i == s.size();
}

// Whether a line can only continue an entry (traceback frames, indented text, blank).
bool continuation_like(std::string_view s) {
  return s.empty() || s[0] == ' ' || s[0] == '\t' || starts_with(s, "Traceback (") ||
         starts_with(s, "During handling of the above") || starts_with(s, "The above exception");
}

// Lines that PostgreSQL's own stderr log writes (its severities after a prefix).
bool postgres_like(std::string_view s) {
  for (std::string_view m : {"LOG:  ", "ERROR:  ", "STATEMENT:  ", "DETAIL:  ", "FATAL:  ",
                             "HINT:  ", "CONTEXT:  ", "WARNING:  "}) {
    if (s.find(m) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

std::vector<std::string_view> head_lines(std::string_view head) {
  std::vector<std::string_view> out;
  while (!head.empty() && out.size() < k_head_lines) {
    size_t nl = head.find('\n');
    if (nl == std::string_view::npos) {
      break;  // a line the head may have cut
    }
    out.push_back(rtrim(head.substr(0, nl)));
    head.remove_prefix(nl + 1);
  }
  if (out.empty() && !head.empty()) {
    out.push_back(rtrim(head));
  }
  return out;
}

struct Detection {
  const Layout* layout = nullptr;
  size_t matched = 0;
  size_t considered = 0;  // lines that are not continuation-like
  size_t postgres = 0;
};

Detection detect(const std::vector<std::string_view>& lines) {
  Detection d;
  std::vector<size_t> counts(layouts().size());
  Fields f;
  bool in_traceback = false;  // from a Traceback line to the next line that starts an entry
  for (auto l : lines) {
    bool any = false;
    for (size_t k = 0; k < layouts().size(); ++k) {
      bool m = match(layouts()[k], l, f);
      counts[k] += m;
      any = any || m;
    }
    if (any) {
      in_traceback = false;
    } else if (starts_with(l, "Traceback (")) {
      in_traceback = true;
    }
    if (!any && (in_traceback || continuation_like(l))) {
      continue;
    }
    ++d.considered;
    d.postgres += postgres_like(l);
  }
  for (size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] > d.matched) {
      d.matched = counts[k];
      d.layout = &layouts()[k];
    }
  }
  return d;
}

void fill(store::LogEventFact& e, const Fields& f) {
  if (!f.time.empty()) {
    set_time(e, f.time, f.parts);
  }
  if (!f.level.empty()) {
    e.severity = std::string(f.level);
  }
  if (!f.name.empty()) {
    e.logger = std::string(f.name);
  } else if (!f.module.empty()) {
    e.logger = std::string(f.module);
  }
  if (!f.filename.empty()) {
    e.location =
        f.lineno.empty() ? std::string(f.filename) : fmt::format("{}:{}", f.filename, f.lineno);
  }
  if (!f.process.empty() && f.process.size() < 10) {
    e.pid = std::stoll(std::string(f.process));
  }
  e.message = std::string(f.message);
}

// ---------------------------------------------------------------------------------------
// JSON lines.

const json* field(const json& obj, std::string_view name) {
  if (auto it = obj.find(name); it != obj.end()) {
    return &*it;
  }
  // A dotted name reaches into nested objects (ECS: log.level, error.stack_trace).
  size_t dot = name.find('.');
  if (dot == std::string_view::npos) {
    return nullptr;
  }
  auto it = obj.find(name.substr(0, dot));
  if (it == obj.end() || !it->is_object()) {
    return nullptr;
  }
  return field(*it, name.substr(dot + 1));
}

std::string as_text(const json& v) {
  if (v.is_string()) {
    return v.get<std::string>();
  }
  if (v.is_array()) {
    // A traceback as a list of lines (structlog's format_exc_info gives a string; some
    // formatters give lists).
    std::string out;
    for (const auto& item : v) {
      if (!out.empty() && out.back() != '\n') {
        out += '\n';
      }
      out += item.is_string() ? item.get<std::string>() : item.dump();
    }
    return out;
  }
  return v.dump();
}

// PostgreSQL's own jsonlog and the cloud envelopes around PostgreSQL's logs.
bool postgres_json(const json& obj) {
  if (obj.contains("error_severity") || obj.contains("backend_type") ||
      obj.contains("textPayload")) {
    return true;
  }
  if (auto it = obj.find("record"); it != obj.end() && it->is_object() &&
                                    (it->contains("error_severity") || it->contains("log_time"))) {
    return true;
  }
  if (auto it = obj.find("jsonPayload"); it != obj.end()) {
    return true;
  }
  return false;
}

struct JsonNames {
  std::vector<std::string> time, level, message, logger, traceback, pid;
};

const JsonNames& builtin_names() {
  static const JsonNames k = {
      {"timestamp", "time", "@timestamp", "asctime", "ts", "datetime", "date"},
      {"level", "levelname", "severity", "lvl", "log.level", "loglevel"},
      {"message", "msg", "event", "@message"},
      {"logger", "name", "logger_name", "log.logger", "logger.name"},
      {"exc_info", "exception", "exc_text", "stack_trace", "stacktrace", "traceback",
       "error.stack_trace"},
      {"process", "pid", "process.pid"}};
  return k;
}

const json* pick(const json& obj, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (const json* v = field(obj, n)) {
      if (!v->is_null()) {
        return v;
      }
    }
  }
  return nullptr;
}

JsonNames names_of(const UserFormat& f) {
  JsonNames n;
  n.time = {f.timestamp_field};
  n.level = {f.level_field};
  n.message = {f.body_field};
  n.logger =
      f.logger_field.empty() ? builtin_names().logger : std::vector<std::string>{f.logger_field};
  n.traceback = builtin_names().traceback;
  n.pid = {f.pid_field};
  return n;
}

// The time of a user format's captured (or JSON) field, by its timestamp-format list or the
// built-in reader.
std::optional<TimeParts> user_time(std::string_view written,
                                   const std::vector<std::string>& formats) {
  for (const auto& tf : formats) {
    if (auto t = parse_with_format(written, tf)) {
      return t;
    }
  }
  if (formats.empty()) {
    return parse_timestamp(written);
  }
  return std::nullopt;
}

class BadTimes {
 public:
  explicit BadTimes(store::FactWriter& out) : m_out(out) {}
  void add(uint64_t line, std::string_view written, std::string_view expected) {
    if (++m_count > k_examples) {
      return;
    }
    store::ProblemFact p;
    p.line = static_cast<int64_t>(line);
    p.severity = "warning";
    p.code = "log-timestamp";
    p.message = fmt::format(
        "line {}: the time \"{}\" is not {}; the entry is read without a time (ts is NULL)", line,
        text::abbreviate(written, 60), expected);
    m_out.add(p);
  }

 private:
  store::FactWriter& m_out;
  uint64_t m_count = 0;
};

// Fills an event from one JSON object; false when the object has no message field.
bool json_event(const json& obj, const JsonNames& names, const std::vector<std::string>& formats,
                store::LogEventFact& e, BadTimes& bad_times, uint64_t line) {
  const json* msg = pick(obj, names.message);
  if (msg == nullptr) {
    return false;
  }
  e.message = as_text(*msg);
  if (const json* t = pick(obj, names.time)) {
    if (t->is_number()) {
      e.ts_written = t->dump();
      if (auto parts = from_epoch(t->get<double>())) {
        e.ts = parts->utc();
      } else {
        bad_times.add(line, *e.ts_written, "seconds since 1970 up to the year 5138");
      }
    } else {
      std::string written = as_text(*t);
      e.ts_written = written;
      if (auto parts = user_time(written, formats)) {
        e.ts = parts->utc();
      } else {
        bad_times.add(line, written,
                      formats.empty() ? "a time dbautopsy reads (ISO 8601, epoch seconds)"
                                      : "in any of the format's timestamp-format patterns");
      }
    }
  }
  if (const json* l = pick(obj, names.level)) {
    e.severity = as_text(*l);
  }
  if (const json* l = pick(obj, names.logger)) {
    e.logger = as_text(*l);
  }
  if (const json* p = pick(obj, names.pid); p != nullptr && p->is_number_integer()) {
    e.pid = p->get<int64_t>();
  }
  if (const json* tb = pick(obj, names.traceback); tb != nullptr && !tb->is_boolean()) {
    std::string text = as_text(*tb);
    if (!text.empty()) {
      e.traceback = text;
    }
  }
  return true;
}

// A traceback given as a field is read like one that follows a line.
void take_json_traceback(store::LogEventFact& e, Entry& entry, uint64_t line) {
  if (!e.traceback) {
    return;
  }
  std::string tb = *e.traceback;
  e.traceback.reset();
  std::string_view rest = tb;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    entry.add(rest.substr(0, nl), line);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
}

// ---------------------------------------------------------------------------------------
// User formats.

bool user_match(const UserFormat& f, std::string_view line, store::LogEventFact& e,
                BadTimes& bad_times, uint64_t number) {
  for (const auto& p : f.patterns) {
    const re2::RE2& re = *p.re;
    int n = re.NumberOfCapturingGroups();
    std::vector<re2::StringPiece> groups(static_cast<size_t>(n) + 1);
    if (!re.Match(re2::StringPiece(line.data(), line.size()), 0, line.size(),
                  re2::RE2::ANCHOR_START, groups.data(), n + 1)) {
      continue;
    }
    bool body = false;
    for (const auto& [name, index] : re.NamedCapturingGroups()) {
      re2::StringPiece g = groups[static_cast<size_t>(index)];
      if (g.data() == nullptr) {
        continue;
      }
      std::string v(g.data(), g.size());
      if (name == f.body_field) {
        e.message = v;
        body = true;
      } else if (name == f.timestamp_field) {
        e.ts_written = v;
        if (auto t = user_time(v, f.timestamp_formats)) {
          e.ts = t->utc();
        } else {
          bad_times.add(number, v,
                        f.timestamp_formats.empty()
                            ? "a time dbautopsy reads (ISO 8601 or asctime); give "
                              "\"timestamp-format\""
                            : "in any of the format's timestamp-format patterns");
        }
      } else if (name == f.level_field) {
        e.severity = v;
      } else if (name == f.logger_field ||
                 (f.logger_field.empty() &&
                  (name == "logger" || name == "module" || name == "name"))) {
        e.logger = v;
      } else if (name == f.pid_field) {
        if (!v.empty() && v.size() < 10 && v.find_first_not_of("0123456789") == std::string::npos) {
          e.pid = std::stoll(v);
        }
      } else if (name == "user" || name == "user_name") {
        e.user_name = v;
      } else if (name == "database" || name == "database_name" || name == "dbname") {
        e.database_name = v;
      } else if (name == "application" || name == "application_name") {
        e.application = v;
      } else if (name == "client") {
        e.client = v;
      } else if (name == "session") {
        e.session = v;
      } else if (name == "sqlstate") {
        e.sqlstate = v;
      } else if (name == "statement") {
        e.statement = v;
      } else if (name == "detail") {
        e.detail = v;
      } else if (name == "hint") {
        e.hint = v;
      }
    }
    if (!body) {
      e.message = std::string(line);
    }
    return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::string detect_python_layout(std::string_view head) {
  Detection d = detect(head_lines(head));
  return d.layout ? d.layout->format : std::string();
}

int sniff_python_log(std::string_view head) {
  auto lines = head_lines(head);
  Detection d = detect(lines);
  if (d.layout == nullptr || d.considered == 0) {
    return 0;
  }
  // PostgreSQL's stderr log (its severities after a prefix) is another reader's.
  if (d.postgres * 5 > d.considered) {
    return 0;
  }
  if (d.matched * 2 < d.considered) {
    return 0;
  }
  if (d.layout->django) {
    return 70;
  }
  return d.layout->strong ? 85 : 65;
}

int sniff_json_lines(std::string_view head) {
  auto lines = head_lines(head);
  size_t objects = 0, logs = 0, other = 0;
  for (auto l : lines) {
    l = text::trim(l);
    if (l.empty()) {
      continue;
    }
    if (l.front() != '{') {
      ++other;
      continue;
    }
    json obj = json::parse(l, nullptr, false);
    if (obj.is_discarded() || !obj.is_object()) {
      ++other;
      continue;
    }
    ++objects;
    if (postgres_json(obj)) {
      return 0;
    }
    const auto& n = builtin_names();
    if (pick(obj, n.message) != nullptr &&
        (pick(obj, n.time) != nullptr || pick(obj, n.level) != nullptr)) {
      ++logs;
    }
  }
  if (objects == 0 || logs * 2 < objects + other) {
    return 0;
  }
  return 70;
}

int sniff_user_log(std::string_view head, const std::vector<UserFormat>& formats) {
  auto lines = head_lines(head);
  int best = 0;
  for (const auto& f : formats) {
    size_t matched = 0, considered = 0;
    bool first = false, seen = false;
    for (auto l : lines) {
      if (text::trim(l).empty()) {
        continue;
      }
      bool m = false;
      if (f.json) {
        json obj = json::parse(l, nullptr, false);
        m = !obj.is_discarded() && obj.is_object() && field(obj, f.body_field) != nullptr;
      } else {
        for (const auto& p : f.patterns) {
          m = m || p.re->Match(re2::StringPiece(l.data(), l.size()), 0, l.size(),
                               re2::RE2::ANCHOR_START, nullptr, 0);
        }
      }
      if (!seen) {
        first = m;
        seen = true;
      }
      matched += m;
      considered += !(f.multiline && !f.json && continuation_like(l));
    }
    if (first && matched * 10 >= considered * 3) {
      best = 95;
    }
  }
  return best;
}

AppLogSummary read_python_log(io::Source& in, store::FactWriter& out) {
  AppLogSummary summary;
  Lines lines(in, out);
  // The first lines decide the layout; they are kept until it is known.
  std::vector<std::pair<std::string, uint64_t>> buffered;
  std::string_view text;
  uint64_t number = 0;
  const Layout* layout = nullptr;
  Unmatched unmatched(out, "a Python logging line");
  Entry entry(out, unmatched, summary);
  // The entries are stored by a thread of their own while the next ones are parsed.
  out.finish_events_with(&finish_event);  // templates and entities
  store::FactWriter::Pipeline pipeline(out);
  std::string format;
  std::string first_line;
  auto process = [&](std::string_view s, uint64_t n) {
    Fields f;
    const Layout* used = nullptr;
    if (layout != nullptr && match(*layout, s, f)) {
      used = layout;
    } else if (!s.empty() && s[0] != ' ' && s[0] != '\t') {
      // Another layout in the same file (two handlers, a library's own format): only layouts
      // with both a time and a level start an entry there.
      for (const auto& l : layouts()) {
        if (&l != layout && l.strong && match(l, s, f)) {
          used = &l;
          break;
        }
      }
    }
    if (used != nullptr) {
      auto& e = entry.start(n, used == layout ? format : "python:" + used->format);
      fill(e, f);
    } else if (entry.open()) {
      entry.add(s, n);
    } else if (!s.empty()) {
      unmatched.add(n, s, "a line before the first entry");
    }
  };
  auto decide = [&] {
    std::string head;
    for (const auto& [t, n] : buffered) {
      head += t;
      head += '\n';
    }
    Detection d = detect(head_lines(head));
    layout = d.layout;
    summary.format = layout ? layout->format : std::string();
    format = "python:" + summary.format;
    if (layout != nullptr) {
      unmatched.set_expected(fmt::format("a Python logging line ({})", layout->format));
    }
    for (const auto& [t, n] : buffered) {
      process(t, n);
    }
    buffered.clear();
  };
  try {
    while (lines.next(text, number)) {
      if (number == 1) {
        first_line = text::abbreviate(text, 80);
      }
      if (layout == nullptr && buffered.size() < k_head_lines) {
        buffered.emplace_back(std::string(text), number);
        if (buffered.size() == k_head_lines) {
          decide();
          if (layout == nullptr) {
            buffered.clear();
            break;  // nothing here is a Python log line
          }
        }
        continue;
      }
      process(text, number);
    }
    if (!buffered.empty()) {
      decide();
    }
  } catch (...) {
    if (!buffered.empty()) {
      decide();
    }
    entry.flush();
    throw;
  }
  entry.flush();
  summary.lines = lines.lines();
  unmatched.finish(number);
  summary.unmatched = unmatched.count();
  if (summary.events == 0 && summary.lines > 0) {
    store::ProblemFact p;
    p.line = 1;
    p.severity = "error";
    p.code = "log-format";
    p.message = fmt::format(
        "no line is a Python logging line; expected lines such as \"2024-01-14 20:50:01,123 "
        "INFO app.module: message\" or \"[2026-03-16T17:30:20.123+0000] {{task.py:12}} INFO - "
        "message\" (first line: \"{}\")",
        first_line);
    out.add(p);
  }
  pipeline.finish();
  return summary;
}

AppLogSummary read_json_lines(io::Source& in, store::FactWriter& out, const UserFormat* map) {
  AppLogSummary summary;
  summary.format = map ? "json:" + map->name : "json";
  Lines lines(in, out);
  Unmatched unmatched(out, map ? fmt::format("a JSON object with a \"{}\" field (format \"{}\")",
                                             map->body_field, map->name)
                               : std::string("a JSON object with a message field"));
  Entry entry(out, unmatched, summary);
  BadTimes bad_times(out);
  out.finish_events_with(&finish_event);  // templates and entities
  store::FactWriter::Pipeline pipeline(out);
  JsonNames names = map ? names_of(*map) : builtin_names();
  std::vector<std::string> formats = map ? map->timestamp_formats : std::vector<std::string>{};
  std::string format = summary.format;
  std::string_view text;
  uint64_t number = 0;
  try {
    while (lines.next(text, number)) {
      std::string_view t = text::trim(text);
      if (t.empty()) {
        continue;
      }
      json obj = t.front() == '{' ? json::parse(t, nullptr, false) : json();
      if (obj.is_discarded() || !obj.is_object()) {
        entry.flush();
        unmatched.add(number, text, "not a JSON object");
        continue;
      }
      store::LogEventFact e;
      if (!json_event(obj, names, formats, e, bad_times, number)) {
        entry.flush();
        unmatched.add(number, text, "a JSON object without a message field");
        continue;
      }
      auto& ev = entry.start(number, format);
      std::string f = ev.format;
      ev = std::move(e);
      ev.line = ev.end_line = static_cast<int64_t>(number);
      ev.format = f;
      take_json_traceback(ev, entry, number);
    }
  } catch (...) {
    entry.flush();
    throw;
  }
  entry.flush();
  summary.lines = lines.lines();
  unmatched.finish(number);
  summary.unmatched = unmatched.count();
  pipeline.finish();
  return summary;
}

AppLogSummary read_user_log(io::Source& in, store::FactWriter& out,
                            const std::vector<UserFormat>& formats) {
  AppLogSummary summary;
  const UserFormat* json_format = nullptr;
  std::vector<std::string> names;
  for (const auto& f : formats) {
    names.push_back(f.name);
    if (f.json && json_format == nullptr) {
      json_format = &f;
    }
  }
  bool only_json = json_format != nullptr && std::all_of(formats.begin(), formats.end(),
                                                         [](const auto& f) { return f.json; });
  if (only_json) {
    return read_json_lines(in, out, json_format);
  }
  summary.format = "user:" + text::join(names, ",");
  Lines lines(in, out);
  Unmatched unmatched(out, fmt::format("a line of the log format {}", text::join(names, ", ")));
  Entry entry(out, unmatched, summary);
  BadTimes bad_times(out);
  out.finish_events_with(&finish_event);  // templates and entities
  store::FactWriter::Pipeline pipeline(out);
  JsonNames json_names = json_format ? names_of(*json_format) : JsonNames{};
  std::string_view text;
  uint64_t number = 0;
  const UserFormat* last = nullptr;
  try {
    while (lines.next(text, number)) {
      store::LogEventFact e;
      const UserFormat* used = nullptr;
      for (const auto& f : formats) {
        if (!f.json && user_match(f, text, e, bad_times, number)) {
          used = &f;
          break;
        }
      }
      if (used == nullptr && json_format != nullptr && !text.empty() && text.front() == '{') {
        json obj = json::parse(text, nullptr, false);
        if (!obj.is_discarded() && obj.is_object() &&
            json_event(obj, json_names, json_format->timestamp_formats, e, bad_times, number)) {
          used = json_format;
        }
      }
      if (used != nullptr) {
        auto& ev = entry.start(number, "user:" + used->name);
        std::string f = ev.format;
        ev = std::move(e);
        ev.line = ev.end_line = static_cast<int64_t>(number);
        ev.format = f;
        take_json_traceback(ev, entry, number);
        last = used;
      } else if (entry.open() && last != nullptr && last->multiline && !last->json) {
        entry.add(text, number);
      } else if (!text.empty()) {
        bool after_entry = entry.open();
        entry.flush();
        unmatched.add(number, text,
                      after_entry ? "a line no pattern matches (the format is not multiline)"
                                  : "a line no pattern of the format matches");
      }
    }
  } catch (...) {
    entry.flush();
    throw;
  }
  entry.flush();
  summary.lines = lines.lines();
  unmatched.finish(number);
  summary.unmatched = unmatched.count();
  pipeline.finish();
  return summary;
}

}  // namespace dbautopsy::logs
