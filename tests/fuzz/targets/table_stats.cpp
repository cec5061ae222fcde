// The table-statistics path: COPY data of a plain dump through copy_stats.cpp and the
// distinct counter (src/io/distinct.cpp), with limits small enough that the counter switches
// to its sketch, rows stop being stored, and lines run past the reader's tiny buffer.
#include "../fuzz.hpp"
#include "pgdump_common.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::BufferSource in(fuzz::as_text(data, size), 61);
  fuzz::read_into_store("pgdump-sql", [&](store::FactWriter& out) {
    pgdump::CopyStatsOptions stats;
    stats.exact_cap = 16;
    stats.stored_rows = 4;
    stats.ignore = {"id", "public.t.c"};
    pgdump::PgDumpOptions options = fuzz::pgdump_options(out, stats);
    options.read_buffer_bytes = 256;
    options.max_statement_bytes = 512;
    pgdump::read_pgdump_sql(in, out, options);
  });
  return 0;
}
