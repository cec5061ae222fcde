// Counting distinct values in a stream with bounded memory.
//
// DistinctCounter counts every distinct 64-bit hash exactly (how many times each occurs,
// and the first line it occurred on) until it holds `exact_cap` distinct hashes. Past that
// it switches, once: the number of distinct values is then estimated with a HyperLogLog
// (2^14 registers, standard error about 0.8%, read with Ertl's improved estimator, which
// has no bias to speak of anywhere in the range), and the most repeated values are tracked
// by a Misra-Gries summary of `heavy_k` counters, whose counts are lower bounds. The exact
// table's memory is freed at the switch. `exact()` says
// which figures are which, so that reports can say so.
//
// Hash collisions: values are 64-bit XXH3 hashes; among 50 million distinct rows the chance
// that two collide is below 1 in 10,000. Memory: 16 bytes per slot of the exact table, which
// is kept at most half full (so 32 to 64 bytes per distinct value: 128 MiB at a cap of 4
// million, and 192 MiB from half-way to the grow that reaches that size until the grow: a
// table of 8 MiB or more is mapped and faulted in on a thread of its own before the grow
// that needs it), 16 KiB plus the summary afterwards. memory_bytes() counts the table in use.
// While far below the cap it grows four times over (fewer grows), never past the size it
// has at the cap: memory between the grows may be up to 128 bytes per distinct value, but
// never more than at the cap.
//
// Speed: past a few million distinct values every add() of a new value misses the CPU
// caches, once (a slot holds the value, its count and its first line); a caller that knows
// the next values can prefetch() their slots first, so that those misses overlap, or give
// them all at once to add_batch(), which also takes them in the table's address order. The
// summary finds a value through a small hash index, so each add() after the switch costs
// O(1) (amortised: the counters are all decremented at most once every heavy_k adds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <future>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dbautopsy::io {

class DistinctCounter {
 public:
  explicit DistinctCounter(size_t exact_cap, size_t heavy_k = 256);

  // Counts one occurrence. Returns the value's count so far when exact (0 after the switch).
  uint32_t add(uint64_t hash, uint64_t line);
  // Adds n values, as n calls of add() in order would, and sets counts[i] to what the i-th
  // call would return. Below the cap, with a large table, the values are counted in the
  // order of their slots rather than their order in the batch (a stable counting sort, so
  // that the occurrences of one value keep their order): the table's random accesses then
  // go through it in address order, page after page, where the TLB and the page walks' own
  // caches can follow, instead of one new page per value. A batch that could reach the
  // switch is counted in order (which values are counted exactly before it depends on it).
  void add_batch(const uint64_t* hashes, const uint64_t* lines, uint32_t* counts, size_t n);
  // A hint: `hash` will be added soon. Changes no result. (Inline: after the switch it is
  // a test and a return, once per row.)
  void prefetch(uint64_t hash) const {
    if (!m_sketch) {
      prefetch_slot(hash);
    }
  }

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
  // The most repeated values, most first, only values seen more than once (after the
  // switch: counts are lower bounds, and only values counted more than once are listed).
  std::vector<Group> top(size_t n) const;
  // The multiplicity that holds most of the repeats: among the values seen more than once,
  // the count c whose values together hold the most rows beyond their first, (c - 1) times
  // their number (the larger c on a tie), with that number of values. What tells a loop (a
  // batch of rows inserted again and again: its rows share one count) from rows that repeat
  // each as often as it happens to. Exact only: none after the switch, or without repeats.
  struct Level {
    uint64_t count;
    uint64_t values;
  };
  std::optional<Level> dominant_level() const;
  size_t memory_bytes() const;

 private:
  // A slot of the exact table. The first line is kept in 32 bits; a line past that range
  // is kept in m_far_lines, by hash, and the slot says so with k_far_line.
  struct Slot {
    uint64_t key;  // the hash; 0: empty
    uint32_t count;
    uint32_t line;
  };
  static constexpr uint32_t k_far_line = UINT32_MAX;

  // The table's memory: zeroed, and when large, mapped in huge pages where the system
  // allows it (its accesses are random: with 4 KiB pages nearly each one misses the TLB).
  class Slots {
   public:
    Slots() = default;
    explicit Slots(size_t n);
    Slots(Slots&& other) noexcept { swap(other); }
    Slots& operator=(Slots&& other) noexcept {
      Slots(std::move(other)).swap(*this);
      return *this;
    }
    ~Slots();
    void swap(Slots& other) noexcept;
    size_t size() const { return m_size; }
    Slot* data() const { return m_data; }
    Slot& operator[](size_t i) const { return m_data[i]; }
    Slot* begin() const { return m_data; }
    Slot* end() const { return m_data + m_size; }

   private:
    Slot* m_data = nullptr;
    size_t m_size = 0;
    size_t m_mapped = 0;  // bytes mapped with mmap, or 0 when allocated with calloc
  };

  void set_first_line(Slot& slot, uint64_t line);
  uint64_t first_line(const Slot& slot) const;

  size_t grown_size() const;
  void prepare_grow();
  void grow();
  void switch_to_sketch();
  void sketch_add(uint64_t hash);
  void heavy_add(uint64_t hash, uint64_t line);
  void heavy_index_put(size_t at);
  void heavy_reindex();
  size_t slot_of(uint64_t hash) const;
  void prefetch_slot(uint64_t hash) const;

  size_t m_cap;
  size_t m_heavy_k;
  bool m_sketch = false;
  uint64_t m_total = 0;
  // Exact: open addressing, linear probing; hash 0 is stored as 1 (0 marks empty).
  Slots m_slots;
  std::unordered_map<uint64_t, uint64_t> m_far_lines;
  size_t m_size = 0;
  // The next grow's table, being mapped and faulted in on a thread of its own (prepare_grow),
  // and the size at which that starts (SIZE_MAX: never).
  std::future<Slots> m_next;
  size_t m_prepare_at = SIZE_MAX;
  // Sketch.
  std::vector<uint8_t> m_registers;
  std::vector<Group> m_heavy;
  // Where each value of m_heavy is: open addressing over mix(hash), linear probing; an
  // entry is its position in m_heavy plus one (0 marks empty). At most a quarter full.
  std::vector<uint32_t> m_heavy_index;
  // add_batch's work space: the batch in slot order, and the buckets of the sort.
  std::vector<uint32_t> m_order;
  std::vector<uint32_t> m_buckets;
};

}  // namespace dbautopsy::io
