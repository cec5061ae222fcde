#include "cli/ingest.hpp"

#include <sys/stat.h>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <algorithm>
#include <future>
#include <map>
#include <optional>
#include <set>

#include "base/error.hpp"
#include "base/text.hpp"
#include "cli/kinds.hpp"
#include "cli/options.hpp"
#include "cli/pieces.hpp"
#include "io/digest.hpp"
#include "io/input.hpp"
#include "io/pieces.hpp"
#include "logs/pg_stderr.hpp"
#include "pgdump/copy_stats.hpp"
#include "store/facts.hpp"

namespace dbautopsy::cli {

namespace fs = std::filesystem;

std::string file_mtime(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:09d}Z", fmt::gmtime(st.st_mtim.tv_sec),
                     st.st_mtim.tv_nsec);
}

namespace {

std::string first_error(store::Store& store, int64_t artifact) {
  store::Statement st = store.prepare(
      "SELECT message FROM problem WHERE artifact_id = ?1 AND severity = 'error' ORDER BY id "
      "LIMIT 1");
  st.bind(1, artifact);
  std::string out = st.step() ? st.get_text(0) : std::string();
  st.reset();
  return out;
}

}  // namespace

namespace {

// Which build of dbautopsy reads: its executable's size and modification time. A case
// folder's store caches what an earlier run read; what another build read (a fixed reader of
// the same version number) is read again.
const std::string& reader_build() {
  static const std::string k_build = [] {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) {
      return std::string();
    }
    const auto size = fs::file_size(exe, ec);
    if (ec) {
      return std::string();
    }
    const auto time = fs::last_write_time(exe, ec);
    if (ec) {
      return std::string();
    }
    return fmt::format("{}-{}", size, time.time_since_epoch().count());
  }();
  return k_build;
}

}  // namespace

namespace {
// Where the schema hints' part of an artifact's read options starts.
constexpr const char* k_schema_hints_mark = ";schema-from=";
// Where the part of a pre-data dump read with its post-data dumps starts, and that of a
// post-data dump read after its pre-data dump (read_sections_together).
constexpr const char* k_post_data_mark = ";post-data=";
constexpr const char* k_read_after_mark = ";read-after=";
// Where the part of a per-table dump read with the other tables' dumps starts, and that of a
// per-table dump read as part of another (read_tables_together).
constexpr const char* k_table_dumps_mark = ";table-dumps=";
constexpr const char* k_tables_into_mark = ";tables-into=";

// Whether `stored` is `base` read again by the second pass of a run (with schema hints, or
// with the other sections of its dump).
bool second_pass_of(const std::string& stored, const std::string& base) {
  if (stored.rfind(base, 0) != 0) {
    return false;
  }
  std::string_view rest = std::string_view(stored).substr(base.size());
  return rest.starts_with(k_schema_hints_mark) || rest.starts_with(k_post_data_mark) ||
         rest.starts_with(k_read_after_mark) || rest.starts_with(k_table_dumps_mark) ||
         rest.starts_with(k_tables_into_mark);
}

// Files read with an artifact, for its signature: each one's path (as shown) and content
// ("-" when it cannot be read), hashed together.
std::string files_digest(const std::vector<std::pair<fs::path, std::string>>& files) {
  io::Sha256 digest;
  for (const auto& [disk, shown] : files) {
    std::string sha = "-";
    try {
      sha = io::sha256_file(disk);
    } catch (const Error&) {
    }
    std::string part = fmt::format("{} {}\n", shown, sha);
    digest.update(part.data(), part.size());
  }
  return digest.finish().substr(0, 16);
}

// The paths of such files as shown, parted by commas.
std::string shown_paths(const std::vector<std::pair<fs::path, std::string>>& files) {
  std::vector<std::string> shown;
  for (const auto& f : files) {
    shown.push_back(f.second);
  }
  return text::join(shown, ", ");
}

// The read options of a dump read in a run's first pass (`outcome` of it, read or unchanged,
// and stored under its id); nothing for any other artifact.
std::optional<std::string> stored_dump_options(store::Store& store, const ArtifactOutcome& o) {
  if (o.id == 0 || (o.status != "ok" && o.status != "partial" && o.status != "unchanged") ||
      (o.kind != "pgdump-sql" && o.kind != "pgdump-custom" && o.kind != "pgdump-tar" &&
       o.kind != "pgdump-dir")) {
    return std::nullopt;
  }
  auto stored = store::find_artifact(store, o.path);
  if (!stored || stored->id != o.id) {
    return std::nullopt;
  }
  return stored->read_options.value_or("");
}
}  // namespace

std::string IngestOptions::signature() const {
  std::string out = fmt::format("ignore-columns={};row-cap={};exact-cap={}",
                                text::join(ignore_columns, ","), row_cap, exact_cap);
  if (!reader_build().empty()) {
    out += ";build=" + reader_build();
  }
  if (log_formats) {
    out += ";log-format=" + log_formats->digest;
  }
  if (pg_prefix) {
    out += fmt::format(";pg-prefix={}", *pg_prefix);
  }
  // A file stopped at a limit is read again under another one.
  if (max_ratio != 250 || max_decoded_mb != 0) {
    out += fmt::format(";max-ratio={};max-decoded-mb={}", max_ratio, max_decoded_mb);
  }
  if (schema_hints && !schema_hints->empty()) {
    // What the hints decide: each table's surrogate columns, and where they are declared.
    io::Sha256 digest;
    for (const auto& [table, hint] : *schema_hints) {
      std::string part = fmt::format("{}.{} from {}:", table.first, table.second, hint.from);
      for (const auto& c : hint.columns) {
        part += fmt::format(" {}={}/{}/{}", c.name, pgdump::surrogate_reason(c), c.type,
                            c.default_expr.value_or(""));
      }
      part += "\n";
      digest.update(part.data(), part.size());
    }
    out += k_schema_hints_mark + digest.finish().substr(0, 16);
  }
  if (!post_data.empty()) {
    out += k_post_data_mark + files_digest(post_data);  // what the later sections hold
  }
  if (!read_after.empty()) {
    out += k_read_after_mark + read_after;
  }
  if (!table_dumps.empty()) {
    out += k_table_dumps_mark + files_digest(table_dumps);  // what the other tables' dumps hold
  }
  if (!tables_into.empty()) {
    out += k_tables_into_mark + tables_into;
  }
  return out;
}

void add_ingest_options(boost::program_options::options_description& d, IngestArgs& a,
                        bool with_as) {
  namespace po = boost::program_options;
  if (with_as) {
    d.add_options()("as", po::value(&a.kind),
                    "read every PATH as this kind instead of detecting it (pgdump-sql, ...)");
  }
  d.add_options()("max-statement-mb", po::value(&a.max_statement_mb)->default_value(16),
                  "longest SQL statement read, in MiB (1 to 4096); a longer one is recorded "
                  "as a problem with its line and skipped, and the rest of the file is read")(
      "ignore-columns", po::value(&a.ignore_columns)->composing(),
      "TABLE:COL[,COL...] also left out when comparing rows for duplicates (repeatable; TABLE "
      "may be schema.table; a COL without TABLE: applies to every table)")(
      "row-cap", po::value(&a.row_cap)->default_value(50'000),
      "rows of each table kept for key and reference checks")(
      "exact-cap", po::value(&a.exact_cap)->default_value(2'000'000),
      "distinct rows of each table counted exactly before a sketch takes over (32 to 64 bytes "
      "each)")("log-format", po::value(&a.log_formats)->composing(),
               "FILE: a log format (JSON, a subset of lnav's format files: RE2 patterns with named "
               "captures, or JSON-lines field names) for the app-log-user kind (repeatable)")(
      "pg-prefix",
      po::value<std::string>()->notifier([&a](const std::string& v) { a.pg_prefix = v; }),
      "log_line_prefix of PostgreSQL stderr logs, with PostgreSQL's % escapes (e.g. "
      "'%m [%p] %q%u@%d '), or its line of postgresql.conf as it stands there "
      "(log_line_prefix = '...'); detected from each log's lines when not given")(
      "follow-links", po::bool_switch(&a.follow_links),
      "in a folder, also read what symbolic links lead to outside it (by default such a link is "
      "listed as not read, with its link text only)")(
      "max-ratio", po::value(&a.max_ratio)->default_value(250),
      "stop reading a compressed file, or a compressed data block of a pg_dump archive (a "
      "custom archive's table data, a directory archive's .dat.gz), that expands more than N "
      "times past its first 64 MiB decoded (a decompression bomb): what was read is kept, "
      "marked partial; 0: no limit")(
      "max-decoded-mb", po::value(&a.max_decoded_mb)->default_value(0),
      "stop reading a compressed file, or a compressed data block of an archive, past this many "
      "MiB decoded: what was read is kept, marked partial (0: no limit)");
}

IngestOptions ingest_options(const IngestArgs& a) {
  IngestOptions o;
  if (!a.kind.empty()) {
    o.forced_kind = choice("--as", a.kind, known_kinds());
  }
  if (a.max_statement_mb == 0 || a.max_statement_mb > 4096) {
    throw UsageError("--max-statement-mb: give 1 to 4096");
  }
  o.max_statement_bytes = a.max_statement_mb << 20;
  // "teams:a,b" -> teams.a, teams.b; "t1:a,t2:b" -> t1.a, t2.b; "a" -> a (every table);
  // names in double quotes as SQL writes them ("Sales-Stage".orders:"Created At").
  for (const auto& value : a.ignore_columns) {
    std::string table;
    // also as SQL writes a key: practice_times_backup(location, created_at)
    const std::string written = colon_form(value);
    for (const auto& raw : text::split_name_list(written)) {
      auto parts = text::split_names(raw, ':');
      std::string item = text::unquote_name(parts.back());
      bool colon = parts.size() > 1;
      if (colon) {
        table = text::unquote_name(raw.substr(0, raw.size() - parts.back().size() - 1));
      }
      if (item.empty() || (colon && table.empty())) {
        throw UsageError(fmt::format("--ignore-columns {}: give TABLE:COL[,COL...]", value));
      }
      o.ignore_columns.push_back(table.empty() ? item : table + "." + item);
    }
  }
  if (a.row_cap == 0) {
    throw UsageError("--row-cap: give at least 1");
  }
  o.row_cap = a.row_cap;
  o.exact_cap = a.exact_cap;
  if (!a.log_formats.empty()) {
    auto set = std::make_shared<logs::FormatSet>();
    for (const auto& file : a.log_formats) {
      // A bad file is an InputError naming it (and the format, pattern or position).
      for (auto& f : logs::load_format_file(fs::path(file), file)) {
        set->formats.push_back(std::move(f));
      }
      set->digest +=
          (set->digest.empty() ? "" : "+") + io::sha256_file(fs::path(file)).substr(0, 16);
    }
    o.log_formats = std::move(set);
  }
  if (a.pg_prefix) {
    std::string prefix = logs::user_prefix(*a.pg_prefix);  // as copied from postgresql.conf
    logs::PgPrefix::parse(prefix);  // throws UsageError for an unknown escape
    o.pg_prefix = prefix;
  }
  o.follow_links = a.follow_links;
  o.max_ratio = a.max_ratio;
  o.max_decoded_mb = a.max_decoded_mb;
  io::DecodeLimits limits;
  limits.max_ratio = a.max_ratio;
  limits.max_decoded_bytes = a.max_decoded_mb << 20;
  io::set_decode_limits(limits);
  return o;
}

std::vector<std::string> unmatched_ignore_columns(store::Store& store,
                                                  const IngestOptions& options) {
  std::vector<std::string> out;
  store::Statement st = store.prepare(
      "SELECT 1 FROM db_column WHERE name = ?1 COLLATE NOCASE AND (?2 IS NULL OR "
      "table_name = ?2 COLLATE NOCASE OR schema_name || '.' || table_name = ?2 COLLATE NOCASE) "
      "LIMIT 1");
  for (const auto& spec : options.ignore_columns) {
    size_t dot = spec.rfind('.');
    st.bind(1, dot == std::string::npos ? spec : spec.substr(dot + 1));
    if (dot == std::string::npos) {
      st.bind(2, nullptr);
    } else {
      st.bind(2, spec.substr(0, dot));
    }
    if (!st.step()) {
      out.push_back(spec);
    }
    st.reset();
  }
  return out;
}

uint64_t size_on_disk(const fs::path& path) {
  std::error_code ec;
  if (const PieceSet* set = piece_set(path)) {
    uint64_t total = 0;
    for (const auto& p : set->read) {
      auto n = fs::file_size(p, ec);
      total += ec ? 0 : n;
    }
    return total;
  }
  if (fs::is_regular_file(path, ec)) {
    auto n = fs::file_size(path, ec);
    return ec ? 0 : n;
  }
  uint64_t total = 0;
  if (fs::is_directory(path, ec)) {
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) {
        auto n = it->file_size(ec);
        total += ec ? 0 : n;
      }
    }
  }
  return total;
}

namespace {

std::string file_type_name(fs::file_type t) {
  switch (t) {
    case fs::file_type::fifo:
      return "FIFO";
    case fs::file_type::socket:
      return "socket";
    case fs::file_type::block:
      return "block device";
    case fs::file_type::character:
      return "character device";
    default:
      return "of an unknown type";
  }
}

// Whether `p` is `root` or under it (both absolute, canonical).
bool inside(const fs::path& p, const fs::path& root) {
  const std::string& r = root.native();
  const std::string& s = p.native();
  if (s.size() < r.size() || s.compare(0, r.size(), r) != 0) {
    return false;
  }
  return s.size() == r.size() || r.back() == '/' || s[r.size()] == '/';
}

class CaseWalker {
 public:
  CaseWalker(const fs::path& dir, bool follow) : m_follow(follow) {
    std::error_code ec;
    m_root = fs::canonical(dir, ec);
    if (ec) {
      throw InputError(Location{dir.string()},
                       fmt::format("cannot open the folder: {}", ec.message()));
    }
    m_dirs_seen.insert(m_root);
  }

  std::vector<CaseEntry> run(const fs::path& dir) {
    m_base = dir.lexically_normal();
    if (!m_base.has_filename() && m_base.has_relative_path()) {
      m_base = m_base.parent_path();  // "case/"
    }
    // The folder without its links first, so that a file or folder reached both directly and
    // through a link is read under its own path; then the links to folders, in turn (the
    // folders they lead to may hold more).
    walk(dir, false);
    for (size_t i = 0; i < m_linked_dirs.size(); ++i) {
      auto [path, real] = m_linked_dirs[i];
      if (auto seen = m_dirs_seen.find(real); seen != m_dirs_seen.end()) {
        m_out.push_back({path, "link to a folder read under another path, not read again"});
      } else {
        m_dirs_seen.insert(real);
        walk(path, true);
      }
    }
    // A file reached twice is read once: under the path without links if it has one, else the
    // first.
    std::stable_sort(m_files.begin(), m_files.end(), [](const Found& a, const Found& b) {
      return a.via_link != b.via_link ? !a.via_link : a.path < b.path;
    });
    std::map<fs::path, fs::path> read_as;
    for (const auto& f : m_files) {
      auto [it, fresh] = read_as.emplace(f.real, f.path);
      if (fresh) {
        m_out.push_back({f.path, {}});
      } else {
        m_out.push_back(
            {f.path,
             fmt::format("link to the same file as {}, read there",
                         it->second.lexically_normal().lexically_relative(m_base).string())});
      }
    }
    std::sort(m_out.begin(), m_out.end(),
              [](const CaseEntry& a, const CaseEntry& b) { return a.path < b.path; });
    return std::move(m_out);
  }

 private:
  struct Found {
    fs::path path, real;
    bool via_link;
  };

  // `via_link`: the folder was reached through a link (so is everything under it).
  void walk(const fs::path& dir, bool via_link) {
    std::vector<fs::path> entries;
    std::error_code ec;
    for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      entries.push_back(it->path());
    }
    if (ec) {
      m_out.push_back(
          {dir, fmt::format("folder that cannot be listed ({}), not read", ec.message())});
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& p : entries) {
      visit(p, via_link);
    }
  }

  // Why the target of the link at `p` is not read, or empty (then `real` is where it leads).
  std::string check_link(const fs::path& p, fs::path& real) {
    std::error_code ec;
    std::string text = fs::read_symlink(p, ec).string();
    real = fs::canonical(p, ec);
    if (ec) {
      // Dangling or a loop: where it would lead, as far as it can be told.
      std::error_code weak;
      fs::path target = fs::weakly_canonical(p.parent_path() / fs::path(text), weak);
      if (!weak && inside(target, m_root / ".dbautopsy")) {
        return fmt::format("link into dbautopsy's own folder, not read (link text: {})", text);
      }
      if (!m_follow && !weak && !inside(target, m_root)) {
        return fmt::format("link to outside the case, not read (link text: {})", text);
      }
      return fmt::format("link that leads to no file ({}), not read (link text: {})", ec.message(),
                         text);
    }
    if (!m_follow && !inside(real, m_root)) {
      return fmt::format("link to outside the case, not read (link text: {})", text);
    }
    if (inside(real, m_root / ".dbautopsy")) {
      return fmt::format("link into dbautopsy's own folder, not read (link text: {})", text);
    }
    return {};
  }

  // Why a directory archive is not read (a member that is a link to outside, a FIFO, ...), or
  // empty.
  std::string check_archive(const fs::path& dir) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code ignored;
      fs::file_status st = fs::symlink_status(it->path(), ignored);
      std::string name = it->path().filename().string();
      if (fs::is_symlink(st)) {
        fs::path real;
        std::string why = check_link(it->path(), real);
        if (!why.empty()) {
          return fmt::format("directory archive whose {} is a {}", name, why);
        }
        st = fs::status(real, ignored);
      }
      if (!fs::is_regular_file(st) && !fs::is_directory(st)) {
        return fmt::format("directory archive whose {} is not a regular file ({}), not read", name,
                           file_type_name(st.type()));
      }
    }
    return {};
  }

  void visit(const fs::path& p, bool via_link) {
    std::error_code ec;
    fs::file_status st = fs::symlink_status(p, ec);
    if (ec) {
      m_out.push_back({p, fmt::format("cannot be examined ({}), not read", ec.message())});
      return;
    }
    bool link = fs::is_symlink(st);
    bool linked = link || via_link;
    fs::path real;
    if (link) {
      if (std::string why = check_link(p, real); !why.empty()) {
        m_out.push_back({p, why});
        return;
      }
      st = fs::status(real, ec);
    } else {
      real = fs::canonical(p, ec);
      if (ec) {
        real = p;
      }
    }
    if (fs::is_directory(st)) {
      if (p.filename() == ".dbautopsy") {
        return;
      }
      if (fs::exists(p / "toc.dat", ec)) {
        // A pg_dump directory archive is one artifact.
        if (std::string why = check_archive(p); !why.empty()) {
          m_out.push_back({p, why});
        } else {
          m_files.push_back({p, real, linked});
        }
      } else if (link) {
        m_linked_dirs.emplace_back(p, real);
      } else if (m_dirs_seen.insert(real).second) {
        walk(p, via_link);
      }
    } else if (fs::is_regular_file(st)) {
      m_files.push_back({p, real, linked});
    } else {
      m_out.push_back(
          {p, fmt::format("not a regular file ({}), not read", file_type_name(st.type()))});
    }
  }

  fs::path m_root;
  fs::path m_base;  // the folder as given, for paths in messages
  bool m_follow;
  std::set<fs::path> m_dirs_seen;
  std::vector<std::pair<fs::path, fs::path>> m_linked_dirs;
  std::vector<Found> m_files;
  std::vector<CaseEntry> m_out;
};

}  // namespace

std::vector<CaseEntry> walk_case(const fs::path& dir, bool follow_links) {
  return CaseWalker(dir, follow_links).run(dir);
}

std::vector<fs::path> files_under(const fs::path& dir, bool follow_links) {
  std::vector<fs::path> out;
  for (auto& e : walk_case(dir, follow_links)) {
    if (e.skipped.empty()) {
      out.push_back(std::move(e.path));
    }
  }
  return out;
}

std::string not_readable_reason(const fs::path& path) {
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || fs::is_regular_file(st) || fs::is_directory(st)) {
    return {};  // opening it says what is wrong, if anything
  }
  return fmt::format("not a regular file ({}), not read", file_type_name(st.type()));
}

ArtifactOutcome record_skipped(store::Store& store, const CaseEntry& entry,
                               const std::string& display_path) {
  ArtifactOutcome out;
  out.path = display_path;
  out.kind = "unknown";
  out.codec = "none";
  out.status = "skipped";
  out.detail = entry.skipped;
  store::Store::Transaction tx(store);
  if (auto stored = store::find_artifact(store, display_path)) {
    store::forget_artifact(store, stored->id);
  }
  store::ArtifactFact fact;
  fact.path = display_path;
  fact.kind = out.kind;
  fact.codec = out.codec;
  fact.status = out.status;
  fact.status_detail = out.detail;
  out.id = store::add_artifact(store, fact);
  tx.commit();
  return out;
}

std::vector<std::string> known_kinds() {
  std::vector<std::string> out;
  for (const auto& k : kinds()) {
    out.push_back(k.name);
  }
  return out;
}

ArtifactOutcome ingest_path(store::Store& store, const fs::path& path,
                            const std::string& display_path, const IngestOptions& options) {
  // A FIFO, socket or device is never opened (a FIFO would wait for a writer forever).
  if (std::string why = not_readable_reason(path); !why.empty()) {
    return record_skipped(store, CaseEntry{path, why}, display_path);
  }
  ArtifactOutcome out;
  out.path = display_path;
  std::error_code ec;
  bool directory = fs::is_directory(path, ec);
  out.size = directory ? 0 : fs::file_size(path, ec);
  // A file in pieces: the size of the pieces read, the modification time of the newest piece.
  const PieceSet* pieces = piece_set(path);
  std::string mtime = file_mtime(path);
  if (pieces) {
    out.size = size_on_disk(path);
    for (const auto& list : {pieces->read, pieces->not_read}) {
      for (const auto& p : list) {
        mtime = std::max(mtime, file_mtime(p));
      }
    }
  }

  store::ArtifactFact fact;
  fact.path = display_path;
  fact.size_bytes = static_cast<int64_t>(out.size);
  fact.mtime = mtime;
  fact.read_options = options.signature();

  try {
    out.kind = options.forced_kind ? *options.forced_kind : detect_kind(path, options);
  } catch (const InputError& e) {
    out.kind = "unknown";
    out.status = "failed";
    out.detail = e.detail();
  }
  fact.kind = out.kind;
  const Kind* kind = find_kind(out.kind);

  // Unchanged since the last ingestion: same path, size, time and content.
  if (auto stored = store::find_artifact(store, display_path)) {
    bool same_options = stored->read_options == fact.read_options ||
                        (options.keep_hinted && second_pass_of(stored->read_options.value_or(""),
                                                               fact.read_options.value_or("")));
    if (stored->size_bytes == fact.size_bytes && stored->mtime == fact.mtime && !directory &&
        same_options && stored->status != "failed" && out.status.empty() &&
        io::sha256_file(path) == stored->sha256) {
      out.status = "unchanged";
      out.id = stored->id;
      out.detail = "already in the store";
      return out;
    }
    store::Store::Transaction tx(store);
    store::forget_artifact(store, stored->id);
    tx.commit();
  }

  if (!out.status.empty() || kind == nullptr || (!kind->read && !kind->read_path)) {
    if (out.status.empty() && !kind && !directory && path.filename() == "__init__.py") {
      // Every migrations package has one, nearly always empty: not a failure to read.
      out.status = "skipped";
      out.detail = "a Python package marker, not a migration";
    } else if (out.status.empty()) {
      out.status = kind ? "unsupported" : "failed";
      out.detail = kind ? kind->unsupported : unknown_reason(path);
    }
    fact.status = out.status;
    fact.status_detail = out.detail;
    fact.sha256 = directory ? io::sha256_directory(path) : io::sha256_file(path);
    if (!directory) {
      try {
        fact.codec = std::string(io::codec_name(io::read_head(path, 8).codec));
      } catch (const Error&) {
      }
    }
    out.codec = fact.codec;
    store::Store::Transaction tx(store);
    out.id = store::add_artifact(store, fact);
    tx.commit();
    return out;
  }

  // The hash: a file read through an InputStream is hashed by the thread that reads it (one
  // read of the file for both); an archive or a directory, read by paths, on a thread of its
  // own while it is read.
  std::future<std::string> digest;
  if (kind->read_path) {
    digest = std::async(std::launch::async, [path, directory] {
      return directory ? io::sha256_directory(path) : io::sha256_file(path);
    });
  }
  std::optional<io::InputStream> in;
  store::Store::Transaction tx(store);
  try {
    if (!kind->read_path) {
      in.emplace(path, /*sha256=*/true);
      fact.codec = std::string(io::codec_name(in->codec()));
    } else if (!directory) {
      fact.codec = std::string(io::codec_name(io::read_head(path, 8).codec));
    }
    out.codec = fact.codec;
    out.id = store::add_artifact(store, fact);
    store::FactWriter writer(store, out.id);
    if (pieces) {
      // A piece missing, the last one cut short: errors, before any the reader finds.
      for (const auto& [code, message] : {std::pair{"missing-piece", pieces->missing},
                                          std::pair{"truncated-piece", pieces->truncated}}) {
        if (!message.empty()) {
          store::ProblemFact p;
          p.severity = "error";
          p.code = code;
          p.message = message;
          writer.add(p);
        }
      }
      // Each piece's size, SHA-256 and, for text, the lines it holds.
      writer.add(pieces_notice(*pieces, fact.codec, fact.codec == "none" && !kind->read_path));
    }
    ReadSummary summary;
    try {
      summary = kind->read_path ? kind->read_path(path, writer, options)
                                : kind->read(*in, writer, options);
    } catch (const InputError& e) {
      // A reader that cannot go on: what it wrote stays, the artifact is partial.
      store::ProblemFact p;
      p.severity = "error";
      p.code = "unreadable";
      p.message = e.detail();
      p.line = e.where().line ? std::optional<int64_t>(static_cast<int64_t>(*e.where().line))
                              : std::nullopt;
      p.byte_offset = e.where().offset
                          ? std::optional<int64_t>(static_cast<int64_t>(*e.where().offset))
                          : std::nullopt;
      p.in_file = e.where().offset_in_file;
      writer.add(p);
    }
    if (in && in->byte_order_mark() != io::ByteOrderMark::none) {
      writer.add(store::byte_order_mark_notice(io::byte_order_mark_name(in->byte_order_mark())));
    }
    writer.finish_logs();
    if (writer.errors() == 0) {
      out.status = "ok";
      out.detail = summary.detail;
    } else {
      out.status = summary.nothing ? "failed" : "partial";
      out.detail = first_error(store, out.id);
    }
    store::set_artifact_status(store, out.id, out.status, out.detail);
  } catch (const InputError& e) {
    out.status = "failed";
    out.detail = e.detail();
    if (out.id == 0) {
      fact.status = out.status;
      fact.status_detail = out.detail;
      out.id = store::add_artifact(store, fact);
    } else {
      store::set_artifact_status(store, out.id, out.status, out.detail);
    }
  }
  store::set_artifact_sha256(store, out.id,
                             digest.valid() ? digest.get()
                             : in           ? in->finish_sha256()
                                            : io::sha256_file(path));
  tx.commit();
  return out;
}

namespace {

// The tables whose data artifact `id` holds without declaring them, as another dump of the
// store declares them with the same columns, in the COPY's order (pg_dump leaves generated
// columns out of COPY). A table declared differently by two dumps (other defaults, another
// type) is left without hints: which one the data belongs to is not known. Only tables with
// something to leave out are kept (a surrogate column, or a first column that may be a key
// the application sets).
SchemaHints data_schema_hints(store::Store& store, int64_t id) {
  SchemaHints hints;
  std::vector<std::tuple<std::string, std::string, std::string>> undeclared;
  {
    store::Statement st = store.prepare(
        "SELECT DISTINCT s.schema_name, s.table_name, s.columns FROM table_stats s "
        "WHERE s.artifact_id = ?1 AND s.source IN ('copy', 'insert') AND s.columns IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM db_column c WHERE c.artifact_id = ?1 "
        "AND c.schema_name = s.schema_name AND c.table_name = s.table_name) "
        "ORDER BY 1, 2");
    st.bind(1, id);
    while (st.step()) {
      undeclared.emplace_back(st.get_text(0), st.get_text(1), st.get_text(2));
    }
  }
  for (const auto& [schema, table, copy_columns] : undeclared) {
    store::Statement st = store.prepare(
        "SELECT c.artifact_id, a.path, c.name, c.ordinal, c.type, c.not_null, c.default_expr, "
        "c.identity, c.generated, c.is_serial FROM db_column c JOIN artifact a ON a.id = "
        "c.artifact_id WHERE c.schema_name = ?1 AND c.table_name = ?2 AND c.artifact_id <> ?3 "
        "ORDER BY c.artifact_id, c.ordinal");
    st.bind(1, schema);
    st.bind(2, table);
    st.bind(3, id);
    std::map<int64_t, SchemaHint> declared;
    while (st.step()) {
      SchemaHint& h = declared[st.get_int(0)];
      h.from = st.get_text(1);
      store::ColumnFact c;
      c.schema_name = schema;
      c.table_name = table;
      c.name = st.get_text(2);
      c.ordinal = st.get_int(3);
      c.type = st.get_text(4);
      c.not_null = st.get_int(5) != 0;
      c.default_expr = st.get_optional_text(6);
      c.identity = st.get_optional_text(7);
      c.generated = st.get_optional_text(8);
      c.is_serial = st.get_int(9) != 0;
      h.columns.push_back(std::move(c));
    }
    std::optional<SchemaHint> chosen;
    std::string chosen_key;
    bool ambiguous = false;
    for (auto& [artifact, hint] : declared) {
      std::vector<std::string> copied;
      std::string key;
      for (const auto& c : hint.columns) {
        if (!c.generated) {
          copied.push_back(c.name);
        }
        key += fmt::format("{}|{}|{}|{};", c.name, c.type, pgdump::surrogate_reason(c),
                           c.default_expr.value_or(""));
      }
      if (text::join(copied, ", ") != copy_columns) {
        continue;
      }
      if (!chosen) {
        chosen = std::move(hint);
        chosen_key = key;
      } else if (key != chosen_key) {
        ambiguous = true;
      }
    }
    if (!chosen || ambiguous) {
      continue;
    }
    bool telling = false;
    for (size_t i = 0; i < chosen->columns.size(); ++i) {
      const auto& c = chosen->columns[i];
      telling = telling || !pgdump::surrogate_reason(c).empty() ||
                (i == 0 && !c.generated && pgdump::may_be_application_key(c));
    }
    if (telling) {
      hints.emplace(std::make_pair(schema, table), std::move(*chosen));
    }
  }
  return hints;
}

}  // namespace

void read_data_with_schema(store::Store& store,
                           const std::vector<std::pair<fs::path, std::string>>& files,
                           std::vector<ArtifactOutcome>& outcomes, const IngestOptions& options) {
  for (size_t i = 0; i < files.size() && i < outcomes.size(); ++i) {
    ArtifactOutcome& first = outcomes[i];
    if (first.id == 0 ||
        (first.status != "ok" && first.status != "partial" && first.status != "unchanged")) {
      continue;
    }
    auto stored = store::find_artifact(store, first.path);
    if (!stored || stored->id != first.id) {
      continue;
    }
    auto hints = std::make_shared<const SchemaHints>(data_schema_hints(store, first.id));
    bool was_hinted =
        stored->read_options.value_or("").find(k_schema_hints_mark) != std::string::npos;
    if (hints->empty() && !was_hinted) {
      continue;
    }
    IngestOptions again = options;
    again.keep_hinted = false;
    again.schema_hints = hints;
    ArtifactOutcome second = ingest_path(store, files[i].first, files[i].second, again);
    if (second.status != "unchanged" && !hints->empty()) {
      std::vector<std::string> from;
      for (const auto& [table, hint] : *hints) {
        if (std::find(from.begin(), from.end(), hint.from) == from.end()) {
          from.push_back(hint.from);
        }
      }
      second.detail += fmt::format("; read again with the columns {} declares for {} of its tables",
                                   text::join(from, ", "), hints->size());
    }
    if (first.status == "unchanged" && second.status == "unchanged") {
      continue;
    }
    outcomes[i] = std::move(second);
  }
}

namespace {

// What the second pass needs to know of a dump read in the first.
struct SectionDump {
  size_t index = 0;  // in the run's files
  int64_t id = 0;
  bool pre_data = false;   // creates tables and declares no index or key
  bool post_data = false;  // creates no table and changes tables it does not create (it may
                           // hold their data too)
  bool data = false;       // holds table data
  bool marked = false;     // read with the other sections by an earlier run
};

// Whether the query `SELECT EXISTS (...)` over artifact `id` (?1) says yes.
bool holds(store::Store& store, const char* sql, int64_t id) {
  store::Statement st = store.prepare(sql);
  st.bind(1, id);
  bool yes = st.step() && st.get_int(0) != 0;
  st.reset();
  return yes;
}

// How alike two paths are as names of the sections of one dump: in the same folder first,
// then the length of the start their file names share (`before.pre-data.sql.gz` and
// `before.post-data.sql.gz`).
std::pair<int, size_t> kinship(const fs::path& a, const fs::path& b) {
  std::string x = a.filename().string();
  std::string y = b.filename().string();
  size_t n = 0;
  while (n < x.size() && n < y.size() && x[n] == y[n]) {
    ++n;
  }
  return {a.parent_path() == b.parent_path() ? 1 : 0, n};
}

}  // namespace

void read_sections_together(store::Store& store,
                            const std::vector<std::pair<fs::path, std::string>>& files,
                            std::vector<ArtifactOutcome>& outcomes, const IngestOptions& options) {
  std::vector<SectionDump> dumps;
  for (size_t i = 0; i < files.size() && i < outcomes.size(); ++i) {
    const ArtifactOutcome& o = outcomes[i];
    auto options_read = stored_dump_options(store, o);
    if (!options_read) {
      continue;
    }
    const std::string& read = *options_read;
    SectionDump d;
    d.index = i;
    d.id = o.id;
    // EXISTS, not count(*): these tables have no index by artifact, and a dump of 100,000
    // tables is scanned only until its first row.
    const bool relations =
        holds(store, "SELECT EXISTS (SELECT 1 FROM db_relation WHERE artifact_id = ?1)", o.id);
    const bool keys =
        holds(store,
              "SELECT EXISTS (SELECT 1 FROM db_index WHERE artifact_id = ?1) OR EXISTS (SELECT 1 "
              "FROM db_constraint WHERE artifact_id = ?1 AND kind IN ('p', 'u', 'f', 'x'))",
              o.id);
    const bool data =
        holds(store, "SELECT EXISTS (SELECT 1 FROM table_stats WHERE artifact_id = ?1)", o.id);
    const bool unknown = holds(store,
                               "SELECT EXISTS (SELECT 1 FROM problem WHERE artifact_id = ?1 AND "
                               "code = 'unknown-object')",
                               o.id);
    const bool read_with_post = read.find(k_post_data_mark) != std::string::npos;
    const bool read_after = read.find(k_read_after_mark) != std::string::npos;
    d.marked = read_with_post || read_after;
    d.data = data;
    d.pre_data = relations && (!keys || read_with_post);
    // (A later-sections dump may hold the data too: pg_dump --section=data
    // --section=post-data, or a dump cut in two by hand after its tables.)
    d.post_data = !relations && (read_after || unknown);
    if (d.pre_data || d.post_data || d.marked) {
      dumps.push_back(d);
    }
  }
  // Each post-data dump goes with the pre-data dump most like it by name; two as alike are
  // ambiguous, and it goes with none.
  std::map<size_t, std::vector<size_t>> later;  // pre-data file -> its post-data files
  std::map<size_t, size_t> earlier;             // post-data file -> its pre-data file
  for (const SectionDump& p : dumps) {
    if (!p.post_data) {
      continue;
    }
    std::optional<size_t> best;
    std::pair<int, size_t> best_kin{-1, 0};
    bool tie = false;
    for (const SectionDump& s : dumps) {
      if (!s.pre_data) {
        continue;
      }
      auto kin = kinship(files[p.index].first, files[s.index].first);
      if (!best || kin > best_kin) {
        best = s.index;
        best_kin = kin;
        tie = false;
      } else if (kin == best_kin) {
        tie = true;
      }
    }
    if (best && !tie) {
      later[*best].push_back(p.index);
      earlier[p.index] = *best;
    }
  }
  for (const SectionDump& d : dumps) {
    IngestOptions again = options;
    again.keep_hinted = false;
    if (auto it = later.find(d.index); it != later.end()) {
      for (size_t p : it->second) {
        again.post_data.push_back(files[p]);
      }
      auto hints = data_schema_hints(store, d.id);
      if (!hints.empty()) {
        again.schema_hints = std::make_shared<const SchemaHints>(std::move(hints));
      }
    } else if (auto e = earlier.find(d.index); e != earlier.end()) {
      again.read_after = files[e->second].second;
      if (d.data) {
        // Its rows, read with the columns the pre-data dump declares (read_data_with_schema).
        auto hints = data_schema_hints(store, d.id);
        if (!hints.empty()) {
          again.schema_hints = std::make_shared<const SchemaHints>(std::move(hints));
        }
      }
    } else if (!d.marked) {
      continue;  // read alone, as it was
    }
    ArtifactOutcome second = ingest_path(store, files[d.index].first, files[d.index].second, again);
    if (second.status == "unchanged" && outcomes[d.index].status == "unchanged") {
      continue;
    }
    if (second.status != "unchanged") {
      if (!again.post_data.empty()) {
        second.detail += fmt::format("; read with {} after it (pg_dump --section=post-data)",
                                     shown_paths(again.post_data));
      } else if (!again.read_after.empty()) {
        second.detail +=
            fmt::format("; its indexes and constraints read after {}", again.read_after);
      }
    }
    outcomes[d.index] = std::move(second);
  }
}

namespace {

// A dump read in the first pass, as a per-table dump (pg_dump -t) may be.
struct TableDump {
  size_t index = 0;  // in the run's files
  int64_t id = 0;
  std::set<std::string> tables;  // schema.table and the bare name, lower case, of its facts
  std::set<std::string> own;     // schema.table of its own tables (a host's: less the others')
  bool host = false;             // read with the other tables' dumps by an earlier run
  bool member = false;           // read as part of another dump by an earlier run
  std::string named;             // the table its file name starts with (schema.table)
  std::string rest;              // the file name after it
};

}  // namespace

void read_tables_together(store::Store& store,
                          const std::vector<std::pair<fs::path, std::string>>& files,
                          std::vector<ArtifactOutcome>& outcomes, const IngestOptions& options) {
  std::vector<TableDump> dumps;
  for (size_t i = 0; i < files.size() && i < outcomes.size(); ++i) {
    const ArtifactOutcome& o = outcomes[i];
    auto options_read = stored_dump_options(store, o);
    if (!options_read) {
      continue;
    }
    const std::string& read = *options_read;
    if (read.find(k_post_data_mark) != std::string::npos ||
        read.find(k_read_after_mark) != std::string::npos) {
      continue;  // the sections of one dump (read_sections_together)
    }
    TableDump d;
    d.index = i;
    d.id = o.id;
    d.host = read.find(k_table_dumps_mark) != std::string::npos;
    d.member = read.find(k_tables_into_mark) != std::string::npos;
    bool named_database = false;
    store::Statement st = store.prepare(R"(
      SELECT schema_name, name, db FROM db_relation
       WHERE artifact_id = ?1 AND kind IN ('table', 'partitioned_table', 'foreign_table')
      UNION SELECT schema_name, table_name, db FROM table_stats WHERE artifact_id = ?1)");
    st.bind(1, o.id);
    while (st.step()) {
      named_database = named_database || st.get_optional_text(2).has_value();
      d.own.insert(st.get_text(0) + "." + st.get_text(1));
    }
    st.reset();
    if (named_database || d.own.empty()) {
      if (d.host || d.member) {
        dumps.push_back(d);  // read alone again below
      }
      continue;
    }
    d.tables = d.own;
    // The longest table name its file name starts with, followed by '.', '-', '_' or nothing.
    std::string name = text::lower(files[i].first.filename().string());
    for (const auto& qualified : d.own) {
      std::string bare = qualified.substr(qualified.find('.') + 1);
      for (const std::string& candidate : {text::lower(qualified), text::lower(bare)}) {
        if (candidate.size() > d.named.size() && name.rfind(candidate, 0) == 0 &&
            (name.size() == candidate.size() || name[candidate.size()] == '.' ||
             name[candidate.size()] == '-' || name[candidate.size()] == '_')) {
          d.named = qualified;
          d.rest = name.substr(candidate.size());
        }
      }
    }
    if (d.named.empty()) {
      d.rest.clear();
    }
    dumps.push_back(d);
  }

  // The dumps named alike: same folder, same rest of the name.
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> alike;  // -> dumps[]
  for (size_t k = 0; k < dumps.size(); ++k) {
    if (!dumps[k].named.empty()) {
      alike[{files[dumps[k].index].first.parent_path().string(), dumps[k].rest}].push_back(k);
    }
  }
  std::map<size_t, std::vector<size_t>> later;  // host file -> the other files of its state
  std::map<size_t, size_t> into;                // member file -> its host file
  for (auto& [key, members] : alike) {
    if (members.size() < 2) {
      continue;
    }
    // A host of an earlier run holds the others' tables too: its own are the rest.
    for (size_t k : members) {
      if (!dumps[k].host) {
        continue;
      }
      for (size_t m : members) {
        if (m != k && !dumps[m].host) {
          for (const auto& t : dumps[m].own) {
            dumps[k].own.erase(t);
          }
        }
      }
    }
    bool disjoint = true;
    std::set<std::string> seen;
    for (size_t k : members) {
      disjoint = disjoint && dumps[k].own.count(dumps[k].named) > 0;
      for (const auto& t : dumps[k].own) {
        disjoint = disjoint && seen.insert(t).second;
      }
    }
    if (!disjoint) {
      continue;  // two dumps of one table: two states, or not per-table dumps at all
    }
    std::vector<size_t> order;
    for (size_t k : members) {
      order.push_back(dumps[k].index);
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return files[a].second < files[b].second; });
    for (size_t n = 1; n < order.size(); ++n) {
      later[order.front()].push_back(order[n]);
      into[order[n]] = order.front();
    }
  }

  for (const TableDump& d : dumps) {
    IngestOptions again = options;
    again.keep_hinted = false;
    if (auto it = later.find(d.index); it != later.end()) {
      for (size_t m : it->second) {
        again.table_dumps.push_back(files[m]);
      }
    } else if (auto e = into.find(d.index); e != into.end()) {
      again.tables_into = files[e->second].second;
    } else if (!d.host && !d.member) {
      continue;  // read alone, as it was
    }
    ArtifactOutcome second = ingest_path(store, files[d.index].first, files[d.index].second, again);
    if (second.status == "unchanged" && outcomes[d.index].status == "unchanged") {
      continue;
    }
    if (second.status != "unchanged") {
      if (!again.table_dumps.empty()) {
        second.detail += fmt::format(
            "; read with {} after it (pg_dump -t: one table per file, one database state)",
            shown_paths(again.table_dumps));
      } else if (!again.tables_into.empty()) {
        second.detail += fmt::format("; its tables read as part of {}", again.tables_into);
      }
    }
    outcomes[d.index] = std::move(second);
  }
}

}  // namespace dbautopsy::cli
