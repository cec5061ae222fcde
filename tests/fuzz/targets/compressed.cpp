// The compressed-stream layer (src/io/input.cpp), through its public API only: whatever
// decoder backs gzip, bzip2, xz or zstd, a file is opened, its head sniffed, and read to
// the end in reads of varying size.
#include "../fuzz.hpp"
#include "base/error.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::filesystem::path path = fuzz::scratch_file("input.bin", fuzz::as_text(data, size));
  try {
    (void)io::detect_codec(fuzz::as_text(data, size));
    io::Head head = io::read_head(path, 512);
    (void)head;
    io::InputStream in(path);
    char buf[4096];
    size_t step = 1;
    uint64_t total = 0;
    while (size_t n = in.read(buf, step)) {
      total += n;
      step = step * 3 % sizeof buf + 1;
      (void)in.offset();
      (void)in.file_offset();
    }
    (void)total;
  } catch (const InputError&) {
  }
  return 0;
}
