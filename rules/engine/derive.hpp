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
#include <set>
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

// One database the dumps show (a row of `subject`), and what belongs to it: its dumps (an
// artifact, and the database within it for a pg_dumpall), the exports of django_migrations
// that are its records, and whether the migration files apply to it.
struct Subject {
  int64_t id = 0;
  std::optional<std::string> database;
  std::string label;
  std::set<std::pair<int64_t, std::optional<std::string>>> dumps;
  std::set<int64_t> record_artifacts;  // exports outside any dump whose records are its own
  bool migration_files = true;
  size_t records = 0;  // distinct migrations its records name
};

// Groups the dumps into databases (writes `subject`): dumps of one database are those the
// evidence says are (the same name in a pg_dumpall; else most tables and columns in
// common), and --before / --after name two dumps of one database. Notes say how each group
// was made when there are several.
std::vector<Subject> derive_subjects(store::Store& store, const DeriveOptions& options,
                                     DeriveSummary& summary);

// Derives everything for one database (`scope`), or for every input at once (nullptr: one
// database).
DeriveSummary derive(store::Store& store, const DeriveOptions& options,
                     const Subject* scope = nullptr);

// The data half (derive_data.cpp): natural keys, reference columns, id remappings, orphans.
void derive_data(store::Store& store, const DeriveOptions& options, DeriveSummary& summary);

}  // namespace dbautopsy::rules
