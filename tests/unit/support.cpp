#include "support.hpp"

#include <cstdlib>
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

Ingested ingest_file_with_stats(const std::filesystem::path& path, pgdump::CopyStatsOptions stats,
                                pgdump::PgDumpOptions options) {
  Ingested r{store::Store::open_memory(), 0, {}};
  store::ArtifactFact a;
  a.path = path.filename().string();
  a.kind = "pgdump-sql";
  r.artifact = store::add_artifact(r.store, a);
  store::FactWriter writer(r.store, r.artifact);
  // The consumers keep a reference to the options: they live as long as the router.
  options.router = [&writer, stats = std::move(stats)](const pgdump::CopyTarget& t) {
    return pgdump::make_copy_stats(t, writer, stats);
  };
  io::InputStream in(path);
  r.summary = pgdump::read_pgdump_sql(in, writer, options);
  return r;
}

Ingested ingest_sql_with_stats(std::string_view sql, pgdump::CopyStatsOptions stats,
                               pgdump::PgDumpOptions options) {
  TempDir dir;
  return ingest_file_with_stats(dir.write("dump.sql", sql), std::move(stats), std::move(options));
}

std::optional<std::filesystem::path> corpus_dir() {
  if (const char* env = std::getenv("DBAUTOPSY_CORPUS"); env && *env) {
    return std::filesystem::path(env);
  }
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(source_root(), ec);
  for (; !p.empty(); p = p.parent_path()) {
    std::filesystem::path candidate = p / "shared" / "corpus";
    if (std::filesystem::is_directory(candidate / "pg_dump", ec)) {
      return candidate;
    }
    if (p == p.parent_path()) {
      break;
    }
  }
  return std::nullopt;
}

bool require_all() {
  const char* r = std::getenv("DBAUTOPSY_REQUIRE_ALL");
  const char* ci = std::getenv("CI");
  return (r && *r) || (ci && std::string(ci) == "true");
}

}  // namespace dbautopsy::test
