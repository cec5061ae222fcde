#include "base/json_row.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace dbautopsy::json_row {
namespace {

template <typename Values>
std::string encode_slow(const Values& values) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& v : values) {
    arr.push_back(v ? nlohmann::json(std::string(*v)) : nlohmann::json());
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

template <typename Values>
std::string encode_any(const Values& values) {
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

}  // namespace

std::string encode(const std::vector<Value>& values) {
  return encode_any(values);
}

std::string encode(std::span<const View> values) {
  return encode_any(values);
}

bool decode(std::string_view text, std::vector<Value>& out) {
  out.clear();
  std::string arena;
  std::vector<Cell> cells;
  if (!decode_into(text, arena, cells)) {
    return false;
  }
  out.reserve(cells.size());
  for (const Cell& c : cells) {
    out.push_back(c.null ? Value() : Value(arena.substr(c.at, c.size)));
  }
  return true;
}

bool decode_into(std::string_view text, std::string& arena, std::vector<Cell>& cells) {
  const size_t arena_before = arena.size();
  const size_t cells_before = cells.size();
  // Text the fast path is not sure of: nlohmann::json reads it, and its values are appended.
  auto slow = [&] {
    arena.resize(arena_before);
    cells.resize(cells_before);
    std::vector<Value> values;
    if (!decode_slow(text, values)) {
      return false;
    }
    for (const Value& v : values) {
      Cell c;
      if (v) {
        c = Cell{arena.size(), static_cast<uint32_t>(v->size()), false};
        arena += *v;
      }
      cells.push_back(c);
    }
    return true;
  };
  size_t i = 0;
  size_t n = text.size();
  auto skip = [&] {
    while (i < n && is_space(text[i])) {
      ++i;
    }
  };
  skip();
  if (i == n || text[i] != '[') {
    return slow();
  }
  ++i;
  skip();
  if (i < n && text[i] == ']') {
    ++i;
    skip();
    return i == n ? true : slow();
  }
  while (true) {
    skip();
    if (i < n && text[i] == '"') {
      ++i;
      const size_t at = arena.size();
      while (true) {
        size_t j = i;
        while (j < n && text[j] != '"' && text[j] != '\\' &&
               static_cast<unsigned char>(text[j]) >= 0x20 &&
               static_cast<unsigned char>(text[j]) < 0x80) {
          ++j;
        }
        arena.append(text.data() + i, j - i);
        i = j;
        if (i == n || static_cast<unsigned char>(text[i]) < 0x20 ||
            static_cast<unsigned char>(text[i]) >= 0x80) {
          return slow();  // UTF-8 is validated by nlohmann::json
        }
        if (text[i] == '"') {
          ++i;
          break;
        }
        if (i + 1 == n) {
          return slow();
        }
        switch (text[i + 1]) {
          case '"':
            arena += '"';
            break;
          case '\\':
            arena += '\\';
            break;
          case '/':
            arena += '/';
            break;
          case 'b':
            arena += '\b';
            break;
          case 'f':
            arena += '\f';
            break;
          case 'n':
            arena += '\n';
            break;
          case 'r':
            arena += '\r';
            break;
          case 't':
            arena += '\t';
            break;
          default:
            return slow();  // \u and anything unexpected
        }
        i += 2;
      }
      cells.push_back(Cell{at, static_cast<uint32_t>(arena.size() - at), false});
    } else if (text.substr(i, 4) == "null") {
      i += 4;
      cells.push_back(Cell{});
    } else {
      return slow();  // numbers, booleans, objects, broken text
    }
    skip();
    if (i < n && text[i] == ',') {
      ++i;
      continue;
    }
    if (i < n && text[i] == ']') {
      ++i;
      skip();
      return i == n ? true : slow();
    }
    return slow();
  }
}

}  // namespace dbautopsy::json_row
