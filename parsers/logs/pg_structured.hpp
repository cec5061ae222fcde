// What the readers of PostgreSQL's structured logs (csvlog: pg_csv.hpp, jsonlog and its
// cloud envelopes: pg_json.hpp) share: PostgreSQL's log timestamps turned into UTC, the
// statement a message carries itself, the LOCATION text, and the accounting of lines that
// are no record of the format (counted, the first ones reported, never dropped silently).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/facts.hpp"

namespace dbautopsy::logs {

// A time as PostgreSQL writes it in its logs (`%m` / `%t`, csvlog's log_time, jsonlog's
// timestamp): "YYYY-MM-DD HH:MM:SS[.fff] ZONE", ZONE being an abbreviation (UTC, CET, CEST,
// EST, ...) or a numeric offset (+0545, -03, +05:30); also RFC 3339 ("...T...Z",
// "...T...+01:00") as cloud envelopes write it. Gives ISO 8601 in UTC with milliseconds
// ("2024-01-14T20:50:01.123Z").
struct UtcTime {
  std::optional<std::string> utc;  // nullopt when the text is no such time
  std::string zone;                // the zone as written ("" for none)
  bool unknown_zone = false;       // a zone abbreviation dbautopsy does not know: no utc
  bool ambiguous_zone = false;     // an abbreviation with several meanings (IST, CST, ...)
  std::string assumed;             // for an ambiguous one: the meaning taken ("+05:30, India")
};
UtcTime pg_time_to_utc(std::string_view written);

// Seconds since the epoch (cloud envelopes, `%n`) as ISO 8601 in UTC with milliseconds;
// nullopt past the year 5138 (1e300, infinity).
std::optional<std::string> epoch_to_utc(double seconds);

// The statement a message carries when no STATEMENT field does: the SQL of
// `duration: 1.2 ms  statement: SQL`, `statement: SQL` (log_statement) and
// `duration: 1.2 ms  execute NAME: SQL` (extended protocol). nullopt otherwise.
std::optional<std::string> statement_in_message(std::string_view message);

// csvlog's location column as PostgreSQL writes it ("func, file:line" or "file:line").
std::optional<std::string> location_text(std::string_view func, std::string_view file,
                                         std::string_view line);

// Counts the lines or records of a file that are no record of its format, and reports the
// first few as warning problems with their line numbers; finish() adds a notice with the
// total when more were seen than were listed.
class Unmatched {
 public:
  Unmatched(store::FactWriter& out, std::string code, std::string format_name, int64_t listed = 5)
      : m_out(out), m_code(std::move(code)), m_format(std::move(format_name)), m_listed(listed) {}

  // One record that is not of the format: `why` says what was expected.
  void add(int64_t line, std::string_view why, std::string_view text);
  void finish();
  int64_t count() const { return m_count; }

 private:
  store::FactWriter& m_out;
  std::string m_code;
  std::string m_format;
  int64_t m_listed;
  int64_t m_count = 0;
  int64_t m_first_line = 0;
};

// Reports once per file the zone abbreviations that are unknown (ts left empty) or
// ambiguous (read in one meaning, which the notice names).
class ZoneNotes {
 public:
  explicit ZoneNotes(store::FactWriter& out) : m_out(out) {}
  void note(const UtcTime& t, int64_t line);

 private:
  store::FactWriter& m_out;
  std::vector<std::string> m_seen;
};

// Replaces each invalid UTF-8 sequence of `s` by U+FFFD; returns the offset of the first
// one, or nullopt when `s` was valid (and is unchanged).
std::optional<size_t> repair_utf8(std::string& s);

// A problem of this reader's file.
void add_problem(store::FactWriter& out, std::optional<int64_t> line, std::string severity,
                 std::string code, std::string message,
                 std::optional<std::string_view> snippet = std::nullopt,
                 std::optional<int64_t> byte_offset = std::nullopt);

}  // namespace dbautopsy::logs
