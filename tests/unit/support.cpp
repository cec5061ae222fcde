#include "support.hpp"

#include <fstream>
#include <random>

#include "io/input.hpp"
#include "store/facts.hpp"

#ifndef DBAUTOPSY_SOURCE_ROOT
#error "DBAUTOPSY_SOURCE_ROOT must be defined"
#endif

namespace dbautopsy::test {

TempDir::TempDir() {
  std::random_device rd;
  m_path = std::filesystem::temp_directory_path() / ("dbautopsy-test-" + std::to_string(rd()));
  std::filesystem::create_directories(m_path);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

std::filesystem::path TempDir::write(const std::string& name, std::string_view content) const {
  auto p = m_path / name;
  std::ofstream out(p, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return p;
}

std::filesystem::path source_root() {
  return DBAUTOPSY_SOURCE_ROOT;
}

std::string Ingested::one(const std::string& sql) {
  store::Statement st = store.prepare(sql);
  std::string out = st.step() ? st.get_text(0) : std::string();
  st.reset();
  return out;
}

Ingested ingest_file(const std::filesystem::path& path, pgdump::PgDumpOptions options) {
  Ingested r{store::Store::open_memory(), 0, {}};
  store::ArtifactFact a;
  a.path = path.filename().string();
  a.kind = "pgdump-sql";
  r.artifact = store::add_artifact(r.store, a);
  store::FactWriter writer(r.store, r.artifact);
  io::InputStream in(path);
  r.summary = pgdump::read_pgdump_sql(in, writer, options);
  return r;
}

Ingested ingest_sql(std::string_view sql, pgdump::PgDumpOptions options) {
  TempDir dir;
  return ingest_file(dir.write("dump.sql", sql), std::move(options));
}

}  // namespace dbautopsy::test
