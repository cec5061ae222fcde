// PostgreSQL's log words in the other languages of its message catalogue. A server with
// lc_messages = 'de_DE.UTF-8' writes `FEHLER:  Relation »x« existiert nicht` where one in
// English writes `ERROR:  relation "x" does not exist`, and `TIPP:` for `HINT:`. The words and
// messages are PostgreSQL 15's own translations (pg_translations.inc, written by
// scripts/pg_translations.py from the server package's catalogues).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dbautopsy::logs {

// A severity or line label written in another language.
struct TranslatedWord {
  std::string_view language;  // de, fr, ru, ...
  std::string_view text;      // as written, up to its ':' (French `ASTUCE ` keeps its space)
  std::string_view english;   // PostgreSQL's English word: ERROR, HINT, STATEMENT, ...
};

// Every translated word, in the catalogue's order.
std::span<const TranslatedWord> translated_words();

// The translated word that starts `line` at `pos` and is followed by ':', if any. Words that
// read the same in English (LOG, DETAIL in German) are not translations and not found here.
const TranslatedWord* translated_word_at(std::string_view line, size_t pos);

// PostgreSQL's English severity for a severity written in another language (FEHLER: ERROR),
// if `severity` is one.
std::optional<std::string_view> english_severity(std::string_view severity);

// What the arguments of a missing-object message are.
enum class MissingForm : unsigned char {
  relation,            // relation "%s" does not exist
  relation_qualified,  // relation "%s.%s" does not exist
  column_of,           // column "%s" of relation "%s" does not exist
  column_qualified,    // column %s.%s does not exist
  column,              // column "%s" does not exist
};

// A message of a missing relation or column in one of the catalogue's languages.
struct TranslatedFormat {
  std::string_view language;
  MissingForm form;
  std::string_view format;  // with %s or %N$s for its arguments
};

// The missing relation or column a translated message names: the relation (`schema.name`
// when the message qualifies it) or the column and, when the message says it, its table.
struct MissingObject {
  bool column = false;
  std::string relation;  // the relation, or the column's table (empty: not said)
  std::string name;      // the column
  std::string_view language;
};
std::optional<MissingObject> translated_missing_object(std::string_view message);
std::span<const TranslatedFormat> translated_missing_formats();  // every one, for the tests

// The position of an error in its statement as a server writing in another language appends
// it to the message in its stderr log (` bei Zeichen 15`, `(15文字目)`).
struct TranslatedPosition {
  std::string_view language;
  std::string_view format;  // with %d for the position
};

// The length of `message` without the translated position it ends with, if it ends with one.
std::optional<size_t> without_translated_position(std::string_view message);
std::span<const TranslatedPosition> translated_positions();  // every one, for the tests

}  // namespace dbautopsy::logs
