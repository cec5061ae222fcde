#include "logs/pg_csv.hpp"

#include <fmt/format.h>

#include "base/text.hpp"
#include "io/line_reader.hpp"
#include "logs/pg_structured.hpp"
#include "logs/template.hpp"

namespace dbautopsy::logs {

namespace {

// Column positions, the same in every layout (later versions only append columns).
enum Col : size_t {
  log_time,
  user_name,
  database_name,
  process_id,
  connection_from,
  session_id,
  session_line_num,
  command_tag,
  session_start_time,
  virtual_transaction_id,
  transaction_id,
  error_severity,
  sql_state_code,
  message,
  detail,
  hint,
  internal_query,
  internal_query_pos,
  context,
  query,
  query_pos,
  location,
  application_name,  // 9.0
  backend_type,      // 13
  leader_pid,        // 14
  query_id,          // 14
};

bool is_layout(size_t n) {
  return n == 22 || n == 23 || n == 24 || n == 26;
}

std::optional<std::string> opt(const std::vector<std::string>& f, size_t i) {
  if (i >= f.size() || f[i].empty()) {
    return std::nullopt;
  }
  return f[i];
}

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

constexpr const char* k_expected =
    "expected 22, 23, 24 or 26 comma-separated fields (csvlog of PostgreSQL 8.4 to 16+) "
    "starting with a timestamp";

}  // namespace

void CsvRecords::start(int64_t line_number) {
  m_fields.clear();
  m_field.clear();
  m_head.clear();
  m_bytes = 0;
  m_first_line = line_number;
  m_started = true;
  m_quoted = false;
  m_was_quoted = false;
  m_pending_quote = false;
  m_overflow = false;
}

void CsvRecords::end_field() {
  if (!m_overflow) {
    m_fields.push_back(std::move(m_field));
  }
  m_field.clear();
  m_was_quoted = false;
}

void CsvRecords::close() {
  if (m_started && !m_done) {
    end_field();
    m_done = true;
  }
}

bool CsvRecords::feed(std::string_view t, int64_t line_number, bool end_of_line) {
  if (m_done || !m_started) {
    m_done = false;
    start(line_number);
  }
  if (m_head.size() < 200) {
    m_head.append(t.substr(0, 200 - m_head.size()));
  }
  m_bytes += t.size() + 1;
  if (m_bytes > m_max && !m_overflow) {
    m_overflow = true;
    m_fields.clear();
    m_field.clear();
  }
  auto append = [this](std::string_view s) {
    if (!m_overflow) {
      m_field.append(s);
    }
  };
  size_t i = 0;
  if (m_pending_quote) {
    m_pending_quote = false;
    if (!t.empty() && t[0] == '"') {
      append("\"");
      i = 1;
    } else {
      m_quoted = false;
    }
  }
  while (i < t.size()) {
    if (m_quoted) {
      size_t q = t.find('"', i);
      if (q == std::string_view::npos) {
        append(t.substr(i));
        break;
      }
      append(t.substr(i, q - i));
      if (q + 1 < t.size()) {
        if (t[q + 1] == '"') {
          append("\"");
          i = q + 2;
        } else {
          m_quoted = false;
          i = q + 1;
        }
      } else {
        if (end_of_line) {
          m_quoted = false;
        } else {
          m_pending_quote = true;
        }
        i = q + 1;
      }
    } else {
      size_t k = t.find_first_of(",\"", i);
      size_t stop = k == std::string_view::npos ? t.size() : k;
      append(t.substr(i, stop - i));
      if (k == std::string_view::npos) {
        break;
      }
      if (t[k] == ',') {
        end_field();
      } else if (m_field.empty() && !m_was_quoted) {
        m_quoted = true;
        m_was_quoted = true;
      } else {
        append("\"");  // a quote inside an unquoted field is text
      }
      i = k + 1;
    }
  }
  if (!end_of_line) {
    return false;
  }
  if (m_quoted || m_pending_quote) {
    append("\n");
    return false;
  }
  if (!m_was_quoted && !m_field.empty() && m_field.back() == '\r') {
    m_field.pop_back();
  }
  if (m_head.size() < 200) {
    m_head += '\n';
  }
  end_field();
  m_done = true;
  return true;
}

std::optional<store::LogEventFact> csv_record_event(const std::vector<std::string>& f,
                                                    std::string& why) {
  if (f.size() < 22) {
    why = fmt::format("{} field{}; {}", f.size(), f.size() == 1 ? "" : "s", k_expected);
    return std::nullopt;
  }
  UtcTime t = pg_time_to_utc(f[log_time]);
  if (!t.utc && !t.unknown_zone) {
    why = fmt::format("its first field '{}' is no timestamp; {}", text::abbreviate(f[log_time], 40),
                      k_expected);
    return std::nullopt;
  }
  if (!all_digits(f[process_id]) || f[error_severity].empty()) {
    why = fmt::format("process id '{}' or severity '{}' is not one; {}",
                      text::abbreviate(f[process_id], 20), text::abbreviate(f[error_severity], 20),
                      k_expected);
    return std::nullopt;
  }
  store::LogEventFact e;
  e.format = "pg-csv";
  e.ts = t.utc;
  e.ts_written = f[log_time];
  e.user_name = opt(f, user_name);
  e.database_name = opt(f, database_name);
  if (!f[process_id].empty() && f[process_id].size() < 19) {
    e.pid = std::stoll(f[process_id]);
  }
  e.client = opt(f, connection_from);
  e.session = opt(f, session_id);
  e.severity = f[error_severity];
  e.sqlstate = opt(f, sql_state_code);
  e.message = f[message];
  e.detail = opt(f, detail);
  e.hint = opt(f, hint);
  e.query = opt(f, internal_query);
  e.context = opt(f, context);
  e.statement = opt(f, query);
  if (!e.statement) {
    e.statement = statement_in_message(e.message);
  }
  e.location = opt(f, location);
  if (f.size() > application_name) {
    e.application = opt(f, application_name);
  }
  return e;
}

int sniff_pg_csv(std::string_view head) {
  CsvRecords records(1u << 20);
  size_t start = 0;
  int64_t number = 0;
  int good = 0, bad = 0;
  while (start < head.size() && good + bad < 20) {
    size_t nl = head.find('\n', start);
    if (nl == std::string_view::npos) {
      break;  // the head may end inside a line
    }
    if (records.feed(head.substr(start, nl - start), ++number, true)) {
      const auto& f = records.fields();
      if (!(f.size() == 1 && f[0].empty())) {
        std::string why;
        if (csv_record_event(f, why)) {
          ++good;
        } else {
          ++bad;
        }
      }
    }
    start = nl + 1;
  }
  if (good == 0 && bad == 0 && start < head.size()) {
    records.feed(head.substr(start), ++number, false);  // the head ends inside this line
  }
  if (good == 0 && bad == 0 && records.open()) {
    // The first record does not end within the head (a statement of many kilobytes): its
    // first fields say whether it is a csvlog record.
    const auto& f = records.fields();
    if (f.size() > error_severity && all_digits(f[process_id]) && !f[process_id].empty() &&
        !f[error_severity].empty()) {
      UtcTime t = pg_time_to_utc(f[log_time]);
      return t.utc || t.unknown_zone ? 70 : 0;
    }
    return 0;
  }
  if (good == 0 || bad > good) {
    return 0;
  }
  return bad == 0 ? 90 : 70;
}

CsvLogSummary read_pg_csv(io::Source& in, store::FactWriter& out, size_t max_record_bytes) {
  CsvLogSummary s;
  io::LineReader reader(in);
  CsvRecords records(max_record_bytes);
  Unmatched unmatched(out, "pg-csv-record", "csvlog");
  ZoneNotes zones(out);
  std::string last_zone;
  int64_t utf8_problems = 0;
  bool odd_width_noted = false;
  // The entries are stored by a thread of their own while the next ones are parsed.
  out.finish_events_with(&finish_event);  // templates and entities
  store::FactWriter::Pipeline pipeline(out);
  io::Line line;
  while (reader.next(line)) {
    if (!records.feed(line.text, static_cast<int64_t>(line.number), line.complete)) {
      continue;
    }
    const int64_t first = records.first_line();
    const int64_t last = static_cast<int64_t>(line.number);
    if (records.overflowed()) {
      ++s.unmatched;
      add_problem(out, first, "warning", "pg-csv-record",
                  fmt::format("lines {}-{}: a csvlog record longer than {}; not read", first, last,
                              text::human_bytes(max_record_bytes)),
                  records.head());
      continue;
    }
    const auto& f = records.fields();
    if (f.size() == 1 && f[0].empty()) {
      continue;  // an empty line holds nothing
    }
    std::string why;
    auto event = csv_record_event(f, why);
    if (!event && !line.has_newline) {
      add_problem(out, first, "error", "pg-csv-truncated",
                  fmt::format("line {}: the file ends in the middle of a csvlog record ({}); the "
                              "record is not read",
                              first, why),
                  records.head());
      ++s.unmatched;
      continue;
    }
    if (!event) {
      unmatched.add(first, why, records.head());
      continue;
    }
    if (!is_layout(f.size())) {
      if (f.size() < 24) {
        unmatched.add(first, fmt::format("{} fields; {}", f.size(), k_expected), records.head());
        continue;
      }
      if (!odd_width_noted) {
        odd_width_noted = true;
        add_problem(
            out, first, "notice", "pg-csv-layout",
            fmt::format("line {}: a csvlog record of {} fields, a width PostgreSQL does not "
                        "write (22, 23, 24 or 26); its first 24 fields are read as "
                        "PostgreSQL 13's, the rest is ignored",
                        first, f.size()),
            records.head());
      }
    }
    ++s.layouts[f.size()];
    for (auto* field : {&event->message, &*event->ts_written}) {
      if (auto bad = repair_utf8(*field); bad && ++utf8_problems <= 5) {
        add_problem(out, first, "warning", "pg-csv-utf8",
                    fmt::format("lines {}-{}: invalid UTF-8 at byte {} of a field; expected UTF-8 "
                                "text; the bytes are read as U+FFFD",
                                first, last, *bad),
                    records.head());
      }
    }
    for (auto* field :
         {&event->detail, &event->hint, &event->context, &event->statement, &event->query,
          &event->user_name, &event->database_name, &event->application, &event->location}) {
      if (field->has_value()) {
        if (auto bad = repair_utf8(**field); bad && ++utf8_problems <= 5) {
          add_problem(out, first, "warning", "pg-csv-utf8",
                      fmt::format("lines {}-{}: invalid UTF-8 at byte {} of a field; expected "
                                  "UTF-8 text; the bytes are read as U+FFFD",
                                  first, last, *bad),
                      records.head());
        }
      }
    }
    std::string_view written = *event->ts_written;
    std::string_view zone = written.substr(written.rfind(' ') + 1);  // npos + 1 == 0
    if (zone != last_zone) {
      last_zone = std::string(zone);
      zones.note(pg_time_to_utc(written), first);
    }
    event->line = first;
    event->end_line = last;
    out.add(std::move(*event));
    ++s.events;
  }
  if (records.open() && records.in_quotes()) {
    ++s.unmatched;
    add_problem(out, records.first_line(), "error", "pg-csv-truncated",
                fmt::format("line {}: the file ends inside a quoted field of the csvlog record "
                            "that starts on this line (expected a closing '\"'); the record is "
                            "not read",
                            records.first_line()),
                records.head());
  }
  if (utf8_problems > 5) {
    add_problem(
        out, std::nullopt, "notice", "pg-csv-utf8",
        fmt::format("{} fields in all held invalid UTF-8; the first 5 are listed", utf8_problems));
  }
  unmatched.finish();
  s.unmatched += unmatched.count();
  s.lines = static_cast<int64_t>(reader.lines_read());
  if (s.events == 0 && s.unmatched > 0) {
    add_problem(out, std::nullopt, "error", "pg-csv-empty",
                fmt::format("no csvlog record in {} lines; {}", s.lines, k_expected));
  }
  pipeline.finish();
  return s;
}

}  // namespace dbautopsy::logs
