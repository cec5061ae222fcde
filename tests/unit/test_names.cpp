// PostgreSQL's naming rules: quote_ident and the names the server invents.

#include <catch2/catch.hpp>

#include <set>

#include "base/text.hpp"
#include "pgsql/names.hpp"

using namespace dbautopsy::pgsql;

TEST_CASE("quote_ident quotes reserved words, upper case and odd characters only") {
  CHECK(quote_ident("orders") == "orders");
  CHECK(quote_ident("name") == "name");            // unreserved keyword
  CHECK(quote_ident("user") == "\"user\"");        // reserved
  CHECK(quote_ident("order") == "\"order\"");      // reserved
  CHECK(quote_ident("between") == "\"between\"");  // column-name keyword
  CHECK(quote_ident("Customer") == "\"Customer\"");
  CHECK(quote_ident("my table") == "\"my table\"");
  CHECK(quote_ident("a\"b") == "\"a\"\"b\"");
  CHECK(quote_ident("_x1") == "_x1");
  CHECK(qualified("public", "order") == "public.\"order\"");
}

TEST_CASE("quote_literal doubles quotes, and backslashes in an E'' string") {
  // The examples of PostgreSQL's documentation of quote_literal().
  CHECK(quote_literal("O'Reilly") == "'O''Reilly'");
  CHECK(quote_literal("42.5") == "'42.5'");
  CHECK(quote_literal("C:\\Windows") == "E'C:\\\\Windows'");
  CHECK(quote_literal("") == "''");
}

TEST_CASE("make_object_name truncates the longer name first to fit 63 bytes") {
  CHECK(make_object_name("orders", "", "pkey") == "orders_pkey");
  CHECK(make_object_name("orders", "customer_id", "fkey") == "orders_customer_id_fkey");
  std::string long_table(60, 't');
  std::string name = make_object_name(long_table, "col", "key");
  CHECK(name.size() == 63);
  CHECK(name == std::string(55, 't') + "_col_key");
  // Both long: they are shortened in turn.
  std::string a(40, 'a');
  std::string b(40, 'b');
  std::string both = make_object_name(a, b, "idx");
  CHECK(both.size() == 63);
  CHECK(both == std::string(29, 'a') + "_" + std::string(29, 'b') + "_idx");
}

TEST_CASE("make_object_name never cuts a multibyte character") {
  // "é" is two bytes; 31 of them are 62 bytes.
  std::string accented;
  for (int i = 0; i < 31; ++i) {
    accented += "\xc3\xa9";
  }
  std::string name = make_object_name(accented, "", "check");
  CHECK(name.size() <= 63);
  CHECK(name.substr(name.size() - 6) == "_check");
  std::string head = name.substr(0, name.size() - 6);
  CHECK(head.size() % 2 == 0);
}

TEST_CASE("choose_name appends 1, 2, ... to the label until the name is free") {
  std::set<std::string> taken = {"t_a_check", "t_a_check1"};
  auto is_taken = [&](const std::string& n) { return taken.count(n) > 0; };
  CHECK(choose_name("t", "a", "check", is_taken) == "t_a_check2");
  CHECK(choose_name("t", "b", "check", is_taken) == "t_b_check");
}

TEST_CASE("name_addition joins columns with underscores") {
  CHECK(name_addition({"a", "b", "c"}) == "a_b_c");
  CHECK(name_addition({}) == "");
}

TEST_CASE("keyword categories come from PostgreSQL 15's own table") {
  CHECK(keyword_category("select") == KeywordCategory::reserved);
  CHECK(keyword_category("integer") == KeywordCategory::col_name);
  CHECK(keyword_category("left") == KeywordCategory::type_func_name);
  CHECK(keyword_category("cascade") == KeywordCategory::unreserved);
  CHECK(keyword_category("orders") == KeywordCategory::none);
}

TEST_CASE("names on a command line: split outside double quotes, quotes taken off") {
  using dbautopsy::text::split_names;
  using dbautopsy::text::unquote_name;
  auto parts = split_names(R"("Sales-Stage".orders:"Order, No",id)", ':');
  REQUIRE(parts.size() == 2);
  CHECK(unquote_name(parts[0]) == "Sales-Stage.orders");
  auto columns = split_names(parts[1], ',');
  REQUIRE(columns.size() == 2);
  CHECK(unquote_name(columns[0]) == "Order, No");
  CHECK(unquote_name(columns[1]) == "id");
  CHECK(unquote_name(R"( "a""b" . "c d" )") == "a\"b.c d");
  CHECK(unquote_name(" Teams ") == "Teams");  // case is kept: matched without regard to it
  CHECK(split_names("a:b:c", ':').size() == 3);
  CHECK(split_names(R"("a:b":c)", ':').size() == 2);
  CHECK(split_names("", ',').size() == 1);
  CHECK(unquote_name(R"("unterminated)") == "unterminated");
}

TEST_CASE("a list of names: parted by commas, or by white space between two names") {
  using dbautopsy::text::split_name_list;
  using dbautopsy::text::unquote_name;
  auto names = [](std::string_view s) {
    std::vector<std::string> out;
    for (auto n : split_name_list(s)) {
      out.push_back(unquote_name(n));
    }
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(names("league_id,series_name") == V{"league_id", "series_name"});
  CHECK(names("league_id series_name") == V{"league_id", "series_name"});
  CHECK(names(" league_id \t series_name ") == V{"league_id", "series_name"});
  CHECK(names("a b, c") == V{"a", "b", "c"});
  CHECK(names(R"("Order No" id)") == V{"Order No", "id"});
  CHECK(names(R"("a b","c, d")") == V{"a b", "c, d"});
  // white space next to what joins or parts names parts nothing
  CHECK(names("public . teams : a") == V{"public.teams:a"});
  CHECK(names("teams:a , b") == V{"teams:a", "b"});
  CHECK(names("t1:a b,t2:c") == V{"t1:a", "b", "t2:c"});
  CHECK(names("") == V{""});
}
