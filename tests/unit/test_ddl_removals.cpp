// What a migration's SQL removes or renames, replayed alone (sqlmigrate outputs are read one
// file at a time, with no knowledge of the objects earlier migrations made): every removal
// and rename must still come out as an effect, or the expected schema keeps what a later
// migration removed (and a repair would put it back).
//
// The Django statements are the real `manage.py sqlmigrate` outputs of the parity project
// (tests/django/parity: Django 3.2 on PostgreSQL 15, see its generate.sh); the other forms
// are SQL a RunSQL or a hand-written script may hold.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "pgsql/script_effects.hpp"
#include "support.hpp"

using namespace dbautopsy;

namespace {

std::vector<pgsql::Effect> replay_alone(const std::string& sql) {
  pgsql::Catalog catalog;
  pgsql::Session session;
  pgsql::prepare_sentinel_session(catalog, session);
  pgsql::ScriptEffects out = pgsql::replay_script(sql, 1, catalog, session);
  return out.effects;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "action object [table.]name[ -> new]" of each effect; the schema only when the SQL named it.
std::set<std::string> keys(const std::vector<pgsql::Effect>& effects) {
  std::set<std::string> out;
  for (const auto& e : effects) {
    std::string k = e.action + " " + e.object + " ";
    if (e.schema_explicit) {
      k += e.schema + ":";
    }
    if (!e.table.empty()) {
      k += e.table + ".";
    }
    k += e.name;
    if (!e.new_name.empty()) {
      k += " -> " + e.new_name;
    }
    out.insert(k);
  }
  return out;
}

std::filesystem::path parity(const std::string& file) {
  return test::source_root() / "tests/django/parity/sqlmigrate" / file;
}

}  // namespace

TEST_CASE(
    "Django removals replayed alone: AlterUniqueTogether, AlterIndexTogether, "
    "RemoveIndex, RemoveConstraint, DeleteModel",
    "[ddl][removals]") {
  auto k = keys(replay_alone(read(parity("shop/0005_removals.sql"))));
  // AlterUniqueTogether(..., set()): ALTER TABLE ... DROP CONSTRAINT "..._uniq"
  CHECK(k.count("drop constraint shop_product.shop_product_category_id_sku_9c9a050a_uniq"));
  // AlterIndexTogether(..., set()) and RemoveIndex: DROP INDEX IF EXISTS "..."
  CHECK(k.count("drop index shop_product_title_price_1a647a64_idx"));
  CHECK(k.count("drop index shop_produc_price_1c2d3e_idx"));
  // RemoveConstraint of a CheckConstraint, of a UniqueConstraint with a condition (an index)
  // and of one without (a constraint)
  CHECK(k.count("drop constraint shop_product.price_stock_check"));
  CHECK(k.count("drop index uniq_active_title"));
  CHECK(k.count("drop constraint shop_product.uniq_sku_category"));
  // RemoveField of a ManyToManyField and DeleteModel: DROP TABLE ... CASCADE
  CHECK(k.count("drop table shop_product_tags"));
  CHECK(k.count("drop table shop_label"));
}

TEST_CASE("Django AlterField dropping unique, db_index, a foreign key and a check, replayed alone",
          "[ddl][removals]") {
  auto k = keys(replay_alone(read(parity("shop/0003_alter_fields.sql"))));
  CHECK(k.count("drop constraint shop_category.shop_category_name_key"));
  CHECK(k.count("drop index shop_category_slug_4508178e"));
  CHECK(k.count("drop index shop_category_slug_4508178e_like"));
  CHECK(k.count(
      "drop constraint shop_product.shop_product_category_id_14d7eea8_fk_shop_category_id"));
  CHECK(k.count("drop constraint shop_product.shop_product_stock_check"));
}

TEST_CASE("Django RenameField, RenameModel and AlterModelTable replayed alone", "[ddl][removals]") {
  auto k = keys(replay_alone(read(parity("shop/0004_renames.sql"))));
  CHECK(k.count("rename column shop_product.title -> name"));
  CHECK(k.count("rename column shop_product.category_id -> section_id"));
  CHECK(k.count("rename table shop_tag -> shop_label"));
  CHECK(k.count("rename column shop_product_tags.tag_id -> label_id"));
  CHECK(k.count("rename table shop_category -> shop_categories"));
  CHECK(k.count(
      "drop constraint shop_product_tags.shop_product_tags_tag_id_dd30c4fb_fk_shop_tag_id"));
}

TEST_CASE("Django RemoveField and AlterField of a key, replayed alone", "[ddl][removals]") {
  auto k = keys(replay_alone(read(parity("shop/0006_bigint_keys.sql"))));
  CHECK(k.count("drop column shop_product.section_id"));
  CHECK(k.count(
      "drop constraint shop_categories.shop_category_parent_id_901626c9_fk_shop_category_id"));
  auto k7 = keys(replay_alone(read(parity("shop/0007_state_and_sql.sql"))));
  CHECK(k7.count("drop column shop_variant._order"));
  CHECK(k7.count("alter column shop_product.is_active"));
}

// Every DROP / RENAME statement of every real sqlmigrate output of the repository gives its
// effect when the file is replayed alone.
TEST_CASE("every removal and rename of the committed sqlmigrate outputs becomes an effect",
          "[ddl][removals]") {
  static const std::regex drop_constraint(R"re(DROP CONSTRAINT "([^"]+)")re");
  static const std::regex drop_index(
      R"re(DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?"([^"]+)")re");
  static const std::regex drop_column(R"re(DROP COLUMN "([^"]+)")re");
  static const std::regex drop_table(R"re(DROP TABLE "([^"]+)")re");
  static const std::regex rename_column(R"re(RENAME COLUMN "([^"]+)" TO "([^"]+)")re");
  static const std::regex rename_table(R"re(ALTER TABLE "([^"]+)" RENAME TO "([^"]+)")re");
  int files = 0;
  int checked = 0;
  std::vector<std::filesystem::path> roots = {
      test::source_root() / "tests/django/parity/sqlmigrate",
      test::source_root() / "fixtures/cases"};
  for (const auto& root : roots) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (entry.path().extension() != ".sql" ||
          entry.path().string().find("sqlmigrate") == std::string::npos) {
        continue;
      }
      ++files;
      std::string sql = read(entry.path());
      std::vector<pgsql::Effect> effects = replay_alone(sql);
      auto has = [&](const std::string& action, const std::string& object, const std::string& name,
                     const std::string& new_name) {
        for (const auto& e : effects) {
          if (e.action == action && e.object == object && e.name == name &&
              (new_name.empty() || e.new_name == new_name)) {
            return true;
          }
        }
        return false;
      };
      auto each = [&](const std::regex& re, const std::string& action, const std::string& object) {
        for (std::sregex_iterator it(sql.begin(), sql.end(), re), end; it != end; ++it) {
          ++checked;
          INFO(entry.path().string() << ": " << it->str());
          CHECK(has(action, object, (*it)[1], it->size() > 2 ? (*it)[2].str() : ""));
        }
      };
      each(drop_constraint, "drop", "constraint");
      each(drop_index, "drop", "index");
      each(drop_column, "drop", "column");
      each(drop_table, "drop", "table");
      each(rename_column, "rename", "column");
      each(rename_table, "rename", "table");
    }
  }
  CHECK(files > 20);
  CHECK(checked > 30);
}

TEST_CASE("other removal and rename forms replayed alone", "[ddl][removals]") {
  SECTION("DROP INDEX: IF EXISTS, CONCURRENTLY, qualified, several at once") {
    auto k =
        keys(replay_alone("DROP INDEX IF EXISTS a_idx;\n"
                          "DROP INDEX CONCURRENTLY IF EXISTS \"B_idx\";\n"
                          "DROP INDEX CONCURRENTLY c_idx;\n"
                          "DROP INDEX app.d_idx, e_idx CASCADE;\n"));
    CHECK(k.count("drop index a_idx"));
    CHECK(k.count("drop index B_idx"));
    CHECK(k.count("drop index c_idx"));
    CHECK(k.count("drop index app:d_idx"));
    CHECK(k.count("drop index e_idx"));
  }
  SECTION("DROP CONSTRAINT of each kind, IF EXISTS, qualified table, ONLY, CASCADE") {
    auto k = keys(
        replay_alone("ALTER TABLE t DROP CONSTRAINT t_pkey;\n"
                     "ALTER TABLE ONLY t DROP CONSTRAINT IF EXISTS t_code_key CASCADE;\n"
                     "ALTER TABLE app.u DROP CONSTRAINT u_t_id_fk, DROP CONSTRAINT u_n_check;\n"));
    CHECK(k.count("drop constraint t.t_pkey"));
    CHECK(k.count("drop constraint t.t_code_key"));
    CHECK(k.count("drop constraint app:u.u_t_id_fk"));
    CHECK(k.count("drop constraint app:u.u_n_check"));
  }
  SECTION("DROP COLUMN, IF EXISTS, CASCADE; DROP TABLE, IF EXISTS, several") {
    auto k =
        keys(replay_alone("ALTER TABLE t DROP COLUMN a;\n"
                          "ALTER TABLE t DROP COLUMN IF EXISTS b CASCADE;\n"
                          "ALTER TABLE t DROP c;\n"
                          "DROP TABLE IF EXISTS x, app.y CASCADE;\n"));
    CHECK(k.count("drop column t.a"));
    CHECK(k.count("drop column t.b"));
    CHECK(k.count("drop column t.c"));
    CHECK(k.count("drop table x"));
    CHECK(k.count("drop table app:y"));
  }
  SECTION("renames of tables, columns, constraints and indexes") {
    auto k =
        keys(replay_alone("ALTER TABLE t RENAME TO t2;\n"
                          "ALTER TABLE IF EXISTS t2 RENAME COLUMN a TO b;\n"
                          "ALTER TABLE t2 RENAME CONSTRAINT t_code_key TO t2_code_key;\n"
                          "ALTER INDEX t_a_idx RENAME TO t2_a_idx;\n"
                          "ALTER INDEX IF EXISTS app.t_b_idx RENAME TO t2_b_idx;\n"));
    CHECK(k.count("rename table t -> t2"));
    CHECK(k.count("rename column t2.a -> b"));
    CHECK(k.count("rename constraint t2.t_code_key -> t2_code_key"));
    CHECK(k.count("rename index t_a_idx -> t2_a_idx"));
    CHECK(k.count("rename index app:t_b_idx -> t2_b_idx"));
  }
  SECTION("SET SCHEMA of a table and of a sequence") {
    auto k =
        keys(replay_alone("ALTER TABLE t SET SCHEMA archive;\n"
                          "ALTER SEQUENCE t_id_seq SET SCHEMA archive;\n"));
    CHECK(k.count("set_schema table t -> archive"));
    CHECK(k.count("set_schema sequence t_id_seq -> archive"));
  }
  SECTION("ALTER COLUMN DROP DEFAULT, DROP NOT NULL, TYPE") {
    std::vector<pgsql::Effect> effects = replay_alone(
        "ALTER TABLE t ALTER COLUMN a DROP DEFAULT;\n"
        "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;\n"
        "ALTER TABLE t ALTER COLUMN a TYPE bigint USING a::bigint;\n");
    REQUIRE(effects.size() == 3);
    CHECK(effects[0].default_expr == std::optional<std::string>(""));
    CHECK(effects[1].not_null == std::optional<bool>(false));
    CHECK(effects[2].type == "bigint");
  }
}

TEST_CASE("Django's AlterField to NOT NULL with a default: the NULLs' value goes with SET NOT NULL",
          "[ddl][fill]") {
  // Real `manage.py sqlmigrate` output (fixtures/cases/django_faked_dirty_data): qty had no
  // default (SET DEFAULT first), stock had the same default before (the UPDATE alone).
  std::vector<pgsql::Effect> effects = replay_alone(
      "ALTER TABLE \"shop_product\" ALTER COLUMN \"qty\" SET DEFAULT 0;\n"
      "UPDATE \"shop_product\" SET \"qty\" = 0 WHERE \"qty\" IS NULL;\n"
      "ALTER TABLE \"shop_product\" ALTER COLUMN \"qty\" SET NOT NULL;\n"
      "ALTER TABLE \"shop_product\" ALTER COLUMN \"qty\" DROP DEFAULT;\n"
      "UPDATE \"shop_product\" SET \"stock\" = 0 WHERE \"stock\" IS NULL;\n"
      "ALTER TABLE \"shop_product\" ALTER COLUMN \"stock\" SET NOT NULL;\n"
      // not a fill: another column tested, a value from a column, no SET NOT NULL after it
      "UPDATE \"shop_product\" SET \"note\" = 'x' WHERE \"label\" IS NULL;\n"
      "UPDATE \"shop_product\" SET \"label\" = \"note\" WHERE \"label\" IS NULL;\n"
      "ALTER TABLE \"shop_product\" ALTER COLUMN \"label\" SET NOT NULL;\n"
      "UPDATE \"shop_product\" SET \"bin\" = 1 WHERE \"bin\" IS NULL;\n");
  pgsql::fold_fills(effects);
  std::vector<std::string> got;
  for (const auto& e : effects) {
    got.push_back(e.action + " " + e.name + (e.fill_value ? " fill " + *e.fill_value : ""));
  }
  CHECK(got == std::vector<std::string>{"alter qty", "alter qty fill 0", "alter qty",
                                        "alter stock fill 0", "alter label"});
}
