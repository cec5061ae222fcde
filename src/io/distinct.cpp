#include "io/distinct.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <system_error>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace dbautopsy::io {

namespace {

constexpr int k_hll_bits = 14;
constexpr size_t k_hll_registers = size_t{1} << k_hll_bits;
constexpr size_t k_grow_prefetch = 16;  // how far ahead grow() prefetches its writes
constexpr size_t k_huge_page = size_t{2} << 20;
// Tables of this many bytes or more are mapped and faulted in on a thread of their own
// before the grow that needs them (prepare_grow).
constexpr size_t k_prepare_from = 4 * k_huge_page;

// Spreads a hash over the table's slots (the XXH3 hashes are good; this guards against
// callers that pass weaker ones).
uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

DistinctCounter::Slots::Slots(size_t n) : m_size(n) {
  const size_t bytes = n * sizeof(Slot);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes >= 4 * k_huge_page) {
    // Map one huge page more than needed and keep the aligned part (fresh mappings are
    // zeroed).
    size_t want = (bytes + k_huge_page - 1) / k_huge_page * k_huge_page;
    void* p = mmap(nullptr, want + k_huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED) {
      throw std::bad_alloc();
    }
    auto start = reinterpret_cast<uintptr_t>(p);
    uintptr_t aligned = (start + k_huge_page - 1) & ~(uintptr_t{k_huge_page} - 1);
    if (aligned > start) {
      munmap(p, aligned - start);
    }
    if (size_t tail = start + want + k_huge_page - (aligned + want); tail > 0) {
      munmap(reinterpret_cast<void*>(aligned + want), tail);
    }
    madvise(reinterpret_cast<void*>(aligned), want, MADV_HUGEPAGE);  // a hint: may fail
#if defined(MADV_POPULATE_WRITE)
    // Every page is written soon (the slots are random): fault them all in now, in one
    // call, rather than one read fault (the shared zero page) and one write fault each.
    madvise(reinterpret_cast<void*>(aligned), want, MADV_POPULATE_WRITE);  // may fail too
#endif
    m_data = reinterpret_cast<Slot*>(aligned);
    m_mapped = want;
    return;
  }
#endif
  m_data = static_cast<Slot*>(std::calloc(n, sizeof(Slot)));
  if (m_data == nullptr && n > 0) {
    throw std::bad_alloc();
  }
}

DistinctCounter::Slots::~Slots() {
#if defined(__linux__)
  if (m_mapped != 0) {
    munmap(m_data, m_mapped);
    return;
  }
#endif
  std::free(m_data);
}

void DistinctCounter::Slots::swap(Slots& other) noexcept {
  std::swap(m_data, other.m_data);
  std::swap(m_size, other.m_size);
  std::swap(m_mapped, other.m_mapped);
}

DistinctCounter::DistinctCounter(size_t exact_cap, size_t heavy_k)
    : m_cap(exact_cap), m_heavy_k(heavy_k), m_slots(1024) {
  static_assert(sizeof(Slot) == 16);
}

void DistinctCounter::set_first_line(Slot& slot, uint64_t line) {
  if (line < k_far_line) {
    slot.line = static_cast<uint32_t>(line);
  } else {
    slot.line = k_far_line;
    m_far_lines[slot.key] = line;
  }
}

uint64_t DistinctCounter::first_line(const Slot& slot) const {
  return slot.line != k_far_line ? slot.line : m_far_lines.at(slot.key);
}

// (After the switch nothing is prefetched: the registers and the summary are small enough
// to stay in cache.)
void DistinctCounter::prefetch_slot(uint64_t hash) const {
  if (hash == 0) {
    hash = 1;
  }
  size_t i = static_cast<size_t>(mix(hash)) & (m_slots.size() - 1);
  __builtin_prefetch(m_slots.data() + i, 1);
}

size_t DistinctCounter::slot_of(uint64_t hash) const {
  size_t mask = m_slots.size() - 1;
  size_t i = static_cast<size_t>(mix(hash)) & mask;
  while (m_slots[i].key != 0 && m_slots[i].key != hash) {
    i = (i + 1) & mask;
  }
  return i;
}

// The table doubles when it is half full, except that, while it is at most a quarter of
// the size it needs at the cap, it grows four times over: half as many grows (each a pass
// over the table and fresh memory to zero), and the largest table is never larger than
// doubling would make it at the cap, so memory at the cap and its peak (old and new tables
// together, for the moment of a grow) are no higher.
size_t DistinctCounter::grown_size() const {
  const size_t size = m_slots.size();
  if (m_cap <= std::numeric_limits<size_t>::max() / 8) {
    const size_t at_cap = std::bit_ceil(std::max<size_t>(2 * m_cap, 1));
    if (size * 4 <= at_cap) {
      return size * 4;
    }
  }
  return size * 2;
}

// The kernel zeroes every page of a fresh table as it is first written; on a virtual machine
// that can cost as much as a millisecond per MiB, and it would fall on the thread that counts.
// So half-way from one grow to the next, the next table (when it is large and the grow will come
// before the cap) is made on another thread.
void DistinctCounter::prepare_grow() {
  m_prepare_at = SIZE_MAX;
  try {
    m_next = std::async(std::launch::async, [n = grown_size()] { return Slots(n); });
  } catch (const std::system_error&) {
    // No thread: grow() makes the table itself.
  }
}

void DistinctCounter::grow() {
  Slots old = m_next.valid() ? m_next.get() : Slots(grown_size());
  old.swap(m_slots);
  // The grow after this one is prepared half-way to it, if it comes before the cap (at the cap
  // the table stops growing).
  if (m_slots.size() / 2 + 1 <= m_cap && grown_size() * sizeof(Slot) >= k_prepare_from) {
    m_prepare_at = m_size + (m_slots.size() / 2 - m_size) / 2;
  }
  const size_t mask = m_slots.size() - 1;
  for (size_t j = 0; j < old.size(); ++j) {
    // The new slots are random: prefetch the one a few keys ahead.
    if (j + k_grow_prefetch < old.size() && old[j + k_grow_prefetch].key != 0) {
      size_t ahead = static_cast<size_t>(mix(old[j + k_grow_prefetch].key)) & mask;
      __builtin_prefetch(m_slots.data() + ahead, 1);
    }
    if (old[j].key != 0) {
      m_slots[slot_of(old[j].key)] = old[j];
    }
  }
}

uint32_t DistinctCounter::add(uint64_t hash, uint64_t line) {
  ++m_total;
  if (hash == 0) {
    hash = 1;
  }
  if (m_sketch) {
    sketch_add(hash);
    heavy_add(hash, line);
    return 0;
  }
  size_t i = slot_of(hash);
  Slot& slot = m_slots[i];
  if (slot.key == hash) {
    return ++slot.count;
  }
  if (m_size + 1 > m_cap) {
    switch_to_sketch();
    --m_total;
    return add(hash, line);
  }
  slot.key = hash;
  slot.count = 1;
  set_first_line(slot, line);
  if (++m_size * 2 > m_slots.size()) {
    grow();
  } else if (m_size == m_prepare_at) {
    prepare_grow();
  }
  return 1;
}

void DistinctCounter::add_batch(const uint64_t* hashes, const uint64_t* lines, uint32_t* counts,
                                size_t n) {
  constexpr size_t k_ahead = 16;  // how far ahead the slots are prefetched
  // Below this many slots (1 MiB) the table stays in the caches: order does not matter.
  constexpr size_t k_sorted_from = 1 << 16;
  constexpr int k_bucket_bits = 12;
  if (m_sketch || m_slots.size() < k_sorted_from || n < 2 || n > UINT32_MAX || m_size + n > m_cap) {
    for (size_t i = 0; i < n; ++i) {
      if (i + k_ahead < n) {
        prefetch(hashes[i + k_ahead]);
      }
      counts[i] = add(hashes[i], lines[i]);
    }
    return;
  }
  // A stable counting sort of the batch by the top bits of each value's slot (hash 0 is
  // counted as 1, as add() does; a grow during the batch only makes the order less useful).
  const int table_bits = std::countr_zero(m_slots.size());
  const int shift = table_bits - k_bucket_bits;
  const size_t mask = m_slots.size() - 1;
  auto bucket = [&](uint64_t h) {
    return static_cast<size_t>((mix(h == 0 ? 1 : h) & mask) >> shift);
  };
  m_buckets.assign((size_t{1} << k_bucket_bits) + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    ++m_buckets[bucket(hashes[i]) + 1];
  }
  for (size_t b = 1; b < m_buckets.size(); ++b) {
    m_buckets[b] += m_buckets[b - 1];
  }
  m_order.resize(n);
  for (size_t i = 0; i < n; ++i) {
    m_order[m_buckets[bucket(hashes[i])]++] = static_cast<uint32_t>(i);
  }
  for (size_t j = 0; j < n; ++j) {
    if (j + k_ahead < n) {
      prefetch_slot(hashes[m_order[j + k_ahead]]);
    }
    const size_t i = m_order[j];
    counts[i] = add(hashes[i], lines[i]);
  }
}

void DistinctCounter::switch_to_sketch() {
  m_sketch = true;
  m_registers.assign(k_hll_registers, 0);
  // The summary starts from the heavy_k most repeated values, chosen with a min-heap of
  // heavy_k entries (not a copy of the whole table: that would double the memory here).
  auto lighter = [](const Group& a, const Group& b) {
    return a.count != b.count ? a.count > b.count : a.first_line < b.first_line;
  };
  std::vector<Group> heap;
  heap.reserve(m_heavy_k);
  for (const Slot& slot : m_slots) {
    if (slot.key == 0) {
      continue;
    }
    sketch_add(slot.key);
    if (m_heavy_k == 0) {
      continue;
    }
    Group g{slot.key, slot.count, first_line(slot)};
    if (heap.size() < m_heavy_k) {
      heap.push_back(g);
      std::push_heap(heap.begin(), heap.end(), lighter);
    } else if (lighter(g, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), lighter);
      heap.back() = g;
      std::push_heap(heap.begin(), heap.end(), lighter);
    }
  }
  m_heavy = std::move(heap);
  m_heavy.shrink_to_fit();
  heavy_reindex();
  // The exact table is not needed any more: its memory goes back now (with a next table, if one
  // was being made).
  m_next = {};
  Slots().swap(m_slots);
  std::unordered_map<uint64_t, uint64_t>().swap(m_far_lines);
  m_size = 0;
}

void DistinctCounter::sketch_add(uint64_t hash) {
  uint64_t h = mix(hash);
  size_t index = static_cast<size_t>(h >> (64 - k_hll_bits));
  uint64_t rest = (h << k_hll_bits) | (uint64_t{1} << (k_hll_bits - 1));
  uint8_t rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
  if (rank > m_registers[index]) {
    m_registers[index] = rank;
  }
}

// Misra-Gries: a value already tracked is counted; a new one takes a free counter, or, when
// none is free, every counter goes down by one (and those at zero are freed).
void DistinctCounter::heavy_add(uint64_t hash, uint64_t line) {
  const size_t mask = m_heavy_index.size() - 1;
  for (size_t i = static_cast<size_t>(mix(hash)) & mask; m_heavy_index[i] != 0;
       i = (i + 1) & mask) {
    Group& g = m_heavy[m_heavy_index[i] - 1];
    if (g.hash == hash) {
      ++g.count;
      return;
    }
  }
  if (m_heavy.size() < m_heavy_k) {
    m_heavy.push_back({hash, 1, line});
    heavy_index_put(m_heavy.size() - 1);
    return;
  }
  for (auto& g : m_heavy) {
    --g.count;
  }
  m_heavy.erase(
      std::remove_if(m_heavy.begin(), m_heavy.end(), [](const Group& g) { return g.count == 0; }),
      m_heavy.end());
  heavy_reindex();
}

void DistinctCounter::heavy_index_put(size_t at) {
  const size_t mask = m_heavy_index.size() - 1;
  size_t i = static_cast<size_t>(mix(m_heavy[at].hash)) & mask;
  while (m_heavy_index[i] != 0) {
    i = (i + 1) & mask;
  }
  m_heavy_index[i] = static_cast<uint32_t>(at + 1);
}

void DistinctCounter::heavy_reindex() {
  m_heavy_index.assign(std::bit_ceil(std::max<size_t>(16, 4 * m_heavy_k)), 0);
  for (size_t at = 0; at < m_heavy.size(); ++at) {
    heavy_index_put(at);
  }
}

namespace {

// Ertl's improved raw estimator ("New cardinality estimation algorithms for HyperLogLog
// sketches", 2017, algorithm 6): nearly unbiased over the whole range, from an empty sketch
// to the largest cardinalities, without the empirical bias tables of HyperLogLog++ and
// without a hand-over between two estimators (the classic switch from linear counting at
// 2.5 m overestimates by about 1% just past it).
double ertl_sigma(double x) {
  if (x == 1.0) {
    return std::numeric_limits<double>::infinity();
  }
  double y = 1.0;
  double z = x;
  for (;;) {
    x *= x;
    double before = z;
    z += x * y;
    y += y;
    if (z == before) {
      return z;
    }
  }
}

double ertl_tau(double x) {
  if (x == 0.0 || x == 1.0) {
    return 0.0;
  }
  double y = 1.0;
  double z = 1.0 - x;
  for (;;) {
    x = std::sqrt(x);
    double before = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
    if (z == before) {
      return z / 3.0;
    }
  }
}

}  // namespace

uint64_t DistinctCounter::distinct() const {
  if (!m_sketch) {
    return m_size;
  }
  // Registers hold 0 (empty) to q + 1, q = 64 - p bits of each hash past the index.
  constexpr int q = 64 - k_hll_bits;
  const double m = static_cast<double>(k_hll_registers);
  uint64_t histogram[q + 2] = {};
  for (uint8_t r : m_registers) {
    ++histogram[std::min<int>(r, q + 1)];
  }
  double z = m * ertl_tau(1.0 - static_cast<double>(histogram[q + 1]) / m);
  for (int k = q; k >= 1; --k) {
    z = 0.5 * (z + static_cast<double>(histogram[k]));
  }
  z += m * ertl_sigma(static_cast<double>(histogram[0]) / m);
  const double alpha_inf = 1.0 / (2.0 * std::log(2.0));
  double estimate = alpha_inf * m * m / z;
  return static_cast<uint64_t>(estimate + 0.5);
}

uint64_t DistinctCounter::repeated_values() const {
  uint64_t n = 0;
  if (!m_sketch) {
    for (const Slot& slot : m_slots) {
      n += slot.key != 0 && slot.count > 1;
    }
  } else {
    for (const auto& g : m_heavy) {
      n += g.count > 1;  // a lower bound: the summary's counts are lower bounds
    }
  }
  return n;
}

std::optional<DistinctCounter::Level> DistinctCounter::dominant_level() const {
  if (m_sketch) {
    return std::nullopt;
  }
  std::unordered_map<uint32_t, uint64_t> values_by_count;
  for (const Slot& slot : m_slots) {
    if (slot.key != 0 && slot.count > 1) {
      ++values_by_count[slot.count];
    }
  }
  std::optional<Level> best;
  for (const auto& [count, values] : values_by_count) {
    uint64_t excess = (count - uint64_t{1}) * values;
    if (!best || excess > (best->count - 1) * best->values ||
        (excess == (best->count - 1) * best->values && count > best->count)) {
      best = Level{count, values};
    }
  }
  return best;
}

std::vector<DistinctCounter::Group> DistinctCounter::top(size_t n) const {
  std::vector<Group> groups;
  if (m_sketch) {
    // The summary's counts are lower bounds of the true counts: a counter at 1 may be a
    // value seen once (or the remains of one decremented), so it is no evidence of a
    // repeat. Only counters above 1 are values certainly seen more than once.
    for (const Group& g : m_heavy) {
      if (g.count > 1) {
        groups.push_back(g);
      }
    }
  } else {
    for (const Slot& slot : m_slots) {
      if (slot.key != 0 && slot.count > 1) {
        groups.push_back({slot.key, slot.count, first_line(slot)});
      }
    }
  }
  size_t keep = std::min(n, groups.size());
  std::partial_sort(groups.begin(), groups.begin() + static_cast<std::ptrdiff_t>(keep),
                    groups.end(), [](const Group& a, const Group& b) {
                      return a.count != b.count ? a.count > b.count : a.first_line < b.first_line;
                    });
  groups.resize(keep);
  return groups;
}

size_t DistinctCounter::memory_bytes() const {
  return m_slots.size() * sizeof(Slot) + m_far_lines.size() * 48 + m_registers.capacity() +
         m_heavy.capacity() * sizeof(Group) + m_heavy_index.capacity() * sizeof(uint32_t);
}

}  // namespace dbautopsy::io
