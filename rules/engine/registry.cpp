#include "rules/engine/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "base/error.hpp"
#include "base/text.hpp"

namespace dbautopsy::rules {

struct EmbeddedFile {
  std::string_view path;
  std::string_view text;
};
extern const EmbeddedFile k_builtin_files[];
extern const size_t k_builtin_files_count;

namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

const std::set<std::string> k_option_kinds = {"names", "migrations", "number", "integer"};

// `NAME (KIND): what it does`
RuleOption parse_option(const std::string& text, const std::string& origin, int line) {
  RuleOption o;
  size_t open = text.find('(');
  size_t close = text.find(')', open == std::string::npos ? 0 : open);
  size_t colon = text.find(':', close == std::string::npos ? 0 : close);
  if (open != std::string::npos && close != std::string::npos && colon != std::string::npos) {
    o.name = trim(std::string_view(text).substr(0, open));
    o.kind = trim(std::string_view(text).substr(open + 1, close - open - 1));
    o.doc = trim(std::string_view(text).substr(colon + 1));
  }
  if (o.name.empty() || !k_option_kinds.count(o.kind) ||
      o.name.find_first_of(" \t.=") != std::string::npos) {
    throw Error(fmt::format(
        "rule {}, line {}: an option is declared `-- option: NAME (KIND): what it does`, KIND "
        "one of names, migrations, number, integer (not `{}`)",
        origin, line, text));
  }
  return o;
}

// A rule id as written, the way find_rule_as_written() compares it.
std::string id_key(std::string_view s) {
  std::string out = text::lower(text::trim(s));
  for (std::string_view prefix : {"./", "rules/"}) {
    if (out.starts_with(prefix)) {
      out.erase(0, prefix.size());
    }
  }
  for (std::string_view suffix : {".sql", ".md"}) {
    if (out.ends_with(suffix)) {
      out.erase(out.size() - suffix.size());
    }
  }
  for (char& c : out) {
    if (c == '_') {
      c = '-';
    } else if (c == '/' || c == '\\') {
      c = '.';
    }
  }
  return out;
}

}  // namespace

Rule parse_rule(const std::string& text, const std::string& origin) {
  Rule rule;
  rule.origin = origin;
  std::istringstream in(text);
  std::string line;
  std::string body;
  bool in_header = true;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view l(line);
    if (in_header && l.substr(0, 2) == "--") {
      std::string_view rest = l.substr(2);
      size_t colon = rest.find(':');
      if (colon != std::string_view::npos) {
        std::string key = trim(rest.substr(0, colon));
        std::string value = trim(rest.substr(colon + 1));
        if (key == "id") {
          rule.id = value;
        } else if (key == "severity") {
          rule.severity = value;
        } else if (key == "title") {
          rule.title = value;
        } else if (key == "rationale") {
          rule.rationale = value;
        } else if (key == "remedy") {
          rule.remedy = value;
        } else if (key == "option") {
          rule.options.push_back(parse_option(value, origin, number));
        }
      }
      continue;
    }
    in_header = false;
    body += line + "\n";
  }
  rule.sql = trim(body);
  while (!rule.sql.empty() && rule.sql.back() == ';') {
    rule.sql.pop_back();
  }
  std::vector<std::string> missing;
  if (rule.id.empty()) {
    missing.emplace_back("id");
  }
  if (rule.severity.empty()) {
    missing.emplace_back("severity");
  }
  if (rule.title.empty()) {
    missing.emplace_back("title");
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) {
      list += (list.empty() ? "" : ", ") + m;
    }
    throw Error(fmt::format("rule {}: its header lacks {} (lines `-- key: value` above the SELECT)",
                            origin, list));
  }
  static const std::set<std::string> k_severities = {"error", "warning", "info"};
  if (!k_severities.count(rule.severity)) {
    throw Error(
        fmt::format("rule {}: severity '{}' is not error, warning or info", origin, rule.severity));
  }
  if (rule.sql.empty()) {
    throw Error(fmt::format("rule {}: no SELECT after the header", origin));
  }
  return rule;
}

const std::vector<Rule>& builtin_rules() {
  static const std::vector<Rule> k_rules = [] {
    std::vector<Rule> rules;
    std::map<std::string, std::string> docs;
    for (size_t i = 0; i < k_builtin_files_count; ++i) {
      std::string path(k_builtin_files[i].path);
      if (path.size() > 3 && path.ends_with(".md")) {
        docs[path.substr(0, path.size() - 3)] = std::string(k_builtin_files[i].text);
      }
    }
    for (size_t i = 0; i < k_builtin_files_count; ++i) {
      std::string path(k_builtin_files[i].path);
      if (!path.ends_with(".sql")) {
        continue;
      }
      Rule rule = parse_rule(std::string(k_builtin_files[i].text), "built-in rules/" + path);
      rule.origin = "built-in";
      std::string stem = path.substr(0, path.size() - 4);
      // rules/<family>/<name>.sql must hold rule <family>.<name>.
      std::string expected = stem;
      std::replace(expected.begin(), expected.end(), '/', '.');
      if (rule.id != expected) {
        throw Error(fmt::format("built-in rule file rules/{} declares id {}", path, rule.id));
      }
      rule.doc = docs.count(stem) ? docs[stem] : std::string();
      rules.push_back(std::move(rule));
    }
    std::sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) { return a.id < b.id; });
    return rules;
  }();
  return k_rules;
}

std::vector<Rule> load_rules_dir(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw Error(fmt::format("--rules-dir {}: not a folder", dir.string()));
  }
  // Its subfolders too: rules kept as the built-in ones are (DIR/<family>/<name>.sql).
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".sql") {
      files.push_back(entry.path());
    }
  }
  if (files.empty()) {
    throw Error(fmt::format("--rules-dir {}: no rule in it (no .sql file, in it or its subfolders)",
                            dir.string()));
  }
  std::sort(files.begin(), files.end());
  std::vector<Rule> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    Rule rule = parse_rule(ss.str(), f.string());
    auto md = f;
    md.replace_extension(".md");
    if (std::filesystem::exists(md)) {
      std::ifstream din(md);
      std::stringstream ds;
      ds << din.rdbuf();
      rule.doc = ds.str();
    }
    out.push_back(std::move(rule));
  }
  return out;
}

const Rule* find_rule(const std::vector<Rule>& rules, const std::string& id) {
  for (const auto& r : rules) {
    if (r.id == id) {
      return &r;
    }
  }
  return nullptr;
}

const Rule* find_rule_as_written(const std::vector<Rule>& rules, std::string_view written) {
  if (const Rule* r = find_rule(rules, std::string(written))) {
    return r;
  }
  const std::string key = id_key(written);
  if (key.empty()) {
    return nullptr;
  }
  const Rule* by_name = nullptr;
  int names = 0;
  for (const auto& r : rules) {
    const std::string id = id_key(r.id);
    if (id == key) {
      return &r;
    }
    if (size_t dot = id.find('.'); dot != std::string::npos && id.substr(dot + 1) == key) {
      by_name = &r;
      ++names;
    }
  }
  return names == 1 ? by_name : nullptr;
}

}  // namespace dbautopsy::rules
