#include "cli/cli.hpp"

int main(int argc, char** argv) {
  return dbautopsy::cli::run(argc, argv);
}
