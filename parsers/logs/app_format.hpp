// User log formats (`--log-format FILE`): a JSON file in the spirit of lnav's format
// definitions, of which dbautopsy reads this subset:
//
//   {"name": "myapp",                        (or lnav's layout: {"myapp": {...}, ...})
//    "regex": {"main": {"pattern": "^(?P<timestamp>\\S+ \\S+) (?P<level>\\w+) (?P<body>.*)$"}},
//    "timestamp-format": ["%Y-%m-%d %H:%M:%S"],      strptime-style, tried in order
//    "timestamp-field": "timestamp", "level-field": "level", "body-field": "body",
//    "module-field": "logger" (or "logger-field"), "pid-field": "pid",
//    "multiline": true,                             lines no pattern matches continue the entry
//    "sample": [{"line": "..."}],                   every sample must match a pattern
//    "json": true}                                  JSON lines: the *-field keys name the fields
//
// Patterns are RE2 (lnav's PCRE `(?<name>...)` is accepted and read as `(?P<name>...)`), matched
// from the start of each line. Captures named like a log_event column (`pid`, `user`,
// `user_name`, `database`, `database_name`, `application`, `client`, `session`, `sqlstate`,
// `statement`, `detail`, `hint`) fill that column. lnav's display keys (`title`,
// `description`, `url`, `line-format`, `value`, `level`, `highlights`, ...) are accepted and
// not used.
#pragma once

#include <re2/re2.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dbautopsy::logs {

struct UserFormat {
  std::string name;
  std::string file;  // the format file, as given
  bool json = false;
  bool multiline = true;
  struct Pattern {
    std::string name;
    std::shared_ptr<re2::RE2> re;
  };
  std::vector<Pattern> patterns;
  std::vector<std::string> timestamp_formats;
  std::string timestamp_field = "timestamp";
  std::string level_field = "level";
  std::string body_field = "body";
  std::string logger_field;  // empty: `logger`, `module` or `name`, whichever is there
  std::string pid_field = "pid";
};

struct FormatSet {
  std::vector<UserFormat> formats;
  std::string digest;  // of the files' contents: artifacts read with other formats are re-read
};

// Reads a format file. Throws InputError naming the file (and the format, pattern and
// position) for a file that cannot be read, is not JSON, has a pattern RE2 rejects, a
// timestamp format with an unknown conversion, or a sample no pattern matches.
std::vector<UserFormat> load_format_file(const std::filesystem::path& file,
                                         const std::string& display);

}  // namespace dbautopsy::logs
