// The output of `manage.py sqlmigrate APP NAME`, replayed statement by statement
// (parsers/django/sqlmigrate.cpp): the file is named as the reader expects one to be.
#include "django/sqlmigrate.hpp"
#include "../fuzz.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  std::filesystem::path path = fuzz::scratch_file("teams.0001_initial.sql", text);
  (void)django::sniff_sqlmigrate(text.substr(0, 64 * 1024), path);
  fuzz::read_into_store("django-sqlmigrate", [&](store::FactWriter& out) {
    io::InputStream in(path);
    django::read_sqlmigrate(in, out);
  });
  return 0;
}
