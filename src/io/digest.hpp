// SHA-256 of a file as stored (compressed bytes for a .gz), through OpenSSL's libcrypto,
// which uses the CPU's SHA extensions where present: hashing a large dump must not cost
// more than reading it. Throws InputError when the file cannot be read.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace dbautopsy::io {

// A SHA-256 being computed, fed piece by piece (OpenSSL's EVP, as sha256_file).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  // The digest in lower-case hex; the object is then spent.
  std::string finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> m_ctx;
};

std::string sha256_file(const std::filesystem::path& path);

// SHA-256 of a folder (a pg_dump directory archive: toc.dat and its data files): of the lines
// "<SHA-256 of the file>  <file name>\n" of every regular file directly in it, in byte order
// of the names -- what `cd DIR && LC_ALL=C sha256sum -- * | sha256sum` prints. Any file added,
// removed, renamed or changed changes it.
std::string sha256_directory(const std::filesystem::path& path);

}  // namespace dbautopsy::io
