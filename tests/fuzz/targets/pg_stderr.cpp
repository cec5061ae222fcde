// PostgreSQL's stderr log (parsers/logs/pg_stderr.cpp) with prefix and envelope detection.
// An input of two parts (fuzz.hpp, split_parts) gives a log_line_prefix as --pg-prefix does
// in the first and the log in the second; a single part is a log whose prefix is detected.
#include "logs/pg_stderr.hpp"
#include "../fuzz.hpp"
#include "base/error.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> parts = fuzz::split_parts(fuzz::as_text(data, size));
  logs::PgStderrOptions options;
  std::string_view log = parts[0];
  if (parts.size() > 1) {
    log = parts[1];
    try {
      logs::PgPrefix prefix = logs::PgPrefix::parse(parts[0]);
      logs::PrefixFields fields;
      size_t eol = log.find('\n');
      (void)prefix.match(log.substr(0, eol), fields);
      options.prefix = std::string(parts[0]);
    } catch (const UsageError&) {
      // An unknown escape: the command line refuses it before any log is read.
    }
  } else {
    (void)logs::detect_pg_stderr(log.substr(0, 64 * 1024));
    (void)logs::sniff_pg_stderr(log.substr(0, 64 * 1024));
  }
  fuzz::BufferSource in(log, 4093);
  fuzz::read_into_store("pg-stderr",
                        [&](store::FactWriter& out) { logs::read_pg_stderr(in, out, options); });
  return 0;
}
