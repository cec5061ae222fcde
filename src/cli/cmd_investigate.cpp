// dbautopsy investigate / analyze / report: the main job and its two halves.
//
// investigate DIR = ingest every file under DIR (by content; what cannot be read is listed as
// not analysed, with why) into DIR/.dbautopsy/facts.db, analyze, report. The case may also be
// one file (an archive of case files, a dump, a log) or several files and folders (see
// case_inputs). `analyze` and `report` run the second and third steps over an existing store.

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
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
#include "cli/pieces.hpp"
#include "cli/progress.hpp"
#include "django/django_schema.hpp"
#include "reports/report.hpp"
#include "rules/engine/engine.hpp"
#include "store/facts.hpp"

namespace dbautopsy::cli {

namespace fs = std::filesystem;

namespace {

struct AnalysisArgs {
  std::vector<std::string> rules_dirs;
  std::vector<std::string> options;
  std::vector<std::string> natural_keys;
  std::string before, after;
};

struct ReportArgs {
  std::string format = "text";
  std::string fail_on = "error";
  std::string repair;
  std::string output;
  std::string out_dir;  // --out: every report at once
  bool verbose = false;
};

void add_analysis_options(po::options_description& d, AnalysisArgs& a) {
  d.add_options()("rules-dir", po::value(&a.rules_dirs)->composing(),
                  "also run the SQL rules of this folder (repeatable)")(
      "option", po::value(&a.options)->composing(),
      "a rule option RULE.NAME=VALUE (repeatable), e.g. drift.unexplained-table.allow=legacy_*")(
      "before", po::value(&a.before),
      "the dump taken before, by its path written any way (otherwise the dumps' sequences, "
      "highest ids, headers and file times decide)")("after", po::value(&a.after),
                                                     "the dump taken after, likewise")(
      "natural-key", po::value(&a.natural_keys)->composing(),
      "TABLE:COL[,COL...] the columns that identify a row of TABLE across dumps (repeatable; "
      "otherwise unique constraints, then the data, decide)");
}

void add_report_options(po::options_description& d, ReportArgs& r) {
  d.add_options()(
      "format,f", po::value(&r.format)->default_value("text"),
      "text, json, md, html (one self-contained page), sql (the repair script) or sarif (SARIF "
      "2.1.0)")("fail-on", po::value(&r.fail_on)->default_value("error"),
                "exit 1 when a finding is at least this severe: error, warning, info, never")(
      "repair", po::value(&r.repair), "also write the repair script (never run) to this file")(
      "output,o", po::value(&r.output), "write the report to this file instead of stdout")(
      "out", po::value(&r.out_dir),
      "also write every report into this folder: report.txt, report.md, report.json, "
      "report.sarif, repair.sql and verify.sql (created if need be)")(
      "verbose,v", po::bool_switch(&r.verbose),
      "text format: each finding's message, evidence and repair");
}

rules::AnalyzeOptions analysis_options(const AnalysisArgs& a) {
  rules::AnalyzeOptions o;
  for (const auto& dir : a.rules_dirs) {
    auto more = rules::load_rules_dir(dir);
    o.extra_rules.insert(o.extra_rules.end(), more.begin(), more.end());
  }
  for (const auto& opt : a.options) {
    size_t eq = opt.find('=');
    if (eq == std::string::npos) {
      throw UsageError(fmt::format("--option {}: give RULE.NAME=VALUE", opt));
    }
    o.options.emplace_back(opt.substr(0, eq), opt.substr(eq + 1));
  }
  // Names in double quotes as SQL writes them ("Sales-Stage".orders:"Order No").
  for (const auto& value : a.natural_keys) {
    // also as SQL writes a key: teams(league_id, series_name)
    const std::string written = colon_form(value);
    auto parts = text::split_names(written, ':');
    std::vector<std::string> columns;
    std::string table = text::unquote_name(parts.front());
    if (parts.size() == 2) {
      for (auto c : text::split_name_list(parts[1])) {
        if (std::string name = text::unquote_name(c); !name.empty()) {
          columns.push_back(std::move(name));
        }
      }
    }
    if (table.empty() || columns.empty()) {
      throw UsageError(fmt::format("--natural-key {}: give TABLE:COL[,COL...]", value));
    }
    o.derive.natural_keys[table] = columns;
  }
  if (!a.before.empty()) {
    o.derive.before = a.before;
  }
  if (!a.after.empty()) {
    o.derive.after = a.after;
  }
  return o;
}

// A path as the file system sees it: absolute, without `.` and `..`, through symlinks, with
// no trailing slash (a directory archive may be written `dump.dir/`).
fs::path resolved(const fs::path& p) {
  std::string text = p.string();
  while (text.size() > 1 && text.back() == '/') {
    text.pop_back();
  }
  std::error_code ec;
  fs::path absolute = fs::absolute(text, ec);
  if (ec) {
    return fs::path(text).lexically_normal();
  }
  fs::path canonical = fs::weakly_canonical(absolute, ec);
  return ec ? absolute.lexically_normal() : canonical;
}

// Where a path given by the user, or stored for an artifact, may be on disk: as written
// when absolute, else relative to the current directory or to one of `bases` (the case
// folder: stored paths are relative to it).
std::vector<fs::path> places(const std::string& path, const std::vector<fs::path>& bases,
                             bool with_cwd) {
  std::vector<fs::path> out;
  fs::path p(path);
  if (p.is_absolute()) {
    out.push_back(resolved(p));
    return out;
  }
  if (with_cwd) {
    out.push_back(resolved(p));
  }
  for (const auto& base : bases) {
    out.push_back(resolved(base / p));
  }
  return out;
}

// A dump's file name as a user may shorten it: lower case, without its compression and dump
// suffixes (before.sql.gz, BEFORE.SQL, before -> before).
std::string dump_stem(const std::string& name) {
  return text::lower(
      text::without_suffixes(name, {".gz", ".bz2", ".xz", ".zst", ".lz4", ".sql", ".dump",
                                    ".backup", ".pgdump", ".custom", ".tar", ".dir", ".psql"}));
}

// The stored path of the dump that a --before / --after value names, however the value is
// written (absolute, relative to the current directory or to the case folder, `./x`,
// `x/../x`, a symlink to it, a trailing slash): both sides are resolved and compared. A
// value that names no dump is a usage error that lists the dumps: a flag is never ignored.
std::string resolve_dump(store::Store& store, const std::string& flag, const std::string& value,
                         const std::vector<fs::path>& bases) {
  struct Stored {
    std::string path, kind, status;
  };
  std::vector<Stored> artifacts;
  store::Statement st = store.prepare("SELECT path, kind, status FROM artifact ORDER BY path");
  while (st.step()) {
    artifacts.push_back({st.get_text(0), st.get_text(1), st.get_text(2)});
  }
  st.reset();
  auto is_dump = [](const Stored& a) {
    return a.kind.starts_with("pgdump-") && (a.status == "ok" || a.status == "partial");
  };
  std::vector<fs::path> wanted = places(value, bases, true);
  const Stored* hit = nullptr;
  const Stored* other = nullptr;  // the artifact named, when it is no dump
  for (const auto& a : artifacts) {
    std::vector<fs::path> where = places(a.path, bases, bases.empty());
    bool same = a.path == value || std::any_of(where.begin(), where.end(), [&](const fs::path& w) {
                  return std::find(wanted.begin(), wanted.end(), w) != wanted.end();
                });
    if (!same) {
      continue;
    }
    if (!is_dump(a)) {
      other = other ? other : &a;
    } else if (!hit || a.path == value) {
      hit = &a;
    }
  }
  if (hit) {
    return hit->path;
  }
  // Not a path of the case: a bare file name (no folder in it) without its suffixes, in any
  // case (`before`, `before.sql` or `BEFORE.SQL.GZ` for before.sql.gz), when one dump has it.
  if (!other && value.find('/') == std::string::npos) {
    std::vector<std::string> named;
    const std::string want = dump_stem(fs::path(value).filename().string());
    for (const auto& a : artifacts) {
      if (is_dump(a) && !want.empty() && dump_stem(fs::path(a.path).filename().string()) == want) {
        named.push_back(a.path);
      }
    }
    if (named.size() == 1) {
      return named.front();
    }
    if (named.size() > 1) {
      throw UsageError(fmt::format("--{} {}: names several dumps ({}); give its path", flag, value,
                                   text::join(named, ", ")));
    }
  }
  std::string dumps;
  for (const auto& a : artifacts) {
    if (is_dump(a)) {
      dumps += (dumps.empty() ? "" : ", ") + a.path;
    }
  }
  std::string listed =
      dumps.empty() ? "the inputs hold no readable dump" : fmt::format("the dumps are: {}", dumps);
  if (other) {
    throw UsageError(fmt::format("--{} {}: that is {}, read as {} ({}), not a dump; {}", flag,
                                 value, other->path, other->kind, other->status, listed));
  }
  std::error_code ec;
  bool exists = std::any_of(wanted.begin(), wanted.end(),
                            [&](const fs::path& w) { return fs::exists(w, ec); });
  throw UsageError(fmt::format("--{} {}: {}; {}", flag, value,
                               exists ? "not one of the inputs" : "no such file", listed));
}

// Resolves --before / --after to the stored paths of the dumps they name (see resolve_dump).
void resolve_snapshot_flags(store::Store& store, AnalysisArgs& a,
                            const std::vector<fs::path>& bases) {
  if (!a.before.empty()) {
    a.before = resolve_dump(store, "before", a.before, bases);
  }
  if (!a.after.empty()) {
    a.after = resolve_dump(store, "after", a.after, bases);
  }
  if (!a.before.empty() && a.before == a.after) {
    throw UsageError(fmt::format("--before and --after both name {}: give two dumps", a.before));
  }
}

// dbautopsy writes only its store, the report and the repair script, and no two of them to
// the same file.
void check_outputs_distinct(const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::map<fs::path, std::string> taken;
  for (const auto& [flag, value] : outputs) {
    if (value.empty()) {
      continue;
    }
    auto [it, fresh] = taken.emplace(resolved(value), flag);
    if (!fresh) {
      throw UsageError(
          fmt::format("--{} and --{} both name {}: give two files", it->second, flag, value));
    }
  }
}

// None of the outputs may be one of the inputs that dbautopsy reads as evidence (a mistyped
// -o must not overwrite a dump). A file of no known kind in the case folder -- the report of
// an earlier run, a store -- may be written again. `known` is "path is of a known kind"
// (paths relative to `dir`); the store is checked before it is opened, as a file that is
// not an SQLite database.
void check_outputs_spare_inputs(const fs::path& dir, const std::vector<std::string>& known,
                                const std::vector<std::pair<std::string, std::string>>& outputs) {
  for (const auto& [flag, value] : outputs) {
    if (value.empty()) {
      continue;
    }
    fs::path out = resolved(value);
    for (const auto& path : known) {
      fs::path in = resolved(dir / path);
      if (out == in || out.string().starts_with(in.string() + "/")) {
        throw UsageError(
            fmt::format("--{} {}: that is the input {}; dbautopsy never writes over its inputs",
                        flag, value, path));
      }
    }
  }
}

// --store naming a file under the case folder that is not an SQLite database (a dump, say):
// refused before the store is opened.
void check_store_spares_inputs(const fs::path& dir, const std::vector<fs::path>& inputs,
                               const std::string& store_path) {
  fs::path out = resolved(store_path);
  for (const auto& f : inputs) {
    fs::path in = resolved(f);
    if (out != in && !out.string().starts_with(in.string() + "/")) {
      continue;
    }
    std::ifstream file(in, std::ios::binary);
    char magic[16] = {};
    file.read(magic, sizeof magic);
    if (!file || std::string(magic, sizeof magic) != std::string("SQLite format 3\0", 16)) {
      throw UsageError(
          fmt::format("--store {}: that is the input {}; dbautopsy never writes over its inputs",
                      store_path, fs::relative(f, dir).string()));
    }
  }
}

// What `investigate` reads, however the case is given (see case_inputs).
struct CaseInputs {
  fs::path root;                // stored paths are relative to it (or absolute)
  std::vector<fs::path> bases;  // where --before / --after values may be relative to
  std::string default_store;    // the store without --store
  std::string title;            // the report's title
  std::vector<Target> targets;  // each file (or not-read entry) and its shown path
};

// `path` absolute, without `.` and `..` (lexically: a link keeps its name) and without a
// trailing slash.
fs::path absolute_lexical(const std::string& path) {
  fs::path p = fs::absolute(path).lexically_normal();
  std::string text = p.string();
  while (text.size() > 1 && text.back() == '/') {
    text.pop_back();
  }
  return text;
}

// A path as shown and stored when several paths make the case: relative to the current
// folder when under it, else absolute.
fs::path shown_from_cwd(const fs::path& absolute, const fs::path& cwd) {
  fs::path rel = absolute.lexically_relative(cwd);
  if (rel.empty() || *rel.begin() == "..") {
    return absolute;
  }
  return rel == "." ? fs::path() : rel;
}

// A folder is a case folder unless it is a pg_dump directory archive (one dump).
bool is_case_folder(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && !fs::exists(p / "toc.dat", ec);
}

// The case `investigate` is given:
//  - one folder: every file under it, shown relative to it; the store in DIR/.dbautopsy/;
//  - one file (an archive of case files, read as the folder it holds, or a dump, a log, a
//    pg_dump directory archive ...): a case of that file, shown by its name (an archive's
//    members as NAME/<member>); the store DIR/.dbautopsy/NAME.facts.db beside it, so that
//    nothing is written into its folder but dbautopsy's own .dbautopsy/, as for a case folder;
//  - several files and folders (as `ingest` takes them): each folder walked, each file read,
//    all shown relative to the current folder (absolute when outside it); the store in the
//    current folder's .dbautopsy/, where `ingest`, `analyze` and `report` look by default.
// A file named here is read wherever a link leads, since the user named it.
CaseInputs case_inputs(const std::vector<std::string>& given, const IngestOptions& options) {
  CaseInputs out;
  if (given.size() == 1 && is_case_folder(given.front())) {
    fs::path dir = given.front();
    out.root = dir;
    out.bases = {dir};
    out.default_store = (dir / ".dbautopsy" / "facts.db").string();
    out.title = given.front();
    // Paths as walked (not through links: fs::relative would show where a link leads).
    fs::path base = dir.lexically_normal();
    if (!base.has_filename() && base.has_relative_path()) {
      base = base.parent_path();  // "case/"
    }
    for (auto& e : walk_case(dir, options.follow_links)) {
      std::string shown = e.path.lexically_normal().lexically_relative(base).string();
      out.targets.emplace_back(std::move(e), std::move(shown));
    }
    return out;
  }
  if (given.size() == 1) {
    fs::path file = absolute_lexical(given.front());
    std::string name = file.filename().string();
    out.root = file.parent_path();
    // --before NAME/<member> or <member> alone (relative to the archive).
    out.bases = {out.root, file};
    out.default_store = (out.root / ".dbautopsy" / (name + ".facts.db")).string();
    out.title = given.front();
    out.targets.emplace_back(CaseEntry{given.front(), not_readable_reason(given.front())}, name);
    return out;
  }
  fs::path cwd = fs::current_path();
  out.root = cwd;
  out.bases = {cwd};
  out.default_store = default_store_path();
  out.title = text::join(given, " ");
  // A path named twice (`. before.sql.gz`) is read once; one file reached by two paths (a
  // folder and a link to it) is read at the first and listed as not read at the other.
  std::set<std::string> seen;
  std::map<fs::path, std::string> read_as;
  auto add = [&](CaseEntry e, const fs::path& shown) {
    std::string text = shown.empty() ? "." : shown.string();
    if (!seen.insert(text).second) {
      return;
    }
    std::error_code ec;
    fs::path real = fs::canonical(e.path, ec);
    if (e.skipped.empty() && !ec) {
      auto [it, fresh] = read_as.emplace(real, text);
      if (!fresh) {
        e.skipped = fmt::format("the same file as {}, read there", it->second);
      }
    }
    out.targets.emplace_back(std::move(e), std::move(text));
  };
  for (const auto& p : given) {
    fs::path absolute = absolute_lexical(p);
    fs::path shown = shown_from_cwd(absolute, cwd);
    if (!is_case_folder(p)) {
      add(CaseEntry{p, not_readable_reason(p)}, shown);
      continue;
    }
    fs::path base = fs::path(p).lexically_normal();
    if (!base.has_filename() && base.has_relative_path()) {
      base = base.parent_path();
    }
    for (auto& e : walk_case(p, options.follow_links)) {
      fs::path rel = e.path.lexically_normal().lexically_relative(base);
      add(std::move(e), (shown / rel).lexically_normal());
    }
  }
  // Read in the order of their paths, as in a folder: which of two inputs that say the same
  // is cited does not depend on the order of the arguments.
  std::stable_sort(out.targets.begin(), out.targets.end(), [](const Target& a, const Target& b) {
    return fs::path(a.second) < fs::path(b.second);
  });
  return out;
}

const std::string k_case_help =
    "The case is a folder, read whole (store DIR/.dbautopsy/facts.db); or one file: an\n"
    "archive of case files (zip, tar, tar.gz, tar.xz, tar.zst, 7z) read as the folder it\n"
    "holds, its members shown as NAME/<member>, or a single dump or log (store\n"
    ".dbautopsy/NAME.facts.db beside the file); or several files and folders, as `ingest`\n"
    "takes them (paths shown from the current folder, store .dbautopsy/facts.db there).\n\n";

void check_report_args(ReportArgs& r) {
  r.format = choice("--format", r.format, {"text", "json", "md", "html", "sql", "sarif"},
                    {{"txt", "text"},
                     {"markdown", "md"},
                     {"htm", "html"},
                     {"sarif-2.1.0", "sarif"},
                     {"repair", "sql"}});
  r.fail_on = choice("--fail-on", r.fail_on, {"error", "warning", "info", "never"},
                     {{"errors", "error"},
                      {"warn", "warning"},
                      {"warnings", "warning"},
                      {"none", "never"},
                      {"off", "never"}});
}

std::vector<reports::RuleDoc> rule_docs() {
  std::vector<reports::RuleDoc> docs;
  for (const auto& r : rules::builtin_rules()) {
    docs.push_back({r.id, r.severity, r.title, r.rationale, r.remedy, r.doc});
  }
  return docs;
}

// The files --out writes, in the folder it names.
std::vector<std::string> out_files(const std::string& dir) {
  std::vector<std::string> out;
  if (!dir.empty()) {
    for (const char* name : {"report.txt", "report.md", "report.html", "report.json",
                             "report.sarif", "repair.sql", "verify.sql"}) {
      out.push_back((fs::path(dir) / name).string());
    }
  }
  return out;
}

// Renders the report and returns the exit status the findings call for.
int emit_report(store::Store& store, const ReportArgs& args, const std::string& title,
                const std::vector<std::string>& notes) {
  reports::Report report = reports::load_report(store, version(), title);
  report.notes = notes;
  timing::phase("report: load");
  std::ofstream file;
  if (!args.output.empty()) {
    file.open(args.output);
    if (!file) {
      throw Error(fmt::format("cannot write {}", args.output));
    }
  }
  std::ostream& out = args.output.empty() ? std::cout : file;
  bool tty = args.output.empty() && ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
  if (args.format == "json") {
    reports::write_json(out, report);
  } else if (args.format == "md") {
    reports::write_markdown(out, report);
  } else if (args.format == "html") {
    reports::write_html(out, report);
  } else if (args.format == "sql") {
    reports::write_repair_script(out, report);
  } else if (args.format == "sarif") {
    reports::write_sarif(out, report, rule_docs());
  } else {
    reports::write_text(out, report, tty, args.verbose);
  }
  if (!args.out_dir.empty()) {
    std::error_code ec;
    fs::create_directories(args.out_dir, ec);
    if (ec || !fs::is_directory(args.out_dir)) {
      throw Error(fmt::format("--out {}: cannot make the folder{}", args.out_dir,
                              ec ? ": " + ec.message() : std::string()));
    }
    auto write = [&](const char* name, const auto& render) {
      fs::path path = fs::path(args.out_dir) / name;
      std::ofstream f(path);
      if (!f) {
        throw Error(fmt::format("cannot write {}", path.string()));
      }
      render(f);
      if (!f.flush()) {
        throw Error(fmt::format("cannot write {}", path.string()));
      }
    };
    write("report.txt", [&](std::ostream& f) { reports::write_text(f, report, false, true); });
    write("report.md", [&](std::ostream& f) { reports::write_markdown(f, report); });
    write("report.html", [&](std::ostream& f) { reports::write_html(f, report); });
    write("report.json", [&](std::ostream& f) { reports::write_json(f, report); });
    write("report.sarif", [&](std::ostream& f) { reports::write_sarif(f, report, rule_docs()); });
    write("repair.sql", [&](std::ostream& f) { reports::write_repair_script(f, report); });
    write("verify.sql", [&](std::ostream& f) { reports::write_verify_script(f, report); });
  }
  if (!args.repair.empty()) {
    std::ofstream repair(args.repair);
    if (!repair) {
      throw Error(fmt::format("cannot write {}", args.repair));
    }
    reports::write_repair_script(repair, report);
  }
  timing::phase("report: write");
  if (args.fail_on == "never") {
    return k_exit_ok;
  }
  return reports::count_at_least(report, args.fail_on) > 0 ? k_exit_findings : k_exit_ok;
}

std::vector<std::string> analyze_and_note(store::Store& store, const AnalysisArgs& args) {
  rules::AnalyzeSummary s = rules::analyze(store, analysis_options(args));
  std::vector<std::string> notes = s.derived.notes;
  for (const auto& e : s.rule_errors) {
    std::cerr << "dbautopsy: " << e << "\n";
    notes.push_back(e);
  }
  return notes;
}

}  // namespace

int cmd_investigate(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  std::string store_path;
  IngestArgs ingest;
  AnalysisArgs analysis;
  ReportArgs report;
  bool quiet = false;
  visible.add_options()("store,s", po::value(&store_path),
                        "fact store (default: DIR/.dbautopsy/facts.db for a folder, "
                        "DIR/.dbautopsy/NAME.facts.db for one file DIR/NAME, "
                        ".dbautopsy/facts.db in the current folder for several)")(
      "quiet,q", po::bool_switch(&quiet),
      "no progress line on stderr (shown only on a terminal, never under CI)");
  add_ingest_options(visible, ingest, false);
  add_analysis_options(visible, analysis);
  add_report_options(visible, report);
  po::options_description hidden;
  hidden.add_options()("path", po::value<std::vector<std::string>>(), "case");
  po::positional_options_description positional;
  positional.add("path", -1);
  po::variables_map vm;
  if (!parse_args("investigate", "[OPTIONS] DIR | FILE | PATH...", args, visible, hidden,
                  positional, vm, k_case_help + kinds_help())) {
    return k_exit_ok;
  }
  if (!vm.count("path")) {
    throw UsageError(
        "investigate: give the case: a folder, an archive of one (zip, tar, 7z), one file, or "
        "several files and folders");
  }
  check_report_args(report);
  timing::phase("start");
  const std::vector<std::string> given = vm["path"].as<std::vector<std::string>>();
  for (const auto& p : given) {
    std::error_code ec;
    if (p.empty() || !fs::exists(fs::symlink_status(p, ec))) {
      throw InputError(Location{p}, "no such file or folder");
    }
  }
  IngestOptions options = ingest_options(ingest);
  CaseInputs inputs = case_inputs(given, options);
  const fs::path& dir = inputs.root;
  bool own_store = store_path.empty();
  if (own_store) {
    store_path = inputs.default_store;
  }

  // A link to outside a folder, a FIFO, ... is listed as not read (see walk_case).
  std::vector<Target> targets = std::move(inputs.targets);
  // The reports of an earlier run into a folder under DIR (--out DIR/report) are not
  // evidence: a repair.sql read back as a dump would change what the case says.
  if (!report.out_dir.empty()) {
    std::string out = resolved(report.out_dir).string() + "/";
    targets.erase(std::remove_if(targets.begin(), targets.end(),
                                 [&](const Target& t) {
                                   return resolved(t.first.path).string().starts_with(out);
                                 }),
                  targets.end());
  }
  std::vector<fs::path> files;
  for (const auto& [e, shown] : targets) {
    if (e.skipped.empty()) {
      files.push_back(e.path);
    }
  }
  {
    std::vector<std::pair<std::string, std::string>> outputs{
        {"store", own_store ? std::string() : store_path},
        {"output", report.output},
        {"repair", report.repair}};
    for (const auto& f : out_files(report.out_dir)) {
      outputs.emplace_back("out", f);
    }
    check_outputs_distinct(outputs);
  }
  if (!own_store) {
    check_store_spares_inputs(dir, files, store_path);
  }
  // The case's own store only caches what the case holds: one written by another version of
  // dbautopsy is made anew.
  store::Store store = store::Store::open(
      store_path, own_store ? store::Store::Mode::cache : store::Store::Mode::read_write);
  std::set<std::string> present;
  bool input_error = false;
  std::vector<std::string> trouble;  // said once the progress line is gone
  // Archives of case files (case.zip, migrations.tar.gz) are read as the folders they hold.
  Scratch scratch;
  std::map<std::string, fs::path> disk_of;
  std::vector<ArtifactOutcome> bundles;
  // A file handed over in pieces (split, .001 .002 ...) is one artifact: a dump, or an archive
  // of case files (then read as the folder it holds), or a dump among the archive's members.
  targets = join_pieces(std::move(targets));
  targets = expand_bundles(store, std::move(targets), scratch, options, bundles, disk_of);
  targets = join_pieces(std::move(targets));
  for (const auto& b : bundles) {
    present.insert(b.path);
    if (b.status != "ok") {
      input_error = true;
      trouble.push_back(fmt::format("dbautopsy: {}: {}: {}\n", b.path, b.status, b.detail));
    }
  }
  std::vector<uint64_t> sizes;
  for (const auto& [e, shown] : targets) {
    sizes.push_back(e.skipped.empty() ? size_on_disk(e.path) : 0);
  }
  Progress progress(progress_wanted(quiet),
                    std::accumulate(sizes.begin(), sizes.end(), uint64_t{0}), targets.size());
  {
    // Into a store this run created (the first run over the folder, or a store of another
    // version made anew): as `ingest` loads one (no WAL, the log tables' indexes at the end).
    store::Store::BulkLoad bulk(store);
    IngestOptions first = options;
    first.keep_hinted = true;
    std::vector<std::pair<fs::path, std::string>> files;
    std::vector<ArtifactOutcome> read;
    for (size_t i = 0; i < targets.size(); ++i) {
      const auto& [e, shown] = targets[i];
      present.insert(shown);
      if (!e.skipped.empty()) {
        record_skipped(store, e, shown);
        trouble.push_back(fmt::format("dbautopsy: {}: {}\n", shown, e.skipped));
        continue;
      }
      progress.file(shown, sizes[i]);
      read.push_back(ingest_path(store, e.path, shown, first));
      files.emplace_back(e.path, shown);
    }
    // Artifacts of earlier runs whose files are gone are forgotten.
    {
      std::vector<int64_t> stale;
      store::Statement st = store.prepare("SELECT id, path FROM artifact");
      while (st.step()) {
        if (!present.count(st.get_text(1))) {
          stale.push_back(st.get_int(0));
        }
      }
      st.reset();
      store::Store::Transaction tx(store);
      for (int64_t id : stale) {
        store::forget_artifact(store, id);
      }
      tx.commit();
    }
    // A data-only dump beside the schema-only dump that declares its tables (once the dumps
    // no longer in the folder are forgotten).
    read_data_with_schema(store, files, read, options);
    read_sections_together(store, files, read, options);
    read_tables_together(store, files, read, options);
    for (const auto& o : read) {
      if ((o.status == "failed" && o.kind != "unknown") || o.status == "partial") {
        input_error = true;
        trouble.push_back(fmt::format("dbautopsy: {}: {}: {}\n", o.path, o.status, o.detail));
      }
    }
    bulk.finish();
  }
  progress.phase("analysing");
  timing::phase("ingest");
  // Migration .py files' effects depend on one another: derived once all are read.
  std::vector<std::string> py_notes = django::write_py_effects(store, [&](const std::string& path) {
                                        auto it = disk_of.find(path);
                                        return it != disk_of.end() ? it->second : dir / path;
                                      }).notes;
  {
    std::vector<std::string> known;
    store::Statement st = store.prepare("SELECT path FROM artifact WHERE kind <> 'unknown'");
    while (st.step()) {
      known.push_back(st.get_text(0));
    }
    st.reset();
    std::vector<std::pair<std::string, std::string>> outputs{{"output", report.output},
                                                             {"repair", report.repair}};
    for (const auto& f : out_files(report.out_dir)) {
      outputs.emplace_back("out", f);
    }
    check_outputs_spare_inputs(dir, known, outputs);
  }
  resolve_snapshot_flags(store, analysis, inputs.bases);
  timing::phase("after ingest");
  std::vector<std::string> notes = analyze_and_note(store, analysis);
  notes.insert(notes.end(), py_notes.begin(), py_notes.end());
  for (const auto& spec : unmatched_ignore_columns(store, options)) {
    notes.push_back(fmt::format("--ignore-columns {}: no such column in any dump", spec));
  }
  progress.stop();
  for (const auto& t : trouble) {
    std::cerr << t;
  }
  int status = emit_report(store, report, inputs.title, notes);
  if (input_error) {
    std::cerr << "dbautopsy: some artifacts could not be read in full (see above); exit status 2\n";
    return k_exit_error;
  }
  return status;
}

int cmd_analyze(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  std::string store_path;
  AnalysisArgs analysis;
  visible.add_options()("store,s", po::value(&store_path)->default_value(default_store_path()),
                        "fact store (or the case folder `investigate` analysed)");
  add_analysis_options(visible, analysis);
  po::options_description hidden;
  po::positional_options_description positional;
  po::variables_map vm;
  if (!parse_args("analyze", "[--store F] [OPTIONS]", args, visible, hidden, positional, vm)) {
    return k_exit_ok;
  }
  store_path = store_file(store_path);
  // A mistyped --store must not come out as a new, empty store and a clean bill of health.
  if (!fs::exists(store_path)) {
    throw Error(fmt::format(
        "no fact store at {} (create one with `dbautopsy ingest --store {}` or `dbautopsy "
        "investigate DIR`)",
        store_path, store_path));
  }
  store::Store store = store::Store::open(store_path, store::Store::Mode::read_write);
  // Stored paths are as `ingest` was given them (relative to the directory it ran in), or
  // relative to the case folder of `investigate`, whose store is DIR/.dbautopsy/facts.db.
  std::vector<fs::path> bases = {fs::current_path()};
  fs::path store_dir = resolved(store_path).parent_path();
  if (store_dir.filename() == ".dbautopsy") {
    bases.push_back(store_dir.parent_path());
    // The store of a one-file case, DIR/.dbautopsy/NAME.facts.db: --before <member> of the
    // archive NAME.
    std::string name = resolved(store_path).filename().string();
    if (name != "facts.db" && name.ends_with(".facts.db")) {
      bases.push_back(store_dir.parent_path() / name.substr(0, name.size() - 9));
    }
  }
  resolve_snapshot_flags(store, analysis, bases);
  rules::AnalyzeSummary s = rules::analyze(store, analysis_options(analysis));
  std::cout << fmt::format(
      "{} snapshots, {} recorded migrations, {} expected objects; {} findings "
      "in {} causes\n",
      s.derived.snapshots, s.derived.recorded_migrations, s.derived.expected_objects, s.findings,
      s.causes);
  for (const auto& n : s.derived.notes) {
    std::cout << "note: " << n << "\n";
  }
  for (const auto& e : s.rule_errors) {
    std::cerr << "dbautopsy: " << e << "\n";
  }
  return s.rule_errors.empty() ? k_exit_ok : k_exit_error;
}

int cmd_report(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  std::string store_path;
  ReportArgs report;
  visible.add_options()("store,s", po::value(&store_path)->default_value(default_store_path()),
                        "fact store (or the case folder `investigate` analysed)");
  add_report_options(visible, report);
  po::options_description hidden;
  po::positional_options_description positional;
  po::variables_map vm;
  if (!parse_args("report", "[--store F] [OPTIONS]", args, visible, hidden, positional, vm)) {
    return k_exit_ok;
  }
  check_report_args(report);
  store_path = store_file(store_path);
  store::Store store = store::Store::open(store_path, store::Store::Mode::read_only);
  return emit_report(store, report, store_path, {});
}

}  // namespace dbautopsy::cli
