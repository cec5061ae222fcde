// COPY's text format, decoded exactly as the server's COPY FROM reads it
// (src/backend/commands/copyfromparse.c): fields separated by a tab, "\N" alone is NULL,
// and backslash escapes \b \f \n \r \t \v, \ digits (octal, up to three), \x hex (up to
// two), any other \c meaning c. CSV records are decoded too (decode_csv_record).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbautopsy::pgdump {

using CopyField = std::optional<std::string>;  // nullopt: NULL

// Splits one row (without its newline) into decoded fields; a raw field equal to
// `null_string` (before any escape is decoded) is NULL.
std::vector<CopyField> decode_copy_row(std::string_view row, char delimiter = '\t',
                                       std::string_view null_string = "\\N");

// Decodes one raw field (the text between delimiters).
CopyField decode_copy_field(std::string_view raw, std::string_view null_string = "\\N");

// Appends a field as COPY TO writes it in text format with a tab delimiter (the canonical
// form: equal values have equal text): NULL is \N; backslash, \b \f \n \r \t \v escaped
// (src/backend/commands/copyto.c, CopyAttributeOutText).
void encode_copy_field(const CopyField& field, std::string& out);

// CSV format (copyfromparse.c, CopyReadAttributesCSV): splits one record (without its
// final newline; it may hold newlines inside quotes) into fields. Quotes may open and close
// anywhere in a field; inside them `escape` followed by `quote` or `escape` is that
// character. A field is NULL when it had no quote at all and its raw text is `null_string`.
// A record that ends inside quotes ends its last field there (the server would reject it:
// "unterminated CSV quoted field").
std::vector<CopyField> decode_csv_record(std::string_view record, char delimiter = ',',
                                         char quote = '"', char escape = '"',
                                         std::string_view null_string = "");

}  // namespace dbautopsy::pgdump
