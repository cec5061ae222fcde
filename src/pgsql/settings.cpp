#include "pgsql/settings.hpp"

#include "base/text.hpp"
#include "pgsql/names.hpp"

namespace dbautopsy::pgsql {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The value of a VariableSetStmt (ALTER ROLE / DATABASE ... SET, SET): for search_path each
// argument is one schema name verbatim (the lexer folded unquoted identifiers; a string
// constant names a schema exactly, as flatten_set_variable_args quotes it); any other
// parameter's value is its arguments, comma-separated.
void fill_value(const Json& set, store::SettingFact& out) {
  std::vector<std::string> values;
  for (const Json& a : field(set, "args")) {
    if (auto v = const_text(a)) {
      values.push_back(*v);
    }
  }
  if (out.name == "search_path") {
    out.value = search_path_text(values);
    out.schemas = Json(values).dump();
  } else {
    out.value = text::join(values, ", ");
  }
}

// scope, name, action and value of a VariableSetStmt body; false when it sets nothing this
// reads (SET TRANSACTION ..., SET TIME ZONE ... of a session).
bool read_set(const Json& set, store::SettingFact& out) {
  std::string kind = str(set, "kind");
  out.name = text::lower(str(set, "name"));
  if (kind == "VAR_SET_VALUE") {
    out.action = "set";
    fill_value(set, out);
  } else if (kind == "VAR_SET_DEFAULT" || kind == "VAR_RESET") {
    out.action = "reset";
  } else if (kind == "VAR_RESET_ALL") {
    out.action = "reset";
    out.name = "all";
  } else if (kind == "VAR_SET_CURRENT") {
    out.action = "set_from_current";
  } else {
    return false;
  }
  return !out.name.empty();
}

std::optional<std::string> role_of(const Json& spec, const std::optional<std::string>& user) {
  const Json& body = node_type(spec) == "RoleSpec" ? node_body(spec) : spec;
  std::string type = str(body, "roletype");
  if (type == "ROLESPEC_CSTRING") {
    return str(body, "rolename");
  }
  if (type == "ROLESPEC_CURRENT_USER" || type == "ROLESPEC_SESSION_USER" ||
      type == "ROLESPEC_CURRENT_ROLE") {
    return user;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<std::string>> split_identifier_list(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size() && is_space(s[i])) {
    ++i;
  }
  if (i == s.size()) {
    return out;  // an empty list
  }
  for (;;) {
    std::string name;
    if (s[i] == '"') {
      ++i;
      for (;;) {
        if (i >= s.size()) {
          return std::nullopt;  // unclosed quote
        }
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            name += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        name += s[i++];
      }
    } else {
      size_t start = i;
      while (i < s.size() && s[i] != ',' && !is_space(s[i])) {
        ++i;
      }
      if (i == start) {
        return std::nullopt;  // an empty element
      }
      name = text::lower(s.substr(start, i - start));
    }
    while (i < s.size() && is_space(s[i])) {
      ++i;
    }
    out.push_back(std::move(name));
    if (i == s.size()) {
      return out;
    }
    if (s[i] != ',') {
      return std::nullopt;
    }
    ++i;
    while (i < s.size() && is_space(s[i])) {
      ++i;
    }
    if (i == s.size()) {
      return std::nullopt;
    }
  }
}

std::string search_path_text(const std::vector<std::string>& schemas) {
  std::vector<std::string> quoted;
  quoted.reserve(schemas.size());
  for (const auto& s : schemas) {
    quoted.push_back(quote_ident_one_line(s));
  }
  return text::join(quoted, ", ");
}

bool may_set_search_path(std::string_view t) {
  auto find = [&](std::string_view word, size_t from) {
    for (size_t i = from; i + word.size() <= t.size(); ++i) {
      size_t k = 0;
      while (k < word.size() && text::ascii_lower(t[i + k]) == word[k]) {
        ++k;
      }
      if (k == word.size()) {
        return i;
      }
    }
    return std::string_view::npos;
  };
  if (find("search_path", 0) != std::string_view::npos) {
    return true;
  }
  for (size_t at = find("reset", 0); at != std::string_view::npos; at = find("reset", at + 5)) {
    size_t i = at + 5;
    while (i < t.size() && is_space(t[i])) {
      ++i;
    }
    if (i > at + 5 && find("all", i) == i) {
      return true;
    }
  }
  return false;
}

std::string statement_one_line(std::string_view t) {
  std::string out;
  bool space = false;
  for (char c : t) {
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c;
  }
  if (out.size() > 500) {
    size_t cut = 500;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    out.resize(cut);
    out += "...";
  }
  return text::printable(out);
}

std::vector<store::SettingFact> settings_of(const Json& stmt,
                                            const std::optional<std::string>& user) {
  std::vector<store::SettingFact> out;
  std::string_view type = node_type(stmt);
  const Json& s = node_body(stmt);
  store::SettingFact f;
  if (type == "AlterRoleSetStmt") {
    if (!read_set(field(s, "setstmt"), f)) {
      return out;
    }
    std::string database = str(s, "database");
    const Json& role = field(s, "role");
    if (!database.empty()) {
      f.database_name = database;
    }
    if (role.is_null()) {
      // ALTER ROLE ALL [IN DATABASE d]: every role; in one database, the database's setting.
      f.scope = database.empty() ? "all_roles" : "database";
    } else {
      f.role_name = role_of(role, user);
      f.scope = database.empty() ? "role" : "role_in_database";
    }
    out.push_back(std::move(f));
  } else if (type == "AlterDatabaseSetStmt") {
    if (!read_set(field(s, "setstmt"), f)) {
      return out;
    }
    f.scope = "database";
    f.database_name = str(s, "dbname");
    out.push_back(std::move(f));
  } else if (type == "VariableSetStmt") {
    if (!read_set(s, f) || (f.name != "search_path" && f.name != "all")) {
      return out;
    }
    f.scope = flag(s, "is_local") ? "transaction" : "session";
    out.push_back(std::move(f));
  } else if (type == "SelectStmt") {
    // SELECT set_config('search_path', 'a, b', is_local), each such call of the target list.
    for (const Json& t : field(s, "targetList")) {
      const Json& val = field(node_body(t), "val");
      if (node_type(val) != "FuncCall") {
        continue;
      }
      const Json& fc = node_body(val);
      auto fname = strings(field(fc, "funcname"));
      if (fname.empty() || fname.back() != "set_config" ||
          (fname.size() == 2 && fname.front() != "pg_catalog") || fname.size() > 2) {
        continue;
      }
      std::vector<std::optional<std::string>> args;
      for (const Json& a : field(fc, "args")) {
        args.push_back(const_text(a));
      }
      if (args.size() != 3 || !args[0] || !args[1] || text::lower(*args[0]) != "search_path") {
        continue;
      }
      auto schemas = split_identifier_list(*args[1]);
      if (!schemas) {
        continue;  // the server refuses it (invalid list syntax)
      }
      store::SettingFact g;
      g.name = "search_path";
      g.action = "set";
      g.value = search_path_text(*schemas);
      g.schemas = Json(*schemas).dump();
      g.scope = args[2] && (*args[2] == "true" || *args[2] == "t") ? "transaction" : "session";
      out.push_back(std::move(g));
    }
  }
  for (auto& g : out) {
    if (g.scope == "session" || g.scope == "transaction") {
      g.role_name = user;  // a session's own setting: of the entry's user
    }
  }
  return out;
}

}  // namespace dbautopsy::pgsql
