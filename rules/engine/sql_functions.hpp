// SQL functions that rules (built-in and --rules-dir) call to write PostgreSQL text safely:
//
//   pg_ident(name)          quote_ident(): teams_team, "Order Notes", "user"
//   pg_name(schema, name)   schema.name, each part through pg_ident (schema may be NULL)
//   pg_literal(value)       quote_literal(): '87189', 'O''Brien', E'a\\b'; NULL gives NULL
//   pg_name_literal(schema, name)
//                           pg_literal of schema.name as to_regclass() reads it
// pg_ident, pg_name and pg_literal write a name or text holding a control character (a line
// break, ESC) on one line: U&"a\\000ab", E'a\\x0ab' (so that a commented-out repair stays
// commented out).
//   utc_time(text)          a time as PostgreSQL, pg_dump or a log writes it, in UTC ISO 8601
//                           (2024-01-14T19:50:01.123Z); a time without a zone is taken as UTC;
//                           NULL when it is not a time (the timeline view uses it)
//
// Repair SQL built from names in a dump must go through them: a name needing quotes, or a
// value holding a quote, would otherwise make the script fail or do something else.
#pragma once

#include <string>

#include "store/store.hpp"

namespace dbautopsy::rules {

void register_sql_functions(store::Store& store);

// The singular of a table name's English plural, as the data rules and names_entity() read
// names: teams -> team, categories -> category, boxes -> box; "class" stays.
std::string singular(const std::string& s);

}  // namespace dbautopsy::rules
