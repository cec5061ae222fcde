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
