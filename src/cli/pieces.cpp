#include "cli/pieces.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "base/error.hpp"
#include "base/text.hpp"
#include "cli/kinds.hpp"
#include "io/input.hpp"
#include "io/pieces.hpp"

namespace dbautopsy::cli {

namespace fs = std::filesystem;

namespace {

std::mutex g_mutex;
std::map<std::string, PieceSet> g_sets;  // by the first piece's path

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A reading of a file name as split writes them: stem, suffix, then the rest.
struct Reading {
  std::string stem, suffix, rest;
  bool digits = false;
};

// Every reading of `name`: the rest empty or from one of its dots on, the suffix a run of 2 to
// 12 lower-case letters or digits before it.
std::vector<Reading> readings(const std::string& name) {
  std::vector<Reading> out;
  std::vector<size_t> cuts{name.size()};
  for (size_t i = 1; i < name.size(); ++i) {
    if (name[i] == '.') {
      cuts.push_back(i);
    }
  }
  for (size_t cut : cuts) {
    std::string base = name.substr(0, cut);
    if (base.empty()) {
      continue;
    }
    bool digits = is_digit(base.back());
    if (!digits && !is_lower(base.back())) {
      continue;
    }
    size_t run = 0;
    while (run < base.size() && (digits ? is_digit(base[base.size() - 1 - run])
                                        : is_lower(base[base.size() - 1 - run]))) {
      ++run;
    }
    for (size_t len = 2; len <= std::min<size_t>(run, 12); ++len) {
      out.push_back({base.substr(0, base.size() - len), base.substr(base.size() - len),
                     name.substr(cut), digits});
    }
  }
  return out;
}

// The suffix of a first piece: aa, aaa, 00, 000, 01, 001.
bool first_suffix(const std::string& s, bool digits) {
  if (!digits) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == 'a'; });
  }
  return std::all_of(s.begin(), s.end() - 1, [](char c) { return c == '0'; }) &&
         (s.back() == '0' || s.back() == '1');
}

// The suffixes split may write after `s`: the next of the same width, and the wider one GNU
// split goes on with when the first letter or digit reaches its last (yz -> zaaa, 89 -> 9000).
std::vector<std::string> next_suffixes(const std::string& s, bool digits) {
  const char first = digits ? '0' : 'a';
  const char last = digits ? '9' : 'z';
  std::vector<std::string> out;
  std::string t = s;
  int i = static_cast<int>(t.size()) - 1;
  for (; i >= 0; --i) {
    if (t[i] < last) {
      ++t[i];
      break;
    }
    t[i] = first;
  }
  if (i < 0) {
    return out;  // the last suffix of this width
  }
  out.push_back(t);
  size_t lead = 0;
  while (lead < s.size() && s[lead] == last) {
    ++lead;
  }
  if (lead < t.size() && t[lead] == last) {
    out.push_back(std::string(lead + 1, last) + std::string(s.size() - lead + 1, first));
  }
  return out;
}

// The first bytes of a file as stored (not decompressed).
std::string raw_head(const fs::path& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string out(n, '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  out.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
  return out;
}

// Whether text starts with pg_dump's or pg_dumpall's plain header ("--\n-- PostgreSQL database
// dump\n--"), after a byte order mark if any.
bool starts_as_a_plain_dump(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) {
    text.remove_prefix(3);
  }
  size_t line = text.find('\n');
  std::string_view second = line == std::string_view::npos ? "" : text.substr(line + 1);
  return text.starts_with("--") && second.starts_with("-- PostgreSQL database");
}

// Whether a file starts as a file of its own does: compressed, a pg_dump plain dump or
// archive, a zip, 7z, tar or SQLite file.
bool starts_as_a_file(const fs::path& path) {
  std::string head = raw_head(path, 512);
  if (io::detect_codec(head) != io::Codec::none) {
    return true;
  }
  for (std::string_view magic : {"PGDMP", "PK\x03\x04", "7z\xbc\xaf\x27\x1c", "SQLite format 3"}) {
    if (std::string_view(head).starts_with(magic)) {
      return true;
    }
  }
  if (head.size() >= 262 && head.compare(257, 5, "ustar") == 0) {
    return true;
  }
  return starts_as_a_plain_dump(head);
}

// Whether a file ends with pg_dump's (or pg_dumpall's) closing comment, as a whole plain dump
// does (pg_dump 15.14 and later write a \unrestrict line after it).
bool ends_as_a_dump(const fs::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  auto size = static_cast<int64_t>(in.tellg());
  if (!in || size <= 0) {
    return false;
  }
  int64_t take = std::min<int64_t>(size, 512);
  in.seekg(size - take);
  std::string tail(static_cast<size_t>(take), '\0');
  in.read(tail.data(), take);
  return tail.find("-- PostgreSQL database dump complete") != std::string::npos ||
         tail.find("-- PostgreSQL database cluster dump complete") != std::string::npos;
}

// Whether a file may be the first piece of a dump: compressed, an archive of case files (zip,
// tar, 7z: bundle.hpp), or a pg_dump file that starts as
// pg_dump starts one (its header comment, an archive's signature) and, plain, does not end with
// pg_dump's closing comment (a whole dump). A plain dump without its header (comments removed)
// is not taken for a first piece: two such dumps named by day (dump-01.sql, dump-02.sql) would
// be joined.
bool may_be_first(const fs::path& path) {
  try {
    io::Head head = io::read_head(path, 8);
    if (head.codec != io::Codec::none || bundle_format(path)) {
      return true;  // compressed, or an archive of case files (case.zip.001)
    }
    return starts_as_a_file(path) && detect_kind(path).starts_with("pgdump-") &&
           !ends_as_a_dump(path);
  } catch (const Error&) {
    return false;
  }
}

struct Member {
  size_t target;
  std::string suffix;
};

struct Group {
  std::string stem, rest;
  bool digits = false;
  std::vector<Member> members;
};

}  // namespace

std::vector<Target> join_pieces(std::vector<Target> targets) {
  // Every reading of every readable file's name, grouped by folder, stem, rest and alphabet.
  std::map<std::string, Group> groups;
  for (size_t i = 0; i < targets.size(); ++i) {
    const CaseEntry& e = targets[i].first;
    std::error_code ec;
    if (!e.skipped.empty() || !fs::is_regular_file(e.path, ec)) {
      continue;
    }
    for (auto& r : readings(e.path.filename().string())) {
      std::string key = fmt::format("{}\n{}\n{}\n{}", e.path.parent_path().string(), r.stem, r.rest,
                                    r.digits ? '0' : 'a');
      Group& g = groups[key];
      g.stem = r.stem;
      g.rest = r.rest;
      g.digits = r.digits;
      g.members.push_back({i, r.suffix});
    }
  }
  // Groups of two or more with a first suffix, shortest stem first (prodaa, prodab: the stem
  // prod, not pro with suffixes daa, dab).
  std::vector<Group*> order;
  for (auto& [key, g] : groups) {
    if (g.members.size() < 2) {
      continue;
    }
    std::sort(g.members.begin(), g.members.end(),
              [](const Member& a, const Member& b) { return a.suffix < b.suffix; });
    if (first_suffix(g.members.front().suffix, g.digits)) {
      order.push_back(&g);
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Group* a, const Group* b) { return a->stem.size() < b->stem.size(); });

  std::set<size_t> taken;
  std::map<size_t, Target> joined;  // by the first piece's target
  for (Group* g : order) {
    if (std::any_of(g->members.begin(), g->members.end(),
                    [&](const Member& m) { return taken.count(m.target) != 0; })) {
      continue;
    }
    const Member& first = g->members.front();
    if (!may_be_first(targets[first.target].first.path)) {
      continue;
    }
    // The pieces, in order, up to one that starts as a file of its own; a gap in the suffixes
    // ends the pieces read.
    std::vector<const Member*> pieces{&first};
    PieceSet set;
    set.read.push_back(targets[first.target].first.path);
    std::vector<std::string> missing;
    for (size_t k = 1; k < g->members.size(); ++k) {
      const Member& m = g->members[k];
      const fs::path& path = targets[m.target].first.path;
      if (starts_as_a_file(path)) {
        break;
      }
      const std::string& prev = pieces.back()->suffix;
      auto next = next_suffixes(prev, g->digits);
      bool follows = std::find(next.begin(), next.end(), m.suffix) != next.end();
      if (!follows && set.not_read.empty()) {
        // The suffixes between, as far as a few go.
        std::string s = prev;
        for (int n = 0; n < 5; ++n) {
          auto after = next_suffixes(s, g->digits);
          if (after.empty() || after.front() >= m.suffix) {
            break;
          }
          s = after.front();
          missing.push_back(g->stem + s + g->rest);
        }
        if (missing.empty() && !next.empty()) {
          missing.push_back(g->stem + next.front() + g->rest);
        }
      }
      (set.not_read.empty() && follows ? set.read : set.not_read).push_back(path);
      pieces.push_back(&m);
    }
    if (pieces.size() < 2) {
      continue;
    }
    for (const Member* m : pieces) {
      taken.insert(m->target);
    }
    const auto& shown_first = targets[first.target].second;
    std::string shown = shown_first + ".." + pieces.back()->suffix + g->rest;
    if (!set.not_read.empty()) {
      std::vector<std::string> before, after;
      for (const auto& p : set.read) {
        before.push_back(p.filename().string());
      }
      for (const auto& p : set.not_read) {
        after.push_back(p.filename().string());
      }
      set.missing = fmt::format(
          "{} {} of the split file {} missing (expected between {} and {}): read are the pieces "
          "before the gap ({}), not read those after it ({})",
          missing.size() == 1 ? "piece" : "pieces", text::join(missing, ", "),
          missing.size() == 1 ? "is" : "are", before.back(), after.front(),
          text::join(before, ", "), text::join(after, ", "));
    }
    const fs::path& first_path = targets[first.target].first.path;
    // A plain dump that starts with pg_dump's header ends with its closing comment: without it,
    // the last piece is cut short, or a piece after it is missing (a compressed file's decoder
    // says so itself, naming the last piece).
    if (set.not_read.empty() && starts_as_a_plain_dump(raw_head(first_path, 512)) &&
        !ends_as_a_dump(set.read.back())) {
      std::string last = set.read.back().filename().string();
      set.truncated = fmt::format(
          "the last piece, {}, does not end with pg_dump's closing comment (\"-- PostgreSQL "
          "database dump complete\"), which a dump that starts with pg_dump's header, as {} "
          "does, ends with: a piece after {} is missing, or {} is cut short",
          last, set.read.front().filename().string(), last, last);
    }
    io::set_pieces(first_path, set.read);
    {
      std::lock_guard lock(g_mutex);
      g_sets[first_path.string()] = set;
    }
    joined.emplace(first.target, Target{CaseEntry{first_path, {}}, shown});
  }
  if (joined.empty()) {
    return targets;
  }
  std::vector<Target> out;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (auto it = joined.find(i); it != joined.end()) {
      out.push_back(std::move(it->second));
    } else if (!taken.count(i)) {
      out.push_back(std::move(targets[i]));
    }
  }
  return out;
}

store::ProblemFact pieces_notice(const PieceSet& set, const std::string& codec, bool lines) {
  std::vector<fs::path> all = set.read;
  all.insert(all.end(), set.not_read.begin(), set.not_read.end());
  std::vector<std::string> parts;
  try {
    uint64_t line = 1;
    bool mid_line = false;
    uint64_t offset = 0;
    for (const auto& d : io::digest_pieces(all)) {
      std::string where;
      if (lines) {
        uint64_t last = line + d.newlines - (d.ends_line && d.newlines > 0 ? 1 : 0);
        where = fmt::format("{} line {} {} line {}", mid_line ? "from within" : "from", line,
                            d.ends_line ? "to" : "to within", last);
      } else {
        where = fmt::format("bytes {} to {} of the {}file", offset, offset + d.size,
                            codec == "none" ? "" : codec + " ");
      }
      parts.push_back(fmt::format("{} ({}; {} bytes, SHA-256 {})", d.path.filename().string(),
                                  where, d.size, d.sha256));
      line += d.newlines;
      mid_line = !d.ends_line;
      offset += d.size;
    }
  } catch (const InputError& e) {
    parts.push_back(e.what());
  }
  store::ProblemFact p;
  p.severity = "notice";
  p.code = "pieces";
  p.message = fmt::format(
      "a file handed over in {} pieces, read as their concatenation (its SHA-256 is that of the "
      "file before it was cut{}): {}",
      all.size(), lines ? ", its lines that file's" : "", text::join(parts, "; "));
  return p;
}

const PieceSet* piece_set(const fs::path& path) {
  std::lock_guard lock(g_mutex);
  auto it = g_sets.find(path.string());
  return it == g_sets.end() ? nullptr : &it->second;
}

}  // namespace dbautopsy::cli
