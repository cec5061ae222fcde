#include "pgsql/sql_text.hpp"

#include <fmt/format.h>

#include "base/text.hpp"
#include "pgsql/names.hpp"

namespace dbautopsy::pgsql {

namespace {

// Walks SQL text skipping quoted strings, quoted identifiers, dollar quotes and comments.
// Calls visit(pos, c) for every character outside them; visit returns false to stop.
template <typename Visit>
size_t walk(std::string_view t, size_t from, Visit visit) {
  size_t i = from;
  const size_t n = t.size();
  while (i < n) {
    char c = t[i];
    if (c == '\'') {
      bool backslash = i > 0 && (t[i - 1] == 'E' || t[i - 1] == 'e');
      ++i;
      while (i < n) {
        if (backslash && t[i] == '\\') {
          i += 2;
          continue;
        }
        if (t[i] == '\'') {
          if (i + 1 < n && t[i + 1] == '\'') {
            i += 2;
            continue;
          }
          break;
        }
        ++i;
      }
      ++i;
      continue;
    }
    if (c == '"') {
      ++i;
      while (i < n && !(t[i] == '"' && !(i + 1 < n && t[i + 1] == '"'))) {
        i += t[i] == '"' ? 2 : 1;
      }
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < n && t[i + 1] == '-') {
      size_t nl = t.find('\n', i);
      i = nl == std::string_view::npos ? n : nl;
      continue;
    }
    if (c == '/' && i + 1 < n && t[i + 1] == '*') {
      int depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (t[i] == '*' && i + 1 < n && t[i + 1] == '/') {
          --depth;
          i += 2;
        } else if (t[i] == '/' && i + 1 < n && t[i + 1] == '*') {
          ++depth;
          i += 2;
        } else {
          ++i;
        }
      }
      continue;
    }
    if (c == '$' &&
        (i == 0 || !(std::isalnum(static_cast<unsigned char>(t[i - 1])) || t[i - 1] == '_'))) {
      size_t j = i + 1;
      while (j < n && (std::isalnum(static_cast<unsigned char>(t[j])) || t[j] == '_' ||
                       static_cast<unsigned char>(t[j]) >= 0x80)) {
        ++j;
      }
      if (j < n && t[j] == '$' &&
          !(j > i + 1 && std::isdigit(static_cast<unsigned char>(t[i + 1])))) {
        std::string_view tag = t.substr(i, j + 1 - i);
        size_t close = t.find(tag, j + 1);
        i = close == std::string_view::npos ? n : close + tag.size();
        continue;
      }
    }
    if (!visit(i, c)) {
      return i;
    }
    ++i;
  }
  return n;
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

std::string typmod_text(const Json& mod, std::string_view source) {
  if (auto v = const_text(mod)) {
    return *v;
  }
  const Json& body = node_body(mod);
  if (node_type(mod) == "ColumnRef") {
    int loc = static_cast<int>(num(body, "location", -1));
    if (loc >= 0 && static_cast<size_t>(loc) < source.size()) {
      size_t end = static_cast<size_t>(loc);
      while (end < source.size() &&
             (std::isalnum(static_cast<unsigned char>(source[end])) || source[end] == '_')) {
        ++end;
      }
      if (end > static_cast<size_t>(loc)) {
        return std::string(source.substr(loc, end - loc));
      }
    }
    auto names = strings(field(body, "fields"));
    return names.empty() ? "?" : names.back();
  }
  return "?";
}

std::string interval_fields(int64_t mask) {
  constexpr int64_t month = 1 << 1, year = 1 << 2, day = 1 << 3, hour = 1 << 10, minute = 1 << 11,
                    second = 1 << 12;
  switch (mask) {
    case year:
      return " year";
    case month:
      return " month";
    case day:
      return " day";
    case hour:
      return " hour";
    case minute:
      return " minute";
    case second:
      return " second";
    case year | month:
      return " year to month";
    case day | hour:
      return " day to hour";
    case day | hour | minute:
      return " day to minute";
    case day | hour | minute | second:
      return " day to second";
    case hour | minute:
      return " hour to minute";
    case hour | minute | second:
      return " hour to second";
    case minute | second:
      return " minute to second";
    default:
      return "";
  }
}

}  // namespace

std::string format_type(const Json& tn, const TypeResolver& resolve, std::string_view source) {
  std::vector<std::string> names = strings(field(tn, "names"));
  std::vector<std::string> mods;
  for (const Json& m : field(tn, "typmods")) {
    mods.push_back(typmod_text(m, source));
  }
  bool is_array = field(tn, "arrayBounds").is_array() && !field(tn, "arrayBounds").empty();
  bool setof = flag(tn, "setof");
  std::string out;
  std::string schema;
  std::string name;
  if (names.size() >= 2) {
    schema = names[names.size() - 2];
    name = names.back();
  } else if (!names.empty()) {
    name = names.back();
  }
  bool catalog = schema.empty() || schema == "pg_catalog";
  auto with_mods = [&](std::string base) {
    if (!mods.empty()) {
      base += "(" + text::join(mods, ",") + ")";
    }
    return base;
  };
  if (catalog && name == "bool") {
    out = "boolean";
  } else if (catalog && name == "int2") {
    out = "smallint";
  } else if (catalog && name == "int4") {
    out = "integer";
  } else if (catalog && name == "int8") {
    out = "bigint";
  } else if (catalog && name == "float4") {
    out = "real";
  } else if (catalog && name == "float8") {
    out = "double precision";
  } else if (catalog && name == "bpchar") {
    out = mods.empty() ? "bpchar" : with_mods("character");
  } else if (catalog && name == "varchar") {
    out = with_mods("character varying");
  } else if (catalog && name == "varbit") {
    out = with_mods("bit varying");
  } else if (catalog && name == "bit") {
    out = with_mods("bit");
  } else if (catalog && name == "numeric") {
    if (mods.size() == 1) {
      mods.push_back("0");
    }
    out = with_mods("numeric");
  } else if (catalog &&
             (name == "timestamp" || name == "timestamptz" || name == "time" || name == "timetz")) {
    bool tz = name.back() == 'z';
    std::string base = (name == "timestamp" || name == "timestamptz") ? "timestamp" : "time";
    out = with_mods(base) + (tz ? " with time zone" : " without time zone");
  } else if (catalog && name == "interval") {
    out = "interval";
    if (!mods.empty()) {
      int64_t mask = 0;
      try {
        mask = std::stoll(mods[0]);
      } catch (...) {
      }
      out += interval_fields(mask);
      if (mods.size() >= 2) {
        out += "(" + mods[1] + ")";
      }
    }
  } else if (catalog && name == "char" && names.size() == 1) {
    out = "\"char\"";
  } else if (names.size() == 1 && resolve && resolve(name)) {
    out = with_mods(quote_ident(*resolve(name)) + "." + quote_ident(name));
  } else if (catalog) {
    out = with_mods(quote_ident(name));
  } else {
    std::string qualified_name;
    for (size_t i = 0; i < names.size(); ++i) {
      if (i) {
        qualified_name += '.';
      }
      qualified_name += quote_ident(names[i]);
    }
    out = with_mods(qualified_name);
  }
  if (flag(tn, "pct_type")) {
    out += "%TYPE";
  }
  if (is_array) {
    out += "[]";
  }
  if (setof) {
    out = "SETOF " + out;
  }
  return out;
}

namespace {

bool ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// A name that quote_ident() would write bare: its quotes are not needed.
bool bare_name(std::string_view name) {
  return !name.empty() && quote_ident(name) == name;
}

// The parts of a qualified name in a regclass literal ("public"."seq"), unquoted where they
// need not be quoted.
std::string unquote_qualified(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '"') {
      std::string part;
      size_t j = i + 1;
      while (j < s.size()) {
        if (s[j] == '"') {
          if (j + 1 < s.size() && s[j + 1] == '"') {
            part += '"';
            j += 2;
            continue;
          }
          break;
        }
        part += s[j++];
      }
      if (j >= s.size()) {
        out.append(s.substr(i));
        break;
      }
      if (bare_name(part)) {
        out += part;
      } else {
        out.append(s.substr(i, j + 1 - i));
      }
      i = j + 1;
      continue;
    }
    out += s[i++];
  }
  return out;
}

// A span walk() passed over (a quoted name or literal, a comment, a dollar-quoted body),
// t[from, end): a quoted name that does not need its quotes is written bare, and so are the
// names of a regclass literal; everything else is kept as it is.
std::string unquote_span(std::string_view t, size_t from, size_t end) {
  std::string_view span = t.substr(from, end - from);
  if (span.front() == '"') {
    // U&"..." spells its name with escapes: left as it is.
    const bool unicode = from >= 2 && t[from - 1] == '&' && (t[from - 2] | 0x20) == 'u';
    return unicode ? std::string(span) : unquote_qualified(span);
  }
  if (span.front() == '\'') {
    const bool escapes = from > 0 && (t[from - 1] == 'E' || t[from - 1] == 'e') &&
                         !(from > 1 && ident_char(t[from - 2]));
    std::string_view after = t.substr(end);
    if (!escapes && span.find('"') != std::string_view::npos &&
        (after.starts_with("::regclass") || after.starts_with("::\"regclass\""))) {
      return unquote_qualified(span);
    }
  }
  return std::string(span);
}

}  // namespace

std::string unquote_needless(std::string_view t) {
  if (t.find('"') == std::string_view::npos) {
    return std::string(t);
  }
  std::string out;
  out.reserve(t.size());
  size_t copied = 0;  // t[copied, i) is a span walk() passed over
  walk(t, 0, [&](size_t i, char c) {
    if (i > copied) {
      out += unquote_span(t, copied, i);
    }
    out += c;
    copied = i + 1;
    return true;
  });
  if (copied < t.size()) {
    out += unquote_span(t, copied, t.size());
  }
  return out;
}

std::string clean_sql(std::string_view text) {
  // walk() skips comments and quoted text; copy what it visits plus the quoted spans.
  std::string out;
  size_t copied = 0;  // text[copied, i) is pending: quotes or comments walk() skipped
  walk(text, 0, [&](size_t i, char c) {
    if (i > copied) {
      std::string_view skipped = text.substr(copied, i - copied);
      bool comment = skipped.substr(0, 2) == "--" || skipped.substr(0, 2) == "/*";
      out += comment ? std::string_view(" ") : skipped;
    }
    out += c;
    copied = i + 1;
    return true;
  });
  if (copied < text.size()) {
    std::string_view skipped = text.substr(copied);
    bool comment = skipped.substr(0, 2) == "--" || skipped.substr(0, 2) == "/*";
    out += comment ? std::string_view(" ") : skipped;
  }
  return unquote_needless(text::squash_space(out));
}

size_t clause_end(std::string_view text, size_t from) {
  int depth = 0;
  return walk(text, from, [&](size_t, char c) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth == 0) {
        return false;
      }
      --depth;
    } else if ((c == ',' || c == ';') && depth == 0) {
      return false;
    }
    return true;
  });
}

std::string expression_text(std::string_view text, const Json& expr, size_t stop) {
  int loc = min_location(expr);
  if (loc < 0 || static_cast<size_t>(loc) >= text.size()) {
    return {};
  }
  size_t start = static_cast<size_t>(loc);
  // Step back over opening parentheses (and the space between them) that wrap the
  // expression: "DEFAULT (now() + '1 day')" has its first location inside them.
  size_t back = start;
  while (back > 0) {
    char c = text[back - 1];
    if (c == '(') {
      start = back - 1;
      --back;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      --back;
    } else {
      break;
    }
  }
  size_t end = std::min(clause_end(text, start), stop == std::string::npos ? text.size() : stop);
  return clean_sql(text.substr(start, end > start ? end - start : 0));
}

std::string parenthesized_after(std::string_view text, size_t from, size_t* open_pos,
                                size_t* close_pos) {
  size_t open = std::string::npos;
  size_t close = std::string::npos;
  int depth = 0;
  walk(text, from, [&](size_t i, char c) {
    if (c == '(') {
      if (depth++ == 0 && open == std::string::npos) {
        open = i;
      }
    } else if (c == ')' && depth > 0) {
      if (--depth == 0) {
        close = i;
        return false;
      }
    }
    return true;
  });
  if (open_pos) {
    *open_pos = open;
  }
  if (close_pos) {
    *close_pos = close;
  }
  if (open == std::string::npos || close == std::string::npos) {
    return {};
  }
  return std::string(text.substr(open + 1, close - open - 1));
}

std::vector<std::string> split_top_level(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  int depth = 0;
  walk(text, 0, [&](size_t i, char c) {
    if (c == '(' || c == '[') {
      ++depth;
    } else if ((c == ')' || c == ']') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(clean_sql(text.substr(start, i - start)));
      start = i + 1;
    }
    return true;
  });
  std::string last = clean_sql(text.substr(start));
  if (!last.empty() || !out.empty()) {
    out.push_back(last);
  }
  return out;
}

size_t find_keyword(std::string_view text, std::string_view keyword, size_t from) {
  size_t found = std::string::npos;
  walk(text, from, [&](size_t i, char) {
    if (i + keyword.size() <= text.size() &&
        text::iequals(text.substr(i, keyword.size()), keyword) &&
        (i == 0 || !word_char(text[i - 1])) &&
        (i + keyword.size() == text.size() || !word_char(text[i + keyword.size()]))) {
      found = i;
      return false;
    }
    return true;
  });
  return found;
}

uint64_t line_at(std::string_view text, size_t pos, uint64_t first_line) {
  pos = std::min(pos, text.size());
  uint64_t line = first_line;
  for (size_t i = 0; i < pos; ++i) {
    if (text[i] == '\n') {
      ++line;
    }
  }
  return line;
}

}  // namespace dbautopsy::pgsql
