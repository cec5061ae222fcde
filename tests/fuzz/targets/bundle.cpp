// A bundle of case files (zip, tar or 7z, compressed or not): recognised, unpacked member by
// member into a scratch folder (names, types, sizes and data as the bytes say) and listed.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "cli/bundle.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dbautopsy;
  static store::Store store = store::Store::open_memory();
  fuzz::clear_scratch();
  std::filesystem::path path = fuzz::scratch_file("case.bin", fuzz::as_text(data, size));
  std::vector<std::pair<cli::CaseEntry, std::string>> targets;
  targets.emplace_back(cli::CaseEntry{path, ""}, "case.bin");
  std::vector<cli::ArtifactOutcome> bundles;
  std::map<std::string, std::filesystem::path> disk_of;
  try {
    cli::Scratch scratch;
    cli::expand_bundles(store, std::move(targets), scratch, cli::IngestOptions{}, bundles, disk_of);
  } catch (const InputError&) {
  }
  store.exec("DELETE FROM problem; DELETE FROM artifact");
  return 0;
}
