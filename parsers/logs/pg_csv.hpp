// PostgreSQL's csvlog (log_destination = 'csvlog'): one CSV record per log entry, fields
// quoted as PostgreSQL's csvlog.c writes them (text in double quotes, a quote doubled, newlines
// kept inside the quotes), in the column layout of the server's version:
//
//   22 columns  8.4        log_time, user_name, database_name, process_id, connection_from,
//                          session_id, session_line_num, command_tag, session_start_time,
//                          virtual_transaction_id, transaction_id, error_severity,
//                          sql_state_code, message, detail, hint, internal_query,
//                          internal_query_pos, context, query, query_pos, location
//   23 columns  9.0 - 12   + application_name
//   24 columns  13         + backend_type
//   26 columns  14 -       + leader_pid, query_id
//
// Each record is one log_event (format `pg-csv`): ts in UTC, ts_written as written, the
// statement from the query column (or from a `duration: ... statement:` message), query from
// internal_query, location as written. Records of another width are read by their first 24
// columns when they have at least 24 (with a notice), else counted as no record; a file that
// ends inside a record is an error (the artifact is partial), what came before stays.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/input.hpp"
#include "store/facts.hpp"

namespace dbautopsy::logs {

struct CsvLogSummary {
  int64_t events = 0;
  int64_t lines = 0;
  int64_t unmatched = 0;              // records that are no csvlog record
  std::map<size_t, int64_t> layouts;  // columns -> records read
};

// 0 (not a csvlog) to 100: the first records of the head parse as csvlog records.
int sniff_pg_csv(std::string_view head);

// Splits CSV text into records as csvlog writes them (a quoted field may hold newlines);
// fed line by line (or line pieces), it hands out each record's fields once complete.
class CsvRecords {
 public:
  explicit CsvRecords(size_t max_record_bytes = 16u << 20) : m_max(max_record_bytes) {}

  // Feeds one line, or one piece of a long line (`end_of_line` false for all but the last).
  // Returns true when a record ended with this line: fields() holds it.
  bool feed(std::string_view text, int64_t line_number, bool end_of_line);
  // At the end of the data: true when a record was left open (inside quotes).
  bool open() const { return m_started && !m_done; }
  bool in_quotes() const { return m_quoted; }
  // Ends the open record as it is (a last line without its newline).
  void close();

  const std::vector<std::string>& fields() const { return m_fields; }
  int64_t first_line() const { return m_first_line; }
  // The record was longer than the cap: its fields were not kept.
  bool overflowed() const { return m_overflow; }
  // The first bytes of the record as written, for problems.
  const std::string& head() const { return m_head; }

 private:
  void start(int64_t line_number);
  void end_field();

  size_t m_max;
  std::vector<std::string> m_fields;
  std::string m_field;
  std::string m_head;
  size_t m_bytes = 0;
  int64_t m_first_line = 0;
  bool m_started = false;
  bool m_quoted = false;
  bool m_was_quoted = false;
  bool m_pending_quote = false;  // a '"' ended the last piece inside quotes
  bool m_overflow = false;
  bool m_done = false;
};

// The event of one csvlog record; nullopt (and `why`) when the fields are no csvlog record.
std::optional<store::LogEventFact> csv_record_event(const std::vector<std::string>& fields,
                                                    std::string& why);

CsvLogSummary read_pg_csv(io::Source& in, store::FactWriter& out,
                          size_t max_record_bytes = 16u << 20);

}  // namespace dbautopsy::logs
