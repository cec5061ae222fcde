// Model fields as django/db/models/fields/__init__.py and fields/related.py define them
// (with django/contrib/postgres/fields and the third-party fields the corpus uses): which
// classes exist, the arguments they take, deconstruct() for comparisons, db_type() with the
// PostgreSQL backend's data_types (django/db/backends/postgresql/base.py), rel_db_type() and
// get_db_prep_value() -- the SQL text of a value.

#include "django/derivation.hpp"

#include <algorithm>
#include <array>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

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
constexpr std::array<FieldClass, 39> k_django_fields = {{
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
    // Django 5.0+ (fields/generated.py): the column has output_field's type.
    {"GeneratedField", "GeneratedField", "", Rel::none, false, ""},
    // Django 5.2+ (fields/composite.py): no column; the table's PRIMARY KEY (a, b).
    {"CompositePrimaryKey", "CompositePrimaryKey", "", Rel::none, false, "", false},
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

const FieldClass* django_field_class(std::string_view name) {
  for (const auto& c : k_django_fields) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

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
  if (m_mig) {
    f.migration = m_mig->key;
  }
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
  if (auto it = f.kw.find("db_default"); it != f.kw.end()) {
    f.db_default = it->second;  // Django 5.0+ (Field.__init__: NOT_PROVIDED when absent)
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
  if (f.internal == "GeneratedField") {
    // GeneratedField(*, expression, output_field, db_persist): keyword-only arguments.
    if (auto it = f.kw.find("output_field"); it != f.kw.end()) {
      f.base_field = std::make_shared<Field>(make_field(name, it->second, app, self_key));
    } else {
      problem("warning", "django-field-unreadable",
              "GeneratedField " + name + " has no output_field; its type is unknown", call.line);
    }
    auto persist = f.kw.find("db_persist");
    if (persist == f.kw.end() || !bool_of(&persist->second).value_or(false)) {
      // PostgreSQL before 18 has no VIRTUAL generated columns
      // (features.supports_virtual_generated_columns): Django's checks refuse the field.
      problem("warning", "django-field-unreadable",
              "GeneratedField " + name +
                  " is not db_persist=True: PostgreSQL 15 has only STORED generated columns "
                  "(Django's checks refuse it); taken as STORED",
              call.line);
    }
  }
  if (f.internal == "CompositePrimaryKey") {
    // CompositePrimaryKey(*field_names): the model's primary key, without a column.
    f.primary_key = true;
    for (const Node* a : call.positional_arguments()) {
      if (auto s = string_of(a)) {
        f.composite.push_back(*s);
      } else {
        problem("warning", "django-field-unreadable",
                "CompositePrimaryKey " + name + ": " + py::to_source(*a) + " is not a field name",
                call.line);
      }
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
      "blank", "db_column", "editable", "error_messages", "help_text", "limit_choices_to",
      // Django 4.2+: only COMMENT ON COLUMN follows from it, which is not compared.
      "db_comment", "on_delete", "related_name", "related_query_name", "validators",
      "verbose_name"};
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
  if (f.internal == "GeneratedField") {
    // GeneratedField.db_parameters(): output_field's type.
    if (!f.base_field) {
      return std::string(k_unknown_type);
    }
    return db_type(*f.base_field).value_or(std::string(k_unknown_type));
  }
  if (!f.known || f.type_template.empty() || f.params_unknown) {
    return std::string(k_unknown_type);
  }
  if (m_identity && is_auto(f)) {
    // Django 4.1+ postgresql/base.py data_types: the auto fields' plain integer types (the
    // identity clause is db_type_suffix()).
    return std::string(f.internal == "AutoField"      ? "integer"
                       : f.internal == "BigAutoField" ? "bigint"
                                                      : "smallint");
  }
  std::string t = f.type_template;
  auto subst = [&](std::string_view key, const std::string& value) {
    size_t p = t.find(key);
    if (p != std::string::npos) {
      t.replace(p, key.size(), value.empty() ? "None" : value);
    }
  };
  if (f.max_length.empty() && t == "varchar(%(max_length)s)") {
    // Django 4.2+ (postgresql/base.py _get_varchar_column()): a CharField without
    // max_length is a plain varchar on PostgreSQL.
    return std::string("varchar");
  }
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

std::string Derivation::db_type_suffix(const Field& f) const {
  return m_identity && is_auto(f) && f.known ? " GENERATED BY DEFAULT AS IDENTITY" : "";
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

}  // namespace dbautopsy::django::detail
