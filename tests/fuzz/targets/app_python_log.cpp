// A Python logging (or Django) application log with tracebacks (parsers/logs/app_log.cpp).
#include "../fuzz.hpp"
#include "logs/app_log.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  (void)logs::sniff_python_log(text.substr(0, 64 * 1024));
  (void)logs::detect_python_layout(text.substr(0, 64 * 1024));
  fuzz::BufferSource in(text, 4093);
  fuzz::read_into_store("app-log", [&](store::FactWriter& out) { logs::read_python_log(in, out); });
  return 0;
}
