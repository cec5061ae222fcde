#include "logs/pg_structured.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "base/text.hpp"
#include "base/time.hpp"

namespace dbautopsy::logs {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// n digits at s[pos], as a number; -1 when they are not all digits.
int digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) {
    return -1;
  }
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) {
      return -1;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

using timeutil::days_from_civil;
using timeutil::iso_utc;

}  // namespace

UtcTime pg_time_to_utc(std::string_view s) {
  UtcTime out;
  s = text::trim(s);
  int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  int h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 24 || mi < 0 || mi > 59 ||
      se < 0 || se > 60 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':') {
    return out;
  }
  size_t pos = 19;
  int ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int scale = 100;
    while (pos < s.size() && is_digit(s[pos])) {
      ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
  }
  while (pos < s.size() && s[pos] == ' ') {
    ++pos;
  }
  std::string_view zone = s.substr(pos);
  out.zone = std::string(zone);
  int offset = 0;  // minutes east of UTC
  if (zone.empty()) {
    out.unknown_zone = true;
    return out;
  }
  if (zone[0] == '+' || zone[0] == '-') {
    // +05, +0545, +05:45, -03, +053000 (seconds are dropped: no zone uses them today)
    std::string_view z = zone.substr(1);
    int zh = digits(z, 0, 2);
    int zm = 0;
    size_t rest = 2;
    if (zh < 0) {
      out.unknown_zone = true;
      return out;
    }
    if (z.size() > 2) {
      size_t p = z[2] == ':' ? 3 : 2;
      zm = digits(z, p, 2);
      rest = p + 2;
      if (zm < 0 || zm > 59) {
        out.unknown_zone = true;
        return out;
      }
      if (z.size() > rest) {
        size_t q = z[rest] == ':' ? rest + 1 : rest;
        if (digits(z, q, 2) < 0 || z.size() != q + 2) {
          out.unknown_zone = true;
          return out;
        }
      }
    }
    offset = (zh * 60 + zm) * (zone[0] == '-' ? -1 : 1);
  } else if (std::all_of(zone.begin(), zone.end(), is_alpha)) {
    auto abbreviation = timeutil::zone_abbreviation(zone);
    if (!abbreviation) {
      out.unknown_zone = true;
      return out;
    }
    offset = abbreviation->seconds / 60;
    if (!abbreviation->ambiguity.empty()) {
      out.ambiguous_zone = true;
      out.assumed = std::string(abbreviation->ambiguity);
    }
  } else {
    out.unknown_zone = true;
    return out;
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset * 60;
  out.utc = iso_utc(secs * 1000 + ms);
  return out;
}

std::optional<std::string> epoch_to_utc(double seconds) {
  if (!std::isfinite(seconds) || std::fabs(seconds) >= 1e11) {
    return std::nullopt;  // past the year 5138 (1e300, infinity): no time
  }
  return iso_utc(static_cast<int64_t>(std::floor(seconds * 1000.0 + 1e-6)));
}

std::optional<std::string> statement_in_message(std::string_view m) {
  if (m.starts_with("duration: ")) {
    size_t ms = m.find(" ms  ");
    if (ms == std::string_view::npos) {
      return std::nullopt;
    }
    m.remove_prefix(ms + 5);
    if (m.starts_with("statement: ")) {
      return std::string(m.substr(11));
    }
    // execute NAME: SQL, parse NAME: SQL, bind NAME: SQL (NAME may be <unnamed>)
    for (std::string_view verb : {"execute ", "parse ", "bind "}) {
      if (m.starts_with(verb)) {
        size_t colon = m.find(": ");
        if (colon != std::string_view::npos) {
          return std::string(m.substr(colon + 2));
        }
      }
    }
    return std::nullopt;
  }
  if (m.starts_with("statement: ")) {
    return std::string(m.substr(11));
  }
  return std::nullopt;
}

std::optional<std::string> location_text(std::string_view func, std::string_view file,
                                         std::string_view line) {
  if (file.empty()) {
    return std::nullopt;
  }
  if (func.empty()) {
    return fmt::format("{}:{}", file, line);
  }
  return fmt::format("{}, {}:{}", func, file, line);
}

void add_problem(store::FactWriter& out, std::optional<int64_t> line, std::string severity,
                 std::string code, std::string message, std::optional<std::string_view> snippet,
                 std::optional<int64_t> byte_offset) {
  store::ProblemFact p;
  p.line = line;
  p.byte_offset = byte_offset;
  p.severity = std::move(severity);
  p.code = std::move(code);
  p.message = std::move(message);
  if (snippet) {
    std::string_view s = *snippet;
    if (auto bad = text::invalid_utf8_at(s)) {
      s = s.substr(0, *bad);
    }
    p.snippet = std::string(s.substr(0, text::utf8_prefix(s, 200)));
  }
  out.add(p);
}

void Unmatched::add(int64_t line, std::string_view why, std::string_view text) {
  ++m_count;
  if (m_count == 1) {
    m_first_line = line;
  }
  if (m_count <= m_listed) {
    add_problem(m_out, line, "warning", m_code,
                fmt::format("line {}: not a {} record: {}; counted, not read", line, m_format, why),
                text);
  }
}

void Unmatched::finish() {
  if (m_count > m_listed) {
    add_problem(m_out, m_first_line, "notice", m_code,
                fmt::format("{} lines or records in all are no {} record (first at line {}); "
                            "the first {} are listed",
                            text::thousands(m_count), m_format, m_first_line, m_listed));
  }
}

void ZoneNotes::note(const UtcTime& t, int64_t line) {
  if (!t.unknown_zone && !t.ambiguous_zone) {
    return;
  }
  if (std::find(m_seen.begin(), m_seen.end(), t.zone) != m_seen.end()) {
    return;
  }
  m_seen.push_back(t.zone);
  if (t.unknown_zone) {
    add_problem(m_out, line, "warning", "log-time-zone",
                fmt::format("line {}: time zone '{}' is unknown (expected an abbreviation such as "
                            "UTC, CET, EST or a numeric offset such as +01 or +05:30); the "
                            "time of entries written in it is kept as written, not in UTC",
                            line, text::abbreviate(t.zone, 40)));
  } else {
    add_problem(m_out, line, "notice", "log-time-zone",
                fmt::format("line {}: time zone abbreviation '{}' is ambiguous; read as {}", line,
                            t.zone, t.assumed));
  }
}

std::optional<size_t> repair_utf8(std::string& s) {
  auto first = text::invalid_utf8_at(s);
  if (!first) {
    return std::nullopt;
  }
  std::string out(s.substr(0, *first));
  std::string_view rest = std::string_view(s).substr(*first);
  while (!rest.empty()) {
    auto bad = text::invalid_utf8_at(rest);
    if (!bad) {
      out.append(rest);
      break;
    }
    out.append(rest.substr(0, *bad));
    out.append("\xEF\xBF\xBD");
    // Skip the bad byte and any continuation bytes that follow it.
    size_t skip = *bad + 1;
    while (skip < rest.size() && (static_cast<unsigned char>(rest[skip]) & 0xC0) == 0x80 &&
           skip - *bad < 4) {
      ++skip;
    }
    rest.remove_prefix(skip);
  }
  s = std::move(out);
  return first;
}

}  // namespace dbautopsy::logs
