// How log entries are stored (src/store): a statement that ends its message is stored once,
// each format once, and a load into a new store runs without WAL, marked incomplete until it
// is finished. A new store is a copy of the empty store's image, which must be what running
// schema.sql makes.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "store/facts.hpp"
#include "support.hpp"

using namespace dbautopsy;

namespace {

int64_t add_log_artifact(store::Store& s) {
  store::ArtifactFact a;
  a.path = "postgresql.log";
  a.kind = "pg-log-stderr";
  return store::add_artifact(s, a);
}

store::LogEventFact event(int64_t line, std::string message, store::OptText statement,
                          std::string format = "pg-stderr:%m [%p] ") {
  store::LogEventFact e;
  e.line = e.end_line = line;
  e.severity = "LOG";
  e.message = std::move(message);
  e.statement = std::move(statement);
  e.format = std::move(format);
  e.template_text = "t";
  e.template_hash = "0000000000000001";
  return e;
}

std::string text(store::Store& s, const std::string& sql) {
  store::Statement st = s.prepare(sql);
  std::string out = !st.step() ? "(no row)" : st.is_null(0) ? "(null)" : st.get_text(0);
  st.reset();
  return out;
}

// The schema of a store, as SQLite keeps it: every table, index and view with its SQL, and
// the version.
std::string schema_of(sqlite3* db) {
  std::string out;
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT type || ' ' || name || ' ' || tbl_name || ': ' || "
                             "coalesce(sql, '') FROM sqlite_master ORDER BY type, name",
                             -1, &st, nullptr) == SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    out += "\n";
  }
  sqlite3_finalize(st);
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  out += fmt::format("user_version {}\n", sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  return out;
}

std::string schema_of(store::Store& s) {
  return schema_of(s.handle());
}

}  // namespace

TEST_CASE("a new store is the empty store's image: what schema.sql makes") {
  // What running schema.sql on an empty database makes, as stores were made before the image.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(":memory:", &raw) == SQLITE_OK);
  std::string sql = "BEGIN;\n" + std::string(store::schema_sql()) + "\nCOMMIT;";
  REQUIRE(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  const std::string expected = schema_of(raw);
  sqlite3_close(raw);
  REQUIRE(expected.find("table log_event_row") != std::string::npos);
  REQUIRE(expected.find(fmt::format("user_version {}", store::k_schema_version)) !=
          std::string::npos);
  test::TempDir dir;
  // A store made from the image keeps its rollback journal until a bulk load (which sets its
  // own, then WAL: no switch to WAL and back, each costing syncs); one made by running the
  // schema is in WAL at once.
  auto check_new = [&](store::Store& s, const char* journal = "delete") {
    CHECK(schema_of(s) == expected);
    CHECK(s.created());
    CHECK(text(s, "PRAGMA journal_mode") == journal);
    CHECK(text(s, "PRAGMA integrity_check") == "ok");
    CHECK(s.scalar_int("SELECT count(*) FROM artifact") == 0);
  };

  SECTION("a file store, by an absolute path") {
    store::Store s = store::Store::open(dir.path() / "facts.db");
    check_new(s);
  }
  SECTION("a file store, by a path relative to the current folder, with and without ./") {
    auto cwd = std::filesystem::current_path();
    std::filesystem::current_path(dir.path());
    for (const char* name : {"facts.db", "./other.db", "sub/../third.db"}) {
      std::filesystem::create_directories(dir.path() / "sub");
      store::Store s = store::Store::open(name);
      check_new(s);
      CHECK(std::filesystem::exists(dir.path() / std::filesystem::path(name).filename()));
    }
    std::filesystem::current_path(cwd);
  }
  SECTION("an empty file already there: the schema is run on it, as before") {
    std::ofstream(dir.path() / "empty.db").close();
    store::Store s = store::Store::open(dir.path() / "empty.db");
    check_new(s, "wal");
  }
  SECTION("in memory") {
    store::Store s = store::Store::open_memory();
    CHECK(schema_of(s) == expected);
    CHECK(!s.created());
    CHECK(s.scalar_int("SELECT count(*) FROM artifact") == 0);
  }
  SECTION("a store that is there is opened, not made again") {
    {
      store::Store s = store::Store::open(dir.path() / "facts.db");
      store::Store::BulkLoad bulk(s);
      add_log_artifact(s);
      bulk.finish();
      CHECK(text(s, "PRAGMA journal_mode") == "wal");
      CHECK(s.scalar_int("PRAGMA user_version") == store::k_schema_version);
    }
    store::Store s = store::Store::open(dir.path() / "facts.db");
    CHECK(!s.created());
    CHECK(text(s, "PRAGMA journal_mode") == "wal");
    CHECK(s.scalar_int("SELECT count(*) FROM artifact") == 1);
    CHECK(schema_of(s) == expected);
  }
}

TEST_CASE("a statement that ends its message is stored once; the view gives it back") {
  store::Store s = store::Store::open_memory();
  int64_t id = add_log_artifact(s);
  store::FactWriter writer(s, id);
  struct Case {
    std::string message;
    store::OptText statement;
    bool once;  // stored once, from the message
  };
  const std::vector<Case> cases{
      {"statement: SELECT 1", "SELECT 1", true},
      {"duration: 0.042 ms  statement: SELECT * FROM t WHERE a = 'é'",
       "SELECT * FROM t WHERE a = 'é'", true},
      {"SELECT 1", "SELECT 1", true},                               // the whole message
      {"statement: SELECT 1;", "SELECT 1", false},                  // not its end
      {"relation \"t\" does not exist", "SELECT * FROM t", false},  // a STATEMENT: line
      {"durée: 1 ms  statement: SELECT 1", "SELECT 1", false},      // non-ASCII before it
      {std::string("statement: SELECT '\0'", 22), std::string("SELECT '\0'", 10), false},  // NUL
      {std::string("a\0b statement: SELECT 2", 23), "SELECT 2", false},  // NUL before it
      {"statement: ", "", false},                                        // empty
      {"statement: SELECT 1", std::nullopt, false},                      // none
  };
  int64_t line = 0;
  for (const auto& c : cases) {
    writer.add(event(++line, c.message, c.statement));
  }
  line = 0;
  for (const auto& c : cases) {
    ++line;
    CAPTURE(line, c.message);
    store::Statement row = s.prepare(
        "SELECT r.statement IS NULL, r.statement_at IS NOT NULL, e.statement, e.message "
        "FROM log_event_row r JOIN log_event e ON e.id = r.id WHERE r.line = ?1");
    row.bind(1, line);
    REQUIRE(row.step());
    CHECK(row.get_int(1) == (c.once ? 1 : 0));
    if (c.statement) {
      CHECK(row.get_int(0) == (c.once ? 1 : 0));
      REQUIRE(!row.is_null(2));
      CHECK(row.get_text(2) == *c.statement);
    } else {
      CHECK(row.is_null(2));
    }
    CHECK(row.get_text(3) == c.message);
    row.reset();
  }
}

TEST_CASE("each format is stored once and the view gives every entry its own") {
  store::Store s = store::Store::open_memory();
  int64_t id = add_log_artifact(s);
  {
    store::FactWriter writer(s, id);
    writer.add(event(1, "one", std::nullopt, "pg-stderr:%m [%p] "));
    writer.add(event(2, "two", std::nullopt, "pg-csv"));
    writer.add(event(3, "three", std::nullopt, "pg-stderr:%m [%p] "));
  }
  {
    // Another writer (another artifact) finds the formats already there.
    store::FactWriter writer(s, add_log_artifact(s));
    writer.add(event(1, "four", std::nullopt, "pg-csv"));
  }
  CHECK(s.scalar_int("SELECT count(*) FROM log_format") == 2);
  CHECK(text(s,
             "SELECT group_concat(format, '|') FROM (SELECT format FROM log_event ORDER BY "
             "id)") == "pg-stderr:%m [%p] |pg-csv|pg-stderr:%m [%p] |pg-csv");
}

TEST_CASE("a load into a new store is marked incomplete until it is finished") {
  test::TempDir dir;
  auto path = dir.path() / "facts.db";
  auto indexes = [](store::Store& s) {
    return text(s,
                "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE "
                "type = 'index' AND tbl_name IN ('log_event_row', 'log_entity') AND sql IS "
                "NOT NULL ORDER BY name)");
  };
  auto load = [](store::Store& s, int n) {
    store::Store::Transaction tx(s);
    store::FactWriter writer(s, add_log_artifact(s));
    for (int i = 1; i <= n; ++i) {
      auto e = event(i, fmt::format("statement: SELECT {}", i), fmt::format("SELECT {}", i));
      e.entities.push_back({"count", std::string("rows"), std::to_string(i)});
      writer.add(std::move(e));
    }
    tx.commit();
  };

  SECTION("finished: complete, WAL, indexes built, the same rows") {
    {
      store::Store s = store::Store::open(path);
      CHECK(s.created());
      store::Store::BulkLoad bulk(s);
      CHECK(bulk.active());
      CHECK(s.scalar_int("PRAGMA user_version") == -store::k_schema_version);
      CHECK(text(s, "PRAGMA journal_mode") == "memory");
      CHECK(indexes(s) == "(null)");  // none
      load(s, 2000);
      // Another process opening the store meanwhile is told it is incomplete.
      CHECK_THROWS_WITH(store::Store::open(path, store::Store::Mode::read_only),
                        Catch::Contains("is incomplete"));
      bulk.finish();
      CHECK(!bulk.active());
      CHECK(s.scalar_int("PRAGMA user_version") == store::k_schema_version);
      CHECK(text(s, "PRAGMA journal_mode") == "wal");
      CHECK(indexes(s) == "log_event_template");
    }
    store::Store s = store::Store::open(path, store::Store::Mode::read_only);
    CHECK(s.scalar_int("SELECT count(*) FROM log_event WHERE statement = substr(message, 12)") ==
          2000);
    CHECK(s.scalar_int("SELECT count(*) FROM log_entity") == 2000);
    // An entry's entities are found by its id through log_entity's key, built as it was written.
    {
      store::Statement plan =
          s.prepare("EXPLAIN QUERY PLAN SELECT value FROM log_entity WHERE event_id = 1234");
      REQUIRE(plan.step());
      CHECK_THAT(plan.get_text(3), Catch::Contains("PRIMARY KEY (event_id=?)"));
      plan.reset();
    }
    CHECK(s.scalar_int("SELECT count(*) FROM log_entity x JOIN log_event_row e ON e.id = "
                       "x.event_id WHERE x.n = 1 AND x.value = CAST(e.line AS TEXT)") == 2000);
    CHECK(text(s, "PRAGMA integrity_check") == "ok");
    // A store that existed before is loaded as always.
    store::Store again = store::Store::open(path);
    CHECK(!again.created());
    store::Store::BulkLoad bulk(again);
    CHECK(!bulk.active());
    CHECK(again.scalar_int("PRAGMA user_version") == store::k_schema_version);
    CHECK(text(again, "PRAGMA journal_mode") == "wal");
    load(again, 10);
    bulk.finish();
    CHECK(indexes(again) == "log_event_template");
    CHECK(again.scalar_int("SELECT count(*) FROM log_event") == 2010);
  }

  SECTION("not finished (an error on its way): the mark stays") {
    try {
      store::Store s = store::Store::open(path);
      store::Store::BulkLoad bulk(s);
      load(s, 100);
      throw Error("stopped");
    } catch (const Error&) {
    }
    CHECK_THROWS_WITH(store::Store::open(path), Catch::Contains("is incomplete") &&
                                                    Catch::Contains("facts.db") &&
                                                    Catch::Contains("ingest the artifacts"));
    CHECK_THROWS_WITH(store::Store::open(path, store::Store::Mode::read_only),
                      Catch::Contains("is incomplete"));
  }

  SECTION("killed mid-load: incomplete, and a cache store is made anew") {
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // In the middle of a transaction, many pages written, then gone without a word.
      store::Store s = store::Store::open(path);
      store::Store::BulkLoad bulk(s);
      load(s, 3000);
      store::Store::Transaction tx(s);
      store::FactWriter writer(s, add_log_artifact(s));
      for (int i = 1; i <= 50000; ++i) {
        writer.add(event(i, fmt::format("statement: SELECT {}", i), std::nullopt));
      }
      _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK_THROWS_WITH(store::Store::open(path), Catch::Contains("is incomplete"));
    store::Store s = store::Store::open(path, store::Store::Mode::cache);
    CHECK(s.created());
    CHECK(s.scalar_int("SELECT count(*) FROM log_event_row") == 0);
    CHECK(s.scalar_int("PRAGMA user_version") == store::k_schema_version);
  }

  SECTION("in memory: nothing changes") {
    store::Store s = store::Store::open_memory();
    CHECK(!s.created());
    store::Store::BulkLoad bulk(s);
    CHECK(!bulk.active());
    CHECK(s.scalar_int("PRAGMA user_version") == store::k_schema_version);
  }
}
