// verify.sql: one check per finding whose repair is SQL, each a SELECT that returns a row
// (naming the finding) only while the fault is still there. Run after repair.sql: no rows
// means every repair held. Findings whose repair is advice only, or commented out (a DROP of
// what may hold data, a constraint the rows break), get their check commented out too.

#include <fmt/format.h>

#include "base/text.hpp"
#include "pgsql/names.hpp"
#include "reports/report.hpp"

namespace dbautopsy::reports {

namespace {

std::optional<std::string> subject(const Finding& f, const std::string& key) {
  for (const auto& [k, v] : f.subject) {
    if (k == key) {
      return v;
    }
  }
  return std::nullopt;
}

bool executable(const std::optional<std::string>& repair) {
  // Held back as a whole (a constraint the rows break: its repair may list them, but adds
  // nothing).
  if (!repair || repair->starts_with("-- NOT RUN")) {
    return false;
  }
  size_t start = 0;
  while (start < repair->size()) {
    size_t nl = repair->find('\n', start);
    std::string_view line(repair->data() + start,
                          (nl == std::string::npos ? repair->size() : nl) - start);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      line.remove_prefix(1);
    }
    if (!line.empty() && line.substr(0, 2) != "--") {
      return true;
    }
    start = nl == std::string::npos ? repair->size() : nl + 1;
  }
  return false;
}

// The condition under which the fault is still there, or nothing when no check applies.
std::optional<std::string> still_there(const Finding& f) {
  auto schema = subject(f, "schema").value_or("");
  auto table = subject(f, "table");
  auto regclass = [](const std::string& s, const std::string& n) {
    return fmt::format("to_regclass({})", pgsql::quote_literal_one_line(pgsql::qualified(s, n)));
  };
  if (f.rule == "drift.table-missing" && table) {
    return regclass(schema, *table) + " IS NULL";
  }
  if (f.rule == "drift.table-in-wrong-schema" && table && f.metrics &&
      f.metrics->contains("intended_schema") && (*f.metrics)["intended_schema"].is_string()) {
    return regclass((*f.metrics)["intended_schema"].get<std::string>(), *table) + " IS NULL";
  }
  if (f.rule == "drift.column-missing" && table && subject(f, "column")) {
    return fmt::format(
        "NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = {} AND attname = {} AND NOT "
        "attisdropped)",
        regclass(schema, *table), pgsql::quote_literal_one_line(*subject(f, "column")));
  }
  if (f.rule == "drift.index-missing" && subject(f, "index")) {
    // Missing, or left INVALID by a CREATE INDEX CONCURRENTLY that failed.
    return fmt::format(
        "NOT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = {}), false)",
        regclass(schema, *subject(f, "index")));
  }
  if (f.rule == "drift.constraint-missing" && table && subject(f, "constraint")) {
    return fmt::format(
        "NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = {} AND conrelid = {})",
        pgsql::quote_literal_one_line(*subject(f, "constraint")), regclass(schema, *table));
  }
  if (f.rule == "drift.not-removed" && table) {
    if (auto c = subject(f, "column")) {
      return fmt::format(
          "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = {} AND attname = {} AND NOT "
          "attisdropped)",
          regclass(schema, *table), pgsql::quote_literal_one_line(*c));
    }
    if (auto i = subject(f, "index")) {
      return regclass(schema, *i) + " IS NOT NULL";
    }
    if (auto k = subject(f, "constraint")) {
      return fmt::format(
          "EXISTS (SELECT 1 FROM pg_constraint WHERE conname = {} AND conrelid = {})",
          pgsql::quote_literal_one_line(*k), regclass(schema, *table));
    }
    return regclass(schema, *table) + " IS NOT NULL";
  }
  if (f.rule == "etl.orphaned-reference" && table && subject(f, "column") && subject(f, "value") &&
      subject(f, "suggested_value")) {
    // A row at an id the re-import gave to another parent: the value itself stays (other rows
    // move to it); the fault is that row holding it, which its repair's WHERE names (the row's
    // primary key and the old value).
    if (f.metrics && f.metrics->contains("misdirected") && f.repair &&
        f.repair->rfind("UPDATE ", 0) == 0) {
      size_t where = f.repair->rfind(" WHERE ");
      size_t end = f.repair->rfind(';');
      if (where != std::string::npos && end != std::string::npos && end > where) {
        return fmt::format("EXISTS (SELECT 1 FROM {} WHERE {})",
                           pgsql::qualified_one_line(schema, *table),
                           f.repair->substr(where + 7, end - where - 7));
      }
    }
    return fmt::format("EXISTS (SELECT 1 FROM {} WHERE {}::text = {})",
                       pgsql::qualified_one_line(schema, *table),
                       pgsql::quote_ident_one_line(*subject(f, "column")),
                       pgsql::quote_literal_one_line(*subject(f, "value")));
  }
  if (f.rule == "data.duplicate-rows" && table) {
    // The repair keeps one row per group in <table>_dedup.
    return regclass(schema, *table + "_dedup") + " IS NULL";
  }
  return std::nullopt;
}

}  // namespace

void write_verify_script(std::ostream& out, const Report& report) {
  out << "-- Checks written by dbautopsy " << report.version << " for "
      << text::printable(report.title)
      << ".\n"
         "-- Run after repair.sql: each SELECT returns a row naming its finding while that\n"
         "-- fault is still there, so no rows at all means every repair held. Read-only.\n"
         "-- Checks of repairs left commented out (review first) are commented out too.\n";
  std::map<std::string, const Finding*> by_id;
  for (const auto& f : report.findings) {
    by_id[f.id] = &f;
  }
  // The checks of the causes of one database (-1: the only one).
  auto checks = [&](int database) {
    std::string text;
    for (const auto& c : report.causes) {
      if (c.database != database) {
        continue;
      }
      bool header = false;
      for (const auto& id : c.findings) {
        const Finding& f = *by_id[id];
        auto condition = still_there(f);
        if (!condition) {
          continue;
        }
        if (!header) {
          text += fmt::format("\n-- {}: {}\n", c.id, text::printable(c.summary));
          header = true;
        }
        text += fmt::format("{}SELECT {} AS finding, {} AS rule, {} AS still WHERE {};\n",
                            executable(f.repair) ? "" : "-- ", pgsql::quote_literal_one_line(f.id),
                            pgsql::quote_literal_one_line(f.rule),
                            pgsql::quote_literal_one_line(f.message), *condition);
      }
    }
    return text;
  };
  if (report.databases.size() <= 1) {
    // One database that the dumps name (a pg_dumpall of one): reached as repair.sql does.
    std::string text = checks(-1);
    if (!text.empty() && report.databases.size() == 1 && report.databases[0].name) {
      out << "\\connect " << psql_connect_arg(*report.databases[0].name) << "\n";
    }
    out << text;
    return;
  }
  // Several databases (a pg_dumpall, unrelated dumps): each one's checks run in it, reached as
  // repair.sql reaches it -- \connect to a database the dumps name, and for one they do not
  // name, only under the same psql variable as its repair (never in whatever database the
  // script happens to be run in).
  for (size_t i = 0; i < report.databases.size(); ++i) {
    std::string text = checks(static_cast<int>(i));
    if (text.empty()) {
      continue;
    }
    const Database& d = report.databases[i];
    std::string var = fmt::format("repair_database_{}", i + 1);
    out << fmt::format("\n-- Database {} of {}: {}\n", i + 1, report.databases.size(),
                       text::printable(d.label));
    if (d.name) {
      out << "\\connect " << psql_connect_arg(*d.name) << "\n" << text;
    } else {
      out << fmt::format(
          "-- The dumps do not name this database: run these checks connected to it, with\n"
          "--   psql -v {}=1 -d DATABASE -f THIS_FILE\n"
          "\\if :{{?{}}}\n{}\\endif\n",
          var, var, text);
    }
  }
}

}  // namespace dbautopsy::reports
