// A stored row as the store keeps it (table_row.row_values): a JSON array of strings and
// nulls, one per column, as nlohmann::json's dump(-1, ' ', false, replace) writes it.
// These functions read and write that text without building a JSON document: the ingest
// writes up to --row-cap rows per table and the analysis reads them back (decode_into, into
// one buffer for many rows; decode gives one row's values as strings). Their results
// are byte for byte those of nlohmann::json (the unit tests compare them on random rows);
// text they are not sure of (bytes past ASCII, whose UTF-8 nlohmann::json checks and
// replaces by its own rules; \u escapes, or anything but an array of strings and nulls when
// reading) goes through nlohmann::json itself.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dbautopsy::json_row {

using Value = std::optional<std::string>;
using View = std::optional<std::string_view>;

std::string encode(const std::vector<Value>& values);
// The same text for values that are views (of rows read back by decode_into).
std::string encode(std::span<const View> values);

// The values of `text`; false (and `out` cleared) when it is not a JSON array (an element
// that is neither a string nor null is read as null, as the analysis always did).
bool decode(std::string_view text, std::vector<Value>& out);

// A value decode_into() read: its text is arena[at, at + size), unless it is null. (SQLite
// keeps no text of 4 GiB.)
struct Cell {
  uint64_t at = 0;
  uint32_t size = 0;
  bool null = true;
};
// What decode() reads, appended: the values' text to `arena`, a Cell per value to `cells`.
// Many rows share one arena, with no allocation per value (the analysis reads back up to
// --row-cap rows of every table). When `text` is not a JSON array it returns false and
// leaves both as they were.
bool decode_into(std::string_view text, std::string& arena, std::vector<Cell>& cells);

}  // namespace dbautopsy::json_row
