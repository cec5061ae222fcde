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
    CHECK(store::set_batching(s.handle(), on ? store::BatchMode::gather : store::BatchMode::off) ==
          SQLITE_OK);
    // randomblob differs from run to run: the same seed gives the same lengths.
    work(s, 42);
    (on ? with : without) = content(s);
    CHECK(s.scalar_int("SELECT count(*) FROM t") > 3000);
    // Another connection sees every committed page while gathering is still on.
    {
      store::Store other = store::Store::open(path, store::Store::Mode::read_only);
      CHECK(other.scalar_int("SELECT count(*) FROM t") == s.scalar_int("SELECT count(*) FROM t"));
    }
    CHECK(store::set_batching(s.handle(), store::BatchMode::off) == SQLITE_OK);
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
  CHECK(store::set_batching(memory.handle(), store::BatchMode::gather) == SQLITE_NOTFOUND);
}

TEST_CASE("reading ahead never hides what another connection wrote") {
  test::TempDir dir;
  auto path = dir.path() / "shared.db";
  store::Store a = store::Store::open(path);  // WAL
  a.exec("PRAGMA cache_size = 8");
  a.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
  a.exec("BEGIN");
  store::Statement insert = a.prepare("INSERT INTO t(id, v) VALUES (?, printf('%.*c', ?, 'x'))");
  for (int i = 1; i <= 4000; ++i) {
    insert.run(i, 100 + i % 300);
  }
  a.exec("COMMIT");
  store::Store b = store::Store::open(path);
  CHECK(store::set_batching(a.handle(), store::BatchMode::read_ahead) == SQLITE_OK);
  CHECK(store::set_batching(b.handle(), store::BatchMode::read_ahead) == SQLITE_OK);
  b.exec("PRAGMA cache_size = 8");
  // The first rows (their pages are what a reader read ahead last), and the whole table.
  const std::string first =
      "SELECT sum(v LIKE 'z%') * 100000 + sum(length(v)) FROM t WHERE id <= 300";
  const std::string all = "SELECT sum(length(v)) * 10000 + count(*) FROM t";
  // Rows looked up alone, on the pages a scan of the first rows read ahead last.
  const std::string some =
      "SELECT sum(v LIKE 'z%') * 100000 + sum(length(v)) FROM t WHERE id IN "
      "(240, 250, 260, 270, 280, 290, 297, 298, 299, 300, 301, 330)";
  for (int round = 0; round < 12; ++round) {
    // A reads (runs of reads: read ahead), B changes those rows into the file, A reads again.
    for (const auto& sum : {all, first}) {
      CHECK(a.scalar_int(sum) == b.scalar_int(sum));
    }
    // The same sizes: the rows stay on their pages, which A read ahead.
    b.exec(
        fmt::format("UPDATE t SET v = CASE WHEN v LIKE 'z%' THEN 'x' ELSE 'z' END || "
                    "substr(v, 2) WHERE id <= 300 AND id % 3 = {}",
                    round % 3));
    b.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    CHECK(a.scalar_int(some) == b.scalar_int(some));
    CHECK(a.scalar_int(first) == b.scalar_int(first));
    CHECK(a.scalar_int(all) == b.scalar_int(all));
    // And the other way round: A writes, B reads.
    CHECK(b.scalar_int(first) == a.scalar_int(first));
    a.exec(
        fmt::format("UPDATE t SET v = CASE WHEN v LIKE 'z%' THEN 'x' ELSE 'z' END || "
                    "substr(v, 2) WHERE id IN (250, 290, 299, 330) AND {} % 2 = 0",
                    round));
    a.exec("PRAGMA wal_checkpoint(FULL)");
    CHECK(b.scalar_int(some) == a.scalar_int(some));
    a.exec(fmt::format("DELETE FROM t WHERE id % 97 = {}", round));
    a.exec("PRAGMA wal_checkpoint(FULL)");
    CHECK(b.scalar_int(first) == a.scalar_int(first));
    CHECK(b.scalar_int(all) == a.scalar_int(all));
  }
  store::Statement check = a.prepare("PRAGMA integrity_check");
  REQUIRE(check.step());
  CHECK(check.get_text(0) == "ok");
  check.reset();
}
