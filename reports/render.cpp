// Human renderings of a report: the terminal report, Markdown, and the repair script.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <sstream>

#include "base/text.hpp"
#include "reports/report.hpp"

namespace dbautopsy::reports {

std::string table_object_text(const Finding& f) {
  std::map<std::string, std::string> s;
  for (const auto& [k, v] : f.subject) {
    if (v) {
      s[k] = *v;
    }
  }
  std::string out;
  if (s.count("table")) {
    out = s.count("schema") ? s["schema"] + "." + s["table"] : s["table"];
    if (s.count("column")) {
      out += "." + s["column"];
    }
    if (s.count("index")) {
      out += " index " + s["index"];
    }
    if (s.count("constraint")) {
      out += " constraint " + s["constraint"];
    }
    if (s.count("row_id")) {
      out += " row " + s["row_id"];
    }
  }
  return out;
}

std::string psql_connect_arg(const std::string& name) {
  bool plain = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (plain) {
    return name;
  }
  std::string conn = "dbname='";
  for (char c : name) {
    if (c == '\\' || c == '\'') {
      conn += '\\';
    }
    conn += c;
  }
  conn += "'";
  std::string out = "-reuse-previous=on \"";
  for (char c : conn) {
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  }
  return out + "\"";
}

namespace {

// "1 finding", "2 findings" (nouns with a plain -s plural).
std::string count_of(size_t n, const std::string& noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

struct Style {
  bool on;
  std::string wrap(const std::string& s, const char* code) const {
    return on ? fmt::format("\033[{}m{}\033[0m", code, s) : s;
  }
  std::string bold(const std::string& s) const { return wrap(s, "1"); }
  std::string dim(const std::string& s) const { return wrap(s, "2"); }
  std::string severity(const std::string& s) const {
    return wrap(s, s == "error" ? "1;31" : s == "warning" ? "33" : "36");
  }
};

// Greedy word wrap at `width` columns, each line prefixed by `indent`.
// Columns a string takes on a terminal: its code points (UTF-8 continuation bytes take none).
size_t columns(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Text broken into lines of at most `first` columns for the first and `width` for the others,
// at spaces; a word longer than a line is cut (at a code point boundary).
std::vector<std::string> wrap_lines(std::string_view text, size_t first, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  auto limit = [&] { return lines.empty() ? first : width; };
  size_t start = 0;
  while (start <= text.size()) {
    size_t space = text.find(' ', start);
    std::string_view word =
        text.substr(start, space == std::string_view::npos ? text.npos : space - start);
    if (!line.empty() && columns(line) + 1 + columns(word) > limit()) {
      lines.push_back(std::move(line));
      line.clear();
    }
    while (line.empty() && columns(word) > limit() && limit() > 0) {
      size_t cut = 0;
      for (size_t cols = 0; cut < word.size(); ++cut) {
        if ((static_cast<unsigned char>(word[cut]) & 0xC0) != 0x80 && cols++ == limit()) {
          break;
        }
      }
      lines.emplace_back(word.substr(0, cut));
      word.remove_prefix(cut);
    }
    line += (line.empty() ? "" : " ") + std::string(word);
    if (space == std::string_view::npos) {
      break;
    }
    start = space + 1;
  }
  if (!line.empty()) {
    lines.push_back(std::move(line));
  }
  return lines;
}

// `head` then `text`, filled to `width` columns; the lines after the first start with
// `indent`. `style` is applied to each piece of `text`.
template <typename Style>
std::string fill(const std::string& head, size_t head_columns, std::string_view text, size_t width,
                 const std::string& indent, Style style) {
  size_t first = width > head_columns ? width - head_columns : 1;
  std::string out;
  auto lines = wrap_lines(text, first, width - indent.size());
  if (lines.empty()) {
    return head + "\n";
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    out += (i == 0 ? head : indent) + style(lines[i]) + "\n";
  }
  return out;
}

std::string fill(const std::string& head, std::string_view text, size_t width,
                 const std::string& indent) {
  return fill(head, columns(head), text, width, indent, [](const std::string& s) { return s; });
}

std::string wrap(const std::string& text, size_t width, const std::string& indent) {
  std::string out;
  std::string line;
  size_t start = 0;
  while (start <= text.size()) {
    size_t space = text.find(' ', start);
    std::string word =
        text.substr(start, space == std::string::npos ? std::string::npos : space - start);
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    if (space == std::string::npos) {
      break;
    }
    start = space + 1;
  }
  if (!line.empty()) {
    out += indent + line + "\n";
  }
  return out;
}

std::string where(const Evidence& e) {
  return e.line ? fmt::format("{}:{}", e.artifact, *e.line) : e.artifact;
}

std::string subject_text(const Finding& f) {
  std::map<std::string, std::string> s;
  for (const auto& [k, v] : f.subject) {
    if (v) {
      s[k] = *v;
    }
  }
  std::string out;
  if (f.rule == "input.checks-skipped" && s.count("value")) {
    return s["value"] + " checks skipped";  // the family, not a row's value
  }
  out = table_object_text(f);
  if (f.metrics && f.metrics->contains("rows") && f.metrics->contains("distinct_rows")) {
    out +=
        fmt::format(": {} rows, {} distinct", text::thousands((*f.metrics)["rows"].get<int64_t>()),
                    text::thousands((*f.metrics)["distinct_rows"].get<int64_t>()));
  }
  if (f.rule.rfind("log.", 0) == 0) {
    // What the logs show: the object, or the message template, with how often.
    if (s.count("value")) {
      out += (out.empty() ? "\"" : ": \"") + s["value"] + "\"";
    }
    for (const char* k : {"errors", "repeats", "entries"}) {
      if (f.metrics && f.metrics->contains(k) && (*f.metrics)[k].is_number_integer()) {
        int64_t n = (*f.metrics)[k].get<int64_t>();
        out += fmt::format(" ({} {})", text::thousands(n),
                           std::string_view(k) == "errors"    ? (n == 1 ? "error" : "errors")
                           : std::string_view(k) == "repeats" ? (n == 1 ? "time" : "times")
                                                              : (n == 1 ? "entry" : "entries"));
      }
    }
    return out;
  }
  if (s.count("value")) {
    // An orphan's value and the id it should point at; a remapped id's old and new value.
    out += ": " + s["value"] +
           (s.count("suggested_value") ? " → " + s["suggested_value"] : " (no known parent)");
  }
  if (s.count("migration")) {
    out += out.empty() ? s["migration"] : " (" + s["migration"] + ")";
  }
  if (s.count("database")) {
    out = "[" + s["database"] + "] " + out;  // one database of several
  }
  return out;
}

// "dumps a.sql, b.sql" / "dump a.sql".
std::string dumps_text(const Database& d) {
  std::string out = d.dumps.size() == 1 ? "dump " : "dumps ";
  for (size_t i = 0; i < d.dumps.size(); ++i) {
    out += (i ? ", " : "") + d.dumps[i];
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    start = nl == std::string::npos ? s.size() : nl + 1;
  }
  return out;
}

// Markdown: text with its markup characters escaped, so that a name holding `|`, a backtick,
// `*` or `_` reads as written (and does not end a table cell or start emphasis).
std::string md(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (std::string_view("\\`*_|[]<>#").find(c) != std::string_view::npos) {
      out += '\\';
    }
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

// Markdown: a code span, or escaped text when the code span could not hold it (a backtick
// ends it; `|` ends a table cell even inside one).
std::string md_code(const std::string& text) {
  if (text.find_first_of("`|\n") != std::string::npos) {
    return md(text);
  }
  return "`" + text + "`";
}

bool analysed(const Input& in) {
  return in.status == "ok" || in.status == "partial" || in.status == "unchanged";
}

// "path:line: message" of a problem (the line said once).
std::string problem_text(const Problem& p) {
  std::string message = p.message;
  if (p.line && message.starts_with(fmt::format("line {}: ", *p.line))) {
    message.erase(0, fmt::format("line {}: ", *p.line).size());
  }
  return fmt::format("{}{}: {}", p.artifact, p.line ? fmt::format(":{}", *p.line) : std::string(),
                     message);
}

}  // namespace

void write_text(std::ostream& out, const Report& raw, bool colour, bool verbose) {
  const Report report = displayable(raw);  // names from the inputs cannot drive the terminal
  Style st{colour};
  out << st.bold(fmt::format("dbautopsy {} — {}", report.version, report.title)) << "\n";
  int used = 0;
  std::vector<const Input*> skipped;
  for (const auto& in : report.inputs) {
    if (analysed(in)) {
      ++used;
    } else {
      skipped.push_back(&in);
    }
  }
  out << fmt::format("Inputs: {} analysed", used);
  if (!skipped.empty()) {
    out << fmt::format(", {} not analysed:", skipped.size());
  }
  out << "\n";
  // A terminal of 100 columns: every line is filled to it.
  const size_t width = 100;
  for (const Input* in : skipped) {
    out << fill("  ",
                fmt::format("{}  [{}] {}", in->path, in->kind, in->detail.value_or(in->status)),
                width, "      ");
  }
  for (const auto& in : report.inputs) {
    if (in.status == "partial") {
      out << fill(st.severity("warning") + " ", 8,
                  fmt::format("{} was read only in part: {}", in.path, in.detail.value_or("")),
                  width, "    ", [](const std::string& s) { return s; });
    }
  }
  // Warnings about inputs read in full (a statement or line skipped, a value read another way
  // than written): not findings, but not to be missed either.
  {
    std::set<std::string> partial;
    for (const auto& in : report.inputs) {
      if (in.status != "ok" && in.status != "unchanged") {
        partial.insert(in.path);  // said above, or not analysed
      }
    }
    std::vector<const Problem*> warnings;
    for (const auto& p : report.problems) {
      if (p.severity == "warning" && !partial.count(p.artifact)) {
        warnings.push_back(&p);
      }
    }
    const size_t shown = std::min<size_t>(warnings.size(), 3);
    for (size_t i = 0; i < shown; ++i) {
      out << fill(st.severity("warning") + " ", 8, problem_text(*warnings[i]), width, "    ",
                  [](const std::string& s) { return s; });
    }
    if (warnings.size() > shown) {
      out << fill("  ",
                  fmt::format("and {} more warnings about the inputs (report.html and the "
                              "store's problem table list them)",
                              warnings.size() - shown),
                  width, "    ");
    }
  }
  if (report.databases.size() > 1) {
    out << fmt::format("Databases: {}, each analysed on its own\n", report.databases.size());
    for (const auto& d : report.databases) {
      out << fill(
          "  ", fmt::format("{}{} ({})", d.name ? d.label + ": " : "", dumps_text(d), d.grouped_by),
          width, "    ");
    }
  }
  for (const auto& n : report.notes) {
    out << fill(st.dim("note: "), 6, n, width, "      ",
                [&](const std::string& s) { return st.dim(s); });
  }
  std::map<std::string, int> by;
  for (const auto& f : report.findings) {
    ++by[f.severity];
  }
  out << "\n";
  if (report.findings.empty()) {
    out << st.bold("No findings.") << "\n";
    return;
  }
  std::string counts;
  for (const char* s : {"error", "warning", "info"}) {
    if (by[s]) {
      counts +=
          fmt::format("{}{} {}{}", counts.empty() ? "" : ", ", by[s], s, by[s] == 1 ? "" : "s");
    }
  }
  out << st.bold(fmt::format("{} ({}) in {}", count_of(report.findings.size(), "finding"), counts,
                             count_of(report.causes.size(), "cause")))
      << "\n";
  std::map<std::string, const Finding*> by_id;
  for (const auto& f : report.findings) {
    by_id[f.id] = &f;
  }
  for (const auto& c : report.causes) {
    out << "\n"
        << fill(st.bold(c.id) + "  " + st.severity(c.severity) + "  ",
                columns(c.id) + 4 + columns(c.severity), c.summary, width, "    ",
                [&](const std::string& s) { return st.bold(s); });
    out << wrap(c.narrative, width, "    ");
    if (c.repair && verbose) {
      out << st.dim("    repair:") << "\n";
      for (auto line : split_lines(*c.repair)) {
        out << st.dim("      " + text::printable(line)) << "\n";
      }
    }
    for (const auto& id : c.findings) {
      const Finding& f = *by_id[id];
      std::string head =
          fmt::format("    {:<4} {} {}  ", f.id, fmt::format("{:<7}", f.severity), f.rule);
      out << fill(fmt::format("    {:<4} {} {}  ", f.id,
                              st.severity(fmt::format("{:<7}", f.severity)), f.rule),
                  columns(head), subject_text(f), width, "             ",
                  [](const std::string& s) { return s; });
      if (verbose) {
        out << wrap(f.message, width, "           ");
        for (const auto& e : f.evidence) {
          out << fill(st.dim(fmt::format("           {}  ", where(e))), 13 + columns(where(e)),
                      e.text, width, "             ",
                      [&](const std::string& s) { return st.dim(s); });
        }
        if (f.repair) {
          std::string shown;
          for (const auto& line : split_lines(*f.repair)) {
            shown += (shown.empty() ? "" : "\n") + text::printable(line);
          }
          out << st.dim("           repair: " + shown) << "\n";
        }
      } else if (!f.evidence.empty()) {
        out << st.dim(fmt::format("           {}", where(f.evidence.front()))) << "\n";
      }
    }
  }
  if (!verbose) {
    out << "\n"
        << fill("", 0,
                "(--verbose shows each finding's message, evidence and repair; --format json for "
                "the full record; --repair FILE writes the repair script)",
                width, "", [&](const std::string& s) { return st.dim(s); });
  }
}

void write_markdown(std::ostream& out, const Report& raw) {
  const Report report = displayable(raw);  // names from the inputs cannot drive the terminal
  // Summary and causes first, what was read last: an investigator reads the story, and the
  // inputs that were read fine are summarised by kind (a case has a hundred migration files).
  out << fmt::format("# dbautopsy report: {}\n\n", md(report.title));
  out << fmt::format("dbautopsy {}. {} in {}.\n\n", report.version,
                     count_of(report.findings.size(), "finding"),
                     count_of(report.causes.size(), "cause"));
  if (!report.causes.empty()) {
    out << "## Summary\n\n";
    for (const auto& c : report.causes) {
      out << fmt::format("- **{}** ({}) {} — {}\n", c.id, c.severity, md(c.summary),
                         count_of(c.findings.size(), "finding"));
    }
  }
  if (report.databases.size() > 1) {
    out << fmt::format("\n## Databases\n\n{} databases, each analysed on its own.\n\n",
                       report.databases.size());
    out << "| database | dumps | grouped by |\n|---|---|---|\n";
    for (const auto& d : report.databases) {
      std::string dumps;
      for (const auto& p : d.dumps) {
        dumps += (dumps.empty() ? "" : ", ") + md_code(p);
      }
      out << fmt::format("| {} | {} | {} |\n", d.name ? md_code(*d.name) : "(not named)", dumps,
                         md(d.grouped_by));
    }
  }
  std::map<std::string, const Finding*> by_id;
  for (const auto& f : report.findings) {
    by_id[f.id] = &f;
  }
  for (const auto& c : report.causes) {
    out << fmt::format("\n## {} — {} ({})\n\n{}\n\n", c.id, md(c.summary), c.severity,
                       md(c.narrative));
    if (c.repair) {
      out << "```sql\n";
      for (const auto& line : split_lines(*c.repair)) {
        out << text::printable(line) << "\n";
      }
      out << "```\n\n";
    }
    for (const auto& id : c.findings) {
      const Finding& f = *by_id[id];
      out << fmt::format("- **{}** `{}` {} — {}\n", f.id, f.rule, md(subject_text(f)),
                         md(f.message));
      for (const auto& e : f.evidence) {
        out << fmt::format("  - {} {}\n", md_code(where(e)), md(e.text));
      }
      if (f.repair) {
        out << fmt::format("  - repair: {}\n", md_code(text::printable(*f.repair)));
      }
    }
  }
  std::map<std::string, size_t> read_by_kind;
  std::vector<const Input*> others;
  for (const auto& in : report.inputs) {
    if (in.status == "ok") {
      ++read_by_kind[in.kind];
    } else {
      others.push_back(&in);
    }
  }
  out << "\n## Inputs\n\n";
  if (!read_by_kind.empty()) {
    std::vector<std::string> kinds;
    size_t total = 0;
    for (const auto& [kind, n] : read_by_kind) {
      kinds.push_back(fmt::format("{} {}", n, kind));
      total += n;
    }
    out << fmt::format("{} read in full: {}.\n", count_of(total, "input"), text::join(kinds, ", "));
  }
  if (!others.empty()) {
    out << fmt::format(
        "\n{} not analysed, or not in full:\n\n| artifact | kind | status |\n|---|---|---|\n",
        count_of(others.size(), "input"));
    for (const Input* in : others) {
      out << fmt::format("| {} | {} | {}{} |\n", md_code(in->path), in->kind, in->status,
                         !in->detail ? "" : ": " + md(*in->detail));
    }
  }
  {
    std::vector<const Problem*> warnings;
    for (const auto& p : report.problems) {
      if (p.severity == "warning") {
        warnings.push_back(&p);
      }
    }
    if (!warnings.empty()) {
      out << fmt::format("\n{} about the inputs{}:\n\n", count_of(warnings.size(), "warning"),
                         warnings.size() > 10 ? " (the first 10)" : "");
      for (size_t i = 0; i < warnings.size() && i < 10; ++i) {
        out << "- " << md(problem_text(*warnings[i])) << "\n";
      }
    }
  }
  if (report.inputs.empty()) {
    out << "No inputs.\n";
  }
}

namespace {

// `CREATE [UNIQUE] INDEX IF NOT EXISTS ...` as `CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT
// EXISTS ...`, which builds it without locking writes out, but cannot run in a transaction;
// nothing for any other repair (a rename, a partitioned table's `ON ONLY` index, advice).
std::optional<std::string> concurrent_form(const std::string& repair) {
  std::string_view stmt(repair);
  while (stmt.ends_with('\n')) {
    stmt.remove_suffix(1);
  }
  // One statement on one line, nothing after its semicolon.
  if (stmt.find('\n') != std::string_view::npos || stmt.find(';') != stmt.size() - 1 ||
      stmt.find(" ON ONLY ") != std::string_view::npos) {
    return std::nullopt;
  }
  for (std::string_view head : {"CREATE INDEX ", "CREATE UNIQUE INDEX "}) {
    if (stmt.starts_with(head) && stmt.substr(head.size()).starts_with("IF NOT EXISTS ")) {
      return fmt::format("{}CONCURRENTLY {}", head, stmt.substr(head.size()));
    }
  }
  return std::nullopt;
}

// The statements of a repair that create an extension (`CREATE EXTENSION IF NOT EXISTS`, one
// line each, as the migration rules write them for a faked migration's extensions), apart
// from the rest: they run before anything else, since the tables, columns, indexes and
// constraints the other repairs make may need them (a citext column, a gin_trgm_ops index).
std::pair<std::string, std::string> split_extensions(const std::string& repair) {
  std::string extensions, rest;
  size_t start = 0;
  while (start < repair.size()) {
    size_t end = repair.find('\n', start);
    end = end == std::string::npos ? repair.size() : end + 1;
    std::string_view line(repair.data() + start, end - start);
    (line.starts_with("CREATE EXTENSION IF NOT EXISTS ") ? extensions : rest) += line;
    start = end;
  }
  if (!extensions.empty() && !extensions.ends_with('\n')) {
    extensions += '\n';
  }
  while (rest.ends_with('\n')) {
    rest.pop_back();
  }
  return {extensions, rest};
}

// The foreign keys of a missing table's repair (its lines that add one, as expected_ddl writes
// them), apart from the rest: they run once every missing table exists, since one may point
// at a table another finding's repair creates.
std::pair<std::string, std::string> split_foreign_keys(const std::string& repair) {
  std::string rest, keys;
  size_t start = 0;
  while (start < repair.size()) {
    size_t end = repair.find('\n', start);
    end = end == std::string::npos ? repair.size() : end + 1;
    std::string_view line(repair.data() + start, end - start);
    bool key = line.starts_with("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint ") &&
               line.find(" FOREIGN KEY ") != std::string_view::npos;
    (key ? keys : rest) += line;
    start = end;
  }
  while (rest.ends_with('\n')) {
    rest.pop_back();
  }
  while (keys.ends_with('\n')) {
    keys.pop_back();
  }
  return {rest, keys};
}

// The repair statements of some causes (those of one database), in dependency order. The
// index builds that can run CONCURRENTLY are written to `concurrent` instead, to run after
// the transaction.
void write_repairs(std::ostream& out, std::ostream& concurrent, const Report& report,
                   int database) {
  std::map<std::string, const Finding*> by_id;
  for (const auto& f : report.findings) {
    by_id[f.id] = &f;
  }
  // Statements run in dependency order, whatever cause they belong to: tables are moved and
  // created before columns are added to them, columns before indexes and constraints on
  // them, and a foreign key after the table it references (made by another cause's repair,
  // perhaps, or by another missing table's: a missing table's foreign keys are added with the
  // constraints). A cause's own repair (bulk data repairs) comes next, and the de-duplicated
  // copies of looping tables last: a copy taken before the orphans in its table are moved to
  // their new parent would bring the orphans back when it is swapped in.
  auto phase = [](const std::string& rule) {
    static const std::map<std::string, int> k_phase = {
        {"drift.table-in-wrong-schema", 0}, {"drift.table-missing", 1},
        {"drift.column-missing", 2},        {"drift.column-mismatch", 3},
        {"drift.index-missing", 4},         {"drift.constraint-missing", 5},
        {"data.duplicate-rows", 8}};
    auto it = k_phase.find(rule);
    return it == k_phase.end() ? 6 : it->second;
  };
  std::set<std::string> introduced, concurrent_introduced;
  auto header = [&](const Cause& c) {
    if (introduced.insert(c.id).second) {
      out << fmt::format("\n-- {}: {}\n", c.id, c.summary);
    } else {
      out << fmt::format("\n-- {} (continued)\n", c.id);
    }
  };
  // First the extensions that the migration findings' repairs create, whatever cause they
  // belong to.
  std::map<std::string, std::string> after_extensions;  // finding id -> the rest of its repair
  for (const auto& c : report.causes) {
    if (c.database != database) {
      continue;
    }
    bool started = false;
    for (const auto& id : c.findings) {
      const Finding& f = *by_id[id];
      if (!f.repair) {
        continue;
      }
      auto [extensions, rest] = split_extensions(*f.repair);
      if (extensions.empty()) {
        continue;
      }
      if (!started) {
        header(c);
        started = true;
      }
      out << fmt::format("-- {} {} {}\n{}", f.id, f.rule, subject_text(f), extensions);
      after_extensions[f.id] = rest;
    }
  }
  for (int p = 0; p <= 8; ++p) {
    for (const auto& c : report.causes) {
      if (c.database != database) {
        continue;
      }
      if (c.repair) {
        if (p == 7) {
          // One repair for the whole cause (bulk, with counts and checks) rather than per
          // finding.
          header(c);
          out << *c.repair;
        }
        continue;
      }
      bool started = false;
      for (const auto& id : c.findings) {
        const Finding& f = *by_id[id];
        if (!f.repair || (phase(f.rule) != p && !(f.rule == "drift.table-missing" && p == 5))) {
          continue;
        }
        auto split = after_extensions.find(f.id);
        if (split != after_extensions.end() && split->second.empty()) {
          continue;  // nothing but extensions, written above
        }
        std::string repair = split != after_extensions.end() ? split->second : *f.repair;
        if (f.rule == "drift.table-missing") {
          // Its foreign keys after every missing table was created (phase 5).
          auto [table, keys] = split_foreign_keys(repair);
          if (p == 1) {
            repair = table;
          } else if (keys.empty()) {
            continue;
          } else {
            repair = keys;
          }
        }
        if (auto c_form =
                f.rule == "drift.index-missing" ? concurrent_form(repair) : std::nullopt) {
          if (concurrent_introduced.insert(c.id).second) {
            concurrent << fmt::format("\n-- {}: {}\n", c.id, c.summary);
          }
          concurrent << fmt::format("-- {} {} {}\n{}\n", f.id, f.rule, subject_text(f), *c_form);
          continue;
        }
        if (!started) {
          header(c);
          started = true;
        }
        out << fmt::format("-- {} {} {}\n{}\n", f.id, f.rule, subject_text(f), repair);
      }
    }
  }
  // Causes with nothing to run still get their line: the script lists every cause.
  for (const auto& c : report.causes) {
    if (c.database == database && !introduced.count(c.id) && !concurrent_introduced.count(c.id)) {
      out << fmt::format("\n-- {}: {}\n", c.id, c.summary);
    }
  }
}

}  // namespace

namespace {

// The index builds of one part, after its COMMIT.
void write_concurrent(std::ostream& out, const std::string& builds) {
  if (builds.empty()) {
    return;
  }
  out << "\n-- Index builds, after the transaction: CREATE INDEX CONCURRENTLY cannot run inside\n"
         "-- one (run this script with psql's autocommit, not psql -1 / --single-transaction).\n"
         "-- It does not lock writes out while it builds. A build that fails leaves an INVALID\n"
         "-- index that IF NOT EXISTS then skips: verify.sql reports it; DROP INDEX CONCURRENTLY\n"
         "-- it and run the build again.\n"
      << builds;
}

// What the script came from: the inputs analysed, each with its SHA-256, and the order of
// its steps.
void write_repair_header(std::ostream& out, const Report& report) {
  out << "-- Repair script written by dbautopsy " << report.version << " for " << report.title
      << ".\n"
         "-- dbautopsy never runs it. Review every statement before you do: each is guarded so\n"
         "-- that running it twice changes nothing, but only you know which side of a drift is\n"
         "-- right. Lines starting with -- are advice, not SQL.\n";
  std::vector<const Input*> used;
  std::map<std::string, int> files_by_kind;  // many of a kind (migration files) by count
  for (const auto& in : report.inputs) {
    if (in.status == "failed" || in.status == "skipped") {
      continue;
    }
    if (in.kind == "django-migration-py" || in.kind == "django-sqlmigrate") {
      ++files_by_kind[in.kind];
    } else {
      used.push_back(&in);
    }
  }
  if (!used.empty() || !files_by_kind.empty()) {
    out << "--\n-- From these inputs (SHA-256, kind, path):\n";
    for (const Input* in : used) {
      out << fmt::format("--   {}  {}  {}{}\n", in->sha256, in->kind, in->path,
                         in->status == "ok" ? "" : " (" + in->status + ")");
    }
    for (const auto& [kind, n] : files_by_kind) {
      out << fmt::format("--   and {} inputs of kind {} (their hashes: report.json)\n", n, kind);
    }
  }
  out << "--\n-- Order: extensions created, tables moved to their schema, tables created, columns\n"
         "-- added and altered, indexes renamed, constraints added, then data repairs, in one\n"
         "-- transaction; index builds CONCURRENTLY after it.\n";
}

}  // namespace

void write_repair_script(std::ostream& out, const Report& raw) {
  // The comments name tables and files from the inputs: a line break in a name must not end
  // the comment (the rest would be SQL). The repairs quote names as PostgreSQL does.
  const Report report = displayable(raw);
  write_repair_header(out, report);
  std::ostringstream builds;
  if (report.databases.size() <= 1) {
    // One database that the dumps name (a pg_dumpall of one user database): the script
    // connects to it, as for several, never running in whatever database psql was given.
    if (report.databases.size() == 1 && report.databases[0].name) {
      out << "\n\\connect " << psql_connect_arg(*report.databases[0].name) << "\n";
    }
    out << "\nBEGIN;\n";
    write_repairs(out, builds, report, -1);
    out << "\nCOMMIT;\n";
    write_concurrent(out, builds.str());
    return;
  }
  // Several databases: one part each, in a transaction of its own. A part whose database the
  // dumps name connects to it (psql's \connect, as pg_dumpall's own script does); a part of a
  // database they do not name runs only when told which it is (psql -v), never against
  // whatever database the script happens to be run in.
  out << fmt::format("--\n-- The inputs show {} databases; each has its part below.\n",
                     report.databases.size());
  for (size_t i = 0; i < report.databases.size(); ++i) {
    const Database& d = report.databases[i];
    bool any = std::any_of(report.causes.begin(), report.causes.end(),
                           [&](const Cause& c) { return c.database == static_cast<int>(i); });
    out << fmt::format("\n-- Database {} of {}: {}{}\n", i + 1, report.databases.size(),
                       d.name ? d.label + ", " : "", dumps_text(d));
    if (!any) {
      out << "-- nothing found, nothing to repair\n";
      continue;
    }
    std::string var = fmt::format("repair_database_{}", i + 1);
    if (d.name) {
      out << "\\connect " << psql_connect_arg(*d.name) << "\n";
    } else {
      out << fmt::format(
          "-- The dumps do not name this database: run this part connected to it, with\n"
          "--   psql -v ON_ERROR_STOP=1 -v {}=1 -d DATABASE -f THIS_FILE\n"
          "-- (without -v {}=1 it is skipped).\n"
          "\\if :{{?{}}}\n",
          var, var, var);
    }
    out << "BEGIN;\n";
    write_repairs(out, builds, report, static_cast<int>(i));
    out << "\nCOMMIT;\n";
    write_concurrent(out, builds.str());
    builds.str("");
    if (!d.name) {
      out << "\\endif\n";
    }
  }
}

}  // namespace dbautopsy::reports
