// dbautopsy ingest: read artifacts into a fact store and summarise what they hold.

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <numeric>
#include <set>

#include "base/error.hpp"
#include "base/text.hpp"
#include "base/timing.hpp"
#include "cli/bundle.hpp"
#include "cli/cli.hpp"
#include "cli/ingest.hpp"
#include "cli/kinds.hpp"
#include "cli/options.hpp"
#include "cli/output.hpp"
#include "cli/pieces.hpp"
#include "cli/progress.hpp"
#include "django/django_schema.hpp"
#include "store/store.hpp"

namespace dbautopsy::cli {

namespace fs = std::filesystem;

namespace {

std::string id_list(const std::vector<int64_t>& ids) {
  std::vector<std::string> parts;
  for (auto id : ids) {
    parts.push_back(std::to_string(id));
  }
  return "(" + text::join(parts, ",") + ")";
}

std::string plural(long long n, const std::string& one, const std::string& many) {
  return fmt::format("{} {}", thousands(n), n == 1 ? one : many);
}

void print_summary(store::Store& store, const std::vector<int64_t>& ids, std::ostream& out) {
  std::string in = id_list(ids);
  auto count = [&](const std::string& sql) { return store.scalar_int(sql); };
  std::vector<std::string> parts;
  auto add = [&](long long n, const std::string& one, const std::string& many,
                 const std::string& extra = {}) {
    if (n > 0) {
      parts.push_back(plural(n, one, many) + extra);
    }
  };
  add(count("SELECT count(*) FROM db_schema WHERE artifact_id IN " + in), "schema", "schemas");
  long long tables = count(
      "SELECT count(*) FROM db_relation WHERE kind IN ('table','partitioned_table') AND "
      "artifact_id IN " +
      in);
  long long partitioned = count(
      "SELECT count(*) FROM db_relation WHERE kind = 'partitioned_table' AND artifact_id IN " + in);
  long long partitions = count(
      "SELECT count(*) FROM db_relation WHERE parent_name IS NOT NULL AND artifact_id IN " + in);
  std::string table_extra;
  if (partitioned || partitions) {
    table_extra = fmt::format(" ({} partitioned, {} partitions)", partitioned, partitions);
  }
  add(tables, "table", "tables", table_extra);
  add(count("SELECT count(*) FROM db_relation WHERE kind = 'foreign_table' AND artifact_id IN " +
            in),
      "foreign table", "foreign tables");
  add(count("SELECT count(*) FROM db_relation WHERE kind = 'view' AND artifact_id IN " + in),
      "view", "views");
  add(count(
          "SELECT count(*) FROM db_relation WHERE kind = 'materialized_view' AND artifact_id IN " +
          in),
      "materialized view", "materialized views");
  add(count("SELECT count(*) FROM db_column WHERE artifact_id IN " + in), "column", "columns");
  add(count("SELECT count(*) FROM db_sequence WHERE artifact_id IN " + in), "sequence",
      "sequences");
  add(count("SELECT count(*) FROM db_index WHERE artifact_id IN " + in), "index", "indexes");
  {
    static const std::map<std::string, std::string> k_names = {{"p", "primary key"},
                                                               {"u", "unique"},
                                                               {"f", "foreign key"},
                                                               {"c", "check"},
                                                               {"x", "exclusion"}};
    store::Statement st =
        store.prepare("SELECT kind, count(*) FROM db_constraint WHERE artifact_id IN " + in +
                      " GROUP BY kind ORDER BY CASE kind WHEN 'p' THEN 1 WHEN 'u' THEN 2 WHEN 'f' "
                      "THEN 3 WHEN 'c' THEN 4 ELSE 5 END");
    long long total = 0;
    std::vector<std::string> kinds;
    while (st.step()) {
      total += st.get_int(1);
      auto it = k_names.find(st.get_text(0));
      kinds.push_back(
          fmt::format("{} {}", st.get_int(1), it == k_names.end() ? st.get_text(0) : it->second));
    }
    if (total) {
      parts.push_back(plural(total, "constraint", "constraints") + " (" + text::join(kinds, ", ") +
                      ")");
    }
  }
  add(count("SELECT count(*) FROM db_extension WHERE artifact_id IN " + in), "extension",
      "extensions");
  {
    store::Statement st =
        store.prepare("SELECT kind, count(*) FROM db_object WHERE artifact_id IN " + in +
                      " GROUP BY kind ORDER BY count(*) DESC, kind");
    while (st.step()) {
      long long n = st.get_int(1);
      std::string kind = st.get_text(0);
      std::replace(kind.begin(), kind.end(), '_', ' ');
      parts.push_back(plural(n, kind, kind + "s"));
    }
  }
  // With several artifacts (often several dumps of one database), the figures are their sum.
  std::string over =
      ids.size() > 1 ? fmt::format(" (summed over the {} artifacts)", ids.size()) : "";
  out << "\nObjects" << over << ": " << (parts.empty() ? "none" : text::join(parts, ", ")) << "\n";

  long long sections = count("SELECT count(*) FROM table_stats WHERE artifact_id IN " + in);
  if (sections > 0) {
    long long total_rows =
        count("SELECT coalesce(sum(rows),0) FROM table_stats WHERE artifact_id IN " + in);
    long long table_count = count(
        "SELECT count(*) FROM (SELECT DISTINCT db, schema_name, table_name FROM table_stats WHERE "
        "artifact_id IN " +
        in + ")");
    out << fmt::format("Rows{}: {} in {}\n", over, thousands(total_rows),
                       plural(table_count, "table", "tables"));
    ResultSet rs = run_query(
        store,
        "SELECT coalesce(db || ':', '') || schema_name || '.' || table_name AS name, sum(rows) AS "
        "rows, "
        "group_concat(DISTINCT source) AS source FROM table_stats WHERE artifact_id IN " +
            in + " GROUP BY db, schema_name, table_name ORDER BY sum(rows) DESC, name LIMIT 12");
    size_t w = 0;
    for (const auto& r : rs.rows) {
      w = std::max(w, r[0]->size());
    }
    for (const auto& r : rs.rows) {
      out << fmt::format("  {:<{}}  {:>12}  ({})\n", *r[0], w, thousands(std::stoll(*r[1])), *r[2]);
    }
    if (table_count > 12) {
      out << fmt::format("  ... and {} more tables\n", table_count - 12);
    }
  }

  store::Statement probs =
      store.prepare("SELECT severity, count(*) FROM problem WHERE artifact_id IN " + in +
                    " GROUP BY severity ORDER BY CASE severity WHEN 'error' THEN 1 WHEN 'warning' "
                    "THEN 2 ELSE 3 END");
  std::vector<std::string> by_severity;
  while (probs.step()) {
    by_severity.push_back(plural(probs.get_int(1), probs.get_text(0), probs.get_text(0) + "s"));
  }
  out << "Problems: " << (by_severity.empty() ? "none" : text::join(by_severity, ", ")) << "\n";
  store::Statement list = store.prepare(
      "SELECT a.path, p.line, p.severity, p.code, p.message FROM problem p JOIN artifact a ON a.id "
      "= p.artifact_id "
      "WHERE p.artifact_id IN " +
      in +
      " ORDER BY CASE p.severity WHEN 'error' THEN 1 WHEN 'warning' THEN 2 ELSE 3 END, p.id LIMIT "
      "10");
  while (list.step()) {
    std::string where = list.get_text(0);
    if (!list.is_null(1)) {
      where += ":" + std::to_string(list.get_int(1));
    }
    out << fmt::format("  {}: {} [{}] {}\n", where, list.get_text(2), list.get_text(3),
                       list.get_text(4));
  }
  long long total_problems = count("SELECT count(*) FROM problem WHERE artifact_id IN " + in);
  if (total_problems > 10) {
    out << fmt::format("  ... {} more: dbautopsy query --store {} \"SELECT * FROM problem\"\n",
                       total_problems - 10, store.path().string());
  }
}

}  // namespace

int cmd_ingest(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  std::string store_path;
  IngestArgs ingest;
  bool quiet = false;
  visible.add_options()("store,s", po::value(&store_path)->default_value(default_store_path()),
                        "fact store to write (created if missing)")(
      "quiet,q", po::bool_switch(&quiet),
      "no progress line on stderr (shown only on a terminal, never under CI)");
  add_ingest_options(visible, ingest, true);
  po::options_description hidden;
  hidden.add_options()("path", po::value<std::vector<std::string>>(), "artifact");
  po::positional_options_description positional;
  positional.add("path", -1);
  po::variables_map vm;
  if (!parse_args("ingest", "[OPTIONS] PATH...", args, visible, hidden, positional, vm,
                  kinds_help())) {
    return k_exit_ok;
  }
  if (!vm.count("path")) {
    throw UsageError("ingest: give at least one PATH (a file or a folder)");
  }
  IngestOptions options = ingest_options(ingest);
  timing::phase("start");

  // A folder is walked as investigate walks a case (links to outside it and FIFOs are listed,
  // not read); a file named here is read wherever a link leads, since the user named it.
  std::vector<std::pair<CaseEntry, std::string>> targets;
  for (const auto& p : vm["path"].as<std::vector<std::string>>()) {
    fs::path path(p);
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      throw InputError(Location{p}, "no such file or folder");
    }
    if (fs::is_directory(path) && !fs::exists(path / "toc.dat")) {
      for (auto& e : walk_case(path, options.follow_links)) {
        std::string shown = e.path.string();
        targets.emplace_back(std::move(e), std::move(shown));
      }
    } else {
      targets.emplace_back(CaseEntry{path, not_readable_reason(path)}, p);
    }
  }

  store::Store store = store::Store::open(store_path);
  timing::phase("open store");
  std::vector<int64_t> ids;
  bool trouble = false;
  // Archives of case files (case.zip, migrations.tar.gz) are read as the folders they hold.
  Scratch scratch;
  std::map<std::string, fs::path> disk_of;
  std::vector<ArtifactOutcome> outcomes;
  // A file handed over in pieces (split, .001 .002 ...) is one artifact: a dump, or an archive
  // of case files (then read as the folder it holds), or a dump among the archive's members.
  targets = join_pieces(std::move(targets));
  targets = expand_bundles(store, std::move(targets), scratch, options, outcomes, disk_of);
  targets = join_pieces(std::move(targets));
  std::vector<uint64_t> sizes;
  for (const auto& target : targets) {
    sizes.push_back(target.first.skipped.empty() ? size_on_disk(target.first.path) : 0);
  }
  // What each file gave is printed once the progress line is gone (the bundles' first).
  {
    // Into a store this run created: no WAL, indexes of the log tables built at the end.
    store::Store::BulkLoad bulk(store);
    Progress progress(progress_wanted(quiet),
                      std::accumulate(sizes.begin(), sizes.end(), uint64_t{0}), targets.size());
    IngestOptions first = options;
    first.keep_hinted = true;
    std::vector<std::pair<fs::path, std::string>> files;
    std::vector<ArtifactOutcome> read;
    for (size_t i = 0; i < targets.size(); ++i) {
      const auto& [entry, shown] = targets[i];
      progress.file(shown, sizes[i]);
      read.push_back(entry.skipped.empty() ? ingest_path(store, entry.path, shown, first)
                                           : record_skipped(store, entry, shown));
      files.emplace_back(entry.path, shown);
    }
    // A data-only dump beside the schema-only dump that declares its tables: the dumps of
    // earlier runs into this store, where they were read from, are looked at again too (the
    // schema-only dump may come second).
    size_t this_run = read.size();
    {
      std::set<std::string> named;
      for (const auto& f : files) {
        named.insert(f.second);
      }
      store::Statement st = store.prepare(
          "SELECT id, path, kind, codec FROM artifact WHERE kind IN ('pgdump-sql', "
          "'pgdump-custom', 'pgdump-tar', 'pgdump-dir') AND status IN ('ok', 'partial') "
          "ORDER BY id");
      while (st.step()) {
        std::string path = st.get_text(1);
        std::error_code ec;
        if (named.count(path) || !fs::exists(path, ec)) {
          continue;
        }
        ArtifactOutcome earlier;
        earlier.id = st.get_int(0);
        earlier.path = path;
        earlier.kind = st.get_text(2);
        earlier.codec = st.get_text(3);
        earlier.status = "unchanged";
        read.push_back(std::move(earlier));
        files.emplace_back(path, path);
      }
    }
    std::vector<ArtifactOutcome> before = read;
    read_data_with_schema(store, files, read, options);
    read_sections_together(store, files, read, options);
    read_tables_together(store, files, read, options);
    for (size_t i = 0; i < read.size(); ++i) {
      // An earlier run's dump is listed only when it was read again.
      if (i < this_run || read[i].status != before[i].status ||
          read[i].detail != before[i].detail) {
        outcomes.push_back(read[i]);
      }
    }
    timing::phase("read");
    bulk.finish();
  }
  timing::phase("finish load");
  std::cout << "Ingested into " << store_path << "\n";
  for (const auto& o : outcomes) {
    ids.push_back(o.id);
    std::cout << fmt::format("  {:<11} {:<13} {:<5} {}  {}\n", o.status, o.kind, o.codec, o.path,
                             o.detail);
    if (o.status == "failed" || o.status == "partial" || o.status == "unsupported") {
      trouble = true;
      std::cerr << fmt::format("dbautopsy: {}: {}: {}\n", o.path, o.status, o.detail);
    } else if (o.status == "skipped") {
      std::cerr << fmt::format("dbautopsy: {}: {}\n", o.path, o.detail);
    }
  }
  // Migration .py files' effects depend on one another: derived once all are read (paths
  // as given, from the current folder).
  auto locate = [&](const std::string& path) {
    auto it = disk_of.find(path);
    return it != disk_of.end() ? it->second : fs::path(path);
  };
  for (const auto& note : django::write_py_effects(store, locate).notes) {
    std::cerr << "dbautopsy: warning: " << note << "\n";
  }
  for (const auto& spec : unmatched_ignore_columns(store, options)) {
    std::cerr << fmt::format(
        "dbautopsy: warning: --ignore-columns {}: no such column in any dump\n", spec);
  }
  timing::phase("migration effects");
  print_summary(store, ids, std::cout);
  timing::phase("summary");
  return trouble ? k_exit_error : k_exit_ok;
}

}  // namespace dbautopsy::cli
