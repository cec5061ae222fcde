#include "logs/pg_messages.hpp"

#include <array>
#include <cctype>
#include <vector>

namespace dbautopsy::logs {

namespace {

#include "logs/pg_translations.inc"

// The words by their first byte, so that a line's byte at `pos` is compared with a few.
struct WordIndex {
  std::array<std::vector<const TranslatedWord*>, 256> by_first;
  WordIndex() {
    for (const auto& w : k_translated_words) {
      by_first[static_cast<unsigned char>(w.text.front())].push_back(&w);
    }
  }
};

const WordIndex& word_index() {
  static const WordIndex index;
  return index;
}

// The character a literal part starts with, when it closes the argument before it (a quote,
// a dot: not a letter, digit or space); empty otherwise.
std::string_view closing(std::string_view literal) {
  if (literal.empty()) {
    return {};
  }
  const auto c = static_cast<unsigned char>(literal[0]);
  if (c < 0x80) {
    const bool word = std::isalnum(c) || c == '_' || c == ' ';
    return word ? std::string_view() : literal.substr(0, 1);
  }
  size_t n = 1;  // the UTF-8 sequence of one character
  while (n < literal.size() && (static_cast<unsigned char>(literal[n]) & 0xC0) == 0x80) {
    ++n;
  }
  return literal.substr(0, n);
}

// The arguments of `message` read by `format` (its literal parts in order, each argument at
// least one byte and without the character that closes it; text after the last literal part
// is allowed: ` at character 15`, and an argument that ends the format ends at a space).
bool match_format(std::string_view format, std::string_view message,
                  std::array<std::string_view, 2>& args) {
  size_t f = 0, m = 0;
  int pending = -1;  // the argument whose end is the next literal part
  int next_arg = 0;
  while (f <= format.size()) {
    size_t spec = format.find('%', f);
    std::string_view literal = format.substr(f, spec == std::string_view::npos ? spec : spec - f);
    if (pending < 0) {
      if (message.compare(m, literal.size(), literal) != 0) {
        return false;
      }
      m += literal.size();
    } else if (literal.empty()) {
      if (spec != std::string_view::npos) {
        return false;  // two arguments with nothing between: not in these formats
      }
      args[pending] = message.substr(m, message.find(' ', m) - m);
      return !args[pending].empty();
    } else {
      size_t at = message.find(literal, m + 1);
      if (at == std::string_view::npos) {
        return false;
      }
      args[pending] = message.substr(m, at - m);
      if (std::string_view close = closing(literal);
          !close.empty() && args[pending].find(close) != std::string_view::npos) {
        return false;  // `リレーション"t"の列"c"は`: not one relation's name
      }
      m = at + literal.size();
    }
    if (spec == std::string_view::npos) {
      return true;
    }
    // %s, or %N$s with its argument's number.
    size_t s = spec + 1;
    int index = next_arg++;
    if (s + 2 < format.size() && format[s] >= '1' && format[s] <= '2' && format[s + 1] == '$') {
      index = format[s] - '1';
      s += 2;
    }
    if (s >= format.size() || format[s] != 's' || index > 1) {
      return false;
    }
    pending = index;
    f = s + 1;
  }
  return false;
}

}  // namespace

std::span<const TranslatedWord> translated_words() {
  return k_translated_words;
}

std::span<const TranslatedFormat> translated_missing_formats() {
  return k_translated_missing;
}

std::span<const TranslatedPosition> translated_positions() {
  return k_translated_positions;
}

const TranslatedWord* translated_word_at(std::string_view line, size_t pos) {
  if (pos >= line.size()) {
    return nullptr;
  }
  for (const TranslatedWord* w : word_index().by_first[static_cast<unsigned char>(line[pos])]) {
    if (line.compare(pos, w->text.size(), w->text) == 0 && pos + w->text.size() < line.size() &&
        line[pos + w->text.size()] == ':') {
      return w;
    }
  }
  return nullptr;
}

std::optional<std::string_view> english_severity(std::string_view severity) {
  if (severity.empty()) {
    return std::nullopt;
  }
  for (const TranslatedWord* w :
       word_index().by_first[static_cast<unsigned char>(severity.front())]) {
    if (w->text == severity) {
      return w->english;
    }
  }
  return std::nullopt;
}

std::optional<MissingObject> translated_missing_object(std::string_view message) {
  for (const auto& t : k_translated_missing) {
    std::array<std::string_view, 2> args;
    if (!match_format(t.format, message, args)) {
      continue;
    }
    MissingObject o;
    o.language = t.language;
    switch (t.form) {
      case MissingForm::relation:
        o.relation = args[0];
        break;
      case MissingForm::relation_qualified:
        o.relation = std::string(args[0]) + "." + std::string(args[1]);
        break;
      case MissingForm::column_of:
        o.column = true;
        o.name = args[0];
        o.relation = args[1];
        break;
      case MissingForm::column_qualified:
        o.column = true;
        o.relation = args[0];
        o.name = args[1];
        break;
      case MissingForm::column:
        o.column = true;
        o.name = args[0];
        break;
    }
    return o;
  }
  return std::nullopt;
}

std::optional<size_t> without_translated_position(std::string_view message) {
  for (const auto& p : k_translated_positions) {
    const size_t d = p.format.find("%d");
    const std::string_view before = p.format.substr(0, d), after = p.format.substr(d + 2);
    if (!message.ends_with(after)) {
      continue;
    }
    size_t end = message.size() - after.size();
    size_t start = end;
    while (start > 0 && message[start - 1] >= '0' && message[start - 1] <= '9') {
      --start;
    }
    if (start == end || start < before.size() ||
        message.substr(start - before.size(), before.size()) != before) {
      continue;
    }
    return start - before.size();
  }
  return std::nullopt;
}

}  // namespace dbautopsy::logs
