// The header of a rule file (--rules-dir, rules/engine/registry.cpp): `-- key: value` lines
// above one SELECT. A malformed file is refused with an Error naming what is wrong.
#include "../fuzz.hpp"
#include "base/error.hpp"
#include "rules/engine/registry.hpp"

using namespace dbautopsy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    rules::Rule rule = rules::parse_rule(std::string(fuzz::as_text(data, size)), "fuzz.sql");
    (void)rule;
  } catch (const Error&) {
  }
  return 0;
}
