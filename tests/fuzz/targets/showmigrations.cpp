// The output of `manage.py showmigrations` (--list and --plan, verbosity 1 and 2).
#include "../fuzz.hpp"
#include "django/migration_records.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  (void)django::sniff_showmigrations(text.substr(0, 64 * 1024));
  std::filesystem::path path = fuzz::scratch_file("showmigrations.txt", text);
  fuzz::read_into_store("django-showmigrations", [&](store::FactWriter& out) {
    io::InputStream in(path);
    django::read_showmigrations(in, out);
  });
  return 0;
}
