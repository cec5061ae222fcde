#include "pgsql/names.hpp"

#include <fmt/format.h>

#include "base/text.hpp"

// libpg_query links PostgreSQL's own keyword table (src/common/keywords.c and
// kwlookup.c); we use it so that our quoting follows the exact PostgreSQL 15 grammar.
extern "C" {
struct ScanKeywordList;
extern const ScanKeywordList ScanKeywords;
extern const uint8_t ScanKeywordCategories[];
int ScanKeywordLookup(const char* text, const ScanKeywordList* keywords);
}

namespace dbautopsy::pgsql {

KeywordCategory keyword_category(std::string_view word) {
  std::string w(word);
  int index = ScanKeywordLookup(w.c_str(), &ScanKeywords);
  if (index < 0) {
    return KeywordCategory::none;
  }
  // src/include/common/keywords.h: UNRESERVED 0, COL_NAME 1, TYPE_FUNC_NAME 2, RESERVED 3.
  switch (ScanKeywordCategories[index]) {
    case 0:
      return KeywordCategory::unreserved;
    case 1:
      return KeywordCategory::col_name;
    case 2:
      return KeywordCategory::type_func_name;
    default:
      return KeywordCategory::reserved;
  }
}

std::string quote_literal(std::string_view text) {
  bool backslash = text.find('\\') != std::string_view::npos;
  std::string out = backslash ? "E'" : "'";
  for (char c : text) {
    if (c == '\'' || (c == '\\' && backslash)) {
      out += c;
    }
    out += c;
  }
  out += '\'';
  return out;
}

std::string quote_ident(std::string_view ident) {
  bool safe = !ident.empty() && ((ident[0] >= 'a' && ident[0] <= 'z') || ident[0] == '_');
  for (char c : ident) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      safe = false;
      break;
    }
  }
  if (safe) {
    KeywordCategory cat = keyword_category(ident);
    safe = cat == KeywordCategory::none || cat == KeywordCategory::unreserved;
  }
  if (safe) {
    return std::string(ident);
  }
  std::string out = "\"";
  for (char c : ident) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  out += '"';
  return out;
}

std::string qualified(std::string_view schema, std::string_view name) {
  if (schema.empty()) {
    return quote_ident(name);
  }
  return quote_ident(schema) + "." + quote_ident(name);
}

namespace {

// The bidirectional controls and line separators (U+061C, U+200E, U+200F, U+202A..U+202E,
// U+2028, U+2029, U+2066..U+2069) at s[i] as a code point, or 0.
uint32_t bidi_at(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  if (b(i) == 0xD8 && b(i + 1) == 0x9C) {
    return 0x061C;
  }
  if (b(i) != 0xE2) {
    return 0;
  }
  uint32_t cp = 0x2000 | ((b(i + 1) & 0x3Fu) << 6) | (b(i + 2) & 0x3Fu);
  bool hit =
      (b(i + 1) == 0x80 && (cp == 0x200E || cp == 0x200F || (cp >= 0x2028 && cp <= 0x202E))) ||
      (b(i + 1) == 0x81 && cp >= 0x2066 && cp <= 0x2069);
  return hit ? cp : 0;
}

bool has_control(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x20 || u == 0x7F || bidi_at(s, i) != 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string quote_ident_one_line(std::string_view ident) {
  if (!has_control(ident)) {
    return quote_ident(ident);
  }
  std::string out = "U&\"";
  for (size_t i = 0; i < ident.size(); ++i) {
    char c = ident[i];
    auto u = static_cast<unsigned char>(c);
    if (uint32_t cp = bidi_at(ident, i); cp != 0) {
      out += fmt::format("\\{:04x}", cp);
      i += cp == 0x061C ? 1 : 2;
    } else if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\{:04x}", u);
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\"\"";
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string quote_literal_one_line(std::string_view text) {
  if (!has_control(text)) {
    return quote_literal(text);
  }
  std::string out = "E'";
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    auto u = static_cast<unsigned char>(c);
    if (uint32_t cp = bidi_at(text, i); cp != 0) {
      out += fmt::format("\\u{:04x}", cp);
      i += cp == 0x061C ? 1 : 2;
    } else if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\x{:02x}", u);
    } else if (c == '\\' || c == '\'') {
      out += c;
      out += c;
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string qualified_one_line(std::string_view schema, std::string_view name) {
  if (schema.empty()) {
    return quote_ident_one_line(name);
  }
  return quote_ident_one_line(schema) + "." + quote_ident_one_line(name);
}

// pg_mbcliplen for UTF-8: the longest prefix of at most `limit` bytes that does not cut
// a multibyte character.
static size_t utf8_clip(std::string_view s, size_t limit) {
  if (s.size() <= limit) {
    return s.size();
  }
  size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
    --n;
  }
  return n;
}

std::string truncate_identifier(std::string_view ident) {
  return std::string(ident.substr(0, utf8_clip(ident, k_namedatalen - 1)));
}

std::string make_object_name(std::string_view name1, std::string_view name2,
                             std::string_view label) {
  size_t overhead = 0;
  size_t name1chars = name1.size();
  size_t name2chars = 0;
  bool has_name2 = !name2.empty();
  if (has_name2) {
    name2chars = name2.size();
    ++overhead;
  }
  if (!label.empty()) {
    overhead += label.size() + 1;
  }
  size_t avail = k_namedatalen - 1 - overhead;
  while (name1chars + name2chars > avail) {
    if (name1chars > name2chars) {
      --name1chars;
    } else {
      --name2chars;
    }
  }
  name1chars = utf8_clip(name1, name1chars);
  std::string out(name1.substr(0, name1chars));
  if (has_name2) {
    name2chars = utf8_clip(name2, name2chars);
    out += '_';
    out += name2.substr(0, name2chars);
  }
  if (!label.empty()) {
    out += '_';
    out += label;
  }
  return out;
}

std::string choose_name(std::string_view name1, std::string_view name2, std::string_view label,
                        const NameTaken& taken) {
  std::string name = make_object_name(name1, name2, label);
  for (int pass = 1; taken(name); ++pass) {
    name = make_object_name(name1, name2, fmt::format("{}{}", label, pass));
  }
  return name;
}

std::string name_addition(const std::vector<std::string>& columns) {
  std::string out;
  for (const std::string& c : columns) {
    if (!out.empty()) {
      out += '_';
    }
    out += c.substr(0, k_namedatalen - 1);
    if (out.size() >= k_namedatalen) {
      break;
    }
  }
  return out;
}

}  // namespace dbautopsy::pgsql
