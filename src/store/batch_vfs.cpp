#include "store/batch_vfs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace dbautopsy::store {

namespace {

constexpr int k_batch_op = 0x64626174;  // our file control ("dbat")
// At most 64 KiB a call: SQLite's unix VFS reads and writes at most 128 KiB at once (it
// takes the low 17 bits of the length), and a larger request comes back short.
constexpr sqlite3_int64 k_write_cap = 64 * 1024;   // bytes gathered before a write
constexpr sqlite3_int64 k_read_ahead = 64 * 1024;  // bytes read at once in a sequential run
// A load writes a store of up to gigabytes with synchronous = OFF and syncs it once at the
// end. Left alone, the kernel starts writing the file back only then (its threshold for dirty
// pages is a share of the memory), and that one sync waits for all of it: 1.4 s of a 1 GiB
// log's ingest. While gathering, every k_write_behind bytes written hand the file's dirty
// pages to the kernel's writeback (sync_file_range, which does not wait for the disk), so
// that the disk writes while the load goes on. The call itself may take milliseconds (it
// submits the pages, and waits when the device's queue is full): a thread of its own makes
// it, so that the loading thread never waits for it.
constexpr sqlite3_int64 k_write_behind = 32 * 1024 * 1024;

// The thread that hands a file's dirty pages to the kernel's writeback when asked.
class WriteBehind {
 public:
  explicit WriteBehind(int fd) : m_fd(fd), m_thread([this] { run(); }) {}
  WriteBehind(const WriteBehind&) = delete;
  WriteBehind& operator=(const WriteBehind&) = delete;
  ~WriteBehind() {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_stop = true;
    }
    m_wake.notify_one();
    m_thread.join();
    ::close(m_fd);
  }
  // Asks for a writeback (one is enough for every request made while one runs).
  void request() {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_pending = true;
    }
    m_wake.notify_one();
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
      m_wake.wait(lock, [this] { return m_pending || m_stop; });
      if (m_stop) {
        return;
      }
      m_pending = false;
      lock.unlock();
#ifdef __linux__
      ::sync_file_range(m_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
      lock.lock();
    }
  }

  int m_fd;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_pending = false;
  bool m_stop = false;
  std::thread m_thread;  // last: started once the members it uses are
};

// Bytes [at, at + bytes.size()) of the file, held in memory.
struct Span {
  std::vector<char> bytes;
  sqlite3_int64 at = 0;

  sqlite3_int64 end() const { return at + static_cast<sqlite3_int64>(bytes.size()); }
  // Whether it holds all of [from, from + n).
  bool holds(sqlite3_int64 from, sqlite3_int64 n) const {
    return !bytes.empty() && from >= at && from + n <= end();
  }
  // Whether it holds any of [from, from + n).
  bool overlaps(sqlite3_int64 from, sqlite3_int64 n) const {
    return !bytes.empty() && from < end() && at < from + n;
  }
  // Copies [from, from + n), which it holds, to `out`.
  void copy_to(void* out, sqlite3_int64 from, sqlite3_int64 n) const {
    std::memcpy(out, bytes.data() + (from - at), static_cast<size_t>(n));
  }
};

// A main database file's gathering state.
struct Batch {
  BatchMode mode = BatchMode::off;
  Span w;                                  // writes gathered
  Span r;                                  // bytes read ahead
  sqlite3_int64 last_read_end = -1;        // where the last read ended (a run goes on from there)
  const char* path = nullptr;              // the file's name (SQLite keeps it until xClose)
  std::unique_ptr<WriteBehind> writeback;  // made at the first write-behind
  bool writeback_failed = false;           // the file could not be opened for it
  sqlite3_int64 written = 0;               // bytes written since the last write-behind
};

struct File {
  sqlite3_file base;   // pMethods: ours
  sqlite3_file* real;  // the wrapped VFS's file, in the memory after this struct
  Batch* batch;        // main database files only
};

sqlite3_vfs* real_vfs(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

File* as_file(sqlite3_file* f) {
  return reinterpret_cast<File*>(f);
}

// Counts `n` bytes written while gathering, and starts the writeback of the file's dirty
// pages every k_write_behind of them. Only a hint to the kernel: it changes no byte, and a
// failure changes nothing but the time of the final sync.
void write_behind(Batch* b, sqlite3_int64 n) {
#ifdef __linux__
  b->written += n;
  if (b->written < k_write_behind || b->writeback_failed || !b->path) {
    return;
  }
  b->written = 0;
  if (!b->writeback) {
    // Any descriptor of the file reaches its pages, a read-only one too.
    const int fd = ::open(b->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      b->writeback_failed = true;
      return;
    }
    try {
      b->writeback = std::make_unique<WriteBehind>(fd);
    } catch (...) {  // no thread to be had: the final sync does it all
      ::close(fd);
      b->writeback_failed = true;
      return;
    }
  }
  b->writeback->request();
#else
  (void)b;
  (void)n;
#endif
}

int flush(File* f) {
  Batch* b = f->batch;
  if (!b || b->w.bytes.empty()) {
    return SQLITE_OK;
  }
  int rc = f->real->pMethods->xWrite(f->real, b->w.bytes.data(),
                                     static_cast<int>(b->w.bytes.size()), b->w.at);
  write_behind(b, static_cast<sqlite3_int64>(b->w.bytes.size()));
  b->w.bytes.clear();
  return rc;
}

void drop_read_ahead(Batch* b) {
  if (b) {
    b->r.bytes.clear();
    b->last_read_end = -1;
  }
}

int x_close(sqlite3_file* file) {
  File* f = as_file(file);
  int rc = flush(f);
  int rc2 = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  delete f->batch;  // stops its writeback thread
  f->batch = nullptr;
  return rc != SQLITE_OK ? rc : rc2;
}

int x_read(sqlite3_file* file, void* out, int amt, sqlite3_int64 at) {
  File* f = as_file(file);
  Batch* b = f->batch;
  if (!b || b->mode == BatchMode::off) {
    return f->real->pMethods->xRead(f->real, out, amt, at);
  }
  const sqlite3_int64 n = amt;
  if (b->w.overlaps(at, n)) {
    if (b->w.holds(at, n)) {
      b->w.copy_to(out, at, n);
      return SQLITE_OK;
    }
    if (int rc = flush(f); rc != SQLITE_OK) {
      return rc;
    }
  }
  if (b->r.holds(at, n)) {
    b->r.copy_to(out, at, n);
    b->last_read_end = at + n;
    return SQLITE_OK;
  }
  const bool run = at == b->last_read_end;
  b->last_read_end = at + n;
  if (run && n < k_read_ahead) {
    sqlite3_int64 size = 0;
    if (int rc = f->real->pMethods->xFileSize(f->real, &size); rc != SQLITE_OK) {
      return rc;
    }
    const sqlite3_int64 len = std::min(k_read_ahead, size - at);
    if (len >= n) {
      // What is gathered must be in the file before bytes it overlaps are read from it.
      if (b->w.overlaps(at, len)) {
        if (int rc = flush(f); rc != SQLITE_OK) {
          return rc;
        }
      }
      b->r.bytes.resize(static_cast<size_t>(len));
      int rc = f->real->pMethods->xRead(f->real, b->r.bytes.data(), static_cast<int>(len), at);
      if (rc != SQLITE_OK) {
        b->r.bytes.clear();
        return f->real->pMethods->xRead(f->real, out, amt, at);
      }
      b->r.at = at;
      b->r.copy_to(out, at, n);
      return SQLITE_OK;
    }
  }
  return f->real->pMethods->xRead(f->real, out, amt, at);
}

int x_write(sqlite3_file* file, const void* data, int amt, sqlite3_int64 at) {
  File* f = as_file(file);
  Batch* b = f->batch;
  if (!b || b->mode == BatchMode::off) {
    return f->real->pMethods->xWrite(f->real, data, amt, at);
  }
  const sqlite3_int64 n = amt;
  if (b->r.overlaps(at, n)) {
    b->r.bytes.clear();
  }
  if (b->mode == BatchMode::read_ahead) {
    return f->real->pMethods->xWrite(f->real, data, amt, at);
  }
  const auto* p = static_cast<const char*>(data);
  if (b->w.holds(at, n)) {
    std::copy(p, p + n, b->w.bytes.begin() + (at - b->w.at));  // written again
    return SQLITE_OK;
  }
  if (!b->w.bytes.empty() && at == b->w.end() &&
      static_cast<sqlite3_int64>(b->w.bytes.size()) + n <= k_write_cap) {
    b->w.bytes.insert(b->w.bytes.end(), p, p + n);
    return SQLITE_OK;
  }
  if (int rc = flush(f); rc != SQLITE_OK) {
    return rc;
  }
  if (n >= k_write_cap) {
    int rc = f->real->pMethods->xWrite(f->real, data, amt, at);
    write_behind(b, n);
    return rc;
  }
  b->w.bytes.assign(p, p + n);
  b->w.at = at;
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = as_file(file);
  if (int rc = flush(f); rc != SQLITE_OK) {
    return rc;
  }
  drop_read_ahead(f->batch);
  return f->real->pMethods->xTruncate(f->real, size);
}

int x_sync(sqlite3_file* file, int flags) {
  File* f = as_file(file);
  if (int rc = flush(f); rc != SQLITE_OK) {
    return rc;
  }
  return f->real->pMethods->xSync(f->real, flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  File* f = as_file(file);
  int rc = f->real->pMethods->xFileSize(f->real, size);
  if (rc == SQLITE_OK && f->batch && !f->batch->w.bytes.empty()) {
    *size = std::max(*size, f->batch->w.end());  // as if what is gathered were written
  }
  return rc;
}

int x_lock(sqlite3_file* file, int level) {
  File* f = as_file(file);
  drop_read_ahead(f->batch);
  return f->real->pMethods->xLock(f->real, level);
}

int x_unlock(sqlite3_file* file, int level) {
  File* f = as_file(file);
  int rc = flush(f);
  drop_read_ahead(f->batch);
  int rc2 = f->real->pMethods->xUnlock(f->real, level);
  return rc != SQLITE_OK ? rc : rc2;
}

int x_check_reserved_lock(sqlite3_file* file, int* out) {
  File* f = as_file(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  File* f = as_file(file);
  if (op == k_batch_op) {
    if (!f->batch) {
      return SQLITE_NOTFOUND;
    }
    const auto mode = static_cast<BatchMode>(*static_cast<int*>(arg));
    int rc = flush(f);
    drop_read_ahead(f->batch);
    f->batch->mode = mode;
    if (mode == BatchMode::off) {
      std::vector<char>().swap(f->batch->w.bytes);
      std::vector<char>().swap(f->batch->r.bytes);
    }
    return rc;
  }
  if (int rc = flush(f); rc != SQLITE_OK) {
    return rc;
  }
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int x_sector_size(sqlite3_file* file) {
  File* f = as_file(file);
  return f->real->pMethods->xSectorSize(f->real);
}

int x_device_characteristics(sqlite3_file* file) {
  File* f = as_file(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

int x_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  File* f = as_file(file);
  return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  File* f = as_file(file);
  // A WAL read or write transaction begins or ends: another connection may have written
  // pages into the file since (a checkpoint).
  drop_read_ahead(f->batch);
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

void x_shm_barrier(sqlite3_file* file) {
  File* f = as_file(file);
  f->real->pMethods->xShmBarrier(f->real);
}

int x_shm_unmap(sqlite3_file* file, int delete_flag) {
  File* f = as_file(file);
  return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

int x_fetch(sqlite3_file* file, sqlite3_int64 at, int amt, void** out) {
  File* f = as_file(file);
  if (f->batch && f->batch->mode == BatchMode::gather) {
    *out = nullptr;  // no mapping while gathering: SQLite reads through x_read
    return SQLITE_OK;
  }
  return f->real->pMethods->xFetch(f->real, at, amt, out);
}

int x_unfetch(sqlite3_file* file, sqlite3_int64 at, void* p) {
  File* f = as_file(file);
  return f->real->pMethods->xUnfetch(f->real, at, p);
}

// The methods of a wrapped file, for the wrapped VFS's version of them (1 to 3).
sqlite3_io_methods methods_for(int version) {
  sqlite3_io_methods m{};
  m.iVersion = version;
  m.xClose = x_close;
  m.xRead = x_read;
  m.xWrite = x_write;
  m.xTruncate = x_truncate;
  m.xSync = x_sync;
  m.xFileSize = x_file_size;
  m.xLock = x_lock;
  m.xUnlock = x_unlock;
  m.xCheckReservedLock = x_check_reserved_lock;
  m.xFileControl = x_file_control;
  m.xSectorSize = x_sector_size;
  m.xDeviceCharacteristics = x_device_characteristics;
  if (version >= 2) {
    m.xShmMap = x_shm_map;
    m.xShmLock = x_shm_lock;
    m.xShmBarrier = x_shm_barrier;
    m.xShmUnmap = x_shm_unmap;
  }
  if (version >= 3) {
    m.xFetch = x_fetch;
    m.xUnfetch = x_unfetch;
  }
  return m;
}

const sqlite3_io_methods k_methods[3] = {methods_for(1), methods_for(2), methods_for(3)};

int x_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = as_file(file);
  f->base.pMethods = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->batch = nullptr;
  int rc = real_vfs(vfs)->xOpen(real_vfs(vfs), name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || !f->real->pMethods) {
    // SQLite calls no method of a file whose pMethods is null; the real one closes itself.
    return rc;
  }
  const int version = std::clamp(f->real->pMethods->iVersion, 1, 3);
  if (flags & SQLITE_OPEN_MAIN_DB) {
    f->batch = new (std::nothrow) Batch;
    if (!f->batch) {
      f->real->pMethods->xClose(f->real);
      return SQLITE_NOMEM;
    }
    f->batch->path = name;
  }
  f->base.pMethods = &k_methods[version - 1];
  return SQLITE_OK;
}

// The VFS's other calls go to the wrapped VFS, with it as their VFS.
int x_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return real_vfs(vfs)->xDelete(real_vfs(vfs), name, sync_dir);
}
int x_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return real_vfs(vfs)->xAccess(real_vfs(vfs), name, flags, out);
}
int x_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return real_vfs(vfs)->xFullPathname(real_vfs(vfs), name, n, out);
}
void* x_dl_open(sqlite3_vfs* vfs, const char* name) {
  return real_vfs(vfs)->xDlOpen(real_vfs(vfs), name);
}
void x_dl_error(sqlite3_vfs* vfs, int n, char* out) {
  real_vfs(vfs)->xDlError(real_vfs(vfs), n, out);
}
void (*x_dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return real_vfs(vfs)->xDlSym(real_vfs(vfs), handle, symbol);
}
void x_dl_close(sqlite3_vfs* vfs, void* handle) {
  real_vfs(vfs)->xDlClose(real_vfs(vfs), handle);
}
int x_randomness(sqlite3_vfs* vfs, int n, char* out) {
  return real_vfs(vfs)->xRandomness(real_vfs(vfs), n, out);
}
int x_sleep(sqlite3_vfs* vfs, int micros) {
  return real_vfs(vfs)->xSleep(real_vfs(vfs), micros);
}
int x_current_time(sqlite3_vfs* vfs, double* out) {
  return real_vfs(vfs)->xCurrentTime(real_vfs(vfs), out);
}
int x_get_last_error(sqlite3_vfs* vfs, int n, char* out) {
  return real_vfs(vfs)->xGetLastError ? real_vfs(vfs)->xGetLastError(real_vfs(vfs), n, out) : 0;
}
int x_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return real_vfs(vfs)->xCurrentTimeInt64(real_vfs(vfs), out);
}

sqlite3_vfs* make_vfs() {
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  if (!real || real->iVersion < 2) {
    return nullptr;
  }
  static sqlite3_vfs vfs{};
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(sizeof(File)) + real->szOsFile;
  vfs.mxPathname = real->mxPathname;
  vfs.zName = "dbautopsy-batch";
  vfs.pAppData = real;
  vfs.xOpen = x_open;
  vfs.xDelete = x_delete;
  vfs.xAccess = x_access;
  vfs.xFullPathname = x_full_pathname;
  vfs.xDlOpen = x_dl_open;
  vfs.xDlError = x_dl_error;
  vfs.xDlSym = x_dl_sym;
  vfs.xDlClose = x_dl_close;
  vfs.xRandomness = x_randomness;
  vfs.xSleep = x_sleep;
  vfs.xCurrentTime = x_current_time;
  vfs.xGetLastError = x_get_last_error;
  vfs.xCurrentTimeInt64 = x_current_time_int64;
  if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) {
    return nullptr;
  }
  return &vfs;
}

}  // namespace

const char* batch_vfs_name() {
  static sqlite3_vfs* vfs = make_vfs();
  return vfs ? vfs->zName : nullptr;
}

int set_batching(sqlite3* db, BatchMode mode) {
  int arg = static_cast<int>(mode);
  return sqlite3_file_control(db, "main", k_batch_op, &arg);
}

}  // namespace dbautopsy::store
