// COPY text and CSV decoding (parsers/pgdump/copy_text.cpp). The first byte picks the
// delimiter, quote and NULL string. A decoded text row, encoded back in the canonical form,
// must decode to the same fields: a mismatch is reported as a crash.
#include <cstdlib>

#include "../fuzz.hpp"
#include "pgdump/copy_text.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  uint8_t flags = data[0];
  std::string_view row = fuzz::as_text(data + 1, size - 1);
  static constexpr char delimiters[] = {'\t', ',', '|', ';'};
  char delimiter = delimiters[flags & 3];
  std::string_view null_string = (flags & 4) ? std::string_view("NULL") : std::string_view("\\N");

  std::vector<pgdump::CopyField> fields = pgdump::decode_copy_row(row, delimiter, null_string);
  (void)pgdump::decode_copy_field(row, null_string);

  // Round trip through the canonical tab-delimited form.
  std::string encoded;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      encoded += '\t';
    }
    pgdump::encode_copy_field(fields[i], encoded);
  }
  if (!fields.empty() && pgdump::decode_copy_row(encoded) != fields) {
    std::abort();
  }

  char quote = (flags & 8) ? '\'' : '"';
  char escape = (flags & 16) ? '\\' : quote;
  (void)pgdump::decode_csv_record(row, delimiter == '\t' ? ',' : delimiter, quote, escape,
                                  (flags & 32) ? std::string_view("\\N") : std::string_view());
  return 0;
}
