#include "django/sqlmigrate.hpp"

#include <re2/re2.h>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/text.hpp"
#include "pgsql/script_effects.hpp"

namespace dbautopsy::django {

namespace fs = std::filesystem;

namespace {

// A compressed output (teams.0001_initial.sql.gz, 0001_INITIAL.SQL.GZ) is named without its
// compression suffix.
fs::path without_codec_suffix(const fs::path& path) {
  fs::path named = path;
  for (const char* suffix : {".gz", ".bz2", ".xz", ".zst"}) {
    if (text::iequals(named.extension().string(), suffix)) {
      named.replace_extension();
      break;
    }
  }
  return named;
}

// Whether the file is named .sql (in any case), under any compression suffix.
bool sql_named(const fs::path& path) {
  return text::iequals(without_codec_suffix(path).extension().string(), ".sql");
}

}  // namespace

std::optional<std::pair<std::string, std::string>> migration_from_path(const fs::path& path) {
  static const RE2 k_name(R"(^(\d{4}[A-Za-z0-9_]*)$)");
  static const RE2 k_dotted(R"(^([A-Za-z_][A-Za-z0-9_]*)\.(\d{4}[A-Za-z0-9_]*)$)");
  std::string stem = without_codec_suffix(path).stem().string();
  std::string app;
  std::string name;
  if (RE2::FullMatch(stem, k_dotted, &app, &name)) {
    return std::make_pair(app, name);
  }
  if (RE2::FullMatch(stem, k_name, &name) && path.has_parent_path()) {
    fs::path parent = path.parent_path();
    app = parent.filename().string();
    if (app == "migrations" && parent.has_parent_path()) {
      app = parent.parent_path().filename().string();  // <app>/migrations/<name>.py
    }
    if (!app.empty() && app != "sqlmigrate" && app != ".") {
      return std::make_pair(app, name);
    }
  }
  return std::nullopt;
}

int sniff_sqlmigrate(std::string_view head, const fs::path& path) {
  if (head.find('\0') != std::string_view::npos ||
      head.find("-- PostgreSQL database dump") != std::string_view::npos) {
    return 0;
  }
  // Django's comments: "-- Create model X", "-- Add field y to x", "-- Raw SQL operation".
  static const RE2 k_django_comment(
      R"((?m)^--\s*(Create model|Add field|Alter field|Remove field|Rename field|Rename model|Delete model|Create index|Remove index|Create constraint|Remove constraint|Alter unique_together|Alter index_together|Raw SQL operation|Raw Python operation|Alter Django model managers|Custom state/database change combination|Change Meta options|Rename table|Add index|Add constraint))");
  bool django = RE2::PartialMatch(head, k_django_comment);
  bool named = migration_from_path(path).has_value();
  std::string_view start = text::trim(head);
  if (django && named) {
    return 90;
  }
  if (django) {
    return 70;
  }
  if (named && text::istarts_with(start, "begin;") && sql_named(path)) {
    return 65;
  }
  // Its comments stripped (`grep -v '^--'`) from a migration that is not atomic (no BEGIN;):
  // bare SQL, which a file named for a migration holds as that migration's (above a dump
  // without its header, which would make a snapshot of each migration's tables).
  // Not a dump stripped of its comments whose name starts with four digits (20240114_prod.sql):
  // what only pg_dump writes (its SET preamble, COPY ... FROM stdin, OWNER TO) says which.
  static const RE2 k_dump_marks(
      R"((?mi)^(SET\s+\w+\s*(=|TO)|SELECT\s+pg_catalog\.set_config|COPY\s.*\sFROM\s+stdin\s*;|ALTER\s.*\sOWNER\s+TO\s))");
  if (named && !start.empty() && sql_named(path) && !RE2::PartialMatch(head, k_dump_marks)) {
    return 62;
  }
  // A migration without DDL: sqlmigrate prints nothing (Django says "No operations found."
  // on stderr), so its file is empty; in a sqlmigrate/ folder it still names a migration.
  if (named && start.empty() && sql_named(path)) {
    return 60;
  }
  return 0;
}

namespace {

// Django wraps an atomic migration's SQL in BEGIN; ... COMMIT;. An output that begins with
// BEGIN; and does not end with COMMIT; was cut short: the last line (number and text).
std::optional<std::pair<uint64_t, std::string>> cut_short(std::string_view script) {
  std::string_view body = text::trim(script);
  if (!text::istarts_with(body, "begin;")) {
    return std::nullopt;
  }
  size_t end = body.size();
  while (end > 0) {
    size_t start = body.rfind('\n', end - 1);
    start = start == std::string_view::npos ? 0 : start + 1;
    std::string_view last = text::trim(body.substr(start, end - start));
    if (!last.empty() && !text::istarts_with(last, "--")) {
      if (text::iequals(last, "commit;")) {
        return std::nullopt;
      }
      break;
    }
    end = start == 0 ? 0 : start - 1;
  }
  size_t offset = static_cast<size_t>(body.data() - script.data()) + body.size();
  uint64_t line = 1;
  for (size_t i = 0; i < offset; ++i) {
    line += script[i] == '\n';
  }
  size_t line_start = body.rfind('\n');
  std::string_view last =
      body.substr(line_start == std::string_view::npos ? 0 : line_start + 1).substr(0, 200);
  return std::make_pair(line, std::string(last));
}

}  // namespace

store::MigrationEffectFact effect_fact(const std::string& app, const std::string& name,
                                       const pgsql::Effect& e, int64_t seq, const char* source) {
  auto schema = [](const std::string& s) -> std::optional<std::string> {
    if (s.empty() || s == pgsql::k_search_path_schema) {
      return std::nullopt;
    }
    return s;
  };
  auto given = [](const std::string& s) -> std::optional<std::string> {
    if (s.empty()) {
      return std::nullopt;
    }
    return s;
  };
  store::MigrationEffectFact f;
  if (e.line > 0) {
    f.line = static_cast<int64_t>(e.line);
  }
  f.app = app;
  f.migration = name;
  f.seq = seq;
  f.action = e.action;
  f.object = e.object;
  f.schema_name = schema(e.schema);
  f.table_name = given(e.table);
  f.name = e.name;
  f.new_name = given(e.new_name);
  f.type = given(e.type);
  // A type the migration names without a schema (an extension's citext, hstore, ...) is the
  // one its search_path finds: unqualified, as the migration wrote it.
  if (const std::string prefix = fmt::format("\"{}\".", pgsql::k_search_path_schema);
      f.type && f.type->starts_with(prefix)) {
    f.type = f.type->substr(prefix.size());
  }
  if (e.not_null) {
    f.not_null = *e.not_null ? 1 : 0;
  }
  f.default_expr = e.default_expr;
  f.fill_value = e.fill_value;
  f.kind = given(e.kind);
  f.columns = given(e.columns);
  if (!e.ref_table.empty()) {
    f.ref_table = e.ref_table;
    f.ref_schema = schema(e.ref_schema);
  }
  f.definition = given(e.definition);
  f.predicate = given(e.predicate);
  f.conditional = e.conditional;
  f.source = source;
  return f;
}

SqlmigrateSummary read_sqlmigrate(io::InputStream& in, store::FactWriter& out) {
  SqlmigrateSummary summary;
  auto id = migration_from_path(in.path());
  // The whole file: sqlmigrate outputs are small (capped all the same).
  constexpr size_t k_cap = 64u << 20;
  std::string script;
  std::string buf(1 << 16, '\0');
  for (;;) {
    size_t got = in.read(buf.data(), buf.size());
    if (got == 0) {
      break;
    }
    if (script.size() + got > k_cap) {
      throw InputError(Location{in.display_name(), std::nullopt, script.size()},
                       "a sqlmigrate output larger than 64 MiB: not read");
    }
    script.append(buf.data(), got);
  }
  if (!id) {
    store::ProblemFact p;
    p.line = 1;
    p.severity = "error";
    p.code = "unnamed-migration";
    p.message =
        "cannot tell which migration this sqlmigrate output is: name the file "
        "<app>/<migration>.sql or <app>.<migration>.sql";
    out.add(p);
    return summary;
  }
  const auto& [app, name] = *id;
  store::MigrationFact m;
  m.line = 1;
  m.app = app;
  m.name = name;
  m.source = "sqlmigrate";
  out.add(m);

  pgsql::Catalog catalog;
  pgsql::Session session;
  pgsql::prepare_sentinel_session(catalog, session);
  pgsql::ScriptEffects replay = pgsql::replay_script(script, 1, catalog, session);
  pgsql::fold_fills(replay.effects);
  summary.statements = replay.statements;
  int64_t seq = 0;
  for (const pgsql::Effect& e : replay.effects) {
    out.add(effect_fact(app, name, e, seq++, "sqlmigrate"));
    ++summary.effects;
  }
  for (const auto& p : replay.problems) {
    store::ProblemFact pf;
    pf.line = static_cast<int64_t>(p.line);
    pf.severity = p.severity;
    pf.code = p.code;
    pf.message = p.message;
    if (p.code == "sql-syntax") {
      // A statement of the migration that cannot be read: what it does is unknown, so the
      // migration's effects are incomplete (the artifact is partial).
      pf.severity = "error";
      pf.message = fmt::format(
          "{}; expected SQL that PostgreSQL 15 accepts, as sqlmigrate prints it: what this "
          "statement does is not known, the other statements of {}.{} were read",
          p.message, app, name);
    }
    out.add(pf);
  }
  if (auto cut = cut_short(script)) {
    store::ProblemFact pf;
    pf.line = static_cast<int64_t>(cut->first);
    pf.severity = "error";
    pf.code = "truncated";
    pf.message = fmt::format(
        "the output ends at line {} without the COMMIT; that closes its BEGIN; (expected "
        "sqlmigrate's whole output): it was cut short, and what follows line {} is not known",
        cut->first, cut->first);
    pf.snippet = cut->second;
    out.add(pf);
  }
  return summary;
}

}  // namespace dbautopsy::django
