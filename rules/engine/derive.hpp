// The derived facts rules stand on, computed from the fact store before rules run.
//
//  - snapshots: which dumps show the same database state, which state is the latest
//    ("current") and which came before it;
//  - recorded migrations: every django_migrations row seen in any export, once, in the order
//    they were recorded (django_migrations.id, else the time, else the order read);
//  - the expected schema: the effects of the recorded migrations (from their sqlmigrate
//    output, else from their .py file) applied in that order -- creates, alters, renames and
//    drops -- into the objects the database should hold, each attributed to the migration
//    that created it and to every migration that intends it.
//
// All of it is replaced on every run; nothing here reads files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace dbautopsy::rules {

struct DeriveOptions {
  // Snapshot order given by the user (artifact paths); otherwise dump headers decide.
  std::optional<std::string> before;
  std::optional<std::string> after;
  // --natural-key table:col1,col2 (table or schema.table).
  std::map<std::string, std::vector<std::string>> natural_keys;
};

struct DeriveSummary {
  int snapshots = 0;
  int recorded_migrations = 0;
  int expected_objects = 0;
  std::string default_schema;
  std::vector<std::string> notes;  // how snapshots were ordered, ambiguities
};

DeriveSummary derive(store::Store& store, const DeriveOptions& options);

// The data half (derive_data.cpp): natural keys, reference columns, id remappings, orphans.
void derive_data(store::Store& store, const DeriveOptions& options, DeriveSummary& summary);

}  // namespace dbautopsy::rules
