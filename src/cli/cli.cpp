#include "cli/cli.hpp"

#include <fmt/format.h>

#include <iostream>

#include "base/error.hpp"

#ifndef DBAUTOPSY_VERSION
#define DBAUTOPSY_VERSION "0.0.0"
#endif

namespace dbautopsy::cli {

namespace {

constexpr const char* k_usage = R"(dbautopsy: offline forensics for database incidents

Usage: dbautopsy COMMAND [OPTIONS] [ARGS]

Commands:
  investigate DIR|FILE|PATH...
                       the main job: read every artifact of a case folder (dumps,
                       django_migrations exports, migrations, sqlmigrate and showmigrations
                       outputs, PostgreSQL / application / ETL logs), of an archive of one
                       (case.zip, case.tar.gz), of one file or of several paths, analyse,
                       and report findings grouped by root cause (--out DIR: every report)
  ingest [--store F] [--as KIND] PATH...
                       read artifacts into a fact store and summarise what they hold
  analyze [--store F]  derive the expected schema and run the rules over a store
  report [--store F] [--format text|json|md|html|sql|sarif]
                       print the findings of an analysed store (sql: the repair script)
  query --store F [--format table|csv|json] SQL
                       ask the fact store anything (read-only)
  timeline [--store F|DIR] [--kind migration|log|dump]
                       what happened when: migrations recorded, log entries per
                       message template and hour, dumps taken (UTC)
  batch CASES_DIR... --out OUT [--jobs N] [--shard K/N] [--force]
                       investigate every case (each subfolder or archive of CASES_DIR) into
                       OUT/<case>/, N at once, skipping unchanged cases; OUT/index.html
                       and index.json list them all and the findings that recur
  batch-merge OUT... --out MERGED
                       one index from the outputs of `batch --shard K/N` runs
  rules                list the rules
  explain RULE         what a rule means, why it happens, how to repair it

Options:
  -h, --help           this text; `dbautopsy COMMAND --help` for a command's options
  -V, --version        the version

Exit status: 0 success, 1 findings at or above --fail-on, 2 usage or input error.
dbautopsy never connects to a database server and never writes outside its store.
)";

}  // namespace

std::string version() {
  return DBAUTOPSY_VERSION;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << k_usage;
    return k_exit_error;
  }
  const std::string command = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "-h" || command == "--help" || command == "help") {
      std::cout << k_usage;
      return k_exit_ok;
    }
    if (command == "-V" || command == "--version") {
      std::cout << "dbautopsy " << version() << "\n";
      return k_exit_ok;
    }
    if (command == "ingest") {
      return cmd_ingest(rest);
    }
    if (command == "query") {
      return cmd_query(rest);
    }
    if (command == "investigate") {
      return cmd_investigate(rest);
    }
    if (command == "analyze" || command == "analyse") {
      return cmd_analyze(rest);
    }
    if (command == "report") {
      return cmd_report(rest);
    }
    if (command == "timeline") {
      return cmd_timeline(rest);
    }
    if (command == "batch") {
      return cmd_batch(rest);
    }
    if (command == "batch-merge") {
      return cmd_batch_merge(rest);
    }
    if (command == "rules") {
      return cmd_rules(rest);
    }
    if (command == "explain") {
      return cmd_explain(rest);
    }
    throw UsageError(fmt::format("unknown command '{}'", command));
  } catch (const UsageError& e) {
    std::cerr << "dbautopsy: " << e.what() << "\n(see `dbautopsy --help`)\n";
    return k_exit_error;
  } catch (const Error& e) {
    std::cerr << "dbautopsy: error: " << e.what() << "\n";
    return k_exit_error;
  } catch (const std::exception& e) {
    std::cerr << "dbautopsy: internal error: " << e.what() << "\n";
    return k_exit_error;
  }
}

}  // namespace dbautopsy::cli
