// Readers of application and ETL logs: Python `logging` output in its common layouts (Airflow's
// task logs among them), Django's error log, JSON lines, and user formats (app_format.hpp).
//
// One log_event per entry. An entry is the line that starts it plus the lines that follow
// it until the next entry: a traceback (`Traceback (most recent call last):` down to the
// exception line and what psycopg2 prints after it, LINE / DETAIL / HINT) goes to
// `traceback`, other continuation lines to the message. An entry with a traceback carries
// its final exception line in its message too (`Internal Server Error: /teams/` then
// `django.db.utils.ProgrammingError: relation "x" does not exist`), so that the missing
// relation or column is among its entities; psycopg2's exception class gives the SQLSTATE
// (`psycopg2.errors.UndefinedTable` is 42P01), its DETAIL and HINT lines the detail and hint.
//
// Times with a zone are stored in UTC. A naive time (Python's default asctime has no zone) is
// stored as if it were UTC: the log does not say its zone and dbautopsy never guesses one;
// `ts_written` keeps the time as written.
//
// Lines that belong to no entry (before the first one, lines of no format in a JSON-lines
// file, a continuation too long to be one) are counted, and the first of them reported as
// warnings naming their line; lines with invalid UTF-8 are kept with U+FFFD in place of the
// bad bytes and reported; a line longer than 4 MiB is kept up to there and reported.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/input.hpp"
#include "logs/app_format.hpp"
#include "store/facts.hpp"

namespace dbautopsy::logs {

struct AppLogSummary {
  uint64_t events = 0;
  uint64_t lines = 0;
  uint64_t unmatched = 0;   // lines that belong to no entry
  uint64_t tracebacks = 0;  // entries with a Python traceback
  std::string format;       // the layout read: a Python format string, "json", a user format
};

// The Python logging layout (as a logging format string, e.g. "%(asctime)s %(levelname)s
// %(name)s: %(message)s") that the most lines of `head` follow; empty when none does.
std::string detect_python_layout(std::string_view head);

// 0 (not this kind) to 100. A Python log scores 85 when most of its first lines start an
// entry of one layout; PostgreSQL's own logs (stderr, csvlog, jsonlog, their cloud
// envelopes) and CSV / JSON exports score 0.
int sniff_python_log(std::string_view head);
// JSON lines whose objects have a message field and a time or level field; 0 for
// PostgreSQL's jsonlog and the Cloud SQL / CloudNativePG envelopes.
int sniff_json_lines(std::string_view head);
// How well the first lines follow one of the user formats (95 when the first entry and most
// lines do).
int sniff_user_log(std::string_view head, const std::vector<UserFormat>& formats);

AppLogSummary read_python_log(io::Source& in, store::FactWriter& out);
// With `map`, its *-field keys name the fields; otherwise the common names are tried
// (timestamp / time / @timestamp / asctime / ts, level / levelname / severity, message / msg /
// event, logger / name / logger_name, exc_info / exception / stack_trace / traceback).
AppLogSummary read_json_lines(io::Source& in, store::FactWriter& out,
                              const UserFormat* map = nullptr);
// Reads with the first format whose patterns (or JSON fields) the head follows.
AppLogSummary read_user_log(io::Source& in, store::FactWriter& out,
                            const std::vector<UserFormat>& formats);

}  // namespace dbautopsy::logs
