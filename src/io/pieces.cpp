#include "io/pieces.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "base/error.hpp"
#include "io/digest.hpp"

namespace dbautopsy::io {

namespace {
std::mutex g_mutex;
std::map<std::string, std::vector<std::filesystem::path>> g_pieces;
}  // namespace

void set_pieces(const std::filesystem::path& first, std::vector<std::filesystem::path> pieces) {
  std::lock_guard lock(g_mutex);
  g_pieces[first.string()] = std::move(pieces);
}

std::optional<std::vector<std::filesystem::path>> pieces_of(const std::filesystem::path& path) {
  std::lock_guard lock(g_mutex);
  if (g_pieces.empty()) {
    return std::nullopt;
  }
  auto it = g_pieces.find(path.string());
  if (it == g_pieces.end()) {
    return std::nullopt;
  }
  return it->second;
}

PiecePosition piece_position(const std::vector<uint64_t>& sizes, uint64_t offset) {
  PiecePosition at{0, offset};
  while (at.index + 1 < sizes.size() && at.offset >= sizes[at.index]) {
    at.offset -= sizes[at.index];
    ++at.index;
  }
  return at;
}

std::vector<PieceDigest> digest_pieces(const std::vector<std::filesystem::path>& pieces) {
  std::vector<PieceDigest> out;
  constexpr size_t k_buf = size_t{1} << 20;
  auto buf = std::make_unique_for_overwrite<char[]>(k_buf);  // no zeroing: read fills it
  for (const auto& p : pieces) {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      throw InputError(Location{p.string()},
                       fmt::format("cannot open the piece: {}", std::strerror(errno)));
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw InputError(Location{p.string()}, "the piece is not a regular file");
    }
    PieceDigest d;
    d.path = p;
    Sha256 sha;
    for (;;) {
      ssize_t got = ::read(fd, buf.get(), k_buf);
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got < 0) {
        int err = errno;
        ::close(fd);
        throw InputError(Location{p.string()}, fmt::format("read error: {}", std::strerror(err)));
      }
      if (got == 0) {
        break;
      }
      sha.update(buf.get(), static_cast<size_t>(got));
      d.size += static_cast<uint64_t>(got);
      d.newlines += static_cast<uint64_t>(std::count(buf.get(), buf.get() + got, '\n'));
      d.ends_line = buf[static_cast<size_t>(got) - 1] == '\n';
    }
    ::close(fd);
    d.sha256 = sha.finish();
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace dbautopsy::io
