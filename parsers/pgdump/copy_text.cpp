#include "pgdump/copy_text.hpp"

namespace dbautopsy::pgdump {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

CopyField decode_copy_field(std::string_view raw) {
  if (raw == "\\N") {
    return std::nullopt;
  }
  if (raw.find('\\') == std::string_view::npos) {
    return std::string(raw);
  }
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\' || i + 1 >= raw.size()) {
      out += c;
      continue;
    }
    char e = raw[++i];
    switch (e) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x': {
        int v = 0;
        int digits = 0;
        while (digits < 2 && i + 1 < raw.size() && hex_value(raw[i + 1]) >= 0) {
          v = v * 16 + hex_value(raw[++i]);
          ++digits;
        }
        if (digits == 0) {
          out += 'x';  // "\x" without digits is a plain x, as the server reads it
        } else {
          out += static_cast<char>(v);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0';
          for (int digits = 1;
               digits < 3 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7';
               ++digits) {
            v = v * 8 + (raw[++i] - '0');
          }
          out += static_cast<char>(v & 0xFF);
        } else {
          out += e;
        }
    }
  }
  return out;
}

std::vector<CopyField> decode_copy_row(std::string_view row, char delimiter) {
  std::vector<CopyField> fields;
  size_t start = 0;
  for (;;) {
    size_t pos = row.find(delimiter, start);
    // A delimiter preceded by a backslash is data ("\<tab>" is a tab in the field).
    while (pos != std::string_view::npos) {
      size_t slashes = 0;
      for (size_t k = pos; k > start && row[k - 1] == '\\'; --k) {
        ++slashes;
      }
      if (slashes % 2 == 0) {
        break;
      }
      pos = row.find(delimiter, pos + 1);
    }
    if (pos == std::string_view::npos) {
      fields.push_back(decode_copy_field(row.substr(start)));
      return fields;
    }
    fields.push_back(decode_copy_field(row.substr(start, pos - start)));
    start = pos + 1;
  }
}

}  // namespace dbautopsy::pgdump
