// The entry points: derive_schema() runs the migrations of a project the way `manage.py
// migrate` (django/core/management/commands/migrate.py) or `sqlmigrate` would, through the
// Derivation of derivation.hpp; write_py_effects() turns the result into facts.

#include "django/derivation.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "base/error.hpp"
#include "base/text.hpp"
#include "django/app_labels.hpp"
#include "django/sqlmigrate.hpp"
#include "io/input.hpp"
#include "pgsql/names.hpp"
#include "pgsql/script_effects.hpp"
#include "pgsql/sql_text.hpp"
#include "store/facts.hpp"

namespace dbautopsy::django {

using detail::Derivation;

ProjectSchema derive_schema(const std::vector<MigrationFile>& files,
                            const DjangoSettings& settings) {
  ProjectSchema out;
  Derivation d(settings, out);
  d.run(files);
  return out;
}

RunSqlText run_sql_statements(const MigrationFile& file, const Operation& op,
                              const DjangoSettings& settings) {
  RunSqlText out;
  ProjectSchema schema;
  Derivation d(settings, schema);
  for (auto& st : d.run_sql_statements(file, op)) {
    out.statements.emplace_back(std::move(st.sql), st.line);
  }
  out.problems = std::move(schema.problems);
  return out;
}

PyEffectsSummary write_py_effects(store::Store& store, const std::filesystem::path& base) {
  return write_py_effects(store, [&base](const std::string& path) { return base / path; });
}

PyEffectsSummary write_py_effects(
    store::Store& store,
    const std::function<std::filesystem::path(const std::string& path)>& locate) {
  PyEffectsSummary summary;
  // The app label of each folder first: the derivation names tables after it.
  AppLabels labels = assign_app_labels(store);
  summary.notes = std::move(labels.notes);
  struct Read {
    int64_t artifact = 0;
    MigrationFile file;
    io::ByteOrderMark bom = io::ByteOrderMark::none;  // said again with its problems
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
        io::InputStream in(locate(path));
        Read r;
        r.artifact = id;
        auto label = labels.label_of.find(key->app);
        r.file = parse_migration_py(read_migration_text(in),
                                    label == labels.label_of.end() ? key->app : label->second,
                                    key->name);
        r.bom = in.byte_order_mark();
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
  store.exec("DELETE FROM migration_unmanaged_table");
  store.exec("DELETE FROM migration_app_value");
  store::Statement unmanaged = store.prepare(
      "INSERT INTO migration_unmanaged_table(artifact_id, line, app, migration, model, table_name) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  store::Statement forget = store.prepare("DELETE FROM problem WHERE artifact_id = ?1");
  for (const auto& r : read) {
    forget.run(r.artifact);
    store::FactWriter out(store, r.artifact);
    if (r.bom != io::ByteOrderMark::none) {
      out.add(store::byte_order_mark_notice(io::byte_order_mark_name(r.bom)));
    }
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
    std::vector<pgsql::Effect> effects = m.effects;
    pgsql::fold_fills(effects);
    for (const auto& e : effects) {
      out.add(effect_fact(m.key.app, m.key.name, e, seq++, "py"));
    }
    for (const auto& u : m.unmanaged) {
      unmanaged.run(
          it->second,
          u.line > 0 ? std::optional<int64_t>(static_cast<int64_t>(u.line)) : std::nullopt,
          m.key.app, m.key.name, u.model, u.table);
    }
    summary.effects += m.effects.size();
    ++summary.migrations;
  }
  store::Statement app_value = store.prepare(
      "INSERT INTO migration_app_value(artifact_id, line, app, migration, table_name, "
      "column_name, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  for (const auto& v : project.app_values) {
    auto it = artifact_of.find(v.migration);
    if (it == artifact_of.end()) {
      continue;
    }
    app_value.run(it->second,
                  v.line > 0 ? std::optional<int64_t>(static_cast<int64_t>(v.line)) : std::nullopt,
                  v.migration.app, v.migration.name, v.table, v.column, v.origin);
  }
  tx.commit();
  return summary;
}

}  // namespace dbautopsy::django
