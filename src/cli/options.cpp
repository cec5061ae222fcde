#include "cli/options.hpp"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include <iostream>

#include "base/error.hpp"
#include "base/text.hpp"

namespace dbautopsy::cli {

bool parse_args(const std::string& command, const std::string& synopsis,
                const std::vector<std::string>& args, po::options_description& visible,
                const po::options_description& hidden,
                const po::positional_options_description& positional, po::variables_map& vm,
                const std::string& epilogue) {
  visible.add_options()("help,h", "show this help");
  po::options_description all;
  all.add(visible).add(hidden);
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: dbautopsy " << command << " " << synopsis << "\n\n"
                << visible << "\n"
                << epilogue;
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(fmt::format("{}: {}", command, e.what()));
  }
  return true;
}

std::string default_store_path() {
  return ".dbautopsy/facts.db";
}

std::string colon_form(const std::string& value) {
  std::string out;
  bool quoted = false;
  int depth = 0;
  bool any = false;
  for (char c : value) {
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == ':') {
      return value;
    } else if (!quoted && c == '(') {
      if (depth++ > 0) {
        return value;
      }
      any = true;
      while (!out.empty() && out.back() == ' ') {
        out.pop_back();  // "teams (a, b)"
      }
      out += ':';
      continue;
    } else if (!quoted && c == ')') {
      if (depth-- != 1) {
        return value;
      }
      continue;
    }
    out += c;
  }
  return any && depth == 0 && !quoted ? out : value;
}

std::string store_file(const std::string& given) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (given.empty()) {
    return given;
  }
  bool dir_archive = fs::exists(fs::path(given) / "toc.dat", ec);
  if (fs::is_directory(given, ec) && !dir_archive) {
    fs::path dir(given);
    if (fs::is_regular_file(dir / "facts.db", ec)) {
      return (dir / "facts.db").string();
    }
    return (dir / ".dbautopsy" / "facts.db").string();
  }
  // The one file `investigate FILE` was given (an archive, a dump: no SQLite database, or a
  // pg_dump directory archive) stands for its store, DIR/.dbautopsy/FILE.facts.db, when that
  // exists.
  std::string text = given;
  while (text.size() > 1 && text.back() == '/') {
    text.pop_back();
  }
  fs::path file(text);
  auto store_of = [](const fs::path& f) {
    return f.parent_path() / ".dbautopsy" / (f.filename().string() + ".facts.db");
  };
  fs::path store = store_of(file);
  if (!fs::is_regular_file(store, ec)) {
    store = store_of(fs::canonical(file, ec));  // through a link to the file
  }
  if (!fs::is_regular_file(store, ec)) {
    return given;
  }
  if (!dir_archive) {
    std::ifstream in(file, std::ios::binary);
    char magic[16] = {};
    in.read(magic, sizeof magic);
    if (std::string(magic, static_cast<size_t>(in.gcount())) ==
        std::string("SQLite format 3\0", 16)) {
      return given;
    }
  }
  return store.string();
}

}  // namespace dbautopsy::cli

namespace dbautopsy::cli {

std::string choice(const std::string& option, const std::string& value,
                   const std::vector<std::string>& words,
                   const std::vector<std::pair<std::string, std::string>>& aliases) {
  std::string key = text::lower(text::trim(value));
  for (char& c : key) {
    if (c == '_') {
      c = '-';
    }
  }
  for (const auto& w : words) {
    if (key == w) {
      return w;
    }
  }
  for (const auto& [alias, word] : aliases) {
    if (key == alias) {
      return word;
    }
  }
  std::string list;
  for (size_t i = 0; i < words.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
  }
  throw UsageError(fmt::format("{} {}: use {}", option, value, list));
}

}  // namespace dbautopsy::cli
