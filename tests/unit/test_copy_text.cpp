// Decoding COPY's text format.

#include <catch2/catch.hpp>

#include "pgdump/copy_text.hpp"

using dbautopsy::pgdump::decode_copy_field;
using dbautopsy::pgdump::decode_copy_row;

TEST_CASE("NULL, empty and plain fields") {
  auto f = decode_copy_row("1\t\\N\t\tplain text");
  REQUIRE(f.size() == 4);
  CHECK(*f[0] == "1");
  CHECK_FALSE(f[1].has_value());
  CHECK(*f[2] == "");
  CHECK(*f[3] == "plain text");
}

TEST_CASE("backslash escapes decode as the server reads them") {
  CHECK(*decode_copy_field("a\\tb\\nc\\\\d") == "a\tb\nc\\d");
  CHECK(*decode_copy_field("\\101\\x42\\7") == "AB\x07");
  CHECK(*decode_copy_field("\\q") == "q");
  CHECK(*decode_copy_field("\\\\N") == "\\N");  // an escaped backslash then N is text
  CHECK(*decode_copy_field("caf\xc3\xa9") == "caf\xc3\xa9");
}

TEST_CASE("an escaped tab does not split the row") {
  auto f = decode_copy_row("a\\\tb\tc");
  REQUIRE(f.size() == 2);
  CHECK(*f[0] == "a\tb");
  CHECK(*f[1] == "c");
}
