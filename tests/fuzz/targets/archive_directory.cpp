// A directory-format archive (pg_dump -Fd). The input holds the folder's files as parts
// (fuzz.hpp, split_parts): the first is toc.dat, each later one a line naming the file
// ("3456.dat", "3456.dat.gz", "blobs.toc", ...) and then its content.
#include <cctype>

#include "archive_common.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::clear_scratch();
  std::vector<std::string_view> parts = fuzz::split_parts(fuzz::as_text(data, size));
  std::filesystem::path dir = fuzz::scratch_dir() / "dump.dir";
  fuzz::scratch_file("dump.dir/toc.dat", parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    size_t eol = part.find('\n');
    std::string name(part.substr(0, eol));
    // Only plain file names: the archive reader names its files itself.
    bool plain = !name.empty() && name.size() < 64 && name != "." && name != "..";
    for (char c : name) {
      plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_');
    }
    if (plain) {
      fuzz::scratch_file(dir / name, eol == std::string_view::npos ? "" : part.substr(eol + 1));
    }
  }
  fuzz::read_archive(dir);
  return 0;
}
