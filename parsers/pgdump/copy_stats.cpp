#include "pgdump/copy_stats.hpp"

#include <xxhash.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>

#include "base/text.hpp"
#include "io/distinct.hpp"
#include "pgdump/copy_text.hpp"

namespace dbautopsy::pgdump {

namespace {

constexpr size_t k_long_row_cap = 64u << 20;  // a longer row is counted, not hashed
constexpr size_t k_samples = 16;              // sample texts of repeated rows kept

bool is_integer_type(const std::string& t) {
  return t == "integer" || t == "bigint" || t == "smallint";
}

class CopyStats final : public CopyConsumer {
 public:
  CopyStats(const CopyTarget& target, store::FactWriter& out, const CopyStatsOptions& options)
      : m_out(out),
        m_options(options),
        m_section(target.section),
        m_counter(options.exact_cap),
        m_without_first(options.exact_cap) {
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
        if (spec == names[i] || spec == target.table + "." + names[i] ||
            spec == target.schema + "." + target.table + "." + names[i]) {
          why = "--ignore-columns";
        }
      }
      m_surrogate.push_back(!why.empty());
      if (!why.empty()) {
        ignored.push_back(fmt::format("{} ({})", names[i], why));
      }
      if (i == 0 && why.empty() && fact && is_integer_type(fact->type) && !fact->default_expr) {
        m_first_is_key_candidate = true;
      }
    }
    m_ignored = text::join(ignored, ", ");
  }

  void rows(std::string_view block, uint64_t first_line) override {
    uint64_t line = first_line;
    const char* p = block.data();
    const char* end = p + block.size();
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
      if (nl == nullptr) {
        nl = end;
      }
      row(std::string_view(p, static_cast<size_t>(nl - p)), line++);
      p = nl + 1;
    }
  }

  void long_row(std::string_view piece, uint64_t line, bool last) override {
    if (m_long.size() + piece.size() <= k_long_row_cap) {
      m_long.append(piece);
    } else {
      m_long_too_big = true;
    }
    if (last) {
      if (!m_long_too_big) {
        row(m_long, line);
      } else {
        ++m_unhashed;
      }
      m_long.clear();
      m_long_too_big = false;
    }
  }

  void end(bool, uint64_t, store::TableStatsFact& stats) override {
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
  }

 private:
  void row(std::string_view text, uint64_t line) {
    uint64_t hash = hash_of_fields_from(text, 0, 0);
    uint32_t count = m_counter.add(hash, line);
    if (m_first_is_key_candidate) {
      size_t tab = text.find('\t');
      m_without_first.add(tab == std::string_view::npos ? 0 : hash_of_fields_from(text, tab + 1, 1),
                          line);
    }
    if (count == 2 && m_samples.size() < k_samples) {
      m_samples.emplace_back(hash, std::string(text.substr(0, 2000)));
    }
    if (m_stored < m_options.stored_rows) {
      store_row(text, line);
    }
  }

  // Hashes the runs of kept fields from byte `from` (field number `field`) on, each run
  // chained into the next by the seed, so that equal rows hash equal and the left-out
  // fields play no part.
  uint64_t hash_of_fields_from(std::string_view text, size_t from, size_t field) const {
    uint64_t hash = 0;
    size_t pos = from;
    size_t run_start = from;
    bool in_run = false;
    const size_t n = text.size();
    for (;;) {
      const void* tab = pos < n ? std::memchr(text.data() + pos, '\t', n - pos) : nullptr;
      size_t field_end = tab ? static_cast<size_t>(static_cast<const char*>(tab) - text.data()) : n;
      bool surrogate = field < m_surrogate.size() && m_surrogate[field];
      if (surrogate) {
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
    nlohmann::json values = nlohmann::json::array();
    for (auto& f : decode_copy_row(text)) {
      values.push_back(f ? nlohmann::json(*f) : nlohmann::json());
    }
    store::TableRowFact r;
    r.section = m_section;
    r.line = static_cast<int64_t>(line);
    r.row_values = values.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    m_out.add(r);
    ++m_stored;
  }

  store::FactWriter& m_out;
  const CopyStatsOptions& m_options;
  int64_t m_section;
  std::vector<bool> m_surrogate;
  bool m_first_is_key_candidate = false;
  std::string m_ignored;
  io::DistinctCounter m_counter;
  io::DistinctCounter m_without_first;
  std::vector<std::pair<uint64_t, std::string>> m_samples;
  std::string m_long;
  bool m_long_too_big = false;
  uint64_t m_unhashed = 0;
  size_t m_stored = 0;
};

}  // namespace

std::string surrogate_reason(const store::ColumnFact& c) {
  if (c.identity) {
    return "identity";
  }
  if (c.default_expr && text::istarts_with(*c.default_expr, "nextval(")) {
    return "nextval default";
  }
  if (c.default_expr) {
    std::string d = text::lower(*c.default_expr);
    bool time_type = c.type.find("timestamp") != std::string::npos || c.type == "date";
    static const char* k_now[] = {"now()",
                                  "current_timestamp",
                                  "statement_timestamp()",
                                  "clock_timestamp()",
                                  "transaction_timestamp()",
                                  "localtimestamp",
                                  "current_date",
                                  "('now'::text)"};
    for (const char* n : k_now) {
      if (time_type && d.find(n) != std::string::npos) {
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
