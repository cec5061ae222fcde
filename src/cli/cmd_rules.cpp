// dbautopsy rules / explain: what the rules are and what each one means.

#include <fmt/format.h>

#include <iostream>

#include "base/error.hpp"
#include "cli/cli.hpp"
#include "cli/options.hpp"
#include "rules/engine/engine.hpp"

namespace dbautopsy::cli {

int cmd_rules(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  std::vector<std::string> dirs;
  visible.add_options()("rules-dir", po::value(&dirs)->composing(),
                        "include the SQL rules of this folder");
  po::options_description hidden;
  po::positional_options_description positional;
  po::variables_map vm;
  if (!parse_args("rules", "[--rules-dir DIR]", args, visible, hidden, positional, vm)) {
    return k_exit_ok;
  }
  rules::AnalyzeOptions options;
  for (const auto& d : dirs) {
    auto more = rules::load_rules_dir(d);
    options.extra_rules.insert(options.extra_rules.end(), more.begin(), more.end());
  }
  for (const auto& r : rules::all_rules(options)) {
    std::cout << fmt::format("{:<30} {:<8} {}{}\n", r.id, r.severity, r.title,
                             r.origin == "built-in" ? "" : "  [" + r.origin + "]");
  }
  return k_exit_ok;
}

int cmd_explain(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  std::vector<std::string> dirs;
  bool sql = false;
  visible.add_options()("rules-dir", po::value(&dirs)->composing(),
                        "include the SQL rules of this folder")("sql", po::bool_switch(&sql),
                                                                "also print the rule's query");
  po::options_description hidden;
  hidden.add_options()("rule", po::value<std::string>(), "rule id");
  po::positional_options_description positional;
  positional.add("rule", 1);
  po::variables_map vm;
  if (!parse_args("explain", "RULE [--sql]", args, visible, hidden, positional, vm)) {
    return k_exit_ok;
  }
  if (!vm.count("rule")) {
    throw UsageError("explain: name a rule (see `dbautopsy rules`)");
  }
  rules::AnalyzeOptions options;
  for (const auto& d : dirs) {
    auto more = rules::load_rules_dir(d);
    options.extra_rules.insert(options.extra_rules.end(), more.begin(), more.end());
  }
  auto all = rules::all_rules(options);
  const std::string id = vm["rule"].as<std::string>();
  const rules::Rule* rule = rules::find_rule_as_written(all, id);
  if (!rule) {
    throw UsageError(fmt::format("explain: no rule {} (see `dbautopsy rules`)", id));
  }
  std::cout << fmt::format("{}  ({})\n{}\n\n", rule->id, rule->severity, rule->title);
  if (!rule->doc.empty()) {
    std::cout << rule->doc;
    if (rule->doc.back() != '\n') {
      std::cout << "\n";
    }
  } else {
    std::cout << "Why it matters: " << rule->rationale << "\n\nHow to repair: " << rule->remedy
              << "\n";
    for (size_t i = 0; i < rule->options.size(); ++i) {
      const auto& o = rule->options[i];
      std::cout << (i == 0 ? "\nOptions:\n" : "")
                << fmt::format("  --option {}.{}=VALUE  ({}) {}\n", rule->id, o.name, o.kind,
                               o.doc);
    }
  }
  if (sql) {
    std::cout << "\nQuery (" << rule->origin << "):\n" << rule->sql << "\n";
  }
  return k_exit_ok;
}

}  // namespace dbautopsy::cli
