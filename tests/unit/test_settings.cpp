// Settings of roles, databases and sessions (db_setting): every syntax PostgreSQL 15 accepts
// for them, read from libpg_query's tree, from dumps (pg_dumpall, pg_dump --create) and from
// the statements of log entries.

#include <catch2/catch.hpp>

#include "logs/template.hpp"
#include "pgsql/parse.hpp"
#include "pgsql/settings.hpp"
#include "support.hpp"

using dbautopsy::test::ingest_sql;
namespace pgsql = dbautopsy::pgsql;
namespace store = dbautopsy::store;

namespace {

// The one setting a statement gives ("" fields for NULL): scope|role|database|name|action|
// value|schemas.
std::string one_setting(const std::string& sql,
                        const std::optional<std::string>& user = std::nullopt) {
  auto parsed = pgsql::parse(sql);
  REQUIRE(parsed.ok());
  std::vector<store::SettingFact> all;
  for (const auto& item : pgsql::field(parsed.tree, "stmts")) {
    for (auto& f : pgsql::settings_of(pgsql::field(item, "stmt"), user)) {
      all.push_back(std::move(f));
    }
  }
  if (all.empty()) {
    return "none";
  }
  REQUIRE(all.size() == 1);
  const auto& f = all.front();
  return f.scope + "|" + f.role_name.value_or("") + "|" + f.database_name.value_or("") + "|" +
         f.name + "|" + f.action + "|" + f.value.value_or("<null>") + "|" + f.schemas.value_or("");
}

}  // namespace

TEST_CASE("role and database settings: every form of ALTER ROLE / USER / DATABASE ... SET") {
  CHECK(one_setting("ALTER ROLE app SET search_path TO test_schema, public") ==
        R"(role|app||search_path|set|test_schema, public|["test_schema","public"])");
  // pg_dumpall's form: each schema a string constant.
  CHECK(one_setting("ALTER ROLE app SET search_path TO 'test_schema', 'public';") ==
        R"(role|app||search_path|set|test_schema, public|["test_schema","public"])");
  // Keywords in any case, =, quoted names kept verbatim, "$user", no spaces in the list.
  CHECK(
      one_setting(R"(alter user "App User" set SEARCH_PATH="Test_Schema","$user",PUBLIC)") ==
      R"(role|App User||search_path|set|"Test_Schema", "$user", public|["Test_Schema","$user","public"])");
  // One string constant is one schema name, commas and all (the server quotes it so).
  CHECK(one_setting("ALTER ROLE app SET search_path = 'test_schema, public'") ==
        R"(role|app||search_path|set|"test_schema, public"|["test_schema, public"])");
  CHECK(
      one_setting(
          R"(ALTER ROLE app IN DATABASE "My Db" SET search_path TO 'Weird Schema', 'public')") ==
      R"(role_in_database|app|My Db|search_path|set|"Weird Schema", public|["Weird Schema","public"])");
  CHECK(one_setting("ALTER DATABASE prod SET search_path=test_schema,public") ==
        R"(database||prod|search_path|set|test_schema, public|["test_schema","public"])");
  CHECK(one_setting("ALTER ROLE ALL SET search_path TO x") ==
        R"(all_roles|||search_path|set|x|["x"])");
  // ALTER ROLE ALL IN DATABASE d is the database's own setting (the same pg_db_role_setting
  // row; pg_dumpall writes it back as ALTER DATABASE d SET).
  CHECK(one_setting("ALTER ROLE ALL IN DATABASE prod SET search_path TO x") ==
        R"(database||prod|search_path|set|x|["x"])");
  CHECK(one_setting("ALTER ROLE app RESET search_path") == "role|app||search_path|reset|<null>|");
  CHECK(one_setting("ALTER ROLE app SET search_path TO DEFAULT") ==
        "role|app||search_path|reset|<null>|");
  CHECK(one_setting("ALTER ROLE app IN DATABASE prod RESET ALL") ==
        "role_in_database|app|prod|all|reset|<null>|");
  CHECK(one_setting("ALTER DATABASE prod RESET search_path") ==
        "database||prod|search_path|reset|<null>|");
  // FROM CURRENT: the session's value, which the statement does not show.
  CHECK(one_setting("ALTER ROLE app SET search_path FROM CURRENT") ==
        "role|app||search_path|set_from_current|<null>|");
  CHECK(one_setting("ALTER ROLE CURRENT_USER SET search_path TO a", std::string("bob")) ==
        R"(role|bob||search_path|set|a|["a"])");
  CHECK(one_setting("ALTER ROLE SESSION_USER SET search_path TO a") ==
        R"(role|||search_path|set|a|["a"])");
  // Other parameters of roles and databases are read too.
  CHECK(one_setting("ALTER ROLE app IN DATABASE prod SET work_mem TO '8MB'") ==
        "role_in_database|app|prod|work_mem|set|8MB|");
}

TEST_CASE("session settings: SET, SET SESSION, SET LOCAL, RESET and set_config of search_path") {
  CHECK(one_setting("SET search_path TO test_schema, public", std::string("app")) ==
        R"(session|app||search_path|set|test_schema, public|["test_schema","public"])");
  CHECK(one_setting("set session SEARCH_PATH = \"Test\",public") ==
        R"(session|||search_path|set|"Test", public|["Test","public"])");
  CHECK(one_setting("SET LOCAL search_path TO x") == R"(transaction|||search_path|set|x|["x"])");
  CHECK(one_setting("RESET search_path") == "session|||search_path|reset|<null>|");
  CHECK(one_setting("SET search_path TO DEFAULT") == "session|||search_path|reset|<null>|");
  CHECK(one_setting("RESET ALL") == "session|||all|reset|<null>|");
  CHECK(one_setting("SET work_mem = '1MB'") == "none");
  CHECK(one_setting("SET TIME ZONE 'UTC'") == "none");
  // set_config's string is a list as the server splits it: unquoted names folded, quoted kept.
  CHECK(one_setting(R"(SELECT set_config('search_path', 'Test_Schema , "X Y",public', false))") ==
        R"(session|||search_path|set|test_schema, "X Y", public|["test_schema","X Y","public"])");
  CHECK(one_setting("SELECT pg_catalog.set_config('search_path', '', false)") ==
        "session|||search_path|set||[]");
  CHECK(one_setting("SELECT set_config('search_path', 'a', true)") ==
        R"(transaction|||search_path|set|a|["a"])");
  CHECK(one_setting("SELECT set_config('search_path', 'a,,b', false)") == "none");  // refused
  CHECK(one_setting("SELECT other.set_config('search_path', 'a', false)") == "none");
  CHECK(one_setting("SELECT set_config('work_mem', '1MB', false)") == "none");
}

TEST_CASE("search_path lists as the server splits them") {
  using V = std::vector<std::string>;
  CHECK(pgsql::split_identifier_list("a,b") == V{"a", "b"});
  CHECK(pgsql::split_identifier_list("  A ,\t\"B\"\"c\" ") == V{"a", "B\"c"});
  CHECK(pgsql::split_identifier_list("\"$user\", public") == V{"$user", "public"});
  CHECK(pgsql::split_identifier_list("") == V{});
  CHECK(!pgsql::split_identifier_list("a,"));
  CHECK(!pgsql::split_identifier_list("\"a"));
  CHECK(!pgsql::split_identifier_list("a b"));
  CHECK(pgsql::search_path_text({"$user", "public", "Test", "select"}) ==
        R"("$user", public, "Test", "select")");
  CHECK(pgsql::may_set_search_path("alter role x set Search_Path to y"));
  CHECK(pgsql::may_set_search_path("ALTER ROLE x RESET\n  ALL"));
  CHECK(!pgsql::may_set_search_path("SELECT * FROM reset_all_log"));
  CHECK(!pgsql::may_set_search_path("SELECT 1"));
}

TEST_CASE("a dump's role and database settings are facts with their line") {
  auto r = ingest_sql(R"(SET default_transaction_read_only = off;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE ROLE app;
ALTER ROLE app WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;
ALTER ROLE app SET search_path TO 'test_schema', 'public';
ALTER DATABASE prod SET search_path TO 'other';
ALTER ROLE app IN DATABASE prod SET work_mem TO '8MB';
)");
  // pg_dump's own session settings (set_config, SET) are not role or database settings.
  CHECK(r.one("SELECT group_concat(line || ' ' || scope || ' ' || coalesce(role_name, '-') || ' ' "
              "|| coalesce(database_name, '-') || ' ' || name || '=' || value, '; ') FROM "
              "(SELECT * FROM db_setting ORDER BY line)") ==
        "5 role app - search_path=test_schema, public; 6 database - prod search_path=other; "
        "7 role_in_database app prod work_mem=8MB");
  CHECK(r.one("SELECT statement FROM db_setting WHERE line = 5") ==
        "ALTER ROLE app SET search_path TO 'test_schema', 'public';");
  CHECK(r.one("SELECT source FROM db_setting GROUP BY source") == "dump");
}

TEST_CASE("a log entry's statement gives its settings; an error's STATEMENT is marked failed") {
  store::LogEventFact e;
  e.line = 12;
  e.severity = "LOG";
  e.user_name = "app";
  e.database_name = "shop";
  e.pid = 4711;
  e.message = "statement: SET search_path TO test_schema, public";
  e.statement = "SET search_path TO test_schema, public";
  dbautopsy::logs::finish_event(e);
  REQUIRE(e.settings.size() == 1);
  CHECK(e.settings[0].source == "log");
  CHECK(e.settings[0].scope == "session");
  CHECK(e.settings[0].role_name == "app");
  CHECK(e.settings[0].database_name == "shop");
  CHECK(e.settings[0].line == 12);
  CHECK(e.settings[0].pid == 4711);
  CHECK(!e.settings[0].failed);

  store::LogEventFact err;
  err.line = 20;
  err.severity = "ERROR";
  err.user_name = "app";
  err.message = "permission denied to set parameter \"search_path\"";
  err.statement = "ALTER ROLE CURRENT_USER SET search_path TO x;\nSELECT 1";
  dbautopsy::logs::finish_event(err);
  REQUIRE(err.settings.size() == 1);
  CHECK(err.settings[0].scope == "role");
  CHECK(err.settings[0].role_name == "app");
  CHECK(err.settings[0].failed);
  CHECK(err.settings[0].statement == "ALTER ROLE CURRENT_USER SET search_path TO x; SELECT 1");

  // Nothing to read: no statement, or one that sets no search_path, or one that does not parse.
  for (const char* sql : {"SELECT 1", "SET search_path TO", "SELECT 'search_path'"}) {
    store::LogEventFact other;
    other.severity = "LOG";
    other.message = std::string("statement: ") + sql;
    other.statement = sql;
    dbautopsy::logs::finish_event(other);
    CHECK(other.settings.empty());
  }
}
