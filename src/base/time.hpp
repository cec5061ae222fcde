// Times as sources write them, to UTC. PostgreSQL writes `2024-01-14 20:50:01.123 CET`
// (log_line_prefix %m/%t), `+01` / `+0530` / `-03` for zones without an abbreviation,
// `2024-01-14 20:50:01.123+00` in timestamptz text (django_migrations.applied_at), ISO 8601
// with `T` and `Z` or an offset in jsonlog and Python logs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dbautopsy::timeutil {

// The offset east of UTC, in seconds, of a zone written after a time: Z, UTC, GMT, +01,
// +01:00, +0100, -03, or an abbreviation (zone_abbreviation). Nothing for a zone it does not
// know.
std::optional<int> zone_offset(std::string_view zone);

// A time zone abbreviation, any case: those of PostgreSQL's Default set (CET, CEST, EST, EDT,
// PST, JST, ...) and MSK, WEST, CAT, WIB, SGT, ART. IST is India's +05:30 (the Default set
// reads it as Israel) and CST US Central; for those `ambiguity` names the meaning taken and
// the others ("+05:30, India (Asia/Kolkata); also Israel +02 and Irish +01"), for a notice.
struct ZoneAbbreviation {
  int seconds;  // east of UTC
  std::string_view ambiguity;
};
std::optional<ZoneAbbreviation> zone_abbreviation(std::string_view name);

// Milliseconds since 1970 (UTC) of `YYYY-MM-DD[ T]HH:MM:SS[.fraction][ ][zone]`; a time
// without a zone is taken as UTC when assume_utc, else nothing. Nothing when the text is not
// such a time or the zone is unknown.
std::optional<int64_t> parse_ms(std::string_view text, bool assume_utc = false);

// 2024-01-14T19:50:01.123Z
std::string iso_utc(int64_t ms);

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d);

// parse_ms, then iso_utc.
std::optional<std::string> to_iso_utc(std::string_view text, bool assume_utc = false);

}  // namespace dbautopsy::timeutil
