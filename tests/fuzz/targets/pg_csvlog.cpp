// PostgreSQL's csvlog (parsers/logs/pg_csv.cpp), with a small record cap so that the
// overflow path is reached too.
#include "../fuzz.hpp"
#include "logs/pg_csv.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  (void)logs::sniff_pg_csv(text.substr(0, 64 * 1024));
  fuzz::BufferSource in(text, 4093);
  fuzz::read_into_store("pg-csvlog",
                        [&](store::FactWriter& out) { logs::read_pg_csv(in, out, 2048); });
  return 0;
}
