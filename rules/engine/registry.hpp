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
#include <vector>

namespace dbautopsy::rules {

struct Rule {
  std::string id;        // family.name, e.g. drift.column-missing
  std::string severity;  // error, warning, info
  std::string title;
  std::string rationale;
  std::string remedy;
  std::string sql;
  std::string doc;     // Markdown: what it means, why it happens, how to repair, an example
  std::string origin;  // "built-in" or the file it was read from
};

// The built-in rules, in id order. Throws Error if one is malformed (a build defect).
const std::vector<Rule>& builtin_rules();

// Parses one rule file's text; `origin` names it in errors. Throws Error with what is wrong.
Rule parse_rule(const std::string& text, const std::string& origin);

// Every *.sql file of a folder and its subfolders (DIR/<family>/<name>.sql as the built-in
// rules are kept), sorted by path. Throws Error when it holds none.
std::vector<Rule> load_rules_dir(const std::filesystem::path& dir);

const Rule* find_rule(const std::vector<Rule>& rules, const std::string& id);

}  // namespace dbautopsy::rules
