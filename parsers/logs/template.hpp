// What every log reader does to an entry once its fields are read: the message template
// (numbers, quoted strings and ids replaced, so that `relation "a" does not exist` and
// `relation "b" does not exist` share one), its hash, and the entities the entry names
// (relation, column, schema, sqlstate class, tables, ids and counts of ETL messages).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/facts.hpp"

namespace dbautopsy::logs {

// The message with the variable parts replaced by `?` ('?' and "?" for quoted strings), white
// space runs as one space, trimmed.
std::string message_template(std::string_view message);

// 16 hex digits of a 64-bit hash of a template.
std::string template_hash(std::string_view templ);

// Which numbers of a message are entities: every id and count (application and ETL logs,
// and the errors and warnings of PostgreSQL's), or only the counts of rows and records
// (PostgreSQL's routine LOG entries: statements, durations, connections, checkpoints,
// autovacuum reports, whose numbers name nothing a rule reads; a log of millions of
// statements would otherwise store tens of millions of entities).
enum class NumberEntities { all, row_counts };

// The entities a message (and its sqlstate, when known) names.
std::vector<store::LogEntityFact> message_entities(std::string_view message,
                                                   std::string_view sqlstate,
                                                   NumberEntities numbers = NumberEntities::all);

// The same with RE2 for every search, each run whatever the message holds: the reference
// the hand-written searches and the gates that skip searches are tested against.
std::vector<store::LogEntityFact> message_entities_re2(
    std::string_view message, std::string_view sqlstate,
    NumberEntities numbers = NumberEntities::all);

// Whether an event is a routine entry of PostgreSQL's own log (severity LOG in a pg-* format).
bool routine_server_entry(const store::LogEventFact& event);

// Fills template_text, template_hash (unless already set) and entities of an event.
void finish_event(store::LogEventFact& event);

}  // namespace dbautopsy::logs
