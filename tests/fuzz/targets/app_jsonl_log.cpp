// A JSON-lines application log, fields found by their common names (parsers/logs/app_log.cpp).
#include "../fuzz.hpp"
#include "logs/app_log.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  (void)logs::sniff_json_lines(text.substr(0, 64 * 1024));
  fuzz::BufferSource in(text, 4093);
  fuzz::read_into_store("app-jsonl",
                        [&](store::FactWriter& out) { logs::read_json_lines(in, out); });
  return 0;
}
