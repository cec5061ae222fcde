// PostgreSQL's jsonlog (15+, log_destination = 'jsonlog': one JSON object per line) and the
// cloud envelopes that carry PostgreSQL's log as JSON lines:
//
//   jsonlog       {"timestamp", "user", "dbname", "pid", "remote_host", "remote_port",
//                  "session_id", "error_severity", "state_code", "message", "detail", "hint",
//                  "internal_query", "context", "statement", "func_name", "file_name",
//                  "file_line_num", "application_name", ...}            format pg-json
//   CloudNativePG {"level", "ts", "logger": "postgres", "msg": "record", "logging_pod",
//                  "record": {csvlog's column names: "log_time", "user_name", "process_id",
//                  "error_severity", "sql_state_code", "message", "query", ...}}
//                                                                       format pg-json:cnpg
//                 and the operator's own lines {"level", "ts", "msg", "logger", ...}: events of
//                 their own (severity = level), format cnpg
//   Cloud SQL     {"textPayload": "[pid]: [N-1] db=D,user=U LOG:  message", "timestamp",
//                  "severity", "logName", "resource", ...}; the stderr-form line inside is
//                 split by split_stderr_line below (severity, message, pid, db, user); its
//                 DETAIL / HINT / CONTEXT / STATEMENT / QUERY / LOCATION lines and its
//                 tab-indented continuation lines (each an envelope of its own) are fields of
//                 the entry they follow.                                format pg-json:cloudsql
//
// Lines that are no JSON object, or an object of none of these shapes, are counted and the
// first ones reported, never dropped silently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "io/input.hpp"
#include "store/facts.hpp"

namespace dbautopsy::logs {

struct JsonLogSummary {
  int64_t events = 0;
  int64_t lines = 0;
  int64_t unmatched = 0;
  int64_t jsonlog = 0, cnpg = 0, cnpg_operator = 0, cloudsql = 0;
  int64_t merged = 0;  // envelope lines that were a field or continuation of an entry
};

// 0 (not such a log) to 100, from the first lines of the head.
int sniff_pg_json(std::string_view head);

JsonLogSummary read_pg_json(io::Source& in, store::FactWriter& out,
                            size_t max_line_bytes = 16u << 20);

// One line of PostgreSQL's stderr form, split minimally: the prefix (whatever
// log_line_prefix wrote), the severity or field keyword (LOG, ERROR, ..., DETAIL, HINT,
// CONTEXT, STATEMENT, QUERY, LOCATION) and the text after its ":  ". A hook: the full
// stderr reader (any log_line_prefix) may take over the inner lines of envelopes.
struct StderrLine {
  std::string_view prefix;
  std::string_view keyword;
  std::string_view text;
  bool is_field() const;  // DETAIL, HINT, CONTEXT, STATEMENT, QUERY, LOCATION
};
std::optional<StderrLine> split_stderr_line(std::string_view line);

// What a prefix says about the entry, as far as it can be known without log_line_prefix:
// a leading timestamp, the first [pid], db=, user=, app= (values "[unknown]" are none).
struct CloudSqlPrefix {
  std::optional<std::string> ts_written;
  std::optional<int64_t> pid;
  std::optional<std::string> database, user, application;
};
CloudSqlPrefix read_prefix(std::string_view prefix);

}  // namespace dbautopsy::logs
