#include "django/migration_records.hpp"

#include <re2/re2.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/text.hpp"
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

// RFC 4180 fields of one CSV record (a quoted field may not span lines here: exports of
// django_migrations hold no newlines). Returns nullopt for an unbalanced quote.
std::optional<std::vector<std::string>> csv_fields(std::string_view line) {
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
    } else if (c == ',') {
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

bool looks_like_migration_name(std::string_view s) {
  static const RE2 k_name(R"(^\d{4}_\w+$|^\d{4}$)");
  return RE2::FullMatch(s, k_name);
}

RecordsSummary read_csv(io::InputStream& in, store::FactWriter& out) {
  RecordsSummary summary;
  io::LineReader reader(in, 1 << 20);
  io::Line line;
  std::optional<Columns> cols;
  const char* expected = "id, app, name, applied";
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
    if (text.empty()) {
      continue;
    }
    auto fields = csv_fields(text);
    if (!fields) {
      problem(out, line.number, "error", "csv-quote",
              fmt::format("line {}: a quoted field is not closed", line.number), std::string(text));
      continue;
    }
    if (!cols) {
      cols = columns_from_header(*fields);
      if (cols) {
        continue;  // a header
      }
      // No header: by position.
      Columns c;
      c.count = fields->size();
      if (fields->size() == 4) {
        c = Columns{0, 1, 2, 3, 4};
      } else if (fields->size() == 3) {
        c = Columns{-1, 0, 1, 2, 3};
      } else {
        problem(out, line.number, "error", "csv-columns",
                fmt::format("line {}: {} fields, expected a header naming app and name, or the "
                            "columns {} in that order",
                            line.number, fields->size(), expected),
                std::string(text));
        return summary;
      }
      cols = c;
      expected = c.id < 0 ? "app, name, applied" : "id, app, name, applied";
    }
    if (fields->size() != cols->count) {
      problem(out, line.number, "error", "csv-columns",
              fmt::format("line {}: {} fields where the header has {} ({}); the row is not read",
                          line.number, fields->size(), cols->count, expected),
              std::string(text));
      continue;
    }
    store::MigrationRecordFact r;
    r.line = static_cast<int64_t>(line.number);
    r.app = (*fields)[static_cast<size_t>(cols->app)];
    r.name = (*fields)[static_cast<size_t>(cols->name)];
    if (cols->id >= 0) {
      try {
        r.record_id = std::stoll((*fields)[static_cast<size_t>(cols->id)]);
      } catch (...) {
        problem(out, line.number, "warning", "csv-value",
                fmt::format("line {}: id '{}' is not a number", line.number,
                            (*fields)[static_cast<size_t>(cols->id)]));
      }
    }
    if (cols->applied >= 0 && !(*fields)[static_cast<size_t>(cols->applied)].empty()) {
      r.applied_at = (*fields)[static_cast<size_t>(cols->applied)];
    }
    r.source = "csv";
    if (r.app.empty() || r.name.empty()) {
      problem(out, line.number, "error", "csv-value",
              fmt::format("line {}: empty app or name; the row is not read", line.number),
              std::string(text));
      continue;
    }
    out.add(r);
    ++summary.records;
  }
  return summary;
}

// Byte offsets of the elements of the top-level JSON array (for line numbers in errors).
std::vector<size_t> array_element_offsets(std::string_view data) {
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
      if (depth == 1 && c == '[') {
        expect_element = true;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_element = true;
    }
  }
  return out;
}

RecordsSummary read_json(io::InputStream& in, store::FactWriter& out) {
  RecordsSummary summary;
  std::string data = read_all(in);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(data);
  } catch (const nlohmann::json::parse_error& e) {
    uint64_t line = line_of(data, e.byte > 0 ? e.byte - 1 : 0);
    problem(out, line, "error", "json-syntax",
            fmt::format("not valid JSON at line {} (byte {}): {}", line, e.byte, e.what()));
    return summary;
  }
  if (!doc.is_array()) {
    problem(out, 1, "error", "json-shape",
            fmt::format("expected a JSON array of django_migrations rows, found {} at line 1",
                        doc.is_object() ? "an object" : std::string(doc.type_name())));
    return summary;
  }
  std::vector<size_t> offsets = array_element_offsets(data);
  for (size_t i = 0; i < doc.size(); ++i) {
    const nlohmann::json& el = doc[i];
    uint64_t line = i < offsets.size() ? line_of(data, offsets[i]) : 1;
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
    if (!el.is_object() || !app || !name) {
      problem(out, line, "error", "json-shape",
              fmt::format("element {} (line {}) is not a django_migrations row: it needs \"app\" "
                          "and \"name\"; not read",
                          i + 1, line),
              el.dump().substr(0, 200));
      continue;
    }
    store::MigrationRecordFact r;
    r.line = static_cast<int64_t>(line);
    r.app = *app;
    r.name = *name;
    r.applied_at = text_of("applied");
    if (fields->contains("id") && (*fields)["id"].is_number_integer()) {
      r.record_id = (*fields)["id"].get<int64_t>();
    } else if (pk) {
      r.record_id = pk;
    }
    r.source = "json";
    out.add(r);
    ++summary.records;
  }
  return summary;
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
  std::optional<uint64_t> footer_rows;
  static const RE2 k_footer(R"(^\((\d+) rows?\)$)");
  static const RE2 k_rule(R"(^[-+]+$)");
  while (reader.next(line)) {
    std::string_view text = text::trim(line.text);
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
    auto cells = psql_cells(text);
    if (!cols) {
      cols = columns_from_header(cells);
      if (!cols) {
        problem(out, line.number, "error", "psql-shape",
                fmt::format("line {}: expected psql's header naming the columns app and name",
                            line.number),
                std::string(text));
        return summary;
      }
      continue;
    }
    if (cells.size() != cols->count) {
      problem(out, line.number, "error", "psql-columns",
              fmt::format("line {}: {} cells where the header has {}; the row is not read",
                          line.number, cells.size(), cols->count),
              std::string(text));
      continue;
    }
    store::MigrationRecordFact r;
    r.line = static_cast<int64_t>(line.number);
    r.app = cells[static_cast<size_t>(cols->app)];
    r.name = cells[static_cast<size_t>(cols->name)];
    if (cols->id >= 0) {
      try {
        r.record_id = std::stoll(cells[static_cast<size_t>(cols->id)]);
      } catch (...) {
      }
    }
    if (cols->applied >= 0 && !cells[static_cast<size_t>(cols->applied)].empty()) {
      r.applied_at = cells[static_cast<size_t>(cols->applied)];
    }
    r.source = "psql";
    out.add(r);
    ++summary.records;
  }
  if (footer_rows && *footer_rows != summary.records) {
    problem(out, reader.lines_read(), "warning", "psql-count",
            fmt::format("psql's footer says {} rows, {} were read", *footer_rows, summary.records));
  } else if (!footer_rows && summary.records > 0) {
    problem(out, reader.lines_read(), "notice", "psql-count",
            "no \"(N rows)\" footer: the output may have been cut short");
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
  if (!start.empty() && start[0] == '[' && (start.find("\"app\"") != std::string_view::npos) &&
      start.find("\"name\"") != std::string_view::npos) {
    return RecordFormat::json;
  }
  if (first.find('|') != std::string_view::npos) {
    auto cells = psql_cells(first);
    if (columns_from_header(cells)) {
      return RecordFormat::psql;
    }
  }
  if (auto fields = csv_fields(first)) {
    if (columns_from_header(*fields) && fields->size() <= 6) {
      return RecordFormat::csv;
    }
    // Headerless: the migration name is the last-but-one (4 columns) or second field.
    if ((fields->size() == 4 && looks_like_migration_name((*fields)[2])) ||
        (fields->size() == 3 && looks_like_migration_name((*fields)[1]))) {
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
      return read_csv(in, out);
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
  // --list:  "app" then " [X] 0001_initial" (squashed: " [-] 0001_squashed_0004 (...)")
  // --plan:  "[X]  app.0001_initial" (verbosity 2 adds " ... (applied at ...)")
  static const RE2 k_list(R"(^\s+\[([X -])\]\s+(\S+))");
  static const RE2 k_plan(R"(^\[([X -])\]\s+([A-Za-z_][A-Za-z0-9_]*)\.(\S+))");
  static const RE2 k_app(R"(^([A-Za-z_][A-Za-z0-9_]*)\s*$)");
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
