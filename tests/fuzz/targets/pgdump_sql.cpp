// A plain pg_dump script (parsers/pgdump/pgdump_sql.cpp): the script lexer, libpg_query on
// each statement, COPY blocks into the table statistics, INSERT rows, as the ingest reads it.
#include "../fuzz.hpp"
#include "pgdump_common.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::BufferSource in(fuzz::as_text(data, size));
  fuzz::read_into_store("pgdump-sql", [&](store::FactWriter& out) {
    pgdump::read_pgdump_sql(in, out, fuzz::pgdump_options(out, {}));
  });
  return 0;
}
