#include "cli/ingest.hpp"

#include <sys/stat.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <chrono>
#include <future>

#include "base/error.hpp"
#include "io/digest.hpp"
#include "io/input.hpp"
#include "pgdump/pgdump_sql.hpp"
#include "store/facts.hpp"

namespace dbautopsy::cli {

namespace fs = std::filesystem;

namespace {

std::string file_mtime(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:09d}Z", fmt::gmtime(st.st_mtim.tv_sec),
                     st.st_mtim.tv_nsec);
}

std::string unsupported_reason(const std::string& kind) {
  if (kind == "pgdump-custom") {
    return "a pg_dump custom-format archive (-Fc): not read yet; `pg_restore -f dump.sql FILE` "
           "turns it into a plain dump without a server";
  }
  if (kind == "pgdump-tar") {
    return "a pg_dump tar archive (-Ft): not read yet; `pg_restore -f dump.sql FILE` turns it "
           "into a plain dump without a server";
  }
  if (kind == "pgdump-dir") {
    return "a pg_dump directory archive (-Fd): not read yet; `pg_restore -f dump.sql DIR` turns "
           "it into a plain dump without a server";
  }
  return "not a kind of artifact dbautopsy recognises";
}

}  // namespace

const std::vector<std::string>& known_kinds() {
  static const std::vector<std::string> k_kinds = {"pgdump-sql", "pgdump-custom", "pgdump-tar",
                                                   "pgdump-dir"};
  return k_kinds;
}

std::string detect_kind(const fs::path& path) {
  if (fs::is_directory(path)) {
    return fs::exists(path / "toc.dat") ? "pgdump-dir" : "unknown";
  }
  io::Head head = io::read_head(path);
  if (pgdump::is_pgdump_custom(head.bytes)) {
    return "pgdump-custom";
  }
  if (pgdump::is_pgdump_tar(head.bytes)) {
    return "pgdump-tar";
  }
  if (pgdump::sniff_pgdump_sql(head.bytes) > 0) {
    return "pgdump-sql";
  }
  return "unknown";
}

ArtifactOutcome ingest_path(store::Store& store, const fs::path& path,
                            const std::string& display_path, const IngestOptions& options) {
  ArtifactOutcome out;
  out.path = display_path;
  std::error_code ec;
  bool directory = fs::is_directory(path, ec);
  out.size = directory ? 0 : fs::file_size(path, ec);

  store::ArtifactFact fact;
  fact.path = display_path;
  fact.size_bytes = static_cast<int64_t>(out.size);
  fact.mtime = file_mtime(path);

  try {
    out.kind = options.forced_kind ? *options.forced_kind : detect_kind(path);
  } catch (const InputError& e) {
    out.kind = "unknown";
    out.status = "failed";
    out.detail = e.detail();
  }
  fact.kind = out.kind;

  // Unchanged since the last ingestion: same path, size, time and content.
  if (auto stored = store::find_artifact(store, display_path)) {
    if (stored->size_bytes == fact.size_bytes && stored->mtime == fact.mtime && !directory &&
        stored->status != "failed" && out.status.empty()) {
      if (io::sha256_file(path) == stored->sha256) {
        out.status = "unchanged";
        out.id = stored->id;
        out.detail = "already in the store";
        return out;
      }
    }
    store::Store::Transaction tx(store);
    store::forget_artifact(store, stored->id);
    tx.commit();
  }

  if (!out.status.empty() || out.kind == "unknown" || out.kind != "pgdump-sql") {
    if (out.status.empty()) {
      out.status = out.kind == "unknown" ? "failed" : "unsupported";
      out.detail = unsupported_reason(out.kind);
    }
    fact.status = out.status;
    fact.status_detail = out.detail;
    fact.sha256 = directory ? std::string() : io::sha256_file(path);
    try {
      fact.codec = std::string(io::codec_name(io::read_head(path, 8).codec));
    } catch (const Error&) {
    }
    out.codec = fact.codec;
    store::Store::Transaction tx(store);
    out.id = store::add_artifact(store, fact);
    tx.commit();
    return out;
  }

  std::future<std::string> digest =
      std::async(std::launch::async, [path] { return io::sha256_file(path); });
  store::Store::Transaction tx(store);
  try {
    io::InputStream in(path);
    fact.codec = std::string(io::codec_name(in.codec()));
    out.codec = fact.codec;
    out.id = store::add_artifact(store, fact);
    store::FactWriter writer(store, out.id);
    pgdump::PgDumpOptions pg;
    pg.max_statement_bytes = options.max_statement_bytes;
    pgdump::PgDumpSummary summary = pgdump::read_pgdump_sql(in, writer, pg);
    if (writer.errors() == 0) {
      out.status = "ok";
    } else if (summary.statements == 0 && summary.copy_rows == 0) {
      out.status = "failed";
    } else {
      out.status = "partial";
    }
    out.detail =
        fmt::format("{} statements, {} COPY blocks ({} rows), {} INSERT rows", summary.statements,
                    summary.copy_blocks, summary.copy_rows, summary.insert_rows);
    if (out.status != "ok") {
      store::Statement first = store.prepare(
          "SELECT message FROM problem WHERE artifact_id = ?1 AND severity = 'error' ORDER BY id "
          "LIMIT 1");
      first.bind(1, out.id);
      if (first.step()) {
        out.detail = first.get_text(0);
      }
      first.reset();
    }
    store::set_artifact_status(store, out.id, out.status, out.detail);
  } catch (const InputError& e) {
    out.status = "failed";
    out.detail = e.detail();
    if (out.id == 0) {
      fact.status = out.status;
      fact.status_detail = out.detail;
      out.id = store::add_artifact(store, fact);
    } else {
      store::set_artifact_status(store, out.id, out.status, out.detail);
    }
  }
  store::set_artifact_sha256(store, out.id, digest.get());
  tx.commit();
  return out;
}

}  // namespace dbautopsy::cli
