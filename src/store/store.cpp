#include "store/store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <strings.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "base/error.hpp"
#include "base/timing.hpp"
#include "store/batch_vfs.hpp"

namespace dbautopsy::store {

extern const std::string_view k_schema_sql;   // generated from schema.sql
extern const std::string_view k_store_image;  // the empty store: schema.sql applied (make_image)

std::string_view schema_sql() {
  return k_schema_sql;
}

namespace {

[[noreturn]] void sqlite_fail(sqlite3* db, std::string_view what) {
  throw Error(fmt::format("fact store: {}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"));
}

// The authorizer of prepare_read_only: what may be in a statement that only reads.
struct ReadOnlyCheck {
  std::string refused;        // the first thing refused, in words
  bool schema_write = false;  // `refused` is a write to sqlite_master / sqlite_temp_master
};

const char* action_name(int action) {
  switch (action) {
    case SQLITE_ATTACH:
      return "ATTACH";
    case SQLITE_DETACH:
      return "DETACH";
    case SQLITE_INSERT:
      return "INSERT into";
    case SQLITE_UPDATE:
      return "UPDATE of";
    case SQLITE_DELETE:
      return "DELETE from";
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_VTABLE:
      return "CREATE";
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_VTABLE:
      return "DROP";
    case SQLITE_ALTER_TABLE:
      return "ALTER TABLE";
    case SQLITE_REINDEX:
      return "REINDEX";
    case SQLITE_ANALYZE:
      return "ANALYZE";
    case SQLITE_TRANSACTION:
      return "a transaction statement";
    case SQLITE_SAVEPOINT:
      return "SAVEPOINT";
    default:
      return "a statement that writes";
  }
}

int read_only_authorizer(void* data, int action, const char* a, const char* b, const char*,
                         const char*) {
  auto& check = *static_cast<ReadOnlyCheck*>(data);
  // Pragmas that report and never change anything, whatever their argument (a table name).
  static constexpr std::array k_report_pragmas = {
      "table_info",  "table_xinfo",      "table_list",     "index_list",     "index_info",
      "index_xinfo", "foreign_key_list", "database_list",  "collation_list", "function_list",
      "module_list", "pragma_list",      "compile_options"};
  // Pragmas that report when given no value, and change a setting when given one.
  static constexpr std::array k_value_pragmas = {
      "user_version", "schema_version", "application_id", "page_count",
      "page_size",    "encoding",       "freelist_count", "data_version"};
  auto named = [](const char* name, const auto& list) {
    for (const char* n : list) {
      if (name && ::strcasecmp(name, n) == 0) {
        return true;
      }
    }
    return false;
  };
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      if (b && ::strcasecmp(b, "load_extension") == 0) {
        break;
      }
      return SQLITE_OK;
    case SQLITE_UPDATE:
      // SQLite asks this of itself when a table-valued function (json_each) is first used;
      // a statement that would really write is refused below (sqlite3_stmt_readonly).
      if (a &&
          (::strcasecmp(a, "sqlite_master") == 0 || ::strcasecmp(a, "sqlite_temp_master") == 0)) {
        return SQLITE_OK;
      }
      break;
    case SQLITE_PRAGMA:
      if (named(a, k_report_pragmas) || (b == nullptr && named(a, k_value_pragmas))) {
        return SQLITE_OK;
      }
      break;
    default:
      break;
  }
  // SQLite asks for the write to its schema table before the CREATE or DROP itself: the
  // statement's own action is the one to name.
  bool schema_write = a && (::strncasecmp(a, "sqlite_", 7) == 0) &&
                      (action == SQLITE_INSERT || action == SQLITE_DELETE);
  bool definition = action >= SQLITE_CREATE_INDEX && action <= SQLITE_DROP_VIEW;
  if (definition && check.schema_write) {
    check.refused.clear();
  }
  if (check.refused.empty() && schema_write) {
    check.schema_write = true;
    check.refused = "a change to the schema (CREATE, DROP, ALTER)";
  } else if (check.refused.empty()) {
    check.schema_write = schema_write;
    if (action == SQLITE_PRAGMA) {
      check.refused =
          b ? fmt::format("PRAGMA {} = {}", a ? a : "", b) : fmt::format("PRAGMA {}", a ? a : "");
    } else if (action == SQLITE_FUNCTION) {
      check.refused = fmt::format("the function {}", b ? b : "");
    } else if (action == SQLITE_ATTACH && a) {
      check.refused = fmt::format("ATTACH of {}", a);
    } else {
      std::string object = a && (action == SQLITE_INSERT || action == SQLITE_UPDATE ||
                                 action == SQLITE_DELETE || action == SQLITE_ALTER_TABLE ||
                                 (action >= SQLITE_CREATE_INDEX && action <= SQLITE_DROP_VIEW))
                               ? std::string(" ") + a
                               : std::string();
      check.refused = action_name(action) + object;
    }
  }
  return SQLITE_DENY;
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : m_db(db) {
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &m_stmt, nullptr) != SQLITE_OK) {
    sqlite_fail(db, fmt::format("cannot prepare `{}`", sql));
  }
}

Statement::~Statement() {
  sqlite3_finalize(m_stmt);
}

void Statement::bind(int index, std::nullptr_t) {
  sqlite3_bind_null(m_stmt, index);
}
void Statement::bind(int index, int64_t v) {
  sqlite3_bind_int64(m_stmt, index, v);
}
void Statement::bind(int index, double v) {
  sqlite3_bind_double(m_stmt, index, v);
}
void Statement::bind(int index, std::string_view v) {
  sqlite3_bind_text64(m_stmt, index, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
void Statement::bind_static(int index, std::string_view v) {
  sqlite3_bind_text64(m_stmt, index, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
}

bool Statement::step() {
  int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  std::string sql = sqlite3_sql(m_stmt) ? sqlite3_sql(m_stmt) : "";
  sqlite3_reset(m_stmt);
  sqlite_fail(m_db, fmt::format("`{}`", sql));
}

void Statement::reset() {
  sqlite3_reset(m_stmt);
  sqlite3_clear_bindings(m_stmt);
}

int Statement::column_count() const {
  return sqlite3_column_count(m_stmt);
}
std::string Statement::column_name(int i) const {
  return sqlite3_column_name(m_stmt, i);
}
bool Statement::is_null(int i) const {
  return sqlite3_column_type(m_stmt, i) == SQLITE_NULL;
}
int Statement::column_type(int i) const {
  return sqlite3_column_type(m_stmt, i);
}
int64_t Statement::get_int(int i) const {
  return sqlite3_column_int64(m_stmt, i);
}
double Statement::get_double(int i) const {
  return sqlite3_column_double(m_stmt, i);
}

std::string Statement::get_text(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, i))) : std::string();
}

std::string_view Statement::get_text_view(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, i));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(m_stmt, i)))
           : std::string_view();
}

std::optional<std::string> Statement::get_optional_text(int i) const {
  if (is_null(i)) {
    return std::nullopt;
  }
  return get_text(i);
}

std::optional<int64_t> Statement::get_optional_int(int i) const {
  if (is_null(i)) {
    return std::nullopt;
  }
  return get_int(i);
}

namespace {

// Before SQLite's first use: no count of allocated memory (each allocation would take a
// global mutex for it; dbautopsy never asks for the count).
void configure_sqlite() {
  static const bool done = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)done;
}

// A new store at `path`, made from the empty store's image: written into an unnamed file in
// the same folder, which is then given the name, so that another process opening the same path
// meanwhile sees either no file or the whole image. False when the file exists or anything
// fails (a folder whose file system has no unnamed files, ...): SQLite then makes the store
// and the schema is run on it, as before.
bool write_image(const std::filesystem::path& path) {
#if defined(__linux__) && defined(O_TMPFILE)
  std::error_code ec;
  if (std::filesystem::exists(path, ec) || ec) {
    return false;
  }
  std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : ".";
  int fd = ::open(folder.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    return false;
  }
  bool ok = true;
  for (size_t done = 0; ok && done < k_store_image.size();) {
    ssize_t n = ::write(fd, k_store_image.data() + done, k_store_image.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    ok = n > 0;
    done += ok ? static_cast<size_t>(n) : 0;
  }
  // The name comes last: a link to the open file (EEXIST when another process was first).
  std::string self = fmt::format("/proc/self/fd/{}", fd);
  ok = ok && ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0;
  ::close(fd);
  return ok;
#else
  (void)path;
  return false;
#endif
}

// Copies the empty store's image into db (an empty database): SQLite's backup API, from a
// read-only in-memory database over the image's bytes.
bool copy_image(sqlite3* db) {
  sqlite3* image = nullptr;
  bool ok = sqlite3_open(":memory:", &image) == SQLITE_OK;
  // SQLITE_DESERIALIZE_READONLY: SQLite never writes these bytes.
  auto* bytes = reinterpret_cast<unsigned char*>(const_cast<char*>(k_store_image.data()));
  auto size = static_cast<sqlite3_int64>(k_store_image.size());
  ok = ok && sqlite3_deserialize(image, "main", bytes, size, size, SQLITE_DESERIALIZE_READONLY) ==
                 SQLITE_OK;
  sqlite3_backup* backup = ok ? sqlite3_backup_init(db, "main", image, "main") : nullptr;
  ok = backup != nullptr && sqlite3_backup_step(backup, -1) == SQLITE_DONE;
  ok = sqlite3_backup_finish(backup) == SQLITE_OK && ok;
  sqlite3_close(image);
  return ok;
}

}  // namespace

Store Store::open(const std::filesystem::path& path, Mode mode) {
  configure_sqlite();
  if (mode != Mode::read_only && path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  if (mode == Mode::cache && std::filesystem::exists(path)) {
    int64_t version = 0;
    sqlite3* old = nullptr;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_open_v2(path.c_str(), &old, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
        sqlite3_prepare_v2(old, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      version = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(old);
    if (version != 0 && version != k_schema_version) {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        std::error_code ec;
        std::filesystem::remove(path.string() + suffix, ec);
      }
    }
  }
  if (mode == Mode::read_only && !std::filesystem::exists(path)) {
    throw Error(fmt::format("no fact store at {} (create one with `dbautopsy ingest --store {}`)",
                            path.string(), path.string()));
  }
  const bool from_image = mode != Mode::read_only && write_image(path);
  sqlite3* db = nullptr;
  // One connection is used by one thread at a time: SQLite's own mutexes only cost (a log
  // of millions of entries is millions of inserts).
  int flags = SQLITE_OPEN_NOMUTEX |
              (mode == Mode::read_only ? SQLITE_OPEN_READONLY
                                       : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  if (sqlite3_open_v2(path.c_str(), &db, flags, batch_vfs_name()) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw Error(fmt::format("cannot open fact store {}: {}", path.string(), msg));
  }
  Store store(db, path);
  store.initialise_or_check(from_image);
  return store;
}

Store Store::open_memory() {
  configure_sqlite();
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    sqlite3_close(db);
    throw Error("cannot open an in-memory fact store");
  }
  Store store(db, ":memory:");
  if (!copy_image(db)) {
    throw Error(fmt::format("cannot make an in-memory fact store: {}", sqlite3_errmsg(db)));
  }
  store.initialise_or_check(true);
  return store;
}

void Store::set_cache_mib(int mib) {
  // A negative cache_size is in KiB.
  exec(fmt::format("PRAGMA cache_size = -{}", mib * 1024));
}

Store::~Store() {
  if (m_db) {
    sqlite3_close_v2(m_db);
  }
}

void Store::initialise_or_check(bool from_image) {
  sqlite3_busy_timeout(m_db, 5000);
  // A page cache of 64 MiB to begin with (the default 2 MiB makes a large ingest read and write the
  // same index pages again and again); the store is a cache of its inputs, so a crash may lose the
  // last transaction but never corrupts it (WAL with synchronous = NORMAL).
  set_cache_mib(k_load_cache_mib);
  exec("PRAGMA synchronous = NORMAL");
  int64_t version = 0;
  int64_t tables = 0;
  try {
    version = scalar_int("PRAGMA user_version");
    tables = scalar_int("SELECT count(*) FROM sqlite_master");
  } catch (const Error&) {
    throw Error(
        fmt::format("{} is not a dbautopsy fact store (not an SQLite database)", m_path.string()));
  }
  if (from_image && version == k_schema_version) {
    // Made by this process from the empty store's image (the schema already in it). It keeps
    // the image's rollback journal: the BulkLoad that follows sets its own journal mode and
    // WAL when it finishes (switching to WAL here, then away and back, cost eight of the
    // eleven fdatasyncs of an ingest).
    m_created = m_path != ":memory:";
    return;
  }
  if (version == 0 && tables == 0) {
    exec("PRAGMA journal_mode = WAL");
    exec("BEGIN");
    exec(schema_sql());
    exec("COMMIT");
    m_created = m_path != ":memory:";
    return;
  }
  if (version == -k_schema_version) {
    throw Error(
        fmt::format("fact store {} is incomplete: the load that created it stopped before it "
                    "finished (the process was killed or crashed); remove it and ingest the "
                    "artifacts again",
                    m_path.string()));
  }
  if (version == 0) {
    throw Error(
        fmt::format("{} is an SQLite database but not a dbautopsy fact store", m_path.string()));
  }
  if (version != k_schema_version) {
    throw Error(fmt::format(
        "fact store {} has schema version {}, this dbautopsy reads version {}: ingest the "
        "artifacts again into a new store (--store NEW.db)",
        m_path.string(), version, k_schema_version));
  }
}

void Store::exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  if (sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw Error(m_path.empty() ? fmt::format("fact store: {}", msg)
                               : fmt::format("fact store {}: {}", m_path.string(), msg));
  }
}

Statement Store::prepare(std::string_view sql) {
  return Statement(m_db, sql);
}

Statement Store::prepare_read_only(std::string_view sql, std::string_view who) {
  ReadOnlyCheck check;
  auto refuse = [&](const std::string& what) {
    throw Error(fmt::format(
        "{}: {} is not allowed: the facts may only be read (one SELECT, no ATTACH, no writes, no "
        "pragma that sets a value)",
        who, what));
  };
  sqlite3_set_authorizer(m_db, read_only_authorizer, &check);
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  // What follows the statement must be nothing but space and comments: a second statement
  // would otherwise be silently ignored.
  bool more = false;
  if (rc == SQLITE_OK && tail != nullptr) {
    sqlite3_stmt* next = nullptr;
    const char* end = sql.data() + sql.size();
    int rc2 = sqlite3_prepare_v2(m_db, tail, static_cast<int>(end - tail), &next, nullptr);
    more = rc2 != SQLITE_OK || next != nullptr;
    sqlite3_finalize(next);
  }
  sqlite3_set_authorizer(m_db, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    if (!check.refused.empty()) {
      refuse(check.refused);
    }
    throw Error(fmt::format("{}: {}", who, sqlite3_errmsg(m_db)));
  }
  if (stmt == nullptr) {
    throw Error(fmt::format("{}: no SQL statement to run", who));
  }
  if (!check.refused.empty()) {
    sqlite3_finalize(stmt);
    refuse(check.refused);
  }
  if (more) {
    sqlite3_finalize(stmt);
    refuse(check.refused.empty() ? "a second statement after the first" : check.refused);
  }
  if (!sqlite3_stmt_readonly(stmt)) {
    sqlite3_finalize(stmt);
    refuse("a statement that writes");
  }
  return Statement(m_db, stmt);
}

int64_t Store::last_insert_id() const {
  return sqlite3_last_insert_rowid(m_db);
}

int64_t Store::scalar_int(std::string_view sql) {
  Statement st(m_db, sql);
  int64_t v = st.step() ? st.get_int(0) : 0;
  st.reset();
  return v;
}

Store::Transaction::Transaction(Store& store) : m_store(store) {
  m_store.exec("BEGIN IMMEDIATE");
}

Store::Transaction::~Transaction() {
  if (!m_done) {
    try {
      m_store.exec("ROLLBACK");
    } catch (...) {
    }
  }
}

void Store::Transaction::commit() {
  m_store.exec("COMMIT");
  m_done = true;
}

Store::BulkLoad::BulkLoad(Store& store) : m_store(store) {
  if (!store.created()) {
    return;
  }
  // A fresh store has nothing to lose: the journal in memory still undoes a transaction
  // (or a statement) that fails, and the mark says incomplete until finish().
  std::vector<std::string> names;
  Statement st = store.prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
      "tbl_name IN ('log_event_row', 'log_entity') ORDER BY name");
  while (st.step()) {
    names.push_back(st.get_text(0));
    m_indexes.push_back(st.get_text(1));
  }
  st.reset();
  store.exec("PRAGMA synchronous = OFF");  // first: the journal mode's switch syncs nothing
  store.exec("PRAGMA journal_mode = MEMORY");
  store.exec("BEGIN IMMEDIATE");
  store.exec(fmt::format("PRAGMA user_version = {}", -k_schema_version));
  for (const auto& name : names) {
    store.exec(fmt::format("DROP INDEX \"{}\"", name));
  }
  store.exec("COMMIT");
  m_active = true;
  // Nothing else reads the store until finish(): SQLite's page writes and the index builds'
  // page reads may be gathered into fewer system calls (batch_vfs.hpp).
  m_batching = set_batching(store.m_db, BatchMode::gather) == SQLITE_OK;
}

void Store::BulkLoad::finish() {
  if (!m_active) {
    return;
  }
  m_active = false;
  // The indexes, then one sync of everything written (the commit at synchronous = FULL),
  // then the mark: a store marked complete is whole on disk.
  m_store.exec("PRAGMA synchronous = FULL");
  m_store.exec("BEGIN IMMEDIATE");
  for (const auto& sql : m_indexes) {
    m_store.exec(sql);
  }
  timing::phase("finish load: indexes");
  m_store.exec("COMMIT");
  timing::phase("finish load: sync");
  if (m_batching) {
    // What follows (investigate's rules and reports) scans log tables of millions of rows:
    // runs of page reads read ahead. Only this process writes a store it created.
    m_batching = false;
    if (int rc = set_batching(m_store.m_db, BatchMode::read_ahead); rc != SQLITE_OK) {
      throw Error(fmt::format("cannot write the fact store {}: {}", m_store.m_path.string(),
                              sqlite3_errstr(rc)));
    }
  }
  // Then WAL, and the mark written in it: at synchronous = NORMAL a commit in WAL is not
  // synced (the checkpoint at close is), so a crash may lose the mark -- the store is then
  // incomplete and read again -- but never keeps a mark without the data synced above.
  m_store.exec("PRAGMA synchronous = NORMAL");
  m_store.exec("PRAGMA journal_mode = WAL");
  m_store.exec(fmt::format("PRAGMA user_version = {}", k_schema_version));
}

}  // namespace dbautopsy::store
