#include "logs/pg_json.hpp"

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/text.hpp"
#include "io/line_reader.hpp"
#include "logs/pg_structured.hpp"
#include "logs/template.hpp"

namespace dbautopsy::logs {

namespace {

using nlohmann::json;

// nlohmann's reason without its "[json.exception.out_of_range.406] " tag.
std::string json_reason(const json::exception& e) {
  std::string_view what = e.what();
  if (size_t end = what.find("] "); what.starts_with("[json.") && end != std::string_view::npos) {
    what.remove_prefix(end + 2);
  }
  return std::string(what);
}

enum class Shape { jsonlog, cnpg, cnpg_operator, cloudsql, other };

Shape shape_of(const json& o) {
  if (auto r = o.find("record"); r != o.end() && r->is_object() &&
                                 (r->contains("error_severity") || r->contains("log_time"))) {
    return Shape::cnpg;
  }
  if (auto p = o.find("textPayload"); p != o.end() && p->is_string()) {
    return Shape::cloudsql;
  }
  if (o.contains("error_severity") && o.contains("message")) {
    return Shape::jsonlog;
  }
  // CloudNativePG's instance manager and operator (zap through controller-runtime): their
  // own lines, some without logging_pod or logger.
  if (o.contains("level") && o.contains("msg") && o.contains("ts")) {
    return Shape::cnpg_operator;
  }
  return Shape::other;
}

// A value as text: strings as they are, numbers as JSON writes them; none for null, absent
// or empty.
std::optional<std::string> text_of(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) {
    return std::nullopt;
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty()) {
      return std::nullopt;
    }
    return s;
  }
  if (it->is_structured()) {
    return it->dump();
  }
  return it->dump();
}

std::optional<int64_t> int_of(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) {
    return std::nullopt;
  }
  if (it->is_number_integer()) {
    return it->get<int64_t>();
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (!s.empty() && s.size() < 19 && s.find_first_not_of("0123456789") == std::string::npos) {
      return std::stoll(s);
    }
  }
  return std::nullopt;
}

std::string_view str_of(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) {
    return {};
  }
  return it->get_ref<const std::string&>();
}

void set_time(store::LogEventFact& e, const std::optional<std::string>& written) {
  e.ts_written = written;
  if (written) {
    e.ts = pg_time_to_utc(*written).utc;
  }
}

// jsonlog (jsonlog.c of PostgreSQL 15+).
store::LogEventFact jsonlog_event(const json& o) {
  store::LogEventFact e;
  e.format = "pg-json";
  set_time(e, text_of(o, "timestamp"));
  e.user_name = text_of(o, "user");
  e.database_name = text_of(o, "dbname");
  e.pid = int_of(o, "pid");
  if (auto host = text_of(o, "remote_host")) {
    auto port = text_of(o, "remote_port");
    e.client = port ? *host + ":" + *port : *host;
  }
  e.session = text_of(o, "session_id");
  e.severity = text_of(o, "error_severity");
  // jsonlog.c writes state_code only for a non-zero code: its absence is 00000, which the
  // csvlog and %e write.
  e.sqlstate = text_of(o, "state_code").value_or("00000");
  e.message = text_of(o, "message").value_or("");
  e.detail = text_of(o, "detail");
  e.hint = text_of(o, "hint");
  e.query = text_of(o, "internal_query");
  e.context = text_of(o, "context");
  e.statement = text_of(o, "statement");
  e.location = location_text(str_of(o, "func_name"), str_of(o, "file_name"),
                             text_of(o, "file_line_num").value_or(""));
  e.application = text_of(o, "application_name");
  return e;
}

// CloudNativePG's record: csvlog's column names (pkg/management/log/... of CloudNativePG).
store::LogEventFact cnpg_event(const json& o) {
  const json& r = o.at("record");
  store::LogEventFact e;
  e.format = "pg-json:cnpg";
  set_time(e, text_of(r, "log_time"));
  e.user_name = text_of(r, "user_name");
  e.database_name = text_of(r, "database_name");
  e.pid = int_of(r, "process_id");
  e.client = text_of(r, "connection_from");
  e.session = text_of(r, "session_id");
  e.severity = text_of(r, "error_severity");
  e.sqlstate = text_of(r, "sql_state_code");
  e.message = text_of(r, "message").value_or("");
  e.detail = text_of(r, "detail");
  e.hint = text_of(r, "hint");
  e.query = text_of(r, "internal_query");
  e.context = text_of(r, "context");
  e.statement = text_of(r, "query");
  e.location = text_of(r, "location");
  e.application = text_of(r, "application_name");
  e.logger = text_of(o, "logging_pod");
  return e;
}

// The fields of a stderr-form line (Cloud SQL's textPayload, CloudNativePG's lines of the
// server before its logging collector started) on an event.
void apply_stderr(store::LogEventFact& e, const StderrLine& l) {
  CloudSqlPrefix p = read_prefix(l.prefix);
  if (p.ts_written) {
    UtcTime t = pg_time_to_utc(*p.ts_written);
    if (t.utc) {
      e.ts_written = p.ts_written;
      e.ts = t.utc;
    }
  }
  if (p.pid) {
    e.pid = p.pid;
  }
  if (p.database) {
    e.database_name = p.database;
  }
  if (p.user) {
    e.user_name = p.user;
  }
  if (p.application) {
    e.application = p.application;
  }
  e.severity = std::string(l.keyword);
  e.message = std::string(l.text);
}

// The timestamp of an envelope: RFC 3339 text, or seconds since the epoch.
void envelope_time(store::LogEventFact& e, const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) {
    return;
  }
  if (it->is_number()) {
    e.ts_written = it->dump();
    e.ts = epoch_to_utc(it->get<double>());
  } else if (it->is_string()) {
    e.ts_written = it->get<std::string>();
    e.ts = pg_time_to_utc(*e.ts_written).utc;
  }
}

constexpr std::array<std::string_view, 14> k_keywords = {
    "LOG",   "ERROR",  "WARNING", "FATAL",   "PANIC",     "NOTICE", "INFO",
    "DEBUG", "DETAIL", "HINT",    "CONTEXT", "STATEMENT", "QUERY",  "LOCATION"};

bool is_keyword(std::string_view w) {
  for (auto k : k_keywords) {
    if (w == k) {
      return true;
    }
  }
  return w.size() == 6 && w.starts_with("DEBUG") && w[5] >= '1' && w[5] <= '5';
}

// The value of `key=` in a prefix ("db=shop,user=app "), up to ',' or ' '.
std::optional<std::string> prefix_value(std::string_view prefix, std::string_view key) {
  size_t pos = 0;
  while ((pos = prefix.find(key, pos)) != std::string_view::npos) {
    if (pos == 0 || prefix[pos - 1] == ' ' || prefix[pos - 1] == ',' || prefix[pos - 1] == '[') {
      size_t start = pos + key.size();
      size_t end = prefix.find_first_of(", ", start);
      std::string_view v = prefix.substr(start, end == std::string_view::npos ? end : end - start);
      if (v.empty() || v == "[unknown]") {
        return std::nullopt;
      }
      return std::string(v);
    }
    pos += key.size();
  }
  return std::nullopt;
}

}  // namespace

bool StderrLine::is_field() const {
  return keyword == "DETAIL" || keyword == "HINT" || keyword == "CONTEXT" ||
         keyword == "STATEMENT" || keyword == "QUERY" || keyword == "LOCATION";
}

std::optional<StderrLine> split_stderr_line(std::string_view line) {
  size_t pos = 0;
  while ((pos = line.find(":  ", pos)) != std::string_view::npos) {
    size_t wstart = pos;
    while (wstart > 0 && ((line[wstart - 1] >= 'A' && line[wstart - 1] <= 'Z') ||
                          (line[wstart - 1] >= '0' && line[wstart - 1] <= '9'))) {
      --wstart;
    }
    std::string_view word = line.substr(wstart, pos - wstart);
    if ((wstart == 0 || line[wstart - 1] == ' ') && is_keyword(word)) {
      return StderrLine{line.substr(0, wstart), word, line.substr(pos + 3)};
    }
    pos += 3;
  }
  return std::nullopt;
}

CloudSqlPrefix read_prefix(std::string_view prefix) {
  CloudSqlPrefix p;
  if (prefix.size() >= 19 && prefix[4] == '-' && prefix[7] == '-' && prefix[13] == ':') {
    // date, time and (unless a '[' comes first) a zone
    size_t sp1 = prefix.find(' ');
    size_t sp2 = sp1 == std::string_view::npos ? sp1 : prefix.find(' ', sp1 + 1);
    if (sp2 != std::string_view::npos && sp2 + 1 < prefix.size() && prefix[sp2 + 1] != '[') {
      size_t sp3 = prefix.find(' ', sp2 + 1);
      p.ts_written = std::string(prefix.substr(0, sp3));
    } else {
      p.ts_written = std::string(prefix.substr(0, sp2));
    }
  }
  size_t open = prefix.find('[');
  while (open != std::string_view::npos) {
    size_t close = prefix.find(']', open);
    if (close == std::string_view::npos) {
      break;
    }
    std::string_view inside = prefix.substr(open + 1, close - open - 1);
    if (!inside.empty() && inside.size() < 19 &&
        inside.find_first_not_of("0123456789") == std::string_view::npos) {
      p.pid = std::stoll(std::string(inside));
      break;
    }
    open = prefix.find('[', close);
  }
  p.database = prefix_value(prefix, "db=");
  p.user = prefix_value(prefix, "user=");
  p.application = prefix_value(prefix, "app=");
  return p;
}

int sniff_pg_json(std::string_view head) {
  size_t start = 0;
  int known = 0, operator_lines = 0, other = 0;
  int seen = 0;
  while (start < head.size() && seen < 50) {
    size_t nl = head.find('\n', start);
    if (nl == std::string_view::npos) {
      break;
    }
    std::string_view line = text::trim(head.substr(start, nl - start));
    start = nl + 1;
    if (line.empty()) {
      continue;
    }
    ++seen;
    if (line.front() != '{') {
      ++other;
      continue;
    }
    json o = json::parse(line, nullptr, false);
    if (o.is_discarded() || !o.is_object()) {
      ++other;
      continue;
    }
    switch (shape_of(o)) {
      case Shape::jsonlog:
      case Shape::cnpg:
        ++known;
        break;
      case Shape::cloudsql:
        // Google Cloud Logging carries many services' logs: this one is PostgreSQL's when it
        // says so, or when its payload is a stderr-form line.
        if (str_of(o, "logName").find("cloudsql") != std::string_view::npos ||
            split_stderr_line(str_of(o, "textPayload"))) {
          ++known;
        } else {
          ++other;
        }
        break;
      case Shape::cnpg_operator:
        // Any zap logger writes level, ts and msg: only logging_pod says CloudNativePG.
        if (o.contains("logging_pod")) {
          ++operator_lines;
        }
        break;
      case Shape::other:
        ++other;
        break;
    }
  }
  if (known > 0 && other * 4 <= known + operator_lines) {
    return 90;
  }
  if (known == 0 && operator_lines > 0 && other == 0) {
    return 60;
  }
  if (seen == 0 && !head.empty() && head.front() == '{') {
    // The first line does not end within the head (a message of many kilobytes): its first
    // keys say whether it is an entry of one of these logs.
    std::string_view first = head.substr(0, 4096);
    for (std::string_view key : {R"("error_severity":)", R"("textPayload":)", R"("record":{)"}) {
      if (first.find(key) != std::string_view::npos) {
        return 60;
      }
    }
  }
  return 0;
}

namespace {

// Reads the lines; keeps the last entry open while the lines that follow may belong to it
// (Cloud SQL writes each line of an entry as an envelope of its own).
class JsonReader {
 public:
  JsonReader(store::FactWriter& out, JsonLogSummary& s)
      : m_out(out), m_s(s), m_unmatched(out, "pg-json-line", "jsonlog"), m_zones(out) {}

  void line(std::string& text, int64_t number) {
    if (text::trim(text).empty()) {
      return;
    }
    if (auto bad = repair_utf8(text); bad && ++m_utf8 <= 5) {
      add_problem(m_out, number, "warning", "pg-json-utf8",
                  fmt::format("line {}: invalid UTF-8 at byte {} (column {}); expected UTF-8 "
                              "text; the bytes are read as U+FFFD",
                              number, *bad, *bad + 1),
                  std::string_view(text));
    }
    json o = json::parse(text, nullptr, false);
    if (o.is_discarded()) {
      // Parse again for the position and reason of the error.
      std::string why = "invalid JSON";
      try {
        [[maybe_unused]] json again = json::parse(text);
      } catch (const json::parse_error& e) {
        why = fmt::format("invalid JSON at byte {} (expected one JSON object per line)", e.byte);
      } catch (const json::exception& e) {
        // A number past a double's range (1e400): out_of_range, without a position.
        why = fmt::format("invalid JSON: {} (expected one JSON object per line)", json_reason(e));
      }
      m_unmatched.add(number, why, text);
      return;
    }
    if (!o.is_object()) {
      m_unmatched.add(
          number, fmt::format("a JSON {} where a JSON object was expected", o.type_name()), text);
      return;
    }
    switch (shape_of(o)) {
      case Shape::jsonlog:
        ++m_s.jsonlog;
        emit(jsonlog_event(o), number);
        break;
      case Shape::cnpg:
        ++m_s.cnpg;
        emit(cnpg_event(o), number);
        break;
      case Shape::cnpg_operator:
        ++m_s.cnpg_operator;
        emit(operator_event(o), number);
        break;
      case Shape::cloudsql:
        ++m_s.cloudsql;
        cloudsql(o, number);
        break;
      case Shape::other:
        m_unmatched.add(number,
                        "a JSON object with none of the fields of PostgreSQL's jsonlog "
                        "(error_severity, message), CloudNativePG (record) or Cloud SQL "
                        "(textPayload)",
                        text);
        break;
    }
  }

  void finish() {
    flush();
    if (m_utf8 > 5) {
      add_problem(
          m_out, std::nullopt, "notice", "pg-json-utf8",
          fmt::format("{} lines in all held invalid UTF-8; the first 5 are listed", m_utf8));
    }
    m_unmatched.finish();
    m_s.unmatched += m_unmatched.count();
  }

  // Writes the open entry (before an error ends the read).
  void flush() {
    if (m_pending) {
      write(*m_pending);
      m_pending.reset();
    }
  }

 private:
  store::LogEventFact operator_event(const json& o) {
    store::LogEventFact e;
    e.format = "cnpg";
    envelope_time(e, o, "ts");
    e.severity = text_of(o, "level");
    e.logger = text_of(o, "logger");
    e.message = text_of(o, "msg").value_or("");
    // The server's own lines before its logging collector starts, passed on as text.
    if (e.logger && *e.logger == "postgres") {
      if (auto l = split_stderr_line(e.message)) {
        std::string message(l->text);
        std::string prefix(l->prefix);
        std::string keyword(l->keyword);
        apply_stderr(e, StderrLine{prefix, keyword, message});
      }
    }
    return e;
  }

  void cloudsql(const json& o, int64_t number) {
    std::string_view payload = str_of(o, "textPayload");
    // A tab-indented line continues the field written last (a message or a statement of
    // several lines).
    if (!payload.empty() && payload.front() == '\t' && m_pending && m_last_field) {
      *m_last_field += '\n';
      *m_last_field += payload.substr(1);
      m_pending->end_line = number;
      ++m_s.merged;
      return;
    }
    auto l = split_stderr_line(payload);
    if (l && l->is_field() && m_pending) {
      CloudSqlPrefix p = read_prefix(l->prefix);
      if (!p.pid || p.pid == m_pending->pid) {
        std::optional<std::string>* field = nullptr;
        if (l->keyword == "DETAIL") {
          field = &m_pending->detail;
        } else if (l->keyword == "HINT") {
          field = &m_pending->hint;
        } else if (l->keyword == "CONTEXT") {
          field = &m_pending->context;
        } else if (l->keyword == "STATEMENT") {
          field = &m_pending->statement;
        } else if (l->keyword == "QUERY") {
          field = &m_pending->query;
        } else {
          field = &m_pending->location;
        }
        *field = std::string(l->text);
        m_last_field = &**field;
        m_pending->end_line = number;
        ++m_s.merged;
        return;
      }
    }
    flush();
    store::LogEventFact e;
    e.format = "pg-json:cloudsql";
    envelope_time(e, o, "timestamp");
    if (l) {
      CloudSqlPrefix p = read_prefix(l->prefix);
      e.pid = p.pid;
      e.database_name = p.database;
      e.user_name = p.user;
      e.application = p.application;
      e.severity = std::string(l->keyword);
      e.message = std::string(l->text);
    } else {
      e.severity = text_of(o, "severity");
      e.message = std::string(payload);
    }
    if (auto labels = o.find("resource"); labels != o.end() && labels->is_object()) {
      if (auto l2 = labels->find("labels"); l2 != labels->end() && l2->is_object()) {
        e.logger = text_of(*l2, "database_id");
      }
    }
    e.line = number;
    e.end_line = number;
    m_pending = std::move(e);
    m_last_field = &m_pending->message;
  }

  void emit(store::LogEventFact e, int64_t number) {
    flush();
    e.line = number;
    e.end_line = number;
    write(e);
  }

  void write(store::LogEventFact& e) {
    if (!e.statement) {
      e.statement = statement_in_message(e.message);
    }
    if (e.ts_written && !e.ts) {
      m_zones.note(pg_time_to_utc(*e.ts_written), e.line);
    } else if (e.ts_written && e.ts_written->size() > 19) {
      std::string_view written = *e.ts_written;
      std::string_view zone = written.substr(written.rfind(' ') + 1);
      if (zone != m_last_zone) {
        m_last_zone = std::string(zone);
        m_zones.note(pg_time_to_utc(*e.ts_written), e.line);
      }
    }
    m_out.add(std::move(e));
    ++m_s.events;
  }

  store::FactWriter& m_out;
  JsonLogSummary& m_s;
  Unmatched m_unmatched;
  ZoneNotes m_zones;
  std::string m_last_zone;
  std::optional<store::LogEventFact> m_pending;
  std::string* m_last_field = nullptr;
  int64_t m_utf8 = 0;
};

}  // namespace

JsonLogSummary read_pg_json(io::Source& in, store::FactWriter& out, size_t max_line_bytes) {
  JsonLogSummary s;
  io::LineReader reader(in);
  JsonReader r(out, s);
  // The entries are stored by a thread of their own while the next ones are parsed.
  out.finish_events_with(&finish_event);  // templates and entities
  store::FactWriter::Pipeline pipeline(out);
  io::Line line;
  std::string buf;
  bool too_long = false;
  try {
    while (reader.next(line)) {
      if (line.first_piece) {
        buf.clear();
        too_long = false;
      }
      if (!too_long) {
        if (buf.size() + line.text.size() > max_line_bytes) {
          too_long = true;
          buf.clear();
        } else {
          buf.append(line.text);
        }
      }
      if (!line.complete) {
        continue;
      }
      auto number = static_cast<int64_t>(line.number);
      if (too_long) {
        ++s.unmatched;
        add_problem(out, number, "warning", "pg-json-line",
                    fmt::format("line {}: longer than {}; not read", number,
                                text::human_bytes(max_line_bytes)));
        continue;
      }
      if (!line.has_newline && !text::trim(buf).empty() &&
          json::parse(buf, nullptr, false).is_discarded()) {
        ++s.unmatched;
        add_problem(out, number, "error", "pg-json-truncated",
                    fmt::format("line {}: the file ends in the middle of a JSON object (the last "
                                "line has no newline and is no complete JSON); not read",
                                number),
                    std::string_view(buf));
        continue;
      }
      r.line(buf, number);
    }
  } catch (const InputError&) {
    r.finish();  // what was read stays, and what was counted is said
    throw;
  }
  r.finish();
  s.lines = static_cast<int64_t>(reader.lines_read());
  if (s.events == 0 && s.unmatched > 0) {
    add_problem(out, std::nullopt, "error", "pg-json-empty",
                fmt::format("no jsonlog, CloudNativePG or Cloud SQL entry in {} lines", s.lines));
  }
  pipeline.finish();
  return s;
}

}  // namespace dbautopsy::logs
