// Shared by the fuzz targets (tests/fuzz/targets/*.cpp): a store that every input is read
// into and rolled back from, scratch files for readers that only take a path, and a Source
// over the input bytes. Each target defines LLVMFuzzerTestOneInput; libFuzzer drives it in
// the fuzz build (-DDBAUTOPSY_FUZZ=ON) and driver.cpp replays saved inputs in every other.
//
// What a reader may do with hostile bytes: return, or throw InputError (the one exception
// the ingest catches for an artifact and turns into a problem). Anything else escapes the
// target and is reported as a crash: another exception, a sanitizer error, a leak, a hang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "io/input.hpp"
#include "store/facts.hpp"
#include "store/store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace dbautopsy::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `read` with a FactWriter for a new artifact of `kind`, inside a transaction that is
// rolled back afterwards (the store stays small however many inputs are run). InputError
// is swallowed: it is the reader's clean way to refuse an input.
void read_into_store(std::string_view kind, const std::function<void(store::FactWriter&)>& read);

// This process's scratch folder (removed at exit), and a file written into it.
const std::filesystem::path& scratch_dir();
std::filesystem::path scratch_file(const std::filesystem::path& relative, std::string_view data);
// Empties the scratch folder (for targets that build a directory per input).
void clear_scratch();

// Splits an input into parts at each "\n@@@" line: the first part, then for each marker the
// text after it. Targets that need several files (a directory archive, a format file and a
// log) take them this way; the seeds are built in the same form (scripts/fuzz_seeds.sh).
std::vector<std::string_view> split_parts(std::string_view text);

// A Source over bytes in memory, handed out in reads of at most `step` bytes (a small step
// exercises the readers' buffer boundaries).
class BufferSource final : public io::Source {
 public:
  explicit BufferSource(std::string_view data, size_t step = 1u << 20)
      : m_data(data), m_step(step == 0 ? 1 : step) {}
  size_t read(char* dst, size_t n) override;
  uint64_t offset() const override { return m_pos; }
  std::string display_name() const override { return "fuzz-input"; }

 private:
  std::string_view m_data;
  size_t m_step;
  size_t m_pos = 0;
};

}  // namespace dbautopsy::fuzz
