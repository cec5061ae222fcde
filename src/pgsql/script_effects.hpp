// Replaying a SQL script -- one migration's SQL, a RunSQL operation -- to learn what it does
// to a schema.
//
// Statements are split as psql splits them, parsed by libpg_query and applied to a catalog
// with implicit relations on (a table the script alters was made before it). A DO block
// is opened with libpg_query's PL/pgSQL parser: the SQL statements in its body are
// replayed too, and those under IF / CASE / loops are marked conditional (the incident's
// "IF NOT EXISTS (...) THEN ALTER TABLE ..." repair blocks). Dynamic SQL (EXECUTE of a
// string) cannot be known without running it and is reported as a problem.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pgsql/catalog.hpp"
#include "pgsql/ddl.hpp"

namespace dbautopsy::pgsql {

struct ScriptProblem {
  uint64_t line = 0;
  std::string severity;  // warning
  std::string code;      // sql-syntax, dynamic-sql, ...
  std::string message;
};

struct ScriptEffects {
  std::vector<Effect> effects;
  std::vector<ScriptProblem> problems;
  uint64_t statements = 0;
};

// Replays `script` (its first line is `first_line` of its file) against `catalog`.
ScriptEffects replay_script(std::string_view script, uint64_t first_line, Catalog& catalog,
                            Session& session);

// Folds each `fill` effect (UPDATE t SET c = v WHERE c IS NULL) into the SET NOT NULL of the
// same column that comes after it, as that effect's fill_value, and drops it: what a
// migration's effects keep is the alteration, with the value its NULLs get first. A fill
// that no SET NOT NULL follows changed rows only, and is dropped too.
void fold_fills(std::vector<Effect>& effects);

// A fresh catalog and session in which unqualified names resolve to k_search_path_schema.
void prepare_sentinel_session(Catalog& catalog, Session& session);

}  // namespace dbautopsy::pgsql
