#include "fuzz.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "base/error.hpp"

namespace dbautopsy::fuzz {

namespace fs = std::filesystem;

namespace {

store::Store& the_store() {
  static store::Store s = store::Store::open_memory();
  return s;
}

void remove_scratch() {
  std::error_code ec;
  fs::remove_all(scratch_dir(), ec);
}

}  // namespace

void read_into_store(std::string_view kind, const std::function<void(store::FactWriter&)>& read) {
  store::Store& s = the_store();
  store::Store::Transaction tx(s);
  store::ArtifactFact a;
  a.path = "fuzz-input";
  a.kind = std::string(kind);
  int64_t id = store::add_artifact(s, a);
  try {
    store::FactWriter writer(s, id);
    read(writer);
  } catch (const InputError&) {
    // A clean refusal: what a hostile input may cause.
  }
}

const fs::path& scratch_dir() {
  static const fs::path dir = [] {
    fs::path p = fs::temp_directory_path() / ("dbautopsy-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(p);
    std::atexit(remove_scratch);
    return p;
  }();
  return dir;
}

fs::path scratch_file(const fs::path& relative, std::string_view data) {
  fs::path p = scratch_dir() / relative;
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  return p;
}

void clear_scratch() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(scratch_dir(), ec)) {
    fs::remove_all(entry.path(), ec);
  }
}

std::vector<std::string_view> split_parts(std::string_view text) {
  static constexpr std::string_view marker = "\n@@@";
  std::vector<std::string_view> parts;
  for (;;) {
    size_t at = text.find(marker);
    if (at == std::string_view::npos) {
      parts.push_back(text);
      return parts;
    }
    parts.push_back(text.substr(0, at));
    text.remove_prefix(at + marker.size());
  }
}

size_t BufferSource::read(char* dst, size_t n) {
  size_t k = std::min({n, m_step, m_data.size() - m_pos});
  if (k > 0) {
    std::memcpy(dst, m_data.data() + m_pos, k);
  }
  m_pos += k;
  return k;
}

}  // namespace dbautopsy::fuzz
