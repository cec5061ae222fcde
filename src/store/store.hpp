// The fact store: one SQLite file per investigation.
//
// The schema is src/store/schema.sql, compiled into the binary. Opening a new file creates
// it; opening an existing file checks `PRAGMA user_version` and refuses a store written by
// another schema version with a message that says what to do. Writers insert through
// prepared statements inside explicit transactions, which is what makes bulk loading fast.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dbautopsy::store {

constexpr int k_schema_version = 22;
std::string_view schema_sql();

// A value to bind: NULL, an integer, a real, or text. Optional values bind NULL when empty.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  // Takes a statement already prepared.
  Statement(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept
      : m_db(other.m_db), m_stmt(std::exchange(other.m_stmt, nullptr)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, std::nullptr_t);
  void bind(int index, int64_t v);
  void bind(int index, int v) { bind(index, static_cast<int64_t>(v)); }
  void bind(int index, uint64_t v) { bind(index, static_cast<int64_t>(v)); }
  void bind(int index, bool v) { bind(index, static_cast<int64_t>(v ? 1 : 0)); }
  void bind(int index, double v);
  void bind(int index, std::string_view v);
  void bind(int index, const std::string& v) { bind(index, std::string_view(v)); }
  void bind(int index, const char* v) { bind(index, std::string_view(v)); }
  template <typename T>
  void bind(int index, const std::optional<T>& v) {
    if (v) {
      bind(index, *v);
    } else {
      bind(index, nullptr);
    }
  }

  // Binds args to ?1..?N, runs the statement to completion and resets it. Text is bound
  // without a copy: the arguments outlive the statement's run, and reset() clears the
  // bindings.
  template <typename... Args>
  void run(const Args&... args) {
    int i = 0;
    (bind_for_run(++i, args), ...);
    while (step()) {
    }
    reset();
  }

  // Steps once; true when a row is available.
  bool step();
  void reset();

  int column_count() const;
  std::string column_name(int i) const;
  bool is_null(int i) const;
  int column_type(
      int i) const;  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL
  int64_t get_int(int i) const;
  double get_double(int i) const;
  std::string get_text(int i) const;
  // The text without a copy: valid until the next step(), reset() or read of the column
  // as another type.
  std::string_view get_text_view(int i) const;
  std::optional<std::string> get_optional_text(int i) const;
  std::optional<int64_t> get_optional_int(int i) const;

 private:
  // Text bound as SQLITE_STATIC (no copy): only for run(), whose arguments outlive it.
  void bind_static(int index, std::string_view v);
  template <typename T>
  void bind_for_run(int index, const T& v) {
    bind(index, v);
  }
  void bind_for_run(int index, const std::string& v) { bind_static(index, v); }
  void bind_for_run(int index, std::string_view v) { bind_static(index, v); }
  void bind_for_run(int index, const std::optional<std::string>& v) {
    if (v) {
      bind_static(index, *v);
    } else {
      bind(index, nullptr);
    }
  }

  sqlite3* m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

class Store {
 public:
  // cache: read_write, for a store that only caches what a case folder holds (investigate's
  // DIR/.dbautopsy/facts.db): one of another schema version is deleted and made anew.
  enum class Mode { read_write, read_only, cache };

  // Opens or creates the store at path (parent folders are created unless read_only).
  // Throws Error when the file is not a dbautopsy store or has another schema version.
  static Store open(const std::filesystem::path& path, Mode mode = Mode::read_write);
  // A fresh in-memory store, for tests.
  static Store open_memory();

  Store(Store&& other) noexcept
      : m_db(std::exchange(other.m_db, nullptr)),
        m_path(std::move(other.m_path)),
        m_created(other.m_created) {}
  Store& operator=(Store&&) = delete;
  Store(const Store&) = delete;
  ~Store();

  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);
  // Prepares one statement that may only read the facts: a SELECT (or VALUES, WITH ...)
  // reading tables and views, calling functions (not load_extension), and pragmas that only
  // report (table_info, index_list, user_version without a value, ...). Anything else --
  // ATTACH, DETACH, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, a pragma given a value,
  // VACUUM, a second statement after the first -- is refused by SQLite's authorizer before
  // the statement runs: Error naming what was refused, and `who` ("query", "rule X (F)").
  Statement prepare_read_only(std::string_view sql, std::string_view who);
  int64_t last_insert_id() const;
  int64_t scalar_int(std::string_view sql);
  // SQLite's page cache. open() sets k_load_cache_mib, which a large load needs (its index
  // builds); the rules and reports that read a store back set k_read_cache_mib: SQLite's
  // sorters and temporary b-trees are sized after the page cache too, so 64 MiB made
  // `analyze` on a store of 1.8 million log entries peak at 216 MiB (41 MiB with 8, in the
  // same time).
  static constexpr int k_load_cache_mib = 64;
  static constexpr int k_read_cache_mib = 8;
  void set_cache_mib(int mib);
  sqlite3* handle() { return m_db; }
  const std::filesystem::path& path() const { return m_path; }
  // Whether open() made this store (it did not exist, or was an empty file): nothing in it
  // was there before this run.
  bool created() const { return m_created; }

  class Transaction {
   public:
    explicit Transaction(Store& store);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

   private:
    Store& m_store;
    bool m_done = false;
  };

  // A load into a store this run created (created(), a file): its rollback journal is kept
  // in memory, not written beside it (WAL), nothing is synced to disk until the end, and the
  // indexes of the log tables are built after the load instead of row by row. While it lasts
  // the store is marked incomplete (user_version = -k_schema_version): a crash or kill
  // mid-load leaves a store that open() refuses as incomplete (a cache store is made anew),
  // never one that looks whole. finish() builds the indexes, syncs, marks the store complete
  // and goes back to WAL. Without finish() (an exception on its way) the mark stays. On a
  // store that existed before, or in memory, it does nothing.
  class BulkLoad {
   public:
    explicit BulkLoad(Store& store);
    BulkLoad(const BulkLoad&) = delete;
    BulkLoad& operator=(const BulkLoad&) = delete;
    bool active() const { return m_active; }
    void finish();

   private:
    Store& m_store;
    bool m_active = false;
    bool m_batching = false;             // the store's page reads and writes gathered
    std::vector<std::string> m_indexes;  // CREATE INDEX statements dropped for the load
  };

 private:
  explicit Store(sqlite3* db, std::filesystem::path path) : m_db(db), m_path(std::move(path)) {}
  // from_image: the store was made by this process from the empty store's image.
  void initialise_or_check(bool from_image = false);

  sqlite3* m_db;
  std::filesystem::path m_path;
  bool m_created = false;
};

}  // namespace dbautopsy::store
