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
  ingest [--store F] [--as KIND] PATH...
                       read artifacts (pg_dump files, plain or compressed) into a fact
                       store and print a summary of what they hold
  query --store F [--format table|csv|json] SQL
                       ask the fact store anything (read-only)

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
