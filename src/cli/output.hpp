// Printing rows: an aligned table for people, CSV and JSON for programs.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "base/text.hpp"
#include "store/store.hpp"

namespace dbautopsy::cli {

struct ResultSet {
  std::vector<std::string> columns;
  // Each cell is text, or nullopt for SQL NULL. `numeric[i]` says column i held numbers
  // in every non-NULL cell (right-aligned in tables, unquoted in JSON).
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::vector<bool> numeric;
};

// Runs a query (any statement that returns rows) and collects its result.
// `read_only`: the SQL is the user's, and may only read (see Store::prepare_read_only).
ResultSet run_query(store::Store& store, const std::string& sql, bool read_only = false);

void print_table(std::ostream& out, const ResultSet& rs);
void print_csv(std::ostream& out, const ResultSet& rs);
void print_json(std::ostream& out, const ResultSet& rs);
// print_csv, print_json or print_table, by name (csv, json, anything else: table).
void print_result(std::ostream& out, const ResultSet& rs, const std::string& format);

using text::thousands;

}  // namespace dbautopsy::cli
