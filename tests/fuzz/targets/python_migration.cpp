// The Python syntax reader (parsers/django/python_syntax.cpp) and the migration file reader
// on top of it (migration_py.cpp): a module, an expression, and the file as the ingest reads
// it from <app>/migrations/<name>.py.
#include "../fuzz.hpp"
#include "django/migration_py.hpp"
#include "django/python_syntax.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  {
    django::py::Module module = django::py::parse_module(text);
    (void)module;
    std::vector<django::py::Problem> problems;
    django::py::Node node = django::py::parse_expression(text.substr(0, 4096), &problems);
    (void)django::py::to_source(node);
  }
  (void)django::sniff_migration_py(text.substr(0, 64 * 1024));
  std::filesystem::path path = fuzz::scratch_file("blog/migrations/0002_auto.py", text);
  fuzz::read_into_store("django-migration-py", [&](store::FactWriter& out) {
    io::InputStream in(path);
    django::read_migration_py(in, out);
  });
  return 0;
}
