// Turning parse-tree pieces back into text.
//
// Types are rendered as the server's format_type() renders a column type (the form
// pg_dump writes and information_schema compares): "character varying(20)",
// "timestamp(3) with time zone", "interval day to second(2)", "numeric(5,0)", "integer[]",
// "public.mpaa_rating". Expressions (defaults, CHECK clauses, index expressions,
// predicates) are not deparsed: they are cut out of the statement text as written, using
// the parse tree's locations and a quote-aware scan for where the clause ends.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgsql/parse.hpp"

namespace dbautopsy::pgsql {

// format_type() of a TypeName node body. A one-part name that is not a built-in spelling is
// passed to `resolve`, which returns the schema that name refers to (the server resolves
// it through search_path; format_type() then writes it qualified), or nullopt to leave it
// as written.
// An identifier typmod (PostGIS's geometry(Polygon,4326)) is shown by the server through the
// type's own typmodout function; when `source` (the statement text) is given, it is taken
// as written there, which in a dump is exactly what the server printed.
using TypeResolver = std::function<std::optional<std::string>(const std::string&)>;
std::string format_type(const Json& type_name, const TypeResolver& resolve = {},
                        std::string_view source = {});

// From `from`, the end of the clause: the first ',' or ';' at parenthesis depth 0, or the
// ')' that closes a parenthesis opened before `from`, or the end of text. Quotes and
// comments are skipped.
size_t clause_end(std::string_view text, size_t from);

// The text of an expression whose parse tree is `expr`: from the start of its first token
// (stepping back over opening parentheses that belong to it) to the end of its clause, or
// to `stop` when that comes first. Trimmed.
std::string expression_text(std::string_view text, const Json& expr,
                            size_t stop = std::string::npos);

// The text between the parenthesis that opens at or after `from` and its matching one.
// Returns the position of the '(' in open_pos; npos when there is none.
std::string parenthesized_after(std::string_view text, size_t from, size_t* open_pos = nullptr,
                                size_t* close_pos = nullptr);

// Removes -- and /* */ comments outside quotes and collapses white space: expression text
// as the catalog would hold it, without the dump author's remarks.
std::string clean_sql(std::string_view text);

// `text` with the double quotes taken off every identifier that does not need them (what
// quote_ident() leaves bare: "now"() is now(), "public"."t" is public.t), and off the names
// inside a regclass literal ('"public"."s"'::regclass). pg_dump --quote-all-identifiers (and
// pgAdmin's "Quote all identifiers") quotes every name in the expressions and definitions it
// writes; without this, the same default or index would read as another one. Text PostgreSQL
// wrote without that option is unchanged: it never quotes a name that does not need it.
// String literals, comments and dollar-quoted bodies are left as they are.
std::string unquote_needless(std::string_view text);

// Splits at ',' at parenthesis depth 0 (quotes respected); pieces are trimmed.
std::vector<std::string> split_top_level(std::string_view text);

// Case-insensitive search for a keyword as a whole word, outside quotes, from `from`.
size_t find_keyword(std::string_view text, std::string_view keyword, size_t from = 0);

// A byte position in a statement as a 1-based line, given the statement's first line.
uint64_t line_at(std::string_view text, size_t pos, uint64_t first_line);

}  // namespace dbautopsy::pgsql
