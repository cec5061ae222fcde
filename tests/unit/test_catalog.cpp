// The catalog's encoded objects (src/pgsql/catalog.cpp): every field comes back as it was
// after settle(), decoded objects keep their address while others are dropped, lookups find
// what was renamed, moved and added, also past the open-addressing table's growth.
#include <catch2/catch.hpp>

#include <string>

#include "pgsql/catalog.hpp"

using namespace dbautopsy;
using pgsql::Catalog;
using pgsql::RelationModel;

namespace {

store::ColumnFact column(const std::string& table, const std::string& name, int64_t ordinal) {
  store::ColumnFact c;
  c.line = 40 + ordinal;
  c.db = "shop";
  c.schema_name = "sales";
  c.table_name = table;
  c.name = name;
  c.ordinal = ordinal;
  c.type = "character varying(100)";
  return c;
}

// Every field set, and values the encoding treats apart: negative numbers, empty texts,
// texts longer than 127 bytes (two-byte lengths), NUL bytes, a column whose schema, table and
// database differ from its relation's.
RelationModel full_relation() {
  RelationModel r;
  r.fact.line = -7;
  r.fact.db = "shop";
  r.fact.schema_name = "sales";
  r.fact.name = "orders";
  r.fact.kind = "partitioned_table";
  r.fact.persistence = "unlogged";
  r.fact.parent_schema = "";
  r.fact.parent_name = std::string("with\0nul", 8);
  r.fact.partition_bound = std::string(300, 'b');
  r.fact.partition_key = "RANGE (placed_at)";
  r.fact.inherits = std::nullopt;
  r.fact.definition = "SELECT 1";
  r.parents = {{"sales", "base"}, {"other", "base2"}};
  r.columns.push_back(column("orders", "id", 1));
  store::ColumnFact odd = column("elsewhere", "total", 2);
  odd.schema_name = "archive";
  odd.db = std::nullopt;
  odd.not_null = true;
  odd.default_expr = "nextval('sales.orders_id_seq'::regclass)";
  odd.identity = "a";
  odd.generated = "s";
  odd.generated_expr = "(price * qty)";
  odd.is_serial = true;
  odd.serial_sequence = "sales.orders_id_seq";
  odd.collation = "C";
  odd.inherited = true;
  odd.ordinal = 1LL << 40;
  r.columns.push_back(odd);
  store::ColumnFact empty_db = column("orders", "", 3);
  empty_db.db = "";
  empty_db.line = std::nullopt;
  r.columns.push_back(empty_db);
  return r;
}

void same_relation(const RelationModel& a, const RelationModel& b) {
  CHECK(a.fact.line == b.fact.line);
  CHECK(a.fact.db == b.fact.db);
  CHECK(a.fact.schema_name == b.fact.schema_name);
  CHECK(a.fact.name == b.fact.name);
  CHECK(a.fact.kind == b.fact.kind);
  CHECK(a.fact.persistence == b.fact.persistence);
  CHECK(a.fact.parent_schema == b.fact.parent_schema);
  CHECK(a.fact.parent_name == b.fact.parent_name);
  CHECK(a.fact.partition_bound == b.fact.partition_bound);
  CHECK(a.fact.partition_key == b.fact.partition_key);
  CHECK(a.fact.inherits == b.fact.inherits);
  CHECK(a.fact.definition == b.fact.definition);
  CHECK(a.parents == b.parents);
  REQUIRE(a.columns.size() == b.columns.size());
  for (size_t i = 0; i < a.columns.size(); ++i) {
    const auto& x = a.columns[i];
    const auto& y = b.columns[i];
    INFO("column " << i);
    CHECK(x.line == y.line);
    CHECK(x.db == y.db);
    CHECK(x.schema_name == y.schema_name);
    CHECK(x.table_name == y.table_name);
    CHECK(x.name == y.name);
    CHECK(x.ordinal == y.ordinal);
    CHECK(x.type == y.type);
    CHECK(x.not_null == y.not_null);
    CHECK(x.default_expr == y.default_expr);
    CHECK(x.identity == y.identity);
    CHECK(x.generated == y.generated);
    CHECK(x.generated_expr == y.generated_expr);
    CHECK(x.is_serial == y.is_serial);
    CHECK(x.serial_sequence == y.serial_sequence);
    CHECK(x.collation == y.collation);
    CHECK(x.inherited == y.inherited);
  }
}

}  // namespace

TEST_CASE("catalog: relations, constraints and indexes come back whole after settle()") {
  Catalog c;
  RelationModel want = full_relation();
  RelationModel& added = c.add_relation(want.fact);
  added.columns = want.columns;
  added.parents = want.parents;

  store::ConstraintFact k;
  k.line = 99;
  k.db = "shop";
  k.schema_name = "sales";
  k.table_name = "orders";
  k.name = "orders_customer_fk";
  k.kind = "f";
  k.columns = "customer_id";
  k.ref_schema = "sales";
  k.ref_table = "customers";
  k.ref_columns = "id";
  k.on_update = "a";
  k.on_delete = "c";
  k.deferrable = true;
  k.validated = false;
  k.inherited = true;
  k.definition = std::string(200, 'd');
  c.add_constraint(k);

  store::IndexFact i;
  i.line = 120;
  i.db = std::nullopt;
  i.schema_name = "sales";
  i.table_name = "orders";
  i.name = "orders_placed_idx";
  i.is_unique = true;
  i.is_primary = false;
  i.method = "brin";
  i.columns = "placed_at";
  i.include_columns = "id";
  i.predicate = "(total > 0)";
  i.constraint_name = std::nullopt;
  i.definition = "CREATE UNIQUE INDEX orders_placed_idx ON sales.orders USING brin (placed_at)";
  c.add_index(i);
  c.set_index_colnames({"sales", "orders_placed_idx"}, {"placed_at", ""});

  c.settle();
  const RelationModel* got = c.relation({"sales", "orders"});
  REQUIRE(got != nullptr);
  same_relation(*got, want);
  c.settle();  // a second round trip, through the decoded object this time
  same_relation(*c.relation({"sales", "orders"}), want);

  const store::ConstraintFact* gk = c.constraint("sales", "orders", "orders_customer_fk");
  REQUIRE(gk != nullptr);
  CHECK(gk->line == k.line);
  CHECK(gk->db == k.db);
  CHECK(gk->kind == k.kind);
  CHECK(gk->columns == k.columns);
  CHECK(gk->ref_schema == k.ref_schema);
  CHECK(gk->ref_table == k.ref_table);
  CHECK(gk->ref_columns == k.ref_columns);
  CHECK(gk->on_update == k.on_update);
  CHECK(gk->on_delete == k.on_delete);
  CHECK(gk->deferrable);
  CHECK_FALSE(gk->validated);
  CHECK(gk->inherited);
  CHECK(gk->definition == k.definition);

  const store::IndexFact* gi = c.index({"sales", "orders_placed_idx"});
  REQUIRE(gi != nullptr);
  CHECK(gi->line == i.line);
  CHECK_FALSE(gi->db.has_value());
  CHECK(gi->table_name == "orders");
  CHECK(gi->is_unique);
  CHECK_FALSE(gi->is_primary);
  CHECK(gi->method == "brin");
  CHECK(gi->columns == "placed_at");
  CHECK(gi->include_columns == i.include_columns);
  CHECK(gi->predicate == i.predicate);
  CHECK_FALSE(gi->constraint_name.has_value());
  CHECK(gi->definition == i.definition);
  CHECK(c.index_colnames({"sales", "orders_placed_idx"}) ==
        std::vector<std::string>{"placed_at", ""});
  CHECK_FALSE(c.index_colnames({"sales", "no_such_idx"}).has_value());
}

TEST_CASE("catalog: a decoded object keeps its address while others are dropped") {
  Catalog c;
  for (int n = 0; n < 5; ++n) {
    store::RelationFact f;
    f.schema_name = "public";
    f.name = "t" + std::to_string(n);
    f.kind = "table";
    c.add_relation(f);
  }
  c.settle();
  RelationModel* t3 = c.relation({"public", "t3"});
  REQUIRE(t3 != nullptr);
  t3->fact.kind = "view";  // changed, not yet encoded
  c.drop_relation({"public", "t1"});
  CHECK(c.relation({"public", "t1"}) == nullptr);
  CHECK(c.relation({"public", "t3"}) == t3);
  CHECK(t3->fact.kind == "view");
  c.settle();
  CHECK(c.relation({"public", "t3"})->fact.kind == "view");
  std::vector<std::string> names;
  c.for_each_relation([&](const RelationModel& r) { names.push_back(r.fact.name); });
  CHECK(names == std::vector<std::string>{"t0", "t2", "t3", "t4"});
}

TEST_CASE("catalog: lookups past the table's growth, after renames, moves and drops") {
  Catalog c;
  const int n = 5000;  // the open-addressing table grows many times
  for (int k = 0; k < n; ++k) {
    store::RelationFact f;
    f.schema_name = k % 2 ? "odd" : "even";
    f.name = "t" + std::to_string(k);
    f.kind = "table";
    c.add_relation(f);
    store::ConstraintFact pk;
    pk.schema_name = f.schema_name;
    pk.table_name = f.name;
    pk.name = f.name + "_pkey";
    pk.kind = "p";
    c.add_constraint(pk);
    store::IndexFact idx;
    idx.schema_name = f.schema_name;
    idx.table_name = f.name;
    idx.name = f.name + "_pkey";
    idx.constraint_name = idx.name;
    c.add_index(idx);
    if (k % 100 == 0) {
      c.settle();
    }
  }
  c.settle();
  for (int k = 0; k < n; k += 7) {
    std::string schema = k % 2 ? "odd" : "even";
    std::string name = "t" + std::to_string(k);
    INFO(name);
    CHECK(c.relation({schema, name}) != nullptr);
    CHECK(c.relation({k % 2 ? "even" : "odd", name}) == nullptr);
    CHECK(c.constraint(schema, name, name + "_pkey") != nullptr);
    CHECK(c.index({schema, name + "_pkey"}) != nullptr);
    CHECK(c.relation_name_taken(schema, name + "_pkey", false));
  }
  c.rename_relation({"even", "t10"}, "renamed");
  c.settle();
  CHECK(c.relation({"even", "t10"}) == nullptr);
  REQUIRE(c.relation({"even", "renamed"}) != nullptr);
  CHECK(c.constraint("even", "renamed", "t10_pkey") != nullptr);
  CHECK(c.index({"even", "t10_pkey"})->table_name == "renamed");
  c.move_relation({"odd", "t11"}, "even");
  c.settle();
  CHECK(c.relation({"even", "t11"}) != nullptr);
  CHECK(c.constraint("even", "t11", "t11_pkey") != nullptr);
  CHECK(c.index({"even", "t11_pkey"}) != nullptr);
  c.drop_constraint("even", "t12", "t12_pkey");
  CHECK(c.constraint("even", "t12", "t12_pkey") == nullptr);
  CHECK(c.index({"even", "t12_pkey"}) == nullptr);  // the constraint's index goes with it
  c.drop_relation({"even", "t14"});
  CHECK(c.relation({"even", "t14"}) == nullptr);
  CHECK(c.constraints_of({"even", "t14"}).empty());
  CHECK(c.relation({"even", "t16"}) != nullptr);
  CHECK(c.last_constraint_of({"even", "t16"})->name == "t16_pkey");
}

TEST_CASE("catalog: children are found through parents set before and after settle()") {
  Catalog c;
  store::RelationFact parent;
  parent.schema_name = "public";
  parent.name = "measurements";
  parent.kind = "partitioned_table";
  c.add_relation(parent);
  for (int k = 0; k < 3; ++k) {
    store::RelationFact f;
    f.schema_name = "public";
    f.name = "m" + std::to_string(k);
    f.kind = "table";
    c.add_relation(f).parents.emplace_back("public", "measurements");
    c.settle();
  }
  store::RelationFact loose;
  loose.schema_name = "public";
  loose.name = "loose";
  loose.kind = "table";
  c.add_relation(loose);
  c.settle();
  CHECK(c.children_of({"public", "measurements"}).size() == 3);
  c.relation({"public", "loose"})->parents.emplace_back("public", "measurements");
  CHECK(c.children_of({"public", "measurements"}).size() == 4);  // decoded, not yet settled
  c.settle();
  CHECK(c.children_of({"public", "measurements"}).size() == 4);
  c.drop_relation({"public", "m0"});
  c.settle();
  std::vector<std::string> names;
  for (auto* r : c.children_of({"public", "measurements"})) {
    names.push_back(r->fact.name);
  }
  CHECK(names == std::vector<std::string>{"m1", "m2", "loose"});
  c.rename_relation({"public", "measurements"}, "readings");
  c.settle();
  CHECK(c.children_of({"public", "readings"}).size() == 3);
}

TEST_CASE("catalog: sequences come back whole, move and go with the table that owns them") {
  Catalog c;
  store::RelationFact t;
  t.schema_name = "sales";
  t.name = "orders";
  t.kind = "table";
  RelationModel& orders = c.add_relation(t);
  store::ColumnFact id;
  id.schema_name = "sales";
  id.table_name = "orders";
  id.name = "id";
  id.ordinal = 1;
  id.type = "integer";
  id.default_expr = "nextval('sales.orders_id_seq'::regclass)";
  orders.columns.push_back(id);

  store::SequenceFact s;  // every field set, and values the encoding treats apart
  s.line = 12;
  s.db = "shop";
  s.schema_name = "sales";
  s.name = "orders_id_seq";
  s.data_type = "bigint";
  s.start_value = -5;
  s.increment = -1;
  s.min_value = INT64_MIN;
  s.max_value = INT64_MAX;
  s.cache = 20;
  s.cycle = true;
  s.owned_by_schema = "sales";
  s.owned_by_table = "orders";
  s.owned_by_column = "id";
  s.identity = true;
  s.last_value = 1LL << 40;
  s.is_called = 0;
  c.add_sequence(s);
  store::SequenceFact bare;  // nothing optional set
  bare.schema_name = "sales";
  bare.name = std::string(200, 's');
  c.add_sequence(bare);
  c.settle();

  const store::SequenceFact* got = c.sequence({"sales", "orders_id_seq"});
  REQUIRE(got != nullptr);
  CHECK(got->line == s.line);
  CHECK(got->db == s.db);
  CHECK(got->data_type == s.data_type);
  CHECK(got->start_value == s.start_value);
  CHECK(got->increment == s.increment);
  CHECK(got->min_value == s.min_value);
  CHECK(got->max_value == s.max_value);
  CHECK(got->cache == s.cache);
  CHECK(got->cycle);
  CHECK(got->owned_by_schema == s.owned_by_schema);
  CHECK(got->owned_by_table == s.owned_by_table);
  CHECK(got->owned_by_column == s.owned_by_column);
  CHECK(got->identity);
  CHECK(got->last_value == s.last_value);
  CHECK(got->is_called == s.is_called);
  c.settle();
  const store::SequenceFact* b = c.sequence({"sales", std::string(200, 's')});
  REQUIRE(b != nullptr);
  CHECK_FALSE(b->line.has_value());
  CHECK_FALSE(b->db.has_value());
  CHECK_FALSE(b->data_type.has_value());
  CHECK_FALSE(b->min_value.has_value());
  CHECK_FALSE(b->cycle);
  CHECK_FALSE(b->identity);
  CHECK_FALSE(b->owned_by_table.has_value());
  CHECK_FALSE(b->last_value.has_value());
  CHECK(c.sequence({"public", "orders_id_seq"}) == nullptr);

  // The column's default is nextval() of a sequence it owns: serial, found while encoded.
  c.settle();
  c.finalize();
  CHECK(c.relation({"sales", "orders"})->columns[0].is_serial);
  CHECK(c.relation({"sales", "orders"})->columns[0].serial_sequence == "sales.orders_id_seq");
  c.settle();

  c.rename_relation({"sales", "orders"}, "purchases");
  c.settle();
  CHECK(c.sequence({"sales", "orders_id_seq"})->owned_by_table == "purchases");
  c.move_relation({"sales", "purchases"}, "archive");
  c.settle();
  CHECK(c.sequence({"sales", "orders_id_seq"}) == nullptr);
  REQUIRE(c.sequence({"archive", "orders_id_seq"}) != nullptr);
  CHECK(c.sequence({"archive", "orders_id_seq"})->owned_by_schema == "archive");
  CHECK(c.sequence({"sales", std::string(200, 's')}) != nullptr);  // owned by none: stays
  c.drop_relation({"archive", "purchases"});
  CHECK(c.sequence({"archive", "orders_id_seq"}) == nullptr);
  CHECK(c.sequence({"sales", std::string(200, 's')}) != nullptr);
  c.drop_schema("sales");
  CHECK(c.sequence({"sales", std::string(200, 's')}) == nullptr);
}

TEST_CASE(
    "catalog: texts naming their object, or holding the marker bytes, come back as they were") {
  // Encoded texts have the object's own names replaced by the bytes 1 to 3 (byte 4 escapes
  // those where a text has them) and are shared between objects through a bounded table.
  Catalog c;
  const std::string marks("\x01\x02\x03\x04 x\x04\x01", 8);
  store::IndexFact i;
  i.schema_name = "s";
  i.table_name = "t_t";
  i.name = "t";  // a key text inside another
  i.method = marks;
  i.columns = "t_t, t, s.t_t, st, tt_t_";  // key texts next to each other and overlapping
  i.definition = "CREATE INDEX t ON s.t_t USING btree (t_t)";
  i.predicate = "";
  i.include_columns = std::string("\0t\0", 3);
  c.add_index(i);
  store::ConstraintFact k;
  k.schema_name = "a";
  k.table_name = "";  // an empty key text is never a marker
  k.name = "aa";
  k.kind = "aaa";
  k.definition = marks + "a";
  c.add_constraint(k);
  c.settle();
  const store::IndexFact* gi = c.index({"s", "t"});
  REQUIRE(gi != nullptr);
  CHECK(gi->method == marks);
  CHECK(gi->columns == i.columns);
  CHECK(gi->definition == i.definition);
  CHECK(gi->predicate == "");
  CHECK(gi->include_columns == i.include_columns);
  const store::ConstraintFact* gk = c.constraint("a", "", "aa");
  REQUIRE(gk != nullptr);
  CHECK(gk->kind == "aaa");
  CHECK(gk->definition == marks + "a");

  // Renamed, a relation keeps its texts as written (the old name in them), not the new name.
  store::RelationFact t;
  t.schema_name = "public";
  t.name = "polls";
  t.kind = "table";
  t.definition = "polls public.polls";
  RelationModel& polls = c.add_relation(t);
  polls.columns.push_back(column("polls", "id", 1));
  polls.columns.back().default_expr = "nextval('public.polls_id_seq'::regclass)";
  c.settle();
  c.rename_relation({"public", "polls"}, "ballots");
  c.settle();
  c.move_relation({"public", "ballots"}, "archive");
  c.settle();
  const RelationModel* ballots = c.relation({"archive", "ballots"});
  REQUIRE(ballots != nullptr);
  CHECK(ballots->fact.definition == "polls public.polls");
  CHECK(ballots->columns.at(0).default_expr == "nextval('public.polls_id_seq'::regclass)");
  CHECK(ballots->columns.at(0).table_name == "ballots");
  CHECK(ballots->columns.at(0).schema_name == "archive");
}

TEST_CASE("catalog: more distinct texts than the shared table holds") {
  Catalog c;
  const size_t n = pgsql::Words::k_max + 1000;
  auto type_of = [](size_t k) { return "numeric(" + std::to_string(k) + ")"; };
  for (size_t k = 0; k < n; ++k) {
    store::RelationFact t;
    t.schema_name = "public";
    t.name = "t" + std::to_string(k);
    t.kind = "table";
    RelationModel& r = c.add_relation(t);
    r.columns.push_back(column(t.name, "v", 1));
    r.columns.back().type = type_of(k);
    r.columns.back().schema_name = "public";
    if (k % 1000 == 0) {
      c.settle();
    }
  }
  c.settle();
  size_t seen = 0;
  c.for_each_relation([&](const RelationModel& r) {
    REQUIRE(r.columns.size() == 1);
    CHECK(r.fact.name == "t" + std::to_string(seen));
    CHECK(r.columns[0].type == type_of(seen));
    CHECK(r.columns[0].table_name == r.fact.name);
    ++seen;
  });
  CHECK(seen == n);
}

TEST_CASE("catalog: objects changed over and over, some larger than a chunk, and copies") {
  // Each change leaves the old encoding dead in its chunk until the live ones are moved down
  // (a quarter dead): every object must come back as last set, in a copy made on the way
  // too.
  Catalog c;
  const size_t n = 5000;
  auto definition = [](size_t k, int round) {
    size_t size = k == 7 ? (size_t{5} << 20) + static_cast<size_t>(round) : k % 300;
    return std::string(size, static_cast<char>('a' + (k + static_cast<size_t>(round)) % 26));
  };
  for (size_t k = 0; k < n; ++k) {
    store::RelationFact t;
    t.schema_name = "public";
    t.name = "v" + std::to_string(k);
    t.kind = "view";
    t.definition = definition(k, 0);
    c.add_relation(t);
  }
  c.settle();
  std::optional<Catalog> copy;
  for (int round = 1; round <= 6; ++round) {
    for (size_t k = static_cast<size_t>(round) % 2; k < n; k += 2) {
      c.relation({"public", "v" + std::to_string(k)})->fact.definition = definition(k, round);
    }
    c.settle();
    if (round == 3) {
      copy.emplace(c);
    }
  }
  c.drop_relation({"public", "v1"});
  c.settle();
  auto check = [&](const Catalog& cat, int last_round, bool dropped) {
    size_t k = 0;
    size_t seen = 0;
    cat.for_each_relation([&](const RelationModel& r) {
      if (dropped && k == 1) {
        ++k;
      }
      // The last round that changed k: the last one of k's parity, else none.
      int round = last_round - ((static_cast<size_t>(last_round) % 2 == k % 2) ? 0 : 1);
      CHECK(r.fact.name == "v" + std::to_string(k));
      CHECK(r.fact.definition == definition(k, round));
      ++k;
      ++seen;
    });
    CHECK(seen == (dropped ? n - 1 : n));
  };
  check(c, 6, true);
  REQUIRE(copy.has_value());
  check(*copy, 3, false);
}
