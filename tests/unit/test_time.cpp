// Times as sources write them, to UTC (src/base/time.cpp).
#include <catch2/catch.hpp>

#include "base/time.hpp"

using namespace dbautopsy;

TEST_CASE("times with every zone form PostgreSQL and Python write go to UTC") {
  CHECK(timeutil::to_iso_utc("2024-01-14 20:50:01.123 CET") == "2024-01-14T19:50:01.123Z");
  CHECK(timeutil::to_iso_utc("2024-07-14 20:50:01 CEST") == "2024-07-14T18:50:01.000Z");
  CHECK(timeutil::to_iso_utc("2024-01-14 20:50:01 UTC") == "2024-01-14T20:50:01.000Z");
  CHECK(timeutil::to_iso_utc("2025-11-03 09:12:05.935812+00") == "2025-11-03T09:12:05.935Z");
  CHECK(timeutil::to_iso_utc("2024-01-14 20:50:01.5-03") == "2024-01-14T23:50:01.500Z");
  CHECK(timeutil::to_iso_utc("2024-01-14 20:50:01 +0530") == "2024-01-14T15:20:01.000Z");
  CHECK(timeutil::to_iso_utc("2024-01-14T20:50:01.123+05:30") == "2024-01-14T15:20:01.123Z");
  CHECK(timeutil::to_iso_utc("2024-01-14T20:50:01Z") == "2024-01-14T20:50:01.000Z");
  CHECK(timeutil::to_iso_utc("2024-01-14 20:50:01,123", true) == "2024-01-14T20:50:01.123Z");
  // Over midnight and a year's end.
  CHECK(timeutil::to_iso_utc("2024-01-01 00:30:00 CET") == "2023-12-31T23:30:00.000Z");
  CHECK(timeutil::to_iso_utc("2024-12-31 23:30:00 EST") == "2025-01-01T04:30:00.000Z");
}

TEST_CASE("what is not a time, or has a zone nobody can place, gives nothing") {
  CHECK_FALSE(timeutil::to_iso_utc("2024-01-14 20:50:01"));  // naive, not assumed UTC
  CHECK_FALSE(timeutil::to_iso_utc("2024-01-14 20:50:01 XYZT"));
  CHECK_FALSE(timeutil::to_iso_utc("2024-13-14 20:50:01 UTC"));
  CHECK_FALSE(timeutil::to_iso_utc("yesterday"));
  CHECK_FALSE(timeutil::to_iso_utc("2024-01-14 20:50"));
  CHECK_FALSE(timeutil::to_iso_utc("2024-01-14 20:50:01. UTC"));
}
