// The VFS that gathers a loading store's page reads and writes (src/store/batch_vfs.cpp): a
// store written with gathering on holds exactly what one written without it holds, whatever
// SQLite reads back, rewrites or truncates on the way, and other connections see it all.
#include <sqlite3.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <random>

#include "store/batch_vfs.hpp"
#include "store/store.hpp"
#include "support.hpp"

using namespace dbautopsy;

namespace {

// Random work in one transaction, with a page cache of a few pages so that SQLite spills pages
// to the file and reads them back all the time: inserts (some rows over several overflow
// pages), updates that grow and shrink rows, deletes, reads between them, an index.
void work(store::Store& s, unsigned seed) {
  std::mt19937 rng(seed);
  s.exec("PRAGMA cache_size = 8");
  s.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v BLOB)");
  s.exec("CREATE INDEX t_k ON t(k)");
  s.exec("BEGIN IMMEDIATE");
  store::Statement insert = s.prepare("INSERT INTO t(id, k, v) VALUES (?, ?, zeroblob(?))");
  store::Statement update = s.prepare("UPDATE t SET v = randomblob(?) WHERE id = ?");
  store::Statement erase = s.prepare("DELETE FROM t WHERE id = ?");
  for (int i = 1; i <= 6000; ++i) {
    const int size =
        rng() % 10 == 0 ? static_cast<int>(rng() % 20000) : static_cast<int>(rng() % 300);
    insert.run(i, fmt::format("key {}", rng() % 997), size);
    if (i % 7 == 0) {
      update.run(static_cast<int>(rng() % 9000), static_cast<int64_t>(rng() % i) + 1);
    }
    if (i % 11 == 0) {
      erase.run(static_cast<int64_t>(rng() % i) + 1);
    }
    if (i % 500 == 0) {
      CHECK(s.scalar_int("SELECT count(*) FROM t WHERE k >= 'key 5'") >= 0);
    }
  }
  s.exec("COMMIT");
  // Shrink the file (VACUUM writes it anew, then truncates it).
  s.exec("DELETE FROM t WHERE id % 3 = 0");
  s.exec("VACUUM");
}

// The content of t, in a form that does not depend on pages: each row's key, length, and a
// check of its bytes (randomblob differs between runs, so lengths and zero counts are kept).
std::string content(store::Store& s) {
  store::Statement st = s.prepare(
      "SELECT group_concat(id || ':' || k || ':' || length(v), ',') FROM "
      "(SELECT id, k, v FROM t ORDER BY id)");
  REQUIRE(st.step());
  std::string out = st.get_text(0);
  st.reset();
  return out;
}

}  // namespace

TEST_CASE("a store written with its page reads and writes gathered is the same store") {
  REQUIRE(store::batch_vfs_name() != nullptr);
  test::TempDir dir;
  std::string with, without;
  for (bool on : {true, false}) {
    auto path = dir.path() / (on ? "with.db" : "without.db");
    store::Store s = store::Store::open(path);
    s.exec("PRAGMA journal_mode = MEMORY");
    CHECK(store::set_batching(s.handle(), on) == SQLITE_OK);
    // randomblob differs from run to run: the same seed gives the same lengths.
    work(s, 42);
    (on ? with : without) = content(s);
    CHECK(s.scalar_int("SELECT count(*) FROM t") > 3000);
    // Another connection sees every committed page while gathering is still on.
    {
      store::Store other = store::Store::open(path, store::Store::Mode::read_only);
      CHECK(other.scalar_int("SELECT count(*) FROM t") == s.scalar_int("SELECT count(*) FROM t"));
    }
    CHECK(store::set_batching(s.handle(), false) == SQLITE_OK);
    store::Statement check = s.prepare("PRAGMA integrity_check");
    REQUIRE(check.step());
    CHECK(check.get_text(0) == "ok");
    check.reset();
  }
  CHECK(with == without);
  CHECK(!with.empty());
}

TEST_CASE("gathering is for files opened through the VFS only") {
  store::Store memory = store::Store::open_memory();
  CHECK(store::set_batching(memory.handle(), true) == SQLITE_NOTFOUND);
}
