#include "io/input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <boost/iostreams/concepts.hpp>
#include <boost/iostreams/filter/bzip2.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filter/lzma.hpp>
#include <boost/iostreams/filtering_streambuf.hpp>
#include <cerrno>
#include <cstring>

#include "base/error.hpp"
#include "io/zstd_filter.hpp"

namespace dbautopsy::io {

namespace bio = boost::iostreams;

namespace {

constexpr size_t k_compressed_chunk = 256 * 1024;

// Counts what the decompressor consumed and remembers whether the file ended, so that an
// error can say where in the file it happened and whether the file was cut short.
struct FileCursor {
  int fd = -1;
  uint64_t consumed = 0;
  bool eof = false;
};

class CountingSource : public bio::source {
 public:
  explicit CountingSource(FileCursor* cursor) : m_cursor(cursor) {}
  std::streamsize read(char* dst, std::streamsize n) {
    for (;;) {
      ssize_t got = ::read(m_cursor->fd, dst, static_cast<size_t>(n));
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got < 0) {
        throw std::ios_base::failure(std::string("read error: ") + std::strerror(errno));
      }
      if (got == 0) {
        m_cursor->eof = true;
        return -1;
      }
      m_cursor->consumed += static_cast<uint64_t>(got);
      return got;
    }
  }

 private:
  FileCursor* m_cursor;
};

}  // namespace

std::string_view codec_name(Codec codec) {
  switch (codec) {
    case Codec::none:
      return "none";
    case Codec::gzip:
      return "gzip";
    case Codec::bzip2:
      return "bzip2";
    case Codec::xz:
      return "xz";
    case Codec::zstd:
      return "zstd";
  }
  return "none";
}

Codec detect_codec(std::string_view m) {
  auto starts = [&](std::string_view magic) { return m.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) {
    return Codec::gzip;
  }
  // "BZh" then the block size digit 1-9.
  if (m.size() >= 4 && starts("BZh") && m[3] >= '1' && m[3] <= '9') {
    return Codec::bzip2;
  }
  if (starts(std::string_view("\xfd"
                              "7zXZ\0",
                              6))) {
    return Codec::xz;
  }
  if (starts("\x28\xb5\x2f\xfd")) {
    return Codec::zstd;
  }
  return Codec::none;
}

struct InputStream::Impl {
  std::filesystem::path path;
  FileCursor cursor;
  Codec codec = Codec::none;
  uint64_t size = 0;
  uint64_t delivered = 0;
  bool failed = false;
  std::unique_ptr<bio::filtering_istreambuf> chain;

  ~Impl() {
    chain.reset();
    if (cursor.fd >= 0) {
      ::close(cursor.fd);
    }
  }

  [[noreturn]] void fail(const std::string& why) {
    failed = true;
    Location where{path.string(), std::nullopt, cursor.consumed, true};
    if (cursor.eof) {
      throw InputError(where, fmt::format("the {} data ends before the end of its stream: the "
                                          "file is truncated ({} bytes decompressed before)",
                                          codec_name(codec), delivered));
    }
    throw InputError(where, fmt::format("corrupt {} data in the bytes read up to here ({}); {} "
                                        "bytes decompressed before",
                                        codec_name(codec), why, delivered));
  }
};

InputStream::InputStream(const std::filesystem::path& path) : m_impl(std::make_unique<Impl>()) {
  Impl& m = *m_impl;
  m.path = path;
  m.cursor.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m.cursor.fd < 0) {
    throw InputError(Location{path.string()},
                     fmt::format("cannot open for reading: {}", std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(m.cursor.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    throw InputError(Location{path.string()}, "not a regular file");
  }
  m.size = static_cast<uint64_t>(st.st_size);
  ::posix_fadvise(m.cursor.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  char magic[6] = {};
  ssize_t got = ::pread(m.cursor.fd, magic, sizeof magic, 0);
  m.codec = detect_codec(std::string_view(magic, got > 0 ? static_cast<size_t>(got) : 0));
  if (m.codec == Codec::none) {
    return;
  }
  m.chain = std::make_unique<bio::filtering_istreambuf>();
  switch (m.codec) {
    case Codec::gzip:
      m.chain->push(bio::gzip_decompressor(bio::zlib::default_window_bits, k_compressed_chunk));
      break;
    case Codec::bzip2:
      m.chain->push(bio::bzip2_decompressor(false, k_compressed_chunk));
      break;
    case Codec::xz:
      m.chain->push(bio::lzma_decompressor(bio::lzma_params(), k_compressed_chunk));
      break;
    case Codec::zstd:
      m.chain->push(ZstdDecompressor(), k_compressed_chunk);
      break;
    case Codec::none:
      break;
  }
  m.chain->push(CountingSource(&m.cursor), k_compressed_chunk);
}

InputStream::~InputStream() = default;

size_t InputStream::read(char* dst, size_t n) {
  Impl& m = *m_impl;
  if (m.failed || n == 0) {
    return 0;
  }
  if (!m.chain) {
    for (;;) {
      ssize_t got = ::read(m.cursor.fd, dst, n);
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got < 0) {
        m.failed = true;
        throw InputError(Location{m.path.string(), std::nullopt, m.cursor.consumed, true},
                         fmt::format("read error: {}", std::strerror(errno)));
      }
      m.cursor.consumed += static_cast<uint64_t>(got);
      m.delivered += static_cast<uint64_t>(got);
      return static_cast<size_t>(got);
    }
  }
  size_t total = 0;
  try {
    // sgetn may return short counts; keep going until n bytes or the end.
    while (total < n) {
      std::streamsize got = m.chain->sgetn(dst + total, static_cast<std::streamsize>(n - total));
      if (got <= 0) {
        break;
      }
      total += static_cast<size_t>(got);
    }
  } catch (const std::exception& e) {
    m.delivered += total;
    m.fail(e.what());
  }
  m.delivered += total;
  return total;
}

Codec InputStream::codec() const {
  return m_impl->codec;
}
const std::filesystem::path& InputStream::path() const {
  return m_impl->path;
}
std::string InputStream::display_name() const {
  return m_impl->path.string();
}
uint64_t InputStream::file_size() const {
  return m_impl->size;
}
uint64_t InputStream::file_offset() const {
  return m_impl->cursor.consumed;
}
uint64_t InputStream::offset() const {
  return m_impl->delivered;
}

Head read_head(const std::filesystem::path& path, size_t max_bytes) {
  Head head;
  InputStream in(path);
  head.codec = in.codec();
  head.bytes.resize(max_bytes);
  size_t have = 0;
  try {
    while (have < max_bytes) {
      size_t got = in.read(head.bytes.data() + have, max_bytes - have);
      if (got == 0) {
        head.whole_file = true;
        break;
      }
      have += got;
    }
  } catch (const InputError&) {
    if (have == 0) {
      throw;
    }
    head.truncated = true;
  }
  head.bytes.resize(have);
  if (!head.whole_file && !head.truncated) {
    char probe;
    try {
      head.whole_file = in.read(&probe, 1) == 0;
    } catch (const InputError&) {
      head.truncated = true;
    }
  }
  return head;
}

}  // namespace dbautopsy::io
