#include "django/migration_records.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/text.hpp"
#include "base/time.hpp"
#include "io/line_reader.hpp"

namespace dbautopsy::django {

namespace {

constexpr size_t k_max_export = 256u << 20;  // exports are small; JSON is read whole

void problem(store::FactWriter& out, uint64_t line, std::string severity, std::string code,
             std::string message, std::optional<std::string> snippet = std::nullopt) {
  store::ProblemFact p;
  p.line = static_cast<int64_t>(line);
  p.severity = std::move(severity);
  p.code = std::move(code);
  p.message = std::move(message);
  if (snippet) {
    p.snippet = snippet->substr(0, 200);
  }
  out.add(p);
}

// The first invalid UTF-8 byte of a line, as a problem; true when the line is valid.
bool check_utf8(store::FactWriter& out, std::string_view text, uint64_t line, uint64_t offset,
                const char* code, const char* what) {
  auto bad = text::invalid_utf8_at(text);
  if (!bad) {
    return true;
  }
  store::ProblemFact p;
  p.line = static_cast<int64_t>(line);
  p.byte_offset = static_cast<int64_t>(offset + *bad);
  p.severity = "error";
  p.code = code;
  p.message = fmt::format(
      "line {}: invalid UTF-8 at byte {} (column {}); expected UTF-8 text, as {} exports are; "
      "the row is not read",
      line, offset + *bad, *bad + 1, what);
  p.snippet = std::string(text.substr(0, text::utf8_prefix(text, std::min<size_t>(*bad, 200))));
  out.add(p);
  return false;
}

// An `applied` value as PostgreSQL (DateStyle ISO), psql, json_agg or Django's serializer
// write a timestamp: date, time, optional fraction and time zone.
bool looks_like_timestamp(std::string_view s) {
  static const RE2 k_ts(
      R"(^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?( ?(Z|[+-]\d{2}(:?\d{2}(:?\d{2})?)?))?( BC)?$)");
  return RE2::FullMatch(s, k_ts);
}

// A timestamp as PostgreSQL writes it under its other DateStyles (the session's DateStyle
// decides how COPY, psql and pg_dump-less exports write `applied`):
//   SQL       14/03/2026 09:12:05.748 UTC   (DMY)  or 03/14/2026 ... (MDY)
//   German    14.03.2026 09:12:05.748 UTC
//   Postgres  Sat Mar 14 09:12:05.748 2026 UTC  (MDY)  or Sat 14 Mar ... (DMY)
// The zone is an abbreviation (UTC, CET, IST) or, where the zone has none, an offset (+0545);
// a timestamp without time zone has none.
const RE2& k_sql_style() {
  static const RE2 re(
      R"(^(\d{2})([/.])(\d{2})[/.](\d{4,}) (\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(?: ([A-Za-z]\w*|[+-]\d{2,4}(?::\d{2})*))?( BC)?$)");
  return re;
}
const RE2& k_postgres_style() {
  static const RE2 re(
      R"(^[A-Z][a-z]{2} (?:([A-Z][a-z]{2}) (\d{2})|(\d{2}) ([A-Z][a-z]{2})) (\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?) (\d{4,})(?: ([A-Za-z]\w*|[+-]\d{2,4}(?::\d{2})*))?( BC)?$)");
  return re;
}

bool looks_like_any_timestamp(std::string_view s) {
  return looks_like_timestamp(s) || RE2::FullMatch(s, k_sql_style()) ||
         RE2::FullMatch(s, k_postgres_style());
}

// A zone offset as DateStyle ISO writes it: +01, +05:30, -03:30, +00.
std::string iso_offset(int seconds) {
  char sign = seconds < 0 ? '-' : '+';
  int a = seconds < 0 ? -seconds : seconds;
  int h = a / 3600, m = a / 60 % 60, s = a % 60;
  if (s != 0) {
    return fmt::format("{}{:02}:{:02}:{:02}", sign, h, m, s);
  }
  return m != 0 ? fmt::format("{}{:02}:{:02}", sign, h, m) : fmt::format("{}{:02}", sign, h);
}

// Adds the records of one export, their `applied` values checked and, when written under
// another DateStyle than ISO, rewritten as DateStyle ISO writes the same value (date, time,
// fraction and zone offset as written; a named zone as its offset). A SQL-style date
// (dd/mm/yyyy or mm/dd/yyyy) is read by the order the file's own values tell (a first part
// past 12 is a day: DMY); records whose order the file has not told yet are held back, and
// if it never does, kept without their time and named in an error.
class RecordSink {
 public:
  RecordSink(store::FactWriter& out, const char* code) : m_out(out), m_code(code) {}
  RecordSink(const RecordSink&) = delete;
  RecordSink& operator=(const RecordSink&) = delete;

  void add(store::MigrationRecordFact r, const std::string& applied, uint64_t line) {
    r.applied_at.reset();
    if (applied.empty()) {
      m_out.add(r);
      return;
    }
    if (looks_like_timestamp(applied)) {
      r.applied_at = applied;
      m_out.add(r);
      return;
    }
    std::string first, sep, second, year, time, zone, bc;
    if (RE2::FullMatch(applied, k_sql_style(), &first, &sep, &second, &year, &time, &zone, &bc)) {
      const int a = std::stoi(first);
      const int b = std::stoi(second);
      Order told = sep == "." ? Order::dmy  // German: always day first
                   : a > 12   ? Order::dmy
                   : b > 12   ? Order::mdy
                              : Order::unknown;
      if (told != Order::unknown && m_order == Order::unknown) {
        m_order = told;
        m_order_line = line;
        m_order_value = applied;
        flush_pending();
      } else if (told != Order::unknown && told != m_order) {
        error(line, fmt::format("line {}: applied '{}' is {} where line {} ('{}') is {}; the "
                                "record is kept without its time",
                                line, text::abbreviate(applied, 60), order_name(told), m_order_line,
                                text::abbreviate(m_order_value, 60), order_name(m_order)));
        m_out.add(r);
        return;
      }
      if (m_order == Order::unknown) {
        m_pending.emplace_back(std::move(r), applied, line);
        return;
      }
      const bool dmy = m_order == Order::dmy;
      finish_date(r, applied, line, year, dmy ? b : a, dmy ? a : b, time, zone, bc);
      return;
    }
    std::string month1, day1, day2, month2;
    if (RE2::FullMatch(applied, k_postgres_style(), &month1, &day1, &day2, &month2, &time, &year,
                       &zone, &bc)) {
      static constexpr std::string_view k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
      const std::string& name = month1.empty() ? month2 : month1;
      const auto at = std::find(std::begin(k_months), std::end(k_months), name);
      if (at != std::end(k_months)) {
        finish_date(r, applied, line, year, static_cast<int>(at - std::begin(k_months)) + 1,
                    std::stoi(month1.empty() ? day2 : day1), time, zone, bc);
        return;
      }
    }
    error(line, fmt::format("line {}: applied '{}' is not a timestamp (expected YYYY-MM-DD "
                            "HH:MM:SS[.ffffff][+TZ]); the record is kept without its time (a "
                            "time in DateStyle SQL, German or Postgres is read too)",
                            line, text::abbreviate(applied, 60)));
    m_out.add(r);
  }

  // The records still held back: the file never told the order of its dates.
  void finish() {
    if (m_pending.empty()) {
      return;
    }
    const auto& [first, applied, line] = m_pending.front();
    error(line,
          fmt::format("line {}: applied '{}' is day/month or month/day (DateStyle SQL with DMY "
                      "or MDY) and no value of the file has a first or second part past 12 to "
                      "tell which; expected an export in DateStyle ISO (SET datestyle = ISO); "
                      "the {} records from line {} on whose dates could be either are kept "
                      "without their time",
                      line, text::abbreviate(applied, 60), m_pending.size(), line));
    for (auto& [r, value, at] : m_pending) {
      m_out.add(r);
    }
    m_pending.clear();
  }

 private:
  enum class Order { unknown, dmy, mdy };

  static const char* order_name(Order o) {
    return o == Order::dmy ? "day/month/year" : "month/day/year";
  }

  void error(uint64_t line, std::string message) {
    problem(m_out, line, "error", m_code, std::move(message));
  }

  void flush_pending() {
    auto pending = std::move(m_pending);
    m_pending.clear();
    for (auto& [r, value, at] : pending) {
      add(std::move(r), value, at);
    }
  }

  void finish_date(store::MigrationRecordFact& r, const std::string& applied, uint64_t line,
                   const std::string& year, int month, int day, const std::string& time,
                   const std::string& zone, const std::string& bc) {
    if (month < 1 || month > 12 || day < 1 || day > 31) {
      error(line, fmt::format("line {}: applied '{}' has no such date; the record is kept "
                              "without its time",
                              line, text::abbreviate(applied, 60)));
      m_out.add(r);
      return;
    }
    std::string iso = fmt::format("{}-{:02}-{:02} {}", year, month, day, time);
    if (!zone.empty()) {
      auto offset = timeutil::zone_offset(zone);
      if (!offset) {
        error(line, fmt::format("line {}: applied '{}' has the time zone '{}', which is not "
                                "known here (expected an abbreviation such as UTC or CET, or an "
                                "offset); the record is kept without its time",
                                line, text::abbreviate(applied, 60), text::abbreviate(zone, 20)));
        m_out.add(r);
        return;
      }
      if (auto a = timeutil::zone_abbreviation(zone); a && !a->ambiguity.empty() && !m_told_zone) {
        m_told_zone = true;
        problem(m_out, line, "notice", m_code,
                fmt::format("line {}: time zone {} is read as {}", line, zone, a->ambiguity));
      }
      iso += iso_offset(*offset);
    }
    iso += bc;
    r.applied_at = std::move(iso);
    m_out.add(r);
  }

  store::FactWriter& m_out;
  const char* m_code;
  Order m_order = Order::unknown;
  uint64_t m_order_line = 0;
  std::string m_order_value;
  bool m_told_zone = false;
  std::vector<std::tuple<store::MigrationRecordFact, std::string, uint64_t>> m_pending;
};

// RFC 4180 fields of one CSV record (a quoted field may not span lines here: exports of
// django_migrations hold no newlines). Returns nullopt for an unbalanced quote.
std::optional<std::vector<std::string>> csv_fields(std::string_view line, char delimiter = ',') {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = true;
      was_quoted = true;
    } else if (c == delimiter) {
      out.push_back(was_quoted ? field : std::string(text::trim(field)));
      field.clear();
      was_quoted = false;
    } else if (c != '\r') {
      field += c;
    }
  }
  if (quoted) {
    return std::nullopt;
  }
  out.push_back(was_quoted ? field : std::string(text::trim(field)));
  return out;
}

std::string read_all(io::InputStream& in) {
  std::string data;
  std::string buf(1 << 16, '\0');
  for (;;) {
    size_t got = in.read(buf.data(), buf.size());
    if (got == 0) {
      return data;
    }
    if (data.size() + got > k_max_export) {
      throw InputError(Location{in.display_name(), std::nullopt, data.size()},
                       "larger than 256 MiB: not a django_migrations export");
    }
    data.append(buf.data(), got);
  }
}

uint64_t line_of(std::string_view data, size_t offset) {
  uint64_t line = 1;
  for (size_t i = 0; i < offset && i < data.size(); ++i) {
    line += data[i] == '\n';
  }
  return line;
}

struct Columns {
  int id = -1, app = -1, name = -1, applied = -1;
  size_t count = 0;
};

std::optional<Columns> columns_from_header(const std::vector<std::string>& header) {
  Columns c;
  c.count = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    std::string h = text::lower(text::trim(header[i]));
    if (h == "id") {
      c.id = static_cast<int>(i);
    } else if (h == "app" || h == "app_label") {
      c.app = static_cast<int>(i);
    } else if (h == "name") {
      c.name = static_cast<int>(i);
    } else if (h == "applied" || h == "applied_at") {
      c.applied = static_cast<int>(i);
    }
  }
  if (c.app < 0 || c.name < 0) {
    return std::nullopt;
  }
  return c;
}

// One row of a table-like export (CSV, a psql table) as a record: an app label and a
// migration name, and the id and applied time when the export has those columns. False,
// with an error, when the row is not read; `code` names its problems.
bool add_row_record(store::FactWriter& out, RecordSink& sink, const std::vector<std::string>& cells,
                    const Columns& cols, uint64_t line, std::string_view text, const char* source,
                    const char* code) {
  store::MigrationRecordFact r;
  r.line = static_cast<int64_t>(line);
  r.app = cells[static_cast<size_t>(cols.app)];
  r.name = cells[static_cast<size_t>(cols.name)];
  r.source = source;
  if (r.app.empty() || r.name.empty()) {
    problem(out, line, "error", code,
            fmt::format("line {}: empty {}; expected an app label and a migration name; the "
                        "row is not read",
                        line, r.app.empty() ? "app" : "name"),
            std::string(text));
    return false;
  }
  if (cols.id >= 0) {
    const std::string& id = cells[static_cast<size_t>(cols.id)];
    try {
      size_t used = 0;
      r.record_id = std::stoll(id, &used);
      if (used != id.size()) {
        throw std::invalid_argument(id);
      }
    } catch (...) {
      r.record_id.reset();
      problem(out, line, "warning", code,
              fmt::format("line {}: id '{}' is not a number; the record is kept without it", line,
                          text::abbreviate(id, 40)));
    }
  }
  sink.add(std::move(r), cols.applied >= 0 ? cells[static_cast<size_t>(cols.applied)] : "", line);
  return true;
}

// The columns of a row without a header, told by the shapes of its values, which differ:
// id a number, app an identifier (auth, contenttypes), name four digits and more
// (0001_initial), applied a timestamp (DateStyle ISO, SQL, German or Postgres). A COPY with a
// column list (COPY django_migrations (app, name, applied, id) TO STDOUT) or a SELECT writes
// them in any order and any subset that has app and name. Nullopt, with `why` saying what is
// in the way, when a value has none of these shapes, two have the same, or app or name is
// missing.
std::optional<Columns> columns_from_values(const std::vector<std::string>& fields,
                                           std::string* why = nullptr) {
  static const RE2 k_id(R"(^\d+$)");
  static const RE2 k_app(R"(^[A-Za-z_][A-Za-z0-9_]*$)");
  static const RE2 k_name(R"(^\d{4}_\w+$)");
  auto fail = [&](std::string reason) -> std::optional<Columns> {
    if (why) {
      *why = std::move(reason);
    }
    return std::nullopt;
  };
  if (fields.size() < 2 || fields.size() > 4) {
    return fail(fmt::format("{} fields", fields.size()));
  }
  Columns c;
  c.count = fields.size();
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string_view v = text::trim(fields[i]);
    int* slot = RE2::FullMatch(v, k_id)       ? &c.id
                : RE2::FullMatch(v, k_name)   ? &c.name
                : RE2::FullMatch(v, k_app)    ? &c.app
                : looks_like_any_timestamp(v) ? &c.applied
                                              : nullptr;
    const char* what = slot == &c.id     ? "an id"
                       : slot == &c.name ? "a migration name"
                       : slot == &c.app  ? "an app label"
                                         : "an applied time";
    if (!slot) {
      return fail(
          fmt::format("field {} ('{}') is neither an id, an app label, a migration name "
                      "nor an applied time",
                      i + 1, text::abbreviate(v, 40)));
    }
    if (*slot >= 0) {
      return fail(fmt::format("fields {} and {} both look like {}", *slot + 1, i + 1, what));
    }
    *slot = static_cast<int>(i);
  }
  if (c.app < 0 || c.name < 0) {
    return fail(c.app < 0 ? "no field looks like an app label"
                          : "no field looks like a migration name (such as 0001_initial)");
  }
  return c;
}

// The columns of `c`, in their order, for messages: "app, name, applied, id".
std::string column_order(const Columns& c) {
  std::vector<std::string> names(c.count);
  for (auto [i, n] : {std::pair{c.id, "id"}, std::pair{c.app, "app"}, std::pair{c.name, "name"},
                      std::pair{c.applied, "applied"}}) {
    if (i >= 0) {
      names[static_cast<size_t>(i)] = n;
    }
  }
  return text::join(names, ", ");
}

// The column names a row is read by, for messages: "id, app, name, applied".
std::string column_names(const std::vector<std::string>& names) {
  std::vector<std::string> trimmed;
  for (const auto& n : names) {
    trimmed.emplace_back(text::trim(n));
  }
  return text::join(trimmed, ", ");
}

// The fields of one line of COPY's text format (what `\copy TABLE TO FILE` writes by
// default): tab-separated, `\N` for NULL (an empty string here: app and name are never NULL,
// and a NULL `applied` is a record without its time), backslash escapes decoded.
std::vector<std::string> copy_text_fields(std::string_view line) {
  std::vector<std::string> out;
  std::string field;
  bool null = false;
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == '\t') {
      out.push_back(null ? std::string() : field);
      field.clear();
      null = false;
      continue;
    }
    char c = line[i];
    if (c == '\r' && i + 1 == line.size()) {
      continue;
    }
    if (c != '\\' || i + 1 == line.size()) {
      field += c;
      continue;
    }
    char e = line[++i];
    switch (e) {
      case 'N':
        null = field.empty();
        if (!null) {
          field += 'N';
        }
        break;
      case 'b':
        field += '\b';
        break;
      case 'f':
        field += '\f';
        break;
      case 'n':
        field += '\n';
        break;
      case 'r':
        field += '\r';
        break;
      case 't':
        field += '\t';
        break;
      case 'v':
        field += '\v';
        break;
      case 'x':
        if (i + 1 < line.size() && std::isxdigit(static_cast<unsigned char>(line[i + 1]))) {
          int v = 0;
          for (int k = 0; k < 2 && i + 1 < line.size() &&
                          std::isxdigit(static_cast<unsigned char>(line[i + 1]));
               ++k) {
            char h = line[++i];
            v = v * 16 +
                (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (h | 0x20) - 'a' + 10);
          }
          field += static_cast<char>(v);
        } else {
          field += 'x';
        }
        break;
      default:
        if (octal(e)) {
          int v = e - '0';
          for (int k = 0; k < 2 && i + 1 < line.size() && octal(line[i + 1]); ++k) {
            v = v * 8 + (line[++i] - '0');
          }
          field += static_cast<char>(v);
        } else {
          field += e;  // \\ and any other character stand for themselves
        }
    }
  }
  return out;
}

// How the lines of a delimited export are split into fields: CSV (comma or semicolon) or
// COPY text.
enum class Delimited { csv_comma, csv_semicolon, copy_text };

const char* delimited_name(Delimited d) {
  return d == Delimited::csv_comma       ? "CSV"
         : d == Delimited::csv_semicolon ? "CSV (;-separated)"
                                         : "\\copy text (tab-separated)";
}

RecordsSummary read_delimited(io::InputStream& in, store::FactWriter& out, Delimited how) {
  const bool csv = how != Delimited::copy_text;
  const char* source = csv ? "csv" : "copy";
  const char* code_columns = csv ? "csv-columns" : "copy-columns";
  RecordsSummary summary;
  io::LineReader reader(in, 1 << 20);
  io::Line line;
  std::optional<Columns> cols;
  std::string expected;       // the columns, as named by the header or by position
  std::string where_defined;  // "the header (line 1)" or "the first row (line 1)"
  bool headerless = false;
  std::optional<uint64_t> footer_rows;
  static const RE2 k_footer(R"(^\((\d+) rows?\)$)");
  RecordSink sink(out, csv ? "csv-value" : "copy-value");
  while (reader.next(line)) {
    if (!line.complete || !line.first_piece) {
      if (line.first_piece) {
        problem(
            out, line.number, "error", "line-too-long",
            fmt::format("line {} is longer than 1 MiB: not a django_migrations row", line.number));
      }
      continue;
    }
    // COPY text keeps its tabs (an empty last field is a trailing tab); CSV is trimmed.
    std::string_view text = csv ? text::trim(line.text) : line.text;
    if (!text.empty() && text.back() == '\r') {
      text.remove_suffix(1);
    }
    if (text::trim(text).empty()) {
      continue;
    }
    if (!check_utf8(out, line.text, line.number, line.offset,
                    csv ? "csv-encoding" : "copy-encoding", "django_migrations")) {
      continue;
    }
    auto fields = csv ? csv_fields(text, how == Delimited::csv_semicolon ? ';' : ',')
                      : std::optional(copy_text_fields(text));
    if (!fields) {
      problem(out, line.number, "error", "csv-quote",
              fmt::format("line {}: a quoted field is not closed (expected a closing '\"' before "
                          "the end of the line); the row is not read",
                          line.number),
              std::string(text));
      continue;
    }
    if (!cols) {
      cols = columns_from_header(*fields);
      if (cols) {
        expected = column_names(*fields);
        where_defined = fmt::format("the header (line {})", line.number);
        continue;  // a header
      }
      // No header: the columns by the shapes of the first row's values.
      std::string why;
      auto c = columns_from_values(*fields, &why);
      if (!c) {
        problem(out, line.number, "error", code_columns,
                fmt::format("line {}: {} fields ({}) and no header; {}: expected a header "
                            "naming the columns app and name (such as id,app,name,applied), or "
                            "rows of app and name and optionally id and applied in any order, "
                            "told apart by their values (a number, an app label, a migration "
                            "name such as 0001_initial, a timestamp); nothing is read",
                            line.number, fields->size(), delimited_name(how), why),
                std::string(text));
        return summary;
      }
      expected = column_order(*c);
      cols = c;
      where_defined = fmt::format("the first row (line {}, no header)", line.number);
      headerless = true;
    }
    if (fields->size() != cols->count) {
      if (uint64_t n = 0; RE2::FullMatch(text, k_footer, &n)) {
        footer_rows = n;  // psql -A -F , prints its "(N rows)" after the rows
        continue;
      }
      problem(out, line.number, "error", code_columns,
              fmt::format("line {}: {} fields where {} has {} ({}); the row is not read",
                          line.number, fields->size(), where_defined, cols->count, expected),
              std::string(text));
      continue;
    }
    if (headerless) {
      // A row whose values tell other columns than the first row's is not read by them (a
      // value of no known shape is read where it stands, and its check says what it is).
      if (auto c = columns_from_values(*fields); c && column_order(*c) != expected) {
        problem(out, line.number, "error", code_columns,
                fmt::format("line {}: the values are in the columns {}, where {} has {}; the "
                            "row is not read",
                            line.number, column_order(*c), where_defined, expected),
                std::string(text));
        continue;
      }
    }
    if (add_row_record(out, sink, *fields, *cols, line.number, text, source,
                       csv ? "csv-value" : "copy-value")) {
      ++summary.records;
    }
  }
  sink.finish();
  if (footer_rows && *footer_rows != summary.records) {
    problem(out, reader.lines_read(), "warning", "psql-count",
            fmt::format("psql's footer says {} rows, {} were read", *footer_rows, summary.records));
  }
  return summary;
}

// Byte offsets of the elements of the top-level JSON array (for line numbers in errors); with
// `array_depth` 2, of the arrays that are values of the top-level object.
std::vector<size_t> array_element_offsets(std::string_view data, int array_depth = 1) {
  std::vector<size_t> out;
  int depth = 0;
  bool in_string = false;
  bool expect_element = false;
  for (size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (expect_element && !std::isspace(static_cast<unsigned char>(c)) && c != ']') {
      out.push_back(i);
      expect_element = false;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
      if (depth == array_depth && c == '[') {
        expect_element = true;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == array_depth) {
      expect_element = true;
    }
  }
  return out;
}

// One element of the array: a record, or an error naming its line. Returns whether it was
// read.
bool add_json_element(const nlohmann::json& el, size_t index, uint64_t line, store::FactWriter& out,
                      RecordSink& sink) {
  const nlohmann::json* fields = &el;
  std::optional<int64_t> pk;
  if (el.is_object() && el.contains("fields") && el["fields"].is_object()) {
    fields = &el["fields"];  // dumpdata: {"model": ..., "pk": N, "fields": {...}}
    if (el.contains("pk") && el["pk"].is_number_integer()) {
      pk = el["pk"].get<int64_t>();
    }
  }
  auto text_of = [&](const char* key) -> std::optional<std::string> {
    if (!fields->is_object() || !fields->contains(key) || (*fields)[key].is_null()) {
      return std::nullopt;
    }
    const auto& v = (*fields)[key];
    return v.is_string() ? v.get<std::string>() : v.dump();
  };
  auto app = text_of("app");
  auto name = text_of("name");
  if (!el.is_object() || !app || !name || app->empty() || name->empty()) {
    std::string lacks = !el.is_object()        ? fmt::format("it is {}", el.type_name())
                        : !app || app->empty() ? std::string("it has no \"app\"")
                                               : std::string("it has no \"name\"");
    problem(out, line, "error", "json-shape",
            fmt::format("element {} (line {}) is not a django_migrations row: {}; expected an "
                        "object with \"app\" and \"name\" (and \"id\", \"applied\"), or "
                        "dumpdata's {{\"model\", \"pk\", \"fields\": {{...}}}}; not read",
                        index + 1, line, lacks),
            el.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).substr(0, 200));
    return false;
  }
  store::MigrationRecordFact r;
  r.line = static_cast<int64_t>(line);
  r.app = *app;
  r.name = *name;
  std::string applied = text_of("applied").value_or("");
  if (fields->contains("id") && (*fields)["id"].is_number_integer()) {
    r.record_id = (*fields)["id"].get<int64_t>();
  } else if (pk) {
    r.record_id = pk;
  }
  r.source = "json";
  sink.add(std::move(r), applied, line);
  return true;
}

// A document that does not parse: the elements of its array before the damage are still
// read (each parses on its own), and the damage is an error naming its line and column.
void json_syntax_error(std::string_view data, const nlohmann::json::parse_error& e,
                       store::FactWriter& out, RecordSink& sink, RecordsSummary& summary) {
  size_t at = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, data.size());
  uint64_t line = line_of(data, at);
  size_t line_start = data.rfind('\n', at == 0 ? 0 : at - 1);
  size_t column = line_start == std::string_view::npos || at == 0 ? at + 1 : at - line_start;
  std::string reason = e.what();
  if (size_t colon = reason.find(": ", reason.find("column")); colon != std::string::npos) {
    reason = reason.substr(colon + 2);  // nlohmann's text after "... line L, column C: "
  }
  while (auto bad = text::invalid_utf8_at(reason)) {
    reason[*bad] = '?';  // it quotes what it last read, which may be the bad bytes
  }
  size_t start = data.find_first_not_of(" \t\r\n");
  size_t read = 0;
  bool array = start != std::string_view::npos && data[start] == '[';
  if (array) {
    std::vector<size_t> offsets = array_element_offsets(data);
    for (size_t i = 0; i + 1 < offsets.size() && offsets[i + 1] <= at; ++i) {
      std::string_view piece = data.substr(offsets[i], offsets[i + 1] - offsets[i]);
      piece = text::trim(piece);
      if (!piece.empty() && piece.back() == ',') {
        piece.remove_suffix(1);
      }
      nlohmann::json el = nlohmann::json::parse(piece, nullptr, false);
      if (el.is_discarded()) {
        break;
      }
      read += add_json_element(el, i, line_of(data, offsets[i]), out, sink) ? 1 : 0;
    }
  }
  bool at_end = data.find_first_not_of(" \t\r\n", at) == std::string_view::npos;
  problem(out, line, "error", "json-syntax",
          fmt::format("line {}, column {}: not valid JSON ({}){}; expected a JSON array of "
                      "django_migrations rows{}",
                      line, column, reason,
                      at_end ? ": the file ends before the JSON does (cut short?)" : "",
                      array ? fmt::format("; the {} elements before line {} were read", read, line)
                            : std::string()));
  summary.records += read;
}

bool is_row_object(const nlohmann::json& v) {
  const nlohmann::json& f = v.is_object() && v.contains("fields") ? v["fields"] : v;
  return f.is_object() && f.contains("app") && f.contains("name");
}

// JSON lines, one row per line: what `psql -At -c "SELECT row_to_json(m) FROM
// django_migrations m"` prints (and jq -c, and many exporters). Null when the first line is not
// one whole row object. A line that is not a row is an error naming it; the others are read.
std::optional<RecordsSummary> read_json_lines(std::string_view data, store::FactWriter& out,
                                              RecordSink& sink) {
  size_t first_end = data.find('\n');
  nlohmann::json first = nlohmann::json::parse(data.substr(0, first_end), nullptr, false);
  if (first.is_discarded() || !is_row_object(first) || first_end == std::string_view::npos) {
    return std::nullopt;
  }
  RecordsSummary summary;
  uint64_t line = 0;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    std::string_view text = data.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? data.size() : end + 1;
    ++line;
    if (text::trim(text).empty()) {
      continue;
    }
    nlohmann::json el = nlohmann::json::parse(text, nullptr, false);
    if (el.is_discarded()) {
      problem(out, line, "error", "json-syntax",
              fmt::format("line {}: not valid JSON; expected one django_migrations row per line "
                          "(JSON lines, as the lines before it); not read",
                          line),
              std::string(text.substr(0, 200)));
      continue;
    }
    summary.records += add_json_element(el, line - 1, line, out, sink) ? 1 : 0;
  }
  return summary;
}

RecordsSummary read_json(io::InputStream& in, store::FactWriter& out) {
  RecordsSummary summary;
  std::string data = read_all(in);
  nlohmann::json doc;
  RecordSink sink(out, "json-value");
  try {
    doc = nlohmann::json::parse(data);
  } catch (const nlohmann::json::parse_error& e) {
    if (auto lines = read_json_lines(data, out, sink)) {
      sink.finish();
      return *lines;
    }
    json_syntax_error(data, e, out, sink, summary);
    sink.finish();
    return summary;
  } catch (const nlohmann::json::exception& e) {
    // Valid syntax nlohmann cannot hold: a number past a double's range (1e400).
    std::string reason = e.what();
    if (size_t end = reason.find("] "); end != std::string::npos) {
      reason = reason.substr(end + 2);
    }
    while (auto bad = text::invalid_utf8_at(reason)) {
      reason[*bad] = '?';
    }
    // The line of the number it quotes ("number overflow parsing '1e400'").
    uint64_t line = 1;
    if (size_t q = reason.find('\''); q != std::string::npos && reason.back() == '\'') {
      std::string_view number(reason.data() + q + 1, reason.size() - q - 2);
      if (size_t at = data.find(number); !number.empty() && at != std::string::npos) {
        line = line_of(data, at);
      }
    }
    problem(out, line, "error", "json-syntax",
            fmt::format("line {}: not read: {}; expected a JSON array of django_migrations rows "
                        "(a number this large is no id)",
                        line, reason));
    return summary;
  }
  int array_depth = 1;
  if (doc.is_object() && is_row_object(doc)) {
    doc = nlohmann::json::array({doc});  // one row, as JSON lines of one line
  } else if (doc.is_object()) {
    // The rows inside an object, as exporters write them: DBeaver's {"django_migrations":
    // [...]} (the table's name or the query as the key), {"rows": [...]}, {"data": [...]}.
    // The array whose first element is a row; the one named after the table when several are.
    const nlohmann::json* rows = nullptr;
    int arrays = 0;
    for (const auto& item : doc.items()) {
      if (item.value().is_array()) {
        ++arrays;
      }
      if (item.value().is_array() && !item.value().empty() && is_row_object(item.value()[0]) &&
          (!rows || item.key().find("migration") != std::string::npos)) {
        rows = &item.value();
      }
    }
    if (rows) {
      nlohmann::json inner = *rows;
      doc = std::move(inner);
      array_depth = arrays == 1 ? 2 : 0;  // line numbers only when that array is the only one
    }
  }
  if (!doc.is_array()) {
    std::string found = doc.type_name();
    if (doc.is_object()) {
      std::vector<std::string> keys;
      for (const auto& item : doc.items()) {
        if (keys.size() == 5) {
          keys.emplace_back("...");
          break;
        }
        keys.push_back("\"" + item.key() + "\"");
      }
      found = keys.empty() ? "an empty object" : "an object with keys " + text::join(keys, ", ");
    }
    problem(out, 1, "error", "json-shape",
            fmt::format("line 1: expected a JSON array of django_migrations rows ([{{\"app\": "
                        "..., \"name\": ..., \"applied\": ...}}, ...]), found {}; nothing is read",
                        found));
    return summary;
  }
  std::vector<size_t> offsets =
      array_depth > 0 ? array_element_offsets(data, array_depth) : std::vector<size_t>();
  for (size_t i = 0; i < doc.size(); ++i) {
    uint64_t line = i < offsets.size() ? line_of(data, offsets[i]) : 1;
    if (add_json_element(doc[i], i, line, out, sink)) {
      ++summary.records;
    }
  }
  sink.finish();
  return summary;
}

// A line of psql's table output drawn with `\pset linestyle unicode` (│, ─, ┼, ┌ ... of
// U+2500-U+257F, single or double) as its ASCII style draws it (|, -, +), in `buf`.
std::string_view psql_ascii(std::string_view line, std::string& buf) {
  if (line.find("\xe2\x94") == std::string_view::npos &&
      line.find("\xe2\x95") == std::string_view::npos) {
    return line;
  }
  buf.clear();
  for (size_t i = 0; i < line.size(); ++i) {
    const auto b1 = static_cast<unsigned char>(line[i]);
    if (b1 == 0xe2 && i + 2 < line.size() &&
        (static_cast<unsigned char>(line[i + 1]) == 0x94 ||
         static_cast<unsigned char>(line[i + 1]) == 0x95)) {
      // U+2500 + the low 7 bits of the last two bytes
      const unsigned cp = 0x2500 + ((static_cast<unsigned char>(line[i + 1]) - 0x94) << 6) +
                          (static_cast<unsigned char>(line[i + 2]) & 0x3f);
      if (cp <= 0x257f) {
        const bool vertical = cp == 0x2502 || cp == 0x2503 || cp == 0x2551;
        const bool horizontal = cp == 0x2500 || cp == 0x2501 || cp == 0x2550;
        buf += vertical ? '|' : horizontal ? '-' : '+';
        i += 2;
        continue;
      }
    }
    buf += line[i];
  }
  return buf;
}

std::vector<std::string> psql_cells(std::string_view line) {
  std::vector<std::string> cells;
  for (auto cell : text::split(line, '|')) {
    cells.emplace_back(text::trim(cell));
  }
  return cells;
}

RecordsSummary read_psql(io::InputStream& in, store::FactWriter& out) {
  RecordsSummary summary;
  io::LineReader reader(in, 1 << 20);
  io::Line line;
  std::optional<Columns> cols;
  std::string expected;
  std::string where_defined;
  bool headerless = false;
  RecordSink sink(out, "psql-value");
  std::optional<uint64_t> footer_rows;
  static const RE2 k_footer(R"(^\((\d+) rows?\)$)");
  static const RE2 k_rule(R"(^[-+]+$)");
  std::string ascii;  // a line drawn in unicode, in ASCII
  while (reader.next(line)) {
    if (!line.complete || !line.first_piece) {
      if (line.first_piece) {
        problem(
            out, line.number, "error", "line-too-long",
            fmt::format("line {} is longer than 1 MiB: not a django_migrations row", line.number));
      }
      continue;
    }
    std::string_view text = text::trim(psql_ascii(line.text, ascii));
    if (text.empty()) {
      continue;
    }
    uint64_t n = 0;
    if (RE2::FullMatch(text, k_footer, &n)) {
      footer_rows = n;
      continue;
    }
    if (RE2::FullMatch(text, k_rule)) {
      continue;
    }
    if (!check_utf8(out, line.text, line.number, line.offset, "psql-encoding",
                    "django_migrations")) {
      continue;
    }
    auto cells = psql_cells(text);
    if (!cols) {
      cols = columns_from_header(cells);
      if (cols) {
        expected = column_names(cells);
        where_defined = fmt::format("the header (line {})", line.number);
        continue;
      }
      // psql -t (tuples only): no header; the columns by the shapes of the first row's values
      std::string why;
      cols = columns_from_values(cells, &why);
      if (!cols) {
        problem(out, line.number, "error", "psql-shape",
                fmt::format("line {}: expected psql's header naming the columns app and name "
                            "(such as \"id | app | name | applied\"), or (psql -t) rows of app "
                            "and name and optionally id and applied, told apart by their values; "
                            "{}; nothing is read",
                            line.number, why),
                std::string(text));
        return summary;
      }
      expected = column_order(*cols);
      where_defined = fmt::format("the first row (line {}, no header)", line.number);
      headerless = true;
    }
    if (cells.size() != cols->count) {
      problem(out, line.number, "error", "psql-columns",
              fmt::format("line {}: {} cells where {} has {} ({}); the row is not read",
                          line.number, cells.size(), where_defined, cols->count, expected),
              std::string(text));
      continue;
    }
    if (auto c = headerless ? columns_from_values(cells) : std::nullopt;
        c && column_order(*c) != expected) {
      problem(out, line.number, "error", "psql-columns",
              fmt::format("line {}: the values are in the columns {}, where {} has {}; the row "
                          "is not read",
                          line.number, column_order(*c), where_defined, expected),
              std::string(text));
      continue;
    }
    if (add_row_record(out, sink, cells, *cols, line.number, text, "psql", "psql-value")) {
      ++summary.records;
    }
  }
  sink.finish();
  if (footer_rows && *footer_rows != summary.records) {
    problem(out, reader.lines_read(), "warning", "psql-count",
            fmt::format("psql's footer says {} rows, {} were read", *footer_rows, summary.records));
  } else if (!footer_rows && summary.records > 0 && !headerless) {
    // (psql -t prints no footer)
    problem(out, reader.lines_read(), "notice", "psql-count",
            "no \"(N rows)\" footer: the output may have been cut short");
  }
  return summary;
}

// psql's expanded output (`psql -x`, `\\x`): each row a block headed "-[ RECORD N ]---",
// one "column | value" line per column. Unaligned (`psql -x -A`) and tuples only
// (`psql -x -t`), psql writes no such heading: a blank line (-A) or a rule "-----+----" (-t)
// ends each block of "column|value" lines.
RecordsSummary read_psql_expanded(io::InputStream& in, store::FactWriter& out) {
  RecordsSummary summary;
  io::LineReader reader(in, 1 << 20);
  io::Line line;
  static const RE2 k_record(R"(^-\[ RECORD (\d+) \][-+]*$)");
  static const RE2 k_rule(R"(^-+\+-+$)");
  struct Block {
    uint64_t line = 0;
    uint64_t number = 0;
    std::vector<std::string> names, values;
  };
  std::optional<Block> block;
  uint64_t blocks = 0;
  bool headings = false;  // "-[ RECORD N ]" lines (aligned, not -t)
  RecordSink sink(out, "psql-x-value");
  auto flush = [&]() {
    if (!block) {
      return;
    }
    ++blocks;
    auto cols = columns_from_header(block->names);
    if (!cols) {
      problem(out, block->line, "error", "psql-x-shape",
              fmt::format(
                  "line {}: record {} has no {} line; expected \"app | ...\" and "
                  "\"name | ...\" lines in each record; the record is not read",
                  block->line, block->number,
                  std::find(block->names.begin(), block->names.end(), "app") == block->names.end()
                      ? "app"
                      : "name"));
    } else if (add_row_record(out, sink, block->values, *cols, block->line,
                              fmt::format("-[ RECORD {} ]", block->number), "psql",
                              "psql-x-value")) {
      ++summary.records;
    }
    block.reset();
  };
  while (reader.next(line)) {
    if (!line.complete || !line.first_piece) {
      if (line.first_piece) {
        problem(
            out, line.number, "error", "line-too-long",
            fmt::format("line {} is longer than 1 MiB: not a django_migrations row", line.number));
      }
      continue;
    }
    std::string_view text = text::trim(line.text);
    if (text.empty() || text == "(0 rows)") {
      if (!headings && text.empty()) {
        flush();  // psql -x -A / -x -t: a blank line after each record
      }
      continue;
    }
    if (!headings && RE2::FullMatch(text, k_rule)) {
      flush();  // psql -x -t: a rule between records
      continue;
    }
    uint64_t n = 0;
    if (RE2::FullMatch(text, k_record, &n)) {
      flush();
      headings = true;
      block = Block{line.number, n, {}, {}};
      continue;
    }
    if (!check_utf8(out, line.text, line.number, line.offset, "psql-encoding",
                    "django_migrations")) {
      continue;
    }
    size_t bar = text.find('|');
    if (bar != std::string_view::npos && !headings) {
      std::string name = text::lower(text::trim(text.substr(0, bar)));
      if (block &&
          std::find(block->names.begin(), block->names.end(), name) != block->names.end()) {
        flush();  // a column again: the next record (its blank line lost)
      }
      if (!block) {
        block = Block{line.number, blocks + 1, {}, {}};
      }
    }
    if (!block || bar == std::string_view::npos) {
      problem(out, line.number, "error", "psql-x-shape",
              fmt::format("line {}: expected {}; the line is not read", line.number,
                          block ? "\"column | value\" (psql -x output)"
                                : "\"-[ RECORD 1 ]---\" (psql -x output) before any value"),
              std::string(text));
      continue;
    }
    block->names.emplace_back(text::lower(text::trim(text.substr(0, bar))));
    block->values.emplace_back(text::trim(text.substr(bar + 1)));
  }
  flush();
  sink.finish();
  if (blocks == 0) {
    problem(out, 1, "error", "psql-x-shape",
            "no \"-[ RECORD N ]\" block and no \"column|value\" lines: expected psql's expanded "
            "output (psql -x); nothing is read");
  }
  return summary;
}

}  // namespace

std::optional<RecordFormat> sniff_migration_records(std::string_view head) {
  if (head.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view start = text::trim(head);
  size_t eol = start.find('\n');
  std::string_view first = text::trim(start.substr(0, eol));
  bool app_and_name = start.find("\"app\"") != std::string_view::npos &&
                      start.find("\"name\"") != std::string_view::npos;
  if (!start.empty() && start[0] == '[' && app_and_name) {
    return RecordFormat::json;
  }
  // An object around the rows ({"django_migrations": [...]}): the reader says what it
  // expected rather than the file being of no kind.
  if (!start.empty() && start[0] == '{' && app_and_name &&
      start.find("\"applied\"") != std::string_view::npos) {
    return RecordFormat::json;
  }
  if (first.starts_with("-[ RECORD ")) {
    return RecordFormat::psql_expanded;
  }
  // A pg_dump script that starts at a COPY statement (its data section cut out by hand): its
  // column list is no CSV header, and what follows the rows is more SQL.
  if (text::istarts_with(first, "copy ") && first.ends_with(";")) {
    return std::nullopt;
  }
  {
    // psql's table: its header, after the top rule of `\pset border 2` (+----+), in ASCII or
    // unicode lines
    std::string buf;
    std::string_view header = text::trim(psql_ascii(first, buf));
    if (!header.empty() && header.find_first_not_of("+-") == std::string_view::npos &&
        eol != std::string_view::npos) {
      std::string_view rest = start.substr(eol + 1);
      header = text::trim(psql_ascii(rest.substr(0, rest.find('\n')), buf));
    }
    if (header.find('|') != std::string_view::npos && columns_from_header(psql_cells(header))) {
      return RecordFormat::psql;
    }
  }
  // psql -x -A or -x -t: "column|value" lines up to a blank line, naming app and name
  {
    std::vector<std::string> names;
    for (std::string_view rest = start; !rest.empty() && names.size() < 8;) {
      size_t nl = rest.find('\n');
      std::string_view l = text::trim(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      size_t bar = l.find('|');
      if (l.empty() || bar == std::string_view::npos) {
        break;
      }
      names.push_back(text::lower(text::trim(l.substr(0, bar))));
    }
    if (names.size() >= 2 && columns_from_header(names)) {
      return RecordFormat::psql_expanded;
    }
  }
  // psql -t or -At: rows without a header, whose values tell their columns
  if (first.find('|') != std::string_view::npos && columns_from_values(psql_cells(first))) {
    return RecordFormat::psql;
  }
  // \copy's text format: tab-separated (a header only with PostgreSQL 15's HEADER option).
  std::string_view raw_first = start.substr(0, eol);
  if (raw_first.find('\t') != std::string_view::npos) {
    auto fields = copy_text_fields(raw_first);
    if ((columns_from_header(fields) && fields.size() <= 6) || columns_from_values(fields)) {
      return RecordFormat::copy_text;
    }
  }
  // A ;-separated CSV (spreadsheets where ',' is the decimal separator).
  if (first.find(';') != std::string_view::npos) {
    if (auto fields = csv_fields(first, ';')) {
      if ((columns_from_header(*fields) && fields->size() <= 6) || columns_from_values(*fields)) {
        return RecordFormat::csv_semicolon;
      }
    }
  }
  if (auto fields = csv_fields(first)) {
    if (columns_from_header(*fields) && fields->size() <= 6) {
      return RecordFormat::csv;
    }
    // Headerless: rows whose values tell their columns (COPY ... TO STDOUT WITH CSV, with
    // or without a column list)
    if (columns_from_values(*fields)) {
      return RecordFormat::csv;
    }
  }
  return std::nullopt;
}

bool sniff_showmigrations(std::string_view head) {
  static const RE2 k_entry(R"((?m)^\s*\[[X -]\]\s+(\d{4}\w*|\w+\.\d{4}\w*))");
  static const RE2 k_app(R"((?m)^[a-z_][a-z0-9_]*\s*$)");
  if (head.find('\0') != std::string_view::npos) {
    return false;
  }
  return RE2::PartialMatch(head, k_entry) &&
         (RE2::PartialMatch(head, k_app) || head.find("]  ") != std::string_view::npos);
}

RecordsSummary read_migration_records(io::InputStream& in, store::FactWriter& out,
                                      RecordFormat format) {
  switch (format) {
    case RecordFormat::csv:
      return read_delimited(in, out, Delimited::csv_comma);
    case RecordFormat::csv_semicolon:
      return read_delimited(in, out, Delimited::csv_semicolon);
    case RecordFormat::copy_text:
      return read_delimited(in, out, Delimited::copy_text);
    case RecordFormat::psql_expanded:
      return read_psql_expanded(in, out);
    case RecordFormat::json:
      return read_json(in, out);
    case RecordFormat::psql:
      return read_psql(in, out);
  }
  return {};
}

RecordsSummary read_showmigrations(io::InputStream& in, store::FactWriter& out) {
  RecordsSummary summary;
  io::LineReader reader(in, 1 << 20);
  io::Line line;
  std::string app;
  // --list:  "app" then " [X] 0001_initial" (squashed: " [-] 0001_squashed_0004 (...)";
  //          verbosity 2 adds " (applied at ...)")
  // --plan:  "[X]  app.0001_initial" (verbosity 2 adds " ... (its dependencies)")
  static const RE2 k_list(R"(^\s+\[([X -])\]\s+(\S+))");
  static const RE2 k_plan(R"(^\[([X -])\]\s+([A-Za-z_][A-Za-z0-9_]*)\.(\S+))");
  static const RE2 k_app(R"(^([A-Za-z_][A-Za-z0-9_]*)\s*$)");
  static const RE2 k_entry(R"(^\s*\[(.?)\])");
  while (reader.next(line)) {
    std::string_view text = line.text;
    std::string mark;
    std::string name;
    std::string plan_app;
    std::string word;
    std::string_view trimmed = text::trim(text);
    if (trimmed.empty() || trimmed == "(no migrations)") {
      continue;
    }
    if (RE2::PartialMatch(text, k_plan, &mark, &plan_app, &name)) {
      // handled below with plan_app
    } else if (RE2::PartialMatch(text, k_list, &mark, &name)) {
      plan_app = app;
    } else if (RE2::FullMatch(text, k_app, &word)) {
      app = word;
      continue;
    } else if (RE2::PartialMatch(text, k_entry, &mark)) {
      // A migration's line that cannot be read: a mark Django never prints, or no name.
      problem(out, line.number, "error", "showmigrations-line",
              fmt::format("line {}: expected \"[X] name\" (applied), \"[ ] name\" (not applied) "
                          "or \"[-] name\" (squashed, partly applied){}, found \"{}\"; the "
                          "migration is not read",
                          line.number, app.empty() ? "" : fmt::format(" of app {}", app),
                          text::abbreviate(trimmed, 80)),
              std::string(trimmed));
      continue;
    } else {
      problem(out, line.number, "warning", "showmigrations-line",
              fmt::format("line {} is not a showmigrations line; ignored", line.number),
              std::string(trimmed));
      continue;
    }
    if (plan_app.empty()) {
      problem(out, line.number, "warning", "showmigrations-line",
              fmt::format("line {}: a migration before any app name; ignored", line.number));
      continue;
    }
    store::MigrationFact m;
    m.line = static_cast<int64_t>(line.number);
    m.app = plan_app;
    m.name = name;
    m.source = "showmigrations";
    out.add(m);
    ++summary.known;
    if (mark == "X") {
      store::MigrationRecordFact r;
      r.line = static_cast<int64_t>(line.number);
      r.app = plan_app;
      r.name = name;
      r.source = "showmigrations";
      // verbosity 2 of --list: " (applied at 2025-11-03 09:12:11)", django_migrations.applied
      // to the second (UTC when the project has USE_TZ)
      static const RE2 k_applied(R"(\(applied at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\))");
      std::string applied;
      if (RE2::PartialMatch(text, k_applied, &applied)) {
        r.applied_at = applied;
      }
      out.add(r);
      ++summary.records;
    } else if (mark == "-") {
      problem(out, line.number, "notice", "squash-partial",
              fmt::format("{}.{} is a squashed migration only some of whose replaced migrations "
                          "are applied ([-])",
                          plan_app, name));
    }
  }
  return summary;
}

std::optional<store::MigrationRecordFact> record_from_row(
    const std::vector<std::string>& columns,
    const std::vector<std::optional<std::string>>& values) {
  static const std::vector<std::string> k_default = {"id", "app", "name", "applied"};
  const std::vector<std::string>& names = columns.empty() ? k_default : columns;
  store::MigrationRecordFact r;
  bool have_app = false;
  bool have_name = false;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    const std::string& c = names[i];
    const auto& v = values[i];
    if (c == "id" && v) {
      try {
        r.record_id = std::stoll(*v);
      } catch (...) {
      }
    } else if (c == "app" && v) {
      r.app = *v;
      have_app = true;
    } else if (c == "name" && v) {
      r.name = *v;
      have_name = true;
    } else if (c == "applied") {
      r.applied_at = v;
    }
  }
  if (!have_app || !have_name) {
    return std::nullopt;
  }
  return r;
}

}  // namespace dbautopsy::django
