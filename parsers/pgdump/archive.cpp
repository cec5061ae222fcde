#include "pgdump/archive.hpp"

#include <fcntl.h>
#include <lz4frame.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "base/error.hpp"
#include "base/text.hpp"
#include "io/pieces.hpp"
#include "pgsql/names.hpp"

namespace dbautopsy::pgdump {

namespace fs = std::filesystem;

namespace {

// pg_backup_archiver.h / pg_backup.h
constexpr int k_blk_data = 1;
constexpr int k_blk_blobs = 3;
constexpr int k_format_custom = 1;  // archCustom
constexpr int k_format_tar = 3;     // archTar (also in a directory archive's toc.dat)
constexpr int k_section_none = 1;
constexpr int k_section_pre_data = 2;
constexpr int k_section_data = 3;
constexpr int k_section_post_data = 4;
constexpr int k_offset_pos_not_set = 1;
constexpr int k_offset_pos_set = 2;
constexpr int k_offset_no_data = 3;
constexpr int k_req_schema = 1;
constexpr int k_req_data = 2;
constexpr int k_req_stats = 4;
constexpr int k_req_special = 8;
constexpr int k_relkind_partitioned_table = 'p';
constexpr int k_min_minor = 12;  // K_VERS_1_12
constexpr int k_max_minor = 16;  // K_VERS_1_16

constexpr size_t k_io_buffer = 64 * 1024;
constexpr size_t k_tar_block = 512;
constexpr uint64_t k_max_tar_member = uint64_t{1} << 62;
// A TOC string or a data chunk longer than this is taken for damage, not data.
constexpr int64_t k_max_field = int64_t{1} << 30;
// A COPY row held back (so that a cut block ends at a row boundary) is released past this.
constexpr size_t k_max_carry = 1u << 20;

using OptStr = std::optional<std::string>;

int minor_of(int version) {
  return (version >> 8) & 255;
}

// ---------------------------------------------------------------------------------------
// Byte streams: a file, a tar member, a custom-format data block, a decompressor.

class Stream {
 public:
  virtual ~Stream() = default;
  // Reads up to n bytes; fewer only at the end of the stream. The bytes that arrived before
  // an error are returned first; the error comes with the next call.
  size_t read(char* dst, size_t n) {
    if (m_pending) {
      std::exception_ptr e = m_pending;
      m_pending = nullptr;
      std::rethrow_exception(e);
    }
    size_t done = 0;
    try {
      fill(dst, n, done);
    } catch (const InputError&) {
      if (done == 0) {
        throw;
      }
      m_pending = std::current_exception();
    }
    return done;
  }
  // Where the stream is, for messages: a byte offset in file() when in_file().
  virtual uint64_t position() const = 0;
  virtual const std::string& file() const = 0;
  virtual bool in_file() const = 0;
  // "byte 123", "byte 123 of 3456.dat.gz", ... for a position of this stream.
  virtual std::string describe(uint64_t pos) const { return fmt::format("byte {}", pos); }
  std::string at() const { return describe(position()); }
  // Bytes left, when known (a plain file, a tar member).
  virtual std::optional<uint64_t> remaining() const { return std::nullopt; }

 protected:
  // Reads into dst, counting in `done` the bytes delivered, until n or the end.
  virtual void fill(char* dst, size_t n, size_t& done) = 0;

 private:
  std::exception_ptr m_pending;
};

[[noreturn]] void fail(const Stream& s, const std::string& what) {
  throw InputError(Location{s.file(), std::nullopt, s.position(), s.in_file()}, what);
}

void read_exact(Stream& s, char* dst, size_t n, std::string_view what) {
  size_t got = s.read(dst, n);
  if (got < n) {
    fail(s, fmt::format("the archive ends at {} inside {}: {} more bytes were expected (the "
                        "file is truncated)",
                        s.at(), what, n - got));
  }
}

// A file, read through a buffer. A file compressed as a whole (an archive in a .gz) is read
// forward only, through io::InputStream; any other file can seek.
class FileInput final : public Stream {
 public:
  FileInput(const fs::path& path, bool detect_codec, std::string label)
      : m_path(path.string()), m_label(std::move(label)), m_buf(k_io_buffer) {
    m_fd =
        ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO: refused, not waited on
    if (m_fd < 0) {
      throw InputError(Location{m_path}, fmt::format("cannot open {} for reading: {}", m_label,
                                                     std::strerror(errno)));
    }
    struct stat st {};
    if (::fstat(m_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(m_fd);
      m_fd = -1;
      throw InputError(Location{m_path}, fmt::format("{} is not a regular file", m_label));
    }
    m_size = static_cast<uint64_t>(st.st_size);
    if (auto pieces = io::pieces_of(path)) {
      // An archive in pieces (split): read forward through their concatenation.
      ::close(m_fd);
      m_fd = -1;
      m_stream = std::make_unique<io::InputStream>(path);
      for (const auto& p : *pieces) {
        std::error_code ec;
        m_piece_names.push_back(p.filename().string());
        m_piece_sizes.push_back(fs::file_size(p, ec));
      }
    } else if (detect_codec) {
      char magic[6] = {};
      ssize_t got = ::pread(m_fd, magic, sizeof magic, 0);
      if (io::detect_codec(std::string_view(magic, got > 0 ? static_cast<size_t>(got) : 0)) !=
          io::Codec::none) {
        ::close(m_fd);
        m_fd = -1;
        m_stream = std::make_unique<io::InputStream>(path);
      }
    }
  }
  ~FileInput() override {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  FileInput(const FileInput&) = delete;
  FileInput& operator=(const FileInput&) = delete;

  void fill(char* dst, size_t n, size_t& done) override {
    while (done < n) {
      if (m_pos == m_len) {
        m_base += m_len;
        m_pos = 0;
        m_len = raw_read(m_buf.data(), m_buf.size());
        if (m_len == 0) {
          break;
        }
      }
      size_t take = std::min(n - done, m_len - m_pos);
      std::memcpy(dst + done, m_buf.data() + m_pos, take);
      m_pos += take;
      done += take;
    }
  }

 public:
  uint64_t position() const override { return m_base + m_pos; }
  const std::string& file() const override { return m_path; }
  bool in_file() const override { return !m_stream; }
  std::string describe(uint64_t pos) const override {
    if (m_piece_sizes.size() > 1 && m_stream->codec() == io::Codec::none) {
      // Where in which piece (an uncompressed archive: its bytes are the pieces').
      io::PiecePosition at = io::piece_position(m_piece_sizes, pos);
      const std::string& name = m_piece_names[at.index];
      if (at.index + 1 == m_piece_sizes.size() && at.offset >= m_piece_sizes[at.index]) {
        return fmt::format(
            "byte {} of the {} pieces joined, the end of the last piece, {} (a "
            "piece after {} is missing, or {} is cut short)",
            pos, m_piece_sizes.size(), name, name, name);
      }
      return fmt::format("byte {} of the {} pieces joined (byte {} of the piece {})", pos,
                         m_piece_sizes.size(), at.offset, name);
    }
    if (m_stream) {
      return fmt::format("byte {} of the decompressed {}", pos, m_label);
    }
    return m_label == "the archive" ? fmt::format("byte {}", pos)
                                    : fmt::format("byte {} of {}", pos, m_label);
  }
  std::optional<uint64_t> remaining() const override {
    if (m_stream) {
      return std::nullopt;
    }
    uint64_t pos = position();
    return pos < m_size ? m_size - pos : 0;
  }

  bool seekable() const { return !m_stream; }
  bool hit_end() const { return m_eof; }
  uint64_t size() const { return m_size; }  // of the file (a seekable one)
  // Moves to `pos` (a seekable file only).
  void seek(uint64_t pos) {
    if (pos >= m_base && pos <= m_base + m_len) {
      m_pos = static_cast<size_t>(pos - m_base);
      return;
    }
    if (::lseek(m_fd, static_cast<off_t>(pos), SEEK_SET) < 0) {
      fail(*this, fmt::format("cannot seek to byte {}: {}", pos, std::strerror(errno)));
    }
    m_base = pos;
    m_pos = m_len = 0;
    m_eof = false;
  }
  // Skips n bytes; returns how many there were.
  uint64_t skip(uint64_t n) {
    if (seekable()) {
      uint64_t pos = position();
      uint64_t to = std::min(pos + n, std::max(pos, m_size));
      seek(to);
      if (to - pos < n) {
        m_eof = true;
      }
      return to - pos;
    }
    uint64_t done = 0;
    char sink[16384];
    while (done < n) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof sink, n - done));
      size_t got = read(sink, want);
      done += got;
      if (got < want) {
        break;
      }
    }
    return done;
  }

 private:
  size_t raw_read(char* dst, size_t n) {
    if (m_stream) {
      size_t got = m_stream->read(dst, n);
      if (got == 0) {
        m_eof = true;
      }
      return got;
    }
    size_t done = 0;
    while (done < n) {
      ssize_t got = ::read(m_fd, dst + done, n - done);
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got < 0) {
        fail(*this, fmt::format("read error: {}", std::strerror(errno)));
      }
      if (got == 0) {
        m_eof = true;
        break;
      }
      done += static_cast<size_t>(got);
    }
    return done;
  }

  std::string m_path;
  std::string m_label;
  int m_fd = -1;
  std::unique_ptr<io::InputStream> m_stream;
  std::vector<std::string> m_piece_names;  // a file in pieces: their names and sizes
  std::vector<uint64_t> m_piece_sizes;
  uint64_t m_size = 0;
  std::vector<char> m_buf;
  size_t m_pos = 0, m_len = 0;
  uint64_t m_base = 0;  // stream offset of m_buf[0]
  bool m_eof = false;
};

// pg_dump's integers (a sign byte, then int_size bytes, least significant first), strings
// (an integer length, -1 for NULL, then the bytes) and file offsets.
class Fields {
 public:
  Fields(Stream& s, int int_size, int off_size)
      : m_s(s), m_int_size(int_size), m_off_size(off_size) {}

  int byte(std::string_view what) {
    char c = 0;
    read_exact(m_s, &c, 1, what);
    return static_cast<unsigned char>(c);
  }
  int64_t integer(std::string_view what) {
    std::array<char, 9> b{};
    read_exact(m_s, b.data(), static_cast<size_t>(m_int_size) + 1, what);
    uint64_t v = 0;
    for (int i = 0; i < m_int_size; ++i) {
      v |= static_cast<uint64_t>(static_cast<unsigned char>(b[static_cast<size_t>(i) + 1]))
           << (8 * i);
    }
    int64_t value = static_cast<int64_t>(v & 0x7fffffffffffffffULL);
    return b[0] != 0 ? -value : value;
  }
  // An integer that must fit pg_dump's `int`.
  int int32(std::string_view what) {
    uint64_t at = m_s.position();
    int64_t v = integer(what);
    if (v > INT32_MAX || v < -INT32_MAX) {
      throw InputError(Location{m_s.file(), std::nullopt, at, m_s.in_file()},
                       fmt::format("{} at {} is {}, out of range for pg_dump's integers: the "
                                   "archive is damaged",
                                   what, m_s.describe(at), v));
    }
    return static_cast<int>(v);
  }
  OptStr str(std::string_view what) {
    uint64_t at = m_s.position();
    int64_t len = integer(what);
    if (len < 0) {
      return std::nullopt;
    }
    if (len > k_max_field) {
      throw InputError(Location{m_s.file(), std::nullopt, at, m_s.in_file()},
                       fmt::format("{} at {} announces {} bytes: the archive is damaged", what,
                                   m_s.describe(at), len));
    }
    auto left = m_s.remaining();
    if (left && static_cast<uint64_t>(len) > *left) {
      // Cut short (or a damaged length): the error is where the file ends (this one, not
      // that of a stream that ends before what it announced, such as a tar member's).
      char sink[16384];
      try {
        while (m_s.read(sink, sizeof sink) > 0) {
        }
      } catch (const InputError&) {
      }
      fail(m_s, fmt::format("the archive ends at {} inside {}, which announces {} bytes at {}: "
                            "the file is truncated (or the length is damaged)",
                            m_s.at(), what, len, m_s.describe(at)));
    }
    if (left) {
      std::string out(static_cast<size_t>(len), '\0');
      read_exact(m_s, out.data(), out.size(), what);
      return out;
    }
    // A stream of unknown length: the bytes are read before they are kept, so a damaged
    // length fails at the end of the data instead of allocating up to a gigabyte first.
    std::string out;
    char piece[16384];
    while (out.size() < static_cast<size_t>(len)) {
      size_t n = std::min(sizeof piece, static_cast<size_t>(len) - out.size());
      read_exact(m_s, piece, n, what);
      out.append(piece, n);
    }
    return out;
  }
  // ReadOffset: a flag byte, then off_size bytes.
  int offset(uint64_t* pos, std::string_view what) {
    uint64_t at = m_s.position();
    int flag = byte(what);
    if (flag != k_offset_pos_not_set && flag != k_offset_pos_set && flag != k_offset_no_data) {
      throw InputError(Location{m_s.file(), std::nullopt, at, m_s.in_file()},
                       fmt::format("unexpected data offset flag {} in {} at {} (expected 1, 2 "
                                   "or 3): the archive is damaged",
                                   flag, what, m_s.describe(at)));
    }
    std::array<char, 32> b{};
    read_exact(m_s, b.data(), static_cast<size_t>(m_off_size), what);
    uint64_t v = 0;
    for (int i = 0; i < m_off_size; ++i) {
      auto c = static_cast<unsigned char>(b[static_cast<size_t>(i)]);
      if (i < 8) {
        v |= static_cast<uint64_t>(c) << (8 * i);
      } else if (c != 0) {
        throw InputError(
            Location{m_s.file(), std::nullopt, at, m_s.in_file()},
            fmt::format("the file offset in {} at {} is too large", what, m_s.describe(at)));
      }
    }
    *pos = v;
    return flag;
  }
  Stream& stream() { return m_s; }

 private:
  Stream& m_s;
  int m_int_size;
  int m_off_size;
};

// The compressed bytes of one custom-format data block: chunks, each an integer length and
// that many bytes, ending with a zero length.
class CustomBlockStream final : public Stream {
 public:
  CustomBlockStream(FileInput& in, Fields& fields, std::string what)
      : m_in(in), m_fields(fields), m_what(std::move(what)) {}
  uint64_t position() const override { return m_in.position(); }
  const std::string& file() const override { return m_in.file(); }
  bool in_file() const override { return m_in.in_file(); }
  std::string describe(uint64_t pos) const override { return m_in.describe(pos); }

 protected:
  void fill(char* dst, size_t n, size_t& done) override {
    while (done < n && !m_end) {
      if (m_left == 0) {
        int64_t len = m_fields.integer("the length of a data chunk of " + m_what);
        if (len == 0) {
          m_end = true;
          break;
        }
        if (len < 0 || len > k_max_field) {
          fail(m_in, fmt::format("a data chunk of {} announces {} bytes (before {}): the archive "
                                 "is damaged",
                                 m_what, len, m_in.at()));
        }
        m_left = static_cast<uint64_t>(len);
      }
      size_t take = static_cast<size_t>(std::min<uint64_t>(m_left, n - done));
      size_t got = m_in.read(dst + done, take);
      m_left -= got;
      done += got;
      if (got < take) {
        fail(m_in, fmt::format("the archive ends at {} inside a data chunk of {}: {} more bytes "
                               "were expected (the file is truncated)",
                               m_in.at(), m_what, m_left));
      }
    }
  }

 private:
  FileInput& m_in;
  Fields& m_fields;
  std::string m_what;
  uint64_t m_left = 0;
  bool m_end = false;
};

// A member of a tar archive: `size` bytes from the current position.
class BoundedStream final : public Stream {
 public:
  BoundedStream(FileInput& in, uint64_t size, std::string name)
      : m_in(in), m_left(size), m_name(std::move(name)) {}
  uint64_t position() const override { return m_in.position(); }
  const std::string& file() const override { return m_in.file(); }
  bool in_file() const override { return m_in.in_file(); }
  std::string describe(uint64_t pos) const override {
    return m_in.describe(pos) + " (in the tar member " + m_name + ")";
  }
  // What the member's size announces, but no more than the file holds, and unknown when
  // the file's size is (a size that lies must not make a reader allocate what is not there).
  std::optional<uint64_t> remaining() const override {
    auto in_file = m_in.remaining();
    if (!in_file) {
      return std::nullopt;
    }
    return std::min(m_left, *in_file);
  }

 protected:
  void fill(char* dst, size_t n, size_t& done) override {
    size_t want = static_cast<size_t>(std::min<uint64_t>(m_left, n));
    size_t got = m_in.read(dst, want);
    m_left -= got;
    done += got;
    if (got < want) {
      fail(m_in, fmt::format("the archive ends at {} inside the tar member {}: {} more bytes "
                             "were expected (the file is truncated)",
                             m_in.at(), m_name, m_left));
    }
  }

 private:
  FileInput& m_in;
  uint64_t m_left;
  std::string m_name;
};

// Decompressors: the decompressed bytes of another stream. A compressed stream that ends
// before its end marker is an error (a truncated file); positions are those of the source.
// What a compressed stream expands to is under the limits of every compressed input
// (io::decode_limit_exceeded: --max-ratio, --max-decoded-mb), each data block or file of
// the archive on its own: past a limit, the bytes of that read are delivered and the next
// read fails at the byte of the archive the decoder had reached.
class Decoder : public Stream {
 public:
  explicit Decoder(Stream& src, std::string name) : m_src(src), m_name(std::move(name)) {}
  uint64_t position() const override { return m_src.position(); }
  const std::string& file() const override { return m_src.file(); }
  bool in_file() const override { return m_src.in_file(); }
  std::string describe(uint64_t pos) const override { return m_src.describe(pos); }
  // What the stream is, for the limits' message ("the data of TABLE DATA teams").
  void set_source(std::string what) { m_source = std::move(what); }

 protected:
  void fill(char* dst, size_t n, size_t& done) final {
    if (m_over_limit) {
      fail(m_src, *m_over_limit);
    }
    decode(dst, n, done);
    if (!m_limited) {
      return;
    }
    m_decoded += done;
    // Compressed bytes taken by the decoder: those read from the source, less those unused.
    if (auto over = io::decode_limit_exceeded(m_name, m_decoded, m_src_read - (m_in_len - m_in_pos),
                                              m_source)) {
      m_over_limit = fmt::format("{} (at {})", *over, m_src.at());
    }
  }
  // Decodes into dst, counting in `done` the bytes delivered, until n or the end.
  virtual void decode(char* dst, size_t n, size_t& done) = 0;
  void unlimited() { m_limited = false; }

  // Refills the input buffer; false at the end of the source.
  bool refill() {
    if (m_in_pos < m_in_len) {
      return true;
    }
    if (m_src_end) {
      return false;
    }
    m_in.resize(k_io_buffer);
    m_in_len = m_src.read(m_in.data(), m_in.size());
    m_in_pos = 0;
    m_src_read += m_in_len;
    if (m_in_len < m_in.size()) {
      m_src_end = true;
    }
    return m_in_len > 0;
  }
  [[noreturn]] void truncated() {
    fail(m_src,
         fmt::format("the {} data ends at {} before its end: it is truncated", m_name, m_src.at()));
  }
  [[noreturn]] void corrupt(std::string_view why) {
    fail(m_src,
         fmt::format("corrupt {} data in the bytes read up to {}: {}", m_name, m_src.at(), why));
  }

  Stream& m_src;
  std::string m_name;
  std::vector<char> m_in;
  size_t m_in_pos = 0, m_in_len = 0;
  bool m_src_end = false;

 private:
  std::string m_source = "the data";
  bool m_limited = true;
  uint64_t m_decoded = 0;
  uint64_t m_src_read = 0;
  std::optional<std::string> m_over_limit;
};

class PlainDecoder final : public Decoder {
 public:
  // Nothing is decoded: no limit (the file is as large as it is).
  explicit PlainDecoder(Stream& src) : Decoder(src, "uncompressed") { unlimited(); }

 protected:
  void decode(char* dst, size_t n, size_t& done) override {
    while (done < n) {
      size_t got = m_src.read(dst + done, n - done);
      if (got == 0) {
        break;
      }
      done += got;
    }
  }
};

// zlib (custom format chunks) or gzip (files of a directory archive, several members allowed).
class InflateDecoder final : public Decoder {
 public:
  InflateDecoder(Stream& src, bool gzip) : Decoder(src, "gzip"), m_gzip(gzip) {
    std::memset(&m_z, 0, sizeof m_z);
    if (inflateInit2(&m_z, gzip ? 15 + 16 : 15) != Z_OK) {
      throw Error("cannot initialise zlib");
    }
  }
  ~InflateDecoder() override { inflateEnd(&m_z); }

 protected:
  void decode(char* dst, size_t n, size_t& done) override {
    while (done < n) {
      if (m_stream_end) {
        // Another gzip member may follow; zlib data ends here.
        if (!m_gzip || !refill()) {
          break;
        }
        inflateReset(&m_z);
        m_stream_end = false;
        m_started = false;
      }
      if (m_in_pos == m_in_len && !refill()) {
        if (m_started) {
          truncated();
        }
        break;
      }
      m_z.next_in = reinterpret_cast<Bytef*>(m_in.data() + m_in_pos);
      m_z.avail_in = static_cast<uInt>(m_in_len - m_in_pos);
      m_z.next_out = reinterpret_cast<Bytef*>(dst + done);
      m_z.avail_out = static_cast<uInt>(std::min<size_t>(n - done, UINT32_MAX));
      int ret = inflate(&m_z, Z_NO_FLUSH);
      size_t used = (m_in_len - m_in_pos) - m_z.avail_in;
      size_t made = std::min<size_t>(n - done, UINT32_MAX) - m_z.avail_out;
      m_in_pos += used;
      done += made;
      if (used > 0) {
        m_started = true;
      }
      if (ret == Z_STREAM_END) {
        m_stream_end = true;
      } else if (ret == Z_BUF_ERROR) {
        if (used == 0 && made == 0 && m_in_pos < m_in_len) {
          corrupt("zlib made no progress");
        }
      } else if (ret != Z_OK) {
        corrupt(m_z.msg ? m_z.msg : "inflate failed");
      }
    }
  }

 private:
  bool m_gzip;
  z_stream m_z;
  bool m_stream_end = false;
  bool m_started = false;
};

class Lz4Decoder final : public Decoder {
 public:
  explicit Lz4Decoder(Stream& src) : Decoder(src, "lz4") {
    if (LZ4F_isError(LZ4F_createDecompressionContext(&m_ctx, LZ4F_VERSION))) {
      throw Error("cannot initialise lz4");
    }
  }
  ~Lz4Decoder() override { LZ4F_freeDecompressionContext(m_ctx); }

 protected:
  void decode(char* dst, size_t n, size_t& done) override {
    int stalls = 0;
    while (done < n) {
      bool have = refill();
      size_t out = n - done;
      size_t in = m_in_len - m_in_pos;
      size_t hint = LZ4F_decompress(m_ctx, dst + done, &out,
                                    have ? m_in.data() + m_in_pos : nullptr, &in, nullptr);
      if (LZ4F_isError(hint)) {
        corrupt(LZ4F_getErrorName(hint));
      }
      m_in_pos += in;
      done += out;
      if (in > 0) {
        m_in_frame = hint != 0;
      }
      if (in == 0 && out == 0) {
        if (!have) {
          if (m_in_frame) {
            truncated();
          }
          break;
        }
        if (++stalls > 2) {
          corrupt("the lz4 decoder made no progress");
        }
      } else {
        stalls = 0;
      }
    }
  }

 private:
  LZ4F_dctx* m_ctx = nullptr;
  bool m_in_frame = false;
};

class ZstdDecoder final : public Decoder {
 public:
  explicit ZstdDecoder(Stream& src) : Decoder(src, "zstd") {
    m_ctx = ZSTD_createDStream();
    if (m_ctx == nullptr) {
      throw Error("cannot initialise zstd");
    }
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(m_ctx); }

 protected:
  void decode(char* dst, size_t n, size_t& done) override {
    int stalls = 0;
    while (done < n) {
      bool have = refill();
      ZSTD_inBuffer in{have ? m_in.data() + m_in_pos : nullptr, have ? m_in_len - m_in_pos : 0, 0};
      ZSTD_outBuffer out{dst + done, n - done, 0};
      size_t ret = ZSTD_decompressStream(m_ctx, &out, &in);
      if (ZSTD_isError(ret)) {
        corrupt(ZSTD_getErrorName(ret));
      }
      m_in_pos += in.pos;
      done += out.pos;
      if (in.pos > 0 || out.pos > 0) {
        m_in_frame = ret != 0;
      }
      if (in.pos == 0 && out.pos == 0) {
        if (!have) {
          if (m_in_frame) {
            truncated();
          }
          break;
        }
        if (++stalls > 2) {
          corrupt("the zstd decoder made no progress");
        }
      } else {
        stalls = 0;
      }
    }
  }

 private:
  ZSTD_DStream* m_ctx = nullptr;
  bool m_in_frame = false;
};

// `what` names the stream in the decode limits' message ("the data of TABLE DATA teams").
std::unique_ptr<Decoder> make_decoder(ArchiveCompression c, Stream& src, bool gzip_file,
                                      std::string what) {
  std::unique_ptr<Decoder> d;
  switch (c) {
    case ArchiveCompression::gzip:
      d = std::make_unique<InflateDecoder>(src, gzip_file);
      break;
    case ArchiveCompression::lz4:
      d = std::make_unique<Lz4Decoder>(src);
      break;
    case ArchiveCompression::zstd:
      d = std::make_unique<ZstdDecoder>(src);
      break;
    case ArchiveCompression::none:
      d = std::make_unique<PlainDecoder>(src);
      break;
  }
  d->set_source(std::move(what));
  return d;
}

// Reads until n bytes or the end.
size_t read_full(Stream& s, char* dst, size_t n) {
  size_t done = 0;
  while (done < n) {
    size_t got = s.read(dst + done, n - done);
    if (got == 0) {
      break;
    }
    done += got;
  }
  return done;
}

// ---------------------------------------------------------------------------------------
// Tar (pg_backup_tar.c, pgtar.h)

uint64_t read_tar_number(const char* s, size_t len) {
  uint64_t result = 0;
  if (static_cast<unsigned char>(*s) == 0x80) {
    while (--len) {
      if (result > (UINT64_MAX >> 8)) {
        return UINT64_MAX;  // more than 64 bits: no file is that large
      }
      result = (result << 8) | static_cast<unsigned char>(*++s);
    }
    return result;
  }
  while (len > 0 && (*s == ' ')) {
    ++s;
    --len;
  }
  while (len-- > 0 && *s >= '0' && *s <= '7') {
    result = (result << 3) | static_cast<uint64_t>(*s - '0');
    ++s;
  }
  return result;
}

int tar_checksum(const char* h) {
  int sum = 8 * ' ';
  for (size_t i = 0; i < k_tar_block; ++i) {
    if (i < 148 || i >= 156) {
      sum += 0xFF & h[i];
    }
  }
  return sum;
}

bool valid_tar_header(std::string_view h) {
  return h.size() >= k_tar_block &&
         static_cast<int>(read_tar_number(h.data() + 148, 8)) == tar_checksum(h.data());
}

std::string tar_name(const char* h) {
  return std::string(h, strnlen(h, 100));
}

uint64_t tar_padding(uint64_t len) {
  return (k_tar_block - (len % k_tar_block)) % k_tar_block;
}

struct TarMember {
  std::string name;
  uint64_t size = 0;
  uint64_t data_pos = 0;
  // The size runs past the end of the (seekable) file: a damaged size field, or a file cut
  // short. The member is not read; the members after it are looked for block by block.
  bool size_lies = false;
  // Where the next header is looked for.
  uint64_t end() const { return size_lies ? data_pos : data_pos + size + tar_padding(size); }
};

class TarArchive {
 public:
  explicit TarArchive(FileInput& in) : m_in(in) {}

  // The member after the current one; nullopt at the end of the archive.
  std::optional<TarMember> next() {
    uint64_t pos = m_in.position();
    if (pos < m_next_header) {
      if (m_in.skip(m_next_header - pos) < m_next_header - pos) {
        return std::nullopt;  // the last member's padding is cut: no header follows
      }
    } else if (pos > m_next_header) {
      if (!m_in.seekable()) {
        fail(m_in, "internal error: the tar archive cannot be read backwards");
      }
      m_in.seek(m_next_header);
    }
    char h[k_tar_block];
    for (;;) {
      uint64_t at = m_in.position();
      size_t got = m_in.read(h, sizeof h);
      if (got == 0) {
        return std::nullopt;
      }
      if (got < sizeof h) {
        fail(m_in, fmt::format("the archive ends at {} inside the tar header that starts at "
                               "byte {} ({} of its 512 bytes): the file is truncated",
                               m_in.at(), at, got));
      }
      int sum = static_cast<int>(read_tar_number(h + 148, 8));
      int chk = tar_checksum(h);
      if (sum == chk) {
        m_resync = false;
        break;
      }
      if (std::any_of(h, h + sizeof h, [](char c) { return c != 0; })) {
        std::string what = fmt::format(
            "corrupt tar header at byte {} (checksum {}, computed {}): expected the header of "
            "a member of a pg_dump tar archive{}",
            at, sum, chk,
            m_last.empty() ? ""
                           : " (is the size of the member before it, " + text::printable(m_last) +
                                 ", wrong?)");
        if (!m_in.seekable()) {
          fail(m_in, what);
        }
        // The members after it are looked for block by block; the damage is reported once.
        if (!m_resync) {
          damage.emplace_back(Location{m_in.file(), std::nullopt, at, true},
                              what + "; the members after it were looked for block by block");
          m_resync = true;
        }
      }
      m_next_header = m_in.position();  // a block of zeros (or damage): skip it
    }
    TarMember m;
    m.name = tar_name(h);
    m.size = read_tar_number(h + 124, 12);
    m.data_pos = m_in.position();
    // A size in base 256 can claim up to 2^88 bytes (the next header's position would wrap
    // around); a seekable file says how much it holds.
    if (m_in.seekable() ? m.size > m_in.size() - m.data_pos : m.size > k_max_tar_member) {
      if (!m_in.seekable()) {
        throw InputError(
            Location{m_in.file(), std::nullopt, m.data_pos - k_tar_block + 124, m_in.in_file()},
            fmt::format("the tar header at byte {} gives its member {} a size of {} bytes, "
                        "more than any file holds: the archive is damaged",
                        m.data_pos - k_tar_block, text::printable(m.name), m.size));
      }
      m.size_lies = true;
      m_resync = true;
    }
    m_last = m.name;
    m_next_header = m.end();
    m_seen[m.name] = m;
    return m;
  }

  // Finds the member `name` and positions the file at its data.
  TarMember find(const std::string& name) {
    if (m_in.seekable()) {
      if (auto it = m_seen.find(name); it != m_seen.end()) {
        m_in.seek(it->second.data_pos);
        m_next_header = it->second.end();
        return it->second;
      }
      // Resume the scan after the last member seen.
      uint64_t furthest = 0;
      for (const auto& [n, m] : m_seen) {
        furthest = std::max(furthest, m.end());
      }
      m_next_header = std::max(m_next_header, furthest);
    }
    for (;;) {
      auto m = next();
      if (!m) {
        fail(m_in,
             fmt::format("the tar archive has no member {} (it ends at {}){}", name, m_in.at(),
                         m_in.seekable() ? ": the file is truncated or damaged"
                                         : ": it is truncated, or its members are out of "
                                           "order (a compressed archive is read forward "
                                           "only)"));
      }
      if (m->name == name) {
        return *m;
      }
    }
  }

  // Damaged headers skipped so far (a seekable file), for the caller to report.
  std::vector<InputError> damage;

 private:
  FileInput& m_in;
  uint64_t m_next_header = 0;
  bool m_resync = false;  // looking for the next valid header after damage
  std::string m_last;     // the name of the last member seen
  std::map<std::string, TarMember> m_seen;
};

// ---------------------------------------------------------------------------------------
// Directory archives: a file named in the TOC, or the same with .gz, .lz4 or .zst.

std::optional<std::pair<fs::path, ArchiveCompression>> discover_file(const fs::path& p) {
  std::error_code ec;
  auto by_suffix = [](const fs::path& f) {
    std::string ext = f.extension().string();
    if (ext == ".gz") {
      return ArchiveCompression::gzip;
    }
    if (ext == ".lz4") {
      return ArchiveCompression::lz4;
    }
    if (ext == ".zst") {
      return ArchiveCompression::zstd;
    }
    return ArchiveCompression::none;
  };
  if (fs::is_regular_file(p, ec)) {
    return std::make_pair(p, by_suffix(p));
  }
  for (const char* suffix : {".gz", ".lz4", ".zst"}) {
    fs::path q = p;
    q += suffix;
    if (fs::is_regular_file(q, ec)) {
      return std::make_pair(q, by_suffix(q));
    }
  }
  return std::nullopt;
}

// A file of a directory archive with its decompressor.
struct DirFile {
  std::unique_ptr<FileInput> file;
  std::unique_ptr<Decoder> decoder;
};

DirFile open_dir_file(const fs::path& dir, const std::string& name, std::string_view what) {
  auto found = discover_file(dir / name);
  if (!found) {
    throw InputError(Location{(dir / name).string()},
                     fmt::format("{} {} is missing from the directory archive (nor is there a "
                                 ".gz, .lz4 or .zst of it)",
                                 what, name));
  }
  DirFile f;
  f.file = std::make_unique<FileInput>(found->first, false, found->first.filename().string());
  f.decoder = make_decoder(found->second, *f.file, true, found->first.filename().string());
  return f;
}

// ---------------------------------------------------------------------------------------
// The TOC

struct Entry {
  int dump_id = 0;
  bool had_dumper = false;
  unsigned tableoid = 0, oid = 0;
  std::string tag, desc;
  int section = 0;
  OptStr defn, drop_stmt, copy_stmt, ns, tablespace, tableam, owner;
  int relkind = 0;
  std::vector<int> deps;
  // custom: where the data block is
  int data_state = k_offset_no_data;
  uint64_t data_pos = 0;
  // tar, directory: the data file
  OptStr filename;
  int reqs = 0;
};

bool nonempty(const OptStr& s) {
  return s && !s->empty();
}

// pg_backup_archiver.c sanitize_line: a missing value is "-" (or ""); an empty one stays
// empty (an extension's comment has the owner "", and pg_restore prints "Owner: ").
std::string sanitize_line(const OptStr& s, bool want_hyphen) {
  if (!s) {
    return want_hyphen ? "-" : "";
  }
  std::string out = *s;
  for (char& c : out) {
    if (c == '\n' || c == '\r') {
      c = ' ';
    }
  }
  return out;
}

bool starts_with(const OptStr& s, std::string_view prefix) {
  return s && s->compare(0, prefix.size(), prefix) == 0;
}

bool is_acl(const Entry& te) {
  return te.desc == "ACL" || te.desc == "ACL LANGUAGE" || te.desc == "DEFAULT ACL";
}

// _tocEntryRequired with pg_restore's default options (the whole archive, no --create).
int entry_required(const Entry& te, int cur_section) {
  int res = k_req_schema | k_req_data;
  const std::string& d = te.desc;
  if (d == "ENCODING" || d == "STDSTRINGS" || d == "SEARCHPATH") {
    return k_req_special;
  }
  if (d == "STATISTICS DATA") {
    res = k_req_stats;
  }
  if (d == "DATABASE" || d == "DATABASE PROPERTIES") {
    return 0;
  }
  if (cur_section != k_section_pre_data && cur_section != k_section_data &&
      cur_section != k_section_post_data) {
    return 0;
  }
  if (d == "ACL" || d == "COMMENT" || d == "STATISTICS DATA" || d == "SECURITY LABEL") {
    if (te.tag.compare(0, 9, "DATABASE ") == 0) {
      return 0;
    }
  }
  if (!te.had_dumper) {
    bool large_object_tag = te.tag.compare(0, 12, "LARGE OBJECT") == 0;
    if (d == "SEQUENCE SET" || d == "BLOB" || d == "BLOB METADATA" ||
        ((d == "ACL" || d == "COMMENT" || d == "SECURITY LABEL") && large_object_tag)) {
      res &= k_req_data;
    } else {
      res &= ~k_req_data;
    }
  }
  if (!nonempty(te.defn) || starts_with(te.defn, "-- load via partition root ")) {
    res &= ~k_req_schema;
  }
  if (d == "<Init>" && te.tag == "Max OID") {
    return 0;
  }
  return res;
}

// _tocEntryRestorePass: 0 main, 1 ACLs, 2 after the ACLs.
int restore_pass(const Entry& te) {
  if (is_acl(te)) {
    return 1;
  }
  if (te.desc == "EVENT TRIGGER" || te.desc == "MATERIALIZED VIEW DATA") {
    return 2;
  }
  if ((te.desc == "COMMENT" || te.desc == "SECURITY LABEL") &&
      te.tag.compare(0, 14, "EVENT TRIGGER ") == 0) {
    return 2;
  }
  if (te.desc == "STATISTICS DATA" && te.section == k_section_post_data) {
    return 2;
  }
  return 0;
}

std::string fmt_id(const std::string& s) {
  return pgsql::quote_ident(s);
}

std::string fmt_qualified(const OptStr& ns, const std::string& name) {
  return nonempty(ns) ? fmt_id(*ns) + "." + fmt_id(name) : fmt_id(name);
}

// _getObjectDescription: what follows ALTER in ALTER ... OWNER TO ("" when the object has
// no owner of its own).
std::string object_description(const Entry& te) {
  static const std::set<std::string, std::less<>> k_simple = {"COLLATION",
                                                              "CONVERSION",
                                                              "DOMAIN",
                                                              "FOREIGN TABLE",
                                                              "MATERIALIZED VIEW",
                                                              "SEQUENCE",
                                                              "STATISTICS",
                                                              "TABLE",
                                                              "TEXT SEARCH DICTIONARY",
                                                              "TEXT SEARCH CONFIGURATION",
                                                              "TYPE",
                                                              "VIEW",
                                                              "DATABASE",
                                                              "PROCEDURAL LANGUAGE",
                                                              "SCHEMA",
                                                              "EVENT TRIGGER",
                                                              "FOREIGN DATA WRAPPER",
                                                              "SERVER",
                                                              "PUBLICATION",
                                                              "SUBSCRIPTION"};
  static const std::set<std::string, std::less<>> k_from_drop = {
      "AGGREGATE", "FUNCTION", "OPERATOR", "OPERATOR CLASS", "OPERATOR FAMILY", "PROCEDURE"};
  if (k_simple.count(te.desc)) {
    std::string out = te.desc + " ";
    if (nonempty(te.ns)) {
      out += fmt_id(*te.ns) + ".";
    }
    return out + fmt_id(te.tag);
  }
  if (te.desc == "BLOB") {
    return "LARGE OBJECT " + te.tag;
  }
  if (k_from_drop.count(te.desc) && te.drop_stmt && te.drop_stmt->size() > 5) {
    std::string first = te.drop_stmt->substr(5);
    while (!first.empty() && (first.back() == '\n' || first.back() == ';')) {
      first.pop_back();
    }
    return first;
  }
  return "";
}

std::string quoted_encoding(const std::string& defn) {
  size_t a = defn.find('\'');
  size_t b = a == std::string::npos ? a : defn.find('\'', a + 1);
  if (b == std::string::npos) {
    return "";
  }
  return defn.substr(a + 1, b - a - 1);
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::string_view archive_format_name(ArchiveFormat format) {
  switch (format) {
    case ArchiveFormat::custom:
      return "custom";
    case ArchiveFormat::tar:
      return "tar";
    case ArchiveFormat::directory:
      return "directory";
  }
  return "custom";
}

std::string_view compression_name(ArchiveCompression compression) {
  switch (compression) {
    case ArchiveCompression::none:
      return "none";
    case ArchiveCompression::gzip:
      return "gzip";
    case ArchiveCompression::lz4:
      return "lz4";
    case ArchiveCompression::zstd:
      return "zstd";
  }
  return "none";
}

std::string ArchiveHeader::version() const {
  return fmt::format("{}.{}-{}", version_major, version_minor, version_rev);
}

struct ArchiveScript::Impl {
  fs::path path;
  ArchiveOptions options;
  ArchiveHeader header;
  ArchiveSummary summary;
  std::vector<Entry> toc;
  std::string encoding = "SQL_ASCII";
  bool std_strings = false;
  OptStr searchpath;
  int version = 0;

  std::unique_ptr<FileInput> file;  // custom, tar
  std::unique_ptr<TarArchive> tar;
  std::unique_ptr<Fields> fields;  // over `file` (custom)

  // The first error, which read() throws once the script is delivered.
  std::optional<InputError> error;
  bool thrown = false;

  // The script being produced.
  std::string out;
  size_t out_pos = 0;
  uint64_t delivered = 0;
  enum class Phase { preamble, entries, trailer, done } phase = Phase::preamble;
  int pass = 0;
  size_t index = 0;
  int step_in_entry = 0;
  bool defn_dumped = false;
  OptStr curr_schema, curr_tablespace, curr_tableam;

  // The data being streamed.
  struct Data {
    std::unique_ptr<Stream> raw_owner;  // CustomBlockStream / BoundedStream
    DirFile dir;                        // directory: the file and its decoder
    std::unique_ptr<Decoder> decoder;   // custom, tar
    Stream* top = nullptr;
    const Entry* entry = nullptr;
    bool copy = false;
    int64_t section = 0;
    std::string carry;        // the start of a row not yet complete
    bool row_open = false;    // the text delivered so far ends inside a row
    bool terminated = false;  // the last line delivered that is not empty is "\."
  };
  std::optional<Data> data;
  std::vector<char> chunk;
  // Data can no longer be found (a forward-only archive after an error, a file cut short).
  std::optional<std::string> data_dead;
  // custom: where data blocks are, and where to go on scanning for more
  std::map<int, uint64_t> block_pos;
  uint64_t scan_pos = 0;

  // --- opening --------------------------------------------------------------------------

  void open() {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      header.format = ArchiveFormat::directory;
      DirFile toc_file = open_dir_file(path, "toc.dat", "the TOC file");
      read_head_and_toc(*toc_file.decoder, k_format_tar, false);
      return;
    }
    file = std::make_unique<FileInput>(path, true, "the archive");
    char magic[5] = {};
    size_t got = file->read(magic, sizeof magic);
    if (got == sizeof magic && std::memcmp(magic, "PGDMP", 5) == 0) {
      header.format = ArchiveFormat::custom;
      read_head_and_toc(*file, k_format_custom, true);
      scan_pos = file->position();
      return;
    }
    std::array<char, k_tar_block> block{};
    std::memcpy(block.data(), magic, got);
    size_t more = got == sizeof magic ? file->read(block.data() + got, block.size() - got) : 0;
    if (got + more == block.size() && valid_tar_header(std::string_view(block.data(), 512))) {
      header.format = ArchiveFormat::tar;
      if (file->seekable()) {
        file->seek(0);
      } else {
        file = std::make_unique<FileInput>(path, true, "the archive");
      }
      tar = std::make_unique<TarArchive>(*file);
      TarMember toc_member = tar->find("toc.dat");
      BoundedStream toc_stream(*file, toc_member.size, "toc.dat");
      read_head_and_toc(toc_stream, k_format_tar, false);
      return;
    }
    throw InputError(Location{path.string(), std::nullopt, 0, file->in_file()},
                     got + more == 0
                         ? std::string("the file is empty: expected a pg_dump archive")
                         : std::string("not a pg_dump archive: expected \"PGDMP\" (a custom "
                                       "archive) or the tar header of toc.dat at byte 0"));
  }

  void read_head_and_toc(Stream& s, int expected_format, bool magic_read) {
    if (!magic_read) {
      char magic[5] = {};
      read_exact(s, magic, sizeof magic, "the archive header");
      if (std::memcmp(magic, "PGDMP", 5) != 0) {
        fail(s,
             "did not find the magic string \"PGDMP\" at the start of the TOC: not a "
             "pg_dump archive");
      }
    }
    // ReadHead
    Fields bytes(s, 4, 8);
    int vmaj = bytes.byte("the archive header (version)");
    int vmin = bytes.byte("the archive header (version)");
    int vrev = bytes.byte("the archive header (version)");
    header.version_major = vmaj;
    header.version_minor = vmin;
    header.version_rev = vrev;
    version = (vmaj * 256 + vmin) * 256 + vrev;
    uint64_t version_at = s.position() - 3;
    if (vmaj != 1 || vmin < k_min_minor || vmin > k_max_minor) {
      std::string why = vmaj == 1 && vmin < k_min_minor
                            ? "older than dbautopsy reads"
                            : (vmaj == 1 && vmin > k_max_minor && vmin < 64
                                   ? "newer than dbautopsy knows"
                                   : "not a version pg_dump ever wrote: the header is damaged");
      throw InputError(Location{s.file(), std::nullopt, version_at, s.in_file()},
                       fmt::format("archive version {}.{}.{} in the header at byte {} is {}: "
                                   "dbautopsy reads versions 1.12 to 1.16 (pg_dump 9.0 to 18)",
                                   vmaj, vmin, vrev, version_at, why));
    }
    int int_size = bytes.byte("the archive header (integer size)");
    if (int_size < 1 || int_size > 8) {
      fail(s, fmt::format("integer size {} in the archive header (before {}): pg_dump writes "
                          "4 (at most 8 on any machine); the header is damaged",
                          int_size, s.at()));
    }
    int off_size = bytes.byte("the archive header (offset size)");
    if (off_size < 1 || off_size > 16) {
      fail(s, fmt::format("offset size {} in the archive header (before {}): pg_dump writes "
                          "8; the header is damaged",
                          off_size, s.at()));
    }
    header.int_size = int_size;
    header.offset_size = off_size;
    Fields f(s, int_size, off_size);
    int format = f.byte("the archive header (format)");
    if (format != expected_format) {
      fail(s, fmt::format("the archive header gives format code {} (before {}), expected {} "
                          "for a {} archive",
                          format, s.at(), expected_format, archive_format_name(header.format)));
    }
    if (vmin >= 15) {
      int algorithm = f.byte("the archive header (compression)");
      if (algorithm > 3) {
        fail(s, fmt::format("unknown compression algorithm code {} in the archive header "
                            "(before {}): expected 0 (none), 1 (gzip), 2 (lz4) or 3 (zstd)",
                            algorithm, s.at()));
      }
      header.compression = static_cast<ArchiveCompression>(algorithm);
    } else {
      int level = f.int32("the archive header (compression level)");
      header.compression_level = level;
      header.compression = level != 0 ? ArchiveCompression::gzip : ArchiveCompression::none;
    }
    std::array<int, 7> tm{};
    for (int& v : tm) {
      v = f.int32("the archive header (creation time)");
    }
    // tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_isdst
    if (tm[0] >= 0 && tm[0] <= 61 && tm[1] >= 0 && tm[1] < 60 && tm[2] >= 0 && tm[2] < 24 &&
        tm[3] >= 1 && tm[3] <= 31 && tm[4] >= 0 && tm[4] < 12 && tm[5] > 0 && tm[5] < 1000) {
      header.created = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", tm[5] + 1900, tm[4] + 1,
                                   tm[3], tm[2], tm[1], tm[0]);
    } else {
      summary.warnings.push_back("the archive header holds an invalid creation date");
    }
    header.database = f.str("the archive header (database name)");
    header.dumped_from = f.str("the archive header (server version)");
    header.dumped_by = f.str("the archive header (pg_dump version)");

    // ReadToc: entries read before an error are kept; the error is reported at the end.
    try {
      int count = f.int32("the TOC (number of entries)");
      auto left = s.remaining();
      if (count < 0 || (left && static_cast<uint64_t>(count) > *left)) {
        fail(s, fmt::format("the TOC announces {} entries (before {}): the archive is damaged",
                            count, s.at()));
      }
      header.toc_entries = count;
      for (int i = 0; i < count; ++i) {
        toc.push_back(read_entry(f, i, count));
        summary.entries_read = toc.size();
        const Entry& te = toc.back();
        if (te.desc == "ENCODING" && te.defn) {
          std::string enc = quoted_encoding(*te.defn);
          if (enc.empty()) {
            summary.warnings.push_back("invalid ENCODING entry in the TOC: " + *te.defn);
          } else {
            encoding = enc;
          }
        } else if (te.desc == "STDSTRINGS" && te.defn) {
          size_t q = te.defn->find('\'');
          if (q != std::string::npos && te.defn->compare(q, 4, "'on'") == 0) {
            std_strings = true;
          } else if (q != std::string::npos && te.defn->compare(q, 5, "'off'") == 0) {
            std_strings = false;
          } else {
            summary.warnings.push_back("invalid STDSTRINGS entry in the TOC: " + *te.defn);
          }
        } else if (te.desc == "SEARCHPATH" && te.defn) {
          searchpath = te.defn;
        }
      }
    } catch (const InputError& e) {
      error = e;
      if (file && file->hit_end()) {
        data_dead = "the archive ends inside its TOC, before any data";
      }
    }
    // ProcessArchiveRestoreOptions: which entries pg_restore would restore.
    int cur = k_section_pre_data;
    for (Entry& te : toc) {
      if (te.section != k_section_none) {
        cur = te.section;
      }
      te.reqs = entry_required(te, cur);
    }
  }

  Entry read_entry(Fields& f, int i, int count) {
    Entry te;
    std::string what = fmt::format("TOC entry {} of {}", i + 1, count);
    auto field = [&](const char* name) { return fmt::format("{} ({})", what, name); };
    uint64_t at = f.stream().position();
    te.dump_id = f.int32(field("dump ID"));
    if (te.dump_id <= 0) {
      throw InputError(Location{f.stream().file(), std::nullopt, at, f.stream().in_file()},
                       fmt::format("{} has the ID {} (at {}), out of range: the TOC is damaged",
                                   what, te.dump_id, f.stream().at()));
    }
    what = fmt::format("TOC entry {} of {} (ID {})", i + 1, count, te.dump_id);
    te.had_dumper = f.int32(field("data dumper flag")) != 0;
    auto oid = [](const OptStr& s) -> unsigned {
      return s ? static_cast<unsigned>(std::strtoul(s->c_str(), nullptr, 10)) : 0u;
    };
    te.tableoid = oid(f.str(field("table OID")));
    te.oid = oid(f.str(field("OID")));
    te.tag = f.str(field("tag")).value_or("");
    te.desc = f.str(field("type")).value_or("");
    what = fmt::format("TOC entry {} of {} ({} {})", i + 1, count, te.desc, te.tag);
    te.section = f.int32(field("section"));
    te.defn = f.str(field("definition"));
    te.drop_stmt = f.str(field("DROP statement"));
    te.copy_stmt = f.str(field("COPY statement"));
    te.ns = f.str(field("schema"));
    te.tablespace = f.str(field("tablespace"));
    if (version >= (1 * 256 + 14) * 256) {
      te.tableam = f.str(field("table access method"));
    }
    if (version >= (1 * 256 + 16) * 256) {
      te.relkind = f.int32(field("relation kind"));
    }
    te.owner = f.str(field("owner"));
    OptStr with_oids = f.str(field("WITH OIDS flag"));
    if (with_oids && *with_oids == "true") {
      summary.warnings.push_back(fmt::format(
          "{} is a table WITH OIDS, which PostgreSQL 12 and later cannot restore", te.tag));
    }
    for (;;) {
      OptStr dep = f.str(field("dependencies"));
      if (!dep) {
        break;
      }
      te.deps.push_back(std::atoi(dep->c_str()));
    }
    if (header.format == ArchiveFormat::custom) {
      te.data_state = f.offset(&te.data_pos, field("data offset"));
    } else {
      te.filename = f.str(field("file name"));
      if (te.filename && te.filename->empty()) {
        te.filename.reset();
      }
    }
    return te;
  }

  // --- the script ----------------------------------------------------------------------

  void emit(std::string_view s) { out.append(s); }

  void preamble() {
    emit("--\n-- PostgreSQL database dump\n--\n\n");
    // Where pg_restore (15.14 and later) writes its \restrict line: so that the script's
    // lines are those of `pg_restore --verbose -f - ARCHIVE`.
    emit(
        fmt::format("-- dbautopsy: the script of a pg_dump {} archive (version {}, {} data{}{})"
                    "\n\n",
                    archive_format_name(header.format), header.version(),
                    header.compression == ArchiveCompression::none
                        ? std::string("uncompressed")
                        : std::string(compression_name(header.compression)),
                    header.database ? ", database " : "",
                    header.database ? sanitize_line(header.database, false) : ""));
    if (header.dumped_from) {
      emit("-- Dumped from database version " + *header.dumped_from + "\n");
    }
    if (header.dumped_by) {
      emit("-- Dumped by pg_dump version " + *header.dumped_by + "\n");
    }
    emit("\n");
    if (header.created) {
      emit("-- Started on " + *header.created + "\n\n");
    }
    emit("SET statement_timeout = 0;\n");
    emit("SET lock_timeout = 0;\n");
    emit("SET idle_in_transaction_session_timeout = 0;\n");
    emit("SET client_encoding = '" + encoding + "';\n");
    emit(std::string("SET standard_conforming_strings = ") + (std_strings ? "on" : "off") + ";\n");
    if (searchpath) {
      emit(*searchpath);
    }
    emit("SET check_function_bodies = false;\n");
    emit("SET xmloption = content;\n");
    emit("SET client_min_messages = warning;\n");
    if (!std_strings) {
      emit("SET escape_string_warning = off;\n");
    }
    emit("SET row_security = off;\n\n");
  }

  void select_schema(const OptStr& schema) {
    if (searchpath || !nonempty(schema) || curr_schema == schema) {
      return;
    }
    emit("SET search_path = " + fmt_id(*schema) + (*schema != "pg_catalog" ? ", pg_catalog" : "") +
         ";\n\n");
    curr_schema = schema;
  }

  void select_tablespace(const OptStr& tablespace) {
    if (!tablespace || curr_tablespace == tablespace) {
      return;
    }
    emit(tablespace->empty() ? std::string("SET default_tablespace = '';\n\n")
                             : "SET default_tablespace = " + fmt_id(*tablespace) + ";\n\n");
    curr_tablespace = tablespace;
  }

  void select_tableam(const OptStr& tableam) {
    if (!tableam || curr_tableam == tableam) {
      return;
    }
    emit("SET default_table_access_method = " + fmt_id(*tableam) + ";\n\n");
    curr_tableam = tableam;
  }

  // _printTocEntry
  void print_entry(const Entry& te, std::string_view prefix) {
    select_schema(te.ns);
    select_tablespace(te.tablespace);
    if (te.relkind != k_relkind_partitioned_table) {
      select_tableam(te.tableam);
    }
    // As `pg_restore --verbose` prints it: the entry's dump ID (and its dependencies) in
    // the script, so that a fact's line leads to the TOC entry it came from.
    emit(fmt::format("--\n-- TOC entry {} (class {} OID {})\n", te.dump_id, te.tableoid, te.oid));
    if (!te.deps.empty()) {
      emit("-- Dependencies:");
      for (int dep : te.deps) {
        emit(fmt::format(" {}", dep));
      }
      emit("\n");
    }
    emit(fmt::format("-- {}Name: {}; Type: {}; Schema: {}; Owner: {}", prefix,
                     sanitize_line(te.tag, false), te.desc, sanitize_line(te.ns, true),
                     sanitize_line(te.owner, true)));
    if (nonempty(te.tablespace)) {
      emit("; Tablespace: " + sanitize_line(te.tablespace, false));
    }
    emit("\n");
    // The format's extra line (_PrintExtraToc, verbose only).
    if (header.format == ArchiveFormat::custom) {
      emit(fmt::format("-- Data Pos: {}\n", te.data_pos));
    } else if (te.filename) {
      emit("-- File: " + *te.filename + "\n");
    }
    emit("--\n\n");
    if (te.desc == "BLOB METADATA") {
      size_t n =
          te.defn ? static_cast<size_t>(std::count(te.defn->begin(), te.defn->end(), '\n')) : 0;
      emit(
          fmt::format("-- dbautopsy: {} large objects are created here; large objects are "
                      "not read\n\n",
                      n));
    } else if (te.desc == "ACL" && te.tag.compare(0, 13, "LARGE OBJECTS") == 0) {
      emit("-- dbautopsy: privileges of large objects, which are not read\n\n");
    } else if (nonempty(te.defn)) {
      emit(*te.defn);
      emit("\n\n");
    }
    if (nonempty(te.owner) && nonempty(te.drop_stmt) && te.desc != "BLOB METADATA") {
      std::string what = object_description(te);
      if (!what.empty()) {
        emit("ALTER " + what + " OWNER TO " + fmt_id(*te.owner) + ";\n\n");
      }
    }
    if (te.relkind == k_relkind_partitioned_table && te.tableam) {
      emit("ALTER TABLE " + fmt_qualified(te.ns, te.tag) + " SET ACCESS METHOD " +
           fmt_id(*te.tableam) + ";\n\n");
    }
  }

  // One step of the script; a step emits a bounded amount of text (an entry's definition,
  // or one chunk of data).
  void step() {
    switch (phase) {
      case Phase::preamble:
        preamble();
        phase = Phase::entries;
        return;
      case Phase::entries:
        if (data) {
          data_step();
          return;
        }
        entry_step();
        return;
      case Phase::trailer:
        if (!error) {
          emit("--\n-- PostgreSQL database dump complete\n--\n\n");
        }
        phase = Phase::done;
        return;
      case Phase::done:
        return;
    }
  }

  // restore_toc_entry, one part at a time: the schema part, the data part, the statistics.
  void entry_step() {
    if (index >= toc.size()) {
      index = 0;
      if (++pass > 2) {
        phase = Phase::trailer;
      }
      return;
    }
    const Entry& te = toc[index];
    if ((te.reqs & (k_req_schema | k_req_data | k_req_stats)) == 0 || restore_pass(te) != pass) {
      ++index;
      return;
    }
    switch (step_in_entry) {
      case 0:
        defn_dumped = false;
        if (te.reqs & k_req_schema) {
          print_entry(te, "");
          defn_dumped = true;
        }
        step_in_entry = 1;
        return;
      case 1:
        step_in_entry = 2;
        if (te.reqs & k_req_data) {
          if (te.had_dumper) {
            print_entry(te, "Data for ");
            if (te.desc == "BLOBS" || te.desc == "BLOB COMMENTS") {
              select_schema(std::string("pg_catalog"));
              large_objects(te);
            } else {
              start_data(te);
            }
          } else if (!defn_dumped) {
            print_entry(te, "");
          }
        }
        return;
      default:
        if (te.reqs & k_req_stats) {
          print_entry(te, "Statistics for ");
        }
        step_in_entry = 0;
        ++index;
        return;
    }
  }

  void note_error(const InputError& e) {
    note_tar_damage();
    if (!error) {
      error = e;
    } else {
      summary.other_errors.push_back(e.detail());
    }
  }

  // Damaged tar headers skipped while looking for a member, reported before what follows.
  void note_tar_damage() {
    if (!tar || tar->damage.empty()) {
      return;
    }
    std::vector<InputError> found;
    found.swap(tar->damage);
    for (const auto& e : found) {
      note_error(e);
    }
  }

  // After an error: whether later data can still be reached.
  void after_data_error() {
    // A directory's files are apart; a seekable tar's members are found by name (past
    // damage, block by block).
    if (header.format == ArchiveFormat::directory ||
        (header.format == ArchiveFormat::tar && file->seekable())) {
      return;
    }
    if (file->hit_end()) {
      data_dead = "the archive ends before it";
    } else if (!file->seekable()) {
      data_dead = "the archive is read forward only and an earlier data block was unreadable";
    }
  }

  void no_data(const Entry& te, const std::string& why) {
    ++summary.data_unreadable;
    emit(fmt::format("-- dbautopsy: the data of this entry was not read: {}\n\n", why));
  }

  // Opens the entry's data; emits the COPY statement; streaming goes on in data_step().
  void start_data(const Entry& te) {
    if (data_dead) {
      no_data(te, *data_dead);
      return;
    }
    Data d;
    d.entry = &te;
    std::string what = fmt::format("the data of {} {}", te.desc, te.tag);
    try {
      switch (header.format) {
        case ArchiveFormat::custom: {
          if (te.data_state == k_offset_no_data) {
            emit("-- dbautopsy: the archive holds no data for this entry\n\n");
            return;
          }
          int type = locate_block(te);
          if (type != k_blk_data) {
            fail(*file, fmt::format("the data block of {} {} has type {}, expected {} (table "
                                    "data)",
                                    te.desc, te.tag, type, k_blk_data));
          }
          d.raw_owner = std::make_unique<CustomBlockStream>(*file, *fields, what);
          d.decoder = make_decoder(header.compression, *d.raw_owner, false, what);
          d.top = d.decoder.get();
          break;
        }
        case ArchiveFormat::tar: {
          if (header.compression != ArchiveCompression::none) {
            fail(*file,
                 "the header says the tar archive is compressed, which pg_dump never "
                 "writes");
          }
          if (!te.filename) {
            emit("-- dbautopsy: the archive holds no data for this entry\n\n");
            return;
          }
          TarMember m = tar->find(*te.filename);
          if (m.size_lies) {
            throw InputError(
                Location{file->file(), std::nullopt, m.data_pos - k_tar_block + 124, true},
                fmt::format("the tar header at byte {} gives its member {} a size of {} bytes, "
                            "past the end of the file (byte {}): the size field is damaged or "
                            "the file is truncated",
                            m.data_pos - k_tar_block, text::printable(m.name), m.size,
                            file->size()));
          }
          d.raw_owner = std::make_unique<BoundedStream>(*file, m.size, m.name);
          d.top = d.raw_owner.get();
          break;
        }
        case ArchiveFormat::directory: {
          if (!te.filename) {
            emit("-- dbautopsy: the archive holds no data for this entry\n\n");
            return;
          }
          d.dir = open_dir_file(path, *te.filename, "the data file");
          d.top = d.dir.decoder.get();
          break;
        }
      }
    } catch (const InputError& e) {
      note_error(e);
      after_data_error();
      no_data(te, e.detail());
      return;
    }
    note_tar_damage();
    if (nonempty(te.copy_stmt)) {
      emit(*te.copy_stmt);
      d.copy = true;
      d.section = static_cast<int64_t>(++summary.copy_sections);
    }
    chunk.resize(std::max<size_t>(options.chunk_bytes, 1));
    data = std::move(d);
  }

  // Custom format: positions the file at the entry's data block, past its header; returns
  // the block type (_PrintTocData's search).
  int locate_block(const Entry& te) {
    FileInput& in = *file;
    auto header_at = [&](uint64_t pos) {
      in.seek(pos);
      int type = fields->byte("the header of a data block");
      int id = fields->int32("the header of a data block");
      if (id != te.dump_id) {
        fail(in, fmt::format("found the data block of entry {} at byte {} where the TOC puts "
                             "that of entry {} ({} {}): the archive is damaged",
                             id, pos, te.dump_id, te.desc, te.tag));
      }
      return type;
    };
    if (in.seekable() && te.data_state == k_offset_pos_set) {
      // Not a truncated file (the blocks before the end are still read): a damaged offset.
      if (te.data_pos >= in.size()) {
        throw InputError(Location{in.file(), std::nullopt, in.size(), true},
                         fmt::format("the TOC puts the data block of {} {} (entry {}) at byte "
                                     "{}, past the end of the file (byte {}): the archive is "
                                     "damaged",
                                     te.desc, te.tag, te.dump_id, te.data_pos, in.size()));
      }
      return header_at(te.data_pos);
    }
    if (in.seekable()) {
      if (auto it = block_pos.find(te.dump_id); it != block_pos.end()) {
        return header_at(it->second);
      }
      in.seek(scan_pos);
    }
    for (;;) {
      uint64_t pos = in.position();
      char c = 0;
      if (in.read(&c, 1) == 0) {
        fail(in, fmt::format("the archive ends at {} before the data block of {} {} (entry "
                             "{}): the file is truncated{}",
                             in.at(), te.desc, te.tag, te.dump_id,
                             in.seekable() ? "" : ", or its blocks are out of order"));
      }
      int type = static_cast<unsigned char>(c);
      int id = fields->int32("the header of a data block");
      if (id == te.dump_id) {
        return type;
      }
      block_pos[id] = pos;
      if (type == k_blk_data) {
        skip_chunks();
      } else if (type == k_blk_blobs) {
        skip_blobs(nullptr);
      } else {
        fail(in, fmt::format("unrecognized data block type {} at byte {} (expected 1, table "
                             "data, or 3, large objects): the archive is damaged",
                             type, pos));
      }
      if (in.seekable()) {
        scan_pos = std::max(scan_pos, in.position());
      }
    }
  }

  void skip_chunks() {
    for (;;) {
      int64_t len = fields->integer("the length of a data chunk");
      if (len == 0) {
        return;
      }
      if (len < 0 || len > k_max_field) {
        fail(*file, fmt::format("a data chunk announces {} bytes before {}: the archive is "
                                "damaged",
                                len, file->at()));
      }
      if (file->skip(static_cast<uint64_t>(len)) < static_cast<uint64_t>(len)) {
        fail(*file, fmt::format("the archive ends at {} inside a data chunk: the file is "
                                "truncated",
                                file->at()));
      }
    }
  }

  // The large objects of a BLK_BLOBS block: OID, data chunks, ..., OID 0.
  void skip_blobs(uint64_t* count) {
    for (;;) {
      int64_t oid = fields->integer("the OID of a large object");
      if (oid == 0) {
        return;
      }
      skip_chunks();
      if (count) {
        ++*count;
      }
    }
  }

  // BLOBS entries: counts the large objects and says they are not read.
  void large_objects(const Entry& te) {
    ++summary.large_object_entries;
    uint64_t count = 0;
    try {
      if (data_dead) {
        no_data(te, *data_dead);
        return;
      }
      switch (header.format) {
        case ArchiveFormat::custom: {
          if (te.data_state == k_offset_no_data) {
            break;
          }
          int type = locate_block(te);
          if (type != k_blk_blobs) {
            fail(*file, fmt::format("the data block of {} has type {}, expected {} (large "
                                    "objects)",
                                    te.desc, type, k_blk_blobs));
          }
          skip_blobs(&count);
          if (file->seekable()) {
            scan_pos = std::max(scan_pos, file->position());
          }
          break;
        }
        case ArchiveFormat::tar: {
          // blob_<oid>.dat members, up to blobs[_NNN].toc (pg_backup_tar.c _LoadLOs).
          std::optional<TarMember> m;
          if (minor_of(version) >= 16) {
            m = tar->find(fmt::format("blob_{}.dat", std::strtoul(te.tag.c_str(), nullptr, 10)));
          } else {
            m = tar->next();
          }
          bool found = false;
          while (m) {
            if (m->name.compare(0, 5, "blob_") == 0) {
              ++count;
              found = true;
            } else if (found) {
              break;
            }
            m = tar->next();
          }
          break;
        }
        case ArchiveFormat::directory: {
          std::string name =
              minor_of(version) >= 16 && te.filename ? *te.filename : std::string("blobs.toc");
          DirFile f = open_dir_file(path, name, "the large object list");
          char buf[16384];
          size_t got = 0;
          char last = '\n';
          while ((got = f.decoder->read(buf, sizeof buf)) > 0) {
            count += static_cast<uint64_t>(std::count(buf, buf + got, '\n'));
            last = buf[got - 1];
          }
          if (last != '\n') {
            ++count;
          }
          break;
        }
      }
    } catch (const InputError& e) {
      note_error(e);
      after_data_error();
      emit(
          fmt::format("-- dbautopsy: the large objects of this entry could not be counted: "
                      "{}\n\n",
                      e.detail()));
      summary.large_objects += count;
      return;
    }
    summary.large_objects += count;
    emit(fmt::format("-- dbautopsy: {} large objects, which are not read\n\n", count));
  }

  // One chunk of the data being streamed. Rows are delivered whole: the start of a row is
  // held back until its end arrives, so that data cut short ends at a row boundary.
  void data_step() {
    Data& d = *data;
    size_t got = 0;
    std::optional<InputError> failure;
    try {
      while (got < chunk.size()) {
        size_t n = d.top->read(chunk.data() + got, chunk.size() - got);
        if (n == 0) {
          break;
        }
        got += n;
      }
      if (got < chunk.size() && header.format == ArchiveFormat::custom) {
        // Read the block to its end marker, past what the decompressor needed.
        char sink[4096];
        while (d.raw_owner->read(sink, sizeof sink) > 0) {
        }
      }
    } catch (const InputError& e) {
      failure = e;
    }
    std::string_view piece(chunk.data(), got);
    size_t nl = piece.rfind('\n');
    if (nl == std::string_view::npos) {
      d.carry.append(piece);
      if (d.carry.size() > k_max_carry) {
        emit(d.carry);
        d.row_open = true;
        d.terminated = false;
        d.carry.clear();
      }
    } else {
      emit(d.carry);
      emit(piece.substr(0, nl + 1));
      d.row_open = false;
      note_last_line(d, piece.substr(0, nl + 1));
      d.carry.assign(piece.substr(nl + 1));
    }
    if (failure) {
      data_failed(*failure);
      return;
    }
    if (got < chunk.size() && d.copy && (!d.terminated || !d.carry.empty())) {
      // pg_dump ends every COPY's data with "\.": without it, the data was cut (a tar
      // member whose size is too small, a file cut short), and what follows in the script
      // must not be taken for rows.
      data_failed(InputError(
          Location{d.top->file(), std::nullopt, d.top->position(), d.top->in_file()},
          fmt::format("the data of {} {} ends at {} without the \\. line that ends pg_dump's "
                      "COPY data: it is cut short",
                      d.entry->desc, d.entry->tag, d.top->at())));
      return;
    }
    if (got < chunk.size()) {
      // The end of the data.
      emit(d.carry);
      if (!d.carry.empty()) {
        d.row_open = true;
      }
      ++summary.data_entries;
      if (header.format == ArchiveFormat::custom && file->seekable()) {
        scan_pos = std::max(scan_pos, file->position());
      }
      data.reset();
    }
  }

  // Whether the last line of `text` (complete lines, after d.carry) that is not empty is
  // "\.".
  static void note_last_line(Data& d, std::string_view text) {
    size_t e = text.size();
    while (e > 0 && text[e - 1] == '\n') {
      --e;
    }
    if (e == 0) {
      if (!d.carry.empty()) {
        d.terminated = d.carry == "\\.";
      }
      return;
    }
    size_t b = text.rfind('\n', e - 1);
    if (b == std::string_view::npos) {
      d.terminated = d.carry.size() + e == 2 && (d.carry + std::string(text.substr(0, e))) == "\\.";
    } else {
      d.terminated = text.substr(b + 1, e - b - 1) == "\\.";
    }
  }

  void data_failed(const InputError& e) {
    Data& d = *data;
    note_error(e);
    if (d.row_open) {
      emit("\n");
    }
    if (d.copy) {
      emit("\\.\n\n");
      summary.incomplete_sections.emplace_back(d.section, fmt_qualified(d.entry->ns, d.entry->tag));
    } else {
      emit(";\n\n");
    }
    emit(fmt::format("-- dbautopsy: the data above is cut short{}: {}\n\n",
                     d.carry.empty() ? "" : " (an incomplete row was left out)", e.detail()));
    ++summary.data_unreadable;
    data.reset();
    after_data_error();
  }

  void produce() {
    size_t target = std::max<size_t>(options.chunk_bytes, 1);
    while (phase != Phase::done && out.size() - out_pos < target) {
      step();
    }
  }
};

ArchiveScript::ArchiveScript(const fs::path& path, ArchiveOptions options)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->path = path;
  m_impl->options = options;
  m_impl->open();
  if (m_impl->header.format == ArchiveFormat::custom) {
    m_impl->fields = std::make_unique<Fields>(*m_impl->file, m_impl->header.int_size,
                                              m_impl->header.offset_size);
  }
}

ArchiveScript::~ArchiveScript() = default;

size_t ArchiveScript::read(char* dst, size_t n) {
  Impl& m = *m_impl;
  size_t done = 0;
  while (done < n) {
    if (m.out_pos == m.out.size()) {
      m.out.clear();
      m.out_pos = 0;
      if (m.phase == Impl::Phase::done) {
        break;
      }
      m.produce();
      continue;
    }
    size_t take = std::min(n - done, m.out.size() - m.out_pos);
    std::memcpy(dst + done, m.out.data() + m.out_pos, take);
    m.out_pos += take;
    done += take;
  }
  m.delivered += done;
  if (done == 0 && n > 0 && m.phase == Impl::Phase::done && m.error && !m.thrown) {
    m.thrown = true;
    throw InputError(*m.error);
  }
  return done;
}

uint64_t ArchiveScript::offset() const {
  return m_impl->delivered;
}

std::string ArchiveScript::display_name() const {
  return m_impl->path.string();
}

const ArchiveHeader& ArchiveScript::header() const {
  return m_impl->header;
}

const ArchiveSummary& ArchiveScript::summary() const {
  return m_impl->summary;
}

std::optional<ArchiveFormat> sniff_pgdump_archive(std::string_view head) {
  if (head.substr(0, 5) == "PGDMP") {
    return ArchiveFormat::custom;
  }
  if (head.size() >= k_tar_block + 5 && valid_tar_header(head) &&
      tar_name(head.data()) == "toc.dat" && head.substr(k_tar_block, 5) == "PGDMP") {
    return ArchiveFormat::tar;
  }
  return std::nullopt;
}

bool is_pgdump_directory(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    return false;
  }
  try {
    DirFile f = open_dir_file(path, "toc.dat", "the TOC file");
    char magic[5] = {};
    return read_full(*f.decoder, magic, sizeof magic) == sizeof magic &&
           std::memcmp(magic, "PGDMP", 5) == 0;
  } catch (const Error&) {
    return false;
  }
}

void record_archive_facts(const ArchiveScript& script, store::FactWriter& out) {
  const ArchiveHeader& h = script.header();
  const ArchiveSummary& s = script.summary();
  store::ArtifactHeader ah;
  ah.dumped_from = h.dumped_from;
  ah.dumped_by = h.dumped_by;
  ah.started_on = h.created;
  store::set_artifact_header(out.store(), out.artifact_id(), ah);
  if (!s.incomplete_sections.empty()) {
    store::Statement st = out.store().prepare(
        "UPDATE table_stats SET complete = 0 WHERE artifact_id = ?1 AND section = ?2 AND "
        "source = 'copy'");
    for (const auto& [section, table] : s.incomplete_sections) {
      (void)table;
      st.run(out.artifact_id(), section);
    }
  }
  auto problem = [&](const char* severity, const char* code, std::string message) {
    store::ProblemFact p;
    p.severity = severity;
    p.code = code;
    p.message = std::move(message);
    out.add(p);
  };
  if (s.large_objects > 0 || s.large_object_entries > 0) {
    problem("notice", "large-objects",
            fmt::format("the archive holds {} large objects (in {} BLOBS entries); dbautopsy "
                        "does not read large objects",
                        s.large_objects, s.large_object_entries));
  }
  for (const auto& e : s.other_errors) {
    problem("error", "unreadable", e);
  }
  for (const auto& w : s.warnings) {
    problem("warning", "archive", w);
  }
}

ArchiveRead read_pgdump_archive(const fs::path& path, store::FactWriter& out,
                                const PgDumpOptions& options, ArchiveOptions archive) {
  ArchiveRead r;
  std::unique_ptr<ArchiveScript> script;
  try {
    script = std::make_unique<ArchiveScript>(path, archive);
  } catch (const InputError& e) {
    store::ProblemFact p;
    p.severity = "error";
    p.code = "unreadable";
    p.message = e.detail();
    if (e.where().offset) {
      p.byte_offset = static_cast<int64_t>(*e.where().offset);
    }
    p.in_file = e.where().offset_in_file;
    out.add(p);
    r.failed = true;
    return r;
  }
  r.script = read_pgdump_sql(*script, out, options);
  record_archive_facts(*script, out);
  r.header = script->header();
  r.archive = script->summary();
  return r;
}

}  // namespace dbautopsy::pgdump
