// Shared helpers of the Django reader tests: files, fixture and corpus locations.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "django/migration_py.hpp"

namespace dbautopsy::test {

std::filesystem::path source_root();
std::string read_file(const std::filesystem::path& path);

// The shared corpus: $DBAUTOPSY_CORPUS, else a `shared/corpus` folder (holding
// django_migrations) in a folder above the repository.
std::optional<std::filesystem::path> corpus_dir();
bool require_all();

// An installed Django 3.2 package: $DBAUTOPSY_DJANGO_DIR, else the one found when the
// build was configured. nullopt (with the reason in *why) when there is none.
std::optional<std::filesystem::path> django_dir(std::string* why);

// Every <name>.py of a migrations folder (sorted; __init__.py left out), parsed.
std::vector<django::MigrationFile> load_migrations(const std::filesystem::path& dir,
                                                   const std::string& app);

}  // namespace dbautopsy::test
