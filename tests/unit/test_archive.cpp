// pg_dump archives (custom, tar, directory) read without a server: the script an archive
// stands for gives the same facts as `pg_restore -f -` of it (PostgreSQL 15's pg_restore,
// for the archive versions it reads; for newer archives, the figures of the corpus
// manifest and the facts of the PostgreSQL 15 archive made from the same source). Damaged
// archives give located errors and keep what was read before the damage.

#include <zlib.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/error.hpp"
#include "pgdump/archive.hpp"
#include "store/facts.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using dbautopsy::InputError;
using dbautopsy::pgdump::ArchiveCompression;
using dbautopsy::pgdump::ArchiveFormat;
using dbautopsy::pgdump::ArchiveOptions;
using dbautopsy::pgdump::ArchiveRead;
using dbautopsy::pgdump::ArchiveScript;
using dbautopsy::test::source_root;
using dbautopsy::test::TempDir;
namespace store = dbautopsy::store;
namespace pgdump = dbautopsy::pgdump;

namespace {

fs::path fixtures() {
  return source_root() / "fixtures" / "pgdump";
}

// The shared corpus: $DBAUTOPSY_CORPUS, or shared/corpus in a folder above the repository.
std::optional<fs::path> corpus() {
  if (const char* env = std::getenv("DBAUTOPSY_CORPUS"); env && *env) {
    return fs::path(env);
  }
  for (fs::path p = fs::absolute(source_root()); !p.empty(); p = p.parent_path()) {
    if (fs::is_directory(p / "shared" / "corpus" / "pg_dump")) {
      return p / "shared" / "corpus";
    }
    if (p == p.parent_path()) {
      break;
    }
  }
  return std::nullopt;
}

bool corpus_required() {
  const char* all = std::getenv("DBAUTOPSY_REQUIRE_ALL");
  const char* ci = std::getenv("CI");
  return (all && *all) || (ci && std::string(ci) == "true");
}

std::optional<fs::path> archive_corpus() {
  auto c = corpus();
  if (!c || !fs::is_directory(*c / "pg_dump" / "custom_format")) {
    if (corpus_required()) {
      FAIL("the shared corpus (pg_dump/custom_format) was not found: set DBAUTOPSY_CORPUS");
    }
    WARN("the shared corpus was not found (set DBAUTOPSY_CORPUS): corpus archives not tested");
    return std::nullopt;
  }
  return *c / "pg_dump" / "custom_format";
}

struct Read {
  store::Store store = store::Store::open_memory();
  int64_t artifact = 0;
  ArchiveRead result;

  std::string one(const std::string& sql) {
    store::Statement st = store.prepare(sql);
    std::string out = st.step() && !st.is_null(0) ? st.get_text(0) : std::string();
    st.reset();
    return out;
  }
  int64_t count(const std::string& sql) { return store.scalar_int(sql); }
};

std::unique_ptr<Read> read_archive(const fs::path& path, ArchiveOptions options = {}) {
  auto r = std::make_unique<Read>();
  store::ArtifactFact a;
  a.path = path.filename().string();
  a.kind = "pgdump-archive";
  r->artifact = store::add_artifact(r->store, a);
  store::FactWriter writer(r->store, r->artifact);
  r->result = pgdump::read_pgdump_archive(path, writer, {}, options);
  return r;
}

// Every fact the comparison covers, one line per row without its line numbers, sorted.
std::vector<std::string> facts(store::Store& s, bool with_data = true) {
  std::vector<std::string> out;
  std::vector<std::string> tables = {"db_schema",     "db_extension", "db_relation",
                                     "db_column",     "db_sequence",  "db_index",
                                     "db_constraint", "db_object",    "db_comment"};
  if (with_data) {
    tables.push_back("table_stats");
  }
  for (const auto& table : tables) {
    store::Statement st = s.prepare("SELECT * FROM " + table);
    while (st.step()) {
      std::string row = table;
      for (int i = 0; i < st.column_count(); ++i) {
        std::string name = st.column_name(i);
        if (name == "artifact_id" || name == "line" || name == "end_line") {
          continue;
        }
        row += " " + name + "=" + (st.is_null(i) ? std::string("NULL") : st.get_text(i));
      }
      out.push_back(row);
    }
    st.reset();
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_same(const std::vector<std::string>& archive, const std::vector<std::string>& restored,
                const std::string& what) {
  std::vector<std::string> only_archive, only_restored;
  std::set_difference(archive.begin(), archive.end(), restored.begin(), restored.end(),
                      std::back_inserter(only_archive));
  std::set_difference(restored.begin(), restored.end(), archive.begin(), archive.end(),
                      std::back_inserter(only_restored));
  INFO(what);
  for (size_t i = 0; i < std::min<size_t>(only_archive.size(), 10); ++i) {
    UNSCOPED_INFO("only from the archive: " << only_archive[i]);
  }
  for (size_t i = 0; i < std::min<size_t>(only_restored.size(), 10); ++i) {
    UNSCOPED_INFO("only from pg_restore: " << only_restored[i]);
  }
  CHECK(only_archive.empty());
  CHECK(only_restored.empty());
}

bool have_pg_restore() {
  static const bool have = std::system("pg_restore --version >/dev/null 2>&1") == 0;
  return have;
}

// The facts of `pg_restore -f - ARCHIVE` (PostgreSQL 15's, or whichever is on PATH).
std::optional<std::vector<std::string>> restored_facts(const fs::path& archive,
                                                       bool with_data = true) {
  if (!have_pg_restore()) {
    if (corpus_required()) {
      FAIL("pg_restore is not installed (apt-get install postgresql-client-15)");
    }
    WARN("pg_restore is not installed: the differential check is skipped");
    return std::nullopt;
  }
  TempDir dir;
  fs::path script = dir.path() / "restored.sql";
  std::string cmd = "pg_restore -f '" + script.string() + "' '" + archive.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto r = dbautopsy::test::ingest_file(script);
  return facts(r.store, with_data);
}

// The archive versions PostgreSQL 15's pg_restore reads (K_VERS_1_14 is its newest).
bool pg15_reads(const pgdump::ArchiveHeader& h) {
  return h.version_major == 1 && h.version_minor <= 14;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The script up to the error read() throws at its end, and that error.
std::pair<std::string, std::string> script_and_error(const fs::path& path) {
  ArchiveScript s(path);
  std::string out;
  char buf[4096];
  try {
    size_t n = 0;
    while ((n = s.read(buf, sizeof buf)) > 0) {
      out.append(buf, n);
    }
  } catch (const InputError& e) {
    return {out, e.what()};
  }
  return {out, ""};
}

std::string script_of(const fs::path& path, ArchiveOptions options = {}) {
  ArchiveScript s(path, options);
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = s.read(buf, sizeof buf)) > 0) {
    out.append(buf, n);
  }
  return out;
}

// The [[fixture]] tables of the pgdumpx manifest, as key -> raw value.
std::vector<std::map<std::string, std::string>> manifest(const fs::path& file) {
  std::vector<std::map<std::string, std::string>> out;
  std::istringstream in(slurp(file));
  std::string line;
  while (std::getline(in, line)) {
    if (line == "[[fixture]]") {
      out.emplace_back();
      continue;
    }
    size_t eq = line.find(" = ");
    if (!out.empty() && eq != std::string::npos) {
      out.back()[line.substr(0, eq)] = line.substr(eq + 3);
    }
  }
  return out;
}

std::vector<std::string> toml_strings(const std::string& array) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = array.find('"', pos)) != std::string::npos) {
    size_t end = array.find('"', pos + 1);
    out.push_back(array.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return out;
}

std::string unquote(const std::string& s) {
  return s.size() >= 2 && s.front() == '"' ? s.substr(1, s.size() - 2) : s;
}

fs::path write_prefix(const TempDir& dir, const fs::path& from, size_t bytes,
                      const std::string& name) {
  std::string data = slurp(from);
  REQUIRE(bytes <= data.size());
  return dir.write(name, std::string_view(data).substr(0, bytes));
}

void copy_dir(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    fs::copy_file(e.path(), to / e.path().filename());
  }
}

}  // namespace

TEST_CASE("archives of the kitchen sink give the facts of pg_restore's script") {
  for (const char* name : {"kitchen_sink.custom.dump", "kitchen_sink.tar", "kitchen_sink.dir",
                           "large_objects.custom.dump", "large_objects.tar", "large_objects.dir",
                           "large_objects.piped.dump"}) {
    fs::path path = fixtures() / name;
    INFO(path.string());
    auto r = read_archive(path);
    REQUIRE_FALSE(r->result.failed);
    CHECK(r->count("SELECT count(*) FROM problem WHERE severity = 'error'") == 0);
    CHECK(r->result.archive.data_unreadable == 0);
    CHECK(r->result.header.dumped_from.value_or("").substr(0, 3) == "15.");
    if (auto restored = restored_facts(path)) {
      check_same(facts(r->store), *restored, name);
    }
  }
}

TEST_CASE("the kitchen sink reads the same in every archive format") {
  auto custom = read_archive(fixtures() / "kitchen_sink.custom.dump");
  auto tar = read_archive(fixtures() / "kitchen_sink.tar");
  auto dir = read_archive(fixtures() / "kitchen_sink.dir");
  CHECK(custom->result.header.format == ArchiveFormat::custom);
  CHECK(tar->result.header.format == ArchiveFormat::tar);
  CHECK(dir->result.header.format == ArchiveFormat::directory);
  CHECK(custom->result.header.compression == ArchiveCompression::gzip);
  CHECK(tar->result.header.compression == ArchiveCompression::none);
  CHECK(dir->result.header.compression == ArchiveCompression::gzip);
  CHECK(facts(tar->store).size() > 300);
  check_same(facts(tar->store), facts(dir->store), "tar against directory");
  // (The custom archive was made by another run of kitchen_sink.sql: only the schema is
  // compared with it.)
  check_same(facts(custom->store, false), facts(dir->store, false), "custom against directory");
  CHECK(dir->count("SELECT count(*) FROM table_stats") == 17);
  CHECK(dir->one("SELECT sum(rows) FROM table_stats") ==
        tar->one("SELECT sum(rows) FROM table_stats"));
}

TEST_CASE("every archive of the corpus reads, with the facts pg_restore or the manifest gives") {
  auto dir = archive_corpus();
  if (!dir) {
    return;
  }
  // pgdumpx: PostgreSQL 15, 16 and 18 archives of one table, compressed every way.
  fs::path pgdumpx = *dir / "pgdumpx";
  auto fixtures_list = manifest(pgdumpx / "manifest.toml");
  REQUIRE(fixtures_list.size() >= 9);
  std::optional<std::vector<std::string>> pg15_schema;
  if (have_pg_restore()) {
    pg15_schema = restored_facts(pgdumpx / "pg15-none-copy-basic.dump", false);
  }
  std::set<std::string> compressions;
  for (auto& f : fixtures_list) {
    std::string name = unquote(f["name"]);
    fs::path path = pgdumpx / (name + ".dump");
    INFO(path.string());
    auto r = read_archive(path);
    REQUIRE_FALSE(r->result.failed);
    CHECK(r->count("SELECT count(*) FROM problem WHERE severity = 'error'") == 0);
    const auto& h = r->result.header;
    std::string version = unquote(f["archive_version"]);
    CHECK(std::to_string(h.version_major) + "." + std::to_string(h.version_minor) + "." +
              std::to_string(h.version_rev) ==
          version);
    CHECK(pgdump::compression_name(h.compression) == unquote(f["compression"]));
    compressions.insert(std::string(pgdump::compression_name(h.compression)));
    CHECK(h.database.value_or("") == "pgdumpx_fixture");
    CHECK(h.created.has_value());
    // The manifest's figures.
    for (const auto& table : toml_strings(f["expected_tables"])) {
      size_t dot = table.find('.');
      std::string where =
          "schema_name = '" + table.substr(0, dot) + "' AND name = '" + table.substr(dot + 1) + "'";
      CHECK(r->one("SELECT kind FROM db_relation WHERE " + where) == "table");
      CHECK(r->one("SELECT sum(rows) FROM table_stats WHERE schema_name || '.' || table_name = '" +
                   table + "'") == f["expected_row_count"]);
      std::vector<std::string> columns = toml_strings(f["expected_columns"]);
      std::string got;
      store::Statement st = r->store.prepare(
          "SELECT name FROM db_column WHERE schema_name || '.' || table_name = ?1 ORDER BY "
          "ordinal");
      st.bind(1, table);
      std::vector<std::string> names;
      while (st.step()) {
        names.push_back(st.get_text(0));
      }
      CHECK(names == columns);
    }
    // pg_restore 15 reads archives up to 1.14: its facts must be ours. Newer archives are
    // checked against the PostgreSQL 15 archive made from the same source.
    if (pg15_reads(h)) {
      if (auto restored = restored_facts(path)) {
        check_same(facts(r->store), *restored, name + " against pg_restore");
      }
    } else if (pg15_schema) {
      check_same(facts(r->store, false), *pg15_schema,
                 name + " against pg_restore of pg15-none-copy-basic.dump");
    }
  }
  CHECK(compressions == std::set<std::string>{"none", "gzip", "lz4", "zstd"});

  // pgarchive: a PostgreSQL 14 archive (pizza shop, gzip).
  fs::path pizza = *dir / "pgarchive" / "test.pgdump";
  auto r = read_archive(pizza);
  REQUIRE_FALSE(r->result.failed);
  CHECK(r->result.header.version() == "1.14-0");
  CHECK(r->result.header.dumped_from.value_or("").substr(0, 4) == "14.6");
  CHECK(r->count("SELECT count(*) FROM problem WHERE severity = 'error'") == 0);
  CHECK(r->count("SELECT count(*) FROM db_relation") > 0);
  if (auto restored = restored_facts(pizza)) {
    check_same(facts(r->store), *restored, "pgarchive/test.pgdump");
  }
}

TEST_CASE("the archive header is recorded like a plain dump's") {
  auto r = read_archive(fixtures() / "large_objects.custom.dump");
  const auto& h = r->result.header;
  CHECK(h.version() == "1.14-0");
  CHECK(h.int_size == 4);
  CHECK(h.offset_size == 8);
  CHECK(h.compression == ArchiveCompression::none);
  CHECK(h.compression_level == 0);
  CHECK(h.database == "large_objects");
  CHECK(h.created.value_or("").size() == 19);
  CHECK(r->one("SELECT dumped_from FROM artifact") == h.dumped_from.value_or("?"));
  CHECK(r->one("SELECT dumped_by FROM artifact") == h.dumped_by.value_or("?"));
  CHECK(r->one("SELECT started_on FROM artifact") == h.created.value_or("?"));
  CHECK(r->result.archive.entries_read == static_cast<uint64_t>(h.toc_entries));
}

TEST_CASE("large objects are counted, said to be skipped, and the rest is read") {
  for (const char* name : {"large_objects.custom.dump", "large_objects.tar", "large_objects.dir",
                           "large_objects.piped.dump"}) {
    INFO(name);
    fs::path path = fixtures() / name;
    auto r = read_archive(path);
    CHECK(r->result.archive.large_objects == 2);
    CHECK(r->result.archive.large_object_entries == 1);
    CHECK(r->one("SELECT severity || ' ' || message FROM problem WHERE code = 'large-objects'") ==
          "notice the archive holds 2 large objects (in 1 BLOBS entries); dbautopsy does not "
          "read large objects");
    CHECK(r->one("SELECT rows FROM table_stats WHERE table_name = 'documents'") == "3");
    CHECK(r->one("SELECT name FROM db_index WHERE table_name = 'documents' AND NOT is_primary") ==
          "documents_title_idx");
    CHECK(script_of(path).find("-- dbautopsy: 2 large objects, which are not read") !=
          std::string::npos);
  }
}

TEST_CASE("data is streamed in chunks of any size with the same result") {
  auto whole = read_archive(fixtures() / "kitchen_sink.dir");
  ArchiveOptions tiny;
  tiny.chunk_bytes = 7;
  for (const char* name : {"kitchen_sink.dir", "kitchen_sink.tar", "large_objects.custom.dump"}) {
    INFO(name);
    CHECK(script_of(fixtures() / name, tiny) == script_of(fixtures() / name));
  }
  auto small = read_archive(fixtures() / "kitchen_sink.dir", tiny);
  check_same(facts(small->store), facts(whole->store), "7-byte chunks");
}

TEST_CASE("an archive compressed as a whole is read forward") {
  TempDir dir;
  for (const char* name : {"kitchen_sink.custom.dump", "kitchen_sink.tar"}) {
    INFO(name);
    fs::path gz = dir.path() / (std::string(name) + ".gz");
    std::string data = slurp(fixtures() / name);
    gzFile out = gzopen(gz.c_str(), "wb");
    REQUIRE(out != nullptr);
    REQUIRE(gzwrite(out, data.data(), static_cast<unsigned>(data.size())) ==
            static_cast<int>(data.size()));
    gzclose(out);
    auto plain = read_archive(fixtures() / name);
    auto packed = read_archive(gz);
    REQUIRE_FALSE(packed->result.failed);
    CHECK(packed->count("SELECT count(*) FROM problem WHERE severity = 'error'") == 0);
    check_same(facts(packed->store), facts(plain->store), "gzip of the archive");
  }
}

TEST_CASE("the formats are recognised from their first bytes") {
  auto head = [](const fs::path& p) { return slurp(p).substr(0, 65536); };
  CHECK(pgdump::sniff_pgdump_archive(head(fixtures() / "kitchen_sink.custom.dump")) ==
        ArchiveFormat::custom);
  CHECK(pgdump::sniff_pgdump_archive(head(fixtures() / "kitchen_sink.tar")) == ArchiveFormat::tar);
  CHECK_FALSE(pgdump::sniff_pgdump_archive(head(fixtures() / "kitchen_sink.full.sql")));
  CHECK_FALSE(pgdump::sniff_pgdump_archive("PGDM"));
  std::string tar = head(fixtures() / "large_objects.tar");
  tar[600] ^= 1;  // the content of toc.dat no longer starts with PGDMP
  tar[0] = 'x';   // and the name is not toc.dat (the checksum fails too)
  CHECK_FALSE(pgdump::sniff_pgdump_archive(tar));
  CHECK(pgdump::is_pgdump_directory(fixtures() / "kitchen_sink.dir"));
  CHECK_FALSE(pgdump::is_pgdump_directory(fixtures()));
  CHECK_FALSE(pgdump::is_pgdump_directory(fixtures() / "kitchen_sink.tar"));
}

TEST_CASE("an archive cut short in its header fails with the file and the byte offset") {
  TempDir dir;
  fs::path cut = write_prefix(dir, fixtures() / "kitchen_sink.custom.dump", 20, "cut.dump");
  try {
    ArchiveScript s(cut);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.where().file == cut.string());
    CHECK(e.where().offset == 20u);
    CHECK(e.where().offset_in_file);
    CHECK(std::string(e.what()).find("the file is truncated") != std::string::npos);
  }
  auto r = read_archive(cut);
  CHECK(r->result.failed);
  CHECK(r->one("SELECT severity || ' ' || byte_offset || ' ' || in_file FROM problem") ==
        "error 20 1");
}

TEST_CASE("an archive cut short in its TOC keeps the entries read before") {
  TempDir dir;
  fs::path full = fixtures() / "kitchen_sink.custom.dump";
  size_t size = fs::file_size(full);
  fs::path cut = write_prefix(dir, full, size / 2, "cut.dump");
  auto r = read_archive(cut);
  REQUIRE_FALSE(r->result.failed);
  CHECK(r->result.archive.entries_read > 20);
  CHECK(r->result.archive.entries_read < static_cast<uint64_t>(r->result.header.toc_entries));
  CHECK(r->count("SELECT count(*) FROM db_relation") > 5);
  CHECK(r->count("SELECT count(*) FROM table_stats") == 0);
  std::string error = r->one("SELECT message FROM problem WHERE severity = 'error'");
  CHECK(error.find("the archive ends at byte " + std::to_string(size / 2)) != std::string::npos);
  CHECK(error.find("TOC entry") != std::string::npos);
  CHECK(r->one("SELECT byte_offset || ' ' || in_file FROM problem WHERE severity = 'error'") ==
        std::to_string(size / 2) + " 1");
  // What was read is what the whole archive has up to there.
  auto whole = read_archive(full);
  auto names = [](Read& x) {
    std::vector<std::string> out;
    store::Statement st = x.store.prepare(
        "SELECT schema_name || '.' || name || ' ' || kind FROM db_relation ORDER BY 1");
    while (st.step()) {
      out.push_back(st.get_text(0));
    }
    return out;
  };
  auto have = names(*r);
  auto all = names(*whole);
  CHECK(std::includes(all.begin(), all.end(), have.begin(), have.end()));
}

TEST_CASE("an archive cut short in its data keeps every entry and the rows before the cut") {
  auto dir_opt = archive_corpus();
  TempDir dir;
  // An uncompressed archive cut inside its only table's rows: five whole rows remain, the
  // sixth is cut, and the primary key (after the data) is still known.
  fs::path full = fixtures() / "large_objects.custom.dump";
  if (dir_opt) {
    full = *dir_opt / "pgdumpx" / "pg15-none-copy-basic.dump";
  }
  std::string data = slurp(full);
  std::string marker = dir_opt ? "SIXTH-600" : "second";
  size_t at = data.find(marker);
  REQUIRE(at != std::string::npos);
  fs::path cut = dir.write("cut.dump", std::string_view(data).substr(0, at + 3));
  auto r = read_archive(cut);
  REQUIRE_FALSE(r->result.failed);
  CHECK(r->result.archive.data_unreadable >= 1);
  CHECK(r->one("SELECT rows || ' ' || complete FROM table_stats") == (dir_opt ? "5 0" : "1 0"));
  CHECK(r->count("SELECT count(*) FROM db_constraint WHERE kind = 'p'") == 1);
  std::string error = r->one("SELECT message FROM problem WHERE severity = 'error'");
  CHECK(error.find("the archive ends at byte " + std::to_string(at + 3)) != std::string::npos);
  CHECK(error.find("the file is truncated") != std::string::npos);
  auto [script, thrown] = script_and_error(cut);
  CHECK(thrown.find("the archive ends at byte") != std::string::npos);
  CHECK(script.find("\\.\n\n-- dbautopsy: the data above is cut short (an incomplete row was "
                    "left out)") != std::string::npos);
  CHECK(script.find("-- PostgreSQL database dump complete") == std::string::npos);
}

TEST_CASE("compressed data cut short is reported for every compression") {
  auto dir_opt = archive_corpus();
  if (!dir_opt) {
    return;
  }
  TempDir dir;
  for (const char* name : {"pg15-gzip-copy-basic", "pg16-gzip-copy-basic", "pg18-gzip-copy-basic",
                           "pg18-lz4-copy-basic", "pg18-zstd-copy-basic"}) {
    INFO(name);
    fs::path full = *dir_opt / "pgdumpx" / (std::string(name) + ".dump");
    // The data block is the end of the file: cut its last chunk and end marker.
    size_t size = fs::file_size(full);
    fs::path cut = write_prefix(dir, full, size - 12, std::string(name) + ".dump");
    auto r = read_archive(cut);
    REQUIRE_FALSE(r->result.failed);
    CHECK(r->result.archive.data_unreadable == 1);
    CHECK(r->one("SELECT complete FROM table_stats") == "0");
    CHECK(r->count("SELECT count(*) FROM db_column WHERE table_name = 'orders'") == 5);
    CHECK(r->count("SELECT count(*) FROM db_constraint WHERE kind = 'p'") == 1);
    std::string error = r->one("SELECT message FROM problem WHERE severity = 'error'");
    CHECK(error.find("truncated") != std::string::npos);
    CHECK(r->one("SELECT byte_offset FROM problem WHERE severity = 'error'") ==
          std::to_string(size - 12));
  }
}

TEST_CASE("corrupt compressed data is reported, and the entries after it are still read") {
  auto dir_opt = archive_corpus();
  if (!dir_opt) {
    return;
  }
  TempDir dir;
  fs::path full = *dir_opt / "pgdumpx" / "pg18-zstd-copy-basic.dump";
  std::string data = slurp(full);
  // The zstd frame magic of the data block: damage the bytes after it.
  size_t at = data.find("\x28\xb5\x2f\xfd");
  REQUIRE(at != std::string::npos);
  for (size_t i = at + 6; i < at + 16 && i < data.size(); ++i) {
    data[i] = static_cast<char>(~data[i]);
  }
  auto r = read_archive(dir.write("bad.dump", data));
  CHECK(r->result.archive.data_unreadable == 1);
  CHECK(r->one("SELECT message FROM problem WHERE severity = 'error'").find("zstd") !=
        std::string::npos);
  CHECK(r->count("SELECT count(*) FROM db_constraint WHERE kind = 'p'") == 1);
}

TEST_CASE("a tar archive cut short keeps what came before") {
  TempDir dir;
  fs::path full = fixtures() / "kitchen_sink.tar";
  size_t size = fs::file_size(full);
  // Inside the data members, after the TOC.
  std::string data = slurp(full);
  size_t toc_size = std::stoull(data.substr(124, 11), nullptr, 8);
  size_t cut_at = 512 + toc_size + 512 * 7 + 100;
  REQUIRE(cut_at < size);
  auto r = read_archive(write_prefix(dir, full, cut_at, "cut.tar"));
  REQUIRE_FALSE(r->result.failed);
  auto whole = read_archive(full);
  check_same(facts(r->store, false), facts(whole->store, false), "schema of the cut tar");
  CHECK(r->count("SELECT count(*) FROM table_stats") > 0);
  CHECK(r->count("SELECT count(*) FROM table_stats") < 17);
  CHECK(r->result.archive.data_unreadable > 0);
  std::string error = r->one(
      "SELECT message FROM problem WHERE severity = 'error' AND code = "
      "'unreadable' ORDER BY rowid LIMIT 1");
  CHECK(error.find("the archive ends at byte " + std::to_string(cut_at)) != std::string::npos);
}

TEST_CASE("a directory archive with a missing or cut data file names the file") {
  TempDir dir;
  fs::path copy = dir.path() / "large_objects.dir";
  copy_dir(fixtures() / "large_objects.dir", copy);
  fs::path data_file;
  for (const auto& e : fs::directory_iterator(copy)) {
    std::string n = e.path().filename().string();
    if (n != "toc.dat" && n.find("blob") == std::string::npos) {
      data_file = e.path();
    }
  }
  REQUIRE(!data_file.empty());
  fs::remove(data_file);
  auto r = read_archive(copy);
  REQUIRE_FALSE(r->result.failed);
  CHECK(r->one("SELECT message FROM problem WHERE severity = 'error'")
            .find(data_file.filename().string() + " is missing") != std::string::npos);
  CHECK(r->count("SELECT count(*) FROM table_stats") == 0);
  CHECK(r->count("SELECT count(*) FROM db_index WHERE table_name = 'documents'") == 2);

  // A gzip data file cut short.
  fs::path ks = dir.path() / "kitchen_sink.dir";
  copy_dir(fixtures() / "kitchen_sink.dir", ks);
  fs::path biggest;
  for (const auto& e : fs::directory_iterator(ks)) {
    if (e.path().filename() != "toc.dat" &&
        (biggest.empty() || fs::file_size(e.path()) > fs::file_size(biggest))) {
      biggest = e.path();
    }
  }
  fs::resize_file(biggest, fs::file_size(biggest) / 2);
  auto k = read_archive(ks);
  CHECK(k->result.archive.data_unreadable == 1);
  CHECK(k->count("SELECT count(*) FROM table_stats WHERE complete = 0") == 1);
  CHECK(k->count("SELECT count(*) FROM table_stats") == 17);
  std::string error = k->one("SELECT message FROM problem WHERE severity = 'error'");
  CHECK(error.find("gzip data ends at byte") != std::string::npos);
  CHECK(error.find(biggest.filename().string()) != std::string::npos);
}

TEST_CASE("garbage after the magic, an unknown version or no archive at all: clear errors") {
  TempDir dir;
  std::string garbage = "PGDMP";
  for (int i = 0; i < 300; ++i) {
    garbage += static_cast<char>((i * 131 + 17) % 251);
  }
  auto expect_error = [&](const fs::path& p, const std::string& text, uint64_t offset) {
    INFO(p.filename().string());
    try {
      ArchiveScript s(p);
      FAIL("no error");
    } catch (const InputError& e) {
      INFO(e.what());
      CHECK(e.where().file == p.string());
      CHECK(e.where().offset == offset);
      CHECK(std::string(e.what()).find(text) != std::string::npos);
    }
  };
  expect_error(dir.write("garbage.dump", garbage),
               "is not a version pg_dump ever wrote: the header is damaged", 5);
  std::string old = slurp(fixtures() / "large_objects.custom.dump");
  old[6] = 11;
  expect_error(dir.write("old.dump", old),
               "archive version 1.11.0 in the header at byte 5 is older than dbautopsy reads", 5);
  old[6] = 17;
  expect_error(dir.write("new.dump", old), "is newer than dbautopsy knows", 5);
  expect_error(dir.write("text.dump", "-- PostgreSQL database dump\nSELECT 1;\n"),
               "not a pg_dump archive", 0);
  expect_error(dir.write("empty.dump", ""), "the file is empty", 0);
  std::string bad_int = slurp(fixtures() / "large_objects.custom.dump");
  bad_int[8] = 40;
  expect_error(dir.write("int.dump", bad_int), "integer size 40", 9);
}

TEST_CASE("every prefix and many damaged copies of small archives end in text or InputError") {
  std::vector<fs::path> files = {fixtures() / "large_objects.custom.dump",
                                 fixtures() / "large_objects.piped.dump",
                                 fixtures() / "large_objects.tar"};
  if (auto dir_opt = archive_corpus()) {
    for (const char* name :
         {"pg18-lz4-copy-basic", "pg18-zstd-copy-basic", "pg16-gzip-copy-basic"}) {
      files.push_back(*dir_opt / "pgdumpx" / (std::string(name) + ".dump"));
    }
  }
  TempDir dir;
  int serial = 0;
  auto run = [&](const std::string& data) {
    // (A new file each time: rewriting one file in place is slow on some file systems.)
    fs::path p = dir.write("x" + std::to_string(++serial) + ".dump", data);
    struct Remove {
      fs::path p;
      ~Remove() { fs::remove(p); }
    } remove{p};
    try {
      ArchiveOptions small;
      small.chunk_bytes = 13;
      ArchiveScript s(p, small);
      char buf[512];
      while (s.read(buf, sizeof buf) > 0) {
      }
      return true;
    } catch (const InputError& e) {
      CHECK(e.where().file == p.string());
      return false;
    }
  };
  for (const auto& f : files) {
    INFO(f.filename().string());
    std::string data = slurp(f);
    size_t step = std::max<size_t>(1, data.size() / 700);
    size_t errors = 0;
    for (size_t n = 0; n < data.size(); n += step) {
      errors += run(data.substr(0, n)) ? 0 : 1;
    }
    CHECK(errors > 0);
    CHECK(run(data));
    for (size_t i = 0; i < data.size(); i += step) {
      std::string bad = data;
      bad[i] = static_cast<char>(bad[i] ^ 0x5a);
      run(bad);
    }
  }
}

TEST_CASE("the script's lines are those of pg_restore --verbose, TOC entry by TOC entry") {
  if (!have_pg_restore()) {
    if (corpus_required()) {
      FAIL("pg_restore is not installed (apt-get install postgresql-client-15)");
    }
    WARN("pg_restore is not installed: the line check is skipped");
    return;
  }
  std::vector<fs::path> files = {fixtures() / "kitchen_sink.custom.dump",
                                 fixtures() / "kitchen_sink.tar", fixtures() / "kitchen_sink.dir"};
  if (auto dir_opt = archive_corpus()) {
    files.push_back(*dir_opt / "pgdumpx" / "pg15-gzip-copy-basic.dump");
    files.push_back(*dir_opt / "pgarchive" / "test.pgdump");
  }
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      out.push_back(line);
    }
    return out;
  };
  for (const auto& path : files) {
    INFO(path.string());
    TempDir dir;
    fs::path script = dir.path() / "restored.sql";
    std::string cmd =
        "pg_restore --verbose -f '" + script.string() + "' '" + path.string() + "' 2>/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    std::vector<std::string> theirs = lines(slurp(script));
    std::vector<std::string> ours = lines(script_of(path));
    // pg_restore before 17 says ALTER TABLE for the owner of a sequence or view; the script
    // names the object's kind, as pg_restore 17 and later do.
    for (auto& line : theirs) {
      for (const char* kind : {"SEQUENCE ", "VIEW ", "MATERIALIZED VIEW "}) {
        if (line.rfind(std::string("ALTER ") + kind, 0) == 0 &&
            line.find(" OWNER TO ") != std::string::npos) {
          line = "ALTER TABLE " + line.substr(6 + std::strlen(kind));
        }
      }
    }
    for (auto& line : ours) {
      for (const char* kind : {"SEQUENCE ", "VIEW ", "MATERIALIZED VIEW "}) {
        if (line.rfind(std::string("ALTER ") + kind, 0) == 0 &&
            line.find(" OWNER TO ") != std::string::npos) {
          line = "ALTER TABLE " + line.substr(6 + std::strlen(kind));
        }
      }
    }
    // pg_restore 15.14 and later write "\restrict KEY" (and a blank line) after the title;
    // older ones do not: line up the two.
    if (theirs.size() > 4 && theirs[4].rfind("\\restrict ", 0) != 0) {
      theirs.insert(theirs.begin() + 4, {"\\restrict (none)", ""});
    }
    // Their trailer: "-- Completed on ...", and after \unrestrict its blank line.
    REQUIRE(ours.size() > 20);
    size_t same = 0, toc_lines = 0;
    std::string differing;
    for (size_t i = 0; i < ours.size() && i < theirs.size(); ++i) {
      if (ours[i].rfind("-- TOC entry ", 0) == 0 || ours[i].rfind("-- Dependencies:", 0) == 0 ||
          ours[i].rfind("-- Name: ", 0) == 0 || ours[i].rfind("-- Data for Name: ", 0) == 0 ||
          ours[i].rfind("-- File: ", 0) == 0 || ours[i].rfind("-- Data Pos: ", 0) == 0) {
        ++toc_lines;
        INFO("line " << i + 1);
        CHECK(ours[i] == theirs[i]);
      }
      if (ours[i] == theirs[i]) {
        ++same;
      } else if (differing.size() < 2000) {
        differing += "\nline " + std::to_string(i + 1) + ": " + ours[i] + " | " + theirs[i];
      }
    }
    INFO("lines that differ:" << differing);
    CHECK(toc_lines > 10);
    // Every line but the title's comment (where pg_restore has \restrict), "-- Started on"
    // (no zone) and the trailer (pg_restore's "-- Completed on" moves its last lines).
    CHECK(ours[4].rfind("-- dbautopsy: the script of a pg_dump ", 0) == 0);
    CHECK(ours[9].rfind(theirs[9].substr(0, 32), 0) == 0);
    CHECK(same + 5 >= ours.size());
    CHECK(theirs.size() >= ours.size());
    CHECK(theirs.size() <= ours.size() + 6);
  }
}
