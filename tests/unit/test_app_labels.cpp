// Which app label a folder of migrations stands for (parsers/django/app_labels.hpp): the
// decisions on the evidence the real case fixtures/cases/django_app_label_folder holds (an
// app in apps/store_orders/ labelled 'orders'), and the cases where the evidence is absent,
// misleading or ambiguous and the folder must keep its name.

#include <catch2/catch.hpp>

#include "django/app_labels.hpp"

using namespace dbautopsy;
using Catch::Matchers::Contains;

namespace {

// The case's folders, the dependencies makemigrations wrote, and its django_migrations.
django::AppLabelEvidence shop() {
  django::AppLabelEvidence ev;
  ev.folders["catalog"] = {"0001_initial", "0002_product_sku_pricehistory", "0003_coupon"};
  ev.folders["store_orders"] = {"0001_initial", "0002_order_coupon_channel",
                                "0003_repair_order_coupon"};
  ev.folders["crm"] = {"0001_initial", "0002_customer_vip"};
  ev.shown["store_orders"] = "migrations/store_orders/";
  ev.dependencies = {
      {"catalog", "0002_product_sku_pricehistory", "catalog", "0001_initial"},
      {"catalog", "0003_coupon", "catalog", "0002_product_sku_pricehistory"},
      {"store_orders", "0001_initial", "catalog", "0001_initial"},
      {"store_orders", "0002_order_coupon_channel", "catalog", "0003_coupon"},
      {"store_orders", "0002_order_coupon_channel", "orders", "0001_initial"},
      {"store_orders", "0003_repair_order_coupon", "orders", "0002_order_coupon_channel"},
      {"crm", "0001_initial", "orders", "0003_repair_order_coupon"},
      {"crm", "0002_customer_vip", "crm", "0001_initial"},
  };
  ev.records["contenttypes"] = {"0001_initial", "0002_remove_content_type_name"};
  ev.records["auth"] = {"0001_initial", "0002_alter_permission_name_max_length"};
  ev.records["catalog"] = ev.folders["catalog"];
  ev.records["orders"] = ev.folders["store_orders"];
  ev.records["crm"] = ev.folders["crm"];
  return ev;
}

}  // namespace

TEST_CASE("app labels: a folder is read as the label its dependencies and records give") {
  auto labels = django::infer_app_labels(shop());
  REQUIRE(labels.label_of.size() == 1);
  CHECK(labels.label_of.at("store_orders") == "orders");
  REQUIRE(labels.notes.size() == 1);
  CHECK_THAT(labels.notes[0], Contains("migrations/store_orders/: read as app orders"));
  CHECK_THAT(labels.notes[0], Contains("its own migrations name it so: "
                                       "0002_order_coupon_channel depends on ('orders', "
                                       "'0001_initial')"));
  CHECK_THAT(labels.notes[0],
             Contains("crm/0001_initial depends on ('orders', '0003_repair_order_coupon')"));
  CHECK_THAT(labels.notes[0], Contains("django_migrations records 3 of its 3 migrations"));
}

TEST_CASE("app labels: the dependencies alone decide, without records") {
  auto ev = shop();
  ev.records.clear();
  auto labels = django::infer_app_labels(ev);
  CHECK(labels.label_of.at("store_orders") == "orders");
}

TEST_CASE("app labels: django_migrations alone decides when no file says it") {
  // sqlmigrate outputs only: no dependencies; at least two records, all of the folder's.
  auto ev = shop();
  ev.dependencies.clear();
  auto labels = django::infer_app_labels(ev);
  REQUIRE(labels.label_of.size() == 1);
  CHECK(labels.label_of.at("store_orders") == "orders");
  CHECK_THAT(labels.notes[0], Contains("django_migrations records app orders with 3 migrations"));

  // One recorded migration is no evidence: many apps have a 0001_initial.
  ev.folders["store_orders"] = {"0001_initial"};
  ev.records["orders"] = {"0001_initial"};
  CHECK(django::infer_app_labels(ev).label_of.empty());
}

TEST_CASE("app labels: a migration never depends on itself") {
  // The folder holds only 0001_initial, which depends on another app's 0001_initial: that
  // names the other app, not this folder.
  django::AppLabelEvidence ev;
  ev.folders["store_orders"] = {"0001_initial"};
  ev.dependencies = {{"store_orders", "0001_initial", "catalog", "0001_initial"}};
  auto labels = django::infer_app_labels(ev);
  CHECK(labels.label_of.empty());
  CHECK(labels.notes.empty());
}

TEST_CASE("app labels: disagreeing evidence keeps the folder's name") {
  auto ev = shop();
  // catalog's files are not in the case, and a dependency names catalog with one of this
  // folder's migration names: the folder could be catalog as well as orders.
  ev.folders.erase("catalog");
  ev.dependencies.push_back(
      {"store_orders", "0003_repair_order_coupon", "catalog", "0002_order_coupon_channel"});
  SECTION("django_migrations breaks the tie") {
    auto labels = django::infer_app_labels(ev);
    CHECK(labels.label_of.at("store_orders") == "orders");
  }
  SECTION("without records it stays a tie") {
    ev.records.clear();
    auto labels = django::infer_app_labels(ev);
    CHECK(labels.label_of.empty());
    REQUIRE(labels.notes.size() == 1);
    CHECK_THAT(labels.notes[0], Contains("several apps (catalog, orders)"));
    CHECK_THAT(labels.notes[0], Contains("read as app store_orders, its folder's name"));
  }
}

TEST_CASE("app labels: one label for two folders decides neither") {
  auto ev = shop();
  ev.folders["orders_copy"] = ev.folders["store_orders"];
  ev.dependencies.push_back({"orders_copy", "0002_order_coupon_channel", "orders", "0001_initial"});
  auto labels = django::infer_app_labels(ev);
  CHECK(labels.label_of.empty());
  REQUIRE(labels.notes.size() == 1);
  CHECK_THAT(labels.notes[0], Contains("each would be app orders"));
}

TEST_CASE("app labels: a folder that django_migrations records by its own name keeps it") {
  auto ev = shop();
  ev.records["store_orders"] = {"0001_initial"};
  auto labels = django::infer_app_labels(ev);
  CHECK(labels.label_of.empty());
}
