#include "rules/engine/options.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <sqlite3.h>

#include "base/error.hpp"
#include "base/text.hpp"

namespace dbautopsy::rules {

namespace {

bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char other_case(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A')
                                : static_cast<char>(c - 'A' + 'a');
}

// A name taken literally as a GLOB pattern.
std::string glob_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[') {
      out += '[';
      out += c;
      out += ']';
    } else {
      out += c;
    }
  }
  return out;
}

// A GLOB pattern (SQLite's GLOB is case-sensitive) that matches without regard to ASCII case:
// each letter becomes [xX]; a bracket expression the user wrote gets the other case of its
// letters and letter ranges added.
std::string caseless_glob(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '[') {
      size_t close = s.find(']', i + 2);  // `[]...]`: a `]` first is part of the set
      if (close == std::string_view::npos) {
        out += std::string(s.substr(i));
        break;
      }
      std::string_view set = s.substr(i + 1, close - i - 1);
      std::string more;
      for (size_t k = 0; k < set.size(); ++k) {
        if (k + 2 < set.size() && set[k + 1] == '-' && is_letter(set[k]) && is_letter(set[k + 2])) {
          more += other_case(set[k]);
          more += '-';
          more += other_case(set[k + 2]);
          k += 2;
        } else if (is_letter(set[k])) {
          more += other_case(set[k]);
        }
      }
      out += '[';
      out += set;
      out += more;
      out += ']';
      i = close;
    } else if (is_letter(c)) {
      out += '[';
      out += c;
      out += other_case(c);
      out += ']';
    } else {
      out += c;
    }
  }
  return out;
}

bool has_glob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

std::string strip_single_quotes(std::string_view s) {
  s = text::trim(s);
  if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') {
    s = s.substr(1, s.size() - 2);
  }
  return std::string(s);
}

std::string option_name_key(std::string_view s) {
  std::string out = text::lower(text::trim(s));
  for (char& c : out) {
    if (c == '-') {
      c = '_';
    }
  }
  return out;
}

// One table pattern of a names option: `schema.table` or `table`, each part quoted (exact) or
// not (a pattern without regard to case).
std::string name_pattern(std::string_view item) {
  std::string out;
  for (std::string_view part : text::split_names(item, '.')) {
    std::string p = strip_single_quotes(part);
    if (!out.empty()) {
      out += '.';
    }
    if (!p.empty() && p.front() == '"') {
      out += glob_escape(text::unquote_name(p));
    } else {
      out += caseless_glob(p);
    }
  }
  return out;
}

struct MigrationName {
  std::string app;
  std::string name;  // empty: the whole app
};

// `app.name`, `app:name`, `app name`, `app/migrations/name.py`, `app`.
std::optional<MigrationName> migration_name(std::string item) {
  item = strip_single_quotes(item);
  for (char& c : item) {
    if (c == '\\') {
      c = '/';
    }
  }
  if (item.ends_with(".py")) {
    item.erase(item.size() - 3);
  }
  MigrationName m;
  if (item.find('/') != std::string::npos) {
    std::vector<std::string> parts;
    for (auto p : text::split(item, '/')) {
      if (!p.empty() && p != ".") {
        parts.emplace_back(p);
      }
    }
    if (parts.size() < 2) {
      return std::nullopt;
    }
    m.name = parts.back();
    size_t app_at = parts.size() - 2;
    if (parts[app_at] == "migrations" && app_at > 0) {
      --app_at;
    }
    m.app = parts[app_at];
    return m;
  }
  size_t sep = item.find_first_of(".: \t");
  m.app = std::string(text::trim(std::string_view(item).substr(0, sep)));
  if (sep != std::string::npos) {
    m.name = std::string(text::trim(std::string_view(item).substr(sep + 1)));
  }
  if (m.app.empty() || m.name.find_first_of(".: \t") != std::string::npos) {
    return std::nullopt;
  }
  return m;
}

// The items of a migrations value: parted at commas, and at white space between items that
// are each written with `.`, `:` or `/` (`teams.0003 users.0002`); `teams 0003` is one.
std::vector<std::string> migration_items(std::string_view value) {
  std::vector<std::string> out;
  for (std::string_view piece : text::split(value, ',')) {
    piece = text::trim(piece);
    if (piece.empty()) {
      continue;
    }
    std::vector<std::string_view> words;
    size_t i = 0;
    while (i < piece.size()) {
      size_t end = piece.find_first_of(" \t", i);
      std::string_view w = piece.substr(i, end == std::string_view::npos ? end : end - i);
      if (!w.empty()) {
        words.push_back(w);
      }
      if (end == std::string_view::npos) {
        break;
      }
      i = end + 1;
    }
    bool each_whole = words.size() > 1;
    for (auto w : words) {
      each_whole = each_whole && w.find_first_of(".:/") != std::string_view::npos;
    }
    if (each_whole) {
      out.insert(out.end(), words.begin(), words.end());
    } else {
      out.emplace_back(piece);
    }
  }
  return out;
}

// A number option's value, or an error saying what was expected.
std::string number_value(const std::string& key, std::string_view raw, bool integer) {
  std::string_view s = text::trim(raw);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  bool ok = !s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(v);
  if (ok && integer) {
    ok = v == std::floor(v) && std::fabs(v) < 9.0e15;
  }
  if (!ok) {
    throw UsageError(fmt::format(
        "--option {}={}: expected {}{}", key, raw, integer ? "a whole number" : "a number",
        s.find(',') != std::string_view::npos ? " (one value; a decimal point, not a comma)" : ""));
  }
  return integer ? fmt::format("{}", static_cast<int64_t>(v)) : fmt::format("{}", v);
}

class Resolver {
 public:
  Resolver(store::Store& store, std::vector<std::string>& notes) : m_store(store), m_notes(notes) {}

  std::vector<std::string> names(const std::string& key, std::string_view value) {
    if (!m_table) {
      m_table.emplace(m_store.prepare(
          "SELECT 1 FROM db_relation WHERE name GLOB ?1 OR schema_name || '.' || name GLOB ?1 "
          "LIMIT 1"));
    }
    std::vector<std::string> out;
    for (std::string_view item : text::split_name_list(value)) {
      std::string pattern = name_pattern(item);
      if (pattern.empty()) {
        continue;
      }
      m_table->bind(1, pattern);
      if (!m_table->step()) {
        m_notes.push_back(
            fmt::format("--option {}: `{}` names no table of this case", key, text::trim(item)));
      }
      m_table->reset();
      out.push_back(std::move(pattern));
    }
    return out;
  }

  std::vector<std::string> migrations(const std::string& key, std::string_view value) {
    std::vector<std::string> out;
    for (const std::string& item : migration_items(value)) {
      auto m = migration_name(item);
      if (!m) {
        throw UsageError(fmt::format(
            "--option {}={}: `{}` is not a migration (app.name, app.prefix, app, or the "
            "file's path app/migrations/name.py)",
            key, value, item));
      }
      out.push_back(resolve(key, item, *m));
    }
    return out;
  }

 private:
  // The case's migration files (app, name), read once.
  const std::vector<std::pair<std::string, std::string>>& files() {
    if (!m_files) {
      m_files.emplace();
      store::Statement st =
          m_store.prepare("SELECT DISTINCT app, name FROM migration ORDER BY 1, 2");
      while (st.step()) {
        m_files->emplace_back(st.get_text(0), st.get_text(1));
      }
      st.reset();
    }
    return *m_files;
  }

  std::string resolve(const std::string& key, const std::string& item, const MigrationName& m) {
    const auto& files = this->files();
    std::string app = m.app;
    if (!has_glob(app)) {
      bool exact = false;
      for (const auto& f : files) {
        exact = exact || f.first == app;
      }
      for (const auto& f : files) {
        if (!exact && text::iequals(f.first, app)) {
          app = f.first;
        }
      }
    }
    const std::string whole = app + "." + (m.name.empty() ? "*" : m.name);
    if (has_glob(whole)) {
      bool any = false;
      for (const auto& f : files) {
        any = any || sqlite3_strglob(whole.c_str(), (f.first + "." + f.second).c_str()) == 0;
      }
      if (!any) {
        m_notes.push_back(
            fmt::format("--option {}: `{}` names no migration file of this case", key, item));
      }
      return whole;
    }
    std::vector<std::string> prefixed;
    for (const auto& f : files) {
      if (f.first != app) {
        continue;
      }
      if (f.second == m.name) {
        return whole;
      }
      if (f.second.starts_with(m.name)) {
        prefixed.push_back(f.second);
      }
    }
    if (prefixed.size() == 1) {
      return app + "." + prefixed.front();
    }
    if (prefixed.size() > 1) {
      throw UsageError(fmt::format(
          "--option {}: more than one migration of {} starts with `{}` ({}): name it more fully",
          key, app, m.name, text::join(prefixed, ", ")));
    }
    m_notes.push_back(
        fmt::format("--option {}: `{}` names no migration file of this case", key, item));
    return whole;
  }

  store::Store& m_store;
  std::vector<std::string>& m_notes;
  std::optional<store::Statement> m_table;  // a table that a names pattern matches
  std::optional<std::vector<std::pair<std::string, std::string>>> m_files;
};

}  // namespace

std::vector<OptionRow> resolve_rule_options(
    store::Store& store, const std::vector<Rule>& rules,
    const std::vector<std::pair<std::string, std::string>>& given,
    std::vector<std::string>& notes) {
  std::vector<OptionRow> rows;
  // number and integer options: the last value given holds
  std::map<std::pair<std::string, std::string>, size_t> scalar_at;
  Resolver resolver(store, notes);
  for (const auto& [raw_key, value] : given) {
    const std::string key(text::trim(raw_key));
    size_t dot = key.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == key.size()) {
      throw UsageError(fmt::format("--option {}={}: name it RULE.OPTION=VALUE", key, value));
    }
    const Rule* rule = find_rule_as_written(rules, key.substr(0, dot));
    if (!rule) {
      throw UsageError(
          fmt::format("--option {}: no rule {} (see `dbautopsy rules`)", key, key.substr(0, dot)));
    }
    const std::string name = option_name_key(key.substr(dot + 1));
    const std::string shown = rule->id + "." + name;
    if (text::trim(value).empty()) {
      throw UsageError(fmt::format("--option {}=: no value", key));
    }
    const RuleOption* declared = nullptr;
    for (const auto& o : rule->options) {
      if (o.name == name) {
        declared = &o;
      }
    }
    if (!declared && (!rule->options.empty() || rule->origin == "built-in")) {
      std::vector<std::string> known;
      for (const auto& o : rule->options) {
        known.push_back(fmt::format("{} ({})", o.name, o.kind));
      }
      throw UsageError(
          known.empty()
              ? fmt::format("--option {}: rule {} takes no options", key, rule->id)
              : fmt::format("--option {}: rule {} has no option {}; its options: {} (`dbautopsy "
                            "explain {}`)",
                            key, rule->id, name, text::join(known, ", "), rule->id));
    }
    std::vector<std::string> values;
    if (!declared) {
      for (auto item : text::split(value, ',')) {
        if (auto t = text::trim(item); !t.empty()) {
          values.emplace_back(t);
        }
      }
    } else if (declared->kind == "names") {
      values = resolver.names(shown, value);
    } else if (declared->kind == "migrations") {
      values = resolver.migrations(shown, value);
    } else {
      std::string v = number_value(key, value, declared->kind == "integer");
      auto at = scalar_at.find({rule->id, name});
      if (at != scalar_at.end()) {
        rows[at->second].value = v;
        continue;
      }
      scalar_at[{rule->id, name}] = rows.size();
      values.push_back(std::move(v));
    }
    for (auto& v : values) {
      rows.push_back({rule->id, name, std::move(v)});
    }
  }
  return rows;
}

}  // namespace dbautopsy::rules
