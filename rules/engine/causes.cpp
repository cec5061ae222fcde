// Correlation: findings that share a root cause become one cause, with a narrative an
// investigator can paste into an incident report.
//
//  - drift.table-in-wrong-schema findings whose tables sit in the same schema: one cause,
//    "migrations ran with a search_path starting at <schema>", with the recording window;
//  - a faked migration and the drift findings of its effects: one cause; faked migrations
//    recorded within the same second are one cause, with that as evidence of --fake only
//    where the timing stands apart from how the database recorded its other migrations
//    (otherwise both explanations, --fake or a later DROP by hand, and what tells them apart);
//  - a partially applied migration and its missing objects: one cause per migration;
//  - column mismatches: one cause ("changed outside the migrations");
//  - unexplained tables, pending migrations, unknown records, out-of-order records: one
//    cause each;
//  - anything else: one cause per rule.
// Causes are numbered by severity (errors first), then by kind, then by first finding.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "base/text.hpp"
#include "base/time.hpp"
#include "pgsql/names.hpp"
#include "rules/engine/engine.hpp"

namespace dbautopsy::rules {

namespace {

struct F {
  int64_t id = 0;
  std::string rule, severity, key;
  std::optional<std::string> schema, table, column, index, constraint, migration;
  bool empty_copy = false;  // drift.table-in-wrong-schema: a copy in the intended schema
  bool copy_rows = false;   // ... and that copy holds rows of its own
};

struct Recorded {
  std::optional<std::string> applied_at;
  int64_t position = 0;
  int64_t artifact = 0;
  std::optional<int64_t> line;
  bool has_effects = false;
};

struct Group {
  std::string kind;
  std::string key;
  std::vector<const F*> findings;
  // log.* findings: what the logs show of this cause. Kept apart while the narrative is
  // written from the other findings, then told after it and linked with them.
  std::vector<const F*> logs;
  std::string summary, narrative;
  nlohmann::json evidence = nlohmann::json::array();
  std::optional<std::string> repair;
};

int severity_rank(const std::string& s) {
  return s == "error" ? 0 : s == "warning" ? 1 : 2;
}

int kind_rank(const std::string& k) {
  static const std::vector<std::string> k_order = {
      "wrong-search-path",   "faked-migrations",   "partially-applied", "missing-objects",
      "orphaned-references", "id-remapped",        "duplicate-rows",    "changed-by-hand",
      "unexplained-tables",  "pending-migrations", "migration-history", "log-other-schema",
      "log-absent",          "log-unexplained",    "log-loop",          "etl-log"};
  auto it = std::find(k_order.begin(), k_order.end(), k);
  return it == k_order.end() ? static_cast<int>(k_order.size())
                             : static_cast<int>(it - k_order.begin());
}

std::string second_of(const std::string& t) {
  return t.substr(0, std::min<size_t>(t.size(), 19));
}

// Milliseconds since 1970 of a recording time ("2025-11-03 09:12:05.935+00", ISO "T" and
// "Z" too; the offset is ignored: one database records in one zone), and whether the time
// has a fraction of a second at all. Nothing when it is not such a time.
struct Instant {
  int64_t ms = 0;
  bool fraction = false;
};
std::optional<Instant> instant_of(const std::string& t) {
  auto digits = [&](size_t at, size_t n) -> std::optional<int64_t> {
    if (at + n > t.size()) {
      return std::nullopt;
    }
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') {
        return std::nullopt;
      }
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
       sec = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || t[4] != '-' || t[7] != '-' ||
      (t[10] != ' ' && t[10] != 'T') || t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  // days from civil (Howard Hinnant's algorithm)
  int64_t yy = *y - (*mo <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (*mo + (*mo > 2 ? -3 : 9)) + 2) / 5 + *d - 1;
  int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
  Instant out;
  out.ms = (((days * 24 + *h) * 60 + *mi) * 60 + *sec) * 1000;
  if (t.size() > 19 && t[19] == '.') {
    int64_t scale = 100;
    for (size_t i = 20; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, scale /= 10) {
      out.fraction = true;
      out.ms += (t[i] - '0') * scale;
    }
  }
  return out;
}

std::string list(const std::vector<std::string>& items, size_t max = 12) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) {
    out += (i ? ", " : "") + items[i];
  }
  if (items.size() > max) {
    out += fmt::format(" and {} more", items.size() - max);
  }
  return out;
}

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string object_of(const F& f) {
  if (f.column) {
    return fmt::format("column {}.{}", f.table.value_or("?"), *f.column);
  }
  if (f.index) {
    return fmt::format("index {}", *f.index);
  }
  if (f.constraint) {
    return fmt::format("constraint {} on {}", *f.constraint, f.table.value_or("?"));
  }
  if (f.table) {
    return fmt::format("table {}", *f.table);
  }
  return f.rule;
}

std::string window(const std::vector<std::string>& times) {
  if (times.empty()) {
    return "";
  }
  // Times with their zone (an export made in another session time zone than UTC writes
  // "2025-12-29 11:41:12.935-05") are compared and said in UTC, as the timeline says them.
  std::vector<int64_t> ms;
  for (const auto& t : times) {
    if (auto v = timeutil::parse_ms(t)) {
      ms.push_back(*v);
    }
  }
  if (ms.size() == times.size()) {
    auto [lo, hi] = std::minmax_element(ms.begin(), ms.end());
    auto utc = [](int64_t v) {
      std::string iso = timeutil::iso_utc(v);  // 2024-01-14T19:50:01.123Z
      return iso.substr(0, 10) + " " + iso.substr(11, 8);
    };
    if (utc(*lo) == utc(*hi)) {
      return "at " + utc(*lo) + " UTC";
    }
    return fmt::format("between {} and {} UTC", utc(*lo), utc(*hi));
  }
  auto [lo, hi] = std::minmax_element(times.begin(), times.end());
  if (second_of(*lo) == second_of(*hi)) {
    return "at " + second_of(*lo);
  }
  return fmt::format("between {} and {}", second_of(*lo), second_of(*hi));
}

// Why orphans have no known parent, as the snapshots tell it: `deleted` of the `unknown`
// point at a parent that the snapshot before has and the current one lost.
std::string unknowns_reason(store::Store& store, int64_t unknown, int64_t deleted) {
  store::Statement st = store.prepare("SELECT 1 FROM snapshot WHERE role = 'before'");
  if (!st.step()) {
    return "no snapshot from before the change; the text they mention fits no row, or several";
  }
  std::vector<std::string> parts;
  if (deleted > 0) {
    parts.push_back(fmt::format(
        "{} at parents that the snapshot before has and that were deleted, with no row of the "
        "same natural key now",
        deleted));
  }
  if (unknown > deleted) {
    parts.push_back(fmt::format("{} at ids that neither snapshot has", unknown - deleted));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

// The cause of orphaned references to one parent table (and of the id remappings that
// explain them): a narrative with the numbers, and one guarded UPDATE per child column and
// old id, each with the rows it should touch, then the checks that must return 0.
void references_cause(store::Store& store, const std::string& parent, Group& g) {
  std::string schema = parent.substr(0, parent.find('.'));
  std::string table = parent.substr(parent.find('.') + 1);
  struct Remap {
    std::string old_id, new_id, key;
  };
  std::vector<Remap> remaps;
  {
    store::Statement st = store.prepare(
        "SELECT old_id, new_id, natural_key FROM id_remap WHERE schema_name = ?1 AND table_name = "
        "?2 "
        "ORDER BY CAST(old_id AS INTEGER), old_id");
    st.bind(1, schema);
    st.bind(2, table);
    while (st.step()) {
      remaps.push_back({st.get_text(0), st.get_text(1), st.get_text(2)});
    }
  }
  struct Column {
    std::string schema, table, column, parent_column;
    bool declared = false;
    int64_t rows = 0;
    std::vector<std::tuple<std::string, std::string, int64_t>> moves;  // old, new, rows
    int64_t unknown = 0;
    int64_t deleted = 0;  // of which point at a parent the snapshot before has
    // Rows whose id the re-import gave to another parent (a swap, a sequence reset): only
    // these rows move (by primary key), never every row that holds the value.
    std::vector<std::tuple<std::string, std::string, std::string>> misdirected;  // row, old, new
    int64_t misdirected_unknown = 0;  // of `unknown`: such rows whose parent is gone
  };
  std::vector<Column> columns;
  {
    store::Statement st = store.prepare(R"(
      SELECT o.schema_name, o.table_name, o.column_name, o.parent_column, r.declared, o.value,
             o.suggested_value, sum(o.repeats), max(o.method = 'deleted'),
             o.method = 'misdirected', json_group_array(o.row_id)
        FROM orphan o JOIN ref_inventory r ON r.schema_name = o.schema_name
         AND r.table_name = o.table_name AND r.column_name = o.column_name
       WHERE o.parent_schema = ?1 AND o.parent_table = ?2
       GROUP BY o.schema_name, o.table_name, o.column_name, o.value, o.suggested_value,
                o.method = 'misdirected'
       ORDER BY o.table_name, o.column_name, o.value)");
    st.bind(1, schema);
    st.bind(2, table);
    while (st.step()) {
      std::string key = st.get_text(0) + "." + st.get_text(1) + "." + st.get_text(2);
      if (columns.empty() ||
          columns.back().schema + "." + columns.back().table + "." + columns.back().column != key) {
        columns.push_back(Column{st.get_text(0), st.get_text(1), st.get_text(2), st.get_text(3),
                                 st.get_int(4) != 0});
      }
      Column& c = columns.back();
      int64_t n = st.get_int(7);
      c.rows += n;
      if (st.get_int(9) != 0) {
        auto rows = nlohmann::json::parse(st.get_text(10), nullptr, false);
        for (const auto& row : rows.is_array() ? rows : nlohmann::json::array()) {
          if (row.is_string()) {
            c.misdirected.emplace_back(row.get<std::string>(), st.get_text(5),
                                       st.get_optional_text(6).value_or(""));
          }
        }
        if (st.is_null(6)) {
          c.unknown += n;
          c.misdirected_unknown += n;
        }
      } else if (!st.is_null(6)) {
        c.moves.emplace_back(st.get_text(5), st.get_text(6), n);
      } else {
        c.unknown += n;
        c.deleted += st.get_int(8) != 0 ? n : 0;
      }
    }
  }
  int64_t orphans = 0;
  int64_t unknown = 0;
  int64_t deleted = 0;
  std::vector<std::string> where;
  int64_t taken = 0;  // rows at an id the re-import gave to another row, whose parent is gone
  for (const auto& c : columns) {
    orphans += c.rows;
    unknown += c.unknown - c.misdirected_unknown;
    taken += c.misdirected_unknown;
    deleted += c.deleted;
    where.push_back(fmt::format("{} in {}.{}{}", c.rows, c.table, c.column,
                                c.declared ? "" : " (no FOREIGN KEY)"));
  }
  std::vector<std::string> moved;
  for (const auto& r : remaps) {
    moved.push_back(fmt::format("{} -> {} (natural key {})", r.old_id, r.new_id, r.key));
  }
  if (!remaps.empty()) {
    g.kind = "id-remapped";
    g.summary = fmt::format(
        "the re-import of {} changed {}; {} child {} in {} {} still point at the old ids", table,
        plural(remaps.size(), "id", "ids"), orphans, orphans == 1 ? "row" : "rows", columns.size(),
        columns.size() == 1 ? "table" : "tables");
    g.narrative = fmt::format(
        "Between the snapshot before and the current one, {} of {} kept {} natural key but got "
        "a new id: {}. {} still hold the old {}: {}. This is what an import that deletes and "
        "re-inserts instead of updating in place (an UPSERT on the wrong key, a fallback path) "
        "leaves behind; where no FOREIGN KEY guards the column, the database never complained "
        "and the rows simply vanished from every page that joins them. The repair moves each "
        "orphan to its parent's new id, guarded on the old value, with the number of rows each "
        "statement should touch, and ends with the checks that must return 0.",
        plural(remaps.size(), "row", "rows"), parent, remaps.size() == 1 ? "its" : "their",
        list(moved), plural(static_cast<size_t>(orphans), "row", "rows"),
        remaps.size() == 1 ? "id" : "ids", list(where));
    size_t wrong = 0;
    for (const auto& c : columns) {
      wrong += c.misdirected.size();
    }
    if (wrong > 0) {
      g.narrative += fmt::format(
          " Of those, {} an id that the re-import gave to another row (ids swapped, or a "
          "sequence reset): no join misses them, they show another row's data. The repair moves "
          "those rows by primary key, in one statement per column so that no row moves twice{}.",
          wrong == 1 ? std::string("1 row holds") : fmt::format("{} rows hold", wrong),
          taken == 1  ? std::string("; 1 row whose own parent is gone is left to decide")
          : taken > 1 ? fmt::format("; {} rows whose own parent is gone are left to decide", taken)
                      : std::string());
    }
  } else {
    g.kind = "orphaned-references";
    g.summary = fmt::format("{} child {} in {} {} point at {} ids that do not exist", orphans,
                            orphans == 1 ? "row" : "rows", columns.size(),
                            columns.size() == 1 ? "table" : "tables", table);
    g.narrative = fmt::format(
        "{} refer to {} rows that the current snapshot does not have: {}. {}",
        plural(static_cast<size_t>(orphans), "row", "rows"), parent, list(where),
        unknown == 0
            ? "For each, the parent it should point at is known (see the findings); the repair "
              "moves them."
            : fmt::format("For {} the parent they should point at cannot be told apart from "
                          "the data ({}); those need a person to decide.",
                          plural(static_cast<size_t>(unknown), "row", "rows"),
                          unknowns_reason(store, unknown, deleted)));
  }
  // Comments name tables as read: a line break in a name must not end the comment.
  std::string sql = "-- Orphaned references to " + text::printable(parent) +
                    ". Run in one transaction; each UPDATE should touch the\n"
                    "-- number of rows its comment says: if not, ROLLBACK and look again.\n";
  const std::string parent_sql = pgsql::qualified_one_line(schema, table);
  for (const auto& c : columns) {
    const std::string col = pgsql::quote_ident_one_line(c.column);
    std::optional<std::string> child_pk;
    if (!c.misdirected.empty()) {
      store::Statement pk = store.prepare(
          "SELECT columns FROM current_constraint WHERE schema_name = ?1 AND table_name = ?2 AND "
          "kind = 'p'");
      pk.bind(1, c.schema);
      pk.bind(2, c.table);
      if (pk.step() && pk.get_text(0).find(',') == std::string::npos) {
        child_pk = pk.get_text(0);
      }
    }
    std::vector<std::tuple<std::string, std::string, std::string>> rows_to_move;
    for (const auto& [row, old_id, new_id] : c.misdirected) {
      if (!new_id.empty()) {
        rows_to_move.emplace_back(row, old_id, new_id);
      }
    }
    if (rows_to_move.empty() || !child_pk) {
      for (const auto& [old_id, new_id, n] : c.moves) {
        sql += fmt::format("UPDATE {} SET {} = {} WHERE {} = {}; -- expect {} {}\n",
                           pgsql::qualified_one_line(c.schema, c.table), col,
                           pgsql::quote_literal_one_line(new_id), col,
                           pgsql::quote_literal_one_line(old_id), n, n == 1 ? "row" : "rows");
      }
      if (!rows_to_move.empty()) {
        sql += fmt::format(
            "-- {} {} of {}.{} point at an id the re-import gave to another row; the table has "
            "no single-column primary key to name them by: move them by hand.\n",
            rows_to_move.size(), rows_to_move.size() == 1 ? "row" : "rows",
            text::printable(c.table), text::printable(c.column));
      }
    } else {
      // Some old ids are ids of other rows now (a swap: A has B's old id): UPDATEs one after
      // the other would move a row twice (A -> B, then B -> A). One statement reads every row
      // as it was: each value maps through one CASE, and a row whose value is an id in use is
      // moved only if it is one of the rows known to predate the re-import (by primary key).
      std::vector<std::string> whens;
      std::set<std::string> mapped;
      std::vector<std::string> by_value;
      int64_t n = 0;
      for (const auto& [old_id, new_id, rows] : c.moves) {
        if (mapped.insert(old_id).second) {
          whens.push_back(fmt::format("WHEN {} THEN {}", pgsql::quote_literal_one_line(old_id),
                                      pgsql::quote_literal_one_line(new_id)));
        }
        by_value.push_back(pgsql::quote_literal_one_line(old_id));
        n += rows;
      }
      std::vector<std::string> by_row;
      for (const auto& [row, old_id, new_id] : rows_to_move) {
        if (mapped.insert(old_id).second) {
          whens.push_back(fmt::format("WHEN {} THEN {}", pgsql::quote_literal_one_line(old_id),
                                      pgsql::quote_literal_one_line(new_id)));
        }
        by_row.push_back(fmt::format("({}, {})", pgsql::quote_literal_one_line(row),
                                     pgsql::quote_literal_one_line(old_id)));
        ++n;
      }
      std::vector<std::string> where;
      if (!by_value.empty()) {
        where.push_back(fmt::format("{} IN ({})", col, fmt::join(by_value, ", ")));
      }
      where.push_back(fmt::format("({}, {}) IN ({})", pgsql::quote_ident_one_line(*child_pk), col,
                                  fmt::join(by_row, ", ")));
      sql += fmt::format(
          "-- One statement, so that no row moves twice: {} of these ids are ids of other rows "
          "now.\n",
          rows_to_move.size() == 1 ? "one" : "some");
      sql +=
          fmt::format("UPDATE {} SET {} = CASE {} {} ELSE {} END WHERE {}; -- expect {} {}\n",
                      pgsql::qualified_one_line(c.schema, c.table), col, col, fmt::join(whens, " "),
                      col, fmt::join(where, " OR "), n, n == 1 ? "row" : "rows");
    }
    if (c.misdirected_unknown > 0) {
      std::vector<std::string> rows;
      for (const auto& [row, old_id, new_id] : c.misdirected) {
        if (new_id.empty()) {
          rows.push_back(text::printable(row));
        }
      }
      sql += fmt::format(
          "-- {} {} of {}.{} ({}) point at an id the re-import gave to another row, and their own "
          "parent is gone: decide, or delete them.\n",
          c.misdirected_unknown, c.misdirected_unknown == 1 ? "row" : "rows",
          text::printable(c.table), text::printable(c.column), fmt::join(rows, ", "));
    }
    if (c.unknown > c.misdirected_unknown) {
      int64_t gone = c.unknown - c.misdirected_unknown;
      sql += fmt::format("-- {} {} of {}.{} have no known new parent: decide, or delete them.\n",
                         gone, gone == 1 ? "row" : "rows", text::printable(c.table),
                         text::printable(c.column));
    }
  }
  sql += unknown == 0 ? "-- Checks: each must return 0.\n"
                      : "-- Checks: each must return what its comment says (the orphans no "
                        "parent is known for; 0 once they are decided).\n";
  for (const auto& c : columns) {
    sql += fmt::format(
        "SELECT count(*) FROM {} c WHERE c.{} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {} p "
        "WHERE p.{} = c.{}); -- expect {}\n",
        pgsql::qualified_one_line(c.schema, c.table), pgsql::quote_ident_one_line(c.column),
        parent_sql, pgsql::quote_ident_one_line(c.parent_column),
        pgsql::quote_ident_one_line(c.column), c.unknown - c.misdirected_unknown);
  }
  std::set<std::pair<std::string, std::string>> undeclared;
  for (const auto& c : columns) {
    if (!c.declared) {
      undeclared.emplace(pgsql::qualified_one_line(c.schema, c.table),
                         pgsql::quote_ident_one_line(c.column));
    }
  }
  if (!undeclared.empty()) {
    sql += "-- Then let the database refuse the next orphan:\n";
  }
  for (const auto& [t, col] : undeclared) {
    sql += "-- " +
           text::printable(fmt::format("ALTER TABLE {} ADD FOREIGN KEY ({}) REFERENCES {};", t, col,
                                       parent_sql)) +
           "\n";
  }
  g.repair = sql;
}

void duplicates_cause(store::Store& store, const std::string& table, Group& g) {
  store::Statement st = store.prepare(
      "SELECT json_extract(metrics, '$.rows'), json_extract(metrics, '$.distinct_rows'), "
      "CASE WHEN json_extract(metrics, '$.passes') IS NOT NULL THEN (SELECT group_concat(j.value, "
      "', ') FROM pass_marker m, json_each(m.columns) j WHERE m.schema_name = f.subject_schema AND "
      "m.table_name = f.subject_table) END, json_extract(metrics, '$.exact') FROM finding f "
      "WHERE rule = 'data.duplicate-rows' AND subject_schema || '.' || subject_table = ?1");
  st.bind(1, table);
  int64_t rows = 0;
  int64_t distinct = 1;
  std::optional<std::string> marker;  // the column(s) that mark each pass (pass_marker)
  bool kept_only = false;             // distinct rows counted in the rows kept, not all
  if (st.step()) {
    rows = st.get_int(0);
    distinct = std::max<int64_t>(st.get_int(1), 1);
    marker = st.get_optional_text(2);
    kept_only = st.get_optional_int(3).value_or(1) == 0;
  }
  g.kind = "duplicate-rows";
  g.summary = fmt::format("{} repeats {} rows {} times each: a job inserting in a loop", table,
                          distinct, rows / distinct);
  g.narrative = fmt::format(
      "{} holds {} rows for {} distinct ones: every row was inserted about {} times, differing "
      "only in its surrogate columns (serial id, insert time){}. A job that inserts the same "
      "records again and again -- a backup or ETL step whose completion check never passes, a "
      "retry that is not idempotent -- did this; the table keeps growing until someone stops "
      "it. The repair keeps one row per group in a new table and adds the UNIQUE constraint "
      "that would have refused the copies.",
      table, rows, distinct, rows / distinct,
      marker ? fmt::format(" and in {}, which the job set once per pass{}", *marker,
                           kept_only ? " (the distinct rows are counted in the rows kept for "
                                       "analysis, the first of the table)"
                                     : "")
             : std::string());
}

}  // namespace

// A time for a narrative: 2025-12-29T16:43:05.120Z -> 2025-12-29 16:43:05 UTC.
std::string readable(const std::string& iso) {
  if (iso.size() < 19) {
    return iso;
  }
  return iso.substr(0, 10) + " " + iso.substr(11, 8) + " UTC";
}

// The log findings of a cause, told after its narrative: what production hit, since when and
// how often, on a timeline with the migrations of the cause and the dump. A cause of log
// findings alone (no finding of the dumps explains them) gets its summary here.
void tell_logs(store::Store& store, Group& g, const std::optional<std::string>& dump_taken,
               std::map<std::string, Recorded>& recorded) {
  struct Log {
    std::string rule, message, object;
    std::optional<std::string> first, last;
    int64_t count = 0;
    nlohmann::json evidence;
  };
  std::vector<Log> logs;
  store::Statement st = store.prepare(
      "SELECT rule, message, metrics, evidence, "
      "coalesce(subject_table, '') || coalesce('.' || subject_column, '') "
      "FROM finding WHERE id = ?1");
  for (const F* f : g.logs) {
    st.bind(1, f->id);
    if (st.step()) {
      Log l;
      l.rule = st.get_text(0);
      l.message = st.get_text(1);
      l.object = st.get_text(4);
      auto metrics = nlohmann::json::parse(st.is_null(2) ? "{}" : st.get_text(2), nullptr, false);
      if (metrics.is_object()) {
        if (metrics.contains("first_seen") && metrics["first_seen"].is_string()) {
          l.first = metrics["first_seen"].get<std::string>();
        }
        if (metrics.contains("last_seen") && metrics["last_seen"].is_string()) {
          l.last = metrics["last_seen"].get<std::string>();
        }
        for (const char* k : {"errors", "repeats", "entries"}) {
          if (metrics.contains(k) && metrics[k].is_number_integer()) {
            l.count = metrics[k].get<int64_t>();
          }
        }
      }
      auto evidence = nlohmann::json::parse(st.is_null(3) ? "[]" : st.get_text(3), nullptr, false);
      if (evidence.is_array() && !evidence.empty()) {
        l.evidence = evidence.front();
      }
      logs.push_back(std::move(l));
    }
    st.reset();
  }
  if (logs.empty()) {
    return;
  }
  std::optional<std::string> first, last;
  int64_t errors = 0;
  std::vector<std::string> said;
  for (const auto& l : logs) {
    if (l.first && (!first || *l.first < *first)) {
      first = l.first;
    }
    if (l.last && (!last || *l.last > *last)) {
      last = l.last;
    }
    if (l.rule == "log.missing-object-error") {
      errors += l.count;
    } else {
      said.push_back(l.message);
    }
  }
  // Missing-object errors in one sentence: how many, about which objects, how often each.
  std::vector<std::string> hit;
  size_t objects = 0;
  for (const auto& l : logs) {
    if (l.rule == "log.missing-object-error") {
      ++objects;
      hit.push_back(fmt::format("{} {}", l.object, l.count));
    }
  }
  if (objects > 0) {
    said.insert(said.begin(),
                fmt::format("production hit {} {} (`does not exist` errors: {})",
                            objects == 1 ? std::string("it") : fmt::format("{} of them", objects),
                            errors == 1 ? std::string("once") : fmt::format("{} times", errors),
                            list(hit, 8)));
  }
  // The migrations of the cause, recorded when.
  std::vector<std::string> times;
  store::Statement utc = store.prepare("SELECT utc_time(?1)");
  for (const F* f : g.findings) {
    if (f->migration && recorded.count(*f->migration) && recorded[*f->migration].applied_at) {
      utc.bind(1, *recorded[*f->migration].applied_at);
      if (utc.step() && !utc.is_null(0)) {
        times.push_back(utc.get_text(0));
      }
      utc.reset();
    }
  }
  std::sort(times.begin(), times.end());
  std::vector<std::string> timeline;
  if (!times.empty()) {
    timeline.push_back(readable(times.front()) == readable(times.back())
                           ? "migration recorded " + readable(times.front())
                           : fmt::format("migrations recorded {} ... {}", readable(times.front()),
                                         readable(times.back())));
  }
  if (first) {
    if (errors > 0) {
      timeline.push_back(fmt::format("first missing-object error {}, {} {} up to {}",
                                     readable(*first), errors, errors == 1 ? "error" : "errors",
                                     readable(last.value_or(*first))));
    } else {
      timeline.push_back(fmt::format("first log entry of it {}, last {}", readable(*first),
                                     readable(last.value_or(*first))));
    }
  }
  if (dump_taken) {
    timeline.push_back("dump taken " + readable(*dump_taken));
  }
  std::string told = fmt::format(" What the logs show: {}.", list(said, 6));
  if (timeline.size() > 1) {
    told += " Timeline: " + text::join(timeline, "; ") + ".";
  }
  if (g.findings.empty()) {
    // Log findings alone: nothing in the dumps explains them.
    if (g.kind == "log-unexplained") {
      g.summary = fmt::format("{} in the logs that no finding of the dumps explains",
                              plural(logs.size(), "missing object", "missing objects"));
      g.narrative =
          "The logs show errors about relations or columns that do not exist, and no drift "
          "finding of the dumps explains them: the dump may be older than the log (the object "
          "was created since and the errors stopped), or the object was removed after the "
          "dump, or the errors come from another database than the one dumped. Compare the "
          "errors' times with the dump's." +
          told;
    } else if (g.kind == "log-other-schema") {
      const std::string schema = g.key.substr(g.key.find(':') + 1);
      g.summary = fmt::format("{} the logs miss exist only in schema {} in the dump",
                              plural(logs.size(), "relation", "relations"), schema);
      g.narrative = fmt::format(
          "The statements fail with `relation ... does not exist`, yet the dump has each of "
          "these relations, in schema {} only. PostgreSQL looks an unqualified name up along "
          "the search_path: tables created while it started with {} (migrations run with a "
          "connection option such as `-c search_path={},public`, or a test settings module) "
          "land there, and the application, whose search_path does not hold {}, cannot see "
          "them. Without the migration files that make them, dbautopsy cannot tell which "
          "migrations ran that way; add the migrations folder to the case to find out. Each "
          "finding carries the move, commented out: check first that nothing else uses "
          "schema {}.",
          schema, schema, schema, schema, schema);
      g.narrative += told;
    } else if (g.kind == "log-absent") {
      g.summary = fmt::format("{} in the logs that the dump lacks too",
                              plural(logs.size(), "missing object", "missing objects"));
      g.narrative =
          "The logs show errors about relations or columns that the dump does not have "
          "either, in any schema: they were never created -- a migration recorded as applied "
          "whose DDL never ran (faked), or one never run -- or they were removed before the "
          "dump. Without the migration files that make them, dbautopsy cannot tell which; add "
          "the migrations folder and the django_migrations export to the case to find out." +
          told;
    } else if (g.kind == "log-loop") {
      g.summary = fmt::format("a job repeated one step {} times: a retry loop", logs.front().count);
      g.narrative =
          "A log repeats one step far beyond how often the run logs its other steps: a retry "
          "without a bound, or a success check that never passes. No table of the dumps shows "
          "duplicated rows for it (no dump with the table's data, or the lines name no table)." +
          told;
    } else {
      g.summary = fmt::format("{} of failure in the application or ETL logs",
                              plural(logs.size(), "kind", "kinds"));
      g.narrative =
          "The application or ETL logs report failures that no finding of the dumps names "
          "(none of the ids or tables they mention is in an etl finding)." +
          told;
    }
  } else {
    g.narrative += told;
  }
  for (const auto& l : logs) {
    if (!l.evidence.is_null()) {
      g.evidence.push_back(l.evidence);
    }
  }
}

// What the settings read (db_setting) tell of a wrong-search-path cause: the role's or
// database's search_path that starts with the schema the tables landed in (pg_dumpall's ALTER
// ROLE ... SET, pg_dump --create's ALTER DATABASE ... SET, or the logs'), whether a log shows
// it reset or changed since, and, for each still in place, its RESET, commented out.
struct SettingRow {
  std::string path;
  std::optional<int64_t> line;
  int64_t artifact = 0;
  std::string source, scope, action, name;
  std::optional<std::string> role, database, value, ts, statement;
  std::vector<std::string> schemas;
  bool failed = false;
  std::optional<int64_t> pid;
};

struct SettingsTold {
  std::string narrative;  // sentences to append
  std::string note;       // for the summary: "set for role app"
  nlohmann::json evidence = nlohmann::json::array();
  std::string repair;  // commented-out advice, lines ending in a newline
};

std::string setting_where(const SettingRow& s) {
  // Printable: the place goes into the repair's comments too, which a line break would end.
  std::string at = text::printable(s.path) + (s.line ? fmt::format(":{}", *s.line) : std::string());
  if (s.ts) {
    at += ", " + readable(*s.ts);
  }
  return at;
}

// Whose search_path it is: "role app", "role app in database prod", "database prod", "every
// role", "a session of role app (pid 4711)".
std::string setting_owner(const SettingRow& s) {
  auto name = [](const std::optional<std::string>& n) {
    return n ? text::printable(pgsql::quote_ident(*n)) : std::string("?");
  };
  if (s.scope == "role") {
    return "role " + name(s.role);
  }
  if (s.scope == "role_in_database") {
    return "role " + name(s.role) + " in database " + name(s.database);
  }
  if (s.scope == "database") {
    return "database " + name(s.database);
  }
  if (s.scope == "all_roles") {
    return "every role";
  }
  std::string who = s.scope == "transaction" ? "a transaction" : "a session";
  if (s.role) {
    who += " of role " + name(s.role);
  }
  if (s.database) {
    who += " in database " + name(s.database);
  }
  if (s.pid) {
    who += fmt::format(" (pid {})", *s.pid);
  }
  return who;
}

std::string setting_reset_sql(const SettingRow& s) {
  auto q = [](const std::optional<std::string>& n) {
    return pgsql::quote_ident_one_line(n.value_or(""));
  };
  if (s.scope == "role") {
    return fmt::format("ALTER ROLE {} RESET search_path;", q(s.role));
  }
  if (s.scope == "role_in_database") {
    return fmt::format("ALTER ROLE {} IN DATABASE {} RESET search_path;", q(s.role), q(s.database));
  }
  if (s.scope == "database") {
    return fmt::format("ALTER DATABASE {} RESET search_path;", q(s.database));
  }
  return "ALTER ROLE ALL RESET search_path;";
}

SettingsTold tell_settings(store::Store& store, const std::string& actual) {
  SettingsTold out;
  // The databases the analysis is of: the subject's name (pg_dumpall), else the databases the
  // current snapshot's dump creates (pg_dump --create); none known: any.
  std::set<std::string> databases;
  {
    store::Statement st = store.prepare(
        "SELECT database FROM subject WHERE analysing = 1 AND database IS NOT NULL UNION "
        "SELECT o.name FROM db_object o JOIN snapshot s ON s.role = 'current' AND o.artifact_id "
        "= s.artifact_id WHERE o.kind = 'database' AND NOT EXISTS (SELECT 1 FROM subject WHERE "
        "analysing = 1 AND database IS NOT NULL)");
    while (st.step()) {
      databases.insert(st.get_text(0));
    }
  }
  std::set<std::string> schemas_known;
  {
    store::Statement st = store.prepare(
        "SELECT n.name FROM db_schema n JOIN snapshot s ON s.role = 'current' AND n.artifact_id = "
        "s.artifact_id AND n.db IS s.db");
    while (st.step()) {
      schemas_known.insert(st.get_text(0));
    }
  }
  // Statements an error entry shows (its STATEMENT) by log, process and text, with the last
  // line: a log_statement line of the same statement before it failed.
  std::map<std::tuple<int64_t, int64_t, std::string>, int64_t> failed_at;
  {
    store::Statement st = store.prepare(
        "SELECT artifact_id, pid, statement, max(line) FROM db_setting WHERE failed = 1 AND "
        "source = 'log' AND pid IS NOT NULL AND statement IS NOT NULL AND line IS NOT NULL "
        "GROUP BY artifact_id, pid, statement");
    while (st.step()) {
      failed_at[{st.get_int(0), st.get_int(1), st.get_text(2)}] = st.get_int(3);
    }
  }
  // Role and database settings, and the sessions' that name the schema (a pool setting its
  // path on every connection writes one row per connection): at most k_setting_rows of them.
  constexpr int64_t k_setting_rows = 5000;
  std::vector<SettingRow> rows;
  bool capped = false;
  {
    store::Statement st = store.prepare(
        "SELECT a.path, d.line, d.artifact_id, d.source, d.scope, d.action, d.name, d.role_name, "
        "d.database_name, d.value, d.ts, d.statement, d.schemas, d.failed, d.pid, 0 "
        "FROM db_setting d JOIN artifact a ON a.id = d.artifact_id "
        "WHERE d.name IN ('search_path', 'all') AND (d.scope NOT IN ('session', 'transaction') "
        "OR instr(d.schemas, json_quote(?1)) > 0) "
        "ORDER BY d.scope IN ('session', 'transaction'), d.source = 'log', d.artifact_id, "
        "d.line, d.rowid LIMIT ?2");
    st.bind(1, actual);
    st.bind(2, k_setting_rows + 1);
    while (st.step()) {
      SettingRow r;
      r.path = st.get_text(0);
      r.line = st.get_optional_int(1);
      r.artifact = st.get_int(2);
      r.source = st.get_text(3);
      r.scope = st.get_text(4);
      r.action = st.get_text(5);
      r.name = st.get_text(6);
      r.role = st.get_optional_text(7);
      r.database = st.get_optional_text(8);
      r.value = st.get_optional_text(9);
      r.ts = st.get_optional_text(10);
      r.statement = st.get_optional_text(11);
      if (auto js = st.get_optional_text(12)) {
        auto parsed = nlohmann::json::parse(*js, nullptr, false);
        if (parsed.is_array()) {
          for (const auto& v : parsed) {
            if (v.is_string()) {
              r.schemas.push_back(v.get<std::string>());
            }
          }
        }
      }
      r.pid = st.get_optional_int(14);
      r.failed = st.get_int(13) != 0;
      if (!r.failed && r.source == "log" && r.pid && r.statement && r.line) {
        auto it = failed_at.find({r.artifact, *r.pid, *r.statement});
        r.failed = it != failed_at.end() && it->second > *r.line;
      }
      if (static_cast<int64_t>(rows.size()) == k_setting_rows) {
        capped = true;
        break;
      }
      if (r.failed) {
        continue;  // an error undid it
      }
      if (r.database && !databases.empty() && !databases.count(*r.database)) {
        continue;  // another database's
      }
      rows.push_back(std::move(r));
    }
  }
  // The schema a setting makes tables land in: its first schema, "$user" standing for the
  // role when a schema has its name (PostgreSQL skips "$user" otherwise).
  auto starts_with_actual = [&](const SettingRow& s) {
    if (s.action != "set" || s.name != "search_path") {
      return false;
    }
    for (const auto& schema : s.schemas) {
      if (schema == "$user") {
        if (s.role && *s.role == actual) {
          return true;
        }
        if (s.role && schemas_known.count(*s.role)) {
          return false;
        }
        continue;
      }
      return schema == actual;
    }
    return false;
  };
  auto same_key = [](const SettingRow& a, const SettingRow& b) {
    return a.scope == b.scope && a.role == b.role &&
           (a.scope == "role" || a.scope == "all_roles" || a.database == b.database);
  };
  // Later than: a log entry after a dump's setting (the dump still shows it), or after an
  // earlier entry (by time when both have one, else by line in the same log).
  auto later = [](const SettingRow& a, const SettingRow& b) {
    if (b.source == "dump") {
      return a.source == "log";
    }
    if (a.source != "log") {
      return false;
    }
    if (a.ts && b.ts && *a.ts != *b.ts) {
      return *b.ts < *a.ts;
    }
    return a.artifact == b.artifact && a.line && b.line && *b.line < *a.line;
  };
  // Claims, one per setting and what became of it: the same setting shown by the dump and by
  // the log is one claim with both places.
  struct Claim {
    std::string head, tail;
    std::vector<std::string> places;
  };
  std::vector<Claim> claims;
  std::set<std::string> repaired;
  std::vector<Claim> others;
  bool any_setting = false;  // a role's or database's, not only a session's
  int sessions_told = 0;
  int64_t sessions_more = 0;
  auto quoted_statement = [](const SettingRow& s) {
    std::string st = s.statement.value_or("?");
    while (!st.empty() && (st.back() == ';' || st.back() == ' ')) {
      st.pop_back();
    }
    return "`" + st + "`";
  };
  auto place = [&](const SettingRow& s) { return quoted_statement(s) + " at " + setting_where(s); };
  auto evidence_of = [](const SettingRow& s) {
    return nlohmann::json{{"artifact", s.path},
                          {"line", s.line ? nlohmann::json(*s.line) : nlohmann::json(nullptr)},
                          {"text", s.statement.value_or("")}};
  };
  for (const SettingRow& s : rows) {
    if (s.name != "search_path" || s.action != "set") {
      continue;
    }
    bool session = s.scope == "session" || s.scope == "transaction";
    if (!starts_with_actual(s)) {
      if (!session) {
        std::string head =
            fmt::format("{}: {}", setting_owner(s), s.value ? text::printable(*s.value) : "?");
        auto same = std::find_if(others.begin(), others.end(),
                                 [&](const Claim& o) { return o.head == head; });
        if (same != others.end()) {
          same->places.push_back(setting_where(s));
        } else {
          others.push_back(Claim{head, "", {setting_where(s)}});
        }
      }
      continue;
    }
    // What became of it: the last log entry of the same role / database after it.
    const SettingRow* last = nullptr;
    if (!session) {
      for (const SettingRow& t : rows) {
        bool matches = same_key(t, s) || (t.name == "all" && t.scope == s.scope &&
                                          t.role == s.role && t.database == s.database);
        if (&t != &s && matches && later(t, s) && (!last || later(t, *last))) {
          last = &t;
        }
      }
    }
    if (session && sessions_told == 5) {
      ++sessions_more;  // told as a count
      continue;
    }
    sessions_told += session ? 1 : 0;
    any_setting = any_setting || !session;
    Claim c;
    c.head = session ? fmt::format("{} ran", setting_owner(s))
                     : fmt::format("{}'s search_path is set to {}", setting_owner(s),
                                   s.value ? text::printable(*s.value) : "?");
    out.evidence.push_back(evidence_of(s));
    if (last && last->action == "reset") {
      c.tail = fmt::format(
          "; it was reset since ({}): connections made now no longer start with {}, and the "
          "repair has nothing to reset",
          place(*last), pgsql::quote_ident(actual));
      out.evidence.push_back(evidence_of(*last));
    } else if (last && last->action == "set" && last->value != s.value) {
      c.tail = fmt::format("; it was set to {} since ({})",
                           last->value ? text::printable(*last->value) : "?", place(*last));
      out.evidence.push_back(evidence_of(*last));
    } else if (!session) {
      std::string reset = setting_reset_sql(s);
      if (repaired.insert(reset).second) {
        out.repair += fmt::format("-- {}'s search_path starts with {}: {}.\n", setting_owner(s),
                                  text::printable(pgsql::quote_ident(actual)), place(s));
        out.repair += "-- " + reset + "\n";
      }
      if (out.note.empty()) {
        out.note = "the setting of " + setting_owner(s);
      }
    }
    auto same = std::find_if(claims.begin(), claims.end(),
                             [&](const Claim& o) { return o.head == c.head && o.tail == c.tail; });
    if (same != claims.end() && !session) {
      same->places.push_back(place(s));
    } else {
      c.places.push_back(place(s));
      claims.push_back(std::move(c));
    }
  }
  std::vector<std::string> said;
  for (const Claim& c : claims) {
    said.push_back(fmt::format("{} ({}){}", c.head, text::join(c.places, "; "), c.tail));
  }
  if (sessions_more > 0) {
    said.push_back(fmt::format("{} more {} the same", sessions_more,
                               sessions_more == 1 ? "session did" : "sessions did"));
  }
  if (capped && !said.empty()) {
    said.back() += fmt::format(" (of the first {} settings read)", k_setting_rows);
  }
  if (!said.empty()) {
    out.narrative = fmt::format(
        " What set that search_path: {}. {} unqualified tables in {} while {} exists.",
        text::join(said, "; and "),
        any_setting ? "Every connection it applies to, Django's migrate among them, creates"
                    : "From then on that session (a person or a script applying the migrations' "
                      "SQL, or a pool handing the session on) creates",
        pgsql::quote_ident(actual), pgsql::quote_ident(actual));
    if (!out.repair.empty()) {
      out.narrative +=
          " The repair script carries its RESET, commented out: other applications, jobs or "
          "people that connect the same way may rely on that search_path; reset it only once "
          "nothing does.";
      out.repair =
          "-- What sent these tables there is still set. Left commented out: other applications, "
          "jobs or people connecting\n-- with it may rely on it (a RESET gives their next "
          "connections the default \"$user\", public). Reset it once nothing does:\n" +
          out.repair;
    }
  } else if (!others.empty()) {
    std::vector<std::string> listed;
    for (const Claim& o : others) {
      listed.push_back(fmt::format("{} at {}", o.head, text::join(o.places, "; ")));
    }
    out.narrative = fmt::format(
        " None of the search_path settings read starts with {} ({}): they do not explain it. "
        "The migrations' connection set that search_path itself (a connection option, a SET), "
        "or a setting the inputs do not show did.",
        pgsql::quote_ident(actual), text::join(listed, "; and "));
  }
  return out;
}

int correlate(store::Store& store, int64_t after_finding) {
  std::vector<F> findings;
  {
    store::Statement st = store.prepare(
        "SELECT id, rule, severity, coalesce(cause_key, ''), subject_schema, subject_table, "
        "subject_column, subject_index, subject_constraint, subject_migration, "
        "rule = 'drift.table-in-wrong-schema' AND metrics LIKE '%\"copy_rows\"%', "
        "rule = 'drift.table-in-wrong-schema' AND "
        "coalesce(json_extract(metrics, '$.copy_rows'), 0) > 0 FROM finding "
        "WHERE id > ?1 ORDER BY id");
    st.bind(1, after_finding);
    while (st.step()) {
      F f;
      f.id = st.get_int(0);
      f.rule = st.get_text(1);
      f.severity = st.get_text(2);
      f.key = st.get_text(3);
      f.schema = st.get_optional_text(4);
      f.table = st.get_optional_text(5);
      f.column = st.get_optional_text(6);
      f.index = st.get_optional_text(7);
      f.constraint = st.get_optional_text(8);
      f.migration = st.get_optional_text(9);
      f.empty_copy = st.get_int(10) != 0;
      f.copy_rows = st.get_int(11) != 0;
      findings.push_back(f);
    }
  }
  std::map<std::string, Recorded> recorded;
  {
    store::Statement st = store.prepare(
        "SELECT r.app || '.' || r.name, r.applied_at, r.position, r.artifact_id, r.line, "
        "EXISTS (SELECT 1 FROM expected_intent i WHERE i.migration = r.app || '.' || r.name) "
        "FROM recorded_migration r");
    while (st.step()) {
      recorded[st.get_text(0)] = Recorded{st.get_optional_text(1), st.get_int(2), st.get_int(3),
                                          st.get_optional_int(4), st.get_int(5) != 0};
    }
  }
  std::map<int64_t, std::string> artifact_paths;
  {
    store::Statement st = store.prepare("SELECT id, path FROM artifact");
    while (st.step()) {
      artifact_paths[st.get_int(0)] = st.get_text(1);
    }
  }
  auto record_evidence = [&](const std::string& migration) {
    const Recorded& r = recorded[migration];
    return nlohmann::json{{"artifact", artifact_paths[r.artifact]},
                          {"line", r.line ? nlohmann::json(*r.line) : nlohmann::json(nullptr)},
                          {"text", migration + " recorded as applied" +
                                       (r.applied_at ? " at " + *r.applied_at : "")}};
  };

  // Which migrations are faked / partially applied, and the bulk (same second) of each
  // faked one.
  std::set<std::string> faked, partial;
  for (const F& f : findings) {
    if (f.rule == "migration.faked" && f.migration) {
      faked.insert(*f.migration);
    } else if (f.rule == "migration.partially-applied" && f.migration) {
      partial.insert(*f.migration);
    }
  }
  // Faked migrations are one story when they were recorded in the same second (one
  // `migrate --fake`) or when they intend the same objects: a later migration written to
  // repair what an earlier faked one should have created (RunSQL ... IF NOT EXISTS), faked in
  // its turn. Union-find over both relations; a group is named after its first recording.
  std::map<std::string, std::set<int64_t>> intended;  // faked migration -> its objects
  std::map<int64_t, std::string> object_names;
  std::map<std::string, std::string> parent;
  {
    store::Statement st = store.prepare(
        "SELECT i.migration, o.id, o.kind, o.table_name, o.name FROM expected_intent i "
        "JOIN expected_object o ON o.id = i.object_id AND o.implied = 0 "
        "ORDER BY o.id");
    while (st.step()) {
      std::string m = st.get_text(0);
      if (!faked.count(m)) {
        continue;
      }
      int64_t object = st.get_int(1);
      intended[m].insert(object);
      std::string kind = st.get_text(2);
      object_names[object] =
          kind == "column"  ? fmt::format("column {}.{}", st.get_text(3), st.get_text(4))
          : kind == "table" ? fmt::format("table {}", st.get_text(4))
          : kind == "constraint"
              ? fmt::format("constraint {} on {}", st.get_text(4), st.get_text(3))
              : fmt::format("{} {}", kind, st.get_text(4));
    }
  }
  std::function<std::string(const std::string&)> root = [&](const std::string& m) {
    auto it = parent.find(m);
    if (it == parent.end() || it->second == m) {
      return m;
    }
    return it->second = root(it->second);
  };
  auto unite = [&](const std::string& a, const std::string& b) {
    std::string ra = root(a), rb = root(b);
    if (ra == rb) {
      return;
    }
    if (recorded[rb].position < recorded[ra].position) {
      std::swap(ra, rb);
    }
    parent[rb] = ra;
  };
  {
    std::map<std::string, std::string> first_in_second;
    std::map<int64_t, std::string> first_intending;
    std::vector<std::string> fakes_in_order(faked.begin(), faked.end());
    std::sort(fakes_in_order.begin(), fakes_in_order.end(),
              [&](const std::string& a, const std::string& b) {
                return recorded[a].position < recorded[b].position;
              });
    for (const auto& m : fakes_in_order) {
      parent.emplace(m, m);
      if (const Recorded& r = recorded[m]; r.applied_at) {
        auto [it, fresh] = first_in_second.emplace(second_of(*r.applied_at), m);
        if (!fresh) {
          unite(it->second, m);
        }
      }
      for (int64_t object : intended[m]) {
        auto [it, fresh] = first_intending.emplace(object, m);
        if (!fresh) {
          unite(it->second, m);
        }
      }
    }
  }
  auto bulk_of = [&](const std::string& migration) { return "faked:" + root(migration); };

  // How this database records migrations when they run: the time between consecutive
  // recordings of one deploy (less than a minute apart), over the pairs that involve no
  // faked migration. A faked migration's recording is the mark of `migrate --fake` only
  // when it stands apart from that: a neighbour of its deploy recorded in a fifth of the
  // usual time or less (a --fake run records a migration in a few milliseconds, a run that
  // applies DDL takes about a hundred or more). A plain first deploy also records many
  // migrations within one second, and times in whole seconds cannot show a difference.
  constexpr int64_t k_deploy_gap_ms = 60 * 1000;
  std::map<std::string, int64_t> closest_neighbour_ms;  // within the same deploy
  std::map<std::string, int64_t> recorded_ms;
  bool fractions = false;
  std::optional<int64_t> usual_step_ms;
  {
    std::vector<std::pair<int64_t, std::string>> timeline;
    for (const auto& [m, r] : recorded) {
      if (r.applied_at) {
        if (auto i = instant_of(*r.applied_at)) {
          timeline.emplace_back(i->ms, m);
          recorded_ms[m] = i->ms;
          fractions = fractions || i->fraction;
        }
      }
    }
    std::sort(timeline.begin(), timeline.end(), [&](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first
                                : recorded[a.second].position < recorded[b.second].position;
    });
    std::vector<int64_t> steps;
    for (size_t i = 1; i < timeline.size(); ++i) {
      const auto& [t0, a] = timeline[i - 1];
      const auto& [t1, b] = timeline[i];
      int64_t gap = t1 - t0;
      if (gap > k_deploy_gap_ms) {
        continue;
      }
      for (const std::string* m : {&a, &b}) {
        auto it = closest_neighbour_ms.find(*m);
        if (it == closest_neighbour_ms.end() || gap < it->second) {
          closest_neighbour_ms[*m] = gap;
        }
      }
      if (!faked.count(a) && !faked.count(b)) {
        steps.push_back(gap);
      }
    }
    if (fractions && steps.size() >= 3) {
      std::nth_element(steps.begin(), steps.begin() + steps.size() / 2, steps.end());
      usual_step_ms = steps[steps.size() / 2];
    }
  }
  auto stands_apart = [&](const std::string& m) {
    auto it = closest_neighbour_ms.find(m);
    return usual_step_ms && *usual_step_ms >= 20 && it != closest_neighbour_ms.end() &&
           it->second * 5 <= *usual_step_ms;
  };

  std::map<std::string, Group> groups;
  for (const F& f : findings) {
    std::string gkey;
    std::string kind;
    if (f.key.rfind("wrong-schema:", 0) == 0) {
      gkey = f.key;
      kind = "wrong-search-path";
    } else if (f.key.rfind("migration:", 0) == 0) {
      std::string m = f.key.substr(10);
      if (faked.count(m)) {
        gkey = bulk_of(m);
        kind = "faked-migrations";
      } else if (partial.count(m)) {
        gkey = "partial:" + m;
        kind = "partially-applied";
      } else if (f.rule == "drift.not-removed") {
        gkey = "not-removed";
        kind = "removals-not-applied";
      } else {
        gkey = "missing";
        kind = "missing-objects";
      }
    } else if (f.key.rfind("altered:", 0) == 0) {
      gkey = "altered";
      kind = "changed-by-hand";
    } else if (f.key == "unexplained") {
      gkey = kind = "unexplained-tables";
    } else if (f.key == "pending") {
      gkey = kind = "pending-migrations";
    } else if (f.key == "unknown-record" || f.key == "out-of-order") {
      gkey = kind = "migration-history";
    } else if (f.key.rfind("references:", 0) == 0) {
      gkey = f.key;
      kind = "orphaned-references";
    } else if (f.key.rfind("duplicates:", 0) == 0) {
      gkey = f.key;
      kind = "duplicate-rows";
    } else if (!f.key.empty()) {
      gkey = f.key;
      kind = f.key.substr(0, f.key.find(':'));
    } else {
      gkey = "rule:" + f.rule;
      kind = f.rule;
    }
    Group& g = groups[gkey];
    g.key = gkey;
    g.kind = kind;  // a log finding carries the key of the finding that explains it
    (f.rule.rfind("log.", 0) == 0 ? g.logs : g.findings).push_back(&f);
  }

  for (auto& [gkey, g] : groups) {
    std::vector<std::string> migrations;
    std::vector<std::string> times;
    std::set<std::string> seen;
    for (const F* f : g.findings) {
      if (f->migration && seen.insert(*f->migration).second) {
        migrations.push_back(*f->migration);
        if (recorded.count(*f->migration) && recorded[*f->migration].applied_at) {
          times.push_back(*recorded[*f->migration].applied_at);
        }
      }
    }
    std::sort(migrations.begin(), migrations.end(),
              [&](const std::string& a, const std::string& b) {
                return recorded[a].position < recorded[b].position;
              });
    if (g.kind == "wrong-search-path") {
      // key: wrong-schema:<actual>:<intended>
      std::string rest = gkey.substr(13);
      std::string actual = rest.substr(0, rest.find(':'));
      std::string intended = rest.substr(rest.find(':') + 1);
      std::vector<std::string> tables;
      for (const F* f : g.findings) {
        tables.push_back(f->table.value_or("?"));
      }
      std::string when = window(times);
      g.summary = fmt::format(
          "{} recorded{} ran with search_path starting at {}: their {} live there",
          plural(migrations.size(), "migration", "migrations"), when.empty() ? "" : " " + when,
          actual, plural(tables.size(), "table", "tables"));
      g.narrative = fmt::format(
          "{} ({}) {} recorded as applied {}in {}.django_migrations, yet the {} they create "
          "({}) are in schema {}, not {}. That is what happens when migrations run with a "
          "search_path that starts with {} (a connection option such as `-c "
          "search_path={},{}`, or a test settings module): PostgreSQL creates unqualified "
          "tables in the first schema of the path, while the django_migrations row lands in "
          "{}, the only schema that has that table. The application does not look in {}, so "
          "each table fails with `relation \"...\" does not exist`, one at a time. Move them "
          "all together: each finding carries a guarded ALTER TABLE ... SET SCHEMA {}.",
          plural(migrations.size(), "migration", "migrations"), list(migrations),
          migrations.size() == 1 ? "was" : "were", when.empty() ? "" : when + " ", intended,
          plural(tables.size(), "table", "tables"), list(tables), actual, intended, actual,
          pgsql::quote_ident(actual), pgsql::quote_ident(intended), intended, actual,
          pgsql::quote_ident(intended));
      if (std::any_of(g.findings.begin(), g.findings.end(),
                      [](const F* f) { return f->copy_rows; })) {
        g.narrative += fmt::format(
            " Some of them also have a copy in {} made since, which is what the application "
            "reads, and the application wrote rows into it: both copies of those tables have "
            "rows. Those copies must be checked, and their rows merged into the migrated tables "
            "by hand, before the tables move, so nothing of this cause is dropped, moved or "
            "merged by the repair (every statement is left commented out).",
            intended);
      } else if (std::any_of(g.findings.begin(), g.findings.end(),
                             [](const F* f) { return f->empty_copy; })) {
        g.narrative += fmt::format(
            " Some of them also have an empty copy in {} made since, which is what the "
            "application reads: those copies must be checked and dropped before the tables "
            "move, so every move of this cause is left commented out in the repair.",
            intended);
      }
      for (const auto& m : migrations) {
        g.evidence.push_back(record_evidence(m));
      }
      // Why the search_path started there: the settings the inputs show.
      SettingsTold told = tell_settings(store, actual);
      g.narrative += told.narrative;
      for (const auto& e : told.evidence) {
        g.evidence.push_back(e);
      }
      if (!told.note.empty()) {
        g.summary = fmt::format(
            "{} recorded{} ran with search_path starting at {} ({}): their {} live there",
            plural(migrations.size(), "migration", "migrations"), when.empty() ? "" : " " + when,
            actual, told.note, plural(tables.size(), "table", "tables"));
      }
      if (!told.repair.empty() && !g.findings.empty()) {
        // After the moves: on the last finding of the cause, whose repair comes last.
        int64_t last = 0;
        for (const F* f : g.findings) {
          last = std::max(last, f->id);
        }
        store
            .prepare(
                "UPDATE finding SET repair = CASE WHEN repair IS NULL OR repair = '' THEN ?2 ELSE "
                "rtrim(repair, char(10)) || char(10) || ?2 END WHERE id = ?1")
            .run(last, text::trim(told.repair));
      }
    } else if (g.kind == "faked-migrations") {
      std::vector<std::string> fakes;
      std::vector<std::string> objects;
      for (const auto& m : migrations) {
        if (faked.count(m)) {
          fakes.push_back(m);
        }
      }
      std::vector<std::string> kept;
      size_t changed_findings = 0;
      for (const F* f : g.findings) {
        if (f->rule == "drift.not-removed") {
          kept.push_back(object_of(*f));
        } else if (f->rule == "drift.column-mismatch") {
          ++changed_findings;  // an alteration that never ran: said below
        } else if (f->rule.rfind("drift.", 0) == 0) {
          objects.push_back(object_of(*f));
        }
      }
      // The seconds in which the fakes were recorded, each with the migrations recorded in
      // it (faked or not: a RunPython companion has no schema effects to miss).
      std::vector<std::string> seconds;
      for (const auto& m : fakes) {
        if (recorded[m].applied_at) {
          std::string sec = second_of(*recorded[m].applied_at);
          if (std::find(seconds.begin(), seconds.end(), sec) == seconds.end()) {
            seconds.push_back(sec);
          }
        }
      }
      std::vector<std::string> companions;
      std::vector<std::string> bulks;
      for (const auto& sec : seconds) {
        std::vector<std::string> in_second;
        std::vector<std::string> companions_here;
        for (const auto& [m, r] : recorded) {
          if (r.applied_at && second_of(*r.applied_at) == sec) {
            in_second.push_back(m);
            if (!faked.count(m)) {
              companions_here.push_back(m);
            }
          }
        }
        auto by_position = [&](const std::string& a, const std::string& b) {
          return recorded[a].position < recorded[b].position;
        };
        std::sort(in_second.begin(), in_second.end(), by_position);
        std::sort(companions_here.begin(), companions_here.end(), by_position);
        companions.insert(companions.end(), companions_here.begin(), companions_here.end());
        bool apart = std::any_of(in_second.begin(), in_second.end(), [&](const std::string& m) {
          return faked.count(m) && stands_apart(m);
        });
        if (in_second.size() > 1 && apart) {
          int64_t lo = recorded_ms[in_second.front()], hi = lo;
          for (const auto& m : in_second) {
            lo = std::min(lo, recorded_ms[m]);
            hi = std::max(hi, recorded_ms[m]);
          }
          bulks.push_back(fmt::format("{} within the same second ({}, {} ms from first to last)",
                                      list(in_second), sec, hi - lo));
        }
      }
      // A fake whose every object an earlier fake of the group already intends: a migration
      // written to repair the first one (RunSQL ... IF NOT EXISTS), recorded without running.
      std::vector<std::string> repair_notes;
      std::set<int64_t> before;
      for (const auto& m : fakes) {
        const auto& mine = intended[m];
        bool repeats =
            !mine.empty() && !before.empty() &&
            std::all_of(mine.begin(), mine.end(), [&](int64_t o) { return before.count(o) > 0; });
        if (repeats) {
          std::vector<std::string> names;
          for (int64_t o : mine) {
            names.push_back(object_names[o]);
          }
          const Recorded& r = recorded[m];
          repair_notes.push_back(
              fmt::format("Migration {}, which makes sure of the same {} ({}), was recorded as "
                          "applied{} without "
                          "running either: the repair was faked too",
                          m, mine.size() == 1 ? "object" : "objects", list(names),
                          r.applied_at ? " at " + second_of(*r.applied_at) : ""));
        }
        before.insert(mine.begin(), mine.end());
      }
      std::string bulk;
      if (!bulks.empty()) {
        g.summary = fmt::format("{} recorded as applied but {} DDL never ran (faked): {}",
                                plural(fakes.size(), "migration", "migrations"),
                                fakes.size() == 1 ? "its" : "their", list(fakes));
        bulk = fmt::format(
            " Recorded {}, where the other deploys of this database took about {} ms per "
            "migration: the mark of `manage.py migrate --fake` (or of rows copied into "
            "django_migrations), not of migrations that ran.",
            list(bulks), *usual_step_ms);
      } else if (!objects.empty() && kept.empty()) {
        // Nothing in the timing stands apart: a --fake and a later DROP by hand leave the
        // same inputs. Say both, and what would tell them apart.
        // Every missing object a rename that never ran (the old name still there): the other
        // explanation is a rename undone by hand, not a drop.
        size_t renamed = 0;
        {
          store::Statement st = store.prepare("SELECT migration FROM faked_rename");
          while (st.step()) {
            renamed += std::count(fakes.begin(), fakes.end(), st.get_text(0)) > 0 ? 1 : 0;
          }
        }
        g.summary = fmt::format(
            "{} recorded as applied but nothing {} create exists (faked, or {} by hand "
            "later): {}",
            plural(fakes.size(), "migration", "migrations"),
            fakes.size() == 1 ? "it would" : "they would",
            renamed == objects.size() ? "renamed back" : "dropped", list(fakes));
        std::vector<std::string> when, days;
        for (const auto& m : fakes) {
          if (recorded[m].applied_at) {
            when.push_back(m + " at " + second_of(*recorded[m].applied_at));
            std::string day = recorded[m].applied_at->substr(0, 10);
            if (std::find(days.begin(), days.end(), day) == days.end()) {
              days.push_back(day);
            }
          }
        }
        std::string timing;
        if (when.empty()) {
          timing = "the records carry no time, so timing cannot tell";
        } else if (!fractions) {
          timing = fmt::format("the records ({}) carry whole seconds only, so timing cannot tell",
                               list(when));
        } else if (!usual_step_ms || *usual_step_ms < 20) {
          timing = fmt::format(
              "the recording ({}) cannot be told from this database's other deploys, which "
              "record migrations within milliseconds of each other too",
              list(when));
        } else {
          timing = fmt::format(
              "the recording ({}) looks like every other deploy of this database (about {} ms "
              "per migration), not like a --fake run, which records a migration in a few "
              "milliseconds",
              list(when), *usual_step_ms);
        }
        if (renamed == objects.size()) {
          bulk = fmt::format(
              " Either {} recorded without running (`manage.py migrate --fake`, or rows copied "
              "into django_migrations), or {} renamed back by hand later: {}. What would tell "
              "them apart: the PostgreSQL server log of {} (the migration's ALTER ... RENAME, or "
              "none, at the time of the record) and of the days since (an ALTER ... RENAME "
              "back).",
              fakes.size() == 1 ? "it was" : "they were",
              objects.size() == 1 ? "the object was" : "the objects were", timing,
              days.empty() ? "the day of the record" : list(days));
        } else {
          bulk = fmt::format(
              " Either {} recorded without running (`manage.py migrate --fake`, or rows copied "
              "into django_migrations), or what {} created was dropped by hand later: {}. What "
              "would tell them apart: the PostgreSQL server log of {} (the migration's DDL, or "
              "none, at the time of the record) and of the days since (an ALTER TABLE ... DROP "
              "or DROP statement), and the objects that depend on {} (an index, constraint or "
              "view built on {} later, gone with {} or never made).",
              fakes.size() == 1 ? "it was" : "they were", fakes.size() == 1 ? "it" : "they", timing,
              days.empty() ? "the day of the record" : list(days),
              objects.size() == 1 ? "the missing object" : "the missing objects",
              objects.size() == 1 ? "it" : "them", objects.size() == 1 ? "it" : "them");
        }
      } else {
        g.summary = fmt::format("{} recorded as applied but {} DDL never ran (faked): {}",
                                plural(fakes.size(), "migration", "migrations"),
                                fakes.size() == 1 ? "its" : "their", list(fakes));
      }
      std::string repaired;
      for (const auto& r : repair_notes) {
        repaired += " " + r + ".";
      }
      std::string did;  // what the DDL would have done, and what shows it did not run
      if (!objects.empty() || (kept.empty() && changed_findings == 0)) {
        did = fmt::format("nothing {} create exists{}{}",
                          fakes.size() == 1 ? "it would" : "they would",
                          objects.empty() ? "" : ": missing ", list(objects));
      }
      if (!kept.empty()) {
        did += fmt::format("{}what {} remove is still there: {}", did.empty() ? "" : ", and ",
                           fakes.size() == 1 ? "it would" : "they would", list(kept));
      }
      // Renames these migrations record that never ran: the objects are there under their old
      // names (with their data), so the repair renames them instead of creating empty ones.
      std::vector<std::string> renames;
      bool holds_data = false;  // a table or column renamed (an index holds no data of its own)
      {
        store::Statement st = store.prepare(
            "SELECT migration, kind, table_name, name, old_name FROM faked_rename "
            "ORDER BY object_id");
        while (st.step()) {
          if (std::find(fakes.begin(), fakes.end(), st.get_text(0)) != fakes.end()) {
            std::string kind = st.get_text(1);
            holds_data = holds_data || kind != "index";
            renames.push_back(kind == "column" ? fmt::format("column {}.{} to {}", st.get_text(2),
                                                             st.get_text(4), st.get_text(3))
                                               : fmt::format("{} {} to {}", kind, st.get_text(4),
                                                             st.get_text(3)));
          }
        }
      }
      if (!renames.empty()) {
        did += fmt::format("; the rename{} of {} never ran: the old name{} still there{}",
                           renames.size() == 1 ? "" : "s", list(renames),
                           renames.size() == 1 ? " is" : "s are",
                           !holds_data           ? ""
                           : renames.size() == 1 ? ", with its data"
                                                 : ", with their data");
      }
      // What a renaming migration drops and creates again under a new name (RenameModel: the
      // foreign keys to the table) and that is still there under its old name.
      std::vector<std::string> recreated;
      {
        store::Statement st = store.prepare(
            "SELECT migration, kind, table_name, old_name, name FROM faked_recreate "
            "ORDER BY removal_id");
        while (st.step()) {
          if (std::find(fakes.begin(), fakes.end(), st.get_text(0)) != fakes.end()) {
            recreated.push_back(fmt::format("{} {} on {} (to be {})", st.get_text(1),
                                            st.get_text(3), st.get_text(2), st.get_text(4)));
          }
        }
      }
      if (!recreated.empty()) {
        did +=
            fmt::format("; {} keep{} {} old name{} too, and the repair renames {}", list(recreated),
                        recreated.size() == 1 ? "s" : "", recreated.size() == 1 ? "its" : "their",
                        recreated.size() == 1 ? "" : "s", recreated.size() == 1 ? "it" : "them");
      }
      // Alterations of columns these migrations make that never ran: each column is exactly
      // as the migrations before left it.
      std::vector<std::string> changes;
      {
        store::Statement st = store.prepare(
            "SELECT u.migration, u.table_name, u.name, u.actual_type, u.actual_not_null, "
            "u.actual_default, o.type, o.not_null, o.default_expr "
            "FROM unrun_alter u JOIN expected_object o ON o.id = u.object_id "
            "WHERE u.intent_rowid = (SELECT min(v.intent_rowid) FROM unrun_alter v "
            "WHERE v.object_id = u.object_id) ORDER BY u.intent_rowid");
        while (st.step()) {
          if (std::find(fakes.begin(), fakes.end(), st.get_text(0)) == fakes.end()) {
            continue;
          }
          std::vector<std::string> diffs;
          auto list_joined = [](const std::vector<std::string>& parts) {
            std::string out;
            for (const auto& part : parts) {
              out += (out.empty() ? "" : "; ") + part;
            }
            return out.empty() ? std::string("as before") : out;
          };
          auto nullability = [](bool not_null) { return not_null ? "NOT NULL" : "nullable"; };
          auto opt = [&](int col) { return st.get_optional_text(col); };
          if (opt(6) && opt(3) && *opt(6) != *opt(3)) {
            diffs.push_back(fmt::format("type {}, not {}", *opt(3), *opt(6)));
          }
          if (st.get_optional_int(7) && st.get_optional_int(4) &&
              *st.get_optional_int(7) != *st.get_optional_int(4)) {
            diffs.push_back(fmt::format("{}, not {}", nullability(*st.get_optional_int(4) != 0),
                                        nullability(*st.get_optional_int(7) != 0)));
          }
          if (opt(8).value_or("") != opt(5).value_or("")) {
            diffs.push_back(fmt::format("default {}, not {}", opt(5).value_or("none"),
                                        opt(8).value_or("none")));
          }
          changes.push_back(fmt::format("column {}.{} by {} ({})", st.get_text(1), st.get_text(2),
                                        st.get_text(0), list_joined(diffs)));
        }
      }
      if (!changes.empty()) {
        did += fmt::format(
            "{}the alteration{} of {} never ran: {} exactly as the migrations before left {}",
            did.empty() ? "" : "; ", changes.size() == 1 ? "" : "s", list(changes),
            changes.size() == 1 ? "the column is" : "the columns are",
            changes.size() == 1 ? "it" : "them");
      }
      std::string repairs;
      if (!objects.empty()) {
        repairs = renames.size() == objects.size()
                      ? "Each missing name's finding carries the rename that was not run (ALTER "
                        "... RENAME, guarded: safe to run twice), never a new empty object"
                      : "Each missing object's finding carries SQL that creates it (a rename "
                        "that was not run: the rename), safe to run twice";
        if (renames.empty()) {
          repairs = "Each missing object's finding carries SQL that creates it, safe to run twice";
        }
      }
      if (!changes.empty()) {
        repairs += std::string(repairs.empty() ? "Each" : "; each") +
                   " column's finding carries the alteration that was not run";
      }
      if (!kept.empty()) {
        repairs += std::string(repairs.empty() ? "Each" : "; each") +
                   " object still there has its DROP commented out (data may live there: "
                   "uncomment it only after review)";
      }
      g.narrative = fmt::format(
          "{} recorded as applied in django_migrations, but {}.{}{} Django will never run {} "
          "again on its own. {}; or delete the django_migrations rows and migrate again.",
          fakes.size() == 1 ? "Migration " + fakes.front() + " is"
                            : "Migrations " + list(fakes) + " are",
          did, repaired, bulk, fakes.size() == 1 ? "it" : "them",
          repairs.empty() ? "Its findings say what to do" : repairs);
      for (const auto& m : fakes) {
        g.evidence.push_back(record_evidence(m));
      }
      for (const auto& m : companions) {
        g.evidence.push_back(record_evidence(m));
      }
    } else if (g.kind == "partially-applied" || g.kind == "missing-objects" ||
               g.kind == "removals-not-applied") {
      std::vector<std::string> objects;
      std::vector<std::string> kept;
      for (const F* f : g.findings) {
        if (f->rule == "drift.not-removed") {
          kept.push_back(object_of(*f));
        } else if (f->rule.rfind("drift.", 0) == 0) {
          objects.push_back(object_of(*f));
        }
      }
      if (g.kind == "partially-applied") {
        g.summary =
            fmt::format("migration {} is recorded as applied but only partly in the database",
                        list(migrations));
        std::string what;
        if (!objects.empty()) {
          what = "missing " + list(objects);
        }
        if (!kept.empty()) {
          what += (what.empty() ? "" : "; ") + std::string("still there although it removes ") +
                  (kept.size() == 1 ? "it: " : "them: ") + list(kept);
        }
        g.narrative = fmt::format(
            "Migration {} is recorded as applied and some of what it does is in the database, "
            "but not all: {}. Part of its DDL ran (a migration that died half way outside a "
            "transaction, statements applied by hand, a later --fake), or its objects were "
            "changed since. The findings carry SQL that creates the missing objects{}.",
            list(migrations), what.empty() ? "its findings name what" : what,
            kept.empty() ? ""
                         : " and, commented out (data may live there), the DROP of what it "
                           "removes");
      } else if (g.kind == "removals-not-applied") {
        g.summary = fmt::format("{} that recorded migrations remove still there",
                                plural(kept.size(), "object is", "objects are"));
        g.narrative = fmt::format(
            "Recorded migrations ({}) remove {}, which the database still has: their removal "
            "was faked or failed. Data may live there; each finding carries the DROP, "
            "commented out, to uncomment only after review.",
            list(migrations), list(kept));
      } else {
        g.summary = fmt::format("{} that recorded migrations create are missing",
                                plural(objects.size(), "object", "objects"));
        g.narrative = fmt::format(
            "Recorded migrations{} create {}, which the database does not have. The findings "
            "carry SQL that creates them.",
            migrations.empty() ? "" : " (" + list(migrations) + ")",
            objects.empty() ? "objects" : list(objects));
      }
      for (const auto& m : migrations) {
        g.evidence.push_back(record_evidence(m));
      }
    } else if (g.kind == "orphaned-references") {
      references_cause(store, gkey.substr(11), g);
    } else if (g.kind == "duplicate-rows") {
      duplicates_cause(store, gkey.substr(11), g);
    } else if (g.kind == "changed-by-hand") {
      std::vector<std::string> columns;
      for (const F* f : g.findings) {
        columns.push_back(fmt::format("{}.{}", f->table.value_or("?"), f->column.value_or("?")));
      }
      g.summary = fmt::format("{} from what {} migrations intend",
                              plural(columns.size(), "column differs", "columns differ"),
                              columns.size() == 1 ? "its" : "their");
      g.narrative = fmt::format(
          "The type, nullability or default of {} is not what the recorded migrations make it: "
          "{}. Someone changed them outside the migrations (a hotfix, a manual ALTER), so the "
          "models and the database disagree and the next migration that touches them may fail.",
          plural(columns.size(), "column", "columns"), list(columns));
    } else if (g.kind == "unexplained-tables") {
      std::vector<std::string> tables;
      for (const F* f : g.findings) {
        tables.push_back(fmt::format("{}.{}", f->schema.value_or("?"), f->table.value_or("?")));
      }
      g.summary =
          fmt::format("{} that no migration creates", plural(tables.size(), "table", "tables"));
      g.narrative = fmt::format(
          "{} that no migration creates: {}. Tables made by hand (a hotfix, an export, a "
          "backup copy) or left over from a removed app; Django does not know them and nothing "
          "maintains them. If another system owns them, allow them with --option "
          "drift.unexplained-table.allow=NAME.",
          plural(tables.size(), "table exists", "tables exist"), list(tables));
    } else if (g.kind == "pending-migrations") {
      g.summary = fmt::format(
          "{} not applied", plural(migrations.size(), "migration file is", "migration files are"));
      g.narrative = fmt::format(
          "{} recorded as applied: {}. The code that needs {} fails until {} run; review {} "
          "with `manage.py sqlmigrate` and run `manage.py migrate`.",
          plural(migrations.size(), "migration file exists but is not",
                 "migration files exist but are not"),
          list(migrations), migrations.size() == 1 ? "it" : "them",
          migrations.size() == 1 ? "it has" : "they have", migrations.size() == 1 ? "it" : "them");
    } else if (g.kind == "migration-history") {
      g.summary = fmt::format("the migration history is inconsistent ({})",
                              plural(g.findings.size(), "finding", "findings"));
      g.narrative = fmt::format(
          "django_migrations does not agree with the migration files: {}. Rows were written or "
          "removed by hand, files were renamed or deleted after they ran, or two branches were "
          "merged; Django may refuse to migrate (InconsistentMigrationHistory) or run the wrong "
          "migrations.",
          list(migrations));
    } else if (g.kind == "checks-skipped") {
      std::vector<std::string> families;  // subject.value: the family
      store::Statement st = store.prepare(
          "SELECT coalesce(subject_value, '?') FROM finding WHERE cause_key = 'checks-skipped' "
          "AND id > ?1 ORDER BY subject_value");
      st.bind(1, after_finding);
      while (st.step()) {
        families.push_back(st.get_text(0));
      }
      bool all = families == std::vector<std::string>{"all"};
      g.summary =
          all ? std::string("no check could run: no input could be used")
              : fmt::format("{} could not run: the inputs lack what {}",
                            plural(families.size(), "family of checks", "families of checks"),
                            families.size() == 1 ? "it needs" : "they need");
      g.narrative =
          (all ? std::string("No check ran, so the report's silence")
               : "The " + list(families) + " checks did not run, so their silence") +
          " says nothing about the database: each finding says which input was missing or "
          "unreadable and how to provide it.";
    } else {
      g.summary = fmt::format("{} of {}", plural(g.findings.size(), "finding", "findings"), g.kind);
      g.narrative = g.summary + ".";
    }
  }

  // What the logs show of each cause: told after its narrative, with the timeline of the
  // migrations it involves, the errors and the dump.
  std::optional<std::string> dump_taken;
  {
    store::Statement st = store.prepare(
        "SELECT utc_time(taken_at) FROM snapshot WHERE role = 'current' AND taken_at IS NOT NULL");
    if (st.step() && !st.is_null(0)) {
      dump_taken = st.get_text(0);
    }
  }
  for (auto& [gkey, g] : groups) {
    if (!g.logs.empty()) {
      tell_logs(store, g, dump_taken, recorded);
    }
    g.findings.insert(g.findings.end(), g.logs.begin(), g.logs.end());
  }

  std::vector<Group*> ordered;
  for (auto& [k, g] : groups) {
    ordered.push_back(&g);
  }
  auto worst = [](const Group* g) {
    int best = 3;
    for (const F* f : g->findings) {
      best = std::min(best, severity_rank(f->severity));
    }
    return best;
  };
  std::sort(ordered.begin(), ordered.end(), [&](const Group* a, const Group* b) {
    if (worst(a) != worst(b)) {
      return worst(a) < worst(b);
    }
    if (kind_rank(a->kind) != kind_rank(b->kind)) {
      return kind_rank(a->kind) < kind_rank(b->kind);
    }
    return a->findings.front()->id < b->findings.front()->id;
  });
  store::Statement insert = store.prepare(
      "INSERT INTO cause(id, kind, summary, narrative, evidence, repair) VALUES (?1, ?2, ?3, ?4, "
      "?5, ?6)");
  store::Statement link = store.prepare("UPDATE finding SET cause_id = ?1 WHERE id = ?2");
  // After the causes of the databases analysed before this one.
  int64_t first = 0;
  {
    store::Statement st = store.prepare("SELECT coalesce(max(id), 0) FROM cause");
    first = st.step() ? st.get_int(0) : 0;
  }
  int64_t id = first;
  for (Group* g : ordered) {
    insert.run(++id, g->kind, g->summary, g->narrative, g->evidence.dump(), g->repair);
    for (const F* f : g->findings) {
      link.run(id, f->id);
    }
  }
  return static_cast<int>(id - first);
}

}  // namespace dbautopsy::rules
