// SHA-256 of a file as stored (compressed bytes for a .gz), through OpenSSL's libcrypto,
// which uses the CPU's SHA extensions where present: hashing a large dump must not cost
// more than reading it. Throws InputError when the file cannot be read.
#pragma once

#include <filesystem>
#include <string>

namespace dbautopsy::io {

std::string sha256_file(const std::filesystem::path& path);

// SHA-256 of a folder (a pg_dump directory archive: toc.dat and its data files): of the lines
// "<SHA-256 of the file>  <file name>\n" of every regular file directly in it, in byte order
// of the names -- what `cd DIR && LC_ALL=C sha256sum -- * | sha256sum` prints. Any file added,
// removed, renamed or changed changes it.
std::string sha256_directory(const std::filesystem::path& path);

}  // namespace dbautopsy::io
