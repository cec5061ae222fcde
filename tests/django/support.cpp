#include "support.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#ifndef DBAUTOPSY_SOURCE_ROOT
#error "DBAUTOPSY_SOURCE_ROOT must be defined"
#endif

namespace dbautopsy::test {

namespace fs = std::filesystem;

fs::path source_root() {
  return DBAUTOPSY_SOURCE_ROOT;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool require_all() {
  const char* r = std::getenv("DBAUTOPSY_REQUIRE_ALL");
  const char* ci = std::getenv("CI");
  return (r && *r) || (ci && std::string(ci) == "true");
}

std::optional<fs::path> corpus_dir() {
  if (const char* env = std::getenv("DBAUTOPSY_CORPUS"); env && *env) {
    return fs::path(env);
  }
  std::error_code ec;
  fs::path p = fs::weakly_canonical(source_root(), ec);
  for (; !p.empty(); p = p.parent_path()) {
    fs::path candidate = p / "shared" / "corpus";
    if (fs::is_directory(candidate / "django_migrations", ec)) {
      return candidate;
    }
    if (p == p.parent_path()) {
      break;
    }
  }
  return std::nullopt;
}

std::optional<fs::path> django_dir(std::string* why) {
  std::string configured;
#ifdef DBAUTOPSY_DJANGO_DIR
  configured = DBAUTOPSY_DJANGO_DIR;
#endif
  if (const char* env = std::getenv("DBAUTOPSY_DJANGO_DIR"); env && *env) {
    configured = env;
  }
  if (configured.empty()) {
    *why = "no Django 3.2 was found when the build was configured (set DBAUTOPSY_DJANGO_DIR)";
    return std::nullopt;
  }
  fs::path dir(configured);
  std::string init = read_file(dir / "__init__.py");
  if (init.find("VERSION = (3, 2,") == std::string::npos) {
    *why = "the Django at " + dir.string() + " is not version 3.2";
    return std::nullopt;
  }
  return dir;
}

std::vector<django::MigrationFile> load_migrations(const fs::path& dir, const std::string& app) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".py" && e.path().filename() != "__init__.py") {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<django::MigrationFile> out;
  for (const auto& f : files) {
    out.push_back(django::parse_migration_py(read_file(f), app, f.stem().string()));
  }
  return out;
}

}  // namespace dbautopsy::test
