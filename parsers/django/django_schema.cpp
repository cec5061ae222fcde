#include "django/django_schema.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <memory>
#include <variant>

#include "base/error.hpp"
#include "base/text.hpp"
#include "django/sqlmigrate.hpp"
#include "io/input.hpp"
#include "pgsql/names.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"
#include "store/facts.hpp"

namespace dbautopsy::django {

namespace {

using py::Node;
using py::NodeKind;

// connection.ops.max_name_length() of the PostgreSQL backend.
constexpr size_t k_max_name_length = 63;

// A column type that cannot be known (a field class this module does not know). It is
// written into the emulated SQL so that the column still exists for later operations, and
// taken out of the effects again.
constexpr std::string_view k_unknown_type = "dbautopsy_unknown_type";

// --- text -------------------------------------------------------------------------------

// Python's len() and slicing count code points; these helpers do the same on UTF-8.
size_t cp_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    n += (c & 0xC0) != 0x80;
  }
  return n;
}

std::string cp_prefix(std::string_view s, size_t count) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == count) {
        return std::string(s.substr(0, i));
      }
      ++seen;
    }
  }
  return std::string(s);
}

std::string md5_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += k_hex[digest[i] >> 4];
    out += k_hex[digest[i] & 15];
  }
  return out;
}

// The PostgreSQL backend's quote_name(): always double-quoted, quotes not doubled.
std::string qn(std::string_view name) {
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    return std::string(name);
  }
  return "\"" + std::string(name) + "\"";
}

// split_identifier(): 'schema"."table' -> table.
std::string split_identifier_name(std::string_view identifier) {
  size_t sep = identifier.find("\".\"");
  std::string_view name = sep == std::string_view::npos ? identifier : identifier.substr(sep + 3);
  while (!name.empty() && name.front() == '"') {
    name.remove_prefix(1);
  }
  while (!name.empty() && name.back() == '"') {
    name.remove_suffix(1);
  }
  return std::string(name);
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  return text::join(parts, sep);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string last_component(std::string_view dotted) {
  size_t dot = dotted.rfind('.');
  return std::string(dot == std::string_view::npos ? dotted : dotted.substr(dot + 1));
}

// psycopg2's adaptation of a str: single quotes doubled (standard_conforming_strings on).
// With `double_percent`, '%' is doubled too: Django 3.2's quote_value() does that before
// interpolating, and nothing undoes it in the SQL of constraints and index conditions (nor
// in what sqlmigrate prints).
std::string quote_string(std::string_view s, bool double_percent = false) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'' || (c == '%' && double_percent)) {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

// --- Django's naming rules ------------------------------------------------------------

std::string names_digest(const std::vector<std::string>& parts, size_t length) {
  std::string data;
  for (const auto& p : parts) {
    data += p;
  }
  return md5_hex(data).substr(0, length);
}

std::string truncate_name(std::string_view identifier, size_t length, size_t hash_len) {
  size_t sep = identifier.find("\".\"");
  std::string ns = sep == std::string_view::npos ? "" : std::string(identifier.substr(0, sep));
  std::string name = split_identifier_name(identifier);
  if (cp_length(name) <= length) {
    return std::string(identifier);
  }
  std::string digest = names_digest({name}, hash_len);
  return (ns.empty() ? "" : ns + "\".\"") + cp_prefix(name, length - hash_len) + digest;
}

std::string create_index_name(std::string_view table, const std::vector<std::string>& columns,
                              std::string_view suffix) {
  std::string table_name = split_identifier_name(table);
  std::vector<std::string> digest_parts{table_name};
  digest_parts.insert(digest_parts.end(), columns.begin(), columns.end());
  std::string hash_suffix_part = names_digest(digest_parts, 8) + std::string(suffix);
  std::string joined = join(columns, "_");
  std::string index_name = table_name + "_" + joined + "_" + hash_suffix_part;
  if (cp_length(index_name) <= k_max_name_length) {
    return index_name;
  }
  if (cp_length(hash_suffix_part) > k_max_name_length / 3) {
    hash_suffix_part = cp_prefix(hash_suffix_part, k_max_name_length / 3);
  }
  size_t other_length = (k_max_name_length - cp_length(hash_suffix_part)) / 2 - 1;
  index_name = cp_prefix(table_name, other_length) + "_" + cp_prefix(joined, other_length) + "_" +
               hash_suffix_part;
  if (!index_name.empty() &&
      (index_name[0] == '_' || (index_name[0] >= '0' && index_name[0] <= '9'))) {
    index_name = "D" + index_name.substr(0, index_name.size() - 1);
  }
  return index_name;
}

std::string index_name_with_model(std::string_view table, const std::vector<std::string>& columns) {
  std::string table_name = split_identifier_name(table);
  std::vector<std::string> hash_data{table_name};
  std::string first;
  for (size_t i = 0; i < columns.size(); ++i) {
    hash_data.push_back(columns[i]);
    if (i == 0) {
      first = !columns[i].empty() && columns[i][0] == '-' ? columns[i].substr(1) : columns[i];
    }
  }
  hash_data.push_back("idx");
  std::string name = cp_prefix(table_name, 11) + "_" + cp_prefix(first, 7) + "_" +
                     names_digest(hash_data, 6) + "_idx";
  if (!name.empty() && (name[0] == '_' || (name[0] >= '0' && name[0] <= '9'))) {
    name = "D" + name.substr(1);
  }
  return name;
}

namespace {

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

// --- fields -------------------------------------------------------------------------------

enum class Rel { none, fk, o2o, m2m };

struct FieldClass {
  std::string_view name;      // class name (Django's own) or full path (third party)
  std::string_view internal;  // get_internal_type()
  std::string_view type;      // db_type template; "" for relations and column-less fields
  Rel rel = Rel::none;
  bool empty_strings_allowed = false;
  std::string_view positional;  // parameter names of positional arguments, space-separated
  bool column = true;           // false: no column (a manager-like field)
};

constexpr std::string_view k_field_params =
    "verbose_name name primary_key max_length unique blank null db_index rel default editable "
    "serialize";
constexpr std::string_view k_date_params = "verbose_name name auto_now auto_now_add";
constexpr std::string_view k_fk_params =
    "to on_delete related_name related_query_name limit_choices_to parent_link to_field "
    "db_constraint";
constexpr std::string_view k_m2m_params =
    "to related_name related_query_name limit_choices_to symmetrical through through_fields "
    "db_constraint db_table swappable";

// django.db.models fields and their PostgreSQL types (django/db/backends/postgresql/base.py
// data_types, Django 3.2).
constexpr std::array<FieldClass, 37> k_django_fields = {{
    {"AutoField", "AutoField", "serial", Rel::none, false, k_field_params},
    {"BigAutoField", "BigAutoField", "bigserial", Rel::none, false, k_field_params},
    {"SmallAutoField", "SmallAutoField", "smallserial", Rel::none, false, k_field_params},
    {"BinaryField", "BinaryField", "bytea", Rel::none, true, k_field_params},
    {"BooleanField", "BooleanField", "boolean", Rel::none, false, k_field_params},
    {"NullBooleanField", "NullBooleanField", "boolean", Rel::none, false, k_field_params},
    {"CharField", "CharField", "varchar(%(max_length)s)", Rel::none, true, k_field_params},
    {"EmailField", "CharField", "varchar(%(max_length)s)", Rel::none, true, k_field_params},
    {"URLField", "CharField", "varchar(%(max_length)s)", Rel::none, true, "verbose_name name"},
    {"CommaSeparatedIntegerField", "CharField", "varchar(%(max_length)s)", Rel::none, true,
     k_field_params},
    {"SlugField", "SlugField", "varchar(%(max_length)s)", Rel::none, true, k_field_params},
    {"FileField", "FileField", "varchar(%(max_length)s)", Rel::none, true,
     "verbose_name name upload_to storage"},
    {"ImageField", "FileField", "varchar(%(max_length)s)", Rel::none, true,
     "verbose_name name width_field height_field"},
    {"FilePathField", "FilePathField", "varchar(%(max_length)s)", Rel::none, true,
     "verbose_name name path match recursive allow_files allow_folders"},
    {"DateField", "DateField", "date", Rel::none, false, k_date_params},
    {"DateTimeField", "DateTimeField", "timestamp with time zone", Rel::none, false, k_date_params},
    {"TimeField", "TimeField", "time", Rel::none, false, k_date_params},
    {"DecimalField", "DecimalField", "numeric(%(max_digits)s, %(decimal_places)s)", Rel::none,
     false, "verbose_name name max_digits decimal_places"},
    {"DurationField", "DurationField", "interval", Rel::none, false, k_field_params},
    {"FloatField", "FloatField", "double precision", Rel::none, false, k_field_params},
    {"IntegerField", "IntegerField", "integer", Rel::none, false, k_field_params},
    {"BigIntegerField", "BigIntegerField", "bigint", Rel::none, false, k_field_params},
    {"SmallIntegerField", "SmallIntegerField", "smallint", Rel::none, false, k_field_params},
    {"PositiveIntegerField", "PositiveIntegerField", "integer", Rel::none, false, k_field_params},
    {"PositiveSmallIntegerField", "PositiveSmallIntegerField", "smallint", Rel::none, false,
     k_field_params},
    {"PositiveBigIntegerField", "PositiveBigIntegerField", "bigint", Rel::none, false,
     k_field_params},
    {"IPAddressField", "IPAddressField", "inet", Rel::none, false, k_field_params},
    {"GenericIPAddressField", "GenericIPAddressField", "inet", Rel::none, false,
     "verbose_name name protocol unpack_ipv4"},
    {"JSONField", "JSONField", "jsonb", Rel::none, false, "verbose_name name encoder decoder"},
    {"TextField", "TextField", "text", Rel::none, true, k_field_params},
    {"UUIDField", "UUIDField", "uuid", Rel::none, false, "verbose_name"},
    {"ForeignKey", "ForeignKey", "", Rel::fk, false, k_fk_params},
    {"OneToOneField", "OneToOneField", "", Rel::o2o, false, "to on_delete to_field"},
    {"ManyToManyField", "ManyToManyField", "", Rel::m2m, false, k_m2m_params},
    {"OrderWrt", "IntegerField", "integer", Rel::none, false, ""},
    {"ArrayField", "ArrayField", "", Rel::none, false, "base_field size"},
    {"HStoreField", "HStoreField", "hstore", Rel::none, false, k_field_params},
}};

// django.contrib.postgres fields other than ArrayField / HStoreField.
constexpr std::array<FieldClass, 10> k_postgres_fields = {{
    {"JSONField", "JSONField", "jsonb", Rel::none, false, "verbose_name name encoder decoder"},
    {"CICharField", "CICharField", "citext", Rel::none, true, k_field_params},
    {"CIEmailField", "CIEmailField", "citext", Rel::none, true, k_field_params},
    {"CITextField", "CITextField", "citext", Rel::none, true, k_field_params},
    {"IntegerRangeField", "IntegerRangeField", "int4range", Rel::none, false, k_field_params},
    {"BigIntegerRangeField", "BigIntegerRangeField", "int8range", Rel::none, false, k_field_params},
    {"DecimalRangeField", "DecimalRangeField", "numrange", Rel::none, false, k_field_params},
    {"DateTimeRangeField", "DateTimeRangeField", "tstzrange", Rel::none, false, k_field_params},
    {"DateRangeField", "DateRangeField", "daterange", Rel::none, false, k_field_params},
    {"SearchVectorField", "SearchVectorField", "tsvector", Rel::none, false, k_field_params},
}};

// Widely used third-party field classes, as their projects define them (their db_type or
// the Django field they subclass).
constexpr std::array<FieldClass, 16> k_third_party_fields = {{
    {"mptt.fields.TreeForeignKey", "ForeignKey", "", Rel::fk, false, k_fk_params},
    {"mptt.fields.TreeOneToOneField", "OneToOneField", "", Rel::o2o, false,
     "to on_delete to_field"},
    {"mptt.fields.TreeManyToManyField", "ManyToManyField", "", Rel::m2m, false, k_m2m_params},
    {"taggit.managers.TaggableManager", "ManyToManyField", "", Rel::m2m, false,
     "verbose_name help_text through blank related_name to manager", false},
    {"django_countries.fields.CountryField", "CharField", "varchar(%(max_length)s)", Rel::none,
     true, k_field_params},
    {"timezone_field.fields.TimeZoneField", "CharField", "varchar(%(max_length)s)", Rel::none, true,
     k_field_params},
    // NetBox (netbox-community/netbox): utilities/fields.py, ipam/fields.py, dcim/fields.py.
    {"utilities.fields.NaturalOrderingField", "CharField", "varchar(%(max_length)s)", Rel::none,
     true, "target_field naturalize_function"},
    {"utilities.fields.ColorField", "CharField", "varchar(%(max_length)s)", Rel::none, true,
     k_field_params},
    {"utilities.fields.CounterCacheField", "BigIntegerField", "bigint", Rel::none, false,
     "to_model to_field"},
    {"ipam.fields.IPAddressField", "IPAddressField", "inet", Rel::none, false, k_field_params},
    {"ipam.fields.IPNetworkField", "IPNetworkField", "cidr", Rel::none, false, k_field_params},
    {"ipam.fields.ASNField", "BigIntegerField", "bigint", Rel::none, false, k_field_params},
    {"dcim.fields.ASNField", "BigIntegerField", "bigint", Rel::none, false, k_field_params},
    {"dcim.fields.MACAddressField", "MACAddressField", "macaddr", Rel::none, false, k_field_params},
    {"dcim.fields.WWNField", "WWNField", "macaddr8", Rel::none, false, k_field_params},
    {"dcim.fields.PathField", "ArrayField", "", Rel::none, false, ""},
}};

const FieldClass* field_class(std::string_view path) {
  for (const auto& c : k_third_party_fields) {
    if (c.name == path) {
      return &c;
    }
  }
  std::string cls = last_component(path);
  if (starts_with(path, "django.contrib.postgres.")) {
    for (const auto& c : k_postgres_fields) {
      if (c.name == cls) {
        return &c;
      }
    }
    if (cls == "ArrayField" || cls == "HStoreField") {
      for (const auto& c : k_django_fields) {
        if (c.name == cls) {
          return &c;
        }
      }
    }
    return nullptr;
  }
  if (starts_with(path, "django.db.models.")) {
    for (const auto& c : k_django_fields) {
      if (c.name == cls && cls != "ArrayField" && cls != "HStoreField" && cls != "OrderWrt") {
        return &c;
      }
    }
  }
  return nullptr;
}

struct Field {
  std::string name;
  std::string path;      // the class, resolved ("django.db.models.CharField")
  std::string cls;       // class name
  std::string internal;  // get_internal_type(); "" when the class is unknown
  std::string type_template;
  Rel rel = Rel::none;
  bool known = false;
  bool has_column = true;
  bool empty_strings_allowed = true;
  std::map<std::string, Node> kw;  // arguments by parameter name (positional ones mapped)
  bool primary_key = false, unique_kw = false, null = false, blank = false, db_index = false;
  bool auto_created = false, db_constraint = true, auto_now = false, auto_now_add = false;
  std::optional<Node> default_value;
  std::string max_length, max_digits, decimal_places;  // Python source of the values
  std::string db_column, db_collation, db_tablespace;
  std::string to;        // "app.model" (lower case) of a relation; "" unresolved
  std::string to_field;  // the to_field name ("" : the target's primary key)
  std::string through;   // "app.model" of an explicit M2M through model
  std::string m2m_db_table;
  std::shared_ptr<Field> base_field;  // ArrayField
  std::string array_size;
  std::string canonical;        // deconstruct() without non-database attributes, for comparisons
  bool params_unknown = false;  // max_length & co. are not literals (settings.X, ...)
  uint64_t line = 0;

  bool unique() const { return unique_kw || primary_key; }
  bool is_fk() const { return rel == Rel::fk || rel == Rel::o2o; }
  bool is_m2m() const { return rel == Rel::m2m; }
  bool has_default() const { return default_value.has_value(); }
  std::string attname() const { return is_fk() ? name + "_id" : name; }
  std::string column() const { return db_column.empty() ? attname() : db_column; }
};

struct IndexDef {
  std::string name;
  std::string path;
  std::vector<std::string> fields;  // with '-' for descending
  std::vector<Node> expressions;
  std::vector<std::string> opclasses;
  std::vector<std::string> include;
  std::optional<Node> condition;
  std::string db_tablespace;
  std::string using_method;  // "" or the postgres index suffix: gin, gist, brin, ...
  std::vector<std::string> with_params;
  uint64_t line = 0;
};

struct ConstraintDef {
  std::string kind;  // check, unique, exclusion, unknown
  std::string name;
  std::string path;
  std::optional<Node> check;
  std::vector<std::string> fields;
  std::optional<Node> condition;
  std::string deferrable;  // "", "deferred", "immediate"
  std::vector<std::string> include;
  std::vector<std::string> opclasses;
  std::vector<std::pair<Node, std::string>> expressions;  // exclusion: (expression, operator)
  std::vector<Node> unique_expressions;  // UniqueConstraint(*expressions), Django 4
  std::string index_type;                // exclusion
  uint64_t line = 0;
};

struct ModelState {
  std::string app;
  std::string name;  // as written in the migration
  std::vector<Field> fields;
  std::optional<std::string> db_table;
  std::vector<std::vector<std::string>> unique_together, index_together;
  std::vector<IndexDef> indexes;
  std::vector<ConstraintDef> constraints;
  bool managed = true;
  bool proxy = false;
  std::string swappable;
  std::string order_with_respect_to;
  std::string db_tablespace;
  std::vector<std::string> bases;  // "app.model" of model bases
  uint64_t order = 0;              // creation order in the state, for iteration
  bool auto_created = false;       // an M2M through model made up by Django

  std::string key() const { return app + "." + text::lower(name); }
  std::string name_lower() const { return text::lower(name); }
  Field* field(std::string_view n) {
    for (auto& f : fields) {
      if (f.name == n) {
        return &f;
      }
    }
    return nullptr;
  }
};

}  // namespace

namespace {

// --- Python values of defaults and lookups ---------------------------------------------

struct PyValue {
  enum class T {
    none,
    boolean,
    integer,
    floating,
    decimal,
    string,
    bytes,
    list,
    dict,
    date,
    datetime,
    time,
    timedelta,
    uuid,
    runtime,  // computed when the migration runs (timezone.now, uuid4, ...): `text` says which
    unknown,  // anything else; `text` is its Python source
  };
  T t = T::unknown;
  std::string text;
  bool aware = false;  // datetime with tzinfo
  std::vector<PyValue> items;
  std::vector<std::pair<PyValue, PyValue>> entries;
};

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

std::string two(int64_t v, int width = 2) {
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
        v.entries.emplace_back(python_value(e.children[0]), python_value(e.children[1]));
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

}  // namespace

namespace {

// A statement Django builds now and may render later (ddl_references.Statement): a deferred
// index, unique constraint or foreign key keeps its table and columns as references, so
// that renaming the table or a column before the end of the migration renames them in the
// statement, and removing the table or column drops the statement.
struct Stmt {
  enum class Kind { index, unique, unique_index, fk };
  Kind kind = Kind::index;
  std::string table;
  std::vector<std::string> columns;
  std::string to_table;
  std::vector<std::string> to_columns;
  std::string name;    // given name; "" : from table, columns and suffix when rendered
  std::string suffix;  // the index-name suffix; for a foreign key "_fk_<to>" or "_fk"
  bool fk_named_after_target = true;
  std::vector<std::string> col_suffixes;
  std::vector<std::string> opclasses;
  std::string expressions;  // rendered expressions (an expression index)
  std::string using_method, extra, condition, include, deferrable;
  bool concurrently = false;
  uint64_t line = 0;

  bool references_table(const std::string& t) const {
    return table == t || (kind == Kind::fk && to_table == t);
  }
  bool references_column(const std::string& t, const std::string& c) const {
    auto has = [&](const std::vector<std::string>& v) {
      return std::find(v.begin(), v.end(), c) != v.end();
    };
    return (table == t && has(columns)) || (kind == Kind::fk && to_table == t && has(to_columns));
  }
  void rename_table(const std::string& from, const std::string& to) {
    if (table == from) {
      table = to;
    }
    if (to_table == from) {
      to_table = to;
    }
  }
  void rename_column(const std::string& t, const std::string& from, const std::string& to) {
    if (table == t) {
      std::replace(columns.begin(), columns.end(), from, to);
    }
    if (kind == Kind::fk && to_table == t) {
      std::replace(to_columns.begin(), to_columns.end(), from, to);
    }
  }

  std::string column_list() const {
    if (!expressions.empty()) {
      return expressions;
    }
    std::vector<std::string> parts;
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string c = qn(columns[i]);
      if (i < opclasses.size() && !opclasses[i].empty()) {
        c += " " + opclasses[i];
      }
      if (i < col_suffixes.size() && !col_suffixes[i].empty()) {
        c += " " + col_suffixes[i];
      }
      parts.push_back(c);
    }
    return join(parts, ", ");
  }

  std::string rendered_name() const {
    if (!name.empty()) {
      return qn(name);
    }
    if (kind == Kind::fk) {
      std::string s = fk_named_after_target
                          ? "_fk_" + split_identifier_name(to_table) + "_" +
                                (to_columns.empty() ? std::string() : to_columns[0])
                          : suffix;
      return qn(create_index_name(table, columns, s));
    }
    return qn(create_index_name(table, columns, suffix));
  }

  std::string render() const {
    switch (kind) {
      case Kind::index:
        return std::string(concurrently ? "CREATE INDEX CONCURRENTLY " : "CREATE INDEX ") +
               rendered_name() + " ON " + qn(table) + using_method + " (" + column_list() + ")" +
               include + extra + condition;
      case Kind::unique:
        return "ALTER TABLE " + qn(table) + " ADD CONSTRAINT " + rendered_name() + " UNIQUE (" +
               column_list() + ")" + deferrable;
      case Kind::unique_index:
        return "CREATE UNIQUE INDEX " + rendered_name() + " ON " + qn(table) + " (" +
               column_list() + ")" + include + condition;
      case Kind::fk:
        return "ALTER TABLE " + qn(table) + " ADD CONSTRAINT " + rendered_name() +
               " FOREIGN KEY (" + column_list() + ") REFERENCES " + qn(to_table) + " (" +
               join(
                   [&] {
                     std::vector<std::string> q;
                     for (const auto& c : to_columns) {
                       q.push_back(qn(c));
                     }
                     return q;
                   }(),
                   ", ") +
               ") DEFERRABLE INITIALLY DEFERRED";
    }
    return {};
  }
};

// What Django reads back from the database (introspection.get_constraints()).
struct DbConstraint {
  std::string name;
  std::vector<std::string> columns;
  bool primary_key = false, unique = false, foreign_key = false, check = false, index = false;
  std::string type;
};

struct ConstraintFilter {
  std::optional<bool> unique, primary_key, index, check;
  bool foreign_key = false;
  std::string type;
  std::set<std::string> exclude;
};

// A relation pointing at a model: the field `field` of model `model`.
struct RelatedField {
  std::string model;  // key
  Field field;
  bool hidden = false;
  bool through = false;  // of an auto-created many-to-many table
};

// Django's own models, assumed when a migration refers to them without their app's
// migrations being part of the set.
struct BuiltinModel {
  std::string_view key, table, pk, pk_class, pk_max_length;
};
constexpr std::array<BuiltinModel, 7> k_builtin_models = {{
    {"auth.user", "auth_user", "id", "AutoField", ""},
    {"auth.group", "auth_group", "id", "AutoField", ""},
    {"auth.permission", "auth_permission", "id", "AutoField", ""},
    {"contenttypes.contenttype", "django_content_type", "id", "AutoField", ""},
    {"sites.site", "django_site", "id", "AutoField", ""},
    {"admin.logentry", "django_admin_log", "id", "AutoField", ""},
    {"sessions.session", "django_session", "session_key", "CharField", "40"},
}};

constexpr std::array<std::string_view, 15> k_contrib_apps = {
    "admin",     "auth",        "contenttypes", "sessions",    "sites",
    "flatpages", "redirects",   "messages",     "staticfiles", "humanize",
    "sitemaps",  "syndication", "gis",          "postgres",    "admindocs"};

class Derivation {
 public:
  Derivation(const DjangoSettings& settings, ProjectSchema& out)
      : m_settings(settings), m_out(out) {
    pgsql::prepare_sentinel_session(m_catalog, m_session);
    for (const auto& [setting, value] : settings.swappable) {
      m_swappable[setting] = lower_model_key(value);
    }
    m_swappable["AUTH_USER_MODEL"] = lower_model_key(settings.auth_user_model);
  }

  void run(const std::vector<MigrationFile>& files);

  struct QTree;

 private:
  // --- problems ---------------------------------------------------------------------
  void problem(std::string severity, std::string code, std::string message, uint64_t line = 0) {
    Problem p{line ? line : m_line, std::move(severity), std::move(code), std::move(message)};
    if (m_mig) {
      m_mig->problems.push_back(std::move(p));
    } else {
      m_out.problems.push_back(std::move(p));
    }
  }

  static std::string lower_model_key(std::string_view value) {
    size_t dot = value.find('.');
    if (dot == std::string_view::npos) {
      return text::lower(value);
    }
    return std::string(value.substr(0, dot)) + "." + text::lower(value.substr(dot + 1));
  }

  // --- fields -----------------------------------------------------------------------
  std::string resolve_model_ref(const Node* n, const std::string& app, const std::string& self_key);
  Field make_field(const std::string& name, const Node& call, const std::string& app,
                   const std::string& self_key);
  Field synthetic_pk() const;
  void canonicalize(Field& f, const FieldClass* fc);

  // --- the state ----------------------------------------------------------------------
  ModelState* model(const std::string& key) {
    auto it = m_models.find(key);
    return it == m_models.end() ? nullptr : &it->second;
  }
  ModelState* model_or_problem(const std::string& app, const std::string& name);
  const ModelState* target_model(const std::string& key);
  std::string db_table(const ModelState& m);
  bool allow_migrate(const ModelState& m) const;
  std::vector<Field> local_fields(const ModelState& m) const;
  const Field* get_field(const ModelState& m, std::string_view name) const;
  std::optional<Field> pk_field(const ModelState& m) const;
  std::optional<Field> target_field(const Field& fk);
  ModelState auto_through(const ModelState& owner, const Field& m2m);
  bool has_auto_through(const Field& f) const {
    return f.is_m2m() && f.through.empty() && f.has_column;
  }
  std::vector<RelatedField> related_fields(const std::string& target_key);
  std::vector<ModelState> sorted_models() const;

  // --- types --------------------------------------------------------------------------
  std::optional<std::string> db_type(const Field& f);
  std::string rel_db_type(const Field& target);
  std::string db_check(const Field& f) const;
  std::string field_data_type(const Field& f);

  // --- values -------------------------------------------------------------------------
  struct SqlDefault {
    bool none = true;
    std::string sql;
  };
  SqlDefault effective_default(const Field& f, bool report = true);
  // `quoted`: the value goes through Django's quote_value() (constraint and index SQL);
  // else it is a query parameter (column defaults, RunSQL parameters).
  std::optional<std::string> value_sql(const Field& f, const PyValue& v, bool quoted = false);
  std::optional<std::string> lookup_value_sql(const Field& f, const PyValue& v);

  // --- expressions --------------------------------------------------------------------
  std::optional<std::string> compile_q(const ModelState& m, const Node& q);
  std::optional<std::string> compile_expression(const ModelState& m, const Node& e,
                                                std::vector<std::string>* columns);

  // --- the schema editor ------------------------------------------------------------
  void execute(const std::string& sql, uint64_t line = 0);
  void flush_deferred();
  std::vector<DbConstraint> get_constraints(const std::string& table);
  std::vector<std::string> constraint_names(const std::string& table,
                                            const std::vector<std::string>* columns,
                                            const ConstraintFilter& filter);
  std::optional<std::string> column_sql(const ModelState& m, const Field& f, bool include_default,
                                        const SqlDefault* precomputed = nullptr);
  Stmt index_stmt(const ModelState& m, const std::vector<Field>& fields, const std::string& suffix);
  Stmt unique_stmt(const std::string& table, const std::vector<std::string>& columns);
  Stmt fk_stmt(const ModelState& m, const Field& f, bool named_after_target);
  std::optional<Stmt> like_index(const ModelState& m, const Field& f);
  std::vector<Stmt> field_indexes(const ModelState& m, const Field& f);
  std::optional<Stmt> index_create(const ModelState& m, const IndexDef& idx);
  std::string constraint_sql(const ModelState& m, const ConstraintDef& c);
  Stmt unique_index_stmt(const ModelState& m, const ConstraintDef& c);
  static bool is_index_backed(const ConstraintDef& c) {
    return c.condition || !c.include.empty() || !c.opclasses.empty() ||
           !c.unique_expressions.empty();
  }
  std::optional<std::string> check_sql(const ModelState& m, const ConstraintDef& c);

  void create_model(const ModelState& m);
  void delete_model(const ModelState& m);
  void add_field(const ModelState& m, const Field& f);
  void remove_field(const ModelState& m, const Field& f);
  struct AlterInfo {
    std::optional<std::string> old_type;
    std::vector<std::pair<RelatedField, std::string>> rels;  // with their current types
  };
  AlterInfo prepare_alter(const ModelState& m, const Field& old);
  void alter_field(const ModelState& m, const Field& old, const Field& nw, const AlterInfo& info);
  void alter_field_columns(const ModelState& m, const Field& old, const Field& nw,
                           const std::string& old_type, const std::string& new_type,
                           const AlterInfo& info);
  std::pair<std::string, std::vector<std::string>> alter_column_type_sql(
      const std::string& table, const Field& old, const Field& nw, const std::string& new_type,
      const std::string& old_data_type, const std::string& new_data_type);
  void alter_db_table(const std::string& old_table, const std::string& new_table);
  void rename_index_columns(const std::string& table, const std::string& from,
                            const std::string& to);
  void delete_composed_index(const ModelState& m, const std::vector<std::string>& fields,
                             bool unique);
  void add_index(const ModelState& m, const IndexDef& idx, bool concurrently);
  void add_constraint(const ModelState& m, const ConstraintDef& c);
  void remove_constraint(const ModelState& m, const ConstraintDef& c);
  std::vector<std::string> columns_of(const ModelState& m, const std::vector<std::string>& names);

  // --- operations ---------------------------------------------------------------------
  void apply(const Operation& op, bool database);
  void op_create_model(const Operation& op, bool database);
  void op_delete_model(const Operation& op, bool database);
  void op_rename_model(const Operation& op, bool database);
  void op_alter_model_table(const Operation& op, bool database);
  void op_alter_together(const Operation& op, bool database, bool unique);
  void op_alter_options(const Operation& op);
  void op_alter_order_with_respect_to(const Operation& op, bool database);
  void op_add_field(const Operation& op, bool database);
  void op_remove_field(const Operation& op, bool database);
  void op_alter_field(const Operation& op, bool database);
  void op_rename_field(const Operation& op, bool database);
  void op_add_index(const Operation& op, bool database, bool concurrently);
  void op_remove_index(const Operation& op, bool database, bool concurrently);
  void op_add_constraint(const Operation& op, bool database);
  void op_remove_constraint(const Operation& op, bool database);
  void op_run_sql(const Operation& op, bool database);
  void op_extension(const Operation& op, bool database);
  void op_collation(const Operation& op, bool database, bool create);
  void read_options(ModelState& m, const Node* options);
  IndexDef make_index(const Node& call);
  ConstraintDef make_constraint(const Node& call);
  std::string model_arg(const Operation& op, std::string_view param);
  Node resolved(const Node* n) const { return n ? resolve_names(*n, m_file->module) : Node{}; }

  // --- ordering -----------------------------------------------------------------------
  std::vector<const MigrationFile*> plan(const std::vector<MigrationFile>& files);
  void infer_default_auto_field(const std::vector<MigrationFile>& files);
  void apply_migration(const MigrationFile& f);
  void finish_effects(MigrationSchema& m);

  const DjangoSettings& m_settings;
  ProjectSchema& m_out;
  std::map<std::string, std::string> m_swappable;
  std::string m_default_auto = "AutoField";
  std::map<std::string, ModelState> m_models;
  std::map<std::string, ModelState> m_ghosts;  // models just removed (renamed), for lookups
  uint64_t m_model_order = 0;
  std::set<std::string> m_assumed;  // built-in models already reported as assumed
  pgsql::Catalog m_catalog;
  pgsql::Catalog m_snapshot;  // the catalog when the current migration began
  pgsql::Session m_session;
  MigrationSchema* m_mig = nullptr;
  const MigrationFile* m_file = nullptr;
  uint64_t m_line = 0;
  std::vector<Stmt> m_deferred;
  std::vector<std::string> m_collected;
};

// --- fields ---------------------------------------------------------------------------

std::string Derivation::resolve_model_ref(const Node* n, const std::string& app,
                                          const std::string& self_key) {
  if (!n) {
    return {};
  }
  if (auto s = string_of(n)) {
    if (*s == "self") {
      return self_key;
    }
    if (s->find('.') == std::string::npos) {
      return app + "." + text::lower(*s);
    }
    return lower_model_key(*s);
  }
  if (n->kind == NodeKind::name && starts_with(n->text, "django.conf.settings.")) {
    std::string setting = n->text.substr(21);
    auto it = m_swappable.find(setting);
    if (it != m_swappable.end()) {
      return it->second;
    }
    problem("warning", "django-setting-unknown",
            "settings." + setting + " is not known; the model it names cannot be resolved",
            n->line);
    return {};
  }
  return {};
}

Field Derivation::synthetic_pk() const {
  Field f;
  f.name = "id";
  f.cls = m_default_auto;
  f.path = "django.db.models." + m_default_auto;
  f.internal = m_default_auto;
  for (const auto& c : k_django_fields) {
    if (c.name == m_default_auto) {
      f.type_template = std::string(c.type);
    }
  }
  f.known = true;
  f.primary_key = true;
  f.auto_created = true;
  f.empty_strings_allowed = false;
  f.canonical = "synthetic-pk:" + m_default_auto;
  return f;
}

Field Derivation::make_field(const std::string& name, const Node& call, const std::string& app,
                             const std::string& self_key) {
  Field f;
  f.name = name;
  f.line = call.line;
  if (call.kind != NodeKind::call || !call.callee()) {
    problem("warning", "django-field-unreadable",
            "field " + name + " is not a field class call: " + py::to_source(call), call.line);
    f.has_column = false;
    return f;
  }
  f.path = callee_path(call);
  f.cls = last_component(f.path);
  const FieldClass* fc = field_class(f.path);
  std::string_view positional = fc ? fc->positional : k_field_params;
  std::vector<std::string> params;
  for (auto p : text::split(positional, ' ')) {
    if (!p.empty()) {
      params.emplace_back(p);
    }
  }
  size_t i = 0;
  for (const Node* a : call.positional_arguments()) {
    if (i < params.size()) {
      Node copy = *a;
      f.kw[params[i]] = copy;
    }
    ++i;
  }
  for (const Node* a : call.keyword_arguments()) {
    Node copy = *a;
    copy.keyword.clear();
    f.kw[a->keyword] = copy;
  }
  for (size_t k = 1; k < call.children.size(); ++k) {
    if (call.children[k].star) {
      problem("notice", "django-field-unreadable",
              "field " + name + " unpacks arguments (" + py::to_source(call.children[k]) +
                  "); what they set is not known",
              call.line);
    }
  }
  if (fc) {
    f.known = true;
    f.internal = std::string(fc->internal);
    f.type_template = std::string(fc->type);
    f.rel = fc->rel;
    f.empty_strings_allowed = fc->empty_strings_allowed;
    f.has_column = fc->column;
  } else {
    f.known = false;
    f.empty_strings_allowed = true;
  }
  // Defaults the classes set themselves.
  const std::string& cls = f.cls;
  if (cls == "SlugField") {
    f.max_length = "50";
    f.db_index = true;
  } else if (cls == "EmailField") {
    f.max_length = "254";
  } else if (cls == "URLField") {
    f.max_length = "200";
  } else if (cls == "FileField" || cls == "ImageField" || cls == "FilePathField") {
    f.max_length = "100";
  } else if (f.path == "utilities.fields.ColorField") {
    f.max_length = "6";
  } else if (f.path == "timezone_field.fields.TimeZoneField") {
    f.max_length = "63";
  } else if (f.path == "django_countries.fields.CountryField") {
    f.max_length = "2";
  }
  if (f.is_fk()) {
    f.db_index = true;
  }
  auto flag = [&](std::string_view key, bool& out) {
    auto it = f.kw.find(std::string(key));
    if (it != f.kw.end()) {
      if (auto b = bool_of(&it->second)) {
        out = *b;
      } else {
        problem("notice", "django-field-unreadable",
                "field " + name + ": " + std::string(key) + "=" + py::to_source(it->second) +
                    " is not a literal; taken as False",
                call.line);
        out = false;
      }
    }
  };
  auto text_arg = [&](std::string_view key, std::string& out) {
    auto it = f.kw.find(std::string(key));
    if (it != f.kw.end() && it->second.kind != NodeKind::none) {
      if (auto s = string_of(&it->second)) {
        out = *s;
      } else if (auto num = number_of(&it->second)) {
        out = *num;
      } else {
        out = py::to_source(it->second);
      }
    }
  };
  flag("primary_key", f.primary_key);
  flag("unique", f.unique_kw);
  flag("null", f.null);
  flag("blank", f.blank);
  flag("db_index", f.db_index);
  flag("auto_created", f.auto_created);
  flag("db_constraint", f.db_constraint);
  flag("auto_now", f.auto_now);
  flag("auto_now_add", f.auto_now_add);
  for (const char* key : {"max_length", "max_digits", "decimal_places"}) {
    auto it = f.kw.find(key);
    if (it == f.kw.end() || it->second.kind == NodeKind::none) {
      continue;
    }
    auto num = number_of(&it->second);
    std::string& out = std::string(key) == "max_length"   ? f.max_length
                       : std::string(key) == "max_digits" ? f.max_digits
                                                          : f.decimal_places;
    if (num) {
      out = *num;
    } else {
      f.params_unknown = true;
      problem("warning", "django-field-unreadable",
              "field " + name + ": " + key + "=" + py::to_source(it->second) +
                  " is not a literal (a setting or a computed value): the column type is unknown",
              call.line);
    }
  }
  text_arg("db_column", f.db_column);
  text_arg("db_collation", f.db_collation);
  text_arg("db_tablespace", f.db_tablespace);
  if (auto it = f.kw.find("default"); it != f.kw.end()) {
    f.default_value = it->second;
  }
  if (f.rel == Rel::o2o) {
    f.unique_kw = true;
  }
  if (cls == "NullBooleanField") {
    f.null = true;
    f.blank = true;
  }
  if (f.rel != Rel::none) {
    auto it = f.kw.find("to");
    f.to = resolve_model_ref(it == f.kw.end() ? nullptr : &it->second, app, self_key);
    if (f.to.empty() && f.has_column) {
      problem("warning", "django-model-unresolved",
              "field " + name + ": the model it refers to (" +
                  (it == f.kw.end() ? std::string("none given") : py::to_source(it->second)) +
                  ") cannot be resolved",
              call.line);
    }
    text_arg("to_field", f.to_field);
    if (auto th = f.kw.find("through"); th != f.kw.end() && th->second.kind != NodeKind::none) {
      f.through = resolve_model_ref(&th->second, app, self_key);
      if (f.through.empty()) {
        f.through = py::to_source(th->second);
      }
    }
    text_arg("db_table", f.m2m_db_table);
    if (f.path == "taggit.managers.TaggableManager" && f.through.empty()) {
      f.through = "taggit.taggeditem";  // taggit's default through model
    }
  }
  if (f.internal == "ArrayField") {
    if (f.path == "dcim.fields.PathField") {
      Field base;
      base.name = name;
      base.cls = base.internal = "CharField";
      base.type_template = "varchar(%(max_length)s)";
      base.max_length = "40";
      base.known = true;
      f.base_field = std::make_shared<Field>(base);
    } else if (auto it = f.kw.find("base_field"); it != f.kw.end()) {
      f.base_field = std::make_shared<Field>(make_field(name, it->second, app, self_key));
    } else {
      problem("warning", "django-field-unreadable",
              "ArrayField " + name + " has no base_field; its type is unknown", call.line);
    }
    if (auto it = f.kw.find("size"); it != f.kw.end() && it->second.kind != NodeKind::none) {
      f.array_size = number_of(&it->second).value_or(py::to_source(it->second));
    }
  }
  if (!fc) {
    problem("warning", "django-field-unknown",
            "field " + name + " is a " + f.path +
                ", a class this reader does not know: its column type is unknown",
            call.line);
  }
  canonicalize(f, fc);
  return f;
}

// deconstruct() minus what _field_should_be_altered() ignores (non_database_attrs), with
// the arguments that equal the class's defaults left out: two fields with the same
// canonical form need no ALTER.
void Derivation::canonicalize(Field& f, const FieldClass* fc) {
  static const std::set<std::string> k_non_db = {
      "blank",          "db_column",    "editable",
      "error_messages", "help_text",    "limit_choices_to",
      "on_delete",      "related_name", "related_query_name",
      "validators",     "verbose_name"};
  static const std::map<std::string, std::string> k_defaults = {
      {"primary_key", "False"},    {"unique", "False"},         {"null", "False"},
      {"serialize", "True"},       {"unique_for_date", "None"}, {"unique_for_month", "None"},
      {"unique_for_year", "None"}, {"choices", "None"},         {"db_tablespace", "None"},
      {"auto_created", "False"},   {"max_length", "None"},      {"db_constraint", "True"},
      {"parent_link", "False"},    {"auto_now", "False"},       {"auto_now_add", "False"},
      {"to_field", "None"},        {"db_collation", "None"},    {"size", "None"},
      {"symmetrical", "None"},     {"through", "None"},         {"db_table", "None"},
      {"swappable", "True"}};
  std::vector<std::string> parts{fc ? std::string(fc->name) : f.path};
  for (const auto& [key, value] : f.kw) {
    if (k_non_db.count(key)) {
      continue;
    }
    std::string v = py::to_source(value);
    if (key == "to") {
      v = f.to.empty() ? v : f.to;
    } else if (key == "through") {
      v = f.through;
    } else if (key == "base_field" && f.base_field) {
      v = f.base_field->canonical;
    } else if (key == "unique" && f.rel == Rel::o2o) {
      continue;
    } else if (key == "db_index") {
      bool class_default = f.is_fk() || f.cls == "SlugField";
      if (v == (class_default ? "True" : "False")) {
        continue;
      }
    } else if (key == "max_length" && f.max_length == v && fc &&
               ((f.cls == "SlugField" && v == "50") || (f.cls == "EmailField" && v == "254") ||
                (f.cls == "URLField" && v == "200") ||
                ((f.cls == "FileField" || f.cls == "ImageField" || f.cls == "FilePathField") &&
                 v == "100"))) {
      continue;
    }
    auto d = k_defaults.find(key);
    if (d != k_defaults.end() && d->second == v) {
      continue;
    }
    parts.push_back(key + "=" + v);
  }
  f.canonical = join(parts, "|");
}

// --- the state ----------------------------------------------------------------------------

ModelState* Derivation::model_or_problem(const std::string& app, const std::string& name) {
  std::string key = app + "." + text::lower(name);
  ModelState* m = model(key);
  if (!m) {
    problem("warning", "django-model-unknown",
            "model " + key +
                " is not in the project state: the migration that creates it is not in the set "
                "(or comes later); this operation is skipped");
  }
  return m;
}

const ModelState* Derivation::target_model(const std::string& key) {
  if (const ModelState* m = model(key)) {
    return m;
  }
  auto ghost = m_ghosts.find(key);
  if (ghost != m_ghosts.end()) {
    return &ghost->second;
  }
  for (const auto& b : k_builtin_models) {
    if (b.key == key) {
      // Django's own model, its app's migrations not given: its definition is known.
      ModelState m;
      size_t dot = key.find('.');
      m.app = key.substr(0, dot);
      m.name = key.substr(dot + 1);
      m.db_table = std::string(b.table);
      Field pk;
      pk.name = std::string(b.pk);
      pk.cls = pk.internal = std::string(b.pk_class);
      for (const auto& c : k_django_fields) {
        if (c.name == b.pk_class) {
          pk.type_template = std::string(c.type);
        }
      }
      pk.max_length = std::string(b.pk_max_length);
      pk.primary_key = true;
      pk.known = true;
      m.fields.push_back(pk);
      if (!m_assumed.count(key)) {
        m_assumed.insert(key);
        problem("notice", "django-model-assumed",
                key +
                    " is not created by any migration of the set: Django's own definition "
                    "(table " +
                    std::string(b.table) + ", primary key " + pk.name + ") is assumed");
      }
      m_ghosts[key] = m;
      return &m_ghosts[key];
    }
  }
  return nullptr;
}

std::string Derivation::db_table(const ModelState& m) {
  if (m.proxy) {
    for (const auto& b : m.bases) {
      if (const ModelState* parent = target_model(b); parent && parent != &m) {
        return db_table(*parent);
      }
    }
  }
  if (m.db_table) {
    return *m.db_table;
  }
  return truncate_name(m.app + "_" + m.name_lower(), k_max_name_length);
}

bool Derivation::allow_migrate(const ModelState& m) const {
  if (!m.managed || m.proxy) {
    return false;
  }
  if (!m.swappable.empty()) {
    auto it = m_swappable.find(m.swappable);
    if (it != m_swappable.end() && it->second != m.key()) {
      return false;  // swapped out (AUTH_USER_MODEL names another model)
    }
  }
  return true;
}

// _meta.local_fields: concrete fields ordered by creation counter. Fields with
// auto_created=True get decreasing negative counters as ModelState.render() clones them,
// so they come first, in reverse order; a primary key Django adds comes before them.
std::vector<Field> Derivation::local_fields(const ModelState& m) const {
  std::vector<Field> autos, regular;
  bool has_pk = false;
  for (const auto& f : m.fields) {
    if (f.is_m2m()) {
      continue;
    }
    has_pk = has_pk || f.primary_key;
    (f.auto_created ? autos : regular).push_back(f);
  }
  std::reverse(autos.begin(), autos.end());
  std::vector<Field> out;
  if (!has_pk && !m.proxy) {
    out.push_back(synthetic_pk());
  }
  out.insert(out.end(), autos.begin(), autos.end());
  out.insert(out.end(), regular.begin(), regular.end());
  if (!m.order_with_respect_to.empty()) {
    Field order;
    order.name = "_order";
    order.cls = "OrderWrt";
    order.internal = "IntegerField";
    order.type_template = "integer";
    order.known = true;
    order.empty_strings_allowed = false;
    order.canonical = "OrderWrt";
    out.push_back(order);
  }
  return out;
}

const Field* Derivation::get_field(const ModelState& m, std::string_view name) const {
  for (const auto& f : m.fields) {
    if (f.name == name) {
      return &f;
    }
  }
  for (const auto& f : m.fields) {
    if (f.is_fk() && f.attname() == name) {
      return &f;
    }
  }
  return nullptr;
}

std::optional<Field> Derivation::pk_field(const ModelState& m) const {
  for (const auto& f : m.fields) {
    if (f.primary_key) {
      return f;
    }
  }
  if (m.proxy) {
    return std::nullopt;
  }
  return synthetic_pk();
}

std::optional<Field> Derivation::target_field(const Field& fk) {
  const ModelState* t = target_model(fk.to);
  if (!t) {
    return std::nullopt;
  }
  while (t->proxy) {
    const ModelState* parent = nullptr;
    for (const auto& b : t->bases) {
      parent = target_model(b);
      if (parent) {
        break;
      }
    }
    if (!parent || parent == t) {
      break;
    }
    t = parent;
  }
  if (!fk.to_field.empty()) {
    if (const Field* f = get_field(*t, fk.to_field)) {
      return *f;
    }
    return std::nullopt;
  }
  return pk_field(*t);
}

// create_many_to_many_intermediary_model(): the table Django makes for a ManyToManyField
// without `through`. In Django 3.2's migration state its primary key comes from
// settings.DEFAULT_AUTO_FIELD (the app configs of the state's registry are stubs).
ModelState Derivation::auto_through(const ModelState& owner, const Field& m2m) {
  ModelState t;
  t.app = owner.app;
  t.name = owner.name + "_" + m2m.name;
  t.auto_created = true;
  t.managed = owner.managed;
  t.db_table = m2m.m2m_db_table.empty()
                   ? truncate_name(db_table(owner) + "_" + m2m.name, k_max_name_length)
                   : m2m.m2m_db_table;
  std::string to_name = m2m.to.substr(m2m.to.find('.') + 1);
  std::string from_name = owner.name_lower();
  std::string from_field = from_name, to_field = to_name;
  if (m2m.to == owner.key()) {
    from_field = "from_" + to_name;
    to_field = "to_" + to_name;
  }
  auto fk = [&](const std::string& name, const std::string& to) {
    Field f;
    f.name = name;
    f.cls = f.internal = "ForeignKey";
    f.path = "django.db.models.ForeignKey";
    f.rel = Rel::fk;
    f.known = true;
    f.empty_strings_allowed = false;
    f.to = to;
    f.db_index = true;
    f.db_constraint = m2m.db_constraint;
    f.db_tablespace = m2m.db_tablespace;
    f.canonical = "ForeignKey|to=" + to;
    return f;
  };
  t.fields.push_back(fk(from_field, owner.key()));
  t.fields.push_back(fk(to_field, m2m.to));
  t.unique_together.push_back({from_field, to_field});
  return t;
}

// The models in the order Django's state registry lists them (apps by label, then the
// order the models were rendered): the order in which related fields are visited.
std::vector<ModelState> Derivation::sorted_models() const {
  std::vector<ModelState> out;
  for (const auto& [k, m] : m_models) {
    out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const ModelState& a, const ModelState& b) {
    return a.app != b.app ? a.app < b.app : a.order < b.order;
  });
  return out;
}

// Fields of the state pointing at model `target_key`: foreign keys of models, and those of
// auto-created many-to-many tables.
std::vector<RelatedField> Derivation::related_fields(const std::string& target_key) {
  std::vector<RelatedField> out;
  for (const ModelState& m : sorted_models()) {
    for (const Field& f : m.fields) {
      if (f.is_fk() && f.to == target_key) {
        auto rn = f.kw.find("related_name");
        bool hidden =
            rn != f.kw.end() && string_of(&rn->second) && ends_with(*string_of(&rn->second), "+");
        out.push_back(RelatedField{m.key(), f, hidden, false});
      }
      if (has_auto_through(f) && (m.key() == target_key || f.to == target_key)) {
        ModelState t = auto_through(m, f);
        for (const Field& tf : t.fields) {
          if (tf.to == target_key) {
            out.push_back(RelatedField{m.key() + "#" + f.name, tf, true, true});
          }
        }
      }
    }
  }
  return out;
}

// --- types ---------------------------------------------------------------------------------

std::optional<std::string> Derivation::db_type(const Field& f) {
  if (!f.has_column || f.is_m2m()) {
    return std::nullopt;
  }
  if (f.is_fk()) {
    auto target = target_field(f);
    if (!target) {
      if (!f.to.empty()) {
        problem("warning", "django-model-unknown",
                "field " + f.name + " refers to " + f.to +
                    (f.to_field.empty() ? std::string() : "." + f.to_field) +
                    ", which is not in the project state: its column type is unknown",
                f.line);
      }
      return std::string(k_unknown_type);
    }
    return rel_db_type(*target);
  }
  if (f.internal == "ArrayField") {
    if (!f.base_field) {
      return std::string(k_unknown_type);
    }
    auto base = db_type(*f.base_field);
    if (!base || *base == k_unknown_type) {
      return std::string(k_unknown_type);
    }
    return *base + "[" + f.array_size + "]";
  }
  if (!f.known || f.type_template.empty() || f.params_unknown) {
    return std::string(k_unknown_type);
  }
  std::string t = f.type_template;
  auto subst = [&](std::string_view key, const std::string& value) {
    size_t p = t.find(key);
    if (p != std::string::npos) {
      t.replace(p, key.size(), value.empty() ? "None" : value);
    }
  };
  subst("%(max_length)s", f.max_length);
  subst("%(max_digits)s", f.max_digits);
  subst("%(decimal_places)s", f.decimal_places);
  return t;
}

// The type of a column pointing at `target` (Field.rel_db_type()).
std::string Derivation::rel_db_type(const Field& target) {
  const std::string& in = target.internal;
  if (in == "AutoField") {
    return "integer";
  }
  if (in == "BigAutoField") {
    return "bigint";
  }
  if (in == "SmallAutoField") {
    return "smallint";
  }
  if (in == "PositiveIntegerField" || in == "PositiveSmallIntegerField" ||
      in == "PositiveBigIntegerField") {
    return "integer";  // PositiveIntegerRelDbTypeMixin: IntegerField's type on PostgreSQL
  }
  return db_type(target).value_or(std::string(k_unknown_type));
}

std::string Derivation::db_check(const Field& f) const {
  if (f.internal == "PositiveIntegerField" || f.internal == "PositiveSmallIntegerField" ||
      f.internal == "PositiveBigIntegerField") {
    return "\"" + f.column() + "\" >= 0";
  }
  return {};
}

// postgresql/schema.py _field_data_type(): the unformatted data_types entry
// ("varchar(%(max_length)s)"), which decides whether an ALTER COLUMN TYPE needs USING.
std::string Derivation::field_data_type(const Field& f) {
  if (f.is_fk()) {
    auto target = target_field(f);
    return target ? rel_db_type(*target) : std::string(k_unknown_type);
  }
  static const std::set<std::string> k_data_types = {"AutoField",
                                                     "BigAutoField",
                                                     "BinaryField",
                                                     "BooleanField",
                                                     "CharField",
                                                     "DateField",
                                                     "DateTimeField",
                                                     "DecimalField",
                                                     "DurationField",
                                                     "FileField",
                                                     "FilePathField",
                                                     "FloatField",
                                                     "IntegerField",
                                                     "BigIntegerField",
                                                     "IPAddressField",
                                                     "GenericIPAddressField",
                                                     "JSONField",
                                                     "NullBooleanField",
                                                     "OneToOneField",
                                                     "PositiveBigIntegerField",
                                                     "PositiveIntegerField",
                                                     "PositiveSmallIntegerField",
                                                     "SlugField",
                                                     "SmallAutoField",
                                                     "SmallIntegerField",
                                                     "TextField",
                                                     "TimeField",
                                                     "UUIDField"};
  if (f.known && k_data_types.count(f.internal) && !f.type_template.empty()) {
    return f.type_template;
  }
  return db_type(f).value_or("");
}

}  // namespace

namespace {

// --- values as SQL ----------------------------------------------------------------------------

bool is_integer_internal(std::string_view in) {
  return in == "AutoField" || in == "BigAutoField" || in == "SmallAutoField" ||
         in == "IntegerField" || in == "BigIntegerField" || in == "SmallIntegerField" ||
         in == "PositiveIntegerField" || in == "PositiveSmallIntegerField" ||
         in == "PositiveBigIntegerField";
}

bool is_string_internal(std::string_view in) {
  return in == "CharField" || in == "SlugField" || in == "TextField" || in == "FileField" ||
         in == "FilePathField" || in == "CICharField" || in == "CIEmailField" ||
         in == "CITextField";
}

std::string hex_bytes(std::string_view b) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
  }
  return out;
}

}  // namespace

// get_db_prep_save() of the field, then psycopg2's adaptation: the SQL text of a value.
std::optional<std::string> Derivation::value_sql(const Field& f, const PyValue& v, bool quoted) {
  using T = PyValue::T;
  const bool dp = quoted || m_settings.sqlmigrate_semantics;
  auto quote = [&](std::string_view text) { return quote_string(text, dp); };
  if (f.is_fk()) {
    auto target = target_field(f);
    if (!target) {
      return std::nullopt;
    }
    if (v.t == T::string && v.text.empty() && !target->empty_strings_allowed) {
      return std::nullopt;
    }
    return value_sql(*target, v, quoted);
  }
  const std::string& in = f.internal;
  if (v.t == T::runtime) {
    if (in == "DateTimeField") {
      return std::string("now()");
    }
    if (in == "DateField") {
      return std::string("CURRENT_DATE");
    }
    if (in == "TimeField") {
      return std::string("LOCALTIME");
    }
    if (in == "UUIDField" && v.text == "uuid") {
      return std::string("gen_random_uuid()");
    }
    return std::nullopt;
  }
  if (is_string_internal(in) || in == "GenericIPAddressField" || in == "IPAddressField") {
    std::string s;
    switch (v.t) {
      case T::string:
        s = v.text;
        break;
      case T::integer:
      case T::decimal:
        s = v.text;
        break;
      case T::floating:
        s = float_repr(std::strtod(v.text.c_str(), nullptr));
        break;
      case T::boolean:
        s = v.text;
        break;
      default:
        return std::nullopt;
    }
    if (in == "GenericIPAddressField" || in == "IPAddressField") {
      if (s.empty()) {
        return std::nullopt;  // adapt_ipaddressfield_value('') is None
      }
      return quote(s) + "::inet";
    }
    return quote(s);
  }
  if (is_integer_internal(in)) {
    switch (v.t) {
      case T::integer:
        return number_sql(v.text);
      case T::boolean:
        return std::string(v.text == "True" ? "1" : "0");
      case T::floating:
      case T::decimal:
      case T::string: {
        std::string t(text::trim(v.text));
        size_t dot = t.find('.');
        if (v.t != T::string && dot != std::string::npos) {
          t = t.substr(0, dot);
        }
        if (t.empty() || t.find_first_not_of("-+0123456789") != std::string::npos) {
          return std::nullopt;
        }
        return number_sql(t);
      }
      default:
        return std::nullopt;
    }
  }
  if (in == "BooleanField" || in == "NullBooleanField") {
    if (v.t == T::boolean) {
      return std::string(v.text == "True" ? "true" : "false");
    }
    if (v.t == T::integer) {
      return std::string(v.text == "0" ? "false" : "true");
    }
    if (v.t == T::string) {
      static const std::set<std::string> k_true = {"t", "True", "1"}, k_false = {"f", "False", "0"};
      if (k_true.count(v.text)) {
        return std::string("true");
      }
      if (k_false.count(v.text)) {
        return std::string("false");
      }
    }
    return std::nullopt;
  }
  if (in == "DecimalField") {
    if (v.t == T::integer || v.t == T::decimal || v.t == T::floating ||
        (v.t == T::string && !v.text.empty())) {
      // adapt_decimalfield_value() of the PostgreSQL backend returns the Decimal itself:
      // psycopg2 writes str(Decimal(value)), unquoted and not quantized.
      std::string t(text::trim(v.text));
      if (t.empty() || t.find_first_not_of("-+0123456789.eE") != std::string::npos) {
        return std::nullopt;
      }
      return number_sql(t);
    }
    return std::nullopt;
  }
  if (in == "FloatField") {
    if (v.t == T::integer || v.t == T::floating || v.t == T::decimal) {
      return number_sql(float_repr(std::strtod(v.text.c_str(), nullptr)));
    }
    return std::nullopt;
  }
  if (in == "DateField") {
    if (v.t == T::date || v.t == T::datetime) {
      return quote(v.text.substr(0, 10)) + "::date";
    }
    return std::nullopt;
  }
  if (in == "DateTimeField") {
    if (v.t == T::datetime) {
      return quote(v.text) + (v.aware ? "::timestamptz" : "::timestamp");
    }
    if (v.t == T::date) {
      return quote(v.text + "T00:00:00") + "::timestamp";
    }
    return std::nullopt;
  }
  if (in == "TimeField" && v.t == T::time) {
    return quote(v.text) + "::time";
  }
  if (in == "DurationField" && v.t == T::timedelta) {
    return quote(v.text) + "::interval";
  }
  if (in == "UUIDField" && (v.t == T::uuid || v.t == T::string)) {
    return quote(v.text) + "::uuid";
  }
  if (in == "JSONField") {
    auto json = json_dumps(v);
    if (!json) {
      return std::nullopt;
    }
    return quote(*json);
  }
  if (in == "ArrayField") {
    if (v.t != T::list || !f.base_field) {
      return std::nullopt;
    }
    if (v.items.empty()) {
      return std::string("'{}'");
    }
    std::vector<std::string> items;
    for (const auto& item : v.items) {
      auto s = value_sql(*f.base_field, item, quoted);
      if (!s) {
        return std::nullopt;
      }
      items.push_back(*s);
    }
    return "ARRAY[" + join(items, ",") + "]";
  }
  if (in == "BinaryField" && (v.t == T::bytes || v.t == T::string)) {
    return "'\\x" + hex_bytes(v.text) + "'::bytea";
  }
  if (!f.known || in.empty()) {
    switch (v.t) {
      case T::string:
        return quote(v.text);
      case T::integer:
        return number_sql(v.text);
      case T::boolean:
        return std::string(v.text == "True" ? "true" : "false");
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;
}

// get_db_prep_value() for a lookup's right-hand side: like value_sql, but decimals are not
// quantized (DecimalField only quantizes on save).
std::optional<std::string> Derivation::lookup_value_sql(const Field& f, const PyValue& v) {
  const Field* field = &f;
  std::optional<Field> target;
  if (f.is_fk()) {
    target = target_field(f);
    if (!target) {
      return std::nullopt;
    }
    field = &*target;
  }
  if (field->internal == "DecimalField" &&
      (v.t == PyValue::T::integer || v.t == PyValue::T::decimal || v.t == PyValue::T::floating)) {
    return number_sql(v.text);
  }
  return value_sql(*field, v, true);
}

Derivation::SqlDefault Derivation::effective_default(const Field& f, bool report) {
  PyValue v;
  std::string origin;
  if (f.has_default()) {
    v = python_value(*f.default_value);
    origin = py::to_source(*f.default_value);
  } else if (!f.null && f.blank && f.empty_strings_allowed) {
    v.t = f.internal == "BinaryField" ? PyValue::T::bytes : PyValue::T::string;
  } else if (f.auto_now || f.auto_now_add) {
    v.t = PyValue::T::runtime;
    v.text = "now";
    origin = f.auto_now ? "auto_now" : "auto_now_add";
  } else {
    return {};
  }
  if (v.t == PyValue::T::none) {
    return {};
  }
  if (!value_known(v)) {
    if (report) {
      problem("notice", "django-default-unknown",
              "the default of field " + f.name + " (" + v.text +
                  ") is computed by Python when the migration runs; recorded as unknown");
    }
    return SqlDefault{false, quote_string("<" + v.text + " at migrate time>")};
  }
  auto sql = value_sql(f, v);
  if (!sql) {
    if (report) {
      problem("notice", "django-default-unknown",
              "the default of field " + f.name + " (" + (origin.empty() ? "''" : origin) +
                  ") cannot be turned into SQL here; recorded as unknown");
    }
    return SqlDefault{false, quote_string("<" + (origin.empty() ? std::string("''") : origin) +
                                          " at migrate time>")};
  }
  if (v.t == PyValue::T::runtime && report) {
    problem("notice", "django-default-runtime",
            "the default of field " + f.name + " (" + origin +
                ") is a value Django computes when the migration runs; written as " + *sql);
  }
  return SqlDefault{false, *sql};
}

// --- Q objects and expressions ----------------------------------------------------------------

struct Derivation::QTree {
  struct Child {
    std::string lookup;  // "field__gte"; empty for a subtree
    Node value;
    std::shared_ptr<QTree> tree;
  };
  std::string connector = "AND";
  bool negated = false;
  std::vector<Child> children;
};

namespace {

bool is_q_call(const Node& n) {
  std::string p = callee_path(n);
  return p == "django.db.models.Q" || p == "django.db.models.query_utils.Q";
}

bool is_f_call(const Node& n) {
  std::string p = callee_path(n);
  return p == "django.db.models.F" || p == "django.db.models.expressions.F";
}

// tree.Node.add() with squash: a child with the same connector (or a single child), not
// negated, is merged into its parent.
template <typename Tree>
void add_squashed(Tree& parent, std::shared_ptr<Tree> child, const std::string& connector) {
  if (!child->negated && (child->connector == connector || child->children.size() == 1)) {
    for (auto& c : child->children) {
      parent.children.push_back(c);
    }
    return;
  }
  typename Tree::Child c;
  c.tree = std::move(child);
  parent.children.push_back(std::move(c));
}

// A Q object (Q(...), q1 & q2, q1 | q2, ~q) as Django builds it.
std::shared_ptr<Derivation::QTree> build_q(const Node& n) {
  using QTree = Derivation::QTree;
  if (n.kind == NodeKind::call && is_q_call(n)) {
    auto t = std::make_shared<QTree>();
    if (auto c = string_of(n.keyword_argument("_connector"))) {
      t->connector = *c;
    }
    if (auto neg = bool_of(n.keyword_argument("_negated"))) {
      t->negated = *neg;
    }
    for (const Node* a : n.positional_arguments()) {
      if ((a->kind == NodeKind::tuple || a->kind == NodeKind::list) && a->children.size() == 2 &&
          a->children[0].is_string()) {
        QTree::Child c;
        c.lookup = a->children[0].text;
        c.value = a->children[1];
        t->children.push_back(std::move(c));
      } else {
        auto sub = build_q(*a);
        if (!sub) {
          return nullptr;
        }
        QTree::Child c;
        c.tree = sub;
        t->children.push_back(std::move(c));
      }
    }
    std::vector<const Node*> kws = n.keyword_arguments();
    std::sort(kws.begin(), kws.end(),
              [](const Node* a, const Node* b) { return a->keyword < b->keyword; });
    for (const Node* k : kws) {
      if (k->keyword == "_connector" || k->keyword == "_negated") {
        continue;
      }
      QTree::Child c;
      c.lookup = k->keyword;
      c.value = *k;
      c.value.keyword.clear();
      t->children.push_back(std::move(c));
    }
    return t;
  }
  if (n.kind == NodeKind::binary && (n.text == "&" || n.text == "|") && n.children.size() == 2) {
    auto a = build_q(n.children[0]);
    auto b = build_q(n.children[1]);
    if (!a || !b) {
      return nullptr;
    }
    std::string conn = n.text == "&" ? "AND" : "OR";
    if (a->children.empty()) {
      return b;
    }
    if (b->children.empty()) {
      return a;
    }
    auto t = std::make_shared<QTree>();
    t->connector = conn;
    add_squashed(*t, a, conn);
    add_squashed(*t, b, conn);
    return t;
  }
  if (n.kind == NodeKind::unary && n.text == "~" && n.children.size() == 1) {
    auto inner = build_q(n.children[0]);
    if (!inner) {
      return nullptr;
    }
    auto t = std::make_shared<QTree>();
    add_squashed(*t, inner, "AND");
    t->negated = !t->negated;
    return t;
  }
  return nullptr;
}

// A WhereNode: SQL leaves and subtrees.
struct Where {
  struct Child {
    std::string sql;
    std::shared_ptr<Where> tree;
  };
  std::string connector = "AND";
  bool negated = false;
  std::vector<Child> children;
};

std::string where_sql(const Where& w) {
  std::vector<std::string> parts;
  for (const auto& c : w.children) {
    std::string s = c.tree ? where_sql(*c.tree) : c.sql;
    if (!s.empty()) {
      parts.push_back(s);
    }
  }
  std::string s = join(parts, " " + w.connector + " ");
  if (s.empty()) {
    return s;
  }
  if (w.negated) {
    return "NOT (" + s + ")";
  }
  if (parts.size() > 1) {
    return "(" + s + ")";
  }
  return s;
}

std::string like_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '%' || c == '_') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

}  // namespace

std::optional<std::string> Derivation::compile_q(const ModelState& m, const Node& q) {
  auto tree = build_q(q);
  if (!tree) {
    return std::nullopt;
  }
  bool ok = true;
  std::function<std::shared_ptr<Where>(const QTree&, bool)> add_q;
  std::function<std::shared_ptr<Where>(const QTree::Child&, bool)> build_filter;
  build_filter = [&](const QTree::Child& c, bool negated) -> std::shared_ptr<Where> {
    if (c.tree) {
      return add_q(*c.tree, negated);
    }
    std::vector<std::string> path;
    for (size_t start = 0;;) {
      size_t sep = c.lookup.find("__", start);
      path.push_back(
          c.lookup.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
      if (sep == std::string::npos) {
        break;
      }
      start = sep + 2;
    }
    if (path.empty()) {
      ok = false;
      return nullptr;
    }
    const Field* field = nullptr;
    std::optional<Field> pk;
    if (path[0] == "pk") {
      pk = pk_field(m);
      field = pk ? &*pk : nullptr;
    } else {
      field = get_field(m, path[0]);
    }
    if (!field) {
      ok = false;
      return nullptr;
    }
    size_t i = 1;
    // `fk__id`: the target's own key, no join needed.
    if (field->is_fk() && i < path.size()) {
      auto target = target_field(*field);
      if (target && path[i] == target->name) {
        ++i;
      }
    }
    std::string lhs = qn(field->column());
    std::string internal = field->internal;
    bool transformed = false;
    std::string lookup = "exact";
    for (; i < path.size(); ++i) {
      const std::string& p = path[i];
      if (p == "length") {
        lhs = "LENGTH(" + lhs + ")";
        transformed = true;
      } else if (p == "lower" || p == "upper") {
        lhs = (p == "lower" ? "LOWER(" : "UPPER(") + lhs + ")";
      } else if (i + 1 == path.size()) {
        lookup = p;
      } else {
        ok = false;  // a join or a transform this reader does not know
        return nullptr;
      }
    }
    auto rhs_of = [&](const Node& v) -> std::optional<std::string> {
      if (v.kind == NodeKind::call && is_f_call(v) && v.argument(0) && v.argument(0)->is_string()) {
        const Field* other = get_field(m, v.argument(0)->text);
        if (!other) {
          return std::nullopt;
        }
        return qn(other->column());
      }
      PyValue pv = python_value(v);
      if (!value_known(pv)) {
        return std::nullopt;
      }
      if (transformed) {
        return pv.t == PyValue::T::integer ? std::optional<std::string>(number_sql(pv.text))
                                           : std::nullopt;
      }
      return lookup_value_sql(*field, pv);
    };
    PyValue raw = python_value(c.value);
    std::string sql;
    std::string cast_lhs =
        (internal == "GenericIPAddressField" || internal == "IPAddressField") ? "HOST(" + lhs + ")"
        : (internal == "CICharField" || internal == "CIEmailField" || internal == "CITextField")
            ? lhs + "::citext"
            : lhs + "::text";
    static const std::map<std::string, std::string> k_compare = {
        {"exact", "="}, {"gt", ">"},    {"gte", ">="},   {"lt", "<"},
        {"lte", "<="},  {"regex", "~"}, {"iregex", "~*"}};
    bool null_rhs = raw.t == PyValue::T::none;
    if ((lookup == "exact" && null_rhs) || lookup == "isnull") {
      bool is_null = lookup == "exact" || (raw.t == PyValue::T::boolean && raw.text == "True");
      sql = lhs + (is_null ? " IS NULL" : " IS NOT NULL");
    } else if (lookup == "exact" && raw.t == PyValue::T::boolean && !transformed &&
               (internal == "BooleanField" || internal == "NullBooleanField")) {
      // Exact.as_sql(): a boolean column compared with True / False is the column itself.
      sql = raw.text == "True" ? lhs : "NOT " + lhs;
    } else if (k_compare.count(lookup)) {
      auto rhs = rhs_of(c.value);
      if (!rhs) {
        ok = false;
        return nullptr;
      }
      std::string l = (lookup == "regex" || lookup == "iregex") ? cast_lhs : lhs;
      sql = l + " " + k_compare.at(lookup) + " " + *rhs;
    } else if (lookup == "iexact") {
      auto rhs = rhs_of(c.value);
      if (!rhs) {
        ok = false;
        return nullptr;
      }
      sql = "UPPER(" + cast_lhs + ") = UPPER(" + *rhs + ")";
    } else if (lookup == "in") {
      if (raw.t != PyValue::T::list) {
        ok = false;
        return nullptr;
      }
      std::vector<std::string> items;
      for (const auto& e : elements_of(&c.value)) {
        PyValue ev = python_value(e);
        if (ev.t == PyValue::T::none) {
          continue;
        }
        auto s = lookup_value_sql(*field, ev);
        if (!s) {
          ok = false;
          return nullptr;
        }
        if (std::find(items.begin(), items.end(), *s) == items.end()) {
          items.push_back(*s);
        }
      }
      sql = lhs + " IN (" + join(items, ", ") + ")";
    } else if (lookup == "range") {
      auto e = elements_of(&c.value);
      if (e.size() != 2) {
        ok = false;
        return nullptr;
      }
      auto a = rhs_of(e[0]);
      auto b = rhs_of(e[1]);
      if (!a || !b) {
        ok = false;
        return nullptr;
      }
      sql = lhs + " BETWEEN " + *a + " AND " + *b;
    } else if (lookup == "contains" || lookup == "icontains" || lookup == "startswith" ||
               lookup == "istartswith" || lookup == "endswith" || lookup == "iendswith") {
      if (raw.t != PyValue::T::string) {
        ok = false;
        return nullptr;
      }
      std::string base = lookup[0] == 'i' ? lookup.substr(1) : lookup;
      std::string pattern = like_escape(raw.text);
      pattern = base == "contains"     ? "%" + pattern + "%"
                : base == "startswith" ? pattern + "%"
                                       : "%" + pattern;
      if (lookup[0] == 'i') {
        sql = "UPPER(" + cast_lhs + ") LIKE UPPER(" + quote_string(pattern, true) + ")";
      } else {
        sql = cast_lhs + " LIKE " + quote_string(pattern, true);
      }
    } else {
      ok = false;
      return nullptr;
    }
    auto clause = std::make_shared<Where>();
    clause->children.push_back(Where::Child{sql, nullptr});
    // build_filter(): under a negation a nullable column also gets IS NOT NULL.
    if (negated && lookup != "isnull" && !null_rhs) {
      if (field->null) {
        clause->children.push_back(Where::Child{lhs + " IS NOT NULL", nullptr});
      }
      if (c.value.kind == NodeKind::call && is_f_call(c.value) && c.value.argument(0)) {
        const Field* other = get_field(m, c.value.argument(0)->text);
        if (other && other->null) {
          clause->children.push_back(Where::Child{qn(other->column()) + " IS NOT NULL", nullptr});
        }
      }
    }
    return clause;
  };
  add_q = [&](const QTree& t, bool negated) -> std::shared_ptr<Where> {
    negated = negated != t.negated;
    auto target = std::make_shared<Where>();
    target->connector = t.connector;
    target->negated = t.negated;
    for (const auto& c : t.children) {
      auto clause = build_filter(c, negated);
      if (!clause) {
        return nullptr;
      }
      add_squashed(*target, clause, t.connector);
    }
    return target;
  };
  auto where = add_q(*tree, false);
  if (!ok || !where) {
    return std::nullopt;
  }
  return where_sql(*where);
}

std::optional<std::string> Derivation::compile_expression(const ModelState& m, const Node& e,
                                                          std::vector<std::string>* columns) {
  // F('name') or 'name': the column.
  std::optional<std::string> name;
  if (e.is_string()) {
    name = e.text;
  } else if (e.kind == NodeKind::call && is_f_call(e) && e.argument(0)) {
    name = string_of(e.argument(0));
  }
  if (name) {
    bool desc = !name->empty() && (*name)[0] == '-';
    const Field* f = get_field(m, desc ? name->substr(1) : *name);
    if (!f) {
      return std::nullopt;
    }
    if (columns) {
      columns->push_back(f->column());
    }
    return qn(f->column()) + (desc ? " DESC" : "");
  }
  if (e.kind != NodeKind::call || !e.callee()) {
    return std::nullopt;
  }
  const Node& callee = *e.callee();
  // expr.desc() / expr.asc(): an OrderBy around the expression.
  if (callee.kind == NodeKind::attribute && (callee.text == "desc" || callee.text == "asc") &&
      !callee.children.empty()) {
    auto inner = compile_expression(m, callee.children[0], columns);
    if (!inner) {
      return std::nullopt;
    }
    return *inner + (callee.text == "desc" ? " DESC" : " ASC");
  }
  std::string fn = last_component(callee.text);
  if (!starts_with(callee.text, "django.db.models.")) {
    return std::nullopt;
  }
  if (fn == "Lower" || fn == "Upper" || fn == "Abs" || fn == "Length" || fn == "Trim") {
    static const std::map<std::string, std::string> k_sql = {{"Lower", "LOWER"},
                                                             {"Upper", "UPPER"},
                                                             {"Abs", "ABS"},
                                                             {"Length", "LENGTH"},
                                                             {"Trim", "TRIM"}};
    const Node* a = e.argument(0);
    if (!a) {
      return std::nullopt;
    }
    auto inner = compile_expression(m, *a, columns);
    if (!inner) {
      return std::nullopt;
    }
    return k_sql.at(fn) + "(" + *inner + ")";
  }
  if (fn == "Collate" && e.argument(0) && e.argument(1) && e.argument(1)->is_string()) {
    auto inner = compile_expression(m, *e.argument(0), columns);
    if (!inner) {
      return std::nullopt;
    }
    return *inner + " COLLATE " + qn(e.argument(1)->text);
  }
  if (fn == "OrderBy" && e.argument(0)) {
    auto inner = compile_expression(m, *e.argument(0), columns);
    if (!inner) {
      return std::nullopt;
    }
    bool desc = bool_of(e.keyword_argument("descending")).value_or(false);
    return *inner + (desc ? " DESC" : " ASC");
  }
  return std::nullopt;
}

// --- the schema editor --------------------------------------------------------------------

namespace {

// Identifiers of a column list as the catalog keeps it ("\"a\", b varchar_pattern_ops");
// an expression element gives "".
std::vector<std::string> column_names_of(const std::string& list) {
  std::vector<std::string> out;
  for (const auto& piece : pgsql::split_top_level(list)) {
    std::string_view p = text::trim(piece);
    std::string name;
    if (!p.empty() && p[0] == '"') {
      size_t i = 1;
      while (i < p.size()) {
        if (p[i] == '"') {
          if (i + 1 < p.size() && p[i + 1] == '"') {
            name += '"';
            i += 2;
            continue;
          }
          break;
        }
        name += p[i++];
      }
      p.remove_prefix(std::min(p.size(), i + 1));
    } else {
      size_t i = 0;
      while (i < p.size() && (std::isalnum(static_cast<unsigned char>(p[i])) || p[i] == '_' ||
                              p[i] == '$' || static_cast<unsigned char>(p[i]) >= 0x80)) {
        ++i;
      }
      name = text::lower(p.substr(0, i));
      p.remove_prefix(i);
    }
    p = text::trim(p);
    if (name.empty() || (!p.empty() && p[0] == '(')) {
      name.clear();  // an expression
    }
    out.push_back(name);
  }
  return out;
}

bool mentions_column(std::string_view def, const std::string& column) {
  if (def.find("\"" + column + "\"") != std::string_view::npos) {
    return true;
  }
  size_t pos = 0;
  while ((pos = def.find(column, pos)) != std::string_view::npos) {
    auto word = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '"';
    };
    bool before = pos == 0 || !word(def[pos - 1]);
    bool after = pos + column.size() >= def.size() || !word(def[pos + column.size()]);
    if (before && after) {
      return true;
    }
    pos += column.size();
  }
  return false;
}

}  // namespace

void Derivation::execute(const std::string& sql, uint64_t line) {
  if (line == 0) {
    line = m_line;
  }
  std::string stmt = ends_with(sql, ";") ? sql : sql + ";";
  m_mig->statements.push_back(stmt);
  m_collected.push_back(stmt);
  pgsql::ScriptEffects r = pgsql::replay_script(stmt, line, m_catalog, m_session);
  for (auto& e : r.effects) {
    m_mig->effects.push_back(std::move(e));
  }
  for (auto& p : r.problems) {
    problem(p.severity.empty() ? "warning" : p.severity, p.code, p.message, p.line ? p.line : line);
  }
}

void Derivation::flush_deferred() {
  std::vector<Stmt> deferred = std::move(m_deferred);
  m_deferred.clear();
  for (const auto& s : deferred) {
    execute(s.render(), s.line);
  }
}

std::vector<DbConstraint> Derivation::get_constraints(const std::string& table) {
  std::vector<DbConstraint> out;
  // What Django reads back: the database as it is (migrate), or as it was when the
  // migration began (sqlmigrate collects the statements without running them).
  pgsql::Catalog& db = m_settings.sqlmigrate_semantics ? m_snapshot : m_catalog;
  pgsql::QualifiedName key{pgsql::k_search_path_schema, table};
  pgsql::RelationModel* rel = db.relation(key);
  if (!rel) {
    return out;
  }
  std::vector<std::string> table_columns;
  for (const auto& c : rel->columns) {
    table_columns.push_back(c.name);
  }
  for (const store::ConstraintFact* c : db.constraints_of(key)) {
    DbConstraint d;
    d.name = c->name;
    if (c->kind == "c") {
      // conkey of a CHECK: the columns its expression uses, in table order.
      for (const auto& col : table_columns) {
        if (mentions_column(c->definition.value_or(""), col)) {
          d.columns.push_back(col);
        }
      }
    } else {
      d.columns = column_names_of(c->columns.value_or(""));
    }
    d.primary_key = c->kind == "p";
    d.unique = c->kind == "p" || c->kind == "u";
    d.foreign_key = c->kind == "f";
    d.check = c->kind == "c";
    out.push_back(d);
  }
  for (const auto& idx : db.indexes()) {
    if (idx.schema_name != key.first || idx.table_name != table || idx.constraint_name) {
      continue;
    }
    DbConstraint d;
    d.name = idx.name;
    d.columns = column_names_of(idx.columns);
    d.index = true;
    d.unique = idx.is_unique;
    d.primary_key = idx.is_primary;
    d.type = idx.method == "btree" && !ends_with(idx.name, "_btree") ? "idx" : idx.method;
    out.push_back(d);
  }
  return out;
}

std::vector<std::string> Derivation::constraint_names(const std::string& table,
                                                      const std::vector<std::string>* columns,
                                                      const ConstraintFilter& f) {
  std::vector<std::string> out;
  for (const auto& d : get_constraints(table)) {
    if (columns && *columns != d.columns) {
      continue;
    }
    if ((f.unique && *f.unique != d.unique) || (f.primary_key && *f.primary_key != d.primary_key) ||
        (f.index && *f.index != d.index) || (f.check && *f.check != d.check) ||
        (f.foreign_key && !d.foreign_key) || (!f.type.empty() && d.type != f.type) ||
        f.exclude.count(d.name)) {
      continue;
    }
    out.push_back(d.name);
  }
  return out;
}

std::optional<std::string> Derivation::column_sql(const ModelState& m, const Field& f,
                                                  bool include_default,
                                                  const SqlDefault* precomputed) {
  auto type = db_type(f);
  if (!type) {
    return std::nullopt;
  }
  std::string sql = *type;
  if (!f.db_collation.empty()) {
    sql += " COLLATE " + qn(f.db_collation);
  }
  if (include_default) {
    SqlDefault d = precomputed ? *precomputed : effective_default(f);
    if (!d.none) {
      sql += " DEFAULT " + d.sql;
    }
  }
  sql += f.null ? " NULL" : " NOT NULL";
  if (f.primary_key) {
    sql += " PRIMARY KEY";
  } else if (f.unique()) {
    sql += " UNIQUE";
  }
  std::string tablespace = !f.db_tablespace.empty() ? f.db_tablespace : m.db_tablespace;
  if (!tablespace.empty() && f.unique()) {
    sql += " USING INDEX TABLESPACE " + qn(tablespace);
  }
  return sql;
}

std::vector<std::string> Derivation::columns_of(const ModelState& m,
                                                const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    const Field* f = get_field(m, n);
    if (!f) {
      problem("warning", "django-field-unknown",
              "model " + m.key() + " has no field " + n + "; the column is assumed to be " + n);
      out.push_back(n);
      continue;
    }
    out.push_back(f->column());
  }
  return out;
}

Stmt Derivation::index_stmt(const ModelState& m, const std::vector<Field>& fields,
                            const std::string& suffix) {
  Stmt s;
  s.kind = Stmt::Kind::index;
  s.table = db_table(m);
  for (const auto& f : fields) {
    s.columns.push_back(f.column());
  }
  s.suffix = suffix;
  std::string tablespace;
  if (fields.size() == 1 && !fields[0].db_tablespace.empty()) {
    tablespace = fields[0].db_tablespace;
  } else if (!m.db_tablespace.empty()) {
    tablespace = m.db_tablespace;
  }
  if (!tablespace.empty()) {
    s.extra = " TABLESPACE " + qn(tablespace);
  }
  s.line = m_line;
  return s;
}

Stmt Derivation::unique_stmt(const std::string& table, const std::vector<std::string>& columns) {
  Stmt s;
  s.kind = Stmt::Kind::unique;
  s.table = table;
  s.columns = columns;
  s.suffix = "_uniq";
  s.line = m_line;
  return s;
}

Stmt Derivation::fk_stmt(const ModelState& m, const Field& f, bool named_after_target) {
  Stmt s;
  s.kind = Stmt::Kind::fk;
  s.table = db_table(m);
  s.columns = {f.column()};
  s.fk_named_after_target = named_after_target;
  s.suffix = "_fk";
  const ModelState* target = target_model(f.to);
  auto tf = target_field(f);
  s.to_table = target ? db_table(*target) : f.to;
  s.to_columns = {tf ? tf->column() : std::string("id")};
  s.line = m_line;
  return s;
}

std::optional<Stmt> Derivation::like_index(const ModelState& m, const Field& f) {
  auto type = db_type(f);
  if (!type || !(f.db_index || f.unique()) || type->find('[') != std::string::npos) {
    return std::nullopt;
  }
  std::string opclass;
  if (starts_with(*type, "varchar")) {
    opclass = "varchar_pattern_ops";
  } else if (starts_with(*type, "text")) {
    opclass = "text_pattern_ops";
  } else {
    return std::nullopt;
  }
  Stmt s = index_stmt(m, {f}, "_like");
  s.opclasses = {opclass};
  return s;
}

std::vector<Stmt> Derivation::field_indexes(const ModelState& m, const Field& f) {
  std::vector<Stmt> out;
  if (f.db_index && !f.unique()) {
    out.push_back(index_stmt(m, {f}, ""));
  }
  if (auto like = like_index(m, f)) {
    out.push_back(*like);
  }
  return out;
}

std::optional<Stmt> Derivation::index_create(const ModelState& m, const IndexDef& idx) {
  Stmt s;
  s.kind = Stmt::Kind::index;
  s.table = db_table(m);
  s.name = idx.name;
  s.line = m_line;
  std::vector<Field> fields;
  if (!idx.expressions.empty()) {
    std::vector<std::string> parts;
    for (const auto& e : idx.expressions) {
      auto sql = compile_expression(m, e, &s.columns);
      if (!sql) {
        problem("warning", "django-expression-unknown",
                "index " + idx.name + ": the expression " + py::to_source(e) +
                    " cannot be compiled here; the index is recorded with an unknown expression");
        sql = qn("<" + py::to_source(e) + ">");
      } else {
        // IndexExpression: anything but a plain column (under its ordering / collation) is
        // wrapped in parentheses.
        std::string root = *sql;
        for (std::string_view w : {" DESC", " ASC"}) {
          if (ends_with(root, w)) {
            root = root.substr(0, root.size() - w.size());
          }
        }
        size_t coll = root.find(" COLLATE ");
        std::string base = coll == std::string::npos ? root : root.substr(0, coll);
        if (!(base.size() >= 2 && base.front() == '"' && base.back() == '"' &&
              base.find('"', 1) == base.size() - 1)) {
          sql = "(" + base + ")" + sql->substr(base.size());
        }
      }
      parts.push_back(*sql);
    }
    s.expressions = join(parts, ", ");
  } else {
    for (const auto& name : idx.fields) {
      bool desc = !name.empty() && name[0] == '-';
      const Field* f = get_field(m, desc ? name.substr(1) : name);
      if (!f) {
        problem("warning", "django-field-unknown",
                "index " + idx.name + ": model " + m.key() + " has no field " + name);
        return std::nullopt;
      }
      fields.push_back(*f);
      s.columns.push_back(f->column());
      s.col_suffixes.push_back(desc ? "DESC" : "");
    }
    s.opclasses = idx.opclasses;
  }
  if (idx.condition) {
    auto cond = compile_q(m, *idx.condition);
    if (!cond) {
      problem("warning", "django-expression-unknown",
              "index " + idx.name + ": its condition " + py::to_source(*idx.condition) +
                  " cannot be compiled here; recorded without it");
    } else {
      s.condition = " WHERE " + *cond;
    }
  }
  if (!idx.include.empty()) {
    std::vector<std::string> q;
    for (const auto& c : columns_of(m, idx.include)) {
      q.push_back(qn(c));
    }
    s.include = " INCLUDE (" + join(q, ", ") + ")";
  }
  if (!idx.using_method.empty()) {
    s.using_method = " USING " + idx.using_method;
  }
  std::string tablespace = idx.db_tablespace;
  if (tablespace.empty()) {
    if (fields.size() == 1 && !fields[0].db_tablespace.empty()) {
      tablespace = fields[0].db_tablespace;
    } else if (!m.db_tablespace.empty()) {
      tablespace = m.db_tablespace;
    }
  }
  if (!tablespace.empty()) {
    s.extra = " TABLESPACE " + qn(tablespace);
  }
  if (!idx.with_params.empty()) {
    s.extra = "WITH (" + join(idx.with_params, ", ") + ") " + s.extra;
  }
  return s;
}

std::optional<std::string> Derivation::check_sql(const ModelState& m, const ConstraintDef& c) {
  if (!c.check) {
    return std::nullopt;
  }
  auto sql = compile_q(m, *c.check);
  if (!sql) {
    problem("warning", "django-expression-unknown",
            "constraint " + c.name + ": the check " + py::to_source(*c.check) +
                " cannot be compiled here; its expression is unknown");
  }
  return sql;
}

namespace {

std::string deferrable_sql(const std::string& d) {
  if (d == "deferred") {
    return " DEFERRABLE INITIALLY DEFERRED";
  }
  if (d == "immediate") {
    return " DEFERRABLE INITIALLY IMMEDIATE";
  }
  return {};
}

}  // namespace

// _create_unique_sql() with a condition, INCLUDE columns, opclasses or (Django 4)
// expressions: CREATE UNIQUE INDEX.
Stmt Derivation::unique_index_stmt(const ModelState& m, const ConstraintDef& c) {
  Stmt s;
  s.kind = Stmt::Kind::unique_index;
  s.table = db_table(m);
  s.name = c.name;
  s.line = m_line;
  s.opclasses = c.opclasses;
  if (!c.unique_expressions.empty()) {
    std::vector<std::string> parts;
    for (const auto& e : c.unique_expressions) {
      auto sql = compile_expression(m, e, &s.columns);
      if (!sql) {
        problem("warning", "django-expression-unknown",
                "constraint " + c.name + ": the expression " + py::to_source(e) +
                    " cannot be compiled here; recorded as unknown");
        sql = qn("<" + py::to_source(e) + ">");
      } else if (!(sql->size() >= 2 && sql->front() == '"' && sql->back() == '"')) {
        sql = "(" + *sql + ")";
      }
      parts.push_back(*sql);
    }
    s.expressions = join(parts, ", ");
  } else {
    s.columns = columns_of(m, c.fields);
  }
  if (c.condition) {
    if (auto cond = compile_q(m, *c.condition)) {
      s.condition = " WHERE " + *cond;
    } else {
      problem("warning", "django-expression-unknown",
              "constraint " + c.name + ": its condition " + py::to_source(*c.condition) +
                  " cannot be compiled here; recorded without it");
    }
  }
  if (!c.include.empty()) {
    std::vector<std::string> q;
    for (const auto& col : columns_of(m, c.include)) {
      q.push_back(qn(col));
    }
    s.include = " INCLUDE (" + join(q, ", ") + ")";
  }
  return s;
}

std::string Derivation::constraint_sql(const ModelState& m, const ConstraintDef& c) {
  if (c.kind == "check") {
    auto sql = check_sql(m, c);
    return "CONSTRAINT " + qn(c.name) + " CHECK (" + sql.value_or("<unknown>") + ")";
  }
  if (c.kind == "unique") {
    if (is_index_backed(c)) {
      // A partial, covering or expression unique constraint is a unique index, made after
      // the table.
      m_deferred.push_back(unique_index_stmt(m, c));
      return {};
    }
    std::vector<std::string> q;
    for (const auto& col : columns_of(m, c.fields)) {
      q.push_back(qn(col));
    }
    return "CONSTRAINT " + qn(c.name) + " UNIQUE (" + join(q, ", ") + ")" +
           deferrable_sql(c.deferrable);
  }
  if (c.kind == "exclusion") {
    std::vector<std::string> parts;
    for (const auto& [expr, op] : c.expressions) {
      std::vector<std::string> cols;
      auto sql = compile_expression(m, expr, &cols);
      parts.push_back(sql.value_or(qn("<" + py::to_source(expr) + ">")) + " WITH " + op);
    }
    std::string sql = "CONSTRAINT " + qn(c.name) + " EXCLUDE USING " +
                      text::lower(c.index_type.empty() ? "GIST" : c.index_type) + " (" +
                      join(parts, ", ") + ")";
    if (!c.include.empty()) {
      std::vector<std::string> q;
      for (const auto& col : columns_of(m, c.include)) {
        q.push_back(qn(col));
      }
      sql += " INCLUDE (" + join(q, ", ") + ")";
    }
    if (c.condition) {
      if (auto cond = compile_q(m, *c.condition)) {
        sql += " WHERE (" + *cond + ")";
      }
    }
    return sql + deferrable_sql(c.deferrable);
  }
  problem("warning", "django-constraint-unknown",
          "constraint " + c.name + " is a " + c.path + ": what it creates is not known");
  return {};
}

void Derivation::create_model(const ModelState& m) {
  const std::string table = db_table(m);
  for (const auto& group : m.unique_together) {
    m_deferred.push_back(unique_stmt(table, columns_of(m, group)));
  }
  std::vector<std::string> definitions;
  std::vector<Field> fields = local_fields(m);
  for (const Field& f : fields) {
    auto def = column_sql(m, f, false);
    if (!def) {
      continue;
    }
    std::string check = db_check(f);
    if (!check.empty()) {
      *def += " CHECK (" + check + ")";
    }
    if (f.is_fk() && f.db_constraint) {
      m_deferred.push_back(fk_stmt(m, f, true));
    }
    definitions.push_back(qn(f.column()) + " " + *def);
  }
  for (const auto& c : m.constraints) {
    std::string sql = constraint_sql(m, c);
    if (!sql.empty()) {
      definitions.push_back(sql);
    }
  }
  std::string sql = "CREATE TABLE " + qn(table) + " (" + join(definitions, ", ") + ")";
  if (!m.db_tablespace.empty()) {
    sql += " TABLESPACE " + qn(m.db_tablespace);
  }
  execute(sql);
  // _model_indexes_sql(): field indexes, index_together, Meta.indexes; deferred.
  for (const Field& f : fields) {
    for (auto& s : field_indexes(m, f)) {
      m_deferred.push_back(std::move(s));
    }
  }
  for (const auto& group : m.index_together) {
    std::vector<Field> gf;
    for (const auto& name : group) {
      if (const Field* f = get_field(m, name)) {
        gf.push_back(*f);
      }
    }
    m_deferred.push_back(index_stmt(m, gf, "_idx"));
  }
  for (const auto& idx : m.indexes) {
    if (auto s = index_create(m, idx)) {
      m_deferred.push_back(*s);
    }
  }
  for (const Field& f : m.fields) {
    if (has_auto_through(f)) {
      if (f.to.empty() || !target_model(f.to)) {
        problem("warning", "django-model-unknown",
                "many-to-many field " + f.name +
                    " refers to a model not in the state; its "
                    "table is made without knowing the target's key type");
      }
      create_model(auto_through(m, f));
    }
  }
}

void Derivation::delete_model(const ModelState& m) {
  for (const Field& f : m.fields) {
    if (has_auto_through(f)) {
      delete_model(auto_through(m, f));
    }
  }
  std::string table = db_table(m);
  execute("DROP TABLE " + qn(table) + " CASCADE");
  std::erase_if(m_deferred, [&](const Stmt& s) { return s.references_table(table); });
}

void Derivation::add_field(const ModelState& m, const Field& f) {
  if (f.is_m2m()) {
    if (has_auto_through(f)) {
      create_model(auto_through(m, f));
    }
    return;
  }
  if (!db_type(f)) {
    return;
  }
  const SqlDefault default_value = effective_default(f);
  auto def = column_sql(m, f, true, &default_value);
  const std::string table = db_table(m);
  std::string check = db_check(f);
  if (!check.empty()) {
    *def += " CHECK (" + check + ")";
  }
  if (f.is_fk() && f.db_constraint) {
    Stmt fk = fk_stmt(m, f, true);
    std::string name = fk.rendered_name();
    *def += " CONSTRAINT " + name + " REFERENCES " + qn(fk.to_table) + "(" + qn(fk.to_columns[0]) +
            ") DEFERRABLE INITIALLY DEFERRED; SET CONSTRAINTS " + name + " IMMEDIATE";
  }
  execute("ALTER TABLE " + qn(table) + " ADD COLUMN " + qn(f.column()) + " " + *def);
  if (!default_value.none) {
    execute("ALTER TABLE " + qn(table) + " ALTER COLUMN " + qn(f.column()) + " DROP DEFAULT");
  }
  for (auto& s : field_indexes(m, f)) {
    m_deferred.push_back(std::move(s));
  }
}

void Derivation::remove_field(const ModelState& m, const Field& f) {
  if (f.is_m2m()) {
    if (has_auto_through(f)) {
      delete_model(auto_through(m, f));
    }
    return;
  }
  if (!db_type(f)) {
    return;
  }
  const std::string table = db_table(m);
  const std::string column = f.column();
  if (f.is_fk()) {
    ConstraintFilter filter;
    filter.foreign_key = true;
    std::vector<std::string> cols{column};
    for (const auto& name : constraint_names(table, &cols, filter)) {
      execute("SET CONSTRAINTS " + qn(name) + " IMMEDIATE; ALTER TABLE " + qn(table) +
              " DROP CONSTRAINT " + qn(name));
    }
  }
  execute("ALTER TABLE " + qn(table) + " DROP COLUMN " + qn(column) + " CASCADE");
  std::erase_if(m_deferred, [&](const Stmt& s) { return s.references_column(table, column); });
}

Derivation::AlterInfo Derivation::prepare_alter(const ModelState& m, const Field& old) {
  AlterInfo info;
  info.old_type = db_type(old);
  for (auto& r : related_fields(m.key())) {
    bool relevant = (old.primary_key && r.field.to_field.empty()) || r.field.to_field == old.name;
    if (!relevant) {
      continue;
    }
    std::string t = db_type(r.field).value_or("");
    info.rels.emplace_back(std::move(r), t);
  }
  return info;
}

std::pair<std::string, std::vector<std::string>> Derivation::alter_column_type_sql(
    const std::string& table, const Field& old, const Field& nw, const std::string& new_type,
    const std::string& old_data_type, const std::string& new_data_type) {
  static const std::map<std::string, std::string> k_serial = {
      {"bigserial", "bigint"}, {"serial", "integer"}, {"smallserial", "smallint"}};
  const std::string column = nw.column();
  bool using_cast = old_data_type != new_data_type;
  auto fragment = [&](const std::string& type) {
    std::string s = "ALTER COLUMN " + qn(column) + " TYPE " + type;
    if (using_cast) {
      s += " USING " + qn(column) + "::" + type;
    }
    return s;
  };
  std::string seq = table + "_" + column + "_seq";
  auto serial = k_serial.find(text::lower(new_type));
  if (serial != k_serial.end()) {
    return {fragment(serial->second),
            {"DROP SEQUENCE IF EXISTS " + qn(seq) + " CASCADE", "CREATE SEQUENCE " + qn(seq),
             "ALTER TABLE " + qn(table) + " ALTER COLUMN " + qn(column) + " SET DEFAULT nextval('" +
                 qn(seq) + "')",
             "SELECT setval('" + qn(seq) + "', MAX(" + qn(column) + ")) FROM " + qn(table),
             "ALTER SEQUENCE " + qn(seq) + " OWNED BY " + qn(table) + "." + qn(column)}};
  }
  auto old_type = db_type(old);
  if (old_type && k_serial.count(*old_type)) {
    return {fragment(new_type), {"DROP SEQUENCE IF EXISTS " + qn(seq) + " CASCADE"}};
  }
  return {fragment(new_type), {}};
}

void Derivation::alter_field(const ModelState& m, const Field& old, const Field& nw,
                             const AlterInfo& info) {
  // _field_should_be_altered()
  if (qn(old.column()) == qn(nw.column()) && old.canonical == nw.canonical) {
    return;
  }
  auto new_type = db_type(nw);
  const auto& old_type = info.old_type;
  if ((!old_type && old.rel == Rel::none) || (!new_type && nw.rel == Rel::none)) {
    problem("warning", "django-alter-impossible",
            "field " + nw.name + " cannot be altered: a column-less field of an unknown kind");
    return;
  }
  if (!old_type && !new_type) {
    if (has_auto_through(old) && has_auto_through(nw)) {
      // _alter_many_to_many(): rename the table, repoint its two foreign keys.
      ModelState ot = auto_through(m, old);
      const ModelState* current = model(m.key());
      ModelState nt = auto_through(current ? *current : m, nw);
      if (*ot.db_table != *nt.db_table) {
        alter_db_table(*ot.db_table, *nt.db_table);
      }
      alter_field(nt, ot.fields[1], nt.fields[1], prepare_alter(nt, ot.fields[1]));
      alter_field(nt, ot.fields[0], nt.fields[0], prepare_alter(nt, ot.fields[0]));
    }
    return;
  }
  if (!old_type || !new_type) {
    problem("warning", "django-alter-impossible",
            "field " + nw.name +
                " is altered to or from a many-to-many field, which Django "
                "refuses");
    return;
  }
  alter_field_columns(m, old, nw, *old_type, *new_type, info);
}

// BaseDatabaseSchemaEditor._alter_field() with the PostgreSQL editor's additions.
void Derivation::alter_field_columns(const ModelState& m, const Field& old, const Field& nw,
                                     const std::string& old_type, const std::string& new_type,
                                     const AlterInfo& info) {
  const std::string table = db_table(m);
  const std::string old_col = old.column();
  const std::string new_col = nw.column();
  const std::vector<std::string> old_cols{old_col};
  auto drop_index = [&](const std::string& name) { execute("DROP INDEX IF EXISTS " + qn(name)); };
  auto drop_constraint = [&](const std::string& t, const std::string& name) {
    execute("ALTER TABLE " + qn(t) + " DROP CONSTRAINT " + qn(name));
  };
  auto drop_fk = [&](const std::string& t, const std::string& name) {
    execute("SET CONSTRAINTS " + qn(name) + " IMMEDIATE; ALTER TABLE " + qn(t) +
            " DROP CONSTRAINT " + qn(name));
  };
  auto family_left = [&](std::string_view family) {
    return starts_with(old_type, family) && !starts_with(new_type, family);
  };
  if ((old.db_index || old.unique()) &&
      (family_left("varchar") || family_left("text") || family_left("citext"))) {
    drop_index(create_index_name(table, {old_col}, "_like"));
  }
  std::set<std::string> meta_constraints, meta_indexes;
  for (const auto& c : m.constraints) {
    meta_constraints.insert(c.name);
  }
  for (const auto& i : m.indexes) {
    meta_indexes.insert(i.name);
  }
  bool fks_dropped = false;
  if (old.is_fk() && old.db_constraint) {
    ConstraintFilter f;
    f.foreign_key = true;
    for (const auto& name : constraint_names(table, &old_cols, f)) {
      fks_dropped = true;
      drop_fk(table, name);
    }
  }
  bool became_pk = !old.primary_key && nw.primary_key;
  if (old.unique() && (!nw.unique() || became_pk)) {
    ConstraintFilter f;
    f.unique = true;
    f.primary_key = false;
    f.exclude = meta_constraints;
    for (const auto& name : constraint_names(table, &old_cols, f)) {
      drop_constraint(table, name);
    }
  }
  bool drop_foreign_keys = ((old.primary_key && nw.primary_key) || (old.unique() && nw.unique())) &&
                           old_type != new_type;
  if (drop_foreign_keys) {
    for (const auto& [rel, rel_type] : info.rels) {
      const ModelState* rm = rel.through ? nullptr : model(rel.model);
      std::string rt;
      if (rel.through) {
        size_t hash = rel.model.find('#');
        const ModelState* owner = model(rel.model.substr(0, hash));
        const Field* m2m = owner ? get_field(*owner, rel.model.substr(hash + 1)) : nullptr;
        if (!owner || !m2m) {
          continue;
        }
        rt = *auto_through(*owner, *m2m).db_table;
      } else if (rm) {
        rt = db_table(*rm);
      } else {
        continue;
      }
      ConstraintFilter f;
      f.foreign_key = true;
      std::vector<std::string> cols{rel.field.column()};
      for (const auto& name : constraint_names(rt, &cols, f)) {
        drop_fk(rt, name);
      }
    }
  }
  if (old.db_index && !old.unique() && (!nw.db_index || nw.unique())) {
    ConstraintFilter f;
    f.index = true;
    f.type = "idx";
    f.exclude = meta_indexes;
    for (const auto& name : constraint_names(table, &old_cols, f)) {
      drop_index(name);
    }
  }
  const std::string old_check = db_check(old);
  const std::string new_check = db_check(nw);
  if (old_check != new_check && !old_check.empty()) {
    ConstraintFilter f;
    f.check = true;
    f.exclude = meta_constraints;
    for (const auto& name : constraint_names(table, &old_cols, f)) {
      drop_constraint(table, name);
    }
  }
  if (old_col != new_col) {
    execute("ALTER TABLE " + qn(table) + " RENAME COLUMN " + qn(old_col) + " TO " + qn(new_col));
    rename_index_columns(table, old_col, new_col);
    for (auto& s : m_deferred) {
      s.rename_column(table, old_col, new_col);
    }
  }
  std::vector<std::string> actions, null_actions, post_actions;
  if (old.db_collation != nw.db_collation) {
    actions.push_back("ALTER COLUMN " + qn(new_col) + " TYPE " + new_type +
                      (nw.db_collation.empty() ? "" : " COLLATE " + qn(nw.db_collation)));
  } else if (old_type != new_type) {
    std::string old_dt = field_data_type(old), new_dt = field_data_type(nw);
    if (old.internal == "ArrayField" && nw.internal == "ArrayField" && old.base_field &&
        nw.base_field) {
      old_dt = field_data_type(*old.base_field);
      new_dt = field_data_type(*nw.base_field);
    }
    auto [fragment, posts] = alter_column_type_sql(table, old, nw, new_type, old_dt, new_dt);
    actions.push_back(fragment);
    post_actions = posts;
  }
  bool needs_database_default = false;
  SqlDefault new_default;
  if (old.null && !nw.null) {
    SqlDefault old_default = effective_default(old, false);
    new_default = effective_default(nw);
    if ((old_default.none != new_default.none || old_default.sql != new_default.sql) &&
        !new_default.none) {
      needs_database_default = true;
      actions.push_back("ALTER COLUMN " + qn(new_col) + " SET DEFAULT " + new_default.sql);
    }
  }
  if (old.null != nw.null) {
    null_actions.push_back("ALTER COLUMN " + qn(new_col) +
                           (nw.null ? " DROP NOT NULL" : " SET NOT NULL"));
  }
  bool four_way = nw.has_default() && old.null && !nw.null;
  if (!actions.empty() || !null_actions.empty()) {
    if (!four_way) {
      actions.insert(actions.end(), null_actions.begin(), null_actions.end());
    }
    if (!actions.empty()) {
      execute("ALTER TABLE " + qn(table) + " " + join(actions, ", "));
    }
    if (four_way) {
      execute("UPDATE " + qn(table) + " SET " + qn(new_col) + " = " + new_default.sql + " WHERE " +
              qn(new_col) + " IS NULL");
      for (const auto& a : null_actions) {
        execute("ALTER TABLE " + qn(table) + " " + a);
      }
    }
  }
  for (const auto& p : post_actions) {
    execute(p);
  }
  if (old.primary_key && !nw.primary_key) {
    ConstraintFilter f;
    f.primary_key = true;
    for (const auto& name : constraint_names(table, nullptr, f)) {
      drop_constraint(table, name);
    }
  }
  if ((!old.unique() && nw.unique()) || (old.primary_key && !nw.primary_key && nw.unique())) {
    execute(unique_stmt(table, {new_col}).render());
  }
  if ((!old.db_index || old.unique()) && nw.db_index && !nw.unique()) {
    execute(index_stmt(m, {nw}, "").render());
  }
  bool rels_to_update = drop_foreign_keys;
  if (became_pk) {
    execute("ALTER TABLE " + qn(table) + " ADD CONSTRAINT " +
            qn(create_index_name(table, {new_col}, "_pk")) + " PRIMARY KEY (" + qn(new_col) + ")");
    rels_to_update = true;
  }
  if (rels_to_update) {
    for (const auto& [rel, old_rel_type] : info.rels) {
      std::string rt;
      if (rel.through) {
        size_t hash = rel.model.find('#');
        const ModelState* owner = model(rel.model.substr(0, hash));
        const Field* m2m = owner ? get_field(*owner, rel.model.substr(hash + 1)) : nullptr;
        if (!owner || !m2m) {
          continue;
        }
        rt = *auto_through(*owner, *m2m).db_table;
      } else if (const ModelState* rm = model(rel.model)) {
        rt = db_table(*rm);
      } else {
        continue;
      }
      std::string rel_type = db_type(rel.field).value_or(old_rel_type);
      std::string col = rel.field.column();
      std::string s = "ALTER COLUMN " + qn(col) + " TYPE " + rel_type;
      if (old_rel_type != rel_type) {
        s += " USING " + qn(col) + "::" + rel_type;
      }
      execute("ALTER TABLE " + qn(rt) + " " + s);
    }
  }
  if (nw.is_fk() && (fks_dropped || !old.is_fk() || !old.db_constraint) && nw.db_constraint) {
    execute(fk_stmt(m, nw, true).render());
  }
  if (drop_foreign_keys) {
    // Rebuilt from _meta.related_objects, which leaves out hidden relations (related_name
    // ending in '+', the foreign keys of auto-created many-to-many tables): Django 3.2
    // drops their constraints above and does not make them again.
    for (const auto& [rel, t] : info.rels) {
      if (rel.hidden || !rel.field.db_constraint) {
        continue;
      }
      if (const ModelState* rm = model(rel.model)) {
        execute(fk_stmt(*rm, rel.field, false).render());
      }
    }
  }
  if (old_check != new_check && !new_check.empty()) {
    execute("ALTER TABLE " + qn(table) + " ADD CONSTRAINT " +
            qn(create_index_name(table, {new_col}, "_check")) + " CHECK (" + new_check + ")");
  }
  if (needs_database_default) {
    execute("ALTER TABLE " + qn(table) + " ALTER COLUMN " + qn(new_col) + " DROP DEFAULT");
  }
  if ((!(old.db_index || old.unique()) && nw.db_index) || (!old.unique() && nw.unique())) {
    if (auto like = like_index(m, nw)) {
      execute(like->render());
    }
  }
  if (old.unique() && !(nw.db_index || nw.unique())) {
    drop_index(create_index_name(table, {old_col}, "_like"));
  }
}

// PostgreSQL renames a column in the indexes that use it; the catalog replay keeps index
// columns as written, so they are renamed here, for what Django reads back later.
void Derivation::rename_index_columns(const std::string& table, const std::string& from,
                                      const std::string& to) {
  std::vector<std::string> names;
  for (const auto& idx : m_catalog.indexes()) {
    if (idx.schema_name == pgsql::k_search_path_schema && idx.table_name == table) {
      names.push_back(idx.name);
    }
  }
  for (const auto& name : names) {
    store::IndexFact* idx = m_catalog.index({pgsql::k_search_path_schema, name});
    if (!idx) {
      continue;
    }
    std::vector<std::string> parts = pgsql::split_top_level(idx->columns);
    std::vector<std::string> cols = column_names_of(idx->columns);
    bool changed = false;
    for (size_t i = 0; i < parts.size() && i < cols.size(); ++i) {
      if (cols[i] != from) {
        continue;
      }
      std::string& p = parts[i];
      size_t len = p.size();
      if (!p.empty() && p[0] == '"') {
        size_t close = p.find('"', 1);
        len = close == std::string::npos ? p.size() : close + 1;
      } else {
        len = std::min(p.size(), from.size());
      }
      p = pgsql::quote_ident(to) + p.substr(len);
      changed = true;
    }
    if (changed) {
      idx->columns = join(parts, ", ");
    }
  }
}

void Derivation::alter_db_table(const std::string& old_table, const std::string& new_table) {
  if (old_table == new_table) {
    return;
  }
  execute("ALTER TABLE " + qn(old_table) + " RENAME TO " + qn(new_table));
  for (auto& s : m_deferred) {
    s.rename_table(old_table, new_table);
  }
}

void Derivation::delete_composed_index(const ModelState& m, const std::vector<std::string>& fields,
                                       bool unique) {
  ConstraintFilter f;
  for (const auto& c : m.constraints) {
    f.exclude.insert(c.name);
  }
  for (const auto& i : m.indexes) {
    f.exclude.insert(i.name);
  }
  if (unique) {
    f.unique = true;
  } else {
    f.index = true;
    f.unique = false;
  }
  const std::string table = db_table(m);
  std::vector<std::string> columns = columns_of(m, fields);
  auto names = constraint_names(table, &columns, f);
  if (names.size() != 1) {
    problem("error", "django-constraint-not-found",
            "Found wrong number (" + std::to_string(names.size()) + ") of constraints for " +
                table + "(" + join(columns, ", ") +
                "): Django stops the migration here (ValueError)");
    return;
  }
  if (unique) {
    execute("ALTER TABLE " + qn(table) + " DROP CONSTRAINT " + qn(names[0]));
  } else {
    execute("DROP INDEX IF EXISTS " + qn(names[0]));
  }
}

void Derivation::add_index(const ModelState& m, const IndexDef& idx, bool concurrently) {
  if (auto s = index_create(m, idx)) {
    s->concurrently = concurrently;
    execute(s->render());
  }
}

void Derivation::add_constraint(const ModelState& m, const ConstraintDef& c) {
  const std::string table = db_table(m);
  if (c.kind == "check") {
    auto sql = check_sql(m, c);
    execute("ALTER TABLE " + qn(table) + " ADD CONSTRAINT " + qn(c.name) + " CHECK (" +
            sql.value_or("<unknown>") + ")");
    return;
  }
  if (c.kind == "unique") {
    Stmt s;
    if (is_index_backed(c)) {
      s = unique_index_stmt(m, c);
    } else {
      s.kind = Stmt::Kind::unique;
      s.table = table;
      s.columns = columns_of(m, c.fields);
      s.name = c.name;
      s.line = m_line;
      s.deferrable = deferrable_sql(c.deferrable);
    }
    execute(s.render());
    return;
  }
  std::string sql = constraint_sql(m, c);
  if (!sql.empty()) {
    execute("ALTER TABLE " + qn(table) + " ADD " + sql);
  }
}

void Derivation::remove_constraint(const ModelState& m, const ConstraintDef& c) {
  const std::string table = db_table(m);
  if (c.kind == "unique" && is_index_backed(c)) {
    execute("DROP INDEX IF EXISTS " + qn(c.name));
    return;
  }
  if (c.kind == "unknown") {
    problem("warning", "django-constraint-unknown",
            "constraint " + c.name + " is a " + c.path + ": how it is removed is not known");
    return;
  }
  execute("ALTER TABLE " + qn(table) + " DROP CONSTRAINT " + qn(c.name));
}

// --- operations -----------------------------------------------------------------------------

IndexDef Derivation::make_index(const Node& call) {
  IndexDef idx;
  idx.line = call.line;
  idx.path = callee_path(call);
  idx.name = string_of(call.keyword_argument("name")).value_or("");
  idx.fields = strings_of(call.keyword_argument("fields"));
  idx.opclasses = strings_of(call.keyword_argument("opclasses"));
  idx.include = strings_of(call.keyword_argument("include"));
  idx.db_tablespace = string_of(call.keyword_argument("db_tablespace")).value_or("");
  if (const Node* c = call.keyword_argument("condition"); c && c->kind != NodeKind::none) {
    idx.condition = *c;
  }
  for (const Node* e : call.positional_arguments()) {
    idx.expressions.push_back(*e);
  }
  if (idx.fields.empty() && idx.expressions.empty() && call.kind == NodeKind::call) {
    problem("warning", "django-index-unreadable",
            "index " + idx.name + " has no fields this reader can read: " + py::to_source(call));
  }
  std::string cls = last_component(idx.path);
  if (starts_with(idx.path, "django.contrib.postgres.")) {
    static const std::map<std::string, std::string> k_methods = {
        {"BloomIndex", "bloom"},  {"BrinIndex", "brin"}, {"BTreeIndex", "btree"},
        {"GinIndex", "gin"},      {"GistIndex", "gist"}, {"HashIndex", "hash"},
        {"SpGistIndex", "spgist"}};
    auto it = k_methods.find(cls);
    if (it != k_methods.end()) {
      idx.using_method = it->second;
    }
    auto on_off = [&](const char* key, const char* param) {
      if (auto b = bool_of(call.keyword_argument(key))) {
        idx.with_params.push_back(std::string(param) + " = " + (*b ? "on" : "off"));
      }
    };
    auto number = [&](const char* key) {
      if (auto n = number_of(call.keyword_argument(key))) {
        idx.with_params.push_back(std::string(key) + " = " + *n);
      }
    };
    if (cls == "GinIndex") {
      on_off("fastupdate", "fastupdate");
      number("gin_pending_list_limit");
    } else if (cls == "BrinIndex") {
      on_off("autosummarize", "autosummarize");
      number("pages_per_range");
    } else if (cls == "GistIndex") {
      on_off("buffering", "buffering");
      number("fillfactor");
    } else if (cls == "BloomIndex") {
      number("length");
    } else {
      number("fillfactor");
    }
  } else if (!starts_with(idx.path, "django.db.models.")) {
    problem("warning", "django-index-unknown",
            "index " + idx.name + " is a " + idx.path + "; it is taken as a plain btree index");
  }
  return idx;
}

ConstraintDef Derivation::make_constraint(const Node& call) {
  ConstraintDef c;
  c.line = call.line;
  c.path = callee_path(call);
  c.name = string_of(call.keyword_argument("name")).value_or("");
  std::string cls = last_component(c.path);
  if (const Node* d = call.keyword_argument("deferrable")) {
    std::string t = d->kind == NodeKind::subscript && d->children.size() == 2
                        ? string_of(&d->children[1]).value_or("")
                        : last_component(d->text);
    c.deferrable = text::lower(t);
  }
  if (const Node* cond = call.keyword_argument("condition"); cond && cond->kind != NodeKind::none) {
    c.condition = *cond;
  }
  c.include = strings_of(call.keyword_argument("include"));
  c.opclasses = strings_of(call.keyword_argument("opclasses"));
  if (cls == "CheckConstraint") {
    c.kind = "check";
    if (const Node* check = call.keyword_argument("check")) {
      c.check = *check;
    }
  } else if (cls == "UniqueConstraint") {
    c.kind = "unique";
    c.fields = strings_of(call.keyword_argument("fields"));
    for (const Node* e : call.positional_arguments()) {
      c.unique_expressions.push_back(*e);
    }
  } else if (cls == "ExclusionConstraint") {
    c.kind = "exclusion";
    c.index_type = string_of(call.keyword_argument("index_type")).value_or("GIST");
    for (const auto& e : elements_of(call.keyword_argument("expressions"))) {
      if (e.children.size() == 2) {
        c.expressions.emplace_back(e.children[0], string_of(&e.children[1]).value_or("="));
      }
    }
  } else {
    c.kind = "unknown";
  }
  return c;
}

void Derivation::read_options(ModelState& m, const Node* options) {
  if (!options || options->kind != NodeKind::dict) {
    return;
  }
  for (const auto& e : options->children) {
    if (e.star || e.children.size() != 2 || !e.children[0].is_string()) {
      continue;
    }
    const std::string& key = e.children[0].text;
    const Node& v = e.children[1];
    if (key == "db_table") {
      if (auto s = string_of(&v)) {
        m.db_table = *s;
      }
    } else if (key == "unique_together") {
      m.unique_together = together_of(&v);
    } else if (key == "index_together") {
      m.index_together = together_of(&v);
    } else if (key == "indexes") {
      for (const auto& i : elements_of(&v)) {
        m.indexes.push_back(make_index(i));
      }
    } else if (key == "constraints") {
      for (const auto& c : elements_of(&v)) {
        m.constraints.push_back(make_constraint(c));
      }
    } else if (key == "managed") {
      m.managed = bool_of(&v).value_or(true);
    } else if (key == "proxy") {
      m.proxy = bool_of(&v).value_or(false);
    } else if (key == "swappable") {
      m.swappable = string_of(&v).value_or("");
    } else if (key == "order_with_respect_to") {
      m.order_with_respect_to = string_of(&v).value_or("");
    } else if (key == "db_tablespace") {
      m.db_tablespace = string_of(&v).value_or("");
    }
  }
}

std::string Derivation::model_arg(const Operation& op, std::string_view param) {
  auto s = string_of(op.arg(param));
  if (!s) {
    problem("warning", "django-operation-unreadable",
            op.type + ": its " + std::string(param) + " is not a string literal");
    return {};
  }
  return *s;
}

void Derivation::apply(const Operation& op, bool database) {
  m_ghosts.clear();
  const std::string& t = op.type;
  if (!op.known) {
    problem("warning", "django-operation-unknown",
            "operation " + (op.path.empty() ? std::string("?") : op.path) +
                " is not one of Django's: what it does to the schema is not known");
    return;
  }
  if (t == "CreateModel") {
    op_create_model(op, database);
  } else if (t == "DeleteModel") {
    op_delete_model(op, database);
  } else if (t == "RenameModel") {
    op_rename_model(op, database);
  } else if (t == "AlterModelTable") {
    op_alter_model_table(op, database);
  } else if (t == "AlterUniqueTogether") {
    op_alter_together(op, database, true);
  } else if (t == "AlterIndexTogether") {
    op_alter_together(op, database, false);
  } else if (t == "AlterModelOptions") {
    op_alter_options(op);
  } else if (t == "AlterOrderWithRespectTo") {
    op_alter_order_with_respect_to(op, database);
  } else if (t == "AddField") {
    op_add_field(op, database);
  } else if (t == "RemoveField") {
    op_remove_field(op, database);
  } else if (t == "AlterField") {
    op_alter_field(op, database);
  } else if (t == "RenameField") {
    op_rename_field(op, database);
  } else if (t == "AddIndex" || t == "AddIndexConcurrently") {
    op_add_index(op, database, t == "AddIndexConcurrently");
  } else if (t == "RemoveIndex" || t == "RemoveIndexConcurrently") {
    op_remove_index(op, database, t == "RemoveIndexConcurrently");
  } else if (t == "AddConstraint") {
    op_add_constraint(op, database);
  } else if (t == "RemoveConstraint") {
    op_remove_constraint(op, database);
  } else if (t == "RunSQL") {
    op_run_sql(op, database);
  } else if (t == "RunPython") {
    for (const auto& so : op.state_operations) {
      apply(so, false);
    }
  } else if (t == "SeparateDatabaseAndState") {
    // database_forwards() applies each database operation on a state of its own; only
    // the state operations change the project state.
    auto saved = m_models;
    auto saved_order = m_model_order;
    for (const auto& d : op.database_operations) {
      m_line = d.line;
      apply(d, database);
    }
    m_models = std::move(saved);
    m_model_order = saved_order;
    for (const auto& s : op.state_operations) {
      m_line = s.line;
      apply(s, false);
    }
  } else if (t == "CreateCollation" || t == "RemoveCollation") {
    op_collation(op, database, t == "CreateCollation");
  } else if (t == "AlterModelManagers") {
    // Managers live in Python only.
  } else {
    op_extension(op, database);
  }
  m_ghosts.clear();
}

void Derivation::op_create_model(const Operation& op, bool database) {
  ModelState m;
  m.app = m_file->app;
  m.name = model_arg(op, "name");
  if (m.name.empty()) {
    return;
  }
  m.order = ++m_model_order;
  const std::string key = m.key();
  Node fields = resolved(op.arg("fields"));
  if (!is_sequence(&fields)) {
    problem("warning", "django-operation-unreadable",
            "CreateModel " + m.name + ": `fields` is not a list of (name, field) pairs");
  }
  for (const auto& pair : elements_of(&fields)) {
    if (pair.children.size() != 2 || !string_of(&pair.children[0])) {
      problem("warning", "django-field-unreadable",
              "CreateModel " + m.name +
                  ": a field entry is not a (name, field) pair: " + py::to_source(pair),
              pair.line);
      continue;
    }
    m.fields.push_back(make_field(*string_of(&pair.children[0]), pair.children[1], m.app, key));
  }
  Node options = resolved(op.arg("options"));
  read_options(m, &options);
  Node bases = resolved(op.arg("bases"));
  for (const auto& b : elements_of(&bases)) {
    if (auto s = string_of(&b)) {
      m.bases.push_back(lower_model_key(*s));
    }
  }
  if (model(key)) {
    problem("warning", "django-model-duplicate",
            "CreateModel " + key + ": the model already exists in the state; it is replaced");
  }
  m_models[key] = m;
  if (database && allow_migrate(m)) {
    create_model(m);
  }
}

void Derivation::op_delete_model(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  ModelState from = *m;
  m_models.erase(from.key());
  m_ghosts[from.key()] = from;
  if (database && allow_migrate(from)) {
    delete_model(from);
  }
}

void Derivation::op_rename_model(const Operation& op, bool database) {
  std::string old_name = model_arg(op, "old_name");
  std::string new_name = model_arg(op, "new_name");
  ModelState* m = model_or_problem(m_file->app, old_name);
  if (!m || new_name.empty()) {
    return;
  }
  const ModelState from = *m;
  const std::string old_key = from.key();
  // Relations pointing at the model, before the state changes: non-hidden foreign keys
  // (_meta.related_objects) and many-to-many fields of other models.
  struct Pointing {
    std::string model;
    Field field;
    AlterInfo info;
  };
  std::vector<Pointing> fks, m2ms;
  for (const ModelState& other : sorted_models()) {
    for (const Field& f : other.fields) {
      if (f.to != old_key) {
        continue;
      }
      auto rn = f.kw.find("related_name");
      bool hidden =
          rn != f.kw.end() && string_of(&rn->second) && ends_with(*string_of(&rn->second), "+");
      if (f.is_fk() && !hidden) {
        fks.push_back({other.key(), f, prepare_alter(other, f)});
      } else if (f.is_m2m() && other.key() != old_key) {
        m2ms.push_back({other.key(), f, {}});
      }
    }
  }
  ModelState renamed = from;
  renamed.name = new_name;
  const std::string new_key = renamed.key();
  m_models.erase(old_key);
  m_ghosts[old_key] = from;
  m_models[new_key] = renamed;
  for (auto& [k, other] : m_models) {
    for (Field& f : other.fields) {
      bool changed = false;
      if (f.to == old_key) {
        f.to = new_key;
        changed = true;
      }
      if (f.through == old_key) {
        f.through = new_key;
        changed = true;
      }
      if (changed) {
        canonicalize(f, field_class(f.path));
      }
    }
  }
  const ModelState& nm = m_models[new_key];
  if (!database || !allow_migrate(nm)) {
    return;
  }
  alter_db_table(db_table(from), db_table(nm));
  for (const auto& p : fks) {
    std::string key = p.model == old_key ? new_key : p.model;
    const ModelState* rm = model(key);
    const Field* nf = rm ? get_field(*rm, p.field.name) : nullptr;
    if (rm && nf) {
      alter_field(*rm, p.field, *nf, p.info);
    }
  }
  for (const auto& p : m2ms) {
    const ModelState* rm = model(p.model);
    const Field* nf = rm ? get_field(*rm, p.field.name) : nullptr;
    if (!rm || !nf) {
      continue;
    }
    ModelState ot = auto_through(*rm, p.field);
    ModelState nt = auto_through(*rm, *nf);
    if (!has_auto_through(p.field)) {
      continue;
    }
    alter_field(nt, ot.fields[1], nt.fields[1], prepare_alter(nt, ot.fields[1]));
  }
  for (size_t i = 0; i < from.fields.size() && i < nm.fields.size(); ++i) {
    const Field& of = from.fields[i];
    const Field& nf = nm.fields[i];
    if (!has_auto_through(of) || of.to == old_key) {
      continue;  // self-referential ones were renamed with the relations above
    }
    ModelState ot = auto_through(from, of);
    ModelState nt = auto_through(nm, nf);
    alter_db_table(*ot.db_table, *nt.db_table);
    alter_field(nt, ot.fields[0], nt.fields[0], prepare_alter(nt, ot.fields[0]));
  }
}

void Derivation::op_alter_model_table(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  ModelState from = *m;
  const Node* table = op.arg("table");
  if (auto s = string_of(table)) {
    m->db_table = *s;
  } else {
    m->db_table.reset();
  }
  if (!database || !allow_migrate(*m)) {
    return;
  }
  alter_db_table(db_table(from), db_table(*m));
  for (size_t i = 0; i < from.fields.size(); ++i) {
    if (has_auto_through(from.fields[i])) {
      alter_db_table(*auto_through(from, from.fields[i]).db_table,
                     *auto_through(*m, m->fields[i]).db_table);
    }
  }
}

void Derivation::op_alter_together(const Operation& op, bool database, bool unique) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  Node value = resolved(op.arg(unique ? "unique_together" : "index_together"));
  auto olds = unique ? m->unique_together : m->index_together;
  auto news = together_of(&value);
  (unique ? m->unique_together : m->index_together) = news;
  if (!database || !allow_migrate(*m)) {
    return;
  }
  auto contains = [](const std::vector<std::vector<std::string>>& set,
                     const std::vector<std::string>& v) {
    return std::find(set.begin(), set.end(), v) != set.end();
  };
  for (const auto& g : olds) {
    if (!contains(news, g)) {
      delete_composed_index(*m, g, unique);
    }
  }
  for (const auto& g : news) {
    if (contains(olds, g)) {
      continue;
    }
    if (unique) {
      execute(unique_stmt(db_table(*m), columns_of(*m, g)).render());
    } else {
      std::vector<Field> fields;
      for (const auto& n : g) {
        if (const Field* f = get_field(*m, n)) {
          fields.push_back(*f);
        }
      }
      execute(index_stmt(*m, fields, "_idx").render());
    }
  }
}

void Derivation::op_alter_options(const Operation& op) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  // AlterModelOptions.ALTER_OPTION_KEYS: of these only `managed` matters to the schema;
  // an option left out is removed.
  Node options = resolved(op.arg("options"));
  const Node* managed = dict_get(&options, "managed");
  m->managed = managed ? bool_of(managed).value_or(true) : true;
}

void Derivation::op_alter_order_with_respect_to(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "name"));
  if (!m) {
    return;
  }
  ModelState from = *m;
  m->order_with_respect_to = string_of(op.arg("order_with_respect_to")).value_or("");
  if (!database || !allow_migrate(*m)) {
    return;
  }
  Field order;
  order.name = "_order";
  order.cls = "OrderWrt";
  order.internal = "IntegerField";
  order.type_template = "integer";
  order.known = true;
  order.empty_strings_allowed = false;
  if (!from.order_with_respect_to.empty() && m->order_with_respect_to.empty()) {
    remove_field(from, order);
  } else if (from.order_with_respect_to.empty() && !m->order_with_respect_to.empty()) {
    Node zero;
    zero.kind = NodeKind::number;
    zero.text = "0";
    order.default_value = zero;
    add_field(from, order);
  }
}

void Derivation::op_add_field(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m || name.empty()) {
    return;
  }
  Node call = resolved(op.arg("field"));
  Field f = make_field(name, call, m->app, m->key());
  Field state_field = f;
  if (!bool_of(op.arg("preserve_default")).value_or(true)) {
    state_field.default_value.reset();
    state_field.kw.erase("default");
    canonicalize(state_field, field_class(state_field.path));
  }
  ModelState from = *m;
  if (Field* existing = m->field(name)) {
    problem("warning", "django-field-duplicate",
            "AddField " + m->key() + "." + name + ": the field already exists; it is replaced");
    *existing = state_field;
  } else {
    m->fields.push_back(state_field);
  }
  if (database && allow_migrate(*m)) {
    add_field(from, f);
  }
}

void Derivation::op_remove_field(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m) {
    return;
  }
  ModelState from = *m;
  const Field* f = get_field(from, name);
  if (!f) {
    problem("warning", "django-field-unknown",
            "RemoveField: " + m->key() + " has no field " + name + " in the state");
    return;
  }
  Field removed = *f;
  std::erase_if(m->fields, [&](const Field& x) { return x.name == name; });
  if (database && allow_migrate(from)) {
    remove_field(from, removed);
  }
}

void Derivation::op_alter_field(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m || name.empty()) {
    return;
  }
  Field* existing = m->field(name);
  if (!existing) {
    problem("warning", "django-field-unknown",
            "AlterField: " + m->key() + " has no field " + name + " in the state");
    return;
  }
  Field old = *existing;
  Node call = resolved(op.arg("field"));
  Field nw = make_field(name, call, m->app, m->key());
  Field state_field = nw;
  if (!bool_of(op.arg("preserve_default")).value_or(true)) {
    state_field.default_value.reset();
    state_field.kw.erase("default");
    canonicalize(state_field, field_class(state_field.path));
  }
  ModelState from = *m;
  AlterInfo info = prepare_alter(from, old);
  *existing = state_field;
  if (database && allow_migrate(*m)) {
    alter_field(from, old, nw, info);
  }
}

void Derivation::op_rename_field(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string old_name = model_arg(op, "old_name");
  std::string new_name = model_arg(op, "new_name");
  if (!m || old_name.empty() || new_name.empty()) {
    return;
  }
  Field* existing = m->field(old_name);
  if (!existing) {
    problem("warning", "django-field-unknown",
            "RenameField: " + m->key() + " has no field " + old_name + " in the state");
    return;
  }
  ModelState from = *m;
  Field old = *existing;
  AlterInfo info = prepare_alter(from, old);
  Field renamed = old;
  renamed.name = new_name;
  std::erase_if(m->fields, [&](const Field& x) { return x.name == old_name; });
  m->fields.push_back(renamed);
  for (auto* together : {&m->unique_together, &m->index_together}) {
    for (auto& group : *together) {
      std::replace(group.begin(), group.end(), old_name, new_name);
    }
  }
  const std::string key = m->key();
  for (auto& [k, other] : m_models) {
    for (Field& f : other.fields) {
      if (f.to == key && f.to_field == old_name) {
        f.to_field = new_name;
        f.kw.erase("to_field");
        Node n;
        n.kind = NodeKind::string;
        n.text = new_name;
        f.kw["to_field"] = n;
        canonicalize(f, field_class(f.path));
      }
    }
  }
  if (database && allow_migrate(*m)) {
    alter_field(from, old, renamed, info);
  }
}

void Derivation::op_add_index(const Operation& op, bool database, bool concurrently) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  if (!m) {
    return;
  }
  Node call = resolved(op.arg("index"));
  IndexDef idx = make_index(call);
  m->indexes.push_back(idx);
  if (database && allow_migrate(*m)) {
    add_index(*m, idx, concurrently);
  }
}

void Derivation::op_remove_index(const Operation& op, bool database, bool concurrently) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m) {
    return;
  }
  auto it = std::find_if(m->indexes.begin(), m->indexes.end(),
                         [&](const IndexDef& i) { return i.name == name; });
  if (it == m->indexes.end()) {
    problem("warning", "django-index-unknown",
            "RemoveIndex: " + m->key() + " has no index " + name +
                " in the state (Django "
                "raises ValueError)");
  } else {
    m->indexes.erase(it);
  }
  if (database && allow_migrate(*m)) {
    execute(
        std::string(concurrently ? "DROP INDEX CONCURRENTLY IF EXISTS " : "DROP INDEX IF EXISTS ") +
        qn(name));
  }
}

void Derivation::op_add_constraint(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  if (!m) {
    return;
  }
  Node call = resolved(op.arg("constraint"));
  ConstraintDef c = make_constraint(call);
  m->constraints.push_back(c);
  if (database && allow_migrate(*m)) {
    add_constraint(*m, c);
  }
}

void Derivation::op_remove_constraint(const Operation& op, bool database) {
  ModelState* m = model_or_problem(m_file->app, model_arg(op, "model_name"));
  std::string name = model_arg(op, "name");
  if (!m) {
    return;
  }
  auto it = std::find_if(m->constraints.begin(), m->constraints.end(),
                         [&](const ConstraintDef& c) { return c.name == name; });
  if (it == m->constraints.end()) {
    problem("warning", "django-constraint-unknown",
            "RemoveConstraint: " + m->key() + " has no constraint " + name + " in the state");
    return;
  }
  ConstraintDef c = *it;
  m->constraints.erase(it);
  if (database && allow_migrate(*m)) {
    remove_constraint(*m, c);
  }
}

void Derivation::op_run_sql(const Operation& op, bool database) {
  if (database) {
    const Node* sql = op.arg("sql");
    Node value = resolved(sql);
    auto run = [&](const std::string& text, uint64_t line) {
      if (!text::trim(text).empty()) {
        execute(text, line);
      }
    };
    if (auto s = string_of(&value)) {
      run(*s, value.line);
    } else if (value.kind == NodeKind::list || value.kind == NodeKind::tuple) {
      for (const auto& e : value.children) {
        if (auto s2 = string_of(&e)) {
          run(*s2, e.line);
        } else if ((e.kind == NodeKind::tuple || e.kind == NodeKind::list) &&
                   e.children.size() == 2 && string_of(&e.children[0])) {
          // (sql, params): the parameters are interpolated as psycopg2 would.
          std::string text = *string_of(&e.children[0]);
          std::string out;
          auto params = elements_of(&e.children[1]);
          size_t k = 0;
          bool ok = true;
          for (size_t i = 0; i < text.size(); ++i) {
            if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == 's') {
              if (k >= params.size()) {
                ok = false;
                break;
              }
              Field untyped;
              auto v = value_sql(untyped, python_value(params[k++]));
              if (!v) {
                ok = false;
                break;
              }
              out += *v;
              ++i;
            } else if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == '%') {
              out += '%';
              ++i;
            } else {
              out += text[i];
            }
          }
          if (ok) {
            run(out, e.line);
          } else {
            problem("warning", "django-sql-unknown",
                    "RunSQL: the parameters of a statement cannot be read; it is not replayed",
                    e.line);
          }
        } else {
          problem("warning", "django-sql-unknown",
                  "RunSQL: an element of the statement list is not a literal: " + py::to_source(e),
                  e.line);
        }
      }
    } else if (!(value.kind == NodeKind::name && ends_with(value.text, "RunSQL.noop"))) {
      problem("warning", "django-sql-unknown",
              "RunSQL: its SQL is not a literal (" + py::to_source(value) +
                  "); what it does cannot be known without running Python");
    }
  }
  for (const auto& so : op.state_operations) {
    m_line = so.line;
    apply(so, false);
  }
}

void Derivation::op_extension(const Operation& op, bool database) {
  static const std::map<std::string, std::string> k_ext = {
      {"BloomExtension", "bloom"},          {"BtreeGinExtension", "btree_gin"},
      {"BtreeGistExtension", "btree_gist"}, {"CITextExtension", "citext"},
      {"CryptoExtension", "pgcrypto"},      {"HStoreExtension", "hstore"},
      {"TrigramExtension", "pg_trgm"},      {"UnaccentExtension", "unaccent"}};
  std::string name;
  auto it = k_ext.find(op.type);
  if (it != k_ext.end()) {
    name = it->second;
  } else {
    name = model_arg(op, "name");
  }
  if (!database || name.empty()) {
    return;
  }
  for (const auto& e : (m_settings.sqlmigrate_semantics ? m_snapshot : m_catalog).extensions) {
    if (e.name == name) {
      return;  // extension_exists()
    }
  }
  execute("CREATE EXTENSION IF NOT EXISTS " + qn(name));
}

void Derivation::op_collation(const Operation& op, bool database, bool create) {
  std::string name = model_arg(op, "name");
  if (!database || name.empty()) {
    return;
  }
  if (!create) {
    execute("DROP COLLATION " + qn(name));
    return;
  }
  std::vector<std::string> args{"locale=" + qn(string_of(op.arg("locale")).value_or(""))};
  if (auto p = string_of(op.call.keyword_argument("provider")); p && *p != "libc") {
    args.push_back("provider=" + qn(*p));
  }
  if (auto d = bool_of(op.call.keyword_argument("deterministic")); d && !*d) {
    args.push_back("deterministic=false");
  }
  execute("CREATE COLLATION " + qn(name) + " (" + join(args, ", ") + ")");
}

// --- the plan -------------------------------------------------------------------------------

void Derivation::infer_default_auto_field(const std::vector<MigrationFile>& files) {
  if (m_settings.default_auto_field) {
    m_default_auto = last_component(*m_settings.default_auto_field);
    return;
  }
  std::map<std::string, int> counts;
  for (const auto& f : files) {
    if (std::find(k_contrib_apps.begin(), k_contrib_apps.end(), f.app) != k_contrib_apps.end()) {
      continue;
    }
    for (const auto& op : f.operations) {
      if (op.type != "CreateModel") {
        continue;
      }
      for (const auto& pair : elements_of(op.arg("fields"))) {
        if (pair.children.size() != 2 || pair.children[1].kind != NodeKind::call) {
          continue;
        }
        const Node& call = pair.children[1];
        if (bool_of(call.keyword_argument("auto_created")).value_or(false) &&
            bool_of(call.keyword_argument("primary_key")).value_or(false) && call.callee()) {
          std::string cls = last_component(call.callee()->dotted());
          if (ends_with(cls, "AutoField")) {
            ++counts[cls];
          }
        }
      }
    }
  }
  int best = 0;
  for (const auto& [cls, n] : counts) {
    if (n > best) {
      best = n;
      m_default_auto = cls;
    }
  }
}

// MigrationLoader.build_graph() and MigrationExecutor.migration_plan() for `migrate` with
// no arguments: squashed migrations replace what they replace (unless partly applied),
// __first__ / __latest__ name an app's root / leaf, and the plan walks the sorted leaf
// nodes depth-first, parents in the order Django's iterative DFS visits them.
std::vector<const MigrationFile*> Derivation::plan(const std::vector<MigrationFile>& files) {
  std::map<MigrationKey, const MigrationFile*> nodes;
  for (const auto& f : files) {
    if (!nodes.emplace(f.key(), &f).second) {
      problem("warning", "django-migration-duplicate",
              "migration " + f.key().label() + " is given twice; the first one is used");
    }
  }
  std::map<MigrationKey, MigrationKey> redirect;  // replaced -> replacement, or the reverse
  std::set<MigrationKey> removed;
  for (const auto& [key, f] : nodes) {
    if (f->replaces.empty()) {
      continue;
    }
    size_t applied = 0;
    for (const auto& r : f->replaces) {
      applied += m_settings.applied.count(r);
    }
    if (applied == 0 || applied == f->replaces.size()) {
      for (const auto& r : f->replaces) {
        redirect[r] = key;
        if (nodes.count(r)) {
          removed.insert(r);
        }
      }
    } else {
      redirect[key] = f->replaces.back();
      removed.insert(key);
      problem("notice", "django-squash-partial",
              "squashed migration " + key.label() +
                  " is only partly applied: the migrations it replaces are used instead");
    }
  }
  for (const auto& r : removed) {
    MigrationSchema ms;
    ms.key = r;
    auto it = redirect.find(r);
    if (it != redirect.end()) {
      ms.replaced_by = it->second;
    }
    m_out.migrations.push_back(std::move(ms));
  }
  auto active = [&](const MigrationKey& k) { return nodes.count(k) && !removed.count(k); };
  std::map<MigrationKey, std::set<MigrationKey>> parents, children;
  for (const auto& [key, f] : nodes) {
    if (!removed.count(key)) {
      parents[key];
      children[key];
    }
  }
  // Django's contrib apps ship their migrations with Django: a set without any of an
  // app's migrations (a project's own migrations folders) is expected, and the models of
  // those apps are assumed (k_builtin_models), so depending on one is no problem.
  std::set<std::string> apps_given;
  for (const auto& [key, f] : nodes) {
    apps_given.insert(key.app);
  }
  auto contrib_not_given = [&](const std::string& app) {
    return !apps_given.count(app) &&
           std::find(k_contrib_apps.begin(), k_contrib_apps.end(), app) != k_contrib_apps.end();
  };
  auto add_edge = [&](const MigrationKey& child, MigrationKey parent, uint64_t line) {
    for (int hops = 0; hops < 8 && redirect.count(parent) && !active(parent); ++hops) {
      parent = redirect[parent];
    }
    if (!active(parent) && contrib_not_given(parent.app)) {
      return;
    }
    if (!active(parent)) {
      Problem p{line, "warning", "django-dependency-missing",
                "migration " + child.label() + " depends on " + parent.label() +
                    ", which is not among the migrations given"};
      m_out.problems.push_back(p);
      return;
    }
    if (parent == child) {
      return;
    }
    parents[child].insert(parent);
    children[parent].insert(child);
  };
  auto dep_key = [&](const Dependency& d) {
    MigrationKey k{d.app, d.name};
    if (d.swappable) {
      std::string value = !d.swappable_value.empty() ? d.swappable_value : "";
      if (value.empty()) {
        auto it = m_swappable.find(d.setting);
        value = it != m_swappable.end() ? it->second : std::string();
      }
      if (!value.empty()) {
        k.app = value.substr(0, value.find('.'));
      }
      k.name = "__first__";
    }
    return k;
  };
  auto special = [](const MigrationKey& k) {
    return k.name == "__first__" || k.name == "__latest__";
  };
  // Same-app dependencies first: __first__ / __latest__ of other apps are resolved on the
  // graph they make.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [key, f] : nodes) {
      if (removed.count(key)) {
        continue;
      }
      for (const auto& d : f->dependencies) {
        MigrationKey k = dep_key(d);
        bool internal = k.app == key.app;
        if ((pass == 0) != internal) {
          continue;
        }
        if (special(k)) {
          if (internal) {
            continue;  // #22325: __first__ of the migration's own app is ignored
          }
          std::vector<MigrationKey> candidates;
          for (const auto& [n, ps] : parents) {
            if (n.app != k.app) {
              continue;
            }
            const auto& rel = k.name == "__first__" ? ps : children[n];
            bool edge = std::any_of(rel.begin(), rel.end(),
                                    [&](const MigrationKey& o) { return o.app == k.app; });
            if (!edge) {
              candidates.push_back(n);
            }
          }
          if (candidates.empty() && contrib_not_given(k.app)) {
            continue;
          }
          if (candidates.empty()) {
            m_out.problems.push_back(
                Problem{d.line, "warning", "django-dependency-missing",
                        "migration " + key.label() + " depends on app " + k.app +
                            ", which has no migration among those given (" + k.name + ")"});
            continue;
          }
          std::sort(candidates.begin(), candidates.end());
          k = candidates.front();
        }
        add_edge(key, k, d.line);
      }
      if (pass == 1) {
        for (const auto& d : f->run_before) {
          MigrationKey k{d.app, d.name};
          if (active(k)) {
            add_edge(k, key, d.line);
          }
        }
      }
    }
  }
  std::vector<MigrationKey> leaves;
  for (const auto& [n, cs] : children) {
    if (std::none_of(cs.begin(), cs.end(), [&](const MigrationKey& c) { return c.app == n.app; })) {
      leaves.push_back(n);
    }
  }
  std::sort(leaves.begin(), leaves.end());
  std::vector<const MigrationFile*> order;
  std::set<MigrationKey> done, in_progress;
  for (const auto& leaf : leaves) {
    // Iterative DFS: (node, expanded).
    std::vector<std::pair<MigrationKey, bool>> stack{{leaf, false}};
    while (!stack.empty()) {
      auto [node, expanded] = stack.back();
      stack.pop_back();
      if (done.count(node)) {
        continue;
      }
      if (expanded) {
        in_progress.erase(node);
        done.insert(node);
        order.push_back(nodes[node]);
        continue;
      }
      if (in_progress.count(node)) {
        m_out.problems.push_back(
            Problem{0, "error", "django-dependency-cycle",
                    "migration " + node.label() + " depends on itself through a cycle"});
        continue;
      }
      in_progress.insert(node);
      stack.emplace_back(node, true);
      for (const auto& p : parents[node]) {
        if (!done.count(p)) {
          if (in_progress.count(p)) {
            m_out.problems.push_back(Problem{0, "error", "django-dependency-cycle",
                                             "migrations " + node.label() + " and " + p.label() +
                                                 " depend on each other (a cycle)"});
            continue;
          }
          stack.emplace_back(p, false);
        }
      }
    }
  }
  return order;
}

void Derivation::finish_effects(MigrationSchema& m) {
  const std::string sentinel = pgsql::k_search_path_schema;
  const std::string sentinel_prefix = pgsql::quote_ident(sentinel) + ".";
  auto strip = [&](std::string& s) {
    for (size_t p; (p = s.find(sentinel_prefix)) != std::string::npos;) {
      s.erase(p, sentinel_prefix.size());
    }
  };
  for (auto& e : m.effects) {
    if (e.schema == sentinel) {
      e.schema.clear();
      e.schema_explicit = false;
    }
    if (e.ref_schema == sentinel) {
      e.ref_schema.clear();
    }
    if (e.type.find(k_unknown_type) != std::string::npos) {
      e.type.clear();
    }
    if (e.detail.find(k_unknown_type) != std::string::npos) {
      e.detail = "type unknown";
    }
    if (e.default_expr) {
      strip(*e.default_expr);
    }
    strip(e.definition);
    strip(e.detail);
  }
}

void Derivation::apply_migration(const MigrationFile& f) {
  m_out.migrations.emplace_back();
  m_mig = &m_out.migrations.back();
  m_mig->key = f.key();
  m_file = &f;
  m_collected.clear();
  m_deferred.clear();
  if (m_settings.sqlmigrate_semantics) {
    m_snapshot = m_catalog;
  }
  for (const auto& op : f.operations) {
    m_line = op.line;
    m_collected.push_back("--");
    bool reduces_to_sql = op.type != "RunPython" || !op.known;
    if (!reduces_to_sql) {
      m_collected.push_back("-- MIGRATION NOW PERFORMS OPERATION THAT CANNOT BE WRITTEN AS SQL:");
    }
    m_collected.push_back("-- " + op.summary);
    m_collected.push_back("--");
    apply(op, true);
  }
  flush_deferred();
  if (!m_collected.empty()) {
    bool atomic = f.atomic.value_or(true);
    std::string text = join(m_collected, "\n");
    m_mig->sqlmigrate = atomic ? "BEGIN;\n" + text + "\nCOMMIT;\n" : text + "\n";
  }
  finish_effects(*m_mig);
  m_mig = nullptr;
  m_file = nullptr;
}

void Derivation::run(const std::vector<MigrationFile>& files) {
  infer_default_auto_field(files);
  m_out.default_auto_field = m_default_auto;
  std::vector<const MigrationFile*> order = plan(files);
  std::vector<MigrationSchema> replaced = std::move(m_out.migrations);
  m_out.migrations.clear();
  m_out.migrations.reserve(order.size() + replaced.size());
  for (const MigrationFile* f : order) {
    apply_migration(*f);
  }
  for (auto& r : replaced) {
    m_out.migrations.push_back(std::move(r));
  }
  m_out.catalog = m_catalog;
}

ProjectSchema derive_schema(const std::vector<MigrationFile>& files,
                            const DjangoSettings& settings) {
  ProjectSchema out;
  Derivation d(settings, out);
  d.run(files);
  return out;
}

namespace {}  // namespace

PyEffectsSummary write_py_effects(store::Store& store, const std::filesystem::path& base) {
  PyEffectsSummary summary;
  struct Read {
    int64_t artifact = 0;
    MigrationFile file;
  };
  std::vector<Read> read;
  {
    store::Statement st = store.prepare(
        "SELECT id, path FROM artifact WHERE kind = 'django-migration-py' AND status <> 'failed' "
        "ORDER BY path, id");
    while (st.step()) {
      int64_t id = st.get_int(0);
      std::string path = st.get_text(1);
      auto key = migration_key_from_path(path);
      if (!key) {
        continue;  // the reader reported it
      }
      try {
        io::InputStream in(base / path);
        Read r;
        r.artifact = id;
        r.file = parse_migration_py(read_migration_text(in), key->app, key->name);
        if (r.file.has_migration_class) {
          read.push_back(std::move(r));
        }
      } catch (const Error& e) {
        summary.notes.push_back(fmt::format(
            "{}: could not be read again to derive its effects ({}): its migration has none", path,
            e.what()));
      }
    }
    st.reset();
  }
  summary.files = read.size();
  std::vector<MigrationFile> files;
  std::map<MigrationKey, int64_t> artifact_of;
  for (const auto& r : read) {
    files.push_back(r.file);
    artifact_of.emplace(r.file.key(), r.artifact);  // a duplicate: the first (a problem)
  }
  DjangoSettings settings;
  {
    store::Statement st = store.prepare("SELECT DISTINCT app, name FROM migration_record");
    while (st.step()) {
      settings.applied.insert(MigrationKey{st.get_text(0), st.get_text(1)});
    }
    st.reset();
  }
  ProjectSchema project = derive_schema(files, settings);
  for (const auto& p : project.problems) {
    summary.notes.push_back("migration files: " + p.message);
  }

  store::Store::Transaction tx(store);
  store.exec("DELETE FROM migration_effect WHERE source = 'py'");
  store::Statement forget = store.prepare("DELETE FROM problem WHERE artifact_id = ?1");
  for (const auto& r : read) {
    forget.run(r.artifact);
    store::FactWriter out(store, r.artifact);
    add_problems(r.file.problems, out);
  }
  for (const auto& m : project.migrations) {
    auto it = artifact_of.find(m.key);
    if (it == artifact_of.end()) {
      continue;
    }
    store::FactWriter out(store, it->second);
    add_problems(m.problems, out);
    int64_t seq = 0;
    for (const auto& e : m.effects) {
      out.add(effect_fact(m.key.app, m.key.name, e, seq++, "py"));
    }
    summary.effects += m.effects.size();
    ++summary.migrations;
  }
  tx.commit();
  return summary;
}

}  // namespace dbautopsy::django
