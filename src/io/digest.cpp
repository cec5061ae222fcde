#include "io/digest.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "base/error.hpp"
#include "io/pieces.hpp"

namespace dbautopsy::io {

namespace {

std::string hex_of(const unsigned char* digest, unsigned int len) {
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex += fmt::format("{:02x}", digest[i]);
  }
  return hex;
}

}  // namespace

struct Sha256::Ctx {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

Sha256::Sha256() : m_ctx(std::make_unique<Ctx>()) {
  if (!m_ctx->ctx || EVP_DigestInit_ex(m_ctx->ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw std::bad_alloc();
  }
}
Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t n) {
  EVP_DigestUpdate(m_ctx->ctx.get(), data, n);
}

std::string Sha256::finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_ctx->ctx.get(), digest, &len);
  return hex_of(digest, len);
}

namespace {
void hash_file(const std::filesystem::path& path, Sha256& sha);
}  // namespace

std::string sha256_file(const std::filesystem::path& path) {
  Sha256 sha;
  // A file in pieces: the SHA-256 of their concatenation, that of the file they were cut from.
  if (auto pieces = pieces_of(path)) {
    for (const auto& p : *pieces) {
      hash_file(p, sha);
    }
  } else {
    hash_file(path, sha);
  }
  return sha.finish();
}

namespace {
void hash_file(const std::filesystem::path& path, Sha256& sha) {
  // O_NONBLOCK: a FIFO or a device is refused, never waited on (no effect on a file).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    throw InputError(Location{path.string()}, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw InputError(Location{path.string()}, "not a regular file, not read");
  }
  constexpr size_t k_buf = size_t{1} << 20;
  auto buf = std::make_unique_for_overwrite<unsigned char[]>(k_buf);  // no zeroing: read fills it
  for (;;) {
    ssize_t got = ::read(fd, buf.get(), k_buf);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      int err = errno;
      ::close(fd);
      throw InputError(Location{path.string()}, fmt::format("read error: {}", std::strerror(err)));
    }
    if (got == 0) {
      break;
    }
    sha.update(buf.get(), static_cast<size_t>(got));
  }
  ::close(fd);
}
}  // namespace

std::string sha256_directory(const std::filesystem::path& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
    if (entry.is_regular_file()) {
      names.push_back(entry.path().filename().string());
    }
  }
  if (ec) {
    throw InputError(Location{path.string()}, fmt::format("cannot list: {}", ec.message()));
  }
  std::sort(names.begin(), names.end());
  std::string manifest;
  for (const auto& name : names) {
    manifest += sha256_file(path / name) + "  " + name + "\n";
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(manifest.data(), manifest.size(), digest, &len, EVP_sha256(), nullptr);
  return hex_of(digest, len);
}

}  // namespace dbautopsy::io
