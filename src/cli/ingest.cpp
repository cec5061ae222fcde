#include "cli/ingest.hpp"

#include <sys/stat.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <future>

#include "base/error.hpp"
#include "cli/kinds.hpp"
#include "io/digest.hpp"
#include "io/input.hpp"
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

std::string first_error(store::Store& store, int64_t artifact) {
  store::Statement st = store.prepare(
      "SELECT message FROM problem WHERE artifact_id = ?1 AND severity = 'error' ORDER BY id "
      "LIMIT 1");
  st.bind(1, artifact);
  std::string out = st.step() ? st.get_text(0) : std::string();
  st.reset();
  return out;
}

}  // namespace

std::vector<std::string> known_kinds() {
  std::vector<std::string> out;
  for (const auto& k : kinds()) {
    out.push_back(k.name);
  }
  return out;
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
  const Kind* kind = find_kind(out.kind);

  // Unchanged since the last ingestion: same path, size, time and content.
  if (auto stored = store::find_artifact(store, display_path)) {
    if (stored->size_bytes == fact.size_bytes && stored->mtime == fact.mtime && !directory &&
        stored->status != "failed" && out.status.empty() &&
        io::sha256_file(path) == stored->sha256) {
      out.status = "unchanged";
      out.id = stored->id;
      out.detail = "already in the store";
      return out;
    }
    store::Store::Transaction tx(store);
    store::forget_artifact(store, stored->id);
    tx.commit();
  }

  if (!out.status.empty() || kind == nullptr || !kind->read) {
    if (out.status.empty()) {
      out.status = kind ? "unsupported" : "failed";
      out.detail = kind ? kind->unsupported
                        : "not a kind of artifact dbautopsy recognises (see `dbautopsy ingest "
                          "--help` for the kinds)";
    }
    fact.status = out.status;
    fact.status_detail = out.detail;
    fact.sha256 = directory ? std::string() : io::sha256_file(path);
    if (!directory) {
      try {
        fact.codec = std::string(io::codec_name(io::read_head(path, 8).codec));
      } catch (const Error&) {
      }
    }
    out.codec = fact.codec;
    store::Store::Transaction tx(store);
    out.id = store::add_artifact(store, fact);
    tx.commit();
    return out;
  }

  // The hash is computed on the second core while the file is read.
  std::future<std::string> digest =
      std::async(std::launch::async, [path] { return io::sha256_file(path); });
  store::Store::Transaction tx(store);
  try {
    io::InputStream in(path);
    fact.codec = std::string(io::codec_name(in.codec()));
    out.codec = fact.codec;
    out.id = store::add_artifact(store, fact);
    store::FactWriter writer(store, out.id);
    ReadSummary summary;
    try {
      summary = kind->read(in, writer, options);
    } catch (const InputError& e) {
      // A reader that cannot go on: what it wrote stays, the artifact is partial.
      store::ProblemFact p;
      p.severity = "error";
      p.code = "unreadable";
      p.message = e.detail();
      p.line = e.where().line ? std::optional<int64_t>(static_cast<int64_t>(*e.where().line))
                              : std::nullopt;
      p.byte_offset = e.where().offset
                          ? std::optional<int64_t>(static_cast<int64_t>(*e.where().offset))
                          : std::nullopt;
      p.in_file = e.where().offset_in_file;
      writer.add(p);
    }
    if (writer.errors() == 0) {
      out.status = "ok";
      out.detail = summary.detail;
    } else {
      out.status = summary.nothing ? "failed" : "partial";
      out.detail = first_error(store, out.id);
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
