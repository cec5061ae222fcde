#include "cli/output.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace dbautopsy::cli {

namespace {

// Display width of UTF-8 text, counting code points (good enough for names and values).
size_t width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) {
      ++w;
    }
  }
  return w;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) {
    return s;
  }
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

ResultSet run_query(store::Store& store, const std::string& sql, bool read_only) {
  ResultSet rs;
  store::Statement st = read_only ? store.prepare_read_only(sql, "the SQL") : store.prepare(sql);
  int n = st.column_count();
  for (int i = 0; i < n; ++i) {
    rs.columns.push_back(st.column_name(i));
  }
  rs.numeric.assign(static_cast<size_t>(n), true);
  std::vector<bool> seen(static_cast<size_t>(n), false);
  while (st.step()) {
    std::vector<std::optional<std::string>> row;
    for (int i = 0; i < n; ++i) {
      int type = st.column_type(i);
      if (type == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
        continue;
      }
      seen[static_cast<size_t>(i)] = true;
      if (type != SQLITE_INTEGER && type != SQLITE_FLOAT) {
        rs.numeric[static_cast<size_t>(i)] = false;
      }
      row.emplace_back(st.get_text(i));
    }
    rs.rows.push_back(std::move(row));
  }
  for (int i = 0; i < n; ++i) {
    if (!seen[static_cast<size_t>(i)]) {
      rs.numeric[static_cast<size_t>(i)] = false;
    }
  }
  return rs;
}

void print_table(std::ostream& out, const ResultSet& rs) {
  std::vector<size_t> widths;
  for (const auto& c : rs.columns) {
    widths.push_back(width(c));
  }
  for (const auto& row : rs.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], width(row[i].value_or("")));
    }
  }
  auto pad = [](const std::string& s, size_t w, bool right) {
    std::string fill(w > width(s) ? w - width(s) : 0, ' ');
    return right ? fill + s : s + fill;
  };
  for (size_t i = 0; i < rs.columns.size(); ++i) {
    out << (i ? " | " : " ") << pad(rs.columns[i], widths[i], false);
  }
  out << "\n";
  for (size_t i = 0; i < rs.columns.size(); ++i) {
    out << (i ? "-+-" : "-") << std::string(widths[i], '-');
  }
  out << "-\n";
  for (const auto& row : rs.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << (i ? " | " : " ") << pad(row[i].value_or(""), widths[i], rs.numeric[i]);
    }
    out << "\n";
  }
  out << fmt::format("({} row{})\n", rs.rows.size(), rs.rows.size() == 1 ? "" : "s");
}

void print_csv(std::ostream& out, const ResultSet& rs) {
  for (size_t i = 0; i < rs.columns.size(); ++i) {
    out << (i ? "," : "") << csv_field(rs.columns[i]);
  }
  out << "\n";
  for (const auto& row : rs.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out << (i ? "," : "") << (row[i] ? csv_field(*row[i]) : "");
    }
    out << "\n";
  }
}

void print_json(std::ostream& out, const ResultSet& rs) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const auto& row : rs.rows) {
    nlohmann::ordered_json obj = nlohmann::ordered_json::object();
    for (size_t i = 0; i < row.size(); ++i) {
      if (!row[i]) {
        obj[rs.columns[i]] = nullptr;
      } else if (rs.numeric[i]) {
        // SQLite writes infinities as "Inf" and "-Inf", which JSON has no number for: text.
        auto number = nlohmann::ordered_json::parse(*row[i], nullptr, false);
        obj[rs.columns[i]] = number.is_discarded() ? nlohmann::ordered_json(*row[i]) : number;
      } else {
        obj[rs.columns[i]] = *row[i];
      }
    }
    arr.push_back(std::move(obj));
  }
  out << arr.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

void print_result(std::ostream& out, const ResultSet& rs, const std::string& format) {
  if (format == "csv") {
    print_csv(out, rs);
  } else if (format == "json") {
    print_json(out, rs);
  } else {
    print_table(out, rs);
  }
}

}  // namespace dbautopsy::cli
