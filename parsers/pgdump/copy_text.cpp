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

CopyField decode_copy_field(std::string_view raw, std::string_view null_string) {
  if (raw == null_string) {
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

std::vector<CopyField> decode_copy_row(std::string_view row, char delimiter,
                                       std::string_view null_string) {
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
      fields.push_back(decode_copy_field(row.substr(start), null_string));
      return fields;
    }
    fields.push_back(decode_copy_field(row.substr(start, pos - start), null_string));
    start = pos + 1;
  }
}

void encode_copy_field(const CopyField& field, std::string& out) {
  if (!field) {
    out += "\\N";
    return;
  }
  for (char c : *field) {
    switch (c) {
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        out += c;
    }
  }
}

std::vector<CopyField> decode_csv_record(std::string_view record, char delimiter, char quote,
                                         char escape, std::string_view null_string) {
  std::vector<CopyField> fields;
  size_t i = 0;
  const size_t n = record.size();
  for (;;) {
    std::string value;
    size_t raw_start = i;
    bool saw_quote = false;
    bool in_quote = false;
    for (; i < n; ++i) {
      char c = record[i];
      if (in_quote) {
        if (c == escape && i + 1 < n && (record[i + 1] == quote || record[i + 1] == escape)) {
          value += record[++i];
        } else if (c == quote) {
          in_quote = false;
        } else {
          value += c;
        }
      } else if (c == delimiter) {
        break;
      } else if (c == quote) {
        in_quote = saw_quote = true;
      } else {
        value += c;
      }
    }
    std::string_view raw = record.substr(raw_start, i - raw_start);
    if (!saw_quote && raw == null_string) {
      fields.emplace_back(std::nullopt);
    } else {
      fields.emplace_back(std::move(value));
    }
    if (i >= n) {
      return fields;
    }
    ++i;  // the delimiter
  }
}

}  // namespace dbautopsy::pgdump
