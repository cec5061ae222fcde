// The settings a statement gives a role, a database or a session (db_setting): ALTER ROLE /
// ALTER USER ... [IN DATABASE d] SET / RESET, ALTER DATABASE ... SET / RESET, SET [SESSION |
// LOCAL] search_path, RESET search_path, RESET ALL and SELECT set_config('search_path', ...),
// read from libpg_query's parse tree.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgsql/parse.hpp"
#include "store/facts.hpp"

namespace dbautopsy::pgsql {

// What one statement (a node of a parse tree's "stmts": {"AlterRoleSetStmt": ...}) sets, with
// scope, role_name, database_name, name, action, value and schemas filled; the caller adds
// where it was read (source, line, db, ts, pid, statement). Role and database settings are
// returned for every parameter; a session's (SET, RESET, set_config) only for search_path and
// RESET ALL. A role written CURRENT_USER / SESSION_USER is `user` when given, else left NULL.
std::vector<store::SettingFact> settings_of(const Json& stmt,
                                            const std::optional<std::string>& user = std::nullopt);

// A list of identifiers as the server splits a search_path string (SplitIdentifierString):
// comma-separated, white space around each ignored, "quoted" names verbatim (with "" for "),
// others folded to lower case. Nothing when the string is not such a list (an empty element,
// an unclosed quote).
std::optional<std::vector<std::string>> split_identifier_list(std::string_view text);

// A search_path as SHOW shows it: each schema name quoted where it needs it, ", " between.
std::string search_path_text(const std::vector<std::string>& schemas);

// Whether a text may hold a statement settings_of() reads (it names search_path, or says
// RESET ALL), in any case: the cheap test before a log entry's statement is parsed.
bool may_set_search_path(std::string_view text);

// A statement on one line, as db_setting keeps it: white space runs as one space, trimmed, the
// first 500 bytes (cut at a character's start), and shown with text::printable.
std::string statement_one_line(std::string_view text);

}  // namespace dbautopsy::pgsql
