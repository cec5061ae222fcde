// Timestamps of application and ETL logs: Python's asctime (`2024-01-14 20:50:01,123`), ISO
// 8601 with or without a zone (`2026-03-16T17:30:20.123+0000`, `...Z`, `... +00:00`), Django's
// server time (`14/Jan/2024 20:50:01`), epoch numbers of JSON logs, and strftime-style
// patterns of user formats. Everything becomes ISO 8601 in UTC (2024-01-14T20:50:01.123Z).
//
// A time written without a zone (Python's default asctime) is stored as if it were UTC: the
// log does not say its zone, and dbautopsy never guesses one. `ts_written` keeps it as
// written, so a reader who knows the host's zone can shift it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dbautopsy::logs {

struct TimeParts {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::string fraction;                  // the digits after the decimal mark, as written
  bool has_zone = false;                 // false: naive, taken as UTC
  int offset_minutes = 0;                // east of UTC
  std::optional<int64_t> epoch_seconds;  // %s, or a numeric JSON time

  // ISO 8601 in UTC: 2024-01-14T20:50:01.123Z (the fraction as written).
  std::string utc() const;
};

// Reads a timestamp at the start of `s`: ISO 8601 / asctime (date, `T` or space, time,
// optional `,` or `.` fraction, optional zone `Z`, `+HHMM`, `+HH:MM`, `+HH`, or a space then
// `+HHMM`, `UTC`, `GMT`), or Django's `DD/Mon/YYYY HH:MM:SS`. Returns the number of bytes read
// (0: none) and fills `out`.
size_t read_timestamp(std::string_view s, TimeParts& out);

// A whole string that is a timestamp (read_timestamp consumed all of it, spaces aside).
std::optional<TimeParts> parse_timestamp(std::string_view s);

// A number of seconds (or milliseconds, microseconds or nanoseconds, told apart by size) since
// the epoch, as JSON logs write them; nullopt for one past the year 5138 even as
// nanoseconds (1e300, infinity).
std::optional<TimeParts> from_epoch(double value);

// strptime-style patterns of lnav's "timestamp-format": %Y %y %m %d %e %H %I %p %M %S %f
// (fraction, any digits) %L (milliseconds) %z %Z (UTC, GMT, Z) %s (epoch) %b %B (month
// names) %a %A (day names, skipped) %T (%H:%M:%S) %F (%Y-%m-%d) %D (%m/%d/%y) %% and literal
// characters. Returns the parts when all of `s` matches.
std::optional<TimeParts> parse_with_format(std::string_view s, std::string_view format);

// Whether a strptime-style pattern uses only what parse_with_format knows; the unknown
// conversion otherwise (for an error naming the format file).
std::optional<std::string> unknown_conversion(std::string_view format);

}  // namespace dbautopsy::logs
