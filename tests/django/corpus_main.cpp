// Entry point of django_corpus_tests: exits 77 (CTest's "skipped") when the shared corpus
// cannot be found, unless DBAUTOPSY_REQUIRE_ALL (or CI=true) asks for every test to run.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <iostream>

#include "support.hpp"

int main(int argc, char* argv[]) {
  if (!dbautopsy::test::corpus_dir()) {
    if (dbautopsy::test::require_all()) {
      std::cerr << "FAIL: the shared corpus was not found (set DBAUTOPSY_CORPUS to its folder)\n";
      return 1;
    }
    std::cout << "SKIP: the shared corpus was not found (set DBAUTOPSY_CORPUS to its folder)\n";
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
