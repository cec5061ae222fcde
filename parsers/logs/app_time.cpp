#include "logs/app_time.hpp"

#include <cmath>

#include <fmt/format.h>

#include "base/time.hpp"

namespace dbautopsy::logs {

namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly n digits at s[i]; false when there are fewer.
bool digits(std::string_view s, size_t& i, size_t n, int& out) {
  if (i + n > s.size()) {
    return false;
  }
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    if (!digit(s[i + k])) {
      return false;
    }
    v = v * 10 + (s[i + k] - '0');
  }
  out = v;
  i += n;
  return true;
}

// Reads 1 to max digits.
bool some_digits(std::string_view s, size_t& i, size_t max, int& out) {
  size_t start = i;
  int v = 0;
  while (i < s.size() && i - start < max && digit(s[i])) {
    v = v * 10 + (s[i] - '0');
    ++i;
  }
  out = v;
  return i > start;
}

constexpr const char* k_months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                    "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* k_month_names[] = {"january",   "february", "march",    "april",
                                         "may",       "june",     "july",     "august",
                                         "september", "october",  "november", "december"};
constexpr const char* k_days[] = {"monday", "tuesday",  "wednesday", "thursday",
                                  "friday", "saturday", "sunday"};

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_ci(std::string_view s, size_t i, std::string_view word) {
  if (i + word.size() > s.size()) {
    return false;
  }
  for (size_t k = 0; k < word.size(); ++k) {
    if (lower(s[i + k]) != word[k]) {
      return false;
    }
  }
  return true;
}

// A month name (full or three letters); 1-12, or 0.
int read_month(std::string_view s, size_t& i) {
  for (int m = 0; m < 12; ++m) {
    if (starts_with_ci(s, i, k_month_names[m])) {
      i += std::string_view(k_month_names[m]).size();
      return m + 1;
    }
  }
  for (int m = 0; m < 12; ++m) {
    if (starts_with_ci(s, i, k_months[m])) {
      i += 3;
      return m + 1;
    }
  }
  return 0;
}

bool read_day_name(std::string_view s, size_t& i) {
  for (const char* d : k_days) {
    if (starts_with_ci(s, i, d)) {
      i += std::string_view(d).size();
      return true;
    }
  }
  for (const char* d : k_days) {
    if (starts_with_ci(s, i, std::string_view(d).substr(0, 3))) {
      i += 3;
      return true;
    }
  }
  return false;
}

// A numeric zone at s[i]: Z, +HH, +HHMM, +HH:MM.
bool read_numeric_zone(std::string_view s, size_t& i, TimeParts& t) {
  if (i < s.size() && s[i] == 'Z') {
    ++i;
    t.has_zone = true;
    t.offset_minutes = 0;
    return true;
  }
  if (i >= s.size() || (s[i] != '+' && s[i] != '-')) {
    return false;
  }
  size_t j = i + 1;
  int hh = 0, mm = 0;
  if (!digits(s, j, 2, hh)) {
    return false;
  }
  if (j < s.size() && s[j] == ':') {
    size_t k = j + 1;
    if (digits(s, k, 2, mm)) {
      j = k;
    }
  } else {
    size_t k = j;
    if (digits(s, k, 2, mm)) {
      j = k;
    }
  }
  if (j < s.size() && digit(s[j])) {
    return false;
  }
  int sign = s[i] == '-' ? -1 : 1;
  t.offset_minutes = sign * (hh * 60 + mm);
  t.has_zone = true;
  i = j;
  return true;
}

// A zone written by name: UTC or GMT; with `abbreviations` (a format's %Z, which says a zone
// is written there), also an abbreviation of PostgreSQL's Default set (CET, EST, ...), as
// servers and poolers write them. A time read without a format never guesses a name.
bool read_zone_name(std::string_view s, size_t& i, TimeParts& t, bool abbreviations) {
  size_t end = i;
  while (end < s.size() && ((s[end] >= 'A' && s[end] <= 'Z') || (s[end] >= 'a' && s[end] <= 'z'))) {
    ++end;
  }
  if (end == i) {
    return false;
  }
  std::string_view name = s.substr(i, end - i);
  if (!abbreviations && name != "UTC" && name != "GMT") {
    return false;
  }
  auto offset = timeutil::zone_offset(name);
  if (!offset) {
    return false;
  }
  i = end;
  t.has_zone = true;
  t.offset_minutes = *offset / 60;
  return true;
}

bool valid(const TimeParts& t) {
  return t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= 31 && t.hour <= 24 &&
         t.minute <= 59 && t.second <= 60;
}

using timeutil::days_from_civil;

void civil_from_days(int64_t z, int& y, int& m, int& d) {
  int64_t yy = 0;
  unsigned mm = 0, dd = 0;
  timeutil::civil_from_days(z, yy, mm, dd);
  y = static_cast<int>(yy);
  m = static_cast<int>(mm);
  d = static_cast<int>(dd);
}

}  // namespace

std::string TimeParts::utc() const {
  int64_t secs;
  if (epoch_seconds) {
    secs = *epoch_seconds;
  } else {
    secs = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
           hour * 3600 + minute * 60 + second - static_cast<int64_t>(offset_minutes) * 60;
  }
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rest = secs - days * 86400;
  int y = 0, m = 0, d = 0;
  civil_from_days(days, y, m, d);
  std::string out = fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}", y, m, d,
                                static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                                static_cast<int>(rest % 60));
  if (!fraction.empty()) {
    out += '.';
    out += fraction;
  }
  out += 'Z';
  return out;
}

size_t read_timestamp(std::string_view s, TimeParts& t) {
  t = TimeParts{};
  size_t i = 0;
  if (s.size() >= 20 && digit(s[0]) && digit(s[1]) && s[2] == '/') {
    // Django's server time: 14/Jan/2024 20:50:01 (or 14/Jan/2024:20:50:01 +0000).
    if (!digits(s, i, 2, t.day) || s[i++] != '/') {
      return 0;
    }
    t.month = read_month(s, i);
    if (t.month == 0 || i >= s.size() || s[i++] != '/' || !digits(s, i, 4, t.year) ||
        i >= s.size() || (s[i] != ' ' && s[i] != ':')) {
      return 0;
    }
    ++i;
  } else {
    if (!digits(s, i, 4, t.year) || i >= s.size() || s[i++] != '-' || !digits(s, i, 2, t.month) ||
        i >= s.size() || s[i++] != '-' || !digits(s, i, 2, t.day) || i >= s.size() ||
        (s[i] != ' ' && s[i] != 'T')) {
      return 0;
    }
    ++i;
  }
  if (!digits(s, i, 2, t.hour) || i >= s.size() || s[i++] != ':' || !digits(s, i, 2, t.minute) ||
      i >= s.size() || s[i++] != ':' || !digits(s, i, 2, t.second)) {
    return 0;
  }
  if (i + 1 < s.size() && (s[i] == ',' || s[i] == '.') && digit(s[i + 1])) {
    size_t start = ++i;
    while (i < s.size() && digit(s[i])) {
      ++i;
    }
    t.fraction = std::string(s.substr(start, i - start));
  }
  if (!read_numeric_zone(s, i, t) && i < s.size() && s[i] == ' ') {
    size_t j = i + 1;
    if (read_numeric_zone(s, j, t) || read_zone_name(s, j, t, false)) {
      i = j;
    }
  }
  if (!valid(t) || (i < s.size() && (digit(s[i]) || (s[i] >= 'A' && s[i] <= 'Z') ||
                                     (s[i] >= 'a' && s[i] <= 'z')))) {
    return 0;
  }
  return i;
}

std::optional<TimeParts> parse_timestamp(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  TimeParts t;
  if (read_timestamp(s, t) == s.size() && !s.empty()) {
    return t;
  }
  return std::nullopt;
}

std::optional<TimeParts> from_epoch(double value) {
  TimeParts t;
  // Seconds until the year 5138, then milliseconds, microseconds, nanoseconds.
  int scale_digits = 0;
  while (std::fabs(value) >= 1e11 && scale_digits < 9) {
    value /= 1000;
    scale_digits += 3;
  }
  if (!std::isfinite(value) || std::fabs(value) >= 1e11) {
    return std::nullopt;  // no time: past the year 5138 even as nanoseconds
  }
  double whole = std::floor(value);
  t.epoch_seconds = static_cast<int64_t>(whole);
  long long micros = std::llround((value - whole) * 1e6);
  if (micros >= 1000000) {
    *t.epoch_seconds += 1;
    micros -= 1000000;
  }
  if (micros != 0) {
    t.fraction = fmt::format("{:06d}", micros);
    while (t.fraction.size() > 3 && t.fraction.back() == '0') {
      t.fraction.pop_back();
    }
  }
  t.has_zone = true;
  return t;
}

std::optional<TimeParts> parse_with_format(std::string_view s, std::string_view f) {
  TimeParts t;
  t.year = 1970;
  t.month = 1;
  t.day = 1;
  size_t i = 0;
  bool pm = false, twelve = false;
  for (size_t k = 0; k < f.size(); ++k) {
    char c = f[k];
    if (c != '%') {
      if (c == ' ') {
        if (i >= s.size() || s[i] != ' ') {
          return std::nullopt;
        }
        while (i < s.size() && s[i] == ' ') {
          ++i;
        }
        continue;
      }
      if (i >= s.size() || s[i] != c) {
        return std::nullopt;
      }
      ++i;
      continue;
    }
    if (++k >= f.size()) {
      return std::nullopt;
    }
    bool ok = true;
    switch (f[k]) {
      case 'Y': {
        int sign = 1;
        if (i < s.size() && s[i] == '-') {
          sign = -1;
          ++i;
        }
        ok = some_digits(s, i, 4, t.year);
        t.year *= sign;
        break;
      }
      case 'y':
        ok = digits(s, i, 2, t.year);
        t.year += t.year < 69 ? 2000 : 1900;
        break;
      case 'm':
        ok = some_digits(s, i, 2, t.month);
        break;
      case 'd':
        ok = some_digits(s, i, 2, t.day);
        break;
      case 'e':
        while (i < s.size() && s[i] == ' ') {
          ++i;
        }
        ok = some_digits(s, i, 2, t.day);
        break;
      case 'H':
        ok = some_digits(s, i, 2, t.hour);
        break;
      case 'I':
        ok = some_digits(s, i, 2, t.hour);
        twelve = true;
        break;
      case 'p':
        if (starts_with_ci(s, i, "pm")) {
          pm = true;
        } else if (!starts_with_ci(s, i, "am")) {
          ok = false;
        }
        i += 2;
        break;
      case 'M':
        ok = some_digits(s, i, 2, t.minute);
        break;
      case 'S':
        ok = some_digits(s, i, 2, t.second);
        break;
      case 'f':
      case 'L':
      case 'N': {
        size_t start = i;
        while (i < s.size() && digit(s[i])) {
          ++i;
        }
        ok = i > start;
        t.fraction = std::string(s.substr(start, i - start));
        break;
      }
      case 'z':
        ok = read_numeric_zone(s, i, t);
        break;
      case 'Z':
        ok = read_zone_name(s, i, t, true) || read_numeric_zone(s, i, t);
        break;
      case 's': {
        size_t start = i;
        if (i < s.size() && s[i] == '-') {
          ++i;
        }
        size_t digits_start = i;
        while (i < s.size() && digit(s[i])) {
          ++i;
        }
        // Up to 12 digits: seconds until the year 33658, the most a time here may be (more
        // would overflow the day count).
        ok = i > digits_start && i - digits_start <= 12;
        if (ok) {
          t.epoch_seconds = std::stoll(std::string(s.substr(start, i - start)));
          t.has_zone = true;
        }
        break;
      }
      case 'b':
      case 'B':
      case 'h':
        t.month = read_month(s, i);
        ok = t.month != 0;
        break;
      case 'a':
      case 'A':
        ok = read_day_name(s, i);
        break;
      case 'T':
        ok = some_digits(s, i, 2, t.hour) && i < s.size() && s[i++] == ':' &&
             some_digits(s, i, 2, t.minute) && i < s.size() && s[i++] == ':' &&
             some_digits(s, i, 2, t.second);
        break;
      case 'F':
        ok = some_digits(s, i, 4, t.year) && i < s.size() && s[i++] == '-' &&
             some_digits(s, i, 2, t.month) && i < s.size() && s[i++] == '-' &&
             some_digits(s, i, 2, t.day);
        break;
      case 'D':
        ok = some_digits(s, i, 2, t.month) && i < s.size() && s[i++] == '/' &&
             some_digits(s, i, 2, t.day) && i < s.size() && s[i++] == '/' &&
             digits(s, i, 2, t.year);
        t.year += t.year < 69 ? 2000 : 1900;
        break;
      case '%':
        ok = i < s.size() && s[i++] == '%';
        break;
      default:
        return std::nullopt;
    }
    if (!ok) {
      return std::nullopt;
    }
  }
  if (i != s.size()) {
    return std::nullopt;
  }
  if (twelve) {
    t.hour = t.hour % 12 + (pm ? 12 : 0);
  }
  if (!t.epoch_seconds && !valid(t)) {
    return std::nullopt;
  }
  return t;
}

std::optional<std::string> unknown_conversion(std::string_view f) {
  static constexpr std::string_view k_known = "YymdeHIpMSfLNzZsbBhaATFD%";
  for (size_t k = 0; k < f.size(); ++k) {
    if (f[k] == '%') {
      if (k + 1 >= f.size()) {
        return std::string("%");
      }
      if (k_known.find(f[k + 1]) == std::string_view::npos) {
        return std::string("%") + f[k + 1];
      }
      ++k;
    }
  }
  return std::nullopt;
}

}  // namespace dbautopsy::logs
