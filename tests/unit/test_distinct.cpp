// DistinctCounter (io/distinct.hpp): exact counts up to a cap, then a HyperLogLog estimate
// (2^14 registers, standard error 1.04 / sqrt(16384) = 0.81%) and a Misra-Gries summary
// of the most repeated values. Values are fed as the table statistics feed them: XXH3
// hashes (here of the integers 0, 1, 2, ..., with a seed per run).

#include <catch2/catch.hpp>

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "io/distinct.hpp"
#include "support.hpp"

using dbautopsy::io::DistinctCounter;

namespace {

uint64_t value(uint64_t i, uint64_t seed = 0) {
  return XXH3_64bits_withSeed(&i, sizeof i, seed);
}

double relative_error(uint64_t estimate, uint64_t truth) {
  return std::abs(static_cast<double>(estimate) - static_cast<double>(truth)) /
         static_cast<double>(truth);
}

}  // namespace

TEST_CASE("below the cap every count is exact") {
  DistinctCounter c(1000);
  for (uint64_t i = 0; i < 600; ++i) {
    CHECK(c.add(value(i), i + 1) == 1);
  }
  // 200 of them again, 50 of those a third time.
  for (uint64_t i = 0; i < 200; ++i) {
    CHECK(c.add(value(i), 1000 + i) == 2);
  }
  for (uint64_t i = 0; i < 50; ++i) {
    CHECK(c.add(value(i), 2000 + i) == 3);
  }
  CHECK(c.exact());
  CHECK(c.total() == 850);
  CHECK(c.distinct() == 600);
  CHECK(c.repeated_values() == 200);
  auto top = c.top(5);
  REQUIRE(top.size() == 5);
  // Most repeated first; equal counts by first line; first_line is the first occurrence.
  for (size_t k = 0; k < top.size(); ++k) {
    CHECK(top[k].hash == value(k));
    CHECK(top[k].count == 3);
    CHECK(top[k].first_line == k + 1);
  }
  // Values seen once are not repeated values.
  CHECK(c.top(1000).size() == 200);
}

TEST_CASE("the dominant multiplicity: the count whose values hold the most repeats") {
  DistinctCounter c(1000);
  CHECK_FALSE(c.dominant_level());  // nothing repeated yet
  // A batch of 10 values inserted 5 times, stopped 3 values into a 6th; 4 values once; one
  // value 30 times.
  uint64_t line = 0;
  for (int round = 0; round < 6; ++round) {
    for (uint64_t i = 0; i < (round < 5 ? 10u : 3u); ++i) {
      c.add(value(i), ++line);
    }
  }
  for (uint64_t i = 100; i < 104; ++i) {
    c.add(value(i), ++line);
  }
  for (int k = 0; k < 30; ++k) {
    c.add(value(200), ++line);
  }
  // Count 5: 7 values, 28 repeats; count 6: 3 values, 15; count 30: 1 value, 29.
  auto level = c.dominant_level();
  REQUIRE(level);
  CHECK(level->count == 30);
  CHECK(level->values == 1);
  // The 6th round goes on 4 values further: count 6 holds 7 values, 35 repeats.
  for (uint64_t i = 3; i < 7; ++i) {
    c.add(value(i), ++line);
  }
  level = c.dominant_level();
  REQUIRE(level);
  CHECK(level->count == 6);
  CHECK(level->values == 7);
  // After the switch the multiplicities are not known.
  DistinctCounter small(2);
  for (uint64_t i = 0; i < 5; ++i) {
    small.add(value(i % 3), i + 1);
  }
  CHECK_FALSE(small.dominant_level());
}

TEST_CASE("the switch to the sketch happens one distinct value past the cap") {
  const size_t cap = 5000;
  DistinctCounter c(cap);
  for (uint64_t i = 0; i < cap; ++i) {
    c.add(value(i), i);
  }
  CHECK(c.exact());
  CHECK(c.distinct() == cap);
  // Values already held do not switch it, however often they come.
  for (uint64_t i = 0; i < cap; ++i) {
    CHECK(c.add(value(i), cap + i) == 2);
  }
  CHECK(c.exact());
  CHECK(c.total() == 2 * cap);
  // One more distinct value does.
  CHECK(c.add(value(cap), 3 * cap) == 0);
  CHECK_FALSE(c.exact());
  CHECK(c.total() == 2 * cap + 1);
  // The estimate carries what was counted before the switch.
  CHECK(relative_error(c.distinct(), cap + 1) < 0.02);
  // Memory: the exact table is gone.
  CHECK(c.memory_bytes() < 64 * 1024);
}

TEST_CASE("a cap of zero estimates from the first value on") {
  DistinctCounter c(0);
  CHECK(c.add(value(1), 1) == 0);
  CHECK_FALSE(c.exact());
  CHECK(c.distinct() == 1);
}

TEST_CASE("HyperLogLog estimates stay within a few standard errors (0.81%)") {
  // Each size with three seeds: every estimate within 3% (over 3.5 standard errors), and
  // their mean error within 1.2%. Small range (linear counting) and large range; the
  // hand-over between the two is the next test's.
  double sum = 0;
  int runs = 0;
  for (uint64_t n : {2'000ull, 20'000ull, 100'000ull, 250'000ull, 1'000'000ull}) {
    for (uint64_t seed : {1ull, 2ull, 3ull}) {
      DistinctCounter c(1000);
      for (uint64_t i = 0; i < n; ++i) {
        c.add(value(i, seed), i);
      }
      // Repeats do not move the estimate.
      uint64_t before = c.distinct();
      for (uint64_t i = 0; i < n / 4; ++i) {
        c.add(value(i, seed), n + i);
      }
      CHECK(c.distinct() == before);
      REQUIRE_FALSE(c.exact());
      double e = relative_error(c.distinct(), n);
      INFO("n = " << n << ", seed " << seed << ": estimate " << c.distinct() << ", error "
                  << e * 100 << "%");
      CHECK(e < 0.03);
      sum += e;
      ++runs;
    }
  }
  CHECK(sum / runs < 0.012);
}

TEST_CASE("no bias where linear counting hands over to the HyperLogLog estimate") {
  // Linear counting is used up to 2.5 x 16,384 = 40,960; past it the raw HyperLogLog
  // estimate, which is known to overestimate there (the reason for HyperLogLog++'s bias
  // correction). Eight seeds per size: the mean signed error must stay within 1% (about
  // 3.5 standard errors of a mean of eight), each estimate within 3.5%.
  for (uint64_t n : {38'000ull, 41'000ull, 43'000ull, 46'000ull, 50'000ull}) {
    double sum = 0;
    double worst = 0;
    for (uint64_t seed = 100; seed < 108; ++seed) {
      DistinctCounter c(100);
      for (uint64_t i = 0; i < n; ++i) {
        c.add(value(i, seed), i);
      }
      double e =
          (static_cast<double>(c.distinct()) - static_cast<double>(n)) / static_cast<double>(n);
      sum += e;
      worst = std::max(worst, std::abs(e));
    }
    INFO("n = " << n << ": mean error " << sum / 8 * 100 << "%, worst " << worst * 100 << "%");
    CHECK(std::abs(sum / 8) < 0.01);
    CHECK(worst < 0.035);
  }
}

TEST_CASE("ten million distinct values: the estimate is still within 3%") {
  DistinctCounter c(100'000);
  const uint64_t n = 10'000'000;
  for (uint64_t i = 0; i < n; ++i) {
    c.add(value(i, 42), i);
  }
  INFO("estimate " << c.distinct());
  CHECK(relative_error(c.distinct(), n) < 0.03);
  CHECK(c.memory_bytes() < 64 * 1024);
}

TEST_CASE("heavy hitters are found when they dominate, with counts that are lower bounds") {
  // 300,000 values seen once, and three values seen 60,000, 30,000 and 15,000 times,
  // interleaved; the cap switches to the sketch after 1,000 distinct values.
  const uint64_t singles = 300'000;
  const uint64_t heavy[3] = {value(1, 7777), value(2, 7777), value(3, 7777)};
  const uint64_t times[3] = {60'000, 30'000, 15'000};
  DistinctCounter c(1000);
  uint64_t line = 0;
  uint64_t seen[3] = {0, 0, 0};
  for (uint64_t i = 0; i < singles; ++i) {
    c.add(value(i), ++line);
    for (int h = 0; h < 3; ++h) {
      // Spread each heavy value evenly over the stream.
      if ((i * times[h]) / singles != ((i + 1) * times[h]) / singles) {
        c.add(heavy[h], ++line);
        ++seen[h];
      }
    }
  }
  REQUIRE(seen[0] == times[0]);
  REQUIRE_FALSE(c.exact());
  const uint64_t total = c.total();
  CHECK(total == singles + times[0] + times[1] + times[2]);
  auto top = c.top(3);
  REQUIRE(top.size() == 3);
  for (int h = 0; h < 3; ++h) {
    INFO("heavy value " << h << ": counted " << top[h].count << " of " << times[h]);
    CHECK(top[h].hash == heavy[h]);
    // Misra-Gries with k = 256 counters undercounts by at most total / (k + 1).
    CHECK(top[h].count <= times[h]);
    CHECK(top[h].count + total / 257 >= times[h]);
  }
  CHECK(relative_error(c.distinct(), singles + 3) < 0.03);
}

TEST_CASE("a value repeated before the switch keeps its lead after it") {
  // The loop of the incident: one logical row written 5,000 times among the first rows,
  // then many distinct rows push the counter past its cap.
  DistinctCounter c(2000);
  const uint64_t loop = value(999'999'999);
  uint64_t line = 0;
  for (int i = 0; i < 5000; ++i) {
    c.add(loop, ++line);
  }
  for (uint64_t i = 0; i < 100'000; ++i) {
    c.add(value(i), ++line);
  }
  REQUIRE_FALSE(c.exact());
  auto top = c.top(1);
  REQUIRE(top.size() == 1);
  CHECK(top[0].hash == loop);
  CHECK(top[0].first_line == 1);
  CHECK(top[0].count <= 5000);
  CHECK(top[0].count + c.total() / 257 >= 5000);
}

TEST_CASE("after the switch, values seen once are not listed as repeated") {
  // Before the switch top() lists only values seen more than once; past it, a value the
  // summary holds with a count of 1 was seen once as far as it knows: the table
  // statistics would show it as a "repeated" row (table_stats.top_rows, and the evidence
  // of data.duplicate-rows: "repeated 1 times").
  DistinctCounter c(100);
  for (uint64_t i = 0; i < 10'000; ++i) {
    c.add(value(i), i + 1);
  }
  REQUIRE_FALSE(c.exact());
  for (const auto& g : c.top(5)) {
    INFO("hash " << g.hash << " count " << g.count << " line " << g.first_line);
    CHECK(g.count > 1);
  }
}

TEST_CASE("memory at the default exact cap stays within 64 bytes per distinct value") {
  // distinct.hpp: the exact table costs 32 to 64 bytes per distinct value (slots of 16
  // bytes, at most half full); at copy_stats' default cap of 2,000,000 that is 64 MiB.
  const size_t cap = dbautopsy::pgdump::CopyStatsOptions().exact_cap;
  DistinctCounter c(cap);
  for (uint64_t i = 0; i < cap; ++i) {
    c.add(value(i, 5), i);
  }
  REQUIRE(c.exact());
  INFO("memory at " << cap << " distinct values: " << c.memory_bytes() << " bytes");
  CHECK(c.memory_bytes() <= 64 * cap);
}

TEST_CASE("counts stay exact through every grow, four times over and then doubling") {
  // A cap of 100,000 needs 262,144 slots: the table grows from 1,024 slots four times over
  // (4,096, 16,384, 65,536, 262,144). A cap of 150,000 needs 524,288: four times over up
  // to 262,144, then it doubles.
  for (size_t cap : {size_t{100'000}, size_t{150'000}}) {
    DistinctCounter c(cap);
    size_t slots_at_cap = 1;
    while (slots_at_cap < 2 * cap) {
      slots_at_cap *= 2;
    }
    // Every value once, then every third value again and every fifth a third time, so
    // that repeats are looked up in tables of every size the grows went through.
    for (uint64_t i = 0; i < cap; ++i) {
      REQUIRE(c.add(value(i, 9), i + 1) == 1);
      if (i % 3 == 0) {
        REQUIRE(c.add(value(i, 9), 10'000'000 + i) == 2);
      }
      if (i % 15 == 0) {
        REQUIRE(c.add(value(i, 9), 20'000'000 + i) == 3);
      }
      // Never larger than the table doubling gives at the cap.
      REQUIRE(c.memory_bytes() <= slots_at_cap * 16);
    }
    REQUIRE(c.exact());
    CHECK(c.distinct() == cap);
    CHECK(c.repeated_values() == (cap + 2) / 3);
    auto top = c.top(3);
    REQUIRE(top.size() == 3);
    for (size_t k = 0; k < 3; ++k) {
      CHECK(top[k].hash == value(15 * k, 9));
      CHECK(top[k].count == 3);
      CHECK(top[k].first_line == 15 * k + 1);
    }
    CHECK(c.memory_bytes() == slots_at_cap * 16);
    // One value more switches to the sketch, as before.
    c.add(value(cap, 9), cap + 1);
    CHECK_FALSE(c.exact());
  }
}

namespace {

// The same stream through add() one value at a time and through add_batch() in batches of
// `batch` values: every count returned, and every figure after, must be the same.
void check_batches_equal_adds(size_t cap, const std::vector<uint64_t>& hashes,
                              const std::vector<uint64_t>& lines, size_t batch) {
  DistinctCounter one(cap);
  DistinctCounter many(cap);
  std::vector<uint32_t> counts(batch);
  for (size_t from = 0; from < hashes.size(); from += batch) {
    size_t n = std::min(batch, hashes.size() - from);
    many.add_batch(hashes.data() + from, lines.data() + from, counts.data(), n);
    for (size_t i = 0; i < n; ++i) {
      uint32_t expected = one.add(hashes[from + i], lines[from + i]);
      if (counts[i] != expected) {
        FAIL("value " << from + i << ": add_batch gave " << counts[i] << ", add " << expected);
      }
    }
    REQUIRE(many.exact() == one.exact());
  }
  CHECK(many.total() == one.total());
  CHECK(many.distinct() == one.distinct());
  CHECK(many.repeated_values() == one.repeated_values());
  CHECK(many.memory_bytes() == one.memory_bytes());
  auto a = one.top(100);
  auto b = many.top(100);
  REQUIRE(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    CHECK(b[k].hash == a[k].hash);
    CHECK(b[k].count == a[k].count);
    CHECK(b[k].first_line == a[k].first_line);
  }
}

}  // namespace

TEST_CASE("add_batch counts as add() does, in slot order or not") {
  // 200,000 values, a third of them repeated within a few hundred values (so inside one
  // batch) and some far apart (across batches); the table passes 65,536 slots early, where
  // add_batch sorts.
  std::vector<uint64_t> hashes;
  std::vector<uint64_t> lines;
  uint64_t line = 1;
  for (uint64_t i = 0; i < 200'000; ++i) {
    hashes.push_back(value(i, 11));
    lines.push_back(line++);
    if (i % 3 == 0 && i >= 100) {
      hashes.push_back(value(i - 100, 11));  // again, 100 values later
      lines.push_back(line++);
    }
    if (i % 1000 == 7) {
      hashes.push_back(value(i / 1000, 11));  // the same few values, again and again
      lines.push_back(line++);
    }
  }
  SECTION("below the cap throughout") {
    for (size_t batch : {size_t{1}, size_t{7}, size_t{4096}, size_t{16384}}) {
      check_batches_equal_adds(1'000'000, hashes, lines, batch);
    }
  }
  SECTION("batches that reach the switch, and batches after it") {
    for (size_t cap : {size_t{40'000}, size_t{150'000}, size_t{199'999}}) {
      check_batches_equal_adds(cap, hashes, lines, 16384);
    }
  }
  SECTION("hash 0 and first lines past 2^32 in a sorted batch") {
    const uint64_t far = (uint64_t{1} << 32) + 5;
    hashes.insert(hashes.begin() + 150'000, {0, 1, 0, value(3, 11)});
    lines.insert(lines.begin() + 150'000, {far, far + 1, far + 2, far + 3});
    hashes.push_back(0);
    lines.push_back(far + 10);
    check_batches_equal_adds(1'000'000, hashes, lines, 16384);
    DistinctCounter c(1'000'000);
    std::vector<uint32_t> counts(hashes.size());
    c.add_batch(hashes.data(), lines.data(), counts.data(), hashes.size());
    // hash 0 is counted as 1 (add() says so): 0, 1, 0 and the last 0 are one value.
    CHECK(counts[150'000] == 1);
    CHECK(counts[150'001] == 2);
    CHECK(counts[150'002] == 3);
    CHECK(counts.back() == 4);
    auto top = c.top(1);
    REQUIRE(top.size() == 1);
    CHECK(top[0].count == 4);
    CHECK(top[0].first_line == far);
  }
  SECTION("an empty batch changes nothing") {
    DistinctCounter c(100);
    c.add_batch(nullptr, nullptr, nullptr, 0);
    CHECK(c.total() == 0);
    CHECK(c.distinct() == 0);
  }
}

TEST_CASE("first lines past 2^32 are kept whole") {
  // A dump of a few hundred gigabytes has more than 4,294,967,295 lines.
  const uint64_t far = (uint64_t{1} << 32) + 12345;
  DistinctCounter c(1000);
  c.add(value(1), 7);
  c.add(value(2), UINT32_MAX - 1);
  c.add(value(3), UINT32_MAX);
  c.add(value(4), far);
  for (uint64_t v = 1; v <= 4; ++v) {
    c.add(value(v), far + 1000 + v);
  }
  c.add(value(4), far + 2000);  // value 4 leads with 3
  auto top = c.top(4);
  REQUIRE(top.size() == 4);
  CHECK(top[0].hash == value(4));
  CHECK(top[0].first_line == far);
  CHECK(top[1].first_line == 7);
  CHECK(top[2].first_line == UINT32_MAX - 1);
  CHECK(top[3].first_line == UINT32_MAX);
  // The lines survive the switch to the sketch (the summary starts from the exact counts):
  // make value 4 heavy, then push past the cap.
  for (int i = 0; i < 5000; ++i) {
    c.add(value(4), far + 3000 + static_cast<uint64_t>(i));
  }
  for (uint64_t i = 100; i < 2000; ++i) {
    c.add(value(i), far + 10'000 + i);
  }
  REQUIRE_FALSE(c.exact());
  top = c.top(1);
  REQUIRE(top.size() == 1);
  CHECK(top[0].hash == value(4));
  CHECK(top[0].first_line == far);
}

TEST_CASE("table statistics record which figures are exact and which estimated") {
  // One COPY block of 3,000 rows holding 1,500 distinct logical rows (the bigserial id is
  // left out), counted with an exact cap above and below 1,500.
  std::string sql =
      "CREATE TABLE public.t (id bigserial, payload text);\n"
      "COPY public.t (id, payload) FROM stdin;\n";
  for (int i = 0; i < 3000; ++i) {
    sql += std::to_string(i + 1) + "\trow " + std::to_string(i % 1500) + "\n";
  }
  sql += "\\.\n";
  for (size_t cap : {size_t{1500}, size_t{1499}}) {
    INFO("exact cap " << cap);
    dbautopsy::pgdump::CopyStatsOptions o;
    o.exact_cap = cap;
    auto r = dbautopsy::test::ingest_sql_with_stats(sql, o);
    CHECK(r.one("SELECT rows FROM table_stats") == "3000");
    CHECK(r.one("SELECT ignored_columns FROM table_stats") == "id (nextval default)");
    if (cap >= 1500) {
      CHECK(r.one("SELECT distinct_method FROM table_stats") == "exact");
      CHECK(r.one("SELECT distinct_rows FROM table_stats") == "1500");
      CHECK(r.one("SELECT repeated_rows FROM table_stats") == "1500");
    } else {
      CHECK(r.one("SELECT distinct_method FROM table_stats") == "sketch");
      CHECK(relative_error(static_cast<uint64_t>(r.count("SELECT distinct_rows FROM table_stats")),
                           1500) < 0.02);
    }
  }
}
