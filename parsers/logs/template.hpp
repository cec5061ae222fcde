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

// The entities a message (and its sqlstate, when known) names.
std::vector<store::LogEntityFact> message_entities(std::string_view message,
                                                   std::string_view sqlstate);

// Fills template_text, template_hash (unless already set) and entities of an event.
void finish_event(store::LogEventFact& event);

}  // namespace dbautopsy::logs
