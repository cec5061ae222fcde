// The Python values a migration file writes -- what django/db/migrations/serializer.py
// prints for defaults, choices and lookups (literals, dates, Decimal, uuid, gettext_lazy
// strings, lists and dicts) -- read back from the parsed source as far as they can be known
// without running it, and written out as json.dumps() would (JSONField defaults).

#include "django/derivation.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

// --- reading resolved expressions -------------------------------------------------------

// A copy of `n` in which every name and attribute chain is replaced by one name node
// holding the dotted path the module's imports give it ("models.CASCADE" ->
// "django.db.models.CASCADE"). Everything downstream works on such resolved trees.
Node resolve_names(const Node& n, const py::Module& m) {
  std::string dotted = n.dotted();
  if (!dotted.empty()) {
    Node r;
    r.kind = NodeKind::name;
    r.line = n.line;
    r.text = m.resolve(dotted);
    r.keyword = n.keyword;
    r.star = n.star;
    return r;
  }
  Node r = n;
  for (auto& c : r.children) {
    c = resolve_names(c, m);
  }
  return r;
}

bool is_gettext(std::string_view path) {
  static constexpr std::array<std::string_view, 8> k = {
      "gettext", "gettext_lazy",  "ugettext",     "ugettext_lazy",
      "_",       "pgettext_lazy", "gettext_noop", "ugettext_noop"};
  std::string last = last_component(path);
  return std::find(k.begin(), k.end(), last) != k.end();
}

std::optional<std::string> string_of(const Node* n) {
  if (!n) {
    return std::nullopt;
  }
  if (n->is_string()) {
    return n->text;
  }
  if (n->kind == NodeKind::binary && n->text == "+" && n->children.size() == 2) {
    auto a = string_of(&n->children[0]);
    auto b = string_of(&n->children[1]);
    if (a && b) {
      return *a + *b;
    }
  }
  if (n->kind == NodeKind::call && n->callee() && is_gettext(n->callee()->text) && n->argument(0)) {
    return string_of(n->argument(0));
  }
  return std::nullopt;
}

std::optional<bool> bool_of(const Node* n) {
  if (n && n->kind == NodeKind::boolean) {
    return n->text == "True";
  }
  if (n && n->kind == NodeKind::number) {
    return n->text != "0";
  }
  return std::nullopt;
}

// An integer or decimal number as written, with a leading '-' for unary minus.
std::optional<std::string> number_of(const Node* n) {
  if (!n) {
    return std::nullopt;
  }
  if (n->kind == NodeKind::number) {
    std::string t;
    for (char c : n->text) {
      if (c != '_') {
        t += c;
      }
    }
    return t;
  }
  if (n->kind == NodeKind::unary && (n->text == "-" || n->text == "+") && n->children.size() == 1) {
    auto inner = number_of(&n->children[0]);
    if (inner) {
      return n->text == "-" ? "-" + *inner : *inner;
    }
  }
  return std::nullopt;
}

std::vector<Node> elements_of(const Node* n) {
  if (!n) {
    return {};
  }
  if (n->kind == NodeKind::list || n->kind == NodeKind::tuple || n->kind == NodeKind::set) {
    return n->children;
  }
  if (n->kind == NodeKind::binary && n->text == "+" && n->children.size() == 2) {
    auto a = elements_of(&n->children[0]);
    auto b = elements_of(&n->children[1]);
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  return {};
}

bool is_sequence(const Node* n) {
  return n && (n->kind == NodeKind::list || n->kind == NodeKind::tuple ||
               n->kind == NodeKind::set || (n->kind == NodeKind::binary && n->text == "+"));
}

std::vector<std::string> strings_of(const Node* n) {
  std::vector<std::string> out;
  for (const auto& e : elements_of(n)) {
    if (auto s = string_of(&e)) {
      out.push_back(*s);
    }
  }
  return out;
}

const Node* dict_get(const Node* dict, std::string_view key) {
  if (!dict || dict->kind != NodeKind::dict) {
    return nullptr;
  }
  for (const auto& e : dict->children) {
    if (e.star == 0 && e.children.size() == 2 && e.children[0].is_string() &&
        e.children[0].text == key) {
      return &e.children[1];
    }
  }
  return nullptr;
}

std::string callee_path(const Node& n) {
  return n.kind == NodeKind::call && n.callee() ? n.callee()->text : std::string();
}

// normalize_together(): ('a', 'b') and [('a', 'b')] both mean one group.
std::vector<std::vector<std::string>> together_of(const Node* n) {
  std::vector<std::vector<std::string>> out;
  if (!n || n->kind == NodeKind::none) {
    return out;
  }
  auto elems = elements_of(n);
  if (elems.empty()) {
    return out;
  }
  if (string_of(&elems[0])) {
    out.push_back(strings_of(n));
    return out;
  }
  for (const auto& e : elems) {
    out.push_back(strings_of(&e));
  }
  return out;
}

PyValue value_unknown(const Node& n) {
  PyValue v;
  v.t = PyValue::T::unknown;
  v.text = py::to_source(n);
  return v;
}

int64_t int_arg(const Node* n, int64_t fallback) {
  auto t = number_of(n);
  if (!t) {
    return fallback;
  }
  int64_t v = fallback;
  std::from_chars(t->data() + (t->front() == '-' ? 1 : 0), t->data() + t->size(), v);
  return t->front() == '-' ? -v : v;
}

std::string two(int64_t v, int width) {
  std::string s = std::to_string(v);
  while (static_cast<int>(s.size()) < width) {
    s = "0" + s;
  }
  return s;
}

// The Python value of a resolved expression, as far as it can be known without running it.
PyValue python_value(const Node& n) {
  PyValue v;
  switch (n.kind) {
    case NodeKind::none:
      v.t = PyValue::T::none;
      return v;
    case NodeKind::boolean:
      v.t = PyValue::T::boolean;
      v.text = n.text;
      return v;
    case NodeKind::number:
    case NodeKind::unary: {
      auto num = number_of(&n);
      if (!num) {
        return value_unknown(n);
      }
      bool is_float = num->find_first_of(".eE") != std::string::npos && !starts_with(*num, "0x") &&
                      !starts_with(*num, "0X");
      if (num->find_first_of("jJ") != std::string::npos) {
        return value_unknown(n);
      }
      v.t = is_float ? PyValue::T::floating : PyValue::T::integer;
      v.text = *num;
      if (!is_float) {
        // 0x.., 0o.., 0b..: their decimal value.
        std::string_view digits(*num);
        bool neg = !digits.empty() && digits[0] == '-';
        if (neg) {
          digits.remove_prefix(1);
        }
        int base = 10;
        if (digits.size() > 2 && digits[0] == '0') {
          char p = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[1])));
          base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 10;
          if (base != 10) {
            digits.remove_prefix(2);
          }
        }
        if (base != 10 || (digits.size() > 1 && digits[0] == '0')) {
          int64_t value = 0;
          std::from_chars(digits.data(), digits.data() + digits.size(), value,
                          base == 10 ? 8 : base);  // a Python 2 octal literal
          v.text = (neg ? "-" : "") + std::to_string(value);
        }
        if (!v.text.empty() && v.text.back() == 'L') {
          v.text.pop_back();  // Python 2 long
        }
      }
      return v;
    }
    case NodeKind::string:
      if (n.formatted) {
        return value_unknown(n);
      }
      v.t = PyValue::T::string;
      v.text = n.text;
      return v;
    case NodeKind::bytes:
      v.t = PyValue::T::bytes;
      v.text = n.text;
      return v;
    case NodeKind::list:
    case NodeKind::tuple:
    case NodeKind::set:
      v.t = PyValue::T::list;
      for (const auto& c : n.children) {
        if (c.star) {
          return value_unknown(n);
        }
        v.items.push_back(python_value(c));
      }
      return v;
    case NodeKind::dict:
      v.t = PyValue::T::dict;
      for (const auto& e : n.children) {
        if (e.star || e.children.size() != 2) {
          return value_unknown(n);
        }
        v.entries.push_back(
            PyValue::Entry{python_value(e.children[0]), python_value(e.children[1])});
      }
      return v;
    case NodeKind::name: {
      // A callable used as a default is called when the migration runs.
      static const std::array<std::pair<std::string_view, std::string_view>, 10> k_runtime = {{
          {"django.utils.timezone.now", "now"},
          {"datetime.datetime.now", "naive-now"},
          {"datetime.datetime.utcnow", "naive-now"},
          {"datetime.datetime.today", "naive-now"},
          {"datetime.date.today", "today"},
          {"uuid.uuid4", "uuid"},
          {"uuid.uuid1", "uuid"},
          {"django.utils.timezone.localdate", "today"},
          {"django.utils.timezone.localtime", "now"},
          {"time.time", "epoch"},
      }};
      for (const auto& [path, what] : k_runtime) {
        if (n.text == path) {
          v.t = PyValue::T::runtime;
          v.text = std::string(what);
          return v;
        }
      }
      std::string callable = n.text;
      if (starts_with(callable, "builtins.")) {
        callable = callable.substr(9);
      }
      if (callable == "dict") {
        v.t = PyValue::T::dict;
        return v;
      }
      if (callable == "list" || callable == "tuple" || callable == "set") {
        v.t = PyValue::T::list;
        return v;
      }
      if (callable == "str") {
        v.t = PyValue::T::string;
        return v;
      }
      if (callable == "int") {
        v.t = PyValue::T::integer;
        v.text = "0";
        return v;
      }
      if (callable == "bool") {
        v.t = PyValue::T::boolean;
        v.text = "False";
        return v;
      }
      return value_unknown(n);
    }
    case NodeKind::call: {
      std::string path = callee_path(n);
      if (is_gettext(path) && n.argument(0)) {
        return python_value(*n.argument(0));
      }
      if (path == "decimal.Decimal") {
        const Node* a = n.argument(0);
        auto s = a ? (a->is_string() ? std::optional<std::string>(a->text) : number_of(a))
                   : std::optional<std::string>("0");
        if (!s) {
          return value_unknown(n);
        }
        v.t = PyValue::T::decimal;
        v.text = std::string(text::trim(*s));
        return v;
      }
      if (path == "datetime.date" || path == "datetime.datetime") {
        int64_t y = int_arg(n.argument(0), 1), mo = int_arg(n.argument(1), 1),
                d = int_arg(n.argument(2), 1);
        v.text = two(y, 4) + "-" + two(mo) + "-" + two(d);
        if (path == "datetime.date") {
          v.t = PyValue::T::date;
          return v;
        }
        int64_t h = int_arg(n.argument(3), 0), mi = int_arg(n.argument(4), 0),
                s = int_arg(n.argument(5), 0), us = int_arg(n.argument(6), 0);
        v.t = PyValue::T::datetime;
        v.text += "T" + two(h) + ":" + two(mi) + ":" + two(s);
        if (us) {
          v.text += "." + two(us, 6);
        }
        if (const Node* tz = n.keyword_argument("tzinfo")) {
          std::string tzp = tz->kind == NodeKind::name ? tz->text : callee_path(*tz);
          if (ends_with(tzp, "utc") || ends_with(tzp, "UTC")) {
            v.aware = true;
            v.text += "+00:00";
          } else {
            return value_unknown(n);
          }
        }
        return v;
      }
      if (path == "datetime.time") {
        v.t = PyValue::T::time;
        v.text = two(int_arg(n.argument(0), 0)) + ":" + two(int_arg(n.argument(1), 0)) + ":" +
                 two(int_arg(n.argument(2), 0));
        return v;
      }
      if (path == "datetime.timedelta") {
        static const std::array<std::pair<std::string_view, double>, 7> k_units = {
            {{"days", 86400},
             {"seconds", 1},
             {"microseconds", 1e-6},
             {"milliseconds", 1e-3},
             {"minutes", 60},
             {"hours", 3600},
             {"weeks", 604800}}};
        double total = 0;
        for (size_t i = 0; i < k_units.size(); ++i) {
          const Node* a = n.keyword_argument(k_units[i].first);
          if (!a) {
            a = n.argument(i);
          }
          if (a) {
            auto t = number_of(a);
            if (!t) {
              return value_unknown(n);
            }
            total += std::strtod(t->c_str(), nullptr) * k_units[i].second;
          }
        }
        v.t = PyValue::T::timedelta;
        int64_t micro = static_cast<int64_t>(std::llround(total * 1e6));
        int64_t days =
            micro >= 0 ? micro / 86400000000LL : -((-micro + 86400000000LL - 1) / 86400000000LL);
        int64_t rest = micro - days * 86400000000LL;
        v.text = std::to_string(days) + " days " + std::to_string(rest / 1000000) + "." +
                 two(rest % 1000000, 6) + " seconds";
        return v;
      }
      if (path == "uuid.UUID" && n.argument(0) && n.argument(0)->is_string()) {
        v.t = PyValue::T::uuid;
        v.text = n.argument(0)->text;
        return v;
      }
      return value_unknown(n);
    }
    default:
      return value_unknown(n);
  }
}

bool value_known(const PyValue& v) {
  if (v.t == PyValue::T::unknown) {
    return false;
  }
  for (const auto& i : v.items) {
    if (!value_known(i)) {
      return false;
    }
  }
  for (const auto& [k, x] : v.entries) {
    if (!value_known(k) || !value_known(x)) {
      return false;
    }
  }
  return true;
}

// Python's repr() of a float ("short" repr: the shortest digits that round-trip, fixed
// notation for exponents in [-4, 16)).
std::string float_repr(double d) {
  if (std::isnan(d)) {
    return "nan";
  }
  if (std::isinf(d)) {
    return d < 0 ? "-inf" : "inf";
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  bool neg = !sci.empty() && sci[0] == '-';
  if (neg) {
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : mant) {
    if (c != '.') {
      digits += c;
    }
  }
  std::string out;
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      std::string ip = digits.substr(0, std::min<size_t>(digits.size(), exp + 1));
      while (static_cast<int>(ip.size()) < exp + 1) {
        ip += '0';
      }
      std::string fp = static_cast<int>(digits.size()) > exp + 1 ? digits.substr(exp + 1) : "0";
      out = ip + "." + fp;
    } else {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) {
      out += "." + digits.substr(1);
    }
    out += (exp < 0 ? "e-" : "e+") + two(std::abs(exp));
  }
  return (neg ? "-" : "") + out;
}

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x80) {
      // json.dumps(ensure_ascii=True): every non-ASCII character as \uXXXX.
      uint32_t cp = c;
      int extra = 0;
      if (c >= 0xF0) {
        cp = c & 0x07;
        extra = 3;
      } else if (c >= 0xE0) {
        cp = c & 0x0F;
        extra = 2;
      } else if (c >= 0xC0) {
        cp = c & 0x1F;
        extra = 1;
      }
      for (int k = 0; k < extra && i + 1 < s.size(); ++k) {
        cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F);
      }
      auto hex4 = [&](uint32_t u) {
        static constexpr char k_hex[] = "0123456789abcdef";
        out += "\\u";
        for (int sh = 12; sh >= 0; sh -= 4) {
          out += k_hex[(u >> sh) & 15];
        }
      };
      if (cp >= 0x10000) {
        cp -= 0x10000;
        hex4(0xD800 + (cp >> 10));
        hex4(0xDC00 + (cp & 0x3FF));
      } else {
        hex4(cp);
      }
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

// json.dumps() with its default separators.
std::optional<std::string> json_dumps(const PyValue& v) {
  std::string out;
  switch (v.t) {
    case PyValue::T::none:
      return "null";
    case PyValue::T::boolean:
      return v.text == "True" ? "true" : "false";
    case PyValue::T::integer:
      return v.text;
    case PyValue::T::floating:
      return float_repr(std::strtod(v.text.c_str(), nullptr));
    case PyValue::T::string:
      json_string(out, v.text);
      return out;
    case PyValue::T::list: {
      out = "[";
      for (size_t i = 0; i < v.items.size(); ++i) {
        auto item = json_dumps(v.items[i]);
        if (!item) {
          return std::nullopt;
        }
        out += (i ? ", " : "") + *item;
      }
      return out + "]";
    }
    case PyValue::T::dict: {
      out = "{";
      for (size_t i = 0; i < v.entries.size(); ++i) {
        const auto& [k, x] = v.entries[i];
        std::string key;
        if (k.t == PyValue::T::string) {
          json_string(key, k.text);
        } else if (k.t == PyValue::T::integer || k.t == PyValue::T::floating) {
          json_string(key, k.text);
        } else {
          return std::nullopt;
        }
        auto item = json_dumps(x);
        if (!item) {
          return std::nullopt;
        }
        out += (i ? ", " : "") + key + ": " + *item;
      }
      return out + "}";
    }
    default:
      return std::nullopt;
  }
}

// psycopg2 writes negative numbers with a leading space (so that "- -1" cannot become a
// comment); Django's sqlmigrate inherits it.
std::string number_sql(const std::string& text) {
  return !text.empty() && text[0] == '-' ? " " + text : text;
}

}  // namespace dbautopsy::django::detail
