// Stored rows (table_row.row_values): the fast writer and reader against nlohmann::json.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>

#include "base/json_row.hpp"

namespace json_row = dbautopsy::json_row;
using Row = std::vector<json_row::Value>;

namespace {

std::string reference_encode(const Row& row) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& v : row) {
    arr.push_back(v ? nlohmann::json(*v) : nlohmann::json());
  }
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Row reference_decode(const std::string& text, bool& ok) {
  Row out;
  auto arr = nlohmann::json::parse(text, nullptr, false);
  ok = arr.is_array();
  if (ok) {
    for (const auto& v : arr) {
      out.push_back(v.is_string() ? json_row::Value(v.get<std::string>()) : json_row::Value());
    }
  }
  return out;
}

// decode_into() appends after what an arena and its cells already hold (another row's), and
// leaves both as they were when the text is not an array.
void check_into(const std::string& text, const Row& expected, bool ok) {
  std::string arena = "earlier row";
  std::vector<json_row::Cell> cells{{0, 7, false}, {}};
  REQUIRE(json_row::decode_into(text, arena, cells) == ok);
  REQUIRE(arena.substr(0, 11) == "earlier row");
  if (!ok) {
    REQUIRE(arena.size() == 11);
    REQUIRE(cells.size() == 2);
    return;
  }
  REQUIRE(cells.size() == 2 + expected.size());
  std::vector<json_row::View> views;
  for (size_t i = 0; i < expected.size(); ++i) {
    const json_row::Cell& c = cells[2 + i];
    REQUIRE(c.null == !expected[i].has_value());
    if (expected[i]) {
      REQUIRE(arena.substr(c.at, c.size) == *expected[i]);
      views.emplace_back(std::string_view(arena).substr(c.at, c.size));
    } else {
      views.emplace_back();
    }
  }
  // Views encode as the strings they show do.
  REQUIRE(json_row::encode(std::span<const json_row::View>(views)) == json_row::encode(expected));
}

void check_row(const Row& row) {
  std::string text = json_row::encode(row);
  REQUIRE(text == reference_encode(row));
  Row back;
  bool ok = false;
  Row expected = reference_decode(text, ok);
  REQUIRE(json_row::decode(text, back) == ok);
  REQUIRE(back == expected);
  check_into(text, expected, ok);
}

void check_text(const std::string& text) {
  Row back;
  bool ok = false;
  Row expected = reference_decode(text, ok);
  INFO(text);
  REQUIRE(json_row::decode(text, back) == ok);
  REQUIRE(back == expected);
  check_into(text, expected, ok);
}

}  // namespace

TEST_CASE("stored rows: fixed forms") {
  check_row({});
  check_row({std::nullopt});
  check_row({"", std::nullopt, "a"});
  check_row({"quote \" backslash \\ slash /", "\b\f\n\r\t", std::string("\x01\x1f\x7f", 3)});
  check_row({std::string("nul\0byte", 8)});
  check_row({"caf\xc3\xa9", "\xff invalid", "\xe2\x80\xae bidi"});
  CHECK(json_row::encode({"a", std::nullopt}) == R"(["a",null])");
}

TEST_CASE("stored rows: text written by other hands reads as nlohmann reads it") {
  for (std::string t : {R"([])",
                        R"( [ "a" , null ] )",
                        R"(["a\/b","\u00e9","\ud83d\ude00"])",
                        R"(["a",1,true,{"k":"v"},[1]])",
                        R"({"a":1})",
                        R"("a")",
                        R"([)",
                        R"(["a")",
                        R"(["a"] x)",
                        R"(["a",])",
                        R"([nul])",
                        R"([null)",
                        R"(["\x"])",
                        "[\"tab\there\"]",
                        "[\"caf\xc3\xa9\"]",
                        "[\"\xff\"]",
                        "",
                        "  ",
                        R"([,])",
                        R"(["a" "b"])",
                        R"([nullx])"}) {
    check_text(t);
  }
}

TEST_CASE("stored rows: random rows encode and decode as nlohmann::json does") {
  std::mt19937_64 rng(20261205);
  const std::string alphabet = std::string("ab \"\\/\b\f\n\r\t\x01\x1f\x7f", 15) +
                               std::string("\0", 1) + "\xc3\xa9\xe2\x80\xae\xff\xed\xa0\x80";
  for (int n = 0; n < 20000; ++n) {
    Row row(rng() % 6);
    for (auto& v : row) {
      if (rng() % 5 == 0) {
        continue;  // null
      }
      std::string s(rng() % 12, ' ');
      for (auto& c : s) {
        c = alphabet[rng() % alphabet.size()];
      }
      // Mostly ASCII, as most rows are: the fast path must be the one tested.
      if (rng() % 3 != 0) {
        for (auto& c : s) {
          if (static_cast<unsigned char>(c) >= 0x80) {
            c = 'x';
          }
        }
      }
      v = s;
    }
    check_row(row);
  }
}
