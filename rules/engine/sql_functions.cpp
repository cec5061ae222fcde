#include "rules/engine/sql_functions.hpp"

#include <sqlite3.h>

#include <string>

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
}

}  // namespace dbautopsy::rules
