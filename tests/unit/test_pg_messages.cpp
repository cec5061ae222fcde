// PostgreSQL's log words and missing-object messages in the other languages of its catalogue
// (parsers/logs/pg_messages.cpp, from PostgreSQL 15's own translations).
#include <catch2/catch.hpp>

#include <string>

#include <fmt/format.h>

#include "logs/pg_messages.hpp"

using namespace dbautopsy;
using namespace dbautopsy::logs;

namespace {

// The format with its %s / %N$s arguments replaced by `args` (in argument order).
std::string fill(std::string_view format, const std::vector<std::string>& args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    size_t index = next++;
    if (format[i + 1] >= '1' && format[i + 1] <= '9' && format[i + 2] == '$') {
      index = static_cast<size_t>(format[i + 1] - '1');
      i += 2;
    }
    REQUIRE(format[i + 1] == 's');
    out += args.at(index);
    ++i;
  }
  return out;
}

}  // namespace

TEST_CASE("every translated missing-object message gives back its relation or column",
          "[logs][languages]") {
  REQUIRE(translated_missing_formats().size() >= 50);
  for (const auto& f : translated_missing_formats()) {
    CAPTURE(f.language, f.format);
    MissingObject want;
    std::vector<std::string> args;
    switch (f.form) {
      case MissingForm::relation:
        args = {"user_profile_about_item"};
        want.relation = "user_profile_about_item";
        break;
      case MissingForm::relation_qualified:
        args = {"test_schema", "user_profile_bounty"};
        want.relation = "test_schema.user_profile_bounty";
        break;
      case MissingForm::column_of:
        args = {"left_at", "teams_teammembership"};
        want = {true, "teams_teammembership", "left_at", {}};
        break;
      case MissingForm::column_qualified:
        args = {"t", "missing_col"};
        want = {true, "t", "missing_col", {}};
        break;
      case MissingForm::column:
        args = {"nonexistent_col"};
        want = {true, "", "nonexistent_col", {}};
        break;
    }
    const std::string message = fill(f.format, args);
    CAPTURE(message);
    auto got = translated_missing_object(message);
    REQUIRE(got);
    CHECK(got->column == want.column);
    CHECK(got->relation == want.relation);
    CHECK(got->name == want.name);
    // With the position the stderr log appends in the same language, once taken off.
    for (const auto& p : translated_positions()) {
      if (p.language != f.language) {
        continue;
      }
      const size_t d = p.format.find("%d");
      const std::string positioned =
          message + std::string(p.format.substr(0, d)) + "15" + std::string(p.format.substr(d + 2));
      CAPTURE(positioned);
      CHECK(without_translated_position(positioned) == message.size());
    }
  }
}

TEST_CASE("messages that are not a missing object, or English, are not read as one",
          "[logs][languages]") {
  CHECK_FALSE(translated_missing_object("relation \"teams\" does not exist"));
  CHECK_FALSE(translated_missing_object("doppelter Schlüsselwert verletzt Unique-Constraint »x«"));
  CHECK_FALSE(translated_missing_object("Relation »« existiert nicht"));  // no name
  CHECK_FALSE(without_translated_position("Relation »x« existiert nicht"));
  CHECK_FALSE(without_translated_position(" bei Zeichen "));
  CHECK_FALSE(without_translated_position("team 87169 kept its id"));
}

TEST_CASE("translated severities and labels are found where a line has them", "[logs][languages]") {
  REQUIRE(translated_words().size() >= 100);
  for (const auto& w : translated_words()) {
    CAPTURE(w.language, w.text, w.english);
    const std::string line = fmt::format("2026-12-07 14:27:09.295 CET [8863] {}:  text", w.text);
    const TranslatedWord* found = translated_word_at(line, line.find(w.text));
    REQUIRE(found);
    CHECK(found->english == w.english);
    CHECK_FALSE(translated_word_at(line, line.find(w.text) + 1));
  }
  CHECK(english_severity("FEHLER") == "ERROR");
  CHECK(english_severity("ОШИБКА") == "ERROR");
  CHECK(english_severity("ATTENTION") == "WARNING");
  CHECK_FALSE(english_severity("ERROR"));
  CHECK_FALSE(english_severity("LOG"));
  CHECK_FALSE(english_severity(""));
}
