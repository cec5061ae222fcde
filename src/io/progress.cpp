#include "io/progress.hpp"

#include <atomic>

namespace dbautopsy::io {

namespace {
// A count read by another thread now and then: no ordering needed.
std::atomic<uint64_t> g_read{0};
}  // namespace

void count_read(uint64_t bytes) {
  g_read.fetch_add(bytes, std::memory_order_relaxed);
}

uint64_t bytes_read() {
  return g_read.load(std::memory_order_relaxed);
}

}  // namespace dbautopsy::io
