#include "logs/pgbouncer.hpp"

#include <re2/re2.h>

#include <memory>

namespace dbautopsy::logs {

namespace {

// PgBouncer's time (log_format's `%Y-%m-%d %H:%M:%S.%03d`, then the zone where it writes one).
constexpr const char* k_time =
    R"((?P<timestamp>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [A-Za-z]{1,6}| [+-]\d\d(?::?\d\d)?)?))";
// Its levels (src/util.c of PgBouncer: NOISE, DEBUG, LOG, WARNING, ERROR, FATAL).
constexpr const char* k_level = R"((?P<level>NOISE|DEBUG|LOG|WARNING|ERROR|FATAL))";
// The connection a line is about, then the message.
constexpr const char* k_rest =
    R"((?:[CS]-0x[0-9a-fA-F]+: (?P<database>[^/ ]*)/(?P<user>[^@ ]*)@(?P<client>\S+?) )?(?P<body>.*)$)";

UserFormat make_format() {
  UserFormat f;
  f.name = "pgbouncer";
  f.file = "(built in)";
  f.multiline = false;
  re2::RE2::Options options;
  options.set_log_errors(false);
  for (auto [name, pid] : {std::pair{"pgbouncer-1.21", R"(\[(?P<pid>\d+)\])"},
                           std::pair{"pgbouncer", R"((?P<pid>\d+))"}}) {
    std::string pattern = std::string("^") + k_time + " " + pid + " " + k_level + " " + k_rest;
    f.patterns.push_back({name, std::make_shared<re2::RE2>(pattern, options)});
  }
  f.timestamp_formats = {"%Y-%m-%d %H:%M:%S.%f %Z", "%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S.%f",
                         "%Y-%m-%d %H:%M:%S"};
  return f;
}

}  // namespace

const std::vector<UserFormat>& pgbouncer_formats() {
  static const std::vector<UserFormat> k_formats{make_format()};
  return k_formats;
}

int sniff_pgbouncer(std::string_view head) {
  const UserFormat& f = pgbouncer_formats().front();
  size_t lines = 0, matched = 0;
  bool first = false;
  size_t start = 0;
  // Complete lines only: the head may end inside one.
  while (start < head.size() && lines < 50) {
    size_t nl = head.find('\n', start);
    if (nl == std::string_view::npos) {
      break;
    }
    std::string_view line = head.substr(start, nl - start);
    start = nl + 1;
    if (line.empty()) {
      continue;
    }
    bool m = false;
    for (const auto& p : f.patterns) {
      m = m || re2::RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *p.re);
    }
    first = lines == 0 ? m : first;
    ++lines;
    matched += m;
  }
  return lines > 0 && first && matched * 10 >= lines * 8 ? 90 : 0;
}

}  // namespace dbautopsy::logs
