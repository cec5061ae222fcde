// django_schema beyond the parity test: Django's naming rules against names taken from real
// sqlmigrate output, `migrate` semantics (as opposed to sqlmigrate's), the final schema
// against a pg_dump of the real database, RunSQL DO blocks, the migration plan, squashed
// migrations, settings, and what cannot be known.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <set>

#include "django/django_schema.hpp"
#include "pgsql/script_effects.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dbautopsy;
using namespace dbautopsy::django;

namespace {

MigrationFile migration(const std::string& app, const std::string& name, const std::string& body,
                        const std::string& deps = "") {
  std::string src =
      "from django.db import migrations, models\n"
      "import django.db.models.deletion\n"
      "from django.conf import settings\n\n"
      "class Migration(migrations.Migration):\n"
      "    dependencies = [" +
      deps + "]\n    operations = [\n" + body + "\n    ]\n";
  MigrationFile f = parse_migration_py(src, app, name);
  for (const auto& p : f.problems) {
    INFO(p.line << ": " << p.message);
  }
  REQUIRE(f.problems.empty());
  return f;
}

const MigrationSchema& find(const ProjectSchema& s, const std::string& label) {
  for (const auto& m : s.migrations) {
    if (m.key.label() == label) {
      return m;
    }
  }
  FAIL("no migration " << label);
  throw;
}

bool has_statement(const MigrationSchema& m, const std::string& sql) {
  return std::find(m.statements.begin(), m.statements.end(), sql) != m.statements.end();
}

std::vector<MigrationFile> parity_project() {
  fs::path p = test::source_root() / "tests" / "django" / "parity" / "project";
  auto files = test::load_migrations(p / "shop" / "migrations", "shop");
  auto inv = test::load_migrations(p / "inventory" / "migrations", "inventory");
  files.insert(files.end(), inv.begin(), inv.end());
  return files;
}

}  // namespace

TEST_CASE("Django's names, checked against real sqlmigrate output", "[django][schema]") {
  CHECK(names_digest({"teams_teammembership", "profile_id"}, 8) == "4d037faa");
  CHECK(create_index_name("teams_teammembership", {"profile_id"},
                          "_fk_user_profile_userprofile_id") ==
        "teams_teammembership_profile_id_4d037faa_fk_user_prof");
  CHECK(create_index_name("user_profile_about_item", {"user_profile_id"},
                          "_fk_user_profile_userprofile_id") ==
        "user_profile_about_i_user_profile_id_43dd89ae_fk_user_prof");
  CHECK(create_index_name("teams_team", {"slug"}, "_like") == "teams_team_slug_301a24e5_like");
  CHECK(create_index_name("teams_teammembership", {"team_id", "profile_id"}, "_uniq") ==
        "teams_teammembership_team_id_profile_id_ba617e84_uniq");
  CHECK(create_index_name("user_profile_endorsement_opportunity", {"player_id", "match_ref"},
                          "_uniq") == "user_profile_endorsement_player_id_match_ref_54394f57_uniq");
  CHECK(create_index_name("auth_user_user_permissions", {"user_id", "permission_id"}, "_uniq") ==
        "auth_user_user_permissions_user_id_permission_id_14a6b632_uniq");
  CHECK(create_index_name("shop_categories", {"parent_id"}, "_fk") ==
        "shop_categories_parent_id_7f222d2a_fk");
  CHECK(create_index_name("\"schema\".\"shop_product\"", {"rating"}, "_check") ==
        "shop_product_rating_cb49943f_check");
  // Makemigrations' Meta.indexes names (Index.set_name_with_model).
  CHECK(index_name_with_model("user_profile_about_item",
                              {"user_profile_id", "is_active", "order_index"}) ==
        "user_profil_user_pr_c20dce_idx");
  CHECK(index_name_with_model("user_profile_skill_endorsement", {"receiver_id", "-created_at"}) ==
        "user_profil_receive_a4e8c9_idx");
  CHECK(index_name_with_model("user_profile_stream_config", {"platform"}) ==
        "user_profil_platfor_b46305_idx");
  // truncate_name(): 63 characters, the last 4 an MD5 digest of the whole name.
  std::string long_name(70, 'a');
  std::string t = truncate_name(long_name);
  CHECK(t.size() == 63);
  CHECK(t.substr(59) == names_digest({long_name}, 4));
  CHECK(truncate_name("short") == "short");
  // Lengths count characters, not bytes.
  std::string accented;
  for (int i = 0; i < 60; ++i) {
    accented += "\xC3\xA9";  // 60 characters, 120 bytes
  }
  CHECK(truncate_name(accented) == accented);
}

TEST_CASE("migrate reads the database back as it is, sqlmigrate as it was", "[django][schema]") {
  auto files = parity_project();
  ProjectSchema migrate = derive_schema(files);
  DjangoSettings s;
  s.sqlmigrate_semantics = true;
  ProjectSchema sqlmigrate = derive_schema(files, s);
  // shop 0006 first recreates the foreign key of product.section (its name now ends in
  // "_fk"), then removes the field: migrate drops the new constraint, sqlmigrate (reading
  // the database before the migration) prints the old name.
  CHECK(has_statement(find(migrate, "shop.0006_bigint_keys"),
                      "SET CONSTRAINTS \"shop_product_section_id_f90548fb_fk\" IMMEDIATE; "
                      "ALTER TABLE \"shop_product\" DROP CONSTRAINT "
                      "\"shop_product_section_id_f90548fb_fk\";"));
  CHECK(has_statement(find(sqlmigrate, "shop.0006_bigint_keys"),
                      "SET CONSTRAINTS \"shop_product_section_id_f90548fb_fk_shop_category_id\" "
                      "IMMEDIATE; ALTER TABLE \"shop_product\" DROP CONSTRAINT "
                      "\"shop_product_section_id_f90548fb_fk_shop_category_id\";"));
  CHECK(find(migrate, "shop.0006_bigint_keys").problems.empty());
  // A '%' of a column default reaches the database once; sqlmigrate prints it twice.
  const auto& m2 = find(migrate, "shop.0002_product_details");
  CHECK(has_statement(m2,
                      "ALTER TABLE \"shop_product\" ADD COLUMN \"motto\" varchar(40) DEFAULT "
                      "'it''s 100% \\ done' NOT NULL;"));
  // ... but in a CHECK constraint it stays doubled in the database too (Django 3.2's
  // quote_value() output is not interpolated again).
  CHECK(has_statement(m2,
                      "ALTER TABLE \"shop_product\" ADD CONSTRAINT \"rating_or_note\" CHECK "
                      "((\"rating\" IN ( -1, 1, 2, 3) OR \"note\"::text LIKE 'x%%'));"));
  // Django 3.2 drops the foreign keys of hidden relations (related_name='+') when the key
  // they point to changes type, and does not make them again.
  const auto& m6 = find(migrate, "shop.0006_bigint_keys");
  bool dropped = false, recreated = false;
  for (const auto& e : m6.effects) {
    dropped = dropped || (e.action == "drop" && e.object == "constraint" &&
                          e.name == "inventory_stock_category_id_55a07129_fk_shop_categories_id");
    recreated = recreated || (e.action == "create" && e.object == "constraint" &&
                              e.table == "inventory_stock" && e.columns == "category_id");
  }
  CHECK(dropped);
  CHECK(!recreated);
}

TEST_CASE("the schema migrate leaves equals the real database's (pg_dump)", "[django][schema]") {
  ProjectSchema derived = derive_schema(parity_project());
  pgsql::Catalog real;
  pgsql::Session session;
  std::string dump =
      test::read_file(test::source_root() / "tests" / "django" / "parity" / "schema.sql");
  REQUIRE(!dump.empty());
  pgsql::replay_script(dump, 1, real, session);
  auto objects = [](const pgsql::Catalog& c, const std::string& schema) {
    std::set<std::string> out;
    c.for_each_relation([&](const pgsql::RelationModel& r) {
      if (r.fact.schema_name != schema || r.fact.kind != "table" ||
          r.fact.name == "django_migrations") {
        return;
      }
      out.insert("table " + r.fact.name);
      for (const auto& col : r.columns) {
        out.insert("column " + r.fact.name + "." + col.name + " " + col.type +
                   (col.not_null ? " not null" : " null") +
                   (col.default_expr ? " with default" : ""));
      }
    });
    c.for_each_constraint([&](const store::ConstraintFact& k) {
      if (k.schema_name == schema && k.table_name != "django_migrations") {
        out.insert("constraint " + k.table_name + "." + k.name + " " + k.kind + " (" +
                   k.columns.value_or("") + ")");
      }
    });
    c.for_each_index([&](const store::IndexFact& i) {
      if (i.schema_name == schema && i.table_name != "django_migrations") {
        out.insert("index " + i.table_name + "." + i.name + (i.is_unique ? " unique" : ""));
      }
    });
    return out;
  };
  auto want = objects(real, "public");
  auto got = objects(derived.catalog, pgsql::k_search_path_schema);
  REQUIRE(want.size() > 50);
  std::string diff;
  for (const auto& w : want) {
    if (!got.count(w)) {
      diff += "in the database, not derived: " + w + "\n";
    }
  }
  for (const auto& g : got) {
    if (!want.count(g)) {
      diff += "derived, not in the database: " + g + "\n";
    }
  }
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("RunSQL: DO blocks give conditional effects in the schema they name",
          "[django][schema]") {
  fs::path teams = test::source_root() / "fixtures" / "cases" / "django_drift" / "migrations";
  std::vector<MigrationFile> files = test::load_migrations(teams / "teams", "teams");
  auto up = test::load_migrations(teams / "user_profile", "user_profile");
  files.insert(files.end(), up.begin(), up.end());
  ProjectSchema s = derive_schema(files);
  const auto& m = find(s, "teams.0006_repair_teammembership_left_at");
  REQUIRE(m.effects.size() == 2);
  CHECK(m.effects[0].action == "create");
  CHECK(m.effects[0].object == "column");
  CHECK(m.effects[0].schema == "public");
  CHECK(m.effects[0].schema_explicit);
  CHECK(m.effects[0].table == "teams_teammembership");
  CHECK(m.effects[0].name == "left_at");
  CHECK(m.effects[0].type == "timestamp with time zone");
  CHECK(m.effects[0].conditional);
  CHECK(m.effects[0].line == 25);  // the ALTER TABLE's line in the .py file
  CHECK(m.effects[1].object == "index");
  CHECK(m.effects[1].name == "teams_member_left_at_idx");
  CHECK(m.effects[1].conditional);
  CHECK(m.effects[1].line == 43);
  // Django's own statements leave the schema to the search_path.
  const auto& m4 = find(s, "teams.0004_add_left_at_field");
  REQUIRE(!m4.effects.empty());
  for (const auto& e : m4.effects) {
    CHECK(e.schema.empty());
    CHECK(!e.schema_explicit);
    CHECK(!e.conditional);
  }
  // auth.User is not among the files: Django's definition is assumed, with a notice.
  const auto& up1 = find(s, "user_profile.0001_initial");
  bool assumed = false;
  for (const auto& p : up1.problems) {
    assumed = assumed || p.code == "django-model-assumed";
  }
  CHECK(assumed);
  // Its app's migrations ship with Django: their absence from a project's migration folders
  // is expected and is no problem (a project app's would be, see the plan test).
  bool missing_auth = false;
  for (const auto& p : s.problems) {
    missing_auth = missing_auth || p.code == "django-dependency-missing";
  }
  CHECK(!missing_auth);
}

TEST_CASE("the plan: Django's order, squashed migrations, missing and cyclic dependencies",
          "[django][schema]") {
  std::vector<MigrationFile> files;
  files.push_back(migration("b", "0001_initial", ""));
  files.push_back(migration("a", "0001_initial", "", "('b', '__first__')"));
  files.push_back(migration("a", "0002_next", "", "('a', '0001_initial'), ('c', '0001_x')"));
  files.push_back(migration("b", "0002_more", "", "('b', '0001_initial'), ('a', '__latest__')"));
  ProjectSchema s = derive_schema(files);
  std::vector<std::string> order;
  for (const auto& m : s.migrations) {
    order.push_back(m.key.label());
  }
  CHECK(order ==
        std::vector<std::string>{"b.0001_initial", "a.0001_initial", "a.0002_next", "b.0002_more"});
  REQUIRE(s.problems.size() == 1);
  CHECK(s.problems[0].code == "django-dependency-missing");
  CHECK(s.problems[0].message.find("c.0001_x") != std::string::npos);

  std::vector<MigrationFile> squash;
  squash.push_back(migration("s", "0001_initial", R"(
        migrations.CreateModel(name='Thing', fields=[('id', models.AutoField(primary_key=True))]),)"));
  squash.push_back(migration("s", "0002_more", R"(
        migrations.AddField(model_name='thing', name='n', field=models.IntegerField(null=True)),)",
                             "('s', '0001_initial')"));
  MigrationFile sq = migration("s", "0001_squashed_0002", R"(
        migrations.CreateModel(name='Thing', fields=[('id', models.AutoField(primary_key=True)),
                                                     ('n', models.IntegerField(null=True))]),)");
  sq.replaces = {{"s", "0001_initial"}, {"s", "0002_more"}};
  squash.push_back(sq);
  squash.push_back(migration("s", "0003_after", R"(
        migrations.AddField(model_name='thing', name='m', field=models.IntegerField(null=True)),)",
                             "('s', '0002_more')"));
  ProjectSchema q = derive_schema(squash);
  CHECK(q.problems.empty());
  std::vector<std::string> applied;
  for (const auto& m : q.migrations) {
    if (m.replaced_by) {
      CHECK(m.replaced_by->label() == "s.0001_squashed_0002");
      CHECK(m.effects.empty());
    } else {
      applied.push_back(m.key.label());
    }
  }
  CHECK(applied == std::vector<std::string>{"s.0001_squashed_0002", "s.0003_after"});
  // Partly applied: the replaced migrations are used, the squashed one is not.
  DjangoSettings partly;
  partly.applied = {{"s", "0001_initial"}};
  ProjectSchema p = derive_schema(squash, partly);
  applied.clear();
  for (const auto& m : p.migrations) {
    if (!m.replaced_by) {
      applied.push_back(m.key.label());
    }
  }
  CHECK(applied == std::vector<std::string>{"s.0001_initial", "s.0002_more", "s.0003_after"});
  // All of them recorded, their files here: each is read by its own operations (its row says it
  // ran, and a removal faked before the squash was written is its own), without a notice.
  DjangoSettings all;
  all.applied = {{"s", "0001_initial"}, {"s", "0002_more"}};
  ProjectSchema r = derive_schema(squash, all);
  CHECK(r.problems.empty());
  applied.clear();
  for (const auto& m : r.migrations) {
    if (!m.replaced_by) {
      applied.push_back(m.key.label());
    }
  }
  CHECK(applied == std::vector<std::string>{"s.0001_initial", "s.0002_more", "s.0003_after"});

  std::vector<MigrationFile> cycle;
  cycle.push_back(migration("x", "0001", "", "('y', '0001')"));
  cycle.push_back(migration("y", "0001", "", "('x', '0001')"));
  ProjectSchema c = derive_schema(cycle);
  CHECK(c.migrations.size() == 2);
  bool reported = false;
  for (const auto& pr : c.problems) {
    reported = reported || pr.code == "django-dependency-cycle";
  }
  CHECK(reported);
}

TEST_CASE("settings: AUTH_USER_MODEL, DEFAULT_AUTO_FIELD", "[django][schema]") {
  std::vector<MigrationFile> files;
  files.push_back(migration("accounts", "0001_initial", R"(
        migrations.CreateModel(name='Member', fields=[
            ('uid', models.UUIDField(primary_key=True)),
            ('groups', models.ManyToManyField(to='accounts.Team')),
        ]),
        migrations.CreateModel(name='Team', fields=[]),)"));
  // ManyToManyField before its target exists: the target is created in the same migration.
  files.push_back(migration("blog", "0001_initial", R"(
        migrations.CreateModel(name='Post', fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False)),
            ('author', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to=settings.AUTH_USER_MODEL)),
        ]),)",
                            "migrations.swappable_dependency(settings.AUTH_USER_MODEL)"));
  DjangoSettings s;
  s.auth_user_model = "accounts.Member";
  ProjectSchema p = derive_schema(files, s);
  CHECK(p.problems.empty());
  CHECK(p.default_auto_field == "BigAutoField");  // from blog's auto-created key
  const auto& blog = find(p, "blog.0001_initial");
  CHECK(has_statement(blog,
                      "CREATE TABLE \"blog_post\" (\"id\" bigserial NOT NULL PRIMARY KEY, "
                      "\"author_id\" uuid NOT NULL);"));
  const auto& acc = find(p, "accounts.0001_initial");
  // Team declares no key: Django adds one of DEFAULT_AUTO_FIELD.
  CHECK(has_statement(acc,
                      "CREATE TABLE \"accounts_team\" (\"id\" bigserial NOT NULL PRIMARY "
                      "KEY);"));
  s.default_auto_field = "django.db.models.AutoField";
  ProjectSchema q = derive_schema(files, s);
  CHECK(has_statement(find(q, "accounts.0001_initial"),
                      "CREATE TABLE \"accounts_team\" (\"id\" serial NOT NULL PRIMARY KEY);"));
}

TEST_CASE("what cannot be known is reported, the rest derived", "[django][schema]") {
  std::vector<MigrationFile> files;
  files.push_back(migration("app", "0001_initial", R"(
        migrations.CreateModel(name='Item', fields=[
            ('id', models.AutoField(primary_key=True)),
            ('ip', thirdparty.fields.IPField(null=True)),
            ('code', models.CharField(max_length=settings.CODE_LENGTH)),
            ('token', models.CharField(max_length=10, default=make_token)),
        ]),
        migrations.AddField(model_name='item', name='stamp',
                            field=models.CharField(max_length=10, default=make_token)),
        myproject.ops.Backfill('item'),
        migrations.RunSQL(build_sql()),
        migrations.AddField(model_name='ghost', name='x', field=models.IntegerField()),)"));
  ProjectSchema p = derive_schema(files);
  const auto& m = find(p, "app.0001_initial");
  std::multiset<std::string> codes;
  for (const auto& pr : m.problems) {
    codes.insert(pr.code);
    CHECK(pr.line >= 7);
  }
  CHECK(codes.count("django-field-unknown") == 1);
  CHECK(codes.count("django-field-unreadable") == 1);
  CHECK(codes.count("django-default-unknown") == 1);
  CHECK(codes.count("django-operation-unknown") == 1);
  CHECK(codes.count("django-sql-unknown") == 1);
  CHECK(codes.count("django-model-unknown") == 1);
  // The table and all its columns are still there; unknown types are left empty.
  std::map<std::string, std::string> types;
  for (const auto& e : m.effects) {
    if (e.object == "column" && e.action == "create") {
      types[e.name] = e.type;
    }
  }
  CHECK(types.size() == 5);
  CHECK(types["id"] == "integer");
  CHECK(types["ip"].empty());
  CHECK(types["code"].empty());
  CHECK(types["stamp"] == "character varying(10)");
}
