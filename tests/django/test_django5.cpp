// Migrations written by Django 4.0 to 5.2: RenameIndex (4.1, by old_name and by old_fields),
// AlterModelTableComment / db_comment / db_table_comment (4.2), db_default and
// GeneratedField (5.0), UniqueConstraint(nulls_distinct=...) (5.0) and expressions,
// AddConstraintNotValid / ValidateConstraint (contrib.postgres, 4.0), CharField without
// max_length (4.2) and CompositePrimaryKey (5.2). The statements expected here are those of
// Django 5.x's PostgreSQL schema editor (django/db/backends/base/schema.py and
// postgresql/schema.py); fixtures/cases/django5_* check the same against real PostgreSQL.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "django/django_schema.hpp"
#include "pgsql/script_effects.hpp"

using namespace dbautopsy;
using namespace dbautopsy::django;

namespace {

const std::string k_imports =
    "from django.db import migrations, models\n"
    "import django.db.models.deletion\n"
    "import django.db.models.functions.datetime\n";

MigrationFile migration5(const std::string& app, const std::string& name, const std::string& body,
                         const std::string& deps = "", const std::string& imports = k_imports) {
  std::string src = imports +
                    "\nclass Migration(migrations.Migration):\n"
                    "    dependencies = [" +
                    deps + "]\n    operations = [\n" + body + "\n    ]\n";
  MigrationFile f = parse_migration_py(src, app, name);
  for (const auto& p : f.problems) {
    INFO(p.line << ": " << p.message);
  }
  REQUIRE(f.problems.empty());
  return f;
}

const MigrationSchema& find5(const ProjectSchema& s, const std::string& label) {
  for (const auto& m : s.migrations) {
    if (m.key.label() == label) {
      return m;
    }
  }
  FAIL("no migration " << label);
  throw;
}

std::string statements_of(const MigrationSchema& m) {
  std::string out;
  for (const auto& s : m.statements) {
    out += s + "\n";
  }
  return out;
}

bool has(const MigrationSchema& m, const std::string& sql) {
  INFO(statements_of(m));
  return std::find(m.statements.begin(), m.statements.end(), sql) != m.statements.end();
}

std::multiset<std::string> codes_of(const MigrationSchema& m) {
  std::multiset<std::string> codes;
  for (const auto& p : m.problems) {
    codes.insert(p.code);
  }
  return codes;
}

void check_no_problems(const ProjectSchema& p) {
  for (const auto& m : p.migrations) {
    for (const auto& pr : m.problems) {
      INFO(m.key.label() << ":" << pr.line << " " << pr.code << ": " << pr.message);
      CHECK(false);
    }
  }
  CHECK(p.problems.empty());
}

const pgsql::Effect* effect(const MigrationSchema& m, const std::string& action,
                            const std::string& object, const std::string& name) {
  for (const auto& e : m.effects) {
    if (e.action == action && e.object == object && e.name == name) {
      return &e;
    }
  }
  return nullptr;
}

const char* k_book = R"(
        migrations.CreateModel(name='Book', fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('title', models.CharField(max_length=200)),
            ('author', models.CharField(max_length=100)),
        ], options={'index_together': {('title', 'author')}}),
        migrations.AddIndex(model_name='book', index=models.Index(fields=['title'], name='shop_book_title_idx')),)";

}  // namespace

TEST_CASE("RenameIndex by old_name renames, never creates", "[django][django5]") {
  // Every spelling Django accepts: keywords in any order, positional arguments
  // (model_name, new_name, old_name), the class imported by name.
  const std::vector<std::pair<std::string, std::string>> forms = {
      {k_imports,
       "migrations.RenameIndex(model_name='book', new_name='shop_book_title_new', "
       "old_name='shop_book_title_idx'),"},
      {k_imports,
       "migrations.RenameIndex(old_name='shop_book_title_idx', model_name='book', "
       "new_name='shop_book_title_new'),"},
      {k_imports, "migrations.RenameIndex('book', 'shop_book_title_new', 'shop_book_title_idx'),"},
      {k_imports,
       "migrations.RenameIndex('book', new_name='shop_book_title_new', "
       "old_name='shop_book_title_idx', old_fields=None),"},
      {k_imports + "from django.db.migrations import RenameIndex\n",
       "RenameIndex(model_name='book', new_name='shop_book_title_new', "
       "old_name='shop_book_title_idx'),"},
  };
  for (const auto& [imports, op] : forms) {
    INFO(op);
    std::vector<MigrationFile> files;
    files.push_back(migration5("shop", "0001_initial", k_book, "", imports));
    files.push_back(migration5("shop", "0002_rename", op, "('shop', '0001_initial')", imports));
    // The state knows the index by its new name: removing it by that name is quiet.
    files.push_back(migration5("shop", "0003_remove",
                               "migrations.RemoveIndex(model_name='book', "
                               "name='shop_book_title_new'),",
                               "('shop', '0002_rename')", imports));
    ProjectSchema p = derive_schema(files);
    check_no_problems(p);
    const auto& m = find5(p, "shop.0002_rename");
    CHECK(m.statements ==
          std::vector<std::string>{
              "ALTER INDEX \"shop_book_title_idx\" RENAME TO \"shop_book_title_new\";"});
    const pgsql::Effect* e = effect(m, "rename", "index", "shop_book_title_idx");
    REQUIRE(e);
    CHECK(e->new_name == "shop_book_title_new");
    CHECK(e->table == "shop_book");
    CHECK_FALSE(effect(m, "create", "index", "shop_book_title_new"));
    CHECK(has(find5(p, "shop.0003_remove"), "DROP INDEX IF EXISTS \"shop_book_title_new\";"));
  }
}

TEST_CASE("RenameIndex by old_fields renames the index_together index", "[django][django5]") {
  // What Django 4.2's makemigrations writes when index_together becomes Meta.indexes: the
  // unnamed index is looked up by its columns; old_fields as a tuple or a list.
  for (const std::string& fields :
       std::vector<std::string>{"('title', 'author')", "['title', 'author']"}) {
    INFO(fields);
    std::vector<MigrationFile> files;
    files.push_back(migration5("shop", "0001_initial", k_book));
    files.push_back(migration5("shop", "0002_rename",
                               "migrations.RenameIndex(model_name='book', "
                               "new_name='shop_book_title_author_idx', old_fields=" +
                                   fields + "),",
                               "('shop', '0001_initial')"));
    // The state no longer has the index_together entry: AlterIndexTogether(set()) drops
    // nothing, and the new Index can be removed by its name.
    files.push_back(migration5(
        "shop", "0003_after",
        "migrations.AlterIndexTogether(name='book', index_together=set()),\n"
        "        migrations.RemoveIndex(model_name='book', name='shop_book_title_author_idx'),",
        "('shop', '0002_rename')"));
    ProjectSchema p = derive_schema(files);
    check_no_problems(p);
    const auto& init = find5(p, "shop.0001_initial");
    std::string together;
    for (const auto& e : init.effects) {
      if (e.action == "create" && e.object == "index" && e.name != "shop_book_title_idx") {
        CHECK(e.columns.find("title") < e.columns.find("author"));
        CHECK(together.empty());
        together = e.name;
      }
    }
    REQUIRE_FALSE(together.empty());
    CHECK(together.size() > 4);
    CHECK(together.substr(together.size() - 4) == "_idx");
    const auto& m = find5(p, "shop.0002_rename");
    CHECK(m.statements == std::vector<std::string>{"ALTER INDEX \"" + together +
                                                   "\" RENAME TO \"shop_book_title_author_idx\";"});
    const auto& after = find5(p, "shop.0003_after");
    CHECK(after.statements ==
          std::vector<std::string>{"DROP INDEX IF EXISTS \"shop_book_title_author_idx\";"});
  }
}

TEST_CASE("RenameIndex: what Django refuses is reported, nothing is created", "[django][django5]") {
  struct Case {
    std::string op, code;
  };
  const std::vector<Case> cases = {
      {"migrations.RenameIndex(model_name='book', new_name='x_idx'),",
       "django-operation-unreadable"},
      {"migrations.RenameIndex(model_name='book', new_name='x_idx', "
       "old_name='shop_book_title_idx', "
       "old_fields=('title',)),",
       "django-operation-unreadable"},
      // No index on (author) alone: Django raises ValueError (wrong number of indexes).
      {"migrations.RenameIndex(model_name='book', new_name='x_idx', old_fields=('author',)),",
       "django-constraint-not-found"},
      {"migrations.RenameIndex(model_name='book', new_name='x_idx', old_fields=('nope',)),",
       "django-field-unknown"},
      {"migrations.RenameIndex(model_name='book', new_name='x_idx', old_name='no_such_idx'),",
       "django-index-unknown"},
  };
  for (const auto& c : cases) {
    INFO(c.op);
    std::vector<MigrationFile> files;
    files.push_back(migration5("shop", "0001_initial", k_book));
    files.push_back(migration5("shop", "0002_rename", c.op, "('shop', '0001_initial')"));
    ProjectSchema p = derive_schema(files);
    const auto& m = find5(p, "shop.0002_rename");
    CHECK(codes_of(m).count(c.code) == 1);
    for (const auto& e : m.effects) {
      CHECK_FALSE((e.action == "create" && e.object == "index"));
    }
  }
}

TEST_CASE("comments (Django 4.2) change no compared fact", "[django][django5]") {
  std::vector<MigrationFile> files;
  files.push_back(migration5("shop", "0001_initial", R"(
        migrations.CreateModel(name='Note', fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('body', models.TextField(db_comment='the text')),
        ], options={'db_table_comment': 'notes'}),)"));
  files.push_back(migration5("shop", "0002_comments", R"(
        migrations.AlterModelTableComment(name='note', table_comment='all notes'),
        migrations.AlterModelTableComment('note', None),
        migrations.AlterField(model_name='note', name='body', field=models.TextField(db_comment='other')),)",
                             "('shop', '0001_initial')"));
  ProjectSchema p = derive_schema(files);
  const auto& init = find5(p, "shop.0001_initial");
  CHECK(init.problems.empty());
  CHECK(has(init,
            "CREATE TABLE \"shop_note\" (\"id\" bigserial NOT NULL PRIMARY KEY, \"body\" "
            "text NOT NULL);"));
  const auto& m = find5(p, "shop.0002_comments");
  CHECK(m.statements.empty());
  CHECK(m.effects.empty());
  auto codes = codes_of(m);
  CHECK(codes.count("django-comment-only") == 2);
  CHECK(codes.size() == 2);
  for (const auto& pr : m.problems) {
    CHECK(pr.severity == "notice");
  }
}

TEST_CASE("db_default (Django 5.0) is the column's DEFAULT, and stays", "[django][django5]") {
  std::vector<MigrationFile> files;
  files.push_back(migration5("shop", "0001_initial", R"(
        migrations.CreateModel(name='Order', fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('qty', models.IntegerField(db_default=0)),
            ('status', models.CharField(max_length=10, db_default=models.Value('new'))),
            ('created', models.DateTimeField(db_default=django.db.models.functions.datetime.Now())),
            ('price', models.DecimalField(decimal_places=2, max_digits=8)),
        ]),)"));
  files.push_back(migration5("shop", "0002_flag", R"(
        migrations.AddField(model_name='order', name='paid', field=models.BooleanField(db_default=False)),
        migrations.AddField(model_name='order', name='note', field=models.CharField(max_length=5, default='x', db_default='y')),)",
                             "('shop', '0001_initial')"));
  ProjectSchema p = derive_schema(files);
  check_no_problems(p);
  const auto& init = find5(p, "shop.0001_initial");
  CHECK(has(init,
            "CREATE TABLE \"shop_order\" (\"id\" bigserial NOT NULL PRIMARY KEY, \"qty\" integer "
            "DEFAULT 0 NOT NULL, \"status\" varchar(10) DEFAULT 'new' NOT NULL, \"created\" "
            "timestamp with time zone DEFAULT (STATEMENT_TIMESTAMP()) NOT NULL, \"price\" "
            "numeric(8, 2) NOT NULL);"));
  const pgsql::Effect* qty = effect(init, "create", "column", "qty");
  REQUIRE(qty);
  REQUIRE(qty->default_expr);
  CHECK(*qty->default_expr == "0");
  // PostgreSQL keeps the expression without Django's enclosing parentheses.
  const pgsql::Effect* created = effect(init, "create", "column", "created");
  REQUIRE(created);
  REQUIRE(created->default_expr);
  CHECK(*created->default_expr == "STATEMENT_TIMESTAMP()");
  const pgsql::Effect* price = effect(init, "create", "column", "price");
  REQUIRE(price);
  CHECK_FALSE(price->default_expr);
  const auto& add = find5(p, "shop.0002_flag");
  CHECK(has(add,
            "ALTER TABLE \"shop_order\" ADD COLUMN \"paid\" boolean DEFAULT false NOT "
            "NULL;"));
  CHECK(has(add,
            "ALTER TABLE \"shop_order\" ADD COLUMN \"note\" varchar(5) DEFAULT 'y' NOT "
            "NULL;"));
  for (const auto& s : add.statements) {
    CHECK(s.find("DROP DEFAULT") == std::string::npos);
  }
  const pgsql::Effect* paid = effect(add, "create", "column", "paid");
  REQUIRE(paid);
  REQUIRE(paid->default_expr);
  CHECK(*paid->default_expr == "false");
}

TEST_CASE("GeneratedField (Django 5.0) is a STORED generated column", "[django][django5]") {
  std::vector<MigrationFile> files;
  files.push_back(migration5("shop", "0001_initial", R"(
        migrations.CreateModel(name='Line', fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('price', models.IntegerField()),
            ('qty', models.IntegerField()),
            ('name', models.CharField(max_length=50)),
            ('total', models.GeneratedField(db_persist=True, expression=models.F('price') * models.F('qty'), output_field=models.BigIntegerField())),
            ('upper_name', models.GeneratedField(db_persist=True, expression=django.db.models.functions.text.Upper('name'), output_field=models.CharField(max_length=50))),
        ]),)",
                             "", k_imports + "import django.db.models.functions.text\n"));
  ProjectSchema p = derive_schema(files);
  check_no_problems(p);
  const auto& m = find5(p, "shop.0001_initial");
  CHECK(has(m,
            "CREATE TABLE \"shop_line\" (\"id\" bigserial NOT NULL PRIMARY KEY, \"price\" integer "
            "NOT NULL, \"qty\" integer NOT NULL, \"name\" varchar(50) NOT NULL, \"total\" bigint "
            "GENERATED ALWAYS AS ((\"price\" * \"qty\")) STORED, \"upper_name\" varchar(50) "
            "GENERATED ALWAYS AS (UPPER(\"name\")) STORED);"));
  const pgsql::Effect* total = effect(m, "create", "column", "total");
  REQUIRE(total);
  CHECK(total->type == "bigint");
  const pgsql::Effect* upper = effect(m, "create", "column", "upper_name");
  REQUIRE(upper);
  CHECK(upper->type == "character varying(50)");

  // Not persisted: PostgreSQL 15 cannot; reported.
  std::vector<MigrationFile> virt;
  virt.push_back(migration5("shop", "0001_initial", R"(
        migrations.CreateModel(name='Line', fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('price', models.IntegerField()),
            ('twice', models.GeneratedField(db_persist=False, expression=models.F('price') * 2, output_field=models.IntegerField())),
        ]),)"));
  ProjectSchema q = derive_schema(virt);
  const auto& v = find5(q, "shop.0001_initial");
  CHECK(codes_of(v).count("django-field-unreadable") == 1);
  CHECK(has(v,
            "CREATE TABLE \"shop_line\" (\"id\" bigserial NOT NULL PRIMARY KEY, \"price\" "
            "integer NOT NULL, \"twice\" integer GENERATED ALWAYS AS ((\"price\" * 2)) "
            "STORED);"));
}

TEST_CASE("UniqueConstraint: nulls_distinct, expressions, validation messages (Django 5.0)",
          "[django][django5]") {
  std::vector<MigrationFile> files;
  files.push_back(migration5("shop", "0001_initial", R"(
        migrations.CreateModel(name='Tag', fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ('name', models.CharField(max_length=50)),
            ('code', models.CharField(max_length=20, null=True)),
            ('slug', models.CharField()),
        ], options={'constraints': [models.UniqueConstraint(fields=('code',), name='shop_tag_code_uniq', nulls_distinct=False, violation_error_message='taken', violation_error_code='dup')]}),)"));
  files.push_back(migration5("shop", "0002_more", R"(
        migrations.AddConstraint(model_name='tag', constraint=models.UniqueConstraint(Lower('name'), name='shop_tag_name_ci_uniq')),
        migrations.AddConstraint(model_name='tag', constraint=UniqueConstraint(fields=['slug'], name='shop_tag_slug_uniq', nulls_distinct=True)),
        migrations.AddConstraint(model_name='tag', constraint=models.UniqueConstraint(fields=['name'], condition=models.Q(code__isnull=True), name='shop_tag_name_nocode_uniq', nulls_distinct=False)),
        migrations.AddIndex(model_name='tag', index=Index(Upper('name'), name='shop_tag_upper_idx')),)",
                             "('shop', '0001_initial')",
                             k_imports + "from django.db.models import Index, UniqueConstraint\n"
                                         "from django.db.models.functions import Lower, Upper\n"));
  ProjectSchema p = derive_schema(files);
  check_no_problems(p);
  const auto& init = find5(p, "shop.0001_initial");
  CHECK(has(init,
            "CREATE TABLE \"shop_tag\" (\"id\" bigserial NOT NULL PRIMARY KEY, \"name\" "
            "varchar(50) NOT NULL, \"code\" varchar(20) NULL, \"slug\" varchar NOT NULL, "
            "CONSTRAINT \"shop_tag_code_uniq\" UNIQUE NULLS NOT DISTINCT (\"code\"));"));
  const pgsql::Effect* slug = effect(init, "create", "column", "slug");
  REQUIRE(slug);
  CHECK(slug->type == "character varying");
  const auto& m = find5(p, "shop.0002_more");
  CHECK(
      has(m, "CREATE UNIQUE INDEX \"shop_tag_name_ci_uniq\" ON \"shop_tag\" ((LOWER(\"name\")));"));
  CHECK(has(m,
            "ALTER TABLE \"shop_tag\" ADD CONSTRAINT \"shop_tag_slug_uniq\" UNIQUE NULLS "
            "DISTINCT (\"slug\");"));
  CHECK(has(m,
            "CREATE UNIQUE INDEX \"shop_tag_name_nocode_uniq\" ON \"shop_tag\" (\"name\") "
            "NULLS NOT DISTINCT WHERE \"code\" IS NULL;"));
  CHECK(has(m, "CREATE INDEX \"shop_tag_upper_idx\" ON \"shop_tag\" ((UPPER(\"name\")));"));
  CHECK(effect(m, "create", "index", "shop_tag_name_ci_uniq"));
  CHECK(effect(m, "create", "constraint", "shop_tag_slug_uniq"));
}

TEST_CASE("AddConstraintNotValid and ValidateConstraint (contrib.postgres, Django 4.0)",
          "[django][django5]") {
  for (const std::string& imports : std::vector<std::string>{
           k_imports + "from django.contrib.postgres.operations import AddConstraintNotValid, "
                       "ValidateConstraint\n",
           k_imports + "import django.contrib.postgres.operations as pgops\n"}) {
    bool short_names = imports.find("pgops") == std::string::npos;
    std::string add = short_names ? "AddConstraintNotValid" : "pgops.AddConstraintNotValid";
    std::string validate = short_names ? "ValidateConstraint" : "pgops.ValidateConstraint";
    std::vector<MigrationFile> files;
    files.push_back(migration5("shop", "0001_initial", k_book, "", imports));
    files.push_back(migration5(
        "shop", "0002_check",
        add +
            "(model_name='book', constraint=models.CheckConstraint(check=models.Q(title__gt=''), "
            "name='shop_book_title_nonempty')),\n        " +
            validate + "('book', 'shop_book_title_nonempty'),",
        "('shop', '0001_initial')", imports));
    files.push_back(migration5("shop", "0003_drop",
                               "migrations.RemoveConstraint(model_name='book', "
                               "name='shop_book_title_nonempty'),",
                               "('shop', '0002_check')", imports));
    ProjectSchema p = derive_schema(files);
    check_no_problems(p);
    const auto& m = find5(p, "shop.0002_check");
    CHECK(m.statements == std::vector<std::string>{
                              "ALTER TABLE \"shop_book\" ADD CONSTRAINT "
                              "\"shop_book_title_nonempty\" CHECK (\"title\" > '') NOT VALID;"});
    const pgsql::Effect* c = effect(m, "create", "constraint", "shop_book_title_nonempty");
    REQUIRE(c);
    CHECK(c->kind == "c");
    CHECK(has(find5(p, "shop.0003_drop"),
              "ALTER TABLE \"shop_book\" DROP CONSTRAINT \"shop_book_title_nonempty\";"));
  }
  // Only a CheckConstraint may be added NOT VALID (TypeError otherwise).
  std::vector<MigrationFile> files;
  files.push_back(migration5("shop", "0001_initial", k_book));
  files.push_back(migration5(
      "shop", "0002_bad",
      "django.contrib.postgres.operations.AddConstraintNotValid(model_name='book', "
      "constraint=models.UniqueConstraint(fields=['title'], name='u')),",
      "('shop', '0001_initial')", k_imports + "import django.contrib.postgres.operations\n"));
  ProjectSchema p = derive_schema(files);
  const auto& bad = find5(p, "shop.0002_bad");
  CHECK(codes_of(bad).count("django-operation-unreadable") == 1);
  CHECK(bad.statements.empty());
}

TEST_CASE("CompositePrimaryKey (Django 5.2): no id column, a composite PRIMARY KEY",
          "[django][django5]") {
  std::vector<MigrationFile> files;
  files.push_back(migration5("shop", "0001_initial", R"(
        migrations.CreateModel(name='Stock', fields=[
            ('pk', models.CompositePrimaryKey('store', 'sku', blank=True, editable=False, primary_key=True, serialize=False)),
            ('store', models.IntegerField()),
            ('sku', models.CharField(max_length=20)),
            ('count', models.IntegerField(db_default=0)),
        ]),)"));
  ProjectSchema p = derive_schema(files);
  check_no_problems(p);
  const auto& m = find5(p, "shop.0001_initial");
  CHECK(m.statements == std::vector<std::string>{
                            "CREATE TABLE \"shop_stock\" (\"store\" integer NOT NULL, \"sku\" "
                            "varchar(20) NOT NULL, \"count\" integer DEFAULT 0 NOT NULL, PRIMARY "
                            "KEY (\"store\", \"sku\"));"});
  CHECK_FALSE(effect(m, "create", "column", "id"));
  CHECK_FALSE(effect(m, "create", "column", "pk"));
  const pgsql::Effect* pk = effect(m, "create", "constraint", "shop_stock_pkey");
  REQUIRE(pk);
  CHECK(pk->kind == "p");
}

TEST_CASE("auto fields: identity columns under Django 4.1+, serial before", "[django][django5]") {
  const std::string body = R"(
        migrations.CreateModel(name='Item', fields=[
            ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
        ]),)";
  struct Case {
    std::string header, expected;
  };
  const std::vector<Case> cases = {
      {"# Generated by Django 4.2.17 on 2026-02-03 10:00\n\n",
       "CREATE TABLE \"shop_item\" (\"id\" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS "
       "IDENTITY);"},
      {"# Generated by Django 5.2 on 2026-02-03 10:00\n\n",
       "CREATE TABLE \"shop_item\" (\"id\" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS "
       "IDENTITY);"},
      {"# Generated by Django 4.0.10 on 2026-02-03 10:00\n\n",
       "CREATE TABLE \"shop_item\" (\"id\" bigserial NOT NULL PRIMARY KEY);"},
      // No header (hand-written), or not on the first line: the Django 3.2 reading.
      {"", "CREATE TABLE \"shop_item\" (\"id\" bigserial NOT NULL PRIMARY KEY);"},
      {"# a note\n# Generated by Django 5.0 on 2026-02-03 10:00\n",
       "CREATE TABLE \"shop_item\" (\"id\" bigserial NOT NULL PRIMARY KEY);"},
  };
  for (const auto& c : cases) {
    INFO(c.header);
    std::vector<MigrationFile> files;
    files.push_back(migration5("shop", "0001_initial", body, "", c.header + k_imports));
    ProjectSchema p = derive_schema(files);
    check_no_problems(p);
    const auto& m = find5(p, "shop.0001_initial");
    CHECK(m.statements == std::vector<std::string>{c.expected});
    const pgsql::Effect* id = effect(m, "create", "column", "id");
    REQUIRE(id);
    CHECK(id->type == "bigint");
  }
}
