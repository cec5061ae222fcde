// One pass over a block of bytes that answers what the readers ask of bulk data: how many
// newlines, whether any byte is NUL, whether any byte is non-ASCII, and where the first
// line that begins with a backslash and a dot is (psql's "\." end-of-COPY line). Uses
// SSE2 (the x86-64 baseline) where available, a portable loop elsewhere. This is what lets
// COPY data be counted and checked at memory speed instead of line by line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dbautopsy::io {

struct BlockScan {
  uint64_t newlines = 0;  // in the bytes before `stop`
  bool has_nul = false;
  bool non_ascii = false;
  // Offset of the first line (the block's start counts as a line start) that begins with
  // "\.", or npos. The other fields describe only the bytes before it.
  size_t stop = std::string_view::npos;
};

BlockScan scan_block(std::string_view block);

uint64_t count_newlines(std::string_view block);

}  // namespace dbautopsy::io
