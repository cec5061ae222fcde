#include "rules/engine/sql_functions.hpp"

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/time.hpp"
#include "pgsql/names.hpp"

namespace dbautopsy::rules {

namespace {

std::string arg_text(sqlite3_value* v) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return p ? std::string(p, static_cast<size_t>(sqlite3_value_bytes(v))) : std::string();
}

void result(sqlite3_context* ctx, const std::string& s) {
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

void pg_ident(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  result(ctx, pgsql::quote_ident_one_line(arg_text(argv[0])));
}

void pg_name(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string schema =
      sqlite3_value_type(argv[0]) == SQLITE_NULL ? std::string() : arg_text(argv[0]);
  result(ctx, pgsql::qualified_one_line(schema, arg_text(argv[1])));
}

// The name as to_regclass() reads it: the literal of the double-quoted name (to_regclass does
// not read U&"..."), on one line.
void pg_name_literal(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string schema =
      sqlite3_value_type(argv[0]) == SQLITE_NULL ? std::string() : arg_text(argv[0]);
  result(ctx, pgsql::quote_literal_one_line(pgsql::qualified(schema, arg_text(argv[1]))));
}

void pg_literal(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  result(ctx, pgsql::quote_literal_one_line(arg_text(argv[0])));
}

void utc_time(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  if (auto iso = timeutil::to_iso_utc(arg_text(argv[0]), true)) {
    result(ctx, *iso);
  } else {
    sqlite3_result_null(ctx);
  }
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return s;
}

// names_entity(noun, name): 1 when the noun a log message puts before a number ("team 87018",
// "team_id=87018") names the rows of the table, or the rows the reference column points
// at, called `name`: teams, team, team_id, teams_id for the table teams; team_id and team
// for the column team_id (and for teamId, fk_team, team_fk). Bare "id" names any. Other nouns
// (attempt, retry, batch, rows, seconds) are no id of it. NULL when either is NULL.
void names_entity(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const std::string noun = lower(arg_text(argv[0]));
  const std::string name = lower(arg_text(argv[1]));
  if (noun.empty() || name.empty()) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  if (noun == "id" || noun == "ids") {
    sqlite3_result_int(ctx, 1);
    return;
  }
  std::string stem = name;
  if (stem.size() > 3 && stem.rfind("fk_", 0) == 0) {  // fk_team, team_fk: as team
    stem.erase(0, 3);
  } else if (stem.size() > 3 && stem.ends_with("_fk")) {
    stem.resize(stem.size() - 3);
  }
  if (stem.ends_with("_id")) {
    stem.resize(stem.size() - 3);
  } else if (stem.ends_with("id") && stem.size() > 2) {
    stem.resize(stem.size() - 2);
  }
  bool yes = false;
  for (const std::string& n : {name, singular(name), stem, singular(stem)}) {
    yes = yes || (!n.empty() && (noun == n || noun == n + "_id" || noun == n + "id"));
  }
  sqlite3_result_int(ctx, yes ? 1 : 0);
}

// log_stream(path): the log a file is part of, for files a rotation split: the path without a
// compression suffix (.gz .bz2 .xz .zst), without logrotate's number (etl.log.1), and with
// each date or time in the file name (a run of digits and - _ . : T holding at least four
// digits: postgresql-2026-12-05_000000.log) written as `#`, a date appended to the name
// (etl.log-20261205, etl.log.2026-12-05) left out. So etl.log.1, etl.log-20261205.gz and
// etl.log are one log, postgresql-2026-12-04_000000.log and
// postgresql-2026-12-05_000000.log another; app1.log and app2.log stay two. NULL for NULL.
void log_stream(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string path = arg_text(argv[0]);
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  for (const char* ext : {".gz", ".bz2", ".xz", ".zst"}) {
    if (name.ends_with(ext) && name.size() > std::string(ext).size()) {
      name.resize(name.size() - std::string(ext).size());
      break;
    }
  }
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t end = name.size();
  while (end > 0 && digit(name[end - 1])) {
    --end;
  }
  if (end < name.size() && end > 1 && name[end - 1] == '.' && name.size() - end <= 3) {
    name.resize(end - 1);  // etl.log.1, postgresql.log.12
  }
  std::string out;
  for (size_t i = 0; i < name.size();) {
    if (!digit(name[i])) {
      out += name[i++];
      continue;
    }
    size_t j = i;
    size_t last_digit = i;
    int digits = 0;
    while (j < name.size() &&
           (digit(name[j]) || std::string_view("-_.:T").find(name[j]) != std::string_view::npos)) {
      if (digit(name[j])) {
        ++digits;
        last_digit = j;
      } else if (j + 1 >= name.size() || (!digit(name[j + 1]))) {
        break;  // a separator not followed by a digit ends the run
      }
      ++j;
    }
    if (digits >= 4) {
      out += '#';
    } else {
      out.append(name, i, last_digit + 1 - i);
    }
    i = last_digit + 1;
  }
  // A date appended to the name (logrotate's dateext etl.log-20261205, Python's
  // TimedRotatingFileHandler etl.log.2026-12-05) marks a rotated part of etl.log.
  if (out.size() > 2 && out.back() == '#' &&
      std::string_view("-_.").find(out[out.size() - 2]) != std::string_view::npos) {
    out.resize(out.size() - 2);
  }
  result(ctx, dir + out);
}

void add(store::Store& store, const char* name, int args,
         void (*fn)(sqlite3_context*, int, sqlite3_value**)) {
  if (sqlite3_create_function(store.handle(), name, args,
                              SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr, fn,
                              nullptr, nullptr) != SQLITE_OK) {
    throw Error(std::string("cannot register SQL function ") + name);
  }
}

}  // namespace

void register_sql_functions(store::Store& store) {
  add(store, "pg_ident", 1, pg_ident);
  add(store, "pg_name", 2, pg_name);
  add(store, "pg_literal", 1, pg_literal);
  add(store, "pg_name_literal", 2, pg_name_literal);
  add(store, "utc_time", 1, utc_time);
  add(store, "names_entity", 2, names_entity);
  add(store, "log_stream", 1, log_stream);
}

std::string singular(const std::string& s) {
  if (s.ends_with("ies")) {
    return s.substr(0, s.size() - 3) + "y";
  }
  if (s.ends_with("ses") || s.ends_with("xes")) {
    return s.substr(0, s.size() - 2);
  }
  if (s.ends_with("s") && !s.ends_with("ss")) {
    return s.substr(0, s.size() - 1);
  }
  return s;
}

}  // namespace dbautopsy::rules
