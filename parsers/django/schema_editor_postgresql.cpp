// What django/db/backends/postgresql/schema.py (DatabaseSchemaEditor) does differently
// from the base schema editor: the _like indexes of varchar / text columns
// (_create_like_index_sql, _field_indexes_sql) and column type changes with their serial
// sequences (_alter_column_type_sql).

#include "django/derivation.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

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

}  // namespace dbautopsy::django::detail
