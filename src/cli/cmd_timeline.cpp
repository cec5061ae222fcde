// dbautopsy timeline: what happened when, from every input of a fact store (the timeline
// view: migrations recorded, log entries per template and hour, dumps taken).

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "base/error.hpp"
#include "cli/cli.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "rules/engine/sql_functions.hpp"
#include "store/store.hpp"

namespace dbautopsy::cli {

int cmd_timeline(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  std::string store_path;
  std::string format;
  std::string kind;
  visible.add_options()("store,s", po::value(&store_path)->default_value(default_store_path()),
                        "fact store to read (or the case folder `investigate` analysed)")(
      "format,f", po::value(&format)->default_value("table"), "table, csv or json")(
      "kind", po::value(&kind), "only rows of this kind: migration, log or dump");
  po::options_description hidden;
  po::positional_options_description positional;
  po::variables_map vm;
  if (!parse_args("timeline", "[--store F|DIR] [--kind migration|log|dump] [--format F]", args,
                  visible, hidden, positional, vm)) {
    return k_exit_ok;
  }
  format = choice("timeline: --format", format, {"table", "csv", "json"}, {{"text", "table"}});
  if (!kind.empty()) {
    kind = choice("timeline: --kind", kind, {"migration", "log", "dump"},
                  {{"migrations", "migration"}, {"logs", "log"}, {"dumps", "dump"}});
  }
  // A case folder stands for the store `investigate` keeps in it.
  store_path = store_file(store_path);
  store::Store store = store::Store::open(store_path, store::Store::Mode::read_only);
  rules::register_sql_functions(store);
  std::string sql = "SELECT ts, kind, what, count, last_ts, artifact, line FROM timeline" +
                    (kind.empty() ? std::string() : " WHERE kind = '" + kind + "'") +
                    " ORDER BY ts IS NULL, ts, kind, artifact, line";
  ResultSet rs = run_query(store, sql);
  print_result(std::cout, rs, format);
  return k_exit_ok;
}

}  // namespace dbautopsy::cli
