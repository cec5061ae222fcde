#include "base/time.hpp"

#include <fmt/format.h>

#include <array>
#include <utility>

#include "base/text.hpp"

namespace dbautopsy::timeutil {

namespace {

bool digits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) {
    return false;
  }
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  return true;
}

int number(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// PostgreSQL's Default set of time zone abbreviations (share/timezonesets/Default: the fixed
// offsets), plus the abbreviations the tz database gives zones servers commonly log in that
// the set lacks: MSK (Europe/Moscow since 2014), WEST, CAT, WIB, SGT and ART. Where one is
// ambiguous, the meaning taken is the zone that writes it in today's tz database for the
// most servers, and `ambiguity` says so for the readers' notices: IST, which the Default set
// reads as Israel (+02), is India's +05:30 (Asia/Kolkata); CST is US Central.
struct ZoneAbbrev {
  std::string_view name;
  int seconds;
  std::string_view ambiguity;
};
constexpr ZoneAbbrev k_zones[] = {
    {"EAT", 10800, ""},
    {"SAST", 7200, ""},
    {"WAT", 3600, ""},
    {"ACT", -18000, ""},
    {"AKDT", -28800, ""},
    {"AKST", -32400, ""},
    {"BOT", -14400, ""},
    {"BRA", -10800, ""},
    {"BRST", -7200, ""},
    {"BRT", -10800, ""},
    {"COT", -18000, ""},
    {"CDT", -18000, ""},
    {"CLST", -10800, ""},
    {"CST", -21600, "-06:00, US Central; also China +08 and Cuba -05"},
    {"EDT", -14400, ""},
    {"EGST", 0, ""},
    {"EGT", -3600, ""},
    {"EST", -18000, ""},
    {"FNT", -7200, ""},
    {"FNST", -3600, ""},
    {"GFT", -10800, ""},
    {"MDT", -21600, ""},
    {"MST", -25200, ""},
    {"NDT", -9000, ""},
    {"NFT", -12600, ""},
    {"NST", -12600, ""},
    {"PET", -18000, ""},
    {"PDT", -25200, ""},
    {"PMDT", -7200, ""},
    {"PMST", -10800, ""},
    {"PST", -28800, ""},
    {"PYST", -10800, ""},
    {"UYST", -7200, ""},
    {"UYT", -10800, ""},
    {"WGST", -7200, ""},
    {"WGT", -10800, ""},
    {"DDUT", 36000, ""},
    {"AFT", 16200, ""},
    {"ALMT", 21600, ""},
    {"ALMST", 25200, ""},
    {"AMT", -14400, ""},
    {"BDT", 21600, ""},
    {"BNT", 28800, ""},
    {"BORT", 28800, ""},
    {"BTT", 21600, ""},
    {"CCT", 28800, ""},
    {"HKT", 28800, ""},
    {"ICT", 25200, ""},
    {"IDT", 10800, ""},
    {"IRT", 12600, ""},
    {"IST", 19800, "+05:30, India (Asia/Kolkata); also Israel +02 and Irish +01"},
    {"JAYT", 32400, ""},
    {"JST", 32400, ""},
    {"KDT", 36000, ""},
    {"KGST", 21600, ""},
    {"KST", 32400, ""},
    {"MMT", 23400, ""},
    {"MYT", 28800, ""},
    {"NPT", 20700, ""},
    {"PHT", 28800, ""},
    {"PKT", 18000, ""},
    {"PKST", 21600, ""},
    {"TJT", 18000, ""},
    {"ULAST", 32400, ""},
    {"UZST", 21600, ""},
    {"UZT", 18000, ""},
    {"XJT", 21600, ""},
    {"YEKST", 21600, ""},
    {"ADT", -10800, ""},
    {"AST", -14400, ""},
    {"AZOST", 0, ""},
    {"AZOT", -3600, ""},
    {"ACSST", 37800, ""},
    {"ACDT", 37800, ""},
    {"ACST", 34200, ""},
    {"ACWST", 31500, ""},
    {"AESST", 39600, ""},
    {"AEDT", 39600, ""},
    {"AEST", 36000, ""},
    {"AWSST", 32400, ""},
    {"AWST", 28800, ""},
    {"CADT", 37800, ""},
    {"CAST", 34200, ""},
    {"LHST", 37800, ""},
    {"LIGT", 36000, ""},
    {"NZT", 43200, ""},
    {"SADT", 37800, ""},
    {"WADT", 28800, ""},
    {"WAST", 25200, ""},
    {"WDT", 32400, ""},
    {"GMT", 0, ""},
    {"UCT", 0, ""},
    {"UT", 0, ""},
    {"UTC", 0, ""},
    {"Z", 0, ""},
    {"ZULU", 0, ""},
    {"BST", 3600, ""},
    {"BDST", 7200, ""},
    {"CEST", 7200, ""},
    {"CET", 3600, ""},
    {"CETDST", 7200, ""},
    {"EEST", 10800, ""},
    {"EET", 7200, ""},
    {"EETDST", 10800, ""},
    {"FET", 10800, ""},
    {"MEST", 7200, ""},
    {"MESZ", 7200, ""},
    {"MET", 3600, ""},
    {"METDST", 7200, ""},
    {"MEZ", 3600, ""},
    {"MSD", 14400, ""},
    {"WET", 0, ""},
    {"WETDST", 3600, ""},
    {"CXT", 25200, ""},
    {"MUT", 14400, ""},
    {"MUST", 18000, ""},
    {"MVT", 18000, ""},
    {"RET", 14400, ""},
    {"SCT", 14400, ""},
    {"TFT", 18000, ""},
    {"CHADT", 49500, ""},
    {"CHAST", 45900, ""},
    {"CHUT", 36000, ""},
    {"FJST", 46800, ""},
    {"FJT", 43200, ""},
    {"GALT", -21600, ""},
    {"GAMT", -32400, ""},
    {"GILT", 43200, ""},
    {"HST", -36000, ""},
    {"MART", -34200, ""},
    {"MHT", 43200, ""},
    {"MPT", 36000, ""},
    {"NZDT", 46800, ""},
    {"NZST", 43200, ""},
    {"PGT", 36000, ""},
    {"PONT", 39600, ""},
    {"PWT", 32400, ""},
    {"TAHT", -36000, ""},
    {"TOT", 46800, ""},
    {"TRUT", 36000, ""},
    {"TVT", 43200, ""},
    {"VUT", 39600, ""},
    {"WAKT", 43200, ""},
    {"WFT", 43200, ""},
    {"YAPT", 36000, ""},
    {"MSK", 10800, ""},
    {"WEST", 3600, ""},
    {"CAT", 7200, ""},
    {"WIB", 25200, ""},
    {"SGT", 28800, ""},
    {"ART", -10800, ""},
};

// A zone as written: an abbreviation, or +HH, -HH, +HHMM, +HH:MM (pg_strftime's %Z gives
// "-03" for zones without an abbreviation). Seconds east of UTC.
}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::optional<int> zone_offset(std::string_view zone) {
  zone = text::trim(zone);
  if (zone.empty()) {
    return std::nullopt;
  }
  if (zone[0] == '+' || zone[0] == '-') {
    int sign = zone[0] == '-' ? -1 : 1;
    std::string_view z = zone.substr(1);
    int h = 0, m = 0, s = 0;
    if (digits(z, 0, 2) && z.size() == 2) {
      h = number(z, 0, 2);
    } else if (digits(z, 0, 4) && z.size() == 4) {
      h = number(z, 0, 2);
      m = number(z, 2, 2);
    } else if (digits(z, 0, 2) && z.size() == 5 && z[2] == ':' && digits(z, 3, 2)) {
      h = number(z, 0, 2);
      m = number(z, 3, 2);
    } else if (digits(z, 0, 2) && z.size() == 8 && z[2] == ':' && digits(z, 3, 2) && z[5] == ':' &&
               digits(z, 6, 2)) {
      h = number(z, 0, 2);
      m = number(z, 3, 2);
      s = number(z, 6, 2);
    } else if (z.size() == 1 && digits(z, 0, 1)) {
      h = number(z, 0, 1);
    } else {
      return std::nullopt;
    }
    if (h > 15 || m > 59 || s > 59) {
      return std::nullopt;
    }
    return sign * (h * 3600 + m * 60 + s);
  }
  if (auto a = zone_abbreviation(zone)) {
    return a->seconds;
  }
  return std::nullopt;
}

std::optional<ZoneAbbreviation> zone_abbreviation(std::string_view name) {
  for (const auto& a : k_zones) {
    if (text::iequals(name, a.name)) {
      return ZoneAbbreviation{a.seconds, a.ambiguity};
    }
  }
  return std::nullopt;
}

std::optional<int64_t> parse_ms(std::string_view t, bool assume_utc) {
  t = text::trim(t);
  // YYYY-MM-DD HH:MM:SS
  if (!(digits(t, 0, 4) && t.size() >= 19 && t[4] == '-' && digits(t, 5, 2) && t[7] == '-' &&
        digits(t, 8, 2) && (t[10] == ' ' || t[10] == 'T') && digits(t, 11, 2) && t[13] == ':' &&
        digits(t, 14, 2) && t[16] == ':' && digits(t, 17, 2))) {
    return std::nullopt;
  }
  int year = number(t, 0, 4), month = number(t, 5, 2), day = number(t, 8, 2);
  int hour = number(t, 11, 2), minute = number(t, 14, 2), second = number(t, 17, 2);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t ms = 0;
  if (at < t.size() && (t[at] == '.' || t[at] == ',')) {
    size_t start = ++at;
    while (at < t.size() && t[at] >= '0' && t[at] <= '9') {
      ++at;
    }
    if (at == start) {
      return std::nullopt;
    }
    // Milliseconds, truncated (microseconds of PostgreSQL's timestamptz text).
    std::string frac(t.substr(start, std::min<size_t>(3, at - start)));
    while (frac.size() < 3) {
      frac += '0';
    }
    ms = number(frac, 0, 3);
  }
  std::string_view zone = text::trim(t.substr(at));
  int offset = 0;
  if (zone.empty()) {
    if (!assume_utc) {
      return std::nullopt;
    }
  } else if (auto o = zone_offset(zone)) {
    offset = *o;
  } else {
    return std::nullopt;
  }
  int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  return secs * 1000 + ms;
}

std::string iso_utc(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t frac = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rest = secs - days * 86400;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d, rest / 3600,
                     rest / 60 % 60, rest % 60, frac);
}

std::optional<std::string> to_iso_utc(std::string_view text, bool assume_utc) {
  if (auto ms = parse_ms(text, assume_utc)) {
    return iso_utc(*ms);
  }
  return std::nullopt;
}

}  // namespace dbautopsy::timeutil
