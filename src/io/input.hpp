// Reading artifacts.
//
// An InputStream is the decompressed byte stream of one file. The codec is found from the
// file's first bytes (gzip, bzip2, xz and zstd magic numbers), never from its name. gzip,
// bzip2, xz and zstd are decoded by ISA-L's inflate, libbzip2, liblzma and libzstd's
// streaming decoder (input.cpp), on a thread a few MiB ahead of the reader, handing out
// every byte decoded before an error (a zstd frame cut short is an error, where Boost's
// zstd filter would report a clean end).
//
// Guarantees: read() returns 0 only at the true end of the data. A truncated or corrupt
// compressed file raises InputError naming the file and the byte offset in the file where
// the compressed data stopped making sense, from the read() after the one that returned
// the last bytes decoded before it (what the codec's own tool recovers); data delivered
// before that stays valid.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace dbautopsy::io {

enum class Codec { none, gzip, bzip2, xz, zstd };

std::string_view codec_name(Codec codec);

// Identifies a compression format from the first bytes of a file (at least 6 are needed
// to tell xz; fewer simply give Codec::none).
Codec detect_codec(std::string_view magic);

// A stream of bytes that parsers read: a file (InputStream), or text made from a file, such
// as the script a pg_dump archive stands for. Errors are InputError, as for InputStream.
class Source {
 public:
  virtual ~Source() = default;
  // Reads up to n bytes. Returns 0 only at the end of the data.
  virtual size_t read(char* dst, size_t n) = 0;
  // Bytes delivered so far.
  virtual uint64_t offset() const = 0;
  virtual std::string display_name() const = 0;
};

// Limits on what a compressed file may expand to, for every InputStream of the process (set
// once from the command line). Past a limit, the bytes decoded so far are delivered and the
// next read throws InputError naming the file, the offset in it and the limit.
struct DecodeLimits {
  // Decoded bytes per byte of the file, checked once more than `ratio_floor_bytes` were
  // decoded (a small file that compresses well is no threat). gzip cannot pass 1032:1; real
  // dumps stay far below 100:1. 0: no limit.
  uint64_t max_ratio = 250;
  uint64_t ratio_floor_bytes = 64ull << 20;
  // Decoded bytes of one file; 0: no limit (the default: dumps of hundreds of GB are real).
  uint64_t max_decoded_bytes = 0;
};
void set_decode_limits(const DecodeLimits& limits);
const DecodeLimits& decode_limits();
// The one test of those limits, for every decoder (InputStream's, and those of the pg_dump
// archive formats' own compressed blocks): `decoded` bytes came out of the first `consumed`
// bytes of `source` ("the file", "the data block of ..."), compressed with `codec` ("gzip",
// ...). Returns the error message once a limit is crossed, nullopt below them.
std::optional<std::string> decode_limit_exceeded(std::string_view codec, uint64_t decoded,
                                                 uint64_t consumed,
                                                 std::string_view source = "the file");

// The byte order mark a text file starts with (Windows tools write them: Notepad and
// PowerShell's `Set-Content -Encoding UTF8` a UTF-8 one, Windows PowerShell's `>` and
// `Out-File` UTF-16LE text). InputStream reads the data after a UTF-8 mark, and UTF-16 text
// converted to UTF-8, so that every reader sees the text the tool meant to write.
enum class ByteOrderMark { none, utf8, utf16le, utf16be };
std::string_view byte_order_mark_name(ByteOrderMark bom);

class InputStream : public Source {
 public:
  // Opens path for reading. Throws InputError when it cannot be opened or is not a
  // regular file. `sha256`: the file is hashed as it is read (its bytes as stored: the
  // compressed ones for a .gz), by the thread that reads it -- one read of the file for
  // both; finish_sha256() gives the digest.
  explicit InputStream(const std::filesystem::path& path, bool sha256 = false);
  ~InputStream() override;
  InputStream(const InputStream&) = delete;
  InputStream& operator=(const InputStream&) = delete;

  // Reads up to n decompressed bytes. Returns 0 only at the end of the data. A leading UTF-8
  // byte order mark is not delivered; text that starts with a UTF-16 one is delivered as
  // UTF-8 (a code unit that pairs with nothing, and an odd last byte, as U+FFFD).
  size_t read(char* dst, size_t n) override;
  // The byte order mark the decompressed data starts with (none before the first read).
  ByteOrderMark byte_order_mark() const;

  Codec codec() const;
  const std::filesystem::path& path() const;
  std::string display_name() const override;
  uint64_t file_size() const;
  // Bytes of the file consumed so far (compressed bytes for a compressed file).
  uint64_t file_offset() const;
  // Decompressed bytes delivered so far (of the file's own: a byte order mark counts, and
  // UTF-16 text is counted in its UTF-16 bytes).
  uint64_t offset() const override;

  // With `sha256` at construction: stops reading for the caller (read() returns 0 from then
  // on), reads and hashes the rest of the file when the reader stopped before its end (an
  // error, a limit, a reader that had what it needed) and returns the SHA-256 of the whole
  // file, as sha256_file() would. Throws InputError on a read error; once only.
  std::string finish_sha256();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Reads up to max_bytes of the decompressed start of a file, for sniffing its kind. A
// decompression error after at least some bytes were read is not an error here: the head
// is returned as far as it goes and `truncated` is set.
struct Head {
  std::string bytes;
  Codec codec = Codec::none;
  bool whole_file = false;  // the file's data ended within max_bytes
  bool truncated = false;   // decompression failed after `bytes`
};
Head read_head(const std::filesystem::path& path, size_t max_bytes = 64 * 1024);

}  // namespace dbautopsy::io
