#include "pgdump/version_syntax.hpp"

#include <re2/re2.h>

#include "base/text.hpp"
#include "pgsql/parse.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::pgdump {

namespace {

// PostgreSQL 18: GENERATED ALWAYS AS (expr) VIRTUAL. PostgreSQL 15 knows only STORED.
std::optional<Recovered> virtual_generated_columns(std::string_view stmt) {
  std::string rewritten(stmt);
  std::vector<size_t> rewritten_at;
  size_t from = 0;
  for (;;) {
    size_t gen = pgsql::find_keyword(rewritten, "generated", from);
    if (gen == std::string::npos) {
      break;
    }
    size_t close = std::string::npos;
    pgsql::parenthesized_after(rewritten, gen, nullptr, &close);
    if (close == std::string::npos) {
      break;
    }
    size_t word = close + 1;
    while (word < rewritten.size() && std::isspace(static_cast<unsigned char>(rewritten[word]))) {
      ++word;
    }
    if (text::istarts_with(std::string_view(rewritten).substr(word), "virtual") &&
        (word + 7 == rewritten.size() ||
         !std::isalnum(static_cast<unsigned char>(rewritten[word + 7])))) {
      rewritten.replace(word, 7, "STORED ");  // same length: locations stay valid
      rewritten_at.push_back(word);
    }
    from = close + 1;
  }
  if (rewritten_at.empty()) {
    return std::nullopt;
  }
  pgsql::ParseResult parsed = pgsql::parse(rewritten);
  if (!parsed.ok()) {
    return std::nullopt;
  }
  Recovered out;
  out.rewritten = rewritten;
  for (const auto& item : pgsql::field(parsed.tree, "stmts")) {
    const pgsql::Json& create = pgsql::node_body(pgsql::field(item, "stmt"));
    std::string table = pgsql::str(pgsql::field(create, "relation"), "relname");
    for (size_t at : rewritten_at) {
      std::string best;
      int best_loc = -1;
      for (const auto& elt : pgsql::field(create, "tableElts")) {
        if (pgsql::node_type(elt) != "ColumnDef") {
          continue;
        }
        const pgsql::Json& cd = pgsql::node_body(elt);
        for (const auto& c : pgsql::field(cd, "constraints")) {
          const pgsql::Json& cb = pgsql::node_body(c);
          int loc = static_cast<int>(pgsql::num(cb, "location", -1));
          if (pgsql::str(cb, "contype") == "CONSTR_GENERATED" && loc >= 0 &&
              static_cast<size_t>(loc) < at && loc > best_loc) {
            best_loc = loc;
            best = pgsql::str(cd, "colname");
          }
        }
      }
      if (!best.empty()) {
        out.virtual_columns.emplace_back(table, best);
      }
    }
  }
  std::vector<std::string> names;
  for (const auto& vc : out.virtual_columns) {
    names.push_back(vc.second);
  }
  out.explanation =
      "GENERATED ALWAYS AS (...) VIRTUAL is PostgreSQL 18 syntax that PostgreSQL 15's grammar "
      "lacks (it has only STORED); the table is recorded with all its columns, and " +
      text::join(names, ", ") + " marked as virtual generated";
  return out;
}

// PostgreSQL 7.x: CREATE [TRUSTED] [PROCEDURAL] LANGUAGE 'name' HANDLER ... LANCOMPILER '...'
std::optional<Recovered> old_create_language(std::string_view stmt) {
  static const RE2 k_pattern(
      R"((?is)^\s*CREATE\s+(?:TRUSTED\s+)?(?:PROCEDURAL\s+)?LANGUAGE\s+'([^']+)')");
  std::string name;
  if (!RE2::PartialMatch(stmt, k_pattern, &name)) {
    return std::nullopt;
  }
  Recovered out;
  out.explanation =
      "CREATE LANGUAGE with the language name as a string literal ('" + name +
      "') and LANCOMPILER is PostgreSQL 7.x syntax that later grammars, PostgreSQL 15's "
      "included, reject; the language is recorded";
  store::ObjectFact lang;
  lang.kind = "language";
  lang.name = name;
  out.objects.push_back(lang);
  return out;
}

}  // namespace

std::optional<Recovered> recover_other_version(std::string_view statement) {
  if (auto r = virtual_generated_columns(statement)) {
    return r;
  }
  if (auto r = old_create_language(statement)) {
    return r;
  }
  return std::nullopt;
}

}  // namespace dbautopsy::pgdump
