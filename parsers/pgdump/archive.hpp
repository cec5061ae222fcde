// Reading pg_dump archives (custom -Fc, tar -Ft, directory -Fd) without a server.
//
// An ArchiveScript opens an archive and streams the SQL script that `pg_restore -f - ARCHIVE`
// would print for it: the preamble (SET client_encoding, standard_conforming_strings,
// search_path...), every TOC entry's comment header and definition, in pg_restore's order
// (the main pass, then ACLs, then event triggers and materialized view refreshes), and for
// each TABLE DATA entry its `COPY ... FROM stdin;`, the decompressed rows and `\.`. The
// plain-SQL reader (pgdump_sql.hpp) reads that script unchanged, so an archive yields the
// same facts as the plain dump made from it.
//
// The format is PostgreSQL's (src/bin/pg_dump/pg_backup_archiver.c ReadHead / ReadToc,
// pg_backup_custom.c, pg_backup_tar.c, pg_backup_directory.c, compress_*.c): archive
// versions 1.12 to 1.16 (pg_dump 9.0 to 18), data compressed with gzip (zlib), lz4, zstd or
// not at all. The archive may itself sit in a .gz/.bz2/.xz/.zst file (read forward only).
// Data is streamed in chunks: memory holds the TOC and one chunk, never a whole table.
//
// The script is, line for line, what `pg_restore --verbose -f - ARCHIVE` prints (PostgreSQL
// 15.14 and later): every entry's comment header names its TOC entry ("-- TOC entry 214
// (class 1259 OID 17702)", its dependencies, its data position or file), so a fact's line
// leads to the TOC entry it came from. Differences: where pg_restore writes its \restrict
// line, the script has a comment naming the archive's format and version; "-- Started on"
// is the archive's creation time without a zone (the archive records none); no "Completed
// on" trailer. Large objects are not read: where pg_restore would write their
// lo_open/lowrite calls, the script has a comment saying how many there are
// (ArchiveSummary::large_objects counts them).
//
// Failure behaviour: a header that cannot be read (not an archive, an unknown version,
// a file cut short before the TOC) makes the constructor throw InputError. A defect after
// that does not end the script at once: a TOC cut short keeps the entries read before it,
// a data block that is truncated or corrupt keeps the rows before it (its COPY is closed
// with `\.`, the following entries still come), and once the script has been read to its
// end, read() throws the first such InputError (file, byte offset, what was expected).
// record_archive_facts() then marks the cut COPY sections incomplete. So are a compressed
// data block (a custom archive's table data, a directory archive's .dat.gz) that crosses the
// decode limits of every compressed input (io::decode_limit_exceeded: --max-ratio,
// --max-decoded-mb, each block on its own), a data offset past the end of the file, COPY
// data without its "\." line, and a tar member whose size runs past the end of the file (the
// members after it, and after a damaged header, are looked for block by block). Nothing is
// allocated by a count or a length the archive claims before its bytes are there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/input.hpp"
#include "pgdump/pgdump_sql.hpp"
#include "store/facts.hpp"

namespace dbautopsy::pgdump {

enum class ArchiveFormat { custom, tar, directory };
std::string_view archive_format_name(ArchiveFormat format);  // "custom", "tar", "directory"

enum class ArchiveCompression { none, gzip, lz4, zstd };
std::string_view compression_name(ArchiveCompression compression);

// What the archive's header says.
struct ArchiveHeader {
  ArchiveFormat format = ArchiveFormat::custom;
  int version_major = 0, version_minor = 0, version_rev = 0;
  int int_size = 0, offset_size = 0;
  ArchiveCompression compression = ArchiveCompression::none;
  std::optional<int> compression_level;  // archives before 1.15 record a zlib level instead
  // When pg_dump started, "YYYY-MM-DD HH:MM:SS" in the dumping machine's local time (the
  // archive does not record the zone).
  std::optional<std::string> created;
  std::optional<std::string> database;     // the database dumped
  std::optional<std::string> dumped_from;  // server version, "15.4 (Debian 15.4-1)"
  std::optional<std::string> dumped_by;    // pg_dump version
  int64_t toc_entries = 0;                 // as the TOC announces them

  std::string version() const;  // "1.14-0", as pg_restore -l prints it
};

// What the script made of the archive.
struct ArchiveSummary {
  uint64_t entries_read = 0;          // TOC entries read (fewer than announced when cut short)
  uint64_t data_entries = 0;          // entries whose data was streamed (TABLE DATA, ...)
  uint64_t data_unreadable = 0;       // data entries whose data could not be read to its end
  uint64_t large_objects = 0;         // large objects in the archive, which are not read
  uint64_t large_object_entries = 0;  // BLOBS entries holding them
  uint64_t copy_sections = 0;         // COPY blocks in the script so far
  // COPY blocks (by their number in the script, which is table_stats.section) whose data
  // was cut short, with the table's qualified name.
  std::vector<std::pair<int64_t, std::string>> incomplete_sections;
  // Data errors after the first one (which read() throws), and observations such as
  // tables WITH OIDS: for the caller to record as problems.
  std::vector<std::string> other_errors;
  std::vector<std::string> warnings;
};

struct ArchiveOptions {
  size_t chunk_bytes = 256u << 10;  // decompressed bytes produced at a time (tests: tiny)
};

class ArchiveScript final : public io::Source {
 public:
  // Opens `path`: a custom or tar archive file (possibly compressed as a whole), or a
  // directory archive's folder. Reads the header and the TOC. Throws InputError when the
  // header cannot be read or the file is no pg_dump archive.
  explicit ArchiveScript(const std::filesystem::path& path, ArchiveOptions options = {});
  ~ArchiveScript() override;
  ArchiveScript(const ArchiveScript&) = delete;
  ArchiveScript& operator=(const ArchiveScript&) = delete;

  size_t read(char* dst, size_t n) override;
  uint64_t offset() const override;  // script bytes delivered so far
  std::string display_name() const override;

  const ArchiveHeader& header() const;
  const ArchiveSummary& summary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Recognises an archive from the first bytes of a file: "PGDMP" (custom), or a tar header
// for toc.dat whose content starts with "PGDMP" (tar). nullopt for anything else.
std::optional<ArchiveFormat> sniff_pgdump_archive(std::string_view head);
// A folder holding toc.dat (or toc.dat.gz / .lz4 / .zst) that starts with "PGDMP".
bool is_pgdump_directory(const std::filesystem::path& path);

// After read_pgdump_sql has read a script: writes the archive header into the artifact row
// (dumped_from, dumped_by, started_on), marks the COPY sections whose data was cut short
// as incomplete, and records a notice for large objects not read and the other problems
// of ArchiveSummary.
void record_archive_facts(const ArchiveScript& script, store::FactWriter& out);

// The whole job, for the CLI: opens the archive, reads its script with read_pgdump_sql
// and records the archive's facts. An archive that cannot be opened becomes an `error`
// problem (failed = true). Throws only for failures of the fact store.
struct ArchiveRead {
  bool failed = false;  // nothing could be read (the header or the file is unreadable)
  ArchiveHeader header;
  ArchiveSummary archive;
  PgDumpSummary script;
};
ArchiveRead read_pgdump_archive(const std::filesystem::path& path, store::FactWriter& out,
                                const PgDumpOptions& options, ArchiveOptions archive = {});

}  // namespace dbautopsy::pgdump
