#include "logs/app_format.hpp"

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/error.hpp"
#include "logs/app_time.hpp"

namespace dbautopsy::logs {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& file, std::optional<uint64_t> line,
                       const std::string& what) {
  Location where;
  where.file = file;
  where.line = line;
  throw InputError(where, what);
}

// lnav writes named groups PCRE's way, (?<name>...); RE2 of this vintage reads (?P<name>...).
std::string re2_syntax(const std::string& pattern) {
  std::string out;
  out.reserve(pattern.size() + 8);
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      out += pattern[i];
      out += pattern[++i];
      continue;
    }
    if (pattern.compare(i, 3, "(?<") == 0 && i + 3 < pattern.size() && pattern[i + 3] != '=' &&
        pattern[i + 3] != '!') {
      out += "(?P<";
      i += 2;
      continue;
    }
    out += pattern[i];
  }
  return out;
}

std::string string_key(const std::string& file, const std::string& format, const json& obj,
                       const char* key, const std::string& fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return fallback;
  }
  if (!it->is_string()) {
    fail(file, std::nullopt,
         fmt::format("format \"{}\": \"{}\" must be a string (a field name)", format, key));
  }
  return it->get<std::string>();
}

UserFormat read_format(const std::string& file, const std::string& name, const json& obj) {
  UserFormat f;
  f.name = name;
  f.file = file;
  if (auto it = obj.find("json"); it != obj.end()) {
    if (!it->is_boolean()) {
      fail(file, std::nullopt, fmt::format("format \"{}\": \"json\" must be true or false", name));
    }
    f.json = it->get<bool>();
  }
  if (auto it = obj.find("multiline"); it != obj.end() && it->is_boolean()) {
    f.multiline = it->get<bool>();
  }
  f.timestamp_field = string_key(file, name, obj, "timestamp-field", f.timestamp_field);
  f.level_field = string_key(file, name, obj, "level-field", f.level_field);
  f.body_field = string_key(file, name, obj, "body-field", f.body_field);
  f.logger_field = string_key(file, name, obj, "module-field", f.logger_field);
  f.logger_field = string_key(file, name, obj, "logger-field", f.logger_field);
  f.pid_field = string_key(file, name, obj, "pid-field", f.pid_field);
  if (auto it = obj.find("timestamp-format"); it != obj.end()) {
    json list = it->is_string() ? json::array({*it}) : *it;
    if (!list.is_array()) {
      fail(file, std::nullopt,
           fmt::format("format \"{}\": \"timestamp-format\" must be a list of strftime-style "
                       "patterns",
                       name));
    }
    for (const auto& tf : list) {
      if (!tf.is_string()) {
        fail(file, std::nullopt,
             fmt::format("format \"{}\": \"timestamp-format\" must hold strings", name));
      }
      std::string pattern = tf.get<std::string>();
      if (auto bad = unknown_conversion(pattern)) {
        fail(file, std::nullopt,
             fmt::format("format \"{}\": timestamp format \"{}\" uses {}, which dbautopsy does "
                         "not read (it reads %Y %y %m %d %e %H %I %p %M %S %f %L %z %Z %s %b %B "
                         "%a %A %T %F %D %%)",
                         name, pattern, *bad));
      }
      f.timestamp_formats.push_back(std::move(pattern));
    }
  }
  if (auto it = obj.find("regex"); it != obj.end()) {
    if (!it->is_object()) {
      fail(file, std::nullopt,
           fmt::format("format \"{}\": \"regex\" must be an object of named patterns, "
                       "{{\"main\": {{\"pattern\": \"...\"}}}}",
                       name));
    }
    for (const auto& [pname, pobj] : it->items()) {
      const json* pattern = nullptr;
      if (pobj.is_object()) {
        if (auto p = pobj.find("pattern"); p != pobj.end() && p->is_string()) {
          pattern = &*p;
        }
      } else if (pobj.is_string()) {
        pattern = &pobj;
      }
      if (pattern == nullptr) {
        fail(file, std::nullopt,
             fmt::format("format \"{}\", regex \"{}\": expected {{\"pattern\": \"...\"}}", name,
                         pname));
      }
      re2::RE2::Options options;
      options.set_log_errors(false);
      auto re = std::make_shared<re2::RE2>(re2_syntax(pattern->get<std::string>()), options);
      if (!re->ok()) {
        fail(file, std::nullopt,
             fmt::format("format \"{}\", regex \"{}\": not a valid RE2 pattern: {}", name, pname,
                         re->error()));
      }
      f.patterns.push_back({pname, std::move(re)});
    }
  }
  if (!f.json && f.patterns.empty()) {
    fail(file, std::nullopt,
         fmt::format("format \"{}\": expected \"regex\" (named RE2 patterns with captures) or "
                     "\"json\": true (JSON lines)",
                     name));
  }
  if (auto it = obj.find("sample"); it != obj.end() && it->is_array() && !f.json) {
    size_t n = 0;
    for (const auto& sample : *it) {
      ++n;
      const json* line = sample.is_object() && sample.contains("line") ? &sample["line"] : nullptr;
      if (line == nullptr || !line->is_string()) {
        continue;
      }
      std::string text = line->get<std::string>();
      std::string first = text.substr(0, text.find('\n'));
      bool matched = false;
      for (const auto& p : f.patterns) {
        matched = matched || re2::RE2::PartialMatch(first, *p.re);
      }
      if (!matched) {
        fail(file, std::nullopt,
             fmt::format("format \"{}\": sample {} matches none of its patterns: {}", name, n,
                         first.substr(0, 200)));
      }
    }
  }
  return f;
}

}  // namespace

std::vector<UserFormat> load_format_file(const std::filesystem::path& path,
                                         const std::string& display) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(display, std::nullopt,
         "cannot read the log format file (it does not exist or is not readable)");
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    // Parse again for the position nlohmann reports.
    try {
      json again = json::parse(text);
      (void)again;
    } catch (const json::parse_error& e) {
      size_t at = e.byte > 0 ? e.byte - 1 : 0;
      uint64_t line = 1;
      for (size_t i = 0; i < at && i < text.size(); ++i) {
        line += text[i] == '\n';
      }
      std::string reason = e.what();
      if (size_t colon = reason.find(": ", reason.find("column")); colon != std::string::npos) {
        reason = reason.substr(colon + 2);
      }
      fail(display, line, fmt::format("not JSON: {}; expected a log format (JSON)", reason));
    } catch (const json::exception& e) {
      // A number past a double's range (1e400) is out_of_range, without a position.
      fail(display, std::nullopt,
           fmt::format("not JSON: {}; expected a log format (JSON)", e.what()));
    }
    fail(display, std::nullopt, "not JSON; expected a log format (JSON)");
  }
  if (!doc.is_object()) {
    fail(display, std::nullopt,
         "expected a JSON object: a format ({\"name\": ..., \"regex\": ...}) or formats keyed "
         "by name, as lnav writes them");
  }
  std::vector<UserFormat> out;
  if (doc.contains("regex") || doc.contains("json")) {
    std::string name = doc.contains("name") && doc["name"].is_string()
                           ? doc["name"].get<std::string>()
                           : path.stem().string();
    out.push_back(read_format(display, name, doc));
  } else {
    for (const auto& [name, obj] : doc.items()) {
      if (name.empty() || name[0] == '$' || !obj.is_object()) {
        continue;  // "$schema" and the like
      }
      out.push_back(read_format(display, name, obj));
    }
  }
  if (out.empty()) {
    fail(display, std::nullopt,
         "holds no log format: expected {\"name\": ..., \"regex\": {...}} or {\"json\": true, "
         "...}, or such objects keyed by format name");
  }
  return out;
}

}  // namespace dbautopsy::logs
