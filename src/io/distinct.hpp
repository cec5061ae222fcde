// Counting distinct values in a stream with bounded memory.
//
// DistinctCounter counts every distinct 64-bit hash exactly (how many times each occurs,
// and the first line it occurred on) until it holds `exact_cap` distinct hashes. Past that
// it switches, once: the number of distinct values is then estimated with a HyperLogLog
// (2^14 registers, standard error about 0.8%), and the most repeated values are tracked by
// a Misra-Gries summary of `heavy_k` counters, whose counts are lower bounds. `exact()` says
// which figures are which, so that reports can say so.
//
// Hash collisions: values are 64-bit XXH3 hashes; among 50 million distinct rows the chance
// that two collide is below 1 in 10,000. Memory: 24 bytes per distinct value while exact
// (the table is kept at most half full), 16 KiB plus the summary afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dbautopsy::io {

class DistinctCounter {
 public:
  explicit DistinctCounter(size_t exact_cap, size_t heavy_k = 256);

  // Counts one occurrence. Returns the value's count so far when exact (0 after the switch).
  uint32_t add(uint64_t hash, uint64_t line);

  bool exact() const { return !m_sketch; }
  uint64_t total() const { return m_total; }
  // Distinct values: exact, or the HyperLogLog estimate.
  uint64_t distinct() const;
  // Values seen more than once, and the rows beyond their first occurrence (exact only).
  uint64_t repeated_values() const;

  struct Group {
    uint64_t hash;
    uint64_t count;
    uint64_t first_line;
  };
  // The most repeated values, most first (counts are lower bounds after the switch).
  std::vector<Group> top(size_t n) const;
  size_t memory_bytes() const;

 private:
  void grow();
  void switch_to_sketch();
  void sketch_add(uint64_t hash);
  void heavy_add(uint64_t hash, uint64_t line);
  size_t slot_of(uint64_t hash) const;

  size_t m_cap;
  size_t m_heavy_k;
  bool m_sketch = false;
  uint64_t m_total = 0;
  // Exact: open addressing, linear probing; hash 0 is stored as 1 (0 marks empty).
  std::vector<uint64_t> m_keys;
  std::vector<uint32_t> m_counts;
  std::vector<uint64_t> m_first_line;
  size_t m_size = 0;
  // Sketch.
  std::vector<uint8_t> m_registers;
  std::vector<Group> m_heavy;
};

}  // namespace dbautopsy::io
