// Line-at-a-time reading of a Source (a file or text made from one), without copying and with
// bounded memory.
//
// Lines are found with memchr over a large buffer (4 MiB by default) that is refilled in
// one read. A line longer than the buffer is not an error here: it is delivered in pieces
// of at most the buffer size, each with `complete == false` but the last, all carrying the
// same line number. The consumer decides whether it can stream a long line (COPY data can)
// or must cap it (a SQL statement, a log line), so memory never grows with the input.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "io/input.hpp"

namespace dbautopsy::io {

struct Line {
  std::string_view text;  // without the terminating '\n' (a '\r' before it is kept)
  uint64_t number = 0;    // 1-based
  uint64_t offset = 0;    // decompressed byte offset of text[0]
  bool complete = true;   // false: a piece of a longer line; more pieces follow
  bool first_piece = true;
  bool has_newline = true;  // false only for a last line that the file does not end with '\n'
};

class LineReader {
 public:
  explicit LineReader(Source& in, size_t buffer_bytes = 4 * 1024 * 1024);

  // Fills `line` with the next line or piece. Returns false at the end of the data.
  // Propagates InputError from the stream; lines returned before stay valid facts.
  bool next(Line& line);

  // Bulk access, for callers that scan many lines at once. Returns the buffered bytes
  // from the current position (a line start) through the last complete line in the
  // buffer, each line ending in '\n'; refills the buffer when it holds no complete line.
  // Returns an empty view at the end of the data, inside a line longer than the buffer,
  // or before a final line that lacks its newline: next() handles those.
  std::string_view complete_lines();
  // Consumes `bytes` of the view complete_lines() returned, which hold `lines` newlines.
  void skip(size_t bytes, uint64_t lines);
  // The number the next line will have, and its stream offset.
  uint64_t next_line_number() const { return m_number + 1; }
  uint64_t position() const { return m_base_offset + m_begin; }

  // The text of `line` is valid until the next call to next() or complete_lines().
  uint64_t lines_read() const { return m_number; }
  Source& stream() { return m_in; }

 private:
  bool refill();

  Source& m_in;
  // Left uninitialised: zeroing 4 MiB per file cost 6% of an investigate of a small case (and
  // touched every page of it), where only the pages the input fills are ever read.
  std::unique_ptr<char[]> m_buf;
  size_t m_capacity;
  size_t m_begin = 0;
  size_t m_end = 0;
  uint64_t m_base_offset = 0;  // stream offset of m_buf[0]
  uint64_t m_number = 0;
  bool m_eof = false;
  bool m_in_long_line = false;
};

}  // namespace dbautopsy::io
