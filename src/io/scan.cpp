#include "io/scan.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dbautopsy::io {

namespace {

// The portable loop, also used for the tail of a block and to finish a block whose
// vector loop found the stop line in its last chunk.
void scan_scalar(const unsigned char* p, size_t from, size_t n, BlockScan& out) {
  for (size_t i = from; i < n; ++i) {
    unsigned char c = p[i];
    if (c == '\\' && i + 1 < n && p[i + 1] == '.' && (i == 0 || p[i - 1] == '\n')) {
      out.stop = i;
      return;
    }
    out.newlines += c == '\n';
    out.non_ascii = out.non_ascii || c >= 0x80;
    out.has_nul = out.has_nul || c == 0;
  }
}

}  // namespace

BlockScan scan_block(std::string_view block) {
  BlockScan out;
  const auto* p = reinterpret_cast<const unsigned char*>(block.data());
  const size_t n = block.size();
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i zero = _mm_setzero_si128();
  __m128i high = zero;
  __m128i nul = zero;
  // The first chunk is left to the scalar loop so that the vector loop can always look
  // one byte back (a "\." line is recognised by the '\n' before it).
  if (n >= 17 && !(p[0] == '\\' && p[1] == '.')) {
    i = 1;
    out.newlines += p[0] == '\n';
    out.non_ascii = p[0] >= 0x80;
    out.has_nul = p[0] == 0;
    while (i + 16 <= n) {
      // Newlines are counted in byte lanes (each compare adds 1 as -(-1)), summed with
      // psadbw before a lane can overflow.
      __m128i counts = zero;
      size_t chunk_end = i + 16 * 255 < n ? i + 16 * 255 : n;
      bool stopped = false;
      for (; i + 16 <= chunk_end; i += 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
        __m128i before = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i - 1));
        unsigned starts = static_cast<unsigned>(_mm_movemask_epi8(
            _mm_and_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(before, newline))));
        if (starts != 0) {
          // A backslash at a line start: "\." ends the data, anything else does not.
          bool found = false;
          for (unsigned bits = starts; bits != 0; bits &= bits - 1) {
            size_t at = i + static_cast<size_t>(__builtin_ctz(bits));
            if (at + 1 < n && p[at + 1] == '.') {
              found = true;
              break;
            }
          }
          if (found) {
            stopped = true;
            break;
          }
        }
        counts = _mm_sub_epi8(counts, _mm_cmpeq_epi8(v, newline));
        high = _mm_or_si128(high, v);
        nul = _mm_or_si128(nul, _mm_cmpeq_epi8(v, zero));
      }
      __m128i sums = _mm_sad_epu8(counts, zero);
      out.newlines += static_cast<uint64_t>(_mm_cvtsi128_si32(sums)) +
                      static_cast<uint64_t>(_mm_cvtsi128_si32(_mm_srli_si128(sums, 8)));
      if (stopped) {
        break;  // the scalar loop finishes this chunk and finds the exact stop
      }
    }
    out.non_ascii = out.non_ascii || _mm_movemask_epi8(high) != 0;
    out.has_nul = out.has_nul || _mm_movemask_epi8(nul) != 0;
  }
#endif
  scan_scalar(p, i, n, out);
  return out;
}

uint64_t count_newlines(std::string_view block) {
  const auto* p = reinterpret_cast<const unsigned char*>(block.data());
  uint64_t count = 0;
  for (size_t i = 0; i < block.size(); ++i) {
    count += p[i] == '\n';
  }
  return count;
}

}  // namespace dbautopsy::io
