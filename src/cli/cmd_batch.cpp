// dbautopsy batch / batch-merge: many case folders, on one machine or many.
//
// batch CASES_DIR... --out OUT: every case (each immediate subfolder of a CASES_DIR, named by
// its folder name, and each case archive there) is analysed by a child process of this same
// binary, `investigate CASE --out OUT/<case> --store OUT/<case>/facts.db`, --jobs at once. A child
// that fails, is killed by a signal or runs past --timeout is recorded in the index and never
// stops the others. A case whose inputs (the SHA-256 of every file investigate would read),
// dbautopsy version and passed-on options are those of its last completed run is not run
// again (--force runs every case).
//
// --shard K/N keeps the cases whose name hashes to shard K (0-based): the first eight bytes of
// the SHA-256 of the name, as a big-endian number, modulo N. The name, not the path: a case
// lands in the same shard on every host and mount point.
//
// OUT/index.json and OUT/index.html hold what must compare equal between equal runs (no
// times, no shard, no host paths); OUT/timings.json holds the rest (seconds and peak RSS per
// case, whether it ran or was unchanged). batch-merge builds one index from shard outputs.

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "base/error.hpp"
#include "base/text.hpp"
#include "cli/bundle.hpp"
#include "cli/cli.hpp"
#include "cli/ingest.hpp"
#include "cli/kinds.hpp"
#include "cli/options.hpp"
#include "io/digest.hpp"

namespace dbautopsy::cli {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* k_case_record = "batch-case.json";
constexpr size_t k_stderr_tail_lines = 12;
constexpr size_t k_stderr_tail_bytes = 2000;

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw Error("SHA-256 failed");
  }
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += fmt::format("{:02x}", digest[i]);
  }
  return out;
}

// A folder named on the command line, as the file system sees it (absolute, through
// symlinks, no trailing slash).
fs::path canonical_dir(const std::string& given, const char* what) {
  std::string text = given;
  while (text.size() > 1 && text.back() == '/') {
    text.pop_back();
  }
  std::error_code ec;
  if (!fs::is_directory(text, ec)) {
    throw InputError(Location{given}, fmt::format("not a folder ({})", what));
  }
  fs::path p = fs::canonical(text, ec);
  if (ec) {
    throw InputError(Location{given}, fmt::format("cannot resolve the folder: {}", ec.message()));
  }
  return p;
}

// `out` made absolute and normal, whether or not it exists yet.
fs::path normal_out(const std::string& given) {
  std::string text = given;
  while (text.size() > 1 && text.back() == '/') {
    text.pop_back();
  }
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(text), ec);
  return ec ? fs::absolute(text).lexically_normal() : p;
}

bool inside(const fs::path& p, const fs::path& dir) {
  return p == dir || p.string().starts_with(dir.string() + "/");
}

struct Case {
  std::string name;
  fs::path root;      // the folder investigate runs in (the CASES_DIR, canonical)
  fs::path dir;       // root / entry: the case's folder, or its archive
  std::string entry;  // the folder's or the archive's file name
};

// A case archive's name without its suffixes: case1.zip, case1.tar.gz, case1.tgz -> case1.
std::string archive_case_name(const std::string& file) {
  return text::without_suffixes(file, {".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".zst",
                                       ".tzst", ".zip", ".7z", ".tar"});
}

// The files at the top of `dir` that are case files (of a kind dbautopsy reads, not a case
// archive): a CASES_DIR that holds them is a case folder itself.
std::vector<std::string> own_case_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code file_ec;
    if (name.empty() || name.front() == '.' || !fs::is_regular_file(it->path(), file_ec)) {
      continue;
    }
    if (!bundle_format(it->path()) && detect_kind(it->path()) != "unknown") {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every immediate subfolder of each CASES_DIR whose name does not start with '.' (symlinks to
// folders included), and every case archive there (case1.zip, case2.tar.gz: named without
// their suffixes). A CASES_DIR that holds case files itself (a dump, an export, a log at its
// top level) is one case, said on stderr: its subfolders (migrations/, sqlmigrate/) are part of
// it, not cases of their own. The same folder given twice (`x`, `./x/`, its absolute path, a
// symlink to it) counts once; two cases of one name are an error naming both.
std::vector<Case> list_cases(const std::vector<std::string>& given) {
  std::vector<fs::path> roots;
  for (const auto& g : given) {
    fs::path root = canonical_dir(g, "batch takes folders whose subfolders are the cases");
    if (std::find(roots.begin(), roots.end(), root) == roots.end()) {
      roots.push_back(root);
    }
  }
  std::map<std::string, Case> by_name;
  auto add = [&](Case c) {
    auto [at, fresh] = by_name.emplace(c.name, c);
    if (!fresh) {
      throw UsageError(fmt::format(
          "two cases are named {}: {} and {}; a case is known by its folder's (or archive's) "
          "name, rename one",
          c.name, at->second.dir.string(), c.dir.string()));
    }
  };
  for (const auto& root : roots) {
    std::error_code ec;
    if (auto own = own_case_files(root);
        !own.empty() && root.has_parent_path() && root != root.root_path()) {
      std::string name = root.filename().string();
      std::cerr << fmt::format(
          "dbautopsy: batch: {} holds case files itself ({}{}): read as one case, {}; batch "
          "takes folders whose subfolders are the cases\n",
          root.string(), own.front(),
          own.size() > 1 ? fmt::format(" and {} more", own.size() - 1) : "", name);
      add(Case{name, root.parent_path(), root, name});
      continue;
    }
    for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      std::string name = it->path().filename().string();
      std::error_code kind_ec;
      if (name.empty() || name.front() == '.') {
        continue;
      }
      if (fs::is_directory(it->path(), kind_ec)) {
        add(Case{name, root, root / name, name});
      } else if (fs::is_regular_file(it->path(), kind_ec) && bundle_format(it->path())) {
        add(Case{archive_case_name(name), root, root / name, name});
      }
    }
    if (ec) {
      throw InputError(Location{root.string()}, fmt::format("cannot list: {}", ec.message()));
    }
  }
  std::vector<Case> out;
  for (auto& [name, c] : by_name) {
    out.push_back(c);
  }
  return out;
}

struct Shard {
  uint64_t k = 0, n = 1;
};

// K/N with 0 <= K < N (JOB_COMPLETION_INDEX's numbering). A 1-based N/N is refused with the
// way to write it.
Shard parse_shard(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return UsageError(fmt::format("--shard {}: {}", text, why));
  };
  size_t slash = text.find('/');
  auto number = [&](std::string_view s) -> uint64_t {
    if (s.empty() || s.size() > 9 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      throw bad("give K/N, two whole numbers with 0 <= K < N, e.g. 0/4");
    }
    return std::stoull(std::string(s));
  };
  if (slash == std::string::npos) {
    throw bad("give K/N, two whole numbers with 0 <= K < N, e.g. 0/4");
  }
  Shard s{number(std::string_view(text).substr(0, slash)),
          number(std::string_view(text).substr(slash + 1))};
  if (s.n == 0) {
    throw bad("N, the number of shards, must be at least 1");
  }
  if (s.k >= s.n) {
    throw bad(fmt::format(
        "shards are numbered from 0 to {} (JOB_COMPLETION_INDEX's numbering); from a 1-based "
        "index such as SLURM_ARRAY_TASK_ID of --array=1-{}, give $((SLURM_ARRAY_TASK_ID-1))/{}",
        s.n - 1, s.n, s.n));
  }
  return s;
}

uint64_t shard_of(const std::string& name, uint64_t n) {
  std::string hex = sha256_hex(name);
  return std::stoull(hex.substr(0, 16), nullptr, 16) % n;
}

// What decides whether a case's last run still stands: the version, the options passed on to
// investigate, and each input file's path and SHA-256. Empty when a file cannot be read (the
// case then always runs, and investigate says what is wrong).
std::string inputs_digest(const Case& c, const std::vector<std::string>& passed) {
  std::string manifest = fmt::format("dbautopsy {}\n", version());
  for (const auto& o : passed) {
    manifest += "option " + o + "\n";
  }
  try {
    if (fs::is_regular_file(c.dir)) {
      return sha256_hex(manifest + fmt::format("{}  {}\n", io::sha256_file(c.dir), c.entry));
    }
    for (const auto& f : files_under(c.dir)) {
      std::string rel = fs::relative(f, c.dir).string();
      std::string sum = fs::is_directory(f) ? io::sha256_directory(f) : io::sha256_file(f);
      manifest += fmt::format("{}  {}\n", sum, rel);
    }
  } catch (const std::exception&) {
    return {};
  }
  return sha256_hex(manifest);
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  fs::path tmp = p;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f.flush()) {
      throw Error(fmt::format("cannot write {}", p.string()));
    }
  }
  std::error_code ec;
  fs::rename(tmp, p, ec);
  if (ec) {
    throw Error(fmt::format("cannot write {}: {}", p.string(), ec.message()));
  }
}

std::string dump(const json& j) {
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

// The last lines of a child's stderr, at most k_stderr_tail_bytes.
std::string stderr_tail(const fs::path& p) {
  std::string text = read_file(p);
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  size_t start = text.size();
  for (size_t lines = 0; lines < k_stderr_tail_lines && start > 0; ++lines) {
    size_t nl = text.rfind('\n', start - 1);
    start = nl == std::string::npos ? 0 : nl;
  }
  std::string tail = text.substr(start == 0 ? 0 : start + 1);
  if (tail.size() > k_stderr_tail_bytes) {
    tail = "..." + tail.substr(tail.size() - k_stderr_tail_bytes);
  }
  return tail;
}

// The object a finding is about, as a dotted name: [database:]schema.table.column (or the
// index / constraint), else the migration, else the value (input.checks-skipped's family).
std::string object_of(const json& subject) {
  auto get = [&](const char* key) -> std::string {
    auto it = subject.find(key);
    if (it == subject.end() || it->is_null()) {
      return {};
    }
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  std::string name;
  for (const char* key : {"schema", "table", "column", "index", "constraint"}) {
    std::string part = get(key);
    if (!part.empty()) {
      name += (name.empty() ? "" : ".") + part;
    }
  }
  if (name.empty()) {
    name = get("migration");
  }
  if (name.empty()) {
    name = get("value");
  }
  std::string db = get("database");
  return db.empty() ? name : db + ":" + name;
}

const char* signal_label(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGABRT:
      return "SIGABRT";
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGINT:
      return "SIGINT";
    default:
      return nullptr;
  }
}

// The index record of one case, from how its child ended and its report.json.
json case_record(const std::string& name, const fs::path& out, const std::string& digest,
                 int wait_status, bool timed_out) {
  json r;
  r["name"] = name;
  r["exit_code"] = nullptr;
  r["signal"] = nullptr;
  fs::path report = out / "report.json";
  std::error_code ec;
  bool have_report = fs::is_regular_file(report, ec);
  if (timed_out) {
    r["status"] = "timeout";
  } else if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    const char* label = signal_label(sig);
    r["signal"] = label ? std::string(label) : fmt::format("signal {}", sig);
    r["status"] = "crashed";
  } else {
    int code = WEXITSTATUS(wait_status);
    r["exit_code"] = code;
    if ((code == k_exit_ok || code == k_exit_findings) && have_report) {
      r["status"] = "done";
    } else if (code == k_exit_error && have_report) {
      r["status"] = "input-error";  // reports written, some inputs not read in full
    } else {
      r["status"] = "failed";
    }
  }
  r["stderr_tail"] = stderr_tail(out / "stderr.txt");
  r["inputs_sha256"] = digest;
  json counts = {{"error", 0}, {"warning", 0}, {"info", 0}};
  json rules = json::object();
  json causes = json::array();
  std::map<std::pair<std::string, std::string>, int> objects;
  size_t findings = 0;
  bool finished = r["status"] == "done" || r["status"] == "input-error";
  if (finished) {
    json rep;
    try {
      rep = json::parse(read_file(report));
    } catch (const std::exception& e) {
      r["status"] = "failed";
      r["stderr_tail"] = r["stderr_tail"].get<std::string>() +
                         fmt::format("\nreport.json: not JSON: {}", e.what());
      finished = false;
    }
    if (finished) {
      for (const auto& f : rep.value("findings", json::array())) {
        ++findings;
        std::string sev = f.value("severity", "info");
        counts[sev] = counts.value(sev, 0) + 1;
        std::string rule = f.value("rule", "");
        rules[rule] = rules.value(rule, 0) + 1;
        ++objects[{rule, object_of(f.value("subject", json::object()))}];
      }
      for (const auto& c : rep.value("causes", json::array())) {
        std::string summary = c.value("summary", "");
        summary = summary.substr(0, summary.find('\n'));
        causes.push_back(
            {{"id", c.value("id", "")}, {"kind", c.value("kind", "")}, {"summary", summary}});
      }
    }
  }
  r["findings"] = findings;
  r["severity"] = counts;
  r["rules"] = rules;
  r["causes"] = causes;
  json objs = json::array();
  for (const auto& [key, n] : objects) {
    objs.push_back({{"rule", key.first}, {"object", key.second}, {"findings", n}});
  }
  r["objects"] = objs;
  const char* link = nullptr;
  if (fs::is_regular_file(out / "report.html", ec)) {
    link = "report.html";
  } else if (fs::is_regular_file(out / "report.md", ec)) {
    link = "report.md";
  }
  r["report"] = link ? json(name + "/" + link) : json(nullptr);
  return r;
}

// ---- the index ----------------------------------------------------------------------------

std::string html_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);  // shown, never interpreted
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

// A relative URL for a path of name segments: every byte but the unreserved ones
// percent-encoded (a case named `a#b` or `..` stays one segment).
std::string url_path(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  if (out.starts_with("./") || out.starts_with("../") || out.find(':') != std::string::npos) {
    out = "./" + out;
  }
  return out;
}

json build_index(const std::vector<json>& records, const json& options) {
  json index;
  index["tool"] = "dbautopsy";
  index["index"] = "batch";
  index["version"] = version();
  index["options"] = options;
  std::map<std::string, int> by_status;
  json severity = {{"error", 0}, {"warning", 0}, {"info", 0}};
  size_t findings = 0;
  std::map<std::pair<std::string, std::string>, std::pair<std::vector<std::string>, int>> seen;
  for (const auto& r : records) {
    ++by_status[r["status"].get<std::string>()];
    findings += r["findings"].get<size_t>();
    for (const auto& [sev, n] : r["severity"].items()) {
      severity[sev] = severity.value(sev, 0) + n.get<int>();
    }
    for (const auto& o : r["objects"]) {
      auto& entry = seen[{o["rule"].get<std::string>(), o["object"].get<std::string>()}];
      entry.first.push_back(r["name"].get<std::string>());
      entry.second += o["findings"].get<int>();
    }
  }
  index["totals"] = {{"cases", records.size()},
                     {"status", by_status},
                     {"findings", findings},
                     {"severity", severity}};
  index["cases"] = records;
  // Findings that recur across cases: the same rule on the same object in two cases or more,
  // the most widespread first.
  std::vector<json> recurring;
  for (const auto& [key, entry] : seen) {
    if (entry.first.size() < 2) {
      continue;
    }
    recurring.push_back({{"rule", key.first},
                         {"object", key.second},
                         {"cases", entry.first},
                         {"findings", entry.second}});
  }
  std::stable_sort(recurring.begin(), recurring.end(), [](const json& a, const json& b) {
    return a["cases"].size() > b["cases"].size();
  });
  index["recurring"] = recurring;
  return index;
}

constexpr const char* k_css = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1f24}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d0d7de;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.done{color:#1a7f37}.input-error,.timeout{color:#9a6700}.failed,.crashed{color:#cf222e}
.n{text-align:right;font-variant-numeric:tabular-nums}
ul{margin:0;padding-left:1.2em}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5em;margin:.3em 0}
code{overflow-wrap:anywhere}
.rule code,li code{white-space:nowrap}
@media (max-width:700px){body{margin:.5em}td,th{padding:.25em}}
@media print{a{color:inherit;text-decoration:none}details{display:block}}
)";

std::string build_html(const json& index) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>dbautopsy batch index</title>\n<style>";
  h += k_css;
  h += "</style>\n</head>\n<body>\n";
  const json& t = index["totals"];
  h += fmt::format("<h1>dbautopsy batch: {} cases</h1>\n", t["cases"].get<size_t>());
  h += fmt::format("<p>dbautopsy {}", html_escape(index["version"].get<std::string>()));
  if (!index["options"].empty()) {
    std::string opts;
    for (const auto& o : index["options"]) {
      opts += (opts.empty() ? "" : " ") + o.get<std::string>();
    }
    h += fmt::format(", options passed to investigate: <code>{}</code>", html_escape(opts));
  }
  h += ".</p>\n<p>";
  std::string parts;
  for (const auto& [status, n] : t["status"].items()) {
    parts += fmt::format("{}<span class=\"{}\">{} {}</span>", parts.empty() ? "" : ", ",
                         html_escape(status), n.get<int>(), html_escape(status));
  }
  h += parts.empty() ? "no case" : parts;
  h += fmt::format(". {} findings: {} error, {} warning, {} info.</p>\n",
                   t["findings"].get<size_t>(), t["severity"].value("error", 0),
                   t["severity"].value("warning", 0), t["severity"].value("info", 0));

  h += "<h2 id=\"recurring\">Findings that recur across cases</h2>\n";
  if (index["recurring"].empty()) {
    h += "<p>No finding recurs: no rule fired on the same object in two cases.</p>\n";
  } else {
    h += "<table>\n<tr><th>rule</th><th>object</th><th class=\"n\">cases</th>"
         "<th class=\"n\">findings</th><th>in</th></tr>\n";
    for (const auto& r : index["recurring"]) {
      std::string in;
      for (const auto& c : r["cases"]) {
        in += fmt::format("{}<a href=\"#{}\">{}</a>", in.empty() ? "" : ", ",
                          html_escape("case-" + url_path(c.get<std::string>())),
                          html_escape(c.get<std::string>()));
      }
      h += fmt::format(
          "<tr><td class=\"rule\"><code>{}</code></td><td><code>{}</code></td><td "
          "class=\"n\">{}</td>"
          "<td class=\"n\">{}</td><td>{}</td></tr>\n",
          html_escape(r["rule"].get<std::string>()), html_escape(r["object"].get<std::string>()),
          r["cases"].size(), r["findings"].get<int>(), in);
    }
    h += "</table>\n";
  }

  h += "<h2 id=\"cases\">Cases</h2>\n<table>\n<tr><th>case</th><th>status</th>"
       "<th class=\"n\">error</th><th class=\"n\">warning</th><th class=\"n\">info</th>"
       "<th>rules</th><th>causes</th></tr>\n";
  for (const auto& c : index["cases"]) {
    std::string name = c["name"].get<std::string>();
    std::string status = c["status"].get<std::string>();
    std::string cell = html_escape(name);
    if (c["report"].is_string()) {
      cell = fmt::format("<a href=\"{}\">{}</a>",
                         html_escape(url_path(c["report"].get<std::string>())), cell);
    }
    std::string how = html_escape(status);
    if (c["signal"].is_string()) {
      how += " (" + html_escape(c["signal"].get<std::string>()) + ")";
    } else if (c["exit_code"].is_number() && status != "done") {
      how += fmt::format(" (exit {})", c["exit_code"].get<int>());
    }
    if (status != "done" && !c["stderr_tail"].get<std::string>().empty()) {
      how += "<details><summary>stderr</summary><pre>" +
             html_escape(c["stderr_tail"].get<std::string>()) + "</pre></details>";
    }
    std::string rules;
    for (const auto& [rule, n] : c["rules"].items()) {
      rules += fmt::format("<li><code>{}</code> × {}</li>", html_escape(rule), n.get<int>());
    }
    std::string causes;
    for (const auto& k : c["causes"]) {
      causes += fmt::format("<li>{}: {}</li>", html_escape(k["id"].get<std::string>()),
                            html_escape(k["summary"].get<std::string>()));
    }
    h += fmt::format(
        "<tr id=\"{}\"><td>{}</td><td class=\"{}\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>\n",
        html_escape("case-" + url_path(name)), cell, html_escape(status), how,
        c["severity"].value("error", 0), c["severity"].value("warning", 0),
        c["severity"].value("info", 0), rules.empty() ? "" : "<ul>" + rules + "</ul>",
        causes.empty() ? "" : "<ul>" + causes + "</ul>");
  }
  h += "</table>\n</body>\n</html>\n";
  return h;
}

void write_index(const fs::path& out, const std::vector<json>& records, const json& options) {
  json index = build_index(records, options);
  write_file(out / "index.json", dump(index));
  write_file(out / "index.html", build_html(index));
}

// An output folder is new, empty, or one that batch / batch-merge wrote (it has index.json
// or timings.json): batch never writes case folders into a folder of something else.
void check_out_folder(const fs::path& out, const std::string& given) {
  std::error_code ec;
  if (!fs::exists(out, ec)) {
    return;
  }
  if (!fs::is_directory(out, ec)) {
    throw UsageError(fmt::format("--out {}: exists and is not a folder", given));
  }
  if (fs::is_empty(out, ec) || fs::exists(out / "index.json") || fs::exists(out / "timings.json")) {
    return;
  }
  throw UsageError(fmt::format(
      "--out {}: the folder holds files and no index.json; give a new or empty folder, or the "
      "output of an earlier batch",
      given));
}

void make_dir(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p, ec);
  if (ec || !fs::is_directory(p)) {
    throw Error(fmt::format("cannot make the folder {}{}", p.string(),
                            ec ? ": " + ec.message() : std::string()));
  }
}

struct Running {
  size_t index = 0;
  pid_t pid = 0;
  std::chrono::steady_clock::time_point start;
  bool timed_out = false;
};

// Starts `investigate` for one case: cwd the CASES_DIR (so that the reports and messages name
// the case and its files, not a host path), stdout discarded, stderr to OUT/<case>/stderr.txt.
pid_t spawn_case(const fs::path& self, const Case& c, const fs::path& out,
                 const std::vector<std::string>& passed) {
  std::vector<std::string> argv_text = {"dbautopsy",
                                        "investigate",
                                        c.entry.front() == '-' ? "./" + c.entry : c.entry,
                                        "--out",
                                        out.string(),
                                        "--store",
                                        (out / "facts.db").string()};
  argv_text.insert(argv_text.end(), passed.begin(), passed.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  std::string err_path = (out / "stderr.txt").string();
  std::string root = c.root.string();
  std::string exe = self.string();
  pid_t pid = ::fork();
  if (pid < 0) {
    throw Error(fmt::format("cannot start a process: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (err < 0 || null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0 || ::dup2(err, 2) < 0 ||
        ::chdir(root.c_str()) != 0) {
      ::_exit(127);
    }
    ::execv(exe.c_str(), argv.data());
    const char msg[] = "dbautopsy batch: cannot run investigate\n";
    [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  return pid;
}

std::string status_line(const json& r) {
  std::string s = r["status"].get<std::string>();
  if (r["signal"].is_string()) {
    s += " (" + r["signal"].get<std::string>() + ")";
  } else if (s != "done" && r["exit_code"].is_number()) {
    s += fmt::format(" (exit {})", r["exit_code"].get<int>());
  }
  size_t n = r["findings"].get<size_t>();
  return fmt::format("{}, {} finding{}", s, n, n == 1 ? "" : "s");
}

// 0 when every case ran clean, 1 when one has findings at or above investigate's --fail-on,
// 2 when one did not complete (input error, failure, crash, timeout).
int batch_exit(const std::vector<json>& records) {
  int status = k_exit_ok;
  for (const auto& r : records) {
    if (r["status"] != "done") {
      return k_exit_error;
    }
    if (r["exit_code"] == k_exit_findings) {
      status = k_exit_findings;
    }
  }
  return status;
}

void print_summary(const json& index, size_t ran, size_t unchanged, const fs::path& out) {
  std::string parts;
  for (const auto& [status, n] : index["totals"]["status"].items()) {
    parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", n.get<int>(), status);
  }
  std::cout << fmt::format("{} cases: {}; {} run, {} unchanged (not run again)\n",
                           index["totals"]["cases"].get<size_t>(), parts.empty() ? "none" : parts,
                           ran, unchanged);
  std::cout << fmt::format("{} findings; {} recur across cases\n",
                           index["totals"]["findings"].get<size_t>(), index["recurring"].size());
  std::cout << fmt::format("index: {}\n", (out / "index.html").string());
}

// Options investigate is given by batch itself, or that would write where batch does not
// look: refused after `--`.
void check_passed_options(const std::vector<std::string>& passed) {
  for (const auto& o : passed) {
    for (const char* bad : {"--out", "--store", "-s", "--output", "-o", "--repair", "--format",
                            "-f", "--help", "-h"}) {
      std::string b = bad;
      if (o == b || (b.starts_with("--") && o.starts_with(b + "="))) {
        throw UsageError(fmt::format(
            "batch: {} after `--` is not passed on (batch sets where each case's reports and store "
            "go, and writes every format)",
            o));
      }
    }
  }
}

}  // namespace

int cmd_batch(const std::vector<std::string>& all_args) {
  // Everything after `--` goes to each investigate.
  std::vector<std::string> args, passed;
  auto dashes = std::find(all_args.begin(), all_args.end(), "--");
  args.assign(all_args.begin(), dashes);
  if (dashes != all_args.end()) {
    passed.assign(dashes + 1, all_args.end());
  }
  po::options_description visible("Options");
  std::string out_text, shard_text;
  unsigned jobs = 0;
  double timeout = 0;
  bool force = false, quiet = false, list = false;
  visible.add_options()("out", po::value(&out_text),
                        "the output folder: OUT/<case>/ (every report and facts.db), "
                        "OUT/index.json, OUT/index.html, OUT/timings.json")(
      "jobs,j", po::value(&jobs), "cases analysed at once (default: the number of cores)")(
      "shard", po::value(&shard_text),
      "K/N: only the cases of shard K of N, K counted from 0 (0 <= K < N)")(
      "timeout", po::value(&timeout),
      "seconds a case may run before it is killed and recorded as timeout (default: no limit)")(
      "force", po::bool_switch(&force), "run every case, even those whose inputs did not change")(
      "list", po::bool_switch(&list),
      "print the cases (name, shard) this run would analyse, and run nothing")(
      "quiet,q", po::bool_switch(&quiet), "no line per case on stderr");
  po::options_description hidden;
  hidden.add_options()("cases", po::value<std::vector<std::string>>(), "case folders");
  po::positional_options_description positional;
  positional.add("cases", -1);
  po::variables_map vm;
  constexpr const char* k_epilogue =
      "A case is each immediate subfolder of a CASES_DIR (not starting with '.'), named by its\n"
      "folder name, and each case archive there (case7.zip, case8.tar.gz: named case7, case8);\n"
      "a CASES_DIR that holds case files at its top is one case itself. Options after `--`\n"
      "are passed to every `investigate` (e.g. -- --fail-on warning --row-cap 100000) and\n"
      "count among what decides whether a case runs again.\n"
      "Exit status: 0 every case clean, 1 findings, 2 a case did not complete or a usage error.\n";
  if (!parse_args("batch", "CASES_DIR... --out OUT [OPTIONS] [-- INVESTIGATE_OPTIONS]", args,
                  visible, hidden, positional, vm, k_epilogue)) {
    return k_exit_ok;
  }
  if (!vm.count("cases")) {
    throw UsageError("batch: give one folder of case folders or more, CASES_DIR...");
  }
  if (out_text.empty() && !list) {
    throw UsageError("batch: give the output folder, --out OUT");
  }
  if (vm.count("jobs") && jobs == 0) {
    throw UsageError("batch: --jobs must be at least 1");
  }
  if (timeout < 0) {
    throw UsageError("batch: --timeout must be 0 (no limit) or more seconds");
  }
  if (jobs == 0) {
    jobs = std::max(1u, std::thread::hardware_concurrency());
  }
  check_passed_options(passed);
  Shard shard = shard_text.empty() ? Shard{} : parse_shard(shard_text);

  std::vector<Case> cases = list_cases(vm["cases"].as<std::vector<std::string>>());
  std::vector<Case> mine;
  for (const auto& c : cases) {
    if (shard_of(c.name, shard.n) == shard.k) {
      mine.push_back(c);
    }
  }
  if (list) {
    for (const auto& c : mine) {
      std::cout << c.name << "\t" << shard_of(c.name, shard.n) << "\n";
    }
    return k_exit_ok;
  }
  fs::path out = normal_out(out_text);
  for (const auto& g : vm["cases"].as<std::vector<std::string>>()) {
    fs::path root = canonical_dir(g, "");
    if (inside(out, root) || inside(root, out)) {
      throw UsageError(
          fmt::format("--out {}: it is {} the cases folder {}; give a folder outside it", out_text,
                      inside(out, root) ? "inside" : "around", g));
    }
  }
  check_out_folder(out, out_text);
  make_dir(out);

  fs::path self = fs::read_symlink("/proc/self/exe");
  std::vector<std::optional<json>> records(mine.size());
  std::vector<std::string> digests(mine.size());
  std::vector<json> timing(mine.size());
  std::vector<size_t> to_run;
  size_t unchanged = 0;
  for (size_t i = 0; i < mine.size(); ++i) {
    digests[i] = inputs_digest(mine[i], passed);
    fs::path record_path = out / mine[i].name / k_case_record;
    if (!force && !digests[i].empty() && fs::is_regular_file(record_path)) {
      try {
        json old = json::parse(read_file(record_path));
        std::string st = old.value("status", "");
        if (old.value("inputs_sha256", "") == digests[i] && (st == "done" || st == "input-error")) {
          records[i] = old;
          timing[i] = {{"name", mine[i].name}, {"ran", false}};
          ++unchanged;
          continue;
        }
      } catch (const std::exception&) {
        // an unreadable record: the case runs again
      }
    }
    to_run.push_back(i);
  }

  auto t0 = std::chrono::steady_clock::now();
  std::vector<Running> running;
  size_t next = 0, finished = 0;
  while (next < to_run.size() || !running.empty()) {
    while (next < to_run.size() && running.size() < jobs) {
      size_t i = to_run[next++];
      fs::path case_out = out / mine[i].name;
      std::error_code ec;
      fs::remove_all(case_out, ec);
      make_dir(case_out);
      running.push_back({i, spawn_case(self, mine[i], case_out, passed),
                         std::chrono::steady_clock::now(), false});
    }
    int status = 0;
    struct rusage usage {};
    pid_t pid = ::wait4(-1, &status, WNOHANG, &usage);
    if (pid < 0 && errno != EINTR && errno != ECHILD) {
      throw Error(fmt::format("waiting for a case: {}", std::strerror(errno)));
    }
    if (pid <= 0) {
      auto now = std::chrono::steady_clock::now();
      for (auto& r : running) {
        if (timeout > 0 && !r.timed_out &&
            std::chrono::duration<double>(now - r.start).count() > timeout) {
          r.timed_out = true;
          ::kill(r.pid, SIGKILL);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    auto it = std::find_if(running.begin(), running.end(),
                           [&](const Running& r) { return r.pid == pid; });
    if (it == running.end()) {
      continue;
    }
    size_t i = it->index;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - it->start).count();
    fs::path case_out = out / mine[i].name;
    json r = case_record(mine[i].name, case_out, digests[i], status, it->timed_out);
    if (it->timed_out) {
      r["stderr_tail"] =
          r["stderr_tail"].get<std::string>() +
          fmt::format("{}killed after --timeout {} s",
                      r["stderr_tail"].get<std::string>().empty() ? "" : "\n", timeout);
    }
    write_file(case_out / k_case_record, dump(r));
    timing[i] = {{"name", mine[i].name},
                 {"ran", true},
                 {"seconds", std::round(seconds * 1000) / 1000},
                 {"max_rss_kib", usage.ru_maxrss}};
    records[i] = r;
    running.erase(it);
    ++finished;
    if (!quiet) {
      std::cerr << fmt::format("[{}/{}] {}: {} ({:.1f} s)\n", finished, to_run.size(), mine[i].name,
                               status_line(r), seconds);
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  std::vector<json> all;
  for (auto& r : records) {
    all.push_back(*r);
  }
  json options = passed;
  write_index(out, all, options);
  json timings = {
      {"tool", "dbautopsy"},
      {"version", version()},
      {"jobs", jobs},
      {"shard", shard_text.empty() ? json(nullptr) : json(fmt::format("{}/{}", shard.k, shard.n))},
      {"wall_seconds", std::round(wall * 1000) / 1000},
      {"cases", timing}};
  write_file(out / "timings.json", dump(timings));
  if (!quiet) {
    print_summary(build_index(all, options), to_run.size(), unchanged, fs::path(out_text));
  }
  return batch_exit(all);
}

int cmd_batch_merge(const std::vector<std::string>& args) {
  po::options_description visible("Options");
  std::string out_text;
  bool quiet = false;
  visible.add_options()("out", po::value(&out_text),
                        "the merged folder: every case folder copied in, one index.json, "
                        "index.html and timings.json")("quiet,q", po::bool_switch(&quiet),
                                                       "print nothing");
  po::options_description hidden;
  hidden.add_options()("outs", po::value<std::vector<std::string>>(), "shard outputs");
  po::positional_options_description positional;
  positional.add("outs", -1);
  po::variables_map vm;
  if (!parse_args("batch-merge", "OUT... --out MERGED", args, visible, hidden, positional, vm,
                  "Each OUT is the --out of one `batch --shard K/N` run. A case found in two of\n"
                  "them is an error naming both.\n")) {
    return k_exit_ok;
  }
  if (!vm.count("outs")) {
    throw UsageError("batch-merge: give the shard outputs, OUT...");
  }
  if (out_text.empty()) {
    throw UsageError("batch-merge: give the merged folder, --out MERGED");
  }
  fs::path merged = normal_out(out_text);
  struct Source {
    fs::path dir;
    std::string given;
  };
  std::vector<Source> sources;
  for (const auto& g : vm["outs"].as<std::vector<std::string>>()) {
    fs::path dir = canonical_dir(g, "batch-merge takes the --out folders of batch runs");
    if (inside(merged, dir) || inside(dir, merged)) {
      throw UsageError(fmt::format("--out {}: it is {} the shard output {}; give another folder",
                                   out_text, inside(merged, dir) ? "inside" : "around", g));
    }
    if (std::none_of(sources.begin(), sources.end(),
                     [&](const Source& s) { return s.dir == dir; })) {
      sources.push_back({dir, g});
    }
  }
  std::map<std::string, std::pair<json, const Source*>> cases;
  std::optional<json> options;
  std::string options_from;
  json timing_cases = json::array();
  for (const auto& s : sources) {
    fs::path index_path = s.dir / "index.json";
    json index;
    try {
      index = json::parse(read_file(index_path));
    } catch (const std::exception& e) {
      throw InputError(Location{index_path.string()},
                       fmt::format("expected the index.json of a batch run: {}", e.what()));
    }
    if (index.value("index", "") != "batch" || !index.contains("cases")) {
      throw InputError(Location{index_path.string()},
                       "expected the index.json of a batch run (\"index\": \"batch\")");
    }
    if (index.value("version", "") != version()) {
      throw InputError(Location{index_path.string()},
                       fmt::format("written by dbautopsy {}, this is {}: run every shard with "
                                   "one version",
                                   index.value("version", "?"), version()));
    }
    if (!options) {
      options = index.value("options", json::array());
      options_from = s.given;
    } else if (*options != index.value("options", json::array())) {
      throw InputError(
          Location{index_path.string()},
          fmt::format("its cases were run with the options {}, those of {} with {}: "
                      "the results do not compare",
                      index.value("options", json::array()).dump(), options_from, options->dump()));
    }
    for (const auto& c : index["cases"]) {
      std::string name = c.value("name", "");
      auto [at, fresh] = cases.emplace(name, std::make_pair(c, &s));
      if (!fresh) {
        throw InputError(Location{index_path.string()},
                         fmt::format("the case {} is also in {}: each case belongs to one shard "
                                     "(were two runs given the same --shard?)",
                                     name, at->second.second->given));
      }
    }
    try {
      json t = json::parse(read_file(s.dir / "timings.json"));
      for (auto c : t.value("cases", json::array())) {
        c["shard"] = t.value("shard", json(nullptr));
        timing_cases.push_back(c);
      }
    } catch (const std::exception&) {
      // timings are informative; a shard without them merges all the same
    }
  }
  check_out_folder(merged, out_text);
  make_dir(merged);
  std::vector<json> records;
  for (const auto& [name, entry] : cases) {
    fs::path from = entry.second->dir / name;
    fs::path to = merged / name;
    std::error_code ec;
    fs::remove_all(to, ec);
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
    if (ec) {
      throw Error(
          fmt::format("cannot copy {} to {}: {}", from.string(), to.string(), ec.message()));
    }
    records.push_back(entry.first);
  }
  write_index(merged, records, options.value_or(json::array()));
  std::sort(timing_cases.begin(), timing_cases.end(),
            [](const json& a, const json& b) { return a.value("name", "") < b.value("name", ""); });
  write_file(merged / "timings.json", dump({{"tool", "dbautopsy"},
                                            {"version", version()},
                                            {"merged_from", sources.size()},
                                            {"cases", timing_cases}}));
  if (!quiet) {
    json index = build_index(records, options.value_or(json::array()));
    std::cout << fmt::format("{} cases from {} outputs; {} findings, {} recur across cases\n",
                             records.size(), sources.size(),
                             index["totals"]["findings"].get<size_t>(), index["recurring"].size());
    std::cout << fmt::format("index: {}\n", (fs::path(out_text) / "index.html").string());
  }
  return batch_exit(records);
}

}  // namespace dbautopsy::cli
