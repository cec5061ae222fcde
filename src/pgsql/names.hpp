// PostgreSQL's rules for names, reproduced exactly where dbautopsy must agree with the
// server: keyword categories (taken from libpg_query's copy of the PostgreSQL 15 keyword
// table, not retyped), quote_ident(), and the names the server invents for unnamed
// constraints, indexes and serial sequences (makeObjectName and its callers in
// src/backend/commands/indexcmds.c and src/backend/catalog/pg_constraint.c).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dbautopsy::pgsql {

constexpr size_t k_namedatalen = 64;  // identifiers keep at most 63 bytes

enum class KeywordCategory { none, unreserved, col_name, type_func_name, reserved };
KeywordCategory keyword_category(std::string_view word);

// quote_ident(): unchanged when a lower-case simple identifier that is not a keyword
// (other than an unreserved one), double-quoted with doubled quotes otherwise.
std::string quote_ident(std::string_view ident);
// quote_literal(): 'text' with quotes doubled; E'...' with backslashes doubled when the
// text has a backslash (so that it reads the same whatever standard_conforming_strings is).
std::string quote_literal(std::string_view text);
// As quote_ident and quote_literal, but on one line: a name or text that holds a control
// character (a line break, ESC, ...) is written with escapes, U&"a\000ab" / E'a\x0ab', so
// that the SQL written for a person (a repair script, where a commented-out statement must
// stay commented out) never holds a raw line break or terminal escape sequence. PostgreSQL
// reads them as the same name and text.
std::string quote_ident_one_line(std::string_view ident);
std::string quote_literal_one_line(std::string_view text);
std::string qualified_one_line(std::string_view schema, std::string_view name);
// "schema.name" with quote_ident on each part; an empty schema gives just the name.
std::string qualified(std::string_view schema, std::string_view name);

// Folds an unquoted identifier as the server does (ASCII down-casing) and truncates any
// identifier to 63 bytes on a character boundary.
std::string truncate_identifier(std::string_view ident);

// makeObjectName(name1, name2, label): "name1_name2_label" cut to 63 bytes, shortening the
// longer of name1 / name2 first. name2 and label may be empty (absent).
std::string make_object_name(std::string_view name1, std::string_view name2,
                             std::string_view label);

// ChooseRelationName / ChooseConstraintName: the first of make_object_name(name1, name2,
// label), ...(label1), ...(label2), ... that `taken` does not report as in use.
using NameTaken = std::function<bool(const std::string&)>;
std::string choose_name(std::string_view name1, std::string_view name2, std::string_view label,
                        const NameTaken& taken);

// ChooseIndexNameAddition / ChooseForeignKeyConstraintNameAddition: column names joined by
// '_', stopping once 63 bytes are reached.
std::string name_addition(const std::vector<std::string>& columns);

}  // namespace dbautopsy::pgsql
