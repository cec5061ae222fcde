// How far the reading of input files has got, for a progress display: every InputStream of
// the process adds the bytes it reads from its file (compressed bytes for a compressed file),
// so that a display can compare them with the files' sizes.
#pragma once

#include <cstdint>

namespace dbautopsy::io {

void count_read(uint64_t bytes);
uint64_t bytes_read();

}  // namespace dbautopsy::io
