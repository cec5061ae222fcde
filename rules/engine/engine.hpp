// Analysis: derive, run the rules, correlate findings into causes.
//
// `analyze` replaces every analysis table (snapshot ... cause) from the facts, so running it
// twice gives the same result, and it can be re-run over a store with other options. A
// built-in rule that fails is a defect of dbautopsy (an exception); a user rule that fails
// is reported with its file and the database's message, and the others still run.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "rules/engine/derive.hpp"
#include "rules/engine/registry.hpp"
#include "store/store.hpp"

namespace dbautopsy::rules {

struct AnalyzeOptions {
  DeriveOptions derive;
  std::vector<Rule> extra_rules;  // from --rules-dir
  // RULE.NAME=VALUE options; a comma-separated value becomes one rule_option row per item.
  std::vector<std::pair<std::string, std::string>> options;
};

struct AnalyzeSummary {
  DeriveSummary derived;
  int findings = 0;
  int causes = 0;
  std::map<std::string, int> by_severity;
  std::vector<std::string> rule_errors;  // user rules that failed
};

AnalyzeSummary analyze(store::Store& store, const AnalyzeOptions& options);

// All rules in effect: built-in plus extra.
std::vector<Rule> all_rules(const AnalyzeOptions& options);

// Groups findings into causes and writes cause rows and finding.cause_id (causes.cpp): the
// findings after `after_finding` (those of the database analysed), into causes numbered
// after the causes already written.
int correlate(store::Store& store, int64_t after_finding = 0);

}  // namespace dbautopsy::rules
