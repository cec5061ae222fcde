// The names Django invents for what it creates, and the text helpers they need: Django's
// django/db/backends/utils.py (names_digest, truncate_name, split_identifier),
// django/db/backends/base/schema.py (_create_index_name) and django/db/models/indexes.py
// (Index.set_name_with_model); quote_name() of django/db/backends/postgresql/operations.py.

#include "django/derivation.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

// --- text -------------------------------------------------------------------------------

// Python's len() and slicing count code points; these helpers do the same on UTF-8.
size_t cp_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    n += (c & 0xC0) != 0x80;
  }
  return n;
}

std::string cp_prefix(std::string_view s, size_t count) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == count) {
        return std::string(s.substr(0, i));
      }
      ++seen;
    }
  }
  return std::string(s);
}

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += k_hex[digest[i] >> 4];
    out += k_hex[digest[i] & 15];
  }
  return out;
}

// The PostgreSQL backend's quote_name(): always double-quoted, quotes not doubled.
std::string qn(std::string_view name) {
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    return std::string(name);
  }
  return "\"" + std::string(name) + "\"";
}

// split_identifier(): 'schema"."table' -> table.
std::string split_identifier_name(std::string_view identifier) {
  size_t sep = identifier.find("\".\"");
  std::string_view name = sep == std::string_view::npos ? identifier : identifier.substr(sep + 3);
  while (!name.empty() && name.front() == '"') {
    name.remove_prefix(1);
  }
  while (!name.empty() && name.back() == '"') {
    name.remove_suffix(1);
  }
  return std::string(name);
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  return text::join(parts, sep);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string last_component(std::string_view dotted) {
  size_t dot = dotted.rfind('.');
  return std::string(dot == std::string_view::npos ? dotted : dotted.substr(dot + 1));
}

// psycopg2's adaptation of a str: single quotes doubled (standard_conforming_strings on).
// With `double_percent`, '%' is doubled too: Django 3.2's quote_value() does that before
// interpolating, and nothing undoes it in the SQL of constraints and index conditions (nor
// in what sqlmigrate prints).
std::string quote_string(std::string_view s, bool double_percent) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'' || (c == '%' && double_percent)) {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace dbautopsy::django::detail

namespace dbautopsy::django {

using namespace detail;

// --- Django's naming rules ------------------------------------------------------------

std::string names_digest(const std::vector<std::string>& parts, size_t length) {
  std::string data;
  for (const auto& p : parts) {
    data += p;
  }
  return md5_hex(data).substr(0, length);
}

std::string truncate_name(std::string_view identifier, size_t length, size_t hash_len) {
  size_t sep = identifier.find("\".\"");
  std::string ns = sep == std::string_view::npos ? "" : std::string(identifier.substr(0, sep));
  std::string name = split_identifier_name(identifier);
  if (cp_length(name) <= length) {
    return std::string(identifier);
  }
  std::string digest = names_digest({name}, hash_len);
  return (ns.empty() ? "" : ns + "\".\"") + cp_prefix(name, length - hash_len) + digest;
}

std::string create_index_name(std::string_view table, const std::vector<std::string>& columns,
                              std::string_view suffix) {
  std::string table_name = split_identifier_name(table);
  std::vector<std::string> digest_parts{table_name};
  digest_parts.insert(digest_parts.end(), columns.begin(), columns.end());
  std::string hash_suffix_part = names_digest(digest_parts, 8) + std::string(suffix);
  std::string joined = join(columns, "_");
  std::string index_name = table_name + "_" + joined + "_" + hash_suffix_part;
  if (cp_length(index_name) <= k_max_name_length) {
    return index_name;
  }
  if (cp_length(hash_suffix_part) > k_max_name_length / 3) {
    hash_suffix_part = cp_prefix(hash_suffix_part, k_max_name_length / 3);
  }
  size_t other_length = (k_max_name_length - cp_length(hash_suffix_part)) / 2 - 1;
  index_name = cp_prefix(table_name, other_length) + "_" + cp_prefix(joined, other_length) + "_" +
               hash_suffix_part;
  if (!index_name.empty() &&
      (index_name[0] == '_' || (index_name[0] >= '0' && index_name[0] <= '9'))) {
    index_name = "D" + index_name.substr(0, index_name.size() - 1);
  }
  return index_name;
}

std::string index_name_with_model(std::string_view table, const std::vector<std::string>& columns) {
  std::string table_name = split_identifier_name(table);
  std::vector<std::string> hash_data{table_name};
  std::string first;
  for (size_t i = 0; i < columns.size(); ++i) {
    hash_data.push_back(columns[i]);
    if (i == 0) {
      first = !columns[i].empty() && columns[i][0] == '-' ? columns[i].substr(1) : columns[i];
    }
  }
  hash_data.push_back("idx");
  std::string name = cp_prefix(table_name, 11) + "_" + cp_prefix(first, 7) + "_" +
                     names_digest(hash_data, 6) + "_idx";
  if (!name.empty() && (name[0] == '_' || (name[0] >= '0' && name[0] <= '9'))) {
    name = "D" + name.substr(1);
  }
  return name;
}

}  // namespace dbautopsy::django
