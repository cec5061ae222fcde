// libpg_query, the PostgreSQL 15 parser as a library, behind a small C++ surface.
//
// parse() returns the raw parse tree as JSON (libpg_query's JSON output: node type names
// as keys, fields that are zero, false or empty omitted). The helpers below read that
// shape without scattering string keys and null checks through the callers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbautopsy::pgsql {

using Json = nlohmann::json;

struct ParseError {
  std::string message;
  int cursor = 0;  // 1-based character position in the statement, 0 when unknown
};

struct ParseResult {
  Json tree;                        // {"version":..., "stmts":[...]}, when ok
  std::optional<ParseError> error;  // set when the parser rejected the text
  bool ok() const { return !error; }
};

ParseResult parse(std::string_view sql);

// pg_query_parse_plpgsql: the PL/pgSQL body of a CREATE FUNCTION statement as JSON.
ParseResult parse_plpgsql(std::string_view create_function_sql);

// --- reading the JSON tree -------------------------------------------------------------

// The single key of a node object ({"CreateStmt": {...}} -> "CreateStmt"), or "".
std::string_view node_type(const Json& node);
// The body of a node: {"CreateStmt": body} -> body; a non-node object is returned as is.
const Json& node_body(const Json& node);
// Field access that treats an absent field as empty / zero / false.
const Json& field(const Json& obj, std::string_view key);  // null Json when absent
std::string str(const Json& obj, std::string_view key);
int64_t num(const Json& obj, std::string_view key, int64_t fallback = 0);
bool flag(const Json& obj, std::string_view key);
// The strings of a list of String nodes ([{"String":{"sval":"a"}}, ...]).
std::vector<std::string> strings(const Json& list);
// The smallest "location" anywhere in a subtree (-1 when none).
int min_location(const Json& node);
// An integer or string constant (A_Const, Integer, String, Float) as text, or nullopt.
std::optional<std::string> const_text(const Json& node);

}  // namespace dbautopsy::pgsql
