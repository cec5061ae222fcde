// A custom-format archive (pg_dump -Fc): header, TOC and data blocks.
#include "archive_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dbautopsy::fuzz::read_archive(
      dbautopsy::fuzz::scratch_file("dump.custom", dbautopsy::fuzz::as_text(data, size)));
  return 0;
}
