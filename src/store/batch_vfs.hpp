#pragma once

// An SQLite VFS that wraps the default one and, on a main database file where it is switched
// on, turns SQLite's page-sized reads and writes into fewer, larger system calls: contiguous
// page writes are gathered into one buffer and written at once, and a run of sequential page
// reads reads ahead. A load into a fresh store writes every page of a log of millions of
// entries one at a time (85,000 `pwrite`s for a 256 MiB log), and building its index after
// reads them back one at a time; on a virtual machine a system call costs microseconds.
//
// Writes are gathered only while a store is loaded that no other connection may read (a store
// this process created, marked incomplete: Store::BulkLoad). Whatever is gathered is written
// before SQLite syncs, truncates, unlocks or closes the file, reads what it overlaps, or passes
// it any other file control, so that every caller outside the two calls sees the file as
// SQLite wrote it. While gathering, the kernel is asked to start writing the file back every
// 32 MiB (the load syncs only at its end, which then waits for little). Reading ahead (alone) is
// what such a store does after its load, when `investigate` runs its rules over it.

#include <sqlite3.h>

namespace dbautopsy::store {

// The VFS's name; registered (once) by batch_vfs_name(), which returns nullptr if it could
// not be (SQLite's default is then used).
const char* batch_vfs_name();

// What the VFS does with a main database file's reads and writes.
enum class BatchMode {
  off = 0,         // each as SQLite asks
  gather = 1,      // writes gathered, reads ahead: only while no other connection reads it
  read_ahead = 2,  // reads ahead; writes as asked. What was read ahead is dropped on every
                   // lock change (WAL locks too), truncation and write of its bytes.
};

// Sets the mode of a connection's main database file (leaving `gather` writes what was
// gathered). Returns SQLITE_OK, SQLITE_NOTFOUND when the file is not opened through this VFS,
// or the error of writing what was gathered.
int set_batching(sqlite3* db, BatchMode mode);

}  // namespace dbautopsy::store
