#include "io/input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bzlib.h>
#include <fmt/format.h>
#include <isa-l/igzip_lib.h>
#include <lzma.h>
#include <zstd.h>
#include <algorithm>
#include <boost/iostreams/concepts.hpp>
#include <boost/iostreams/operations.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "base/utf8.hpp"
#include "io/digest.hpp"
#include "io/pieces.hpp"
#include "io/progress.hpp"

namespace dbautopsy::io {

namespace bio = boost::iostreams;

namespace {

constexpr size_t k_compressed_chunk = 256 * 1024;
// Plain files from this size on are read ahead on a thread (DecodeAhead).
constexpr uint64_t k_plain_ahead_from = 16u << 20;

// Counts what the decompressor consumed and remembers whether the file ended, so that an
// error can say where in the file it happened and whether the file was cut short.
struct FileCursor {
  int fd = -1;
  uint64_t consumed = 0;
  bool eof = false;
  // The file's SHA-256 when asked for: fed every byte read from fd, by the thread reading it.
  Sha256* sha = nullptr;
  // A file in pieces (io/pieces.hpp): the pieces, fd open on pieces[piece]; read() moves on to
  // the next piece at the end of each.
  std::vector<std::filesystem::path> pieces;
  size_t piece = 0;
  std::string error;  // why read() returned -1
  // Every read of fd ends here: the count of the file's bytes, progress and the digest.
  void took(const char* bytes, size_t n, bool progress = true) {
    consumed += n;
    if (progress) {
      count_read(n);
    }
    if (sha) {
      sha->update(bytes, n);
    }
  }
  // Reads from the file (through every piece in turn); 0 at its end, -1 on an error (`error`).
  ssize_t read(char* dst, size_t n) {
    for (;;) {
      ssize_t got = ::read(fd, dst, n);
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got < 0) {
        error = fmt::format("read error: {}", std::strerror(errno));
        return -1;
      }
      if (got == 0 && piece + 1 < pieces.size()) {
        if (!open_next()) {
          return -1;
        }
        continue;
      }
      return got;
    }
  }
  bool open_next() {
    const std::filesystem::path& next = pieces[piece + 1];
    int next_fd = ::open(next.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st {};
    if (next_fd < 0 || ::fstat(next_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      error = next_fd < 0
                  ? fmt::format("cannot open the piece {}: {}", next.filename().string(),
                                std::strerror(errno))
                  : fmt::format("the piece {} is not a regular file", next.filename().string());
      if (next_fd >= 0) {
        ::close(next_fd);
      }
      return false;
    }
    ::close(fd);
    fd = next_fd;
    ++piece;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return true;
  }
};

class CountingSource : public bio::source {
 public:
  explicit CountingSource(FileCursor* cursor) : m_cursor(cursor) {}
  std::streamsize read(char* dst, std::streamsize n) {
    ssize_t got = m_cursor->read(dst, static_cast<size_t>(n));
    if (got < 0) {
      throw std::ios_base::failure(m_cursor->error);
    }
    if (got == 0) {
      m_cursor->eof = true;
      return -1;
    }
    m_cursor->took(dst, static_cast<size_t>(got));
    return got;
  }

 private:
  FileCursor* m_cursor;
};

// A decompressor's failure: `truncated` when the file ends inside a stream, otherwise
// corrupt data; `at` is the offset in the compressed file of the input it had consumed.
struct DecodeError : std::ios_base::failure {
  DecodeError(const std::string& what, bool truncated_, uint64_t at_)
      : std::ios_base::failure(what), truncated(truncated_), at(at_) {}
  bool truncated;
  uint64_t at;
};

// One codec's streaming decoder (ISA-L, libbzip2, liblzma), driven by DecodingFilter.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // Decodes from [in, in + in_size) into [out, out + out_size); sets the bytes used and
  // made. `finish`: no input follows. Returns true when a stream (a gzip member, a bzip2
  // stream, the xz file) has ended. Throws DecodeError (not truncated) on corrupt data.
  virtual bool step(const char* in, size_t in_size, char* out, size_t out_size, bool finish,
                    size_t& used, size_t& made) = 0;
  // Called before decoding more input after a stream ended (concatenated streams).
  virtual void restart() = 0;
};

// gzip through ISA-L's inflate (several times faster than zlib's on x86-64). isal_inflate
// with ISAL_GZIP reads the member's header, checks its CRC-32 and length, and stops right
// after the trailer, so a following member (pigz, concatenated files) starts at the next
// unused byte.
class GzipDecoder final : public Decoder {
 public:
  GzipDecoder() : m_s(std::make_unique<inflate_state>()) { restart(); }
  bool step(const char* in, size_t in_size, char* out, size_t out_size, bool, size_t& used,
            size_t& made) override {
    // ISA-L counts in 32 bits: feed it at most 1 GiB a call.
    constexpr size_t k_max = size_t{1} << 30;
    in_size = std::min(in_size, k_max);
    out_size = std::min(out_size, k_max);
    m_s->next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in));
    m_s->avail_in = static_cast<uint32_t>(in_size);
    m_s->next_out = reinterpret_cast<uint8_t*>(out);
    m_s->avail_out = static_cast<uint32_t>(out_size);
    int ret = isal_inflate(m_s.get());
    used = in_size - m_s->avail_in;
    made = out_size - m_s->avail_out;
    if (ret != ISAL_DECOMP_OK) {
      throw DecodeError(describe(ret), false, 0);
    }
    return m_s->block_state == ISAL_BLOCK_FINISH;
  }
  void restart() override {
    isal_inflate_init(m_s.get());
    m_s->crc_flag = ISAL_GZIP;
  }

 private:
  static std::string describe(int ret) {
    switch (ret) {
      case ISAL_INVALID_BLOCK:
        return "invalid deflate block";
      case ISAL_INVALID_SYMBOL:
        return "invalid code in a deflate block";
      case ISAL_INVALID_LOOKBACK:
        return "invalid distance too far back";
      case ISAL_INVALID_WRAPPER:
        return "incorrect gzip header";
      case ISAL_UNSUPPORTED_METHOD:
        return "unknown compression method";
      case ISAL_INCORRECT_CHECKSUM:
        return "incorrect data check (CRC-32 or length of a member)";
      default:
        return fmt::format("ISA-L inflate error {}", ret);
    }
  }
  std::unique_ptr<inflate_state> m_s;  // about 40 KiB: on the heap
};

class Bzip2Decoder final : public Decoder {
 public:
  Bzip2Decoder() { init(); }
  ~Bzip2Decoder() override { BZ2_bzDecompressEnd(&m_b); }
  bool step(const char* in, size_t in_size, char* out, size_t out_size, bool, size_t& used,
            size_t& made) override {
    m_b.next_in = const_cast<char*>(in);
    m_b.avail_in = static_cast<unsigned>(in_size);
    m_b.next_out = out;
    m_b.avail_out = static_cast<unsigned>(out_size);
    int ret = BZ2_bzDecompress(&m_b);
    used = in_size - m_b.avail_in;
    made = out_size - m_b.avail_out;
    if (ret == BZ_STREAM_END) {
      return true;
    }
    if (ret != BZ_OK) {
      throw DecodeError(ret == BZ_DATA_ERROR_MAGIC ? "not bzip2 data (bad magic)"
                        : ret == BZ_DATA_ERROR     ? "data integrity error"
                                                   : fmt::format("libbzip2 error {}", ret),
                        false, 0);
    }
    return false;
  }
  void restart() override {
    BZ2_bzDecompressEnd(&m_b);
    init();
  }

 private:
  void init() {
    m_b = bz_stream{};
    if (BZ2_bzDecompressInit(&m_b, 0, 0) != BZ_OK) {
      throw std::bad_alloc();
    }
  }
  bz_stream m_b{};
};

class XzDecoder final : public Decoder {
 public:
  XzDecoder() {
    if (lzma_stream_decoder(&m_x, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      throw std::bad_alloc();
    }
  }
  ~XzDecoder() override { lzma_end(&m_x); }
  bool step(const char* in, size_t in_size, char* out, size_t out_size, bool finish, size_t& used,
            size_t& made) override {
    m_x.next_in = reinterpret_cast<const uint8_t*>(in);
    m_x.avail_in = in_size;
    m_x.next_out = reinterpret_cast<uint8_t*>(out);
    m_x.avail_out = out_size;
    lzma_ret ret = lzma_code(&m_x, finish ? LZMA_FINISH : LZMA_RUN);
    used = in_size - m_x.avail_in;
    made = out_size - m_x.avail_out;
    if (ret == LZMA_STREAM_END) {
      return true;
    }
    if (ret != LZMA_OK && ret != LZMA_BUF_ERROR) {
      throw DecodeError(ret == LZMA_DATA_ERROR     ? "data is corrupt"
                        : ret == LZMA_FORMAT_ERROR ? "not xz data"
                                                   : fmt::format("liblzma error {}", int(ret)),
                        false, 0);
    }
    return false;
  }
  void restart() override {}  // LZMA_CONCATENATED: one decoder reads every stream

 private:
  lzma_stream m_x = LZMA_STREAM_INIT;
};

// zstd through libzstd's streaming decoder. ZSTD_decompressStream returns 0 once a frame is
// decoded and flushed; the next frame (zstd's multi-frame files, `cat a.zst b.zst`) starts
// at the next unused byte, and skippable frames are passed over by libzstd itself. A frame
// cut short never returns 0, so the file's end there is a truncation (DecodingFilter).
class ZstdDecoder final : public Decoder {
 public:
  ZstdDecoder() : m_ctx(ZSTD_createDCtx(), ZSTD_freeDCtx) {
    if (!m_ctx) {
      throw std::bad_alloc();
    }
  }
  bool step(const char* in, size_t in_size, char* out, size_t out_size, bool, size_t& used,
            size_t& made) override {
    // libzstd leaves the input's position where the call began when it fails: at most its
    // recommended input size a call keeps the error's offset within that of the damage.
    ZSTD_inBuffer input{in, std::min(in_size, ZSTD_DStreamInSize()), 0};
    ZSTD_outBuffer output{out, out_size, 0};
    size_t ret = ZSTD_decompressStream(m_ctx.get(), &output, &input);
    used = input.pos;
    made = output.pos;
    if (ZSTD_isError(ret)) {
      throw DecodeError(ZSTD_getErrorName(ret), false, 0);
    }
    return ret == 0;
  }
  void restart() override { ZSTD_DCtx_reset(m_ctx.get(), ZSTD_reset_session_only); }

 private:
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> m_ctx;
};

// A Boost.Iostreams input filter over a Decoder that hands out every byte decoded before a
// failure: an error is thrown only from a call that made no output (else it waits for the
// next call), so a file cut short yields what the codec's own tool recovers from it.
class DecodingFilter : public bio::multichar_input_filter {
 public:
  explicit DecodingFilter(std::unique_ptr<Decoder> d)
      : m_state(std::make_shared<State>(std::move(d))) {}

  template <typename Source>
  std::streamsize read(Source& src, char* dst, std::streamsize n) {
    State& s = *m_state;
    size_t made_total = 0;
    while (made_total == 0) {
      if (s.pos == s.size && !s.eof) {
        std::streamsize got =
            bio::read(src, s.buffer.data(), static_cast<std::streamsize>(s.buffer.size()));
        if (got <= 0) {
          s.eof = true;
        } else {
          s.pos = 0;
          s.size = static_cast<size_t>(got);
        }
      }
      bool no_input = s.pos == s.size;
      if (s.ended) {
        if (no_input) {
          return -1;  // the last stream ended with the file
        }
        s.decoder->restart();  // another stream follows (concatenated files)
        s.ended = false;
      }
      size_t used = 0;
      size_t made = 0;
      try {
        s.ended =
            s.decoder->step(s.buffer.data() + s.pos, s.size - s.pos, dst + made_total,
                            static_cast<size_t>(n) - made_total, s.eof && no_input, used, made);
      } catch (const DecodeError& e) {
        throw DecodeError(e.what(), false, s.consumed + used);
      }
      s.pos += used;
      s.consumed += used;
      made_total += made;
      if (!s.ended && made == 0 && used == 0) {
        if (s.eof && s.pos == s.size) {
          throw DecodeError("the data ends inside a stream", true, s.consumed);
        }
        if (s.pos < s.size) {  // input and room, and no progress: the decoder is stuck
          throw DecodeError("the decoder makes no progress", false, s.consumed);
        }
      }
    }
    return static_cast<std::streamsize>(made_total);
  }

 private:
  struct State {
    explicit State(std::unique_ptr<Decoder> d) : decoder(std::move(d)) {}
    std::unique_ptr<Decoder> decoder;
    std::vector<char> buffer = std::vector<char>(k_compressed_chunk);
    size_t pos = 0;
    size_t size = 0;
    uint64_t consumed = 0;  // compressed bytes decoded
    bool eof = false;
    bool ended = false;
  };
  std::shared_ptr<State> m_state;  // Boost copies filters; the copies share one state
};

// Decoding on a thread of its own, a few MiB ahead of the reader, so that decompression
// runs on one core while the parser works on the other. The thread fills chunks with what
// DecodingFilter hands out; a decoder's error (or the end) is queued after the bytes
// decoded before it, so the reader gets every one of them first, as without the thread.
class DecodeAhead {
 public:
  DecodeAhead(DecodingFilter filter, FileCursor* cursor)
      : m_filter(std::move(filter)), m_source(cursor), m_cursor(cursor) {
    start();
  }
  // A file that is not compressed, read ahead the same way: the thread's read() does the
  // kernel's copy (and its page-cache look-ups) on the other core, where the hasher of the
  // same file leaves room; the reader copies from a chunk just written, still in the caches.
  explicit DecodeAhead(FileCursor* cursor) : m_source(cursor), m_cursor(cursor) { start(); }
  ~DecodeAhead() {
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_cv.notify_all();
    m_thread.join();
  }
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;
  bool decodes() const { return m_filter.has_value(); }
  // A plain file's read error (set before the thread queues its error).
  const std::string& read_error() const { return m_read_error; }

  // Copies up to n decoded bytes to dst; 0 at the end of the data. Throws the decoder's
  // error from a call that copied nothing, once every byte decoded before it is out.
  size_t read(char* dst, size_t n) {
    size_t total = 0;
    while (total < n) {
      if (m_pos == m_current.size) {
        if (!next_chunk()) {
          if (m_error && total == 0) {
            throw *m_error;
          }
          break;
        }
        continue;
      }
      size_t take = std::min(n - total, m_current.size - m_pos);
      std::memcpy(dst + total, m_current.bytes.data() + m_pos, take);
      m_pos += take;
      total += take;
    }
    return total;
  }
  // Compressed bytes the decoder had consumed when it made the bytes read so far.
  uint64_t file_offset() const { return m_file_offset; }

 private:
  // Up to 4 chunks ahead at first, then, once the reader has taken as many (it reads the file
  // on, it does not only sniff its head), up to 16 MiB: the two threads go at about the same
  // pace, and the reader pauses for tens of milliseconds at times (a distinct counter's grow,
  // its switch to the sketch); with 4 MiB the decoding thread waited on a full queue, then the
  // reader on an empty one (16 MiB: 3 to 5% less wall time on the bench dump, plain and gzip).
  static constexpr int k_first_chunks = 4;
  static constexpr int k_chunks = 16;
  static constexpr size_t k_chunk_bytes = 1 << 20;
  static constexpr size_t k_first_chunk_bytes = 64 << 10;
  struct Chunk {
    std::vector<char> bytes;
    size_t size = 0;
    uint64_t file_offset = 0;
  };

  // A plain file's read(), counted as CountingSource counts; an error is kept in the words
  // of InputStream::Impl::read_plain().
  std::streamsize read_file(char* to, size_t room) {
    ssize_t got = m_cursor->read(to, room);
    if (got < 0) {
      m_read_error = m_cursor->error;
      throw DecodeError(m_read_error, false, m_cursor->consumed);
    }
    if (got == 0) {
      m_cursor->eof = true;
      return -1;
    }
    m_cursor->took(to, static_cast<size_t>(got));
    return got;
  }

  void start() {
    for (int i = 0; i < k_first_chunks; ++i) {
      m_free.emplace_back();
    }
    m_chunks = k_first_chunks;
    m_thread = std::thread([this] { run(); });
  }

  // The reader's side: hands the chunk it finished back and takes the next one.
  bool next_chunk() {
    std::unique_lock lock(m_mutex);
    if (!m_current.bytes.empty()) {
      m_current.size = 0;
      m_free.push_back(std::move(m_current));
      if (m_chunks < k_chunks && ++m_taken >= k_first_chunks) {
        m_free.emplace_back();
        ++m_chunks;
      }
      m_current = Chunk{};
      m_pos = 0;
      m_cv.notify_all();
    }
    m_cv.wait(lock, [this] { return !m_ready.empty() || m_done; });
    if (m_ready.empty()) {
      return false;
    }
    m_current = std::move(m_ready.front());
    m_ready.pop_front();
    m_pos = 0;
    m_file_offset = m_current.file_offset;
    return true;
  }

  // The decoding thread.
  void run() {
    for (;;) {
      Chunk chunk;
      {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return !m_free.empty() || m_stop; });
        if (m_stop) {
          return;
        }
        chunk = std::move(m_free.back());
        m_free.pop_back();
      }
      // The first chunk is small: a caller that only sniffs the head of the file (read_head)
      // does not wait for megabytes to be decoded.
      chunk.bytes.resize(m_chunks_made++ == 0 ? k_first_chunk_bytes : k_chunk_bytes);
      bool end = false;
      std::optional<DecodeError> error;
      try {
        while (chunk.size < chunk.bytes.size()) {
          char* to = chunk.bytes.data() + chunk.size;
          auto room = static_cast<std::streamsize>(chunk.bytes.size() - chunk.size);
          std::streamsize got = m_filter ? m_filter->read(m_source, to, room)
                                         : read_file(to, static_cast<size_t>(room));
          if (got <= 0) {
            end = true;
            break;
          }
          chunk.size += static_cast<size_t>(got);
        }
      } catch (const DecodeError& e) {
        error = e;
      } catch (const std::exception& e) {
        error = DecodeError(e.what(), false, m_cursor->consumed);
      } catch (...) {
        error = DecodeError("unknown error", false, m_cursor->consumed);
      }
      chunk.file_offset = m_cursor->consumed;
      {
        std::lock_guard lock(m_mutex);
        if (chunk.size > 0) {
          m_ready.push_back(std::move(chunk));
        } else {
          m_free.push_back(std::move(chunk));
        }
        if (end || error) {
          m_done = true;
          m_error = std::move(error);
        }
      }
      m_cv.notify_all();
      if (end || m_error) {
        return;
      }
    }
  }

  std::optional<DecodingFilter> m_filter;  // none: the file's bytes as they are
  CountingSource m_source;
  FileCursor* m_cursor;
  uint64_t m_chunks_made = 0;  // by the thread
  int m_chunks = 0;            // chunks there are (under m_mutex)
  int m_taken = 0;             // chunks the reader has finished (under m_mutex)
  std::thread m_thread;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Chunk> m_ready;
  std::vector<Chunk> m_free;
  bool m_done = false;  // the thread has queued its last chunk
  bool m_stop = false;
  std::optional<DecodeError> m_error;  // set with m_done
  std::string m_read_error;            // set with m_done
  // The reader's side, touched by the reader only.
  Chunk m_current;
  size_t m_pos = 0;
  uint64_t m_file_offset = 0;
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
  // A zstd frame, or a skippable frame (magic 0x184D2A50 to 0x184D2A5F, little-endian),
  // which `zstd -d` accepts at the start of a file too.
  if (starts("\x28\xb5\x2f\xfd") ||
      (m.size() >= 4 && (static_cast<unsigned char>(m[0]) & 0xf0) == 0x50 &&
       m.substr(1, 3) == "\x2a\x4d\x18")) {
    return Codec::zstd;
  }
  return Codec::none;
}

namespace {
DecodeLimits g_decode_limits;
}  // namespace

void set_decode_limits(const DecodeLimits& limits) {
  g_decode_limits = limits;
}
const DecodeLimits& decode_limits() {
  return g_decode_limits;
}

std::optional<std::string> decode_limit_exceeded(std::string_view codec, uint64_t decoded,
                                                 uint64_t consumed, std::string_view source) {
  const DecodeLimits& lim = g_decode_limits;
  if (decoded <= lim.ratio_floor_bytes &&
      (lim.max_decoded_bytes == 0 || decoded <= lim.max_decoded_bytes)) {
    return std::nullopt;
  }
  if (lim.max_ratio != 0 && decoded > lim.ratio_floor_bytes &&
      decoded / std::max<uint64_t>(consumed, 1) >= lim.max_ratio) {
    return fmt::format(
        "the {} data expands more than {} times ({} bytes decoded from the first {} bytes of "
        "{}): a decompression bomb? Reading stopped there; --max-ratio N raises the limit",
        codec, lim.max_ratio, decoded, consumed, source);
  }
  if (lim.max_decoded_bytes != 0 && decoded > lim.max_decoded_bytes) {
    return fmt::format(
        "the {} data expands to more than {} MiB (--max-decoded-mb); reading stopped after {} "
        "bytes decoded from the first {} bytes of {}",
        codec, lim.max_decoded_bytes >> 20, decoded, consumed, source);
  }
  return std::nullopt;
}

struct InputStream::Impl {
  std::filesystem::path path;
  FileCursor cursor;
  Codec codec = Codec::none;
  uint64_t size = 0;
  uint64_t delivered = 0;
  bool failed = false;
  // gzip, bzip2, xz and zstd: a decoder on a thread of its own, ahead of the reader; a
  // large plain file: its reads on that thread.
  std::unique_ptr<DecodeAhead> ahead;
  // The SHA-256 of the file's bytes as stored, when asked for (InputStream's constructor).
  std::unique_ptr<Sha256> sha;

  size_t read_plain(char* dst, size_t n);
  size_t read_decoded(char* dst, size_t n);
  // The decompressed data as stored: the reads above, accounted for.
  size_t read_raw(char* dst, size_t n);
  // Byte order marks (InputStream::read), decided at the first read. `text` from `text_at` on
  // is what waits to be delivered: the rest of the first read, or UTF-8 converted from UTF-16;
  // `raw` holds UTF-16 bytes not converted yet.
  bool bom_decided = false;
  ByteOrderMark bom = ByteOrderMark::none;
  std::string raw;
  std::string text;
  size_t text_at = 0;
  bool raw_ended = false;
  void decide_bom();
  size_t take_text(char* dst, size_t n);
  size_t read_utf16(char* dst, size_t n);
  // Set once the decoded data crossed a limit of DecodeLimits: the error of the next read.
  std::optional<std::string> over_limit;
  // Bytes of the file the decoder has consumed (the decoding thread's count when there is one).
  uint64_t file_consumed() const;
  // A file in pieces (io/pieces.hpp): the size of each (cursor.pieces holds their paths).
  std::vector<uint64_t> piece_sizes;
  // Where an offset in the pieces joined falls: " (byte N of the piece NAME)"; empty for a file
  // in one piece.
  std::string in_piece(uint64_t offset) const {
    if (piece_sizes.size() < 2) {
      return {};
    }
    PiecePosition at = piece_position(piece_sizes, offset);
    return fmt::format(" (byte {} of the piece {})", at.offset,
                       cursor.pieces[at.index].filename().string());
  }

  // The one place where what a compressed file expands to is accounted for (every codec,
  // every reader): past the limits, the bytes of this read are handed out and the next read
  // fails, so that what was read stays and nothing more is decoded.
  void account(size_t decoded) {
    delivered += decoded;
    if (!over_limit) {
      over_limit = decode_limit_exceeded(codec_name(codec), delivered, file_consumed());
    }
  }

  ~Impl() {
    ahead.reset();  // stops its thread, which reads the file
    if (cursor.fd >= 0) {
      ::close(cursor.fd);
    }
  }

  // `truncated`: the file ends inside a compressed stream; `at`: where in the compressed
  // file (the end of what was read when the decoder does not say).
  [[noreturn]] void fail(const std::string& why, bool truncated, std::optional<uint64_t> at) {
    failed = true;
    uint64_t offset = at ? *at : cursor.consumed;
    Location where{path.string(), std::nullopt, offset, true};
    if (truncated && piece_sizes.size() > 1) {
      const std::string last = cursor.pieces.back().filename().string();
      throw InputError(
          where,
          fmt::format("the {} data ends at byte {} of the {} pieces joined (the "
                      "end of the last piece, {}) before the end of its "
                      "stream: a piece after {} is missing, or {} is "
                      "truncated ({} bytes decompressed before)",
                      codec_name(codec), offset, piece_sizes.size(), last, last, last, delivered));
    }
    if (truncated) {
      throw InputError(where, fmt::format("the {} data ends at byte {} (the end of the file) "
                                          "before the end of its stream: the file is truncated "
                                          "({} bytes decompressed before)",
                                          codec_name(codec), offset, delivered));
    }
    throw InputError(where,
                     fmt::format("corrupt {} data at byte {} of the file{} ({}); {} bytes "
                                 "decompressed before",
                                 codec_name(codec), offset, in_piece(offset), why, delivered));
  }
};

InputStream::InputStream(const std::filesystem::path& path, bool sha256)
    : m_impl(std::make_unique<Impl>()) {
  Impl& m = *m_impl;
  m.path = path;
  if (sha256) {
    // Before any thread reads the file: every byte read from it is hashed, by that thread.
    m.sha = std::make_unique<Sha256>();
    m.cursor.sha = m.sha.get();
  }
  // A file in pieces: read from the first on, each piece's size known beforehand (for the
  // offsets in messages).
  if (auto pieces = pieces_of(path)) {
    m.cursor.pieces = std::move(*pieces);
    for (const auto& p : m.cursor.pieces) {
      std::error_code ec;
      uint64_t n = std::filesystem::file_size(p, ec);
      if (ec) {
        throw InputError(Location{p.string()},
                         fmt::format("the piece cannot be read: {}", ec.message()));
      }
      m.piece_sizes.push_back(n);
    }
  }
  const std::filesystem::path& first = m.cursor.pieces.empty() ? path : m.cursor.pieces.front();
  // O_NONBLOCK: a FIFO or device is refused below, never waited on (no effect on a file).
  m.cursor.fd = ::open(first.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (m.cursor.fd < 0) {
    throw InputError(Location{first.string()},
                     fmt::format("cannot open for reading: {}", std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(m.cursor.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    throw InputError(Location{first.string()}, "not a regular file");
  }
  m.size = static_cast<uint64_t>(st.st_size);
  if (!m.piece_sizes.empty()) {
    m.size = 0;
    for (uint64_t n : m.piece_sizes) {
      m.size += n;
    }
  }
  ::posix_fadvise(m.cursor.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  char magic[6] = {};
  ssize_t got = ::pread(m.cursor.fd, magic, sizeof magic, 0);
  m.codec = detect_codec(std::string_view(magic, got > 0 ? static_cast<size_t>(got) : 0));
  if (m.codec == Codec::none) {
    // A large file is read ahead on a thread (see DecodeAhead); a small one, or the few
    // bytes that sniffing a file's kind needs, is not worth one.
    if (m.size >= k_plain_ahead_from) {
      m.ahead = std::make_unique<DecodeAhead>(&m.cursor);
    }
    return;
  }
  switch (m.codec) {
    case Codec::gzip:
      m.ahead =
          std::make_unique<DecodeAhead>(DecodingFilter(std::make_unique<GzipDecoder>()), &m.cursor);
      break;
    case Codec::bzip2:
      m.ahead = std::make_unique<DecodeAhead>(DecodingFilter(std::make_unique<Bzip2Decoder>()),
                                              &m.cursor);
      break;
    case Codec::xz:
      m.ahead =
          std::make_unique<DecodeAhead>(DecodingFilter(std::make_unique<XzDecoder>()), &m.cursor);
      break;
    case Codec::zstd:
      m.ahead =
          std::make_unique<DecodeAhead>(DecodingFilter(std::make_unique<ZstdDecoder>()), &m.cursor);
      break;
    case Codec::none:
      break;
  }
}

uint64_t InputStream::Impl::file_consumed() const {
  return ahead ? ahead->file_offset() : cursor.consumed;
}

InputStream::~InputStream() = default;

size_t InputStream::Impl::read_plain(char* dst, size_t n) {
  ssize_t got = cursor.read(dst, n);
  if (got < 0) {
    failed = true;
    throw InputError(Location{path.string(), std::nullopt, cursor.consumed, true},
                     cursor.error + in_piece(cursor.consumed));
  }
  cursor.took(dst, static_cast<size_t>(got));
  return static_cast<size_t>(got);
}

// The decoder fails only in a call that made no output, so its error is raised at once:
// every byte decoded before it has been handed out by the calls before.
size_t InputStream::Impl::read_decoded(char* dst, size_t n) {
  try {
    return ahead->read(dst, n);
  } catch (const DecodeError& e) {
    if (!ahead->decodes()) {
      // A plain file's read error, as read_plain() reports it.
      failed = true;
      throw InputError(Location{path.string(), std::nullopt, e.at, true},
                       ahead->read_error().empty() ? std::string(e.what()) : ahead->read_error());
    }
    fail(e.what(), e.truncated, e.at);
  }
}

size_t InputStream::Impl::read_raw(char* dst, size_t n) {
  if (over_limit) {
    failed = true;
    throw InputError(Location{path.string(), std::nullopt, file_consumed(), true}, *over_limit);
  }
  size_t got = ahead ? read_decoded(dst, n) : read_plain(dst, n);
  // The one count of decompressed bytes delivered, and the limits on it.
  account(got);
  return got;
}

void InputStream::Impl::decide_bom() {
  bom_decided = true;
  // The first read of the data (a plain file's read() or a decoder's first chunk gives more
  // than 3 bytes unless the data is that short).
  char first[4096];
  size_t got = read_raw(first, sizeof first);
  auto starts = [&](std::string_view mark) {
    return got >= mark.size() && std::string_view(first, mark.size()) == mark;
  };
  size_t skip = 0;
  if (starts("\xEF\xBB\xBF")) {
    bom = ByteOrderMark::utf8;
    skip = 3;
  } else if (starts("\xFF\xFE")) {
    bom = ByteOrderMark::utf16le;
    skip = 2;
  } else if (starts("\xFE\xFF")) {
    bom = ByteOrderMark::utf16be;
    skip = 2;
  }
  (bom == ByteOrderMark::utf16le || bom == ByteOrderMark::utf16be ? raw : text)
      .assign(first + skip, got - skip);
  raw_ended = got == 0;
}

size_t InputStream::Impl::take_text(char* dst, size_t n) {
  size_t take = std::min(n, text.size() - text_at);
  std::memcpy(dst, text.data() + text_at, take);
  text_at += take;
  if (text_at == text.size()) {
    text.clear();
    text_at = 0;
  }
  return take;
}

namespace {

// Converts the UTF-16 code units of `in` (little or big endian) to UTF-8, appended to `out`,
// and returns how many bytes of `in` it used: all but an odd last byte, and a high surrogate
// at the end whose low one may be in the next bytes, unless `at_end`. Code units that pair
// with nothing, and an odd last byte at the end, become U+FFFD.
size_t utf16_to_utf8(std::string_view in, bool little, bool at_end, std::string& out) {
  auto unit = [&](size_t i) {
    auto a = static_cast<unsigned char>(in[i]);
    auto b = static_cast<unsigned char>(in[i + 1]);
    return static_cast<uint32_t>(little ? (b << 8) | a : (a << 8) | b);
  };
  constexpr uint32_t k_replacement = 0xFFFD;
  size_t i = 0;
  while (i + 2 <= in.size()) {
    uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 4 > in.size()) {
        if (!at_end) {
          break;  // its low surrogate may come with the next bytes
        }
        text::append_utf8(out, k_replacement);
        i += 2;
        continue;
      }
      uint32_t low = unit(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        text::append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        i += 4;
      } else {
        text::append_utf8(out, k_replacement);
        i += 2;
      }
      continue;
    }
    text::append_utf8(out, u);  // a low surrogate alone: U+FFFD
    i += 2;
  }
  if (at_end && i < in.size() && i + 2 > in.size()) {
    text::append_utf8(out, k_replacement);  // an odd last byte
    i = in.size();
  }
  return i;
}

}  // namespace

size_t InputStream::Impl::read_utf16(char* dst, size_t n) {
  const bool little = bom == ByteOrderMark::utf16le;
  while (text.empty()) {
    if (raw_ended) {
      if (raw.empty()) {
        return 0;
      }
      raw.erase(0, utf16_to_utf8(raw, little, true, text));
      continue;
    }
    size_t had = raw.size();
    raw.resize(had + std::max<size_t>(n, 64 << 10));
    size_t got = 0;
    try {
      got = read_raw(raw.data() + had, raw.size() - had);
    } catch (...) {
      raw.resize(had);
      throw;
    }
    raw.resize(had + got);
    raw_ended = got == 0;
    raw.erase(0, utf16_to_utf8(raw, little, raw_ended, text));
  }
  return take_text(dst, n);
}

size_t InputStream::read(char* dst, size_t n) {
  Impl& m = *m_impl;
  if (m.failed || n == 0) {
    return 0;
  }
  if (!m.bom_decided) {
    m.decide_bom();
  }
  if (!m.text.empty()) {
    return m.take_text(dst, n);
  }
  if (m.bom == ByteOrderMark::utf16le || m.bom == ByteOrderMark::utf16be) {
    return m.read_utf16(dst, n);
  }
  return m.raw_ended ? 0 : m.read_raw(dst, n);
}

ByteOrderMark InputStream::byte_order_mark() const {
  return m_impl->bom;
}

std::string_view byte_order_mark_name(ByteOrderMark bom) {
  switch (bom) {
    case ByteOrderMark::utf8:
      return "UTF-8";
    case ByteOrderMark::utf16le:
      return "UTF-16LE";
    case ByteOrderMark::utf16be:
      return "UTF-16BE";
    case ByteOrderMark::none:
      break;
  }
  return "none";
}

std::string InputStream::finish_sha256() {
  Impl& m = *m_impl;
  if (!m.sha) {
    throw std::logic_error("InputStream::finish_sha256 without sha256 at construction");
  }
  // The thread reading ahead stops (joined: its reads, and their hashing, are over) and no
  // more is decoded; the file's offset is then where the last read of it left off.
  m.ahead.reset();
  m.failed = true;
  constexpr size_t k_buf = size_t{1} << 20;
  auto buf = std::make_unique_for_overwrite<char[]>(k_buf);  // no zeroing: read fills it
  for (;;) {
    ssize_t got = m.cursor.read(buf.get(), k_buf);
    if (got < 0) {
      m.cursor.sha = nullptr;
      throw InputError(Location{m.path.string(), std::nullopt, m.cursor.consumed, true},
                       m.cursor.error + m.in_piece(m.cursor.consumed));
    }
    if (got == 0) {
      break;
    }
    // Not counted as progress: the reader is done with the file.
    m.cursor.took(buf.get(), static_cast<size_t>(got), false);
  }
  m.cursor.sha = nullptr;
  std::string hex = m.sha->finish();
  m.sha.reset();
  return hex;
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
  // (The decoding thread moves the cursor; the reader sees where its bytes came from.)
  return m_impl->ahead ? m_impl->ahead->file_offset() : m_impl->cursor.consumed;
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
