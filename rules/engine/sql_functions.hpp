// SQL functions that rules (built-in and --rules-dir) call to write PostgreSQL text safely:
//
//   pg_ident(name)          quote_ident(): teams_team, "Order Notes", "user"
//   pg_name(schema, name)   schema.name, each part through pg_ident (schema may be NULL)
//   pg_literal(value)       quote_literal(): '87189', 'O''Brien', E'a\\b'; NULL gives NULL
//   utc_time(text)          a time as PostgreSQL, pg_dump or a log writes it, in UTC ISO 8601
//                           (2024-01-14T19:50:01.123Z); a time without a zone is taken as UTC;
//                           NULL when it is not a time (the timeline view uses it)
//
// Repair SQL built from names in a dump must go through them: a name needing quotes, or a
// value holding a quote, would otherwise make the script fail or do something else.
#pragma once

#include "store/store.hpp"

namespace dbautopsy::rules {

void register_sql_functions(store::Store& store);

}  // namespace dbautopsy::rules
