#include "io/distinct.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace dbautopsy::io {

namespace {

constexpr int k_hll_bits = 14;
constexpr size_t k_hll_registers = size_t{1} << k_hll_bits;

// Spreads a hash over the table's slots (the XXH3 hashes are good; this guards against
// callers that pass weaker ones).
uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

DistinctCounter::DistinctCounter(size_t exact_cap, size_t heavy_k)
    : m_cap(exact_cap), m_heavy_k(heavy_k) {
  size_t initial = 1024;
  m_keys.assign(initial, 0);
  m_counts.assign(initial, 0);
  m_first_line.assign(initial, 0);
}

size_t DistinctCounter::slot_of(uint64_t hash) const {
  size_t mask = m_keys.size() - 1;
  size_t i = static_cast<size_t>(mix(hash)) & mask;
  while (m_keys[i] != 0 && m_keys[i] != hash) {
    i = (i + 1) & mask;
  }
  return i;
}

void DistinctCounter::grow() {
  std::vector<uint64_t> keys(m_keys.size() * 2, 0);
  std::vector<uint32_t> counts(keys.size(), 0);
  std::vector<uint64_t> lines(keys.size(), 0);
  std::swap(keys, m_keys);
  std::swap(counts, m_counts);
  std::swap(lines, m_first_line);
  for (size_t j = 0; j < keys.size(); ++j) {
    if (keys[j] != 0) {
      size_t i = slot_of(keys[j]);
      m_keys[i] = keys[j];
      m_counts[i] = counts[j];
      m_first_line[i] = lines[j];
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
  if (m_keys[i] == hash) {
    return ++m_counts[i];
  }
  if (m_size + 1 > m_cap) {
    switch_to_sketch();
    --m_total;
    return add(hash, line);
  }
  m_keys[i] = hash;
  m_counts[i] = 1;
  m_first_line[i] = line;
  if (++m_size * 2 > m_keys.size()) {
    grow();
  }
  return 1;
}

void DistinctCounter::switch_to_sketch() {
  m_sketch = true;
  m_registers.assign(k_hll_registers, 0);
  std::vector<Group> groups;
  groups.reserve(m_size);
  for (size_t i = 0; i < m_keys.size(); ++i) {
    if (m_keys[i] != 0) {
      sketch_add(m_keys[i]);
      groups.push_back({m_keys[i], m_counts[i], m_first_line[i]});
    }
  }
  size_t keep = std::min(m_heavy_k, groups.size());
  std::partial_sort(groups.begin(), groups.begin() + static_cast<std::ptrdiff_t>(keep),
                    groups.end(), [](const Group& a, const Group& b) { return a.count > b.count; });
  groups.resize(keep);
  m_heavy = std::move(groups);
  // The exact table is not needed any more.
  std::vector<uint64_t>().swap(m_keys);
  std::vector<uint32_t>().swap(m_counts);
  std::vector<uint64_t>().swap(m_first_line);
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
  for (auto& g : m_heavy) {
    if (g.hash == hash) {
      ++g.count;
      return;
    }
  }
  if (m_heavy.size() < m_heavy_k) {
    m_heavy.push_back({hash, 1, line});
    return;
  }
  for (auto& g : m_heavy) {
    --g.count;
  }
  m_heavy.erase(
      std::remove_if(m_heavy.begin(), m_heavy.end(), [](const Group& g) { return g.count == 0; }),
      m_heavy.end());
}

uint64_t DistinctCounter::distinct() const {
  if (!m_sketch) {
    return m_size;
  }
  double m = static_cast<double>(k_hll_registers);
  double sum = 0;
  size_t zeros = 0;
  for (uint8_t r : m_registers) {
    sum += std::ldexp(1.0, -r);
    zeros += r == 0;
  }
  double alpha = 0.7213 / (1 + 1.079 / m);
  double estimate = alpha * m * m / sum;
  if (estimate <= 2.5 * m && zeros > 0) {
    estimate = m * std::log(m / static_cast<double>(zeros));  // linear counting, small range
  }
  return static_cast<uint64_t>(estimate + 0.5);
}

uint64_t DistinctCounter::repeated_values() const {
  uint64_t n = 0;
  if (!m_sketch) {
    for (size_t i = 0; i < m_keys.size(); ++i) {
      n += m_keys[i] != 0 && m_counts[i] > 1;
    }
  } else {
    for (const auto& g : m_heavy) {
      n += g.count > 1;
    }
  }
  return n;
}

std::vector<DistinctCounter::Group> DistinctCounter::top(size_t n) const {
  std::vector<Group> groups;
  if (m_sketch) {
    groups = m_heavy;
  } else {
    for (size_t i = 0; i < m_keys.size(); ++i) {
      if (m_keys[i] != 0 && m_counts[i] > 1) {
        groups.push_back({m_keys[i], m_counts[i], m_first_line[i]});
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
  return m_keys.capacity() * 8 + m_counts.capacity() * 4 + m_first_line.capacity() * 8 +
         m_registers.capacity() + m_heavy.capacity() * sizeof(Group);
}

}  // namespace dbautopsy::io
