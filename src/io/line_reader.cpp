#include "io/line_reader.hpp"

#include <cstring>

namespace dbautopsy::io {

LineReader::LineReader(Source& in, size_t buffer_bytes)
    : m_in(in),
      m_buf(std::make_unique_for_overwrite<char[]>(buffer_bytes)),
      m_capacity(buffer_bytes) {}

bool LineReader::refill() {
  if (m_eof) {
    return false;
  }
  if (m_begin > 0) {
    std::memmove(m_buf.get(), m_buf.get() + m_begin, m_end - m_begin);
    m_base_offset += m_begin;
    m_end -= m_begin;
    m_begin = 0;
  }
  if (m_end == m_capacity) {
    return false;
  }
  size_t got = m_in.read(m_buf.get() + m_end, m_capacity - m_end);
  if (got == 0) {
    m_eof = true;
    return false;
  }
  m_end += got;
  return true;
}

bool LineReader::next(Line& line) {
  for (;;) {
    const char* start = m_buf.get() + m_begin;
    const void* nl = m_begin < m_end ? std::memchr(start, '\n', m_end - m_begin) : nullptr;
    if (nl != nullptr) {
      size_t len = static_cast<size_t>(static_cast<const char*>(nl) - start);
      if (!m_in_long_line) {
        ++m_number;
      }
      line.text = std::string_view(start, len);
      line.number = m_number;
      line.offset = m_base_offset + m_begin;
      line.complete = true;
      line.first_piece = !m_in_long_line;
      line.has_newline = true;
      m_in_long_line = false;
      m_begin += len + 1;
      return true;
    }
    if (refill()) {
      continue;
    }
    if (m_begin == m_end) {
      if (m_in_long_line) {
        // The previous piece was the end of a line that lacks a final newline.
        m_in_long_line = false;
        line.text = std::string_view();
        line.number = m_number;
        line.offset = m_base_offset + m_begin;
        line.complete = true;
        line.first_piece = false;
        line.has_newline = false;
        return true;
      }
      return false;
    }
    // Either the buffer is full of one line (deliver a piece) or the data ended without
    // a final newline (deliver the rest as the last line). refill() may have moved the rest
    // to the buffer's start: `start` is taken again.
    start = m_buf.get() + m_begin;
    bool full = !m_eof;
    if (!m_in_long_line) {
      ++m_number;
    }
    line.text = std::string_view(start, m_end - m_begin);
    line.number = m_number;
    line.offset = m_base_offset + m_begin;
    line.first_piece = !m_in_long_line;
    line.complete = !full;
    line.has_newline = false;
    m_in_long_line = full;
    m_begin = m_end;
    return true;
  }
}

std::string_view LineReader::complete_lines() {
  if (m_in_long_line) {
    return {};
  }
  for (;;) {
    const char* start = m_buf.get() + m_begin;
    size_t avail = m_end - m_begin;
    const void* last = avail ? ::memrchr(start, '\n', avail) : nullptr;
    if (last != nullptr) {
      return std::string_view(start,
                              static_cast<size_t>(static_cast<const char*>(last) - start) + 1);
    }
    if (!refill()) {
      return {};
    }
  }
}

void LineReader::skip(size_t bytes, uint64_t lines) {
  m_begin += bytes;
  m_number += lines;
}

}  // namespace dbautopsy::io
