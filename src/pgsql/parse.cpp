#include "pgsql/parse.hpp"

#include <pg_query.h>

#include "base/text.hpp"

// gcc says __SANITIZE_ADDRESS__; clang (before 16) only __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define DBAUTOPSY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DBAUTOPSY_ASAN 1
#endif
#endif
#if defined(DBAUTOPSY_ASAN)
// libpg_query 15's pg_query_parse_plpgsql does not free the (empty, 1-byte) stderr copy of
// its inner pg_query_raw_parse when the PL/pgSQL body does not compile; the result it
// returns is freed in full (parse_plpgsql). LeakSanitizer is told so here, where that
// call is, rather than in every test environment. The library has no frame pointers, so
// the leak's stack ends at pg_query_raw_parse: that is the name suppressed.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:pg_query_raw_parse\n";
}
#endif

namespace dbautopsy::pgsql {

namespace {

const Json& null_json() {
  static const Json k_null;
  return k_null;
}

// The parser quotes the token it stopped at; a token can be megabytes long.
std::string short_message(const char* message) {
  std::string m = message ? message : "syntax error";
  constexpr size_t k_token = 60;
  size_t open = m.find(" near \"");
  if (open != std::string::npos && m.size() > open + 7 + k_token + 1 && m.back() == '"') {
    std::string_view token(m.data() + open + 7, m.size() - open - 8);
    return m.substr(0, open + 7) + text::abbreviate(token, k_token) + "\" (a token of " +
           text::human_bytes(token.size()) + ")";
  }
  return m;
}

template <typename Result>
ParseResult finish(Result& r, const char* json_text) {
  ParseResult out;
  if (r.error) {
    out.error = ParseError{short_message(r.error->message), r.error->cursorpos};
    return out;
  }
  try {
    out.tree = Json::parse(json_text ? json_text : "{}");
  } catch (const Json::exception& e) {
    out.error = ParseError{std::string("libpg_query returned unreadable JSON: ") + e.what(), 0};
  }
  return out;
}

}  // namespace

ParseResult parse(std::string_view sql) {
  std::string text(sql);
  PgQueryParseResult r = pg_query_parse(text.c_str());
  ParseResult out = finish(r, r.parse_tree);
  pg_query_free_parse_result(r);
  return out;
}

ParseResult parse_plpgsql(std::string_view create_function_sql) {
  std::string text(create_function_sql);
  PgQueryPlpgsqlParseResult r = pg_query_parse_plpgsql(text.c_str());
  ParseResult out = finish(r, r.plpgsql_funcs);
  pg_query_free_plpgsql_parse_result(r);
  return out;
}

std::string_view node_type(const Json& node) {
  if (node.is_object() && node.size() == 1) {
    return node.begin().key();
  }
  return {};
}

const Json& node_body(const Json& node) {
  if (node.is_object() && node.size() == 1 && node.begin()->is_object()) {
    const std::string& key = node.begin().key();
    if (!key.empty() && key[0] >= 'A' && key[0] <= 'Z') {
      return *node.begin();
    }
  }
  return node;
}

const Json& field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) {
    return null_json();
  }
  auto it = obj.find(key);
  return it == obj.end() ? null_json() : *it;
}

std::string str(const Json& obj, std::string_view key) {
  const Json& v = field(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t num(const Json& obj, std::string_view key, int64_t fallback) {
  const Json& v = field(obj, key);
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

bool flag(const Json& obj, std::string_view key) {
  const Json& v = field(obj, key);
  return v.is_boolean() && v.get<bool>();
}

std::vector<std::string> strings(const Json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) {
    return out;
  }
  for (const Json& item : list) {
    const Json& s = field(item, "String");
    out.push_back(str(s, "sval"));
  }
  return out;
}

int min_location(const Json& node) {
  int best = -1;
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (it.key() == "location" && it->is_number_integer()) {
        int loc = it->get<int>();
        if (loc >= 0 && (best < 0 || loc < best)) {
          best = loc;
        }
      } else if (it->is_structured()) {
        int loc = min_location(*it);
        if (loc >= 0 && (best < 0 || loc < best)) {
          best = loc;
        }
      }
    }
  } else if (node.is_array()) {
    for (const Json& item : node) {
      int loc = min_location(item);
      if (loc >= 0 && (best < 0 || loc < best)) {
        best = loc;
      }
    }
  }
  return best;
}

std::optional<std::string> const_text(const Json& node) {
  std::string_view type = node_type(node);
  const Json& body = node_body(node);
  if (type == "A_Const") {
    if (flag(body, "isnull")) {
      return std::nullopt;
    }
    if (body.contains("ival")) {
      return std::to_string(num(body["ival"], "ival"));
    }
    if (body.contains("sval")) {
      return str(body["sval"], "sval");
    }
    if (body.contains("fval")) {
      return str(body["fval"], "fval");
    }
    if (body.contains("boolval")) {
      return flag(body["boolval"], "boolval") ? "true" : "false";
    }
    // An A_Const with no value field is the integer 0 (zero fields are omitted).
    return std::string("0");
  }
  if (type == "Integer") {
    return std::to_string(num(body, "ival"));
  }
  if (type == "String") {
    return str(body, "sval");
  }
  if (type == "Float") {
    return str(body, "fval");
  }
  if (type == "TypeCast") {
    return const_text(field(body, "arg"));
  }
  return std::nullopt;
}

}  // namespace dbautopsy::pgsql
