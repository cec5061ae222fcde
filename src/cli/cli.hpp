// The dbautopsy command line. main() is `return dbautopsy::cli::run(argc, argv);`.
//
// Exit status: 0 success (no finding at or above --fail-on), 1 findings, 2 usage or input
// error. Errors go to stderr; results to stdout.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace dbautopsy::cli {

int run(int argc, char** argv);

// Subcommands; each gets the arguments after its name.
int cmd_ingest(const std::vector<std::string>& args);
int cmd_query(const std::vector<std::string>& args);
int cmd_timeline(const std::vector<std::string>& args);
int cmd_investigate(const std::vector<std::string>& args);
int cmd_analyze(const std::vector<std::string>& args);
int cmd_report(const std::vector<std::string>& args);
int cmd_rules(const std::vector<std::string>& args);
int cmd_explain(const std::vector<std::string>& args);
int cmd_batch(const std::vector<std::string>& args);
int cmd_batch_merge(const std::vector<std::string>& args);

constexpr int k_exit_ok = 0;
constexpr int k_exit_findings = 1;
constexpr int k_exit_error = 2;

std::string version();

}  // namespace dbautopsy::cli
