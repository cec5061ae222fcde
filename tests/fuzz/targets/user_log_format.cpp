// A user log-format file (--log-format, parsers/logs/app_format.cpp) and a log read with it.
// The input's first part (fuzz.hpp, split_parts) is the format file, the second the log.
#include "../fuzz.hpp"
#include "base/error.hpp"
#include "logs/app_format.hpp"
#include "logs/app_log.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string_view> parts = fuzz::split_parts(fuzz::as_text(data, size));
  std::filesystem::path file = fuzz::scratch_file("format.json", parts[0]);
  std::vector<logs::UserFormat> formats;
  try {
    formats = logs::load_format_file(file, "format.json");
  } catch (const InputError&) {
    return 0;  // refused with a message naming the file: what a bad format file should get
  }
  std::string_view log = parts.size() > 1 ? parts[1] : std::string_view();
  (void)logs::sniff_user_log(log.substr(0, 64 * 1024), formats);
  fuzz::BufferSource in(log, 4093);
  fuzz::read_into_store("app-user",
                        [&](store::FactWriter& out) { logs::read_user_log(in, out, formats); });
  for (const auto& f : formats) {
    if (f.json) {
      fuzz::BufferSource again(log, 4093);
      fuzz::read_into_store("app-jsonl",
                            [&](store::FactWriter& out) { logs::read_json_lines(again, out, &f); });
    }
  }
  return 0;
}
