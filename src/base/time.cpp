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

// Abbreviations PostgreSQL's timezone data prints (pg's timezone/tznames/Default, the
// unambiguous and common ones; IST is India's there too).
constexpr std::array<std::pair<std::string_view, int>, 40> k_zones{{
    {"UTC", 0},      {"GMT", 0},      {"UT", 0},       {"Z", 0},         {"WET", 0},
    {"WEST", 3600},  {"BST", 3600},   {"IST", 19800},  {"CET", 3600},    {"CEST", 7200},
    {"MET", 3600},   {"MEST", 7200},  {"EET", 7200},   {"EEST", 10800},  {"MSK", 10800},
    {"SAST", 7200},  {"EAT", 10800},  {"PKT", 18000},  {"WIB", 25200},   {"ICT", 25200},
    {"HKT", 28800},  {"SGT", 28800},  {"AWST", 28800}, {"JST", 32400},   {"KST", 32400},
    {"ACST", 34200}, {"AEST", 36000}, {"AEDT", 39600}, {"NZST", 43200},  {"NZDT", 46800},
    {"EST", -18000}, {"EDT", -14400}, {"CST", -21600}, {"CDT", -18000},  {"MST", -25200},
    {"MDT", -21600}, {"PST", -28800}, {"PDT", -25200}, {"AKST", -32400}, {"HST", -36000},
}};

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
  for (const auto& [name, offset] : k_zones) {
    if (text::iequals(zone, name)) {
      return offset;
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
