// Rule options as a user writes them (`--option RULE.NAME=VALUE`), read into the rows of the
// rule_option table that the rules' SQL reads.
//
// The rule is found as find_rule_as_written() finds it; the option's name in any case, with
// `-` for `_`. A rule that declares its options (`-- option:` header lines) refuses a name it
// does not declare, and each value is read by its option's kind:
//   - names: a list (`,` or white space between names) of tables, `table` or `schema.table`,
//     glob patterns allowed; a part in double quotes is that name exactly (`"Orders*"` has no
//     pattern in it), a part without them matches without regard to case (PostgreSQL folds
//     unquoted names to lower case). Each becomes one GLOB pattern.
//   - migrations: a list of migrations as `manage.py migrate` takes them: `app.name`, or a
//     prefix of the name that only one migration file of the app has (`teams.0003`), or
//     `app` alone (all of it); also written `app:name`, `app name`, or as the file's path
//     (`teams/migrations/0003_x.py`). Glob patterns are kept as they are. A prefix two files
//     share is an error that names both, as Django's is.
//   - number, integer: one value (`2.5`, `1000`, `1e3` for an integer is 1000); anything else,
//     `2,5` included, is an error. Given twice, the last one holds.
// A names or migrations value that matches nothing the case holds is kept, and a note says so:
// nothing given is silently without effect. A rule read from --rules-dir that declares no
// options takes any name, its values split at commas as before.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rules/engine/registry.hpp"
#include "store/store.hpp"

namespace dbautopsy::rules {

struct OptionRow {
  std::string rule;
  std::string name;
  std::string value;
};

// Throws UsageError for an option no rule has, or a value its kind cannot read; `notes` gets
// one line per value that matches nothing in the store.
std::vector<OptionRow> resolve_rule_options(
    store::Store& store, const std::vector<Rule>& rules,
    const std::vector<std::pair<std::string, std::string>>& given, std::vector<std::string>& notes);

}  // namespace dbautopsy::rules
