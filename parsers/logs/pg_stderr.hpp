// PostgreSQL's stderr log (log_destination = 'stderr', with or without the logging collector)
// with any log_line_prefix, and the envelopes it travels in (syslog, Heroku logplex).
//
// An entry is its primary line (`SEVERITY:  message`) with the DETAIL:, HINT:, CONTEXT:,
// STATEMENT:, QUERY: and LOCATION: lines that follow it and the tab-indented lines that
// continue a multi-line message or statement: one log_event. The prefix is given
// (`--pg-prefix`, with PostgreSQL's own % escapes) or detected from the first lines: the common
// prefixes are tried, and when none fits one is derived from the lines themselves. Times go to
// UTC with the zone they were written in (abbreviations as PostgreSQL's `Default` set reads
// them, numeric offsets, %n epochs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/input.hpp"
#include "store/facts.hpp"

namespace dbautopsy::logs {

// What a prefix gave for one line; views into the line.
struct PrefixFields {
  std::string_view time;  // %m, %t or %n as written
  char time_kind = 0;     // 'm', 't', 'n', or 0
  std::string_view user, database, application, client, session, sqlstate, backend_type;
  std::optional<int64_t> pid, line_number;
};

// A log_line_prefix compiled for matching.
class PgPrefix {
 public:
  // Throws UsageError for an escape PostgreSQL does not know.
  static PgPrefix parse(std::string_view spec);
  const std::string& spec() const { return m_spec; }
  bool has_time() const;
  bool has_sqlstate() const;

  // Matches the prefix at the start of `line`, followed by a severity and its colon.
  // Returns the offset of the severity word.
  std::optional<size_t> match(std::string_view line, PrefixFields& fields) const;

  struct Token {
    enum Kind : uint8_t { literal, escape, stop } kind = literal;
    char escape_char = 0;
    int padding = 0;
    std::string text;  // for literals
  };

 private:
  bool match_from(size_t token, std::string_view line, size_t pos, PrefixFields& f, size_t& end,
                  int budget) const;

  std::string m_spec;
  std::vector<Token> m_tokens;
};

// The prefixes tried when none is given, most specific first.
const std::vector<std::string>& common_pg_prefixes();

// The envelope around each line: none, BSD or RFC 3339 syslog, Heroku logplex.
enum class Envelope { none, syslog, logplex };
std::string_view envelope_name(Envelope e);

struct Detection {
  Envelope envelope = Envelope::none;
  std::string prefix;
  int lines_tried = 0;
  int lines_matched = 0;
  bool derived = false;  // built from the lines, not one of the common prefixes
};

// Finds the envelope and prefix of a log from its first lines (complete lines of `head`);
// nullopt when fewer than half of them read as PostgreSQL log lines.
// `given`: the prefix the user gave (--pg-prefix): only the envelope is detected, and the
// lines are counted against it.
std::optional<Detection> detect_pg_stderr(std::string_view head,
                                          const std::optional<std::string>& given = std::nullopt);

// 0 (not a PostgreSQL stderr log) to 100; with the prefix the user gave, how well it fits.
int sniff_pg_stderr(std::string_view head, const std::optional<std::string>& given = std::nullopt);

// The prefix a user gave (--pg-prefix), as PostgreSQL reads it from postgresql.conf when it
// is written as there: `'%m [%p] '` with its quotes ('' for a quote inside), or the whole
// setting `log_line_prefix = '%m [%p] '  # comment`. Anything else is the prefix itself.
std::string user_prefix(std::string_view given);

// The prefix a line announces: PostgreSQL's `parameter "log_line_prefix" changed to "X"`,
// written (with the new prefix already) when a reload changes it.
std::optional<std::string> announced_prefix(std::string_view line);

// A timestamp as PostgreSQL writes it (`2024-01-14 20:50:01.123 CET`, `... -03`, `+0530`, an
// epoch with %n, or ISO 8601 with an offset) in UTC, ISO 8601 with milliseconds and `Z`;
// nullopt when the zone is unknown or the text is not a time.
std::optional<std::string> stderr_time_to_utc(std::string_view written);

struct PgStderrOptions {
  std::optional<std::string> prefix;  // --pg-prefix
};

struct PgStderrSummary {
  int64_t events = 0;
  int64_t lines = 0;
  int64_t unmatched = 0;
  std::string prefix;
  Envelope envelope = Envelope::none;
  bool derived = false;
};

PgStderrSummary read_pg_stderr(io::Source& in, store::FactWriter& out,
                               const PgStderrOptions& options);

}  // namespace dbautopsy::logs
