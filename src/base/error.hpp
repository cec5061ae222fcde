// Errors of dbautopsy.
//
// Two kinds, after DuckDB's and ccache's practice:
//   - Error: ends the current operation (one artifact, one command) but not the program.
//     The message is complete and meant for the user: what went wrong, where, what was
//     expected. InputError adds the location in an artifact.
//   - UsageError: the command line itself is wrong; the CLI prints it with a hint and
//     exits with status 2.
// Defects found *inside* an input (a statement the parser rejects) are not exceptions:
// parsers record them as problems in the fact store and carry on.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace dbautopsy {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class UsageError : public Error {
 public:
  using Error::Error;
};

// Where in an artifact something happened. Lines count from 1; offsets are byte offsets
// from 0 into the decompressed text, or into the file itself when `in_file` is set (the
// compressed bytes of a .gz, say).
struct Location {
  std::string file;
  std::optional<uint64_t> line;
  std::optional<uint64_t> offset;
  bool offset_in_file = false;

  std::string describe() const;  // "dump.sql:12 (byte 345)"
};

class InputError : public Error {
 public:
  InputError(Location where, const std::string& what);
  const Location& where() const { return m_where; }
  // The message without the location prefix.
  const std::string& detail() const { return m_detail; }

 private:
  Location m_where;
  std::string m_detail;
};

}  // namespace dbautopsy
