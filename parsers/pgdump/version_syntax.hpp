// Syntax that dumps of other PostgreSQL versions contain and PostgreSQL 15's grammar (the
// one libpg_query embeds) rejects.
//
// Each entry recognises one construct in a statement that failed to parse, says in plain
// words why it failed, and recovers what can still be known: either a rewritten statement
// that PostgreSQL 15 parses to the same objects (GENERATED ... VIRTUAL of PostgreSQL 18
// becomes STORED, and the columns are then marked virtual), or the facts themselves
// (the language of a 7.x-era CREATE LANGUAGE). A statement no entry recognises stays a
// plain parse problem.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/facts.hpp"

namespace dbautopsy::pgdump {

struct Recovered {
  std::string explanation;                 // why PostgreSQL 15 rejects it, for the problem record
  std::string rewritten;                   // a statement to parse instead; empty when none
  std::vector<store::ObjectFact> objects;  // facts recovered without re-parsing
  // Columns of the rewritten CREATE TABLE that are really virtual generated columns:
  // (table name as written, column name).
  std::vector<std::pair<std::string, std::string>> virtual_columns;
};

std::optional<Recovered> recover_other_version(std::string_view statement);

}  // namespace dbautopsy::pgdump
