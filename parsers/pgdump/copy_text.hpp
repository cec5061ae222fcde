// COPY's text format, decoded exactly as the server's COPY FROM reads it
// (src/backend/commands/copyfromparse.c): fields separated by a tab, "\N" alone is NULL,
// and backslash escapes \b \f \n \r \t \v, \ digits (octal, up to three), \x hex (up to
// two), any other \c meaning c.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dbautopsy::pgdump {

using CopyField = std::optional<std::string>;  // nullopt: NULL

// Splits one row (without its newline) into decoded fields.
std::vector<CopyField> decode_copy_row(std::string_view row, char delimiter = '\t');

// Decodes one raw field (the text between delimiters) in place of `out`.
CopyField decode_copy_field(std::string_view raw);

}  // namespace dbautopsy::pgdump
