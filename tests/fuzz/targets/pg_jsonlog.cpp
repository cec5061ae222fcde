// PostgreSQL 15's jsonlog (parsers/logs/pg_json.cpp), with a small line cap so that the
// overflow path is reached too.
#include "../fuzz.hpp"
#include "logs/pg_json.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  (void)logs::sniff_pg_json(text.substr(0, 64 * 1024));
  fuzz::BufferSource in(text, 4093);
  fuzz::read_into_store("pg-jsonlog",
                        [&](store::FactWriter& out) { logs::read_pg_json(in, out, 2048); });
  return 0;
}
