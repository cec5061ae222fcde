// The kinds of artifact dbautopsy knows, how each is recognised from its content, and which
// parser reads it. Recognition scores the decompressed first 64 KiB (and, for formats
// Django names by convention, the path) against every kind; the best score wins. File
// names alone never decide: a gzip named .txt or a dump named .csv are recognised.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cli/ingest.hpp"
#include "io/input.hpp"
#include "store/facts.hpp"

namespace dbautopsy::cli {

struct ReadSummary {
  std::string detail;    // "412 statements, 8 COPY blocks (1,204 rows)"
  bool nothing = false;  // nothing could be read at all
};

struct Kind {
  std::string name;         // pgdump-sql, django-migrations-csv, ...
  std::string description;  // for --help and reports
  // 0 (not this kind) to 100 (certainly).
  std::function<int(std::string_view head, const std::filesystem::path& path)> sniff;
  // Reads the artifact into facts; empty for kinds recognised but not read yet.
  std::function<ReadSummary(io::InputStream& in, store::FactWriter& out,
                            const IngestOptions& options)>
      read;
  std::string unsupported;  // why it is not read, when `read` is empty
  // For kinds read from the path rather than a byte stream (pg_dump archives: a custom or
  // tar file, compressed or not, or a directory archive's folder); used instead of `read`.
  std::function<ReadSummary(const std::filesystem::path& path, store::FactWriter& out,
                            const IngestOptions& options)>
      read_path;
};

const std::vector<Kind>& kinds();
const Kind* find_kind(const std::string& name);

// The best-scoring kind for a file ("unknown" when none scores), or "pgdump-dir" for a
// pg_dump directory archive.
std::string detect_kind(const std::filesystem::path& path);
// The same with the user log formats of the options (--log-format): a file that follows one
// of them is app-log-user.
std::string detect_kind(const std::filesystem::path& path, const IngestOptions& options);

// The kinds and what each is, for --help.
std::string kinds_help();

// Why a file is of no known kind, for the report: empty, binary (and where), or text of
// another sort (with its first line).
std::string unknown_reason(const std::filesystem::path& path);

}  // namespace dbautopsy::cli
