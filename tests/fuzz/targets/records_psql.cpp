// The django_migrations table as exported: psql's aligned and expanded (\\x) tables
// (parsers/django/migration_records.cpp). The format is the one sniffed when it is one of
// this family (psql, psql_expanded), else psql: the reader must cope with a file that is not
// what it was told.
#include "../fuzz.hpp"
#include "django/migration_records.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  django::RecordFormat format = django::RecordFormat::psql;
  if (auto f = django::sniff_migration_records(text.substr(0, 64 * 1024));
      f && (*f == django::RecordFormat::psql || *f == django::RecordFormat::psql_expanded)) {
    format = *f;
  }
  std::filesystem::path path = fuzz::scratch_file("django_migrations.psql", text);
  fuzz::read_into_store("django-migrations", [&](store::FactWriter& out) {
    io::InputStream in(path);
    django::read_migration_records(in, out, format);
  });
  return 0;
}
