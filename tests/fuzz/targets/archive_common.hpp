// pg_dump's archive formats (parsers/pgdump/archive.cpp) read as the ingest reads them: the
// script pg_restore would print goes through the plain-dump reader. A small chunk size makes
// the data blocks cross the decompressor's buffer boundaries.
#pragma once

#include "../fuzz.hpp"
#include "pgdump/archive.hpp"
#include "pgdump_common.hpp"

namespace dbautopsy::fuzz {

inline void read_archive(const std::filesystem::path& path) {
  read_into_store("pgdump-archive", [&](store::FactWriter& out) {
    pgdump::ArchiveOptions archive;
    archive.chunk_bytes = 97;
    pgdump::read_pgdump_archive(path, out, pgdump_options(out, {}), archive);
  });
}

}  // namespace dbautopsy::fuzz
