#include "base/error.hpp"

#include <fmt/format.h>

namespace dbautopsy {

std::string Location::describe() const {
  std::string out = file;
  if (line) {
    out += fmt::format(":{}", *line);
  }
  if (offset) {
    out += fmt::format(" ({}byte {})", offset_in_file ? "file " : "", *offset);
  }
  return out;
}

InputError::InputError(Location where, const std::string& what)
    : Error(where.describe() + ": " + what), m_where(std::move(where)), m_detail(what) {}

}  // namespace dbautopsy
