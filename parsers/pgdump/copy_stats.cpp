#include "pgdump/copy_stats.hpp"

// XXH3 inlined: the same function (its output is fixed since 0.8.0), minus a library call
// per row.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <optional>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/json_row.hpp"
#include "base/text.hpp"
#include "io/distinct.hpp"
#include "io/scan.hpp"
#include "pgdump/copy_text.hpp"

namespace dbautopsy::pgdump {

namespace {

// A longer row is hashed as it streams past and counted like any other, but its text is
// not kept: it is not stored in table_row (a warning says so).
constexpr size_t k_long_row_cap = 64u << 20;
constexpr size_t k_sample_bytes = 2000;  // the text kept of a repeated row
constexpr size_t k_samples = 16;         // sample texts of repeated rows kept
// Rows are hashed in batches of this many before they are counted, together, by
// DistinctCounter::add_batch (whose table outgrows the caches: it prefetches ahead and,
// below the cap, goes through the table in address order).
constexpr size_t k_batch = 16384;
// Columns that an application may fill as it inserts (timestamp, date, uuid without a
// default): the rows are also counted without them, for the rules to use the count that
// leaves out those the migrations say the application fills. Counts leaving out all of
// them, and with 2 to k_max_candidates, all but one each.
constexpr size_t k_max_candidates = 4;
// The exact cap of those further counts is the table's divided by this: they seldom matter
// past a loop's few distinct rows, and a dump's memory stays about what it was.
constexpr size_t k_variant_cap_divisor = 16;

bool is_integer_type(const std::string& t) {
  return t == "integer" || t == "bigint" || t == "smallint";
}

// A type whose value an application may set as it inserts: the time, or a random uuid.
bool is_insert_value_type(const std::string& t) {
  return t.find("timestamp") != std::string::npos || t == "date" || t == "uuid";
}

// Bit i set when p[i] is a tab or a newline, for the 64 bytes from p.
uint64_t separators64(const char* p) {
#if defined(__SSE2__)
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i newline = _mm_set1_epi8('\n');
  uint64_t mask = 0;
  for (int k = 0; k < 4; ++k) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    auto bits = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, newline))));
    mask |= uint64_t{bits} << (16 * k);
  }
  return mask;
#else
  uint64_t mask = 0;
  for (int i = 0; i < 64; ++i) {
    mask |= uint64_t{p[i] == '\t' || p[i] == '\n'} << i;
  }
  return mask;
#endif
}

// The same for the last n < 64 bytes of a block.
uint64_t separators_tail(const char* p, size_t n) {
  uint64_t mask = 0;
  for (size_t i = 0; i < n; ++i) {
    mask |= uint64_t{p[i] == '\t' || p[i] == '\n'} << i;
  }
  return mask;
}

// The same for the last n < 64 bytes of a block.
uint64_t separators_tail_scan(const char* p, size_t n, uint64_t& nul, bool& non_ascii) {
  uint64_t mask = 0;
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(p[i]);
    mask |= uint64_t{c == '\t' || c == '\n'} << i;
    nul |= uint64_t{c == 0} << i;
    non_ascii = non_ascii || c >= 0x80;
  }
  return mask;
}

// separators64() for scan_rows(), which also does the reader's scan: sets bit i of `nul`
// when p[i] is a NUL byte, and `non_ascii` when any of the 64 bytes is.
uint64_t separators64_scan(const char* p, uint64_t& nul, bool& non_ascii) {
#if defined(__SSE2__)
  const __m128i tab = _mm_set1_epi8('\t');
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i zero = _mm_setzero_si128();
  uint64_t mask = 0;
  __m128i high = zero;
  for (int k = 0; k < 4; ++k) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    auto bits = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, tab), _mm_cmpeq_epi8(v, newline))));
    mask |= uint64_t{bits} << (16 * k);
    nul |= uint64_t{static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)))} << (16 * k);
    high = _mm_or_si128(high, v);
  }
  non_ascii = non_ascii || _mm_movemask_epi8(high) != 0;
  return mask;
#else
  return separators_tail_scan(p, 64, nul, non_ascii);
#endif
}

// The hash of a row that arrives in pieces, computed as the pieces go by: the same value
// as CopyStats::hash_of_fields_from() gives for the whole row (XXH3's streaming form gives
// the one-shot result), so that a row hashes the same whatever the read buffer's size.
class StreamHash {
 public:
  // Starts a row whose first field is number `first_field`; with `skip_first`, the bytes
  // up to the first tab are no part of it (the row without its first column).
  void start(const std::vector<uint8_t>& surrogate, bool skip_first) {
    m_surrogate = &surrogate;
    m_hash = 0;
    m_field = 0;
    m_skipping = skip_first;
    m_in_run = false;
    if (!skip_first) {
      begin_field();
    }
  }

  void feed(std::string_view piece) {
    size_t pos = 0;
    for (;;) {
      const void* tab =
          pos < piece.size() ? std::memchr(piece.data() + pos, '\t', piece.size() - pos) : nullptr;
      size_t end =
          tab ? static_cast<size_t>(static_cast<const char*>(tab) - piece.data()) : piece.size();
      if (m_in_run && end > pos) {
        XXH3_64bits_update(&m_state, piece.data() + pos, end - pos);
      }
      if (!tab) {
        return;
      }
      if (m_skipping) {
        m_skipping = false;
        m_field = 1;
        begin_field();
      } else {
        ++m_field;
        if (m_in_run && !surrogate(m_field)) {
          XXH3_64bits_update(&m_state, "\t", 1);  // a run goes on over the tab
        } else {
          begin_field();
        }
      }
      pos = end + 1;
    }
  }

  // The row's hash; 0 for a row without its first column that has a single field.
  uint64_t finish() {
    if (m_skipping) {
      return 0;
    }
    if (m_in_run) {
      m_hash = XXH3_64bits_digest(&m_state);
      m_in_run = false;
    }
    return m_hash;
  }

 private:
  bool surrogate(size_t field) const {
    return field < m_surrogate->size() && (*m_surrogate)[field];
  }
  // Field m_field starts: a left-out field ends the run, a kept one starts one.
  void begin_field() {
    if (surrogate(m_field)) {
      if (m_in_run) {
        m_hash = XXH3_64bits_digest(&m_state);
        m_in_run = false;
      }
    } else if (!m_in_run) {
      XXH3_64bits_reset_withSeed(&m_state, m_hash + 1);
      m_in_run = true;
    }
  }

  const std::vector<uint8_t>* m_surrogate = nullptr;
  XXH3_state_t m_state;
  uint64_t m_hash = 0;
  size_t m_field = 0;
  bool m_skipping = false;
  bool m_in_run = false;
};

class CopyStats final : public CopyConsumer {
 public:
  CopyStats(const CopyTarget& target, store::FactWriter& out, const CopyStatsOptions& options)
      : m_out(out),
        m_options(options),
        m_section(target.section),
        m_target(qualified_name(target)),
        m_counter(options.exact_cap),
        m_without_first(options.exact_cap) {
    // pg_dump writes text format with a tab and \N: the fast path. Anything else (a CSV
    // COPY, another delimiter or NULL string) is decoded record by record, and each record
    // counted as its canonical text (what COPY TO would write): equal values, equal rows.
    m_csv = target.csv;
    m_decode =
        target.csv || target.delimiter != '\t' || target.null_string != "\\N" || target.header;
    m_delimiter = target.delimiter;
    m_quote = target.quote;
    m_escape = target.escape;
    m_null = target.null_string;
    m_skip_header = target.header;
    // The section's columns in COPY order, with their schema facts where known.
    std::vector<std::string> names = target.columns;
    if (names.empty()) {
      for (const auto& c : target.table_columns) {
        names.push_back(c.name);
      }
    }
    std::vector<std::string> ignored;
    for (size_t i = 0; i < names.size(); ++i) {
      const store::ColumnFact* fact = nullptr;
      for (const auto& c : target.table_columns) {
        if (c.name == names[i]) {
          fact = &c;
        }
      }
      std::string why = fact ? surrogate_reason(*fact) : std::string();
      for (const auto& spec : options.ignore) {
        // Without regard to case: a user writes Teams:Created_At for teams.created_at.
        if (text::iequals(spec, names[i]) || text::iequals(spec, target.table + "." + names[i]) ||
            text::iequals(spec, target.schema + "." + target.table + "." + names[i])) {
          why = "--ignore-columns";
        }
      }
      m_surrogate.push_back(!why.empty());
      if (!why.empty()) {
        ignored.push_back(
            fact && !target.table_columns_from.empty() && why != "--ignore-columns"
                ? fmt::format("{} ({}, declared in {})", names[i], why, target.table_columns_from)
                : fmt::format("{} ({})", names[i], why));
      }
      // (A uuid the application sets, as Django's UUIDField(default=uuid.uuid4) does, is as
      // much a surrogate as an integer it sets.)
      if (i == 0 && why.empty() && fact && may_be_application_key(*fact)) {
        m_first_is_key_candidate = true;
      }
    }
    m_ignored = text::join(ignored, ", ");
    // The columns an application may fill as it inserts (not left out already, not the
    // first column when that may be the key), and the counts without them.
    std::vector<size_t> candidates;
    for (size_t i = 0; i < names.size(); ++i) {
      if (surrogate(i) || (i == 0 && m_first_is_key_candidate)) {
        continue;
      }
      for (const auto& c : target.table_columns) {
        if (c.name == names[i] && !c.default_expr && is_insert_value_type(c.type)) {
          candidates.push_back(i);
        }
      }
    }
    for (size_t i : candidates) {
      m_candidates.push_back(names[i]);
    }
    std::vector<std::vector<size_t>> subsets;
    if (!candidates.empty()) {
      subsets.push_back(candidates);
    }
    if (candidates.size() >= 2 && candidates.size() <= k_max_candidates) {
      for (size_t keep = 0; keep < candidates.size(); ++keep) {
        std::vector<size_t> s;
        for (size_t k = 0; k < candidates.size(); ++k) {
          if (k != keep) {
            s.push_back(candidates[k]);
          }
        }
        subsets.push_back(s);
      }
    }
    const size_t cap = std::max<size_t>(1024, options.exact_cap / k_variant_cap_divisor);
    for (const auto& subset : subsets) {
      for (bool first : {false, true}) {
        if (first && !m_first_is_key_candidate) {
          continue;
        }
        auto v = std::make_unique<Variant>(cap);
        v->mask = m_surrogate;
        std::vector<std::string> key;
        for (size_t i : subset) {
          v->mask[i] = 1;
          key.push_back(names[i]);
        }
        if (first) {
          v->mask[0] = 1;
          key.push_back(names[0]);
        }
        std::sort(key.begin(), key.end());
        v->key = text::join(key, ",");
        m_variants.push_back(std::move(v));
      }
    }
    if (m_first_is_key_candidate) {
      m_first_name = names[0];
    }
  }

  void rows(std::string_view block, uint64_t first_line) override {
    if (m_decode) {
      decoded_input(block, first_line, false);
      return;
    }
    hash_rows<false>(block, first_line, nullptr);
  }

  // The reader's pass and this one in one: the rows up to a "\." line or a line with a NUL
  // byte, counted as rows() counts them, and what io::scan_block() would say of the block.
  bool scan_rows(std::string_view block, uint64_t first_line, io::BlockScan& scan) override {
    if (m_decode) {
      return false;
    }
    scan = io::BlockScan{};
    hash_rows<true>(block, first_line, &scan);
    return true;
  }

  void long_row(std::string_view piece, uint64_t line, bool last) override {
    if (m_decode) {
      decoded_input(piece, line, last);
      return;
    }
    if (last && !piece.empty() && piece.back() == '\r') {
      piece.remove_suffix(1);  // a CRLF line end (see hash_rows)
    }
    if (!m_long_active) {
      m_long_active = true;
      m_long_line = line;
      m_long_bytes = 0;
      m_long_hash.start(m_surrogate, false);
      if (m_first_is_key_candidate) {
        m_long_without_first.start(m_surrogate, true);
      }
    }
    m_long_hash.feed(piece);
    if (m_first_is_key_candidate) {
      m_long_without_first.feed(piece);
    }
    keep_long_text(piece);
    if (last) {
      std::optional<uint64_t> without_first;
      if (m_first_is_key_candidate) {
        without_first = m_long_without_first.finish();
      }
      row(m_long, m_long_hash.finish(), m_long_line, without_first, !m_long_too_big);
      end_long_row();
    }
  }

  void end(bool, uint64_t, store::TableStatsFact& stats) override {
    // A record still open here is one the input ended inside (within quotes): the reader
    // does not count it as a row either, and reports the truncation.
    m_record.clear();
    m_record_started = false;
    if (m_long_active) {
      m_long_too_big = false;
      end_long_row();
    }
    if (m_too_long > 0) {
      store::ProblemFact p;
      p.severity = "warning";
      p.code = "copy-row-too-long";
      p.line = static_cast<int64_t>(m_first_too_long);
      p.message = fmt::format(
          "{} row{} of the COPY data of {} {} longer than {} MiB (the first at line {}, {} "
          "bytes): counted in the table statistics{}, but not stored in table_row",
          m_too_long, m_too_long == 1 ? "" : "s", m_target, m_too_long == 1 ? "is" : "are",
          k_long_row_cap >> 20, m_first_too_long, m_first_too_long_bytes,
          m_decode ? " (compared by their raw text, all columns)" : "");
      m_out.add(p);
    }
    end_stats(stats);
  }

 private:
  // The text of a long row, kept while it is under the cap; past it only the start is kept
  // (for a sample), and the row is counted from its streamed hash.
  void keep_long_text(std::string_view piece) {
    m_long_bytes += piece.size();
    if (!m_long_too_big && m_long.size() + piece.size() <= k_long_row_cap) {
      m_long.append(piece);
      return;
    }
    if (!m_long_too_big) {
      m_long_too_big = true;
      std::string head = m_long.substr(0, k_sample_bytes);
      m_long.swap(head);  // the memory goes back
    }
    if (m_long.size() < k_sample_bytes) {
      m_long.append(piece.substr(0, k_sample_bytes - m_long.size()));
    }
  }

  void end_long_row() {
    if (m_long_too_big) {
      if (m_too_long++ == 0) {
        m_first_too_long = m_long_line;
        m_first_too_long_bytes = m_long_bytes;
      }
    }
    m_long.clear();
    if (m_long.capacity() > (4u << 20)) {
      std::string().swap(m_long);
    }
    m_long_too_big = false;
    m_long_active = false;
  }

  // Decoded formats: the bytes of the COPY data, in order (rows() gives whole lines with
  // their newline, long_row() pieces of a line whose newline is implied by `last`), cut
  // into records: at a newline, outside quotes for CSV.
  void decoded_input(std::string_view data, uint64_t line, bool line_ends) {
    for (size_t i = 0; i < data.size(); ++i) {
      char c = data[i];
      if (!m_record_started) {
        m_record_started = true;
        m_record_line = line;
      }
      if (c == '\n') {
        ++line;
        if (!m_in_quotes) {
          end_record();
          continue;
        }
      }
      csv_track(c);
      record_append(c);
    }
    if (line_ends) {
      if (!m_record_started) {
        m_record_started = true;
        m_record_line = line;
      }
      if (!m_in_quotes) {
        end_record();
      } else {
        record_append('\n');
      }
    }
  }

  // The quote state of a CSV record, as the server's line reader follows it.
  void csv_track(char c) {
    if (!m_csv) {
      return;
    }
    if (m_in_quotes) {
      if (m_escape_pending) {
        m_escape_pending = false;
        if (c == m_quote || c == m_escape) {
          return;
        }
      }
      if (m_escape != m_quote && c == m_escape) {
        m_escape_pending = true;
      } else if (c == m_quote) {
        m_in_quotes = false;
      }
    } else if (c == m_quote) {
      m_in_quotes = true;
    }
  }

  void record_append(char c) {
    ++m_record_bytes;
    if (m_record.size() < k_long_row_cap) {
      m_record += c;
      return;
    }
    // Too long to keep: from here on the record is hashed, raw, as it goes by.
    if (!m_record_raw) {
      m_record_raw = true;
      XXH3_64bits_reset_withSeed(&m_raw_state, 0x435356);
      XXH3_64bits_update(&m_raw_state, m_record.data(), m_record.size());
      m_record.resize(k_sample_bytes);
      m_record.shrink_to_fit();
    }
    XXH3_64bits_update(&m_raw_state, &c, 1);
  }

  void end_record() {
    if (!m_record.empty() && m_record.back() == '\r' && !m_record_raw) {
      m_record.pop_back();  // CRLF line ends, which the server accepts as well
    }
    if (m_skip_header) {
      m_skip_header = false;
    } else if (m_record_raw) {
      if (m_too_long++ == 0) {
        m_first_too_long = m_record_line;
        m_first_too_long_bytes = m_record_bytes;
      }
      uint64_t hash = XXH3_64bits_digest(&m_raw_state);
      row(m_record, hash, m_record_line, hash, false);
    } else {
      std::vector<CopyField> fields =
          m_csv ? decode_csv_record(m_record, m_delimiter, m_quote, m_escape, m_null)
                : decode_copy_row(m_record, m_delimiter, m_null);
      m_canonical.clear();
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) {
          m_canonical += '\t';
        }
        encode_copy_field(fields[i], m_canonical);
      }
      row(m_canonical, m_record_line);
    }
    m_record.clear();
    m_record_started = false;
    m_record_raw = false;
    m_record_bytes = 0;
    m_in_quotes = false;
    m_escape_pending = false;
  }

  static std::string qualified_name(const CopyTarget& t) {
    return t.schema.empty() ? t.table : t.schema + "." + t.table;
  }

  // The section's figures, into its table_stats row.
  void end_stats(store::TableStatsFact& stats) {
    stats.distinct_rows = static_cast<int64_t>(m_counter.distinct());
    stats.repeated_rows = static_cast<int64_t>(m_counter.repeated_values());
    stats.distinct_method = m_counter.exact() ? "exact" : "sketch";
    if (!m_ignored.empty()) {
      stats.ignored_columns = m_ignored;
    }
    if (m_first_is_key_candidate) {
      stats.distinct_without_first = static_cast<int64_t>(m_without_first.distinct());
    }
    nlohmann::json top = nlohmann::json::array();
    for (const auto& g : m_counter.top(5)) {
      nlohmann::json entry{{"count", g.count}, {"line", g.first_line}};
      for (const auto& [hash, sample] : m_samples) {
        if (hash == g.hash) {
          entry["row"] = sample;
        }
      }
      top.push_back(entry);
    }
    if (!top.empty()) {
      stats.top_rows = top.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    stats.stored_rows = static_cast<int64_t>(m_stored);
    // The counts leaving out more columns, each with its dominant multiplicity.
    auto entry = [](const io::DistinctCounter& c) {
      nlohmann::json e = nlohmann::json::array({c.distinct(), nullptr, nullptr});
      if (auto level = c.dominant_level()) {
        e[1] = level->count;
        e[2] = level->values;
      }
      return e;
    };
    nlohmann::json counts = nlohmann::json::object();
    counts[""] = entry(m_counter);
    if (m_first_is_key_candidate) {
      counts[m_first_name] = entry(m_without_first);
    }
    if (!m_variants_partial) {
      for (const auto& v : m_variants) {
        if (!v->dropped) {
          counts[v->key] = entry(v->counter);
        }
      }
    }
    nlohmann::json variants{{"candidates", m_candidates}, {"counts", counts}};
    stats.variants = variants.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

 private:
  bool surrogate(size_t field) const { return field < m_surrogate.size() && m_surrogate[field]; }

  // One pass over the block finds the tabs and newlines together, 64 bytes at a time, and
  // hashes each row as its fields go by, exactly as hash_of_fields_from() does. With
  // `Scan` (scan_rows()), the same pass does the reader's scan (io::scan_block()): it stops
  // at a line that begins with "\." or holds a NUL byte, before taking that line, and
  // fills `scan` (non_ascii may also be set by bytes of the 64 where it stopped that come
  // after the stop: it only asks for a closer look).
  template <bool Scan>
  void hash_rows(std::string_view block, uint64_t first_line, io::BlockScan* scan) {
    const char* base = block.data();
    const size_t n = block.size();
    m_batch.clear();  // (rows left by a call that threw are gone with it)
    uint64_t line = first_line;
    size_t row_start = 0;
    size_t field = 0;
    size_t run_start = 0;
    bool in_run = false;
    uint64_t hash = 0;
    auto start_row = [&](size_t at) {
      row_start = at;
      field = 0;
      hash = 0;
      in_run = !surrogate(0);
      run_start = at;
    };
    auto end_row = [&](size_t at) {
      // A CRLF line end (a dump edited on Windows): the server reads COPY's text format
      // with its '\r' as part of the line end, not of the last field (the data itself
      // writes a carriage return as \r).
      if (at > row_start && base[at - 1] == '\r') {
        --at;
      }
      if (in_run) {
        hash = XXH3_64bits_withSeed(base + run_start, at - run_start, hash + 1);
      }
      enqueue(std::string_view(base + row_start, at - row_start), hash, line++);
    };
    // Whether a line starting at `at` is the end of the data.
    auto stops_at = [&](size_t at) {
      return at + 1 < n && base[at] == '\\' && base[at + 1] == '.';
    };
    if constexpr (Scan) {
      if (stops_at(0)) {
        scan->stop = 0;
        return;
      }
    }
    bool stopped = false;
    start_row(0);
    for (size_t chunk = 0; chunk < n && !stopped; chunk += 64) {
      uint64_t mask;
      size_t limit = n;  // Scan: the first NUL byte
      if constexpr (Scan) {
        uint64_t nul = 0;
        if (chunk + 64 <= n) {
          mask = separators64_scan(base + chunk, nul, scan->non_ascii);
        } else {
          mask = separators_tail_scan(base + chunk, n - chunk, nul, scan->non_ascii);
        }
        if (nul != 0) {
          limit = chunk + static_cast<size_t>(std::countr_zero(nul));
          mask &= (uint64_t{1} << (limit - chunk)) - 1;  // (limit - chunk < 64)
        }
      } else {
        mask =
            chunk + 64 <= n ? separators64(base + chunk) : separators_tail(base + chunk, n - chunk);
      }
      while (mask != 0) {
        size_t at = chunk + static_cast<size_t>(std::countr_zero(mask));
        mask &= mask - 1;
        if (base[at] == '\t') {
          // Field `field + 1` starts after this tab.
          if (surrogate(++field)) {
            if (in_run) {
              hash = XXH3_64bits_withSeed(base + run_start, at - run_start, hash + 1);
              in_run = false;
            }
          } else if (!in_run) {
            run_start = at + 1;
            in_run = true;
          }
        } else {
          end_row(at);
          start_row(at + 1);
          if constexpr (Scan) {
            if (stops_at(at + 1)) {
              scan->stop = at + 1;
              stopped = true;
              break;
            }
          }
        }
      }
      if constexpr (Scan) {
        if (!stopped && limit < n) {
          // The line of the NUL byte is not taken: the reader reports it.
          scan->has_nul = true;
          scan->stop = row_start;
          stopped = true;
        }
      }
    }
    if (!stopped && row_start < n) {
      end_row(n);  // a last row without its newline
    }
    if constexpr (Scan) {
      scan->newlines = line - first_line;
      if (!stopped && row_start < n) {
        --scan->newlines;  // that last row had no newline
      }
    }
    count_batch();
  }

  // Rows wait in a batch between their hashing and their counting (see k_batch).
  void enqueue(std::string_view text, uint64_t hash, uint64_t line) {
    m_batch.text.push_back(text);
    m_batch.hash.push_back(hash);
    m_batch.line.push_back(line);
    if (m_batch.text.size() == k_batch) {
      count_batch();
    }
  }

  // Counts the batch in both counters (they are independent: counting one before the
  // other changes nothing), then finishes each row in order, as row() does.
  void count_batch() {
    const size_t n = m_batch.text.size();
    m_batch.count.resize(n);
    m_counter.add_batch(m_batch.hash.data(), m_batch.line.data(), m_batch.count.data(), n);
    if (m_first_is_key_candidate) {
      m_batch.without_first.resize(n);
      for (size_t i = 0; i < n; ++i) {
        m_batch.without_first[i] = hash_without_first(m_batch.text[i]);
      }
      // (The counts are not needed: the sample rows are those of the whole rows' counter.)
      m_without_first.add_batch(m_batch.without_first.data(), m_batch.line.data(),
                                m_batch.count_without_first(n), n);
    }
    for (auto& v : m_variants) {
      if (v->dropped) {
        continue;
      }
      m_batch.without_first.resize(n);
      for (size_t i = 0; i < n; ++i) {
        m_batch.without_first[i] = hash_of_fields_from(m_batch.text[i], 0, 0, v->mask);
      }
      v->counter.add_batch(m_batch.without_first.data(), m_batch.line.data(),
                           m_batch.count_without_first(n), n);
      v->dropped = !v->counter.exact();
    }
    for (size_t i = 0; i < n; ++i) {
      finish_row(m_batch.text[i], m_batch.hash[i], m_batch.line[i], m_batch.count[i], true);
    }
    m_batch.clear();
  }

  void row(std::string_view text, uint64_t line) {
    row(text, hash_of_fields_from(text, 0, 0), line);
  }

  void row(std::string_view text, uint64_t hash, uint64_t line) {
    row(text, hash, line, std::nullopt, true);
  }

  // Counts one row. `text` is the row in text format, or only its start when `whole` is
  // false (a row too long to keep: it is counted, not stored); `without_first` is the hash
  // of the row without its first column, when the caller has it.
  void row(std::string_view text, uint64_t hash, uint64_t line,
           std::optional<uint64_t> without_first, bool whole) {
    counted(text, hash, line, m_counter.add(hash, line), without_first, whole);
  }

  // The rest of row(), once the row is counted (`count`: what the counter's add() returned).
  void counted(std::string_view text, uint64_t hash, uint64_t line, uint32_t count,
               std::optional<uint64_t> without_first, bool whole) {
    if (m_first_is_key_candidate) {
      m_without_first.add(without_first ? *without_first : hash_without_first(text), line);
    }
    if (!whole) {
      m_variants_partial = true;  // (a row whose text is not kept: those counts are not given)
    } else {
      for (auto& v : m_variants) {
        if (!v->dropped) {
          v->counter.add(hash_of_fields_from(text, 0, 0, v->mask), line);
          v->dropped = !v->counter.exact();
        }
      }
    }
    finish_row(text, hash, line, count, whole);
  }

  // The hash of a row without its first column (0 for a row of one field).
  uint64_t hash_without_first(std::string_view text) const {
    size_t tab = text.find('\t');
    return tab == std::string_view::npos ? 0 : hash_of_fields_from(text, tab + 1, 1);
  }

  // A counted row's sample and stored row.
  void finish_row(std::string_view text, uint64_t hash, uint64_t line, uint32_t count, bool whole) {
    if (count == 2 && m_samples.size() < k_samples) {
      m_samples.emplace_back(hash, std::string(text.substr(0, k_sample_bytes)));
    }
    if (whole && m_stored < m_options.stored_rows) {
      store_row(text, line);
    }
  }

  // Hashes the runs of kept fields from byte `from` (field number `field`) on, each run
  // chained into the next by the seed, so that equal rows hash equal and the left-out
  // fields play no part.
  uint64_t hash_of_fields_from(std::string_view text, size_t from, size_t field) const {
    return hash_of_fields_from(text, from, field, m_surrogate);
  }

  // The same, leaving out the fields `mask` marks.
  static uint64_t hash_of_fields_from(std::string_view text, size_t from, size_t field,
                                      const std::vector<uint8_t>& mask) {
    auto surrogate = [&mask](size_t f) { return f < mask.size() && mask[f]; };
    uint64_t hash = 0;
    size_t pos = from;
    size_t run_start = from;
    bool in_run = false;
    const size_t n = text.size();
    for (;;) {
      const void* tab = pos < n ? std::memchr(text.data() + pos, '\t', n - pos) : nullptr;
      size_t field_end = tab ? static_cast<size_t>(static_cast<const char*>(tab) - text.data()) : n;
      if (surrogate(field)) {
        if (in_run) {
          hash = XXH3_64bits_withSeed(text.data() + run_start, pos - 1 - run_start, hash + 1);
          in_run = false;
        }
      } else if (!in_run) {
        run_start = pos;
        in_run = true;
      }
      if (!tab) {
        break;
      }
      pos = field_end + 1;
      ++field;
    }
    if (in_run) {
      hash = XXH3_64bits_withSeed(text.data() + run_start, n - run_start, hash + 1);
    }
    return hash;
  }

  void store_row(std::string_view text, uint64_t line) {
    store::TableRowFact r;
    r.section = m_section;
    r.line = static_cast<int64_t>(line);
    r.row_values = json_row::encode(decode_copy_row(text));
    m_out.add(r);
    ++m_stored;
  }

  store::FactWriter& m_out;
  const CopyStatsOptions& m_options;
  int64_t m_section;
  std::string m_target;              // schema.table, for messages
  std::vector<uint8_t> m_surrogate;  // per field in COPY order: 1 when left out
  bool m_first_is_key_candidate = false;
  std::string m_ignored;
  io::DistinctCounter m_counter;
  io::DistinctCounter m_without_first;
  // Counts leaving out more columns (see k_max_candidates).
  struct Variant {
    explicit Variant(size_t cap) : counter(cap) {}
    std::string key;  // the further columns left out, sorted, comma-separated
    std::vector<uint8_t> mask;
    io::DistinctCounter counter;
    // Past its exact cap: no longer counted (hashing every row again and keeping a sketch
    // cost the ingest of a large table about a third more CPU), and not given: the rule
    // then counts the columns it leaves out as data, as it did before these counts.
    bool dropped = false;
  };
  std::vector<std::string> m_candidates;
  std::string m_first_name;
  std::vector<std::unique_ptr<Variant>> m_variants;
  bool m_variants_partial = false;
  std::vector<std::pair<uint64_t, std::string>> m_samples;
  struct Batch {
    std::vector<std::string_view> text;
    std::vector<uint64_t> hash;
    std::vector<uint64_t> line;
    std::vector<uint32_t> count;
    std::vector<uint64_t> without_first;
    std::vector<uint32_t> counts_without_first;
    uint32_t* count_without_first(size_t n) {
      counts_without_first.resize(n);
      return counts_without_first.data();
    }
    void clear() {
      text.clear();
      hash.clear();
      line.clear();
    }
  };
  Batch m_batch;
  // A row arriving in pieces (long_row).
  std::string m_long;
  bool m_long_active = false;
  bool m_long_too_big = false;
  uint64_t m_long_line = 0;
  uint64_t m_long_bytes = 0;
  StreamHash m_long_hash;
  StreamHash m_long_without_first;
  // Rows over k_long_row_cap: counted, not stored (end() warns).
  uint64_t m_too_long = 0;
  uint64_t m_first_too_long = 0;
  uint64_t m_first_too_long_bytes = 0;
  size_t m_stored = 0;
  // Decoded formats (CSV, or text with other options).
  bool m_decode = false;
  bool m_csv = false;
  bool m_skip_header = false;
  char m_delimiter = '\t';
  char m_quote = '"';
  char m_escape = '"';
  std::string m_null;
  std::string m_record;  // the record so far, raw
  std::string m_canonical;
  bool m_record_started = false;
  bool m_record_raw = false;  // over the cap: hashed raw in m_raw_state
  uint64_t m_record_line = 0;
  uint64_t m_record_bytes = 0;
  bool m_in_quotes = false;
  bool m_escape_pending = false;
  XXH3_state_t m_raw_state;
};

}  // namespace

bool may_be_application_key(const store::ColumnFact& c) {
  return (is_integer_type(c.type) || c.type == "uuid") && !c.default_expr;
}

std::string surrogate_reason(const store::ColumnFact& c) {
  if (c.identity) {
    return "identity";
  }
  if (c.default_expr && text::istarts_with(*c.default_expr, "nextval(")) {
    return "nextval default";
  }
  if (c.default_expr) {
    std::string d = text::lower(*c.default_expr);
    // A value drawn at random for each row (a uuid key, a random code) tells rows apart
    // and nothing else.
    for (const char* r :
         {"gen_random_uuid()", "uuid_generate_v1", "uuid_generate_v4()", "random()"}) {
      if (d.find(r) != std::string::npos) {
        return "random default";
      }
    }
    bool time_type = c.type.find("timestamp") != std::string::npos || c.type == "date";
    // The string 'now' (or 'today') cast at run time, as in ('now'::text)::date: a dump
    // made with standard_conforming_strings off writes it E'now' (the literal's E prefix
    // is dropped before comparing).
    std::string plain;
    plain.reserve(d.size());
    for (size_t i = 0; i < d.size(); ++i) {
      bool starts_word = i == 0 || !(std::isalnum(static_cast<unsigned char>(d[i - 1])) ||
                                     d[i - 1] == '_' || d[i - 1] == '$');
      if (d[i] == 'e' && starts_word && i + 1 < d.size() && d[i + 1] == '\'') {
        continue;
      }
      plain += d[i];
    }
    static const char* k_now[] = {"now()",
                                  "current_timestamp",
                                  "statement_timestamp()",
                                  "clock_timestamp()",
                                  "transaction_timestamp()",
                                  "localtimestamp",
                                  "current_date",
                                  "'now'::",
                                  "'today'::"};
    for (const char* n : k_now) {
      if (time_type && plain.find(n) != std::string::npos) {
        return "insert time";
      }
    }
  }
  return {};
}

std::unique_ptr<CopyConsumer> make_copy_stats(const CopyTarget& target, store::FactWriter& out,
                                              const CopyStatsOptions& options) {
  return std::make_unique<CopyStats>(target, out, options);
}

}  // namespace dbautopsy::pgdump
