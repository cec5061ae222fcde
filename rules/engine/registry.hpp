// Rules: what they are and where they come from.
//
// A rule is one SQL file: a header of `-- key: value` lines (id, severity, title,
// rationale, remedy) above one SELECT over the fact store, whose columns name the finding's
// subject (schema, table, column, index, constraint, migration, row_id, value,
// suggested_value; `subject_` prefixes are accepted too), its message (required), and
// optionally evidence (a JSON array of {artifact, line, text}), metrics (a JSON object),
// repair (SQL text, never run) and cause_key (findings with the same key form one cause).
// Built-in rules live in rules/<family>/<name>.sql with their documentation in
// rules/<family>/<name>.md, compiled into the binary; users add their own with --rules-dir.
// A rule id is public: reports, suppressions and CI gates use it.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dbautopsy::rules {

// An option a rule reads from the rule_option table, declared in the rule's header as
// `-- option: NAME (KIND): what it does`. The kind says how a value given with
// `--option RULE.NAME=VALUE` is read (rules/engine/options.cpp): `names` (a list of table
// names or glob patterns, `table` or `schema.table`, matched without regard to case unless
// double-quoted), `migrations` (a list of `app.name`, as manage.py migrate takes them: a
// name's unique prefix, `app/migrations/name.py`, `app` for all of an app), `number` or
// `integer` (one value).
struct RuleOption {
  std::string name;
  std::string kind;
  std::string doc;
};

struct Rule {
  std::string id;        // family.name, e.g. drift.column-missing
  std::string severity;  // error, warning, info
  std::string title;
  std::string rationale;
  std::string remedy;
  std::string sql;
  std::string doc;     // Markdown: what it means, why it happens, how to repair, an example
  std::string origin;  // "built-in" or the file it was read from
  std::vector<RuleOption> options;
};

// The built-in rules, in id order. Throws Error if one is malformed (a build defect).
const std::vector<Rule>& builtin_rules();

// Parses one rule file's text; `origin` names it in errors. Throws Error with what is wrong.
Rule parse_rule(const std::string& text, const std::string& origin);

// Every *.sql file of a folder and its subfolders (DIR/<family>/<name>.sql as the built-in
// rules are kept), sorted by path. Throws Error when it holds none.
std::vector<Rule> load_rules_dir(const std::filesystem::path& dir);

const Rule* find_rule(const std::vector<Rule>& rules, const std::string& id);

// A rule named as a user may write it: its id (`drift.column-missing`) in any case, with `_`
// for `-`, as the path of its file (`drift/column-missing.sql`, `rules/drift/...`), or by the
// part after its family when no other rule has it (`column-missing`). Null when none is.
const Rule* find_rule_as_written(const std::vector<Rule>& rules, std::string_view written);

}  // namespace dbautopsy::rules
