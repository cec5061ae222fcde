// Bundles: a zip, tar or 7z archive of case files (compressed or not), as customers send them
// (`case.zip`, `migrations.tar.gz`, a tarred pg_dump directory archive), read as the folder it
// holds. Each member is unpacked (libarchive, read only: it never writes to disk itself) into a
// private scratch folder and read as any file of a case, its path shown as
// `<bundle>/<member path>` (`case.zip/app/migrations/0004_x.py:12`). The bundle itself is an
// artifact of kind `bundle`: its SHA-256, and what was not read from it and why.
//
// A member cannot leave the scratch folder or fill the disk: absolute names and names with a
// `..` component, links (symbolic or hard), devices and FIFOs are listed as not read; what all
// members expand to is bounded by --max-ratio and --max-decoded-mb as a compressed file is;
// more than k_max_members members, or bundles nested deeper than k_max_depth, are not read
// past the limit. A damaged bundle keeps the members read before the damage and is partial,
// its error naming the member and the byte offset in the bundle.
//
// A pg_dump tar archive (-Ft: its first member is toc.dat) is a dump, not a bundle.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/ingest.hpp"
#include "store/store.hpp"

namespace dbautopsy::cli {

inline constexpr size_t k_max_members = 100'000;
inline constexpr int k_max_depth = 3;

// What a bundle is: "zip", "tar" or "7z", and the codec it is compressed with ("none", "gzip",
// ...).
struct BundleFormat {
  std::string format;
  std::string codec;
};

// The bundle's format when the file (decompressed first, as every input) is one.
std::optional<BundleFormat> bundle_format(const std::filesystem::path& path);

// A private folder (mode 0700, under the system's temporary folder) that holds unpacked
// members while a command runs; removed with everything in it when destroyed.
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch();
  // A new empty folder inside the scratch folder (created on first use).
  std::filesystem::path next_folder();

 private:
  std::filesystem::path m_root;
  int m_count = 0;
};

// A file to read (or listed as not read) and the path it is shown and stored under.
using Target = std::pair<CaseEntry, std::string>;

// Each readable target that is a bundle is recorded as an artifact of kind `bundle` (its
// outcome appended to `bundles`) and followed by its members, in path order, unpacked under
// `scratch`; members that are bundles are expanded in turn. Other targets are kept as they
// are. `disk_of` maps each member's shown path to the file that holds it.
std::vector<Target> expand_bundles(store::Store& store, std::vector<Target> targets,
                                   Scratch& scratch, const IngestOptions& options,
                                   std::vector<ArtifactOutcome>& bundles,
                                   std::map<std::string, std::filesystem::path>& disk_of);

}  // namespace dbautopsy::cli
