// A tar-format archive (pg_dump -Ft): the tar headers, toc.dat and the NNNN.dat members.
#include "archive_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dbautopsy::fuzz::read_archive(
      dbautopsy::fuzz::scratch_file("dump.tar", dbautopsy::fuzz::as_text(data, size)));
  return 0;
}
