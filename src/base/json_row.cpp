#include "base/json_row.hpp"

#include <nlohmann/json.hpp>

namespace dbautopsy::json_row {
namespace {

std::string encode_slow(const std::vector<Value>& values) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& v : values) {
    arr.push_back(v ? nlohmann::json(*v) : nlohmann::json());
  }
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool decode_slow(std::string_view text, std::vector<Value>& out) {
  out.clear();
  auto arr = nlohmann::json::parse(text, nullptr, false);
  if (!arr.is_array()) {
    return false;
  }
  for (const auto& v : arr) {
    out.push_back(v.is_string() ? Value(v.get<std::string>()) : Value());
  }
  return true;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::string encode(const std::vector<Value>& values) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 + values.size() * 8);
  out += '[';
  bool first = true;
  for (const auto& v : values) {
    if (!first) {
      out += ',';
    }
    first = false;
    if (!v) {
      out += "null";
      continue;
    }
    out += '"';
    for (char c : *v) {
      auto u = static_cast<unsigned char>(c);
      if (u >= 0x80) {
        return encode_slow(values);  // UTF-8 (and its invalid forms): nlohmann's own rules
      }
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
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
        default:
          if (u < 0x20) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 15];
          } else {
            out += c;
          }
      }
    }
    out += '"';
  }
  out += ']';
  return out;
}

bool decode(std::string_view text, std::vector<Value>& out) {
  out.clear();
  size_t i = 0;
  size_t n = text.size();
  auto skip = [&] {
    while (i < n && is_space(text[i])) {
      ++i;
    }
  };
  skip();
  if (i == n || text[i] != '[') {
    return decode_slow(text, out);
  }
  ++i;
  skip();
  if (i < n && text[i] == ']') {
    ++i;
    skip();
    return i == n ? true : decode_slow(text, out);
  }
  while (true) {
    skip();
    if (i < n && text[i] == '"') {
      ++i;
      std::string s;
      while (true) {
        size_t j = i;
        while (j < n && text[j] != '"' && text[j] != '\\' &&
               static_cast<unsigned char>(text[j]) >= 0x20 &&
               static_cast<unsigned char>(text[j]) < 0x80) {
          ++j;
        }
        s.append(text.data() + i, j - i);
        i = j;
        if (i == n || static_cast<unsigned char>(text[i]) < 0x20 ||
            static_cast<unsigned char>(text[i]) >= 0x80) {
          return decode_slow(text, out);  // UTF-8 is validated by nlohmann::json
        }
        if (text[i] == '"') {
          ++i;
          break;
        }
        if (i + 1 == n) {
          return decode_slow(text, out);
        }
        switch (text[i + 1]) {
          case '"':
            s += '"';
            break;
          case '\\':
            s += '\\';
            break;
          case '/':
            s += '/';
            break;
          case 'b':
            s += '\b';
            break;
          case 'f':
            s += '\f';
            break;
          case 'n':
            s += '\n';
            break;
          case 'r':
            s += '\r';
            break;
          case 't':
            s += '\t';
            break;
          default:
            return decode_slow(text, out);  // \u and anything unexpected
        }
        i += 2;
      }
      out.emplace_back(std::move(s));
    } else if (text.substr(i, 4) == "null") {
      i += 4;
      out.emplace_back();
    } else {
      return decode_slow(text, out);  // numbers, booleans, objects, broken text
    }
    skip();
    if (i < n && text[i] == ',') {
      ++i;
      continue;
    }
    if (i < n && text[i] == ']') {
      ++i;
      skip();
      return i == n ? true : decode_slow(text, out);
    }
    return decode_slow(text, out);
  }
}

}  // namespace dbautopsy::json_row
