// dbautopsy query: read-only SQL over a fact store.

#include <fmt/format.h>

#include <iostream>

#include "base/error.hpp"
#include "cli/cli.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "rules/engine/sql_functions.hpp"
#include "store/store.hpp"

namespace dbautopsy::cli {

int cmd_query(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  std::string store_path;
  std::string format;
  visible.add_options()("store,s", po::value(&store_path)->default_value(default_store_path()),
                        "fact store to read (or the case folder `investigate` analysed)")(
      "format,f", po::value(&format)->default_value("table"), "table, csv or json");
  po::options_description hidden;
  hidden.add_options()("sql", po::value<std::vector<std::string>>(), "query");
  po::positional_options_description positional;
  positional.add("sql", -1);
  po::variables_map vm;
  if (!parse_args("query", "[--store F] [--format table|csv|json] SQL", args, visible, hidden,
                  positional, vm)) {
    return k_exit_ok;
  }
  if (!vm.count("sql")) {
    throw UsageError("query: give the SQL to run, e.g. \"SELECT * FROM db_relation\"");
  }
  format = choice("query: --format", format, {"table", "csv", "json"}, {{"text", "table"}});
  std::string sql;
  for (const auto& part : vm["sql"].as<std::vector<std::string>>()) {
    sql += (sql.empty() ? "" : " ") + part;
  }
  store_path = store_file(store_path);
  store::Store store = store::Store::open(store_path, store::Store::Mode::read_only);
  rules::register_sql_functions(store);  // pg_ident, pg_name, pg_literal (and expected_ddl)
  ResultSet rs;
  try {
    rs = run_query(store, sql, true);  // ATTACH, writes, ... refused
  } catch (const Error& e) {
    // The SQL is the user's, and so is the mistake: SQLite's own words say what it is. The
    // command line itself was right, so no pointer to --help.
    std::cerr << fmt::format("dbautopsy: query: {}\n", e.what());
    return k_exit_error;
  }
  print_result(std::cout, rs, format);
  return k_exit_ok;
}

}  // namespace dbautopsy::cli
