// The operations of django/contrib/postgres/operations.py: CreateExtension and its named
// subclasses (HStoreExtension, TrigramExtension, ...), CreateCollation, RemoveCollation.

#include "django/derivation.hpp"

#include <algorithm>

#include "base/text.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"

namespace dbautopsy::django::detail {

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

}  // namespace dbautopsy::django::detail
