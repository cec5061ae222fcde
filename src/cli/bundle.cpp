#include "cli/bundle.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "base/error.hpp"
#include "cli/pieces.hpp"
#include "io/digest.hpp"
#include "io/input.hpp"
#include "io/pieces.hpp"
#include "store/facts.hpp"

namespace dbautopsy::cli {

namespace fs = std::filesystem;

namespace {

// A member's name as a relative path of plain components, or empty (with why) when it has
// none or would leave the folder it is unpacked into.
std::string clean_member_name(std::string_view raw, bool zip, std::string& why) {
  std::string name(raw);
  if (zip) {
    std::replace(name.begin(), name.end(), '\\', '/');  // written by some Windows tools
  }
  if (name.starts_with('/')) {
    why = "an absolute name in the archive, not read";
    return {};
  }
  std::string out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string::npos) {
      slash = name.size();
    }
    std::string_view part(name.data() + start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      why = "a name with a `..` component in the archive, not read";
      return {};
    }
    if (part.size() > 255) {
      why = "a name component longer than 255 bytes, not read";
      return {};
    }
    if (!out.empty()) {
      out += '/';
    }
    out += part;
  }
  if (out.size() > 3000) {
    why = "a name longer than 3,000 bytes, not read";
    return {};
  }
  return out;
}

std::string file_type_of(archive_entry* e) {
  if (archive_entry_hardlink(e) != nullptr) {
    return "a hard link";
  }
  switch (archive_entry_filetype(e)) {
    case AE_IFLNK:
      return "a symbolic link";
    case AE_IFCHR:
      return "a character device";
    case AE_IFBLK:
      return "a block device";
    case AE_IFIFO:
      return "a FIFO";
    case AE_IFSOCK:
      return "a socket";
    default:
      return "not a regular file";
  }
}

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

struct Member {
  std::string shown_name;  // as the archive writes it (cleaned when readable)
  std::string skipped;     // why it is not read, or empty
};

struct Unpacked {
  std::vector<Member> skipped;
  std::vector<std::string> errors;  // what stopped the unpacking (at most one)
  uint64_t files = 0;
  uint64_t bytes = 0;
};

// The pieces of an archive (io/pieces.hpp) as one file for libarchive: its read, skip and seek
// callbacks over the pieces in turn (libarchive's own archive_read_open_filenames crashed on
// three pieces of a tar.gz in libarchive 3.6).
struct Joined {
  std::vector<int> fds;
  std::vector<uint64_t> sizes;
  std::vector<std::string> names;
  size_t piece = 0;    // the piece read from
  uint64_t at = 0;     // the offset in the pieces joined
  uint64_t start = 0;  // where the piece read from starts
  std::string error;   // why a piece cannot be read
  std::vector<char> buf = std::vector<char>(1 << 16);

  ~Joined() {
    for (int fd : fds) {
      ::close(fd);
    }
  }
  void open(const std::vector<fs::path>& pieces) {
    for (const auto& p : pieces) {
      int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
      struct stat st {};
      if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error = fmt::format("the piece {} cannot be read", p.filename().string());
        if (fd >= 0) {
          ::close(fd);
        }
        return;
      }
      fds.push_back(fd);
      sizes.push_back(static_cast<uint64_t>(st.st_size));
      names.push_back(p.filename().string());
    }
  }
  uint64_t total() const {
    uint64_t n = 0;
    for (uint64_t s : sizes) {
      n += s;
    }
    return n;
  }
  // Moves to `to` in the pieces joined (at most their end).
  void move_to(uint64_t to) {
    to = std::min(to, total());
    piece = 0;
    start = 0;
    while (piece + 1 < sizes.size() && to >= start + sizes[piece]) {
      start += sizes[piece];
      ++piece;
    }
    at = to;
  }
  static la_ssize_t read(archive* a, void* data, const void** out) {
    auto& j = *static_cast<Joined*>(data);
    while (j.piece < j.fds.size()) {
      ssize_t got =
          ::pread(j.fds[j.piece], j.buf.data(), j.buf.size(), static_cast<off_t>(j.at - j.start));
      if (got < 0 && errno == EINTR) {
        continue;
      }
      if (got < 0) {
        archive_set_error(a, errno, "read error in the piece %s", j.names[j.piece].c_str());
        return -1;
      }
      if (got == 0) {
        if (j.piece + 1 == j.fds.size()) {
          break;
        }
        j.start += j.sizes[j.piece];
        j.at = j.start;
        ++j.piece;
        continue;
      }
      j.at += static_cast<uint64_t>(got);
      *out = j.buf.data();
      return got;
    }
    *out = j.buf.data();
    return 0;
  }
  static la_int64_t skip(archive*, void* data, la_int64_t request) {
    auto& j = *static_cast<Joined*>(data);
    uint64_t from = j.at;
    j.move_to(j.at + static_cast<uint64_t>(std::max<la_int64_t>(request, 0)));
    return static_cast<la_int64_t>(j.at - from);
  }
  static la_int64_t seek(archive*, void* data, la_int64_t offset, int whence) {
    auto& j = *static_cast<Joined*>(data);
    int64_t base = whence == SEEK_SET   ? 0
                   : whence == SEEK_CUR ? static_cast<int64_t>(j.at)
                                        : static_cast<int64_t>(j.total());
    int64_t to = base + offset;
    if (to < 0) {
      return ARCHIVE_FATAL;
    }
    j.move_to(static_cast<uint64_t>(to));
    return static_cast<la_int64_t>(j.at);
  }
};

// Unpacks the bundle at `path` (format as bundle_format said) into `into`.
Unpacked unpack(const fs::path& path, const std::string& format, const fs::path& into) {
  Unpacked out;
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  if (!a) {
    throw std::bad_alloc();
  }
  archive_read_support_filter_all(a.get());
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_7zip(a.get());
  // An archive in pieces (split, 7-Zip's .001): read through the pieces joined.
  Joined joined;
  int opened = ARCHIVE_FATAL;
  if (auto pieces = io::pieces_of(path)) {
    joined.open(*pieces);
    archive_read_set_callback_data(a.get(), &joined);
    archive_read_set_read_callback(a.get(), Joined::read);
    archive_read_set_seek_callback(a.get(), Joined::seek);
    archive_read_set_skip_callback(a.get(), Joined::skip);
    opened = joined.error.empty() ? archive_read_open1(a.get()) : ARCHIVE_FATAL;
    if (!joined.error.empty()) {
      out.errors.push_back(joined.error);
      return out;
    }
  } else {
    opened = archive_read_open_filename(a.get(), path.c_str(), 1 << 16);
  }
  if (opened != ARCHIVE_OK) {
    out.errors.push_back(
        fmt::format("cannot be read as a {} archive: {}", format, archive_error_string(a.get())));
    return out;
  }
  const bool zip = format == "zip";
  std::string current;  // the member being read, for errors
  auto fail = [&](std::string_view what) {
    out.errors.push_back(
        fmt::format("{}{} (at byte {} of the file); the members before it are read",
                    current.empty() ? "" : fmt::format("member {}: ", current), what,
                    archive_filter_bytes(a.get(), -1)));
  };
  std::vector<char> zeros;
  for (uint64_t count = 0;; ++count) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) {
      break;
    }
    if (r == ARCHIVE_FATAL || entry == nullptr) {
      current.clear();
      fail(fmt::format("expected the next member's header: {}", archive_error_string(a.get())
                                                                    ? archive_error_string(a.get())
                                                                    : "damaged archive"));
      break;
    }
    if (count >= k_max_members) {
      fail(fmt::format("more than {} members: the rest is not read", k_max_members));
      break;
    }
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) {
      raw = archive_entry_pathname_utf8(entry);
    }
    std::string raw_name = raw ? raw : "";
    current = raw_name;
    std::string why;
    std::string name = raw ? clean_member_name(raw_name, zip, why) : std::string();
    if (raw == nullptr) {
      why = "a member whose name cannot be read, not read";
    }
    auto filetype = archive_entry_filetype(entry);
    if (why.empty() && filetype == AE_IFDIR) {
      if (!name.empty()) {
        std::error_code ec;
        fs::create_directories(into / name, ec);
      }
      continue;
    }
    if (why.empty() && name.empty()) {
      why = "a member without a name, not read";
    }
    if (why.empty() && (filetype != AE_IFREG || archive_entry_hardlink(entry) != nullptr)) {
      why = fmt::format("{} in the archive, not read", file_type_of(entry));
    }
    if (why.empty() && archive_entry_is_encrypted(entry)) {
      why = "an encrypted member, not read";
    }
    if (!why.empty()) {
      out.skipped.push_back({name.empty() ? raw_name : name, why});
      continue;
    }
    fs::path target = into / name;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (fs::is_directory(target, ec)) {
      out.skipped.push_back(
          {name, "a file and a folder of the same name in the archive, not read"});
      continue;
    }
    bool again = fs::exists(fs::symlink_status(target, ec));
    if (again) {
      fs::remove(target, ec);  // as tar does: the later copy wins
    }
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
      out.skipped.push_back(
          {name, fmt::format("cannot be unpacked ({}), not read",
                             std::error_code(errno, std::generic_category()).message())});
      continue;
    }
    bool ok = true;
    bool stop = false;
    uint64_t end = 0;
    for (;;) {
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int d = archive_read_data_block(a.get(), &buf, &size, &offset);
      if (d == ARCHIVE_EOF) {
        break;
      }
      if (d == ARCHIVE_FAILED || d == ARCHIVE_FATAL) {
        const char* msg = archive_error_string(a.get());
        if (d == ARCHIVE_FATAL) {
          fail(fmt::format("its data cannot be read: {}", msg ? msg : "damaged archive"));
          stop = true;
        } else {
          out.skipped.push_back(
              {name, fmt::format("its data cannot be read ({}), not read", msg ? msg : "?")});
        }
        ok = false;
        break;
      }
      if (offset < 0 || static_cast<uint64_t>(offset) < end) {
        offset = static_cast<la_int64_t>(end);
      }
      const char* p = static_cast<const char*>(buf);
      size_t left = size;
      off_t at = offset;
      while (left > 0) {
        ssize_t w = ::pwrite(fd, p, left, at);
        if (w < 0) {
          if (errno == EINTR) {
            continue;
          }
          fail(fmt::format("cannot be unpacked: {}",
                           std::error_code(errno, std::generic_category()).message()));
          ok = false;
          stop = true;
          break;
        }
        p += w;
        at += w;
        left -= static_cast<size_t>(w);
      }
      if (stop) {
        break;
      }
      end = std::max<uint64_t>(end, static_cast<uint64_t>(offset) + size);
      out.bytes += size;
      if (auto e = io::decode_limit_exceeded(
              format, out.bytes,
              static_cast<uint64_t>(std::max<la_int64_t>(archive_filter_bytes(a.get(), -1), 1)),
              "the archive")) {
        fail(*e);
        ok = false;
        stop = true;
        break;
      }
    }
    // A sparse member ends in a hole: the file gets its full size.
    if (ok && archive_entry_size_is_set(entry) && archive_entry_size(entry) > 0 &&
        static_cast<uint64_t>(archive_entry_size(entry)) > end) {
      if (::ftruncate(fd, archive_entry_size(entry)) != 0) {
        ok = false;
      }
    }
    ::close(fd);
    if (!ok) {
      fs::remove(target, ec);
      if (stop) {
        break;
      }
      continue;
    }
    if (archive_entry_mtime_is_set(entry)) {
      struct timespec times[2];
      times[0].tv_sec = times[1].tv_sec = archive_entry_mtime(entry);
      times[0].tv_nsec = times[1].tv_nsec = archive_entry_mtime_nsec(entry);
      ::utimensat(AT_FDCWD, target.c_str(), times, 0);
    }
    ++out.files;
  }
  return out;
}

// Records the bundle at `path` as an artifact and returns its members as targets.
std::vector<Target> open_bundle(store::Store& store, const fs::path& path, const std::string& shown,
                                const std::string& format, const std::string& codec,
                                Scratch& scratch, int depth, std::vector<ArtifactOutcome>& bundles,
                                std::map<std::string, fs::path>& disk_of) {
  std::vector<Target> members;
  Unpacked u;
  fs::path folder = scratch.next_folder();
  if (depth > k_max_depth) {
    u.errors.push_back(
        fmt::format("a bundle inside {} other bundles: deeper than {}, its members are not read",
                    depth - 1, k_max_depth));
  } else {
    u = unpack(path, format, folder);
  }
  for (auto& e : walk_case(folder, false)) {
    std::string rel = e.path.lexically_normal().lexically_relative(folder).string();
    std::string member_shown = shown + "/" + rel;
    disk_of[member_shown] = e.path;
    members.emplace_back(std::move(e), std::move(member_shown));
  }
  for (const auto& m : u.skipped) {
    members.emplace_back(CaseEntry{folder / "skipped", m.skipped}, shown + "/" + m.shown_name);
  }
  std::stable_sort(members.begin(), members.end(),
                   [](const Target& x, const Target& y) { return x.second < y.second; });

  ArtifactOutcome o;
  o.path = shown;
  o.kind = "bundle";
  std::error_code ec;
  o.size = fs::file_size(path, ec);
  if (const PieceSet* pieces = piece_set(path)) {
    o.size = size_on_disk(path);  // the pieces read
    if (!pieces->missing.empty()) {
      u.errors.insert(u.errors.begin(), pieces->missing);
    }
  }
  store::ArtifactFact fact;
  fact.path = shown;
  fact.kind = o.kind;
  fact.size_bytes = static_cast<int64_t>(o.size);
  fact.mtime = file_mtime(path);
  fact.codec = codec;
  o.codec = fact.codec;
  fact.sha256 = io::sha256_file(path);
  o.status = u.errors.empty() ? "ok" : (u.files > 0 ? "partial" : "failed");
  std::string counts = fmt::format("{} archive: {} file{} read as a folder", format, u.files,
                                   u.files == 1 ? "" : "s");
  if (!u.skipped.empty()) {
    counts +=
        fmt::format(", {} member{} not read", u.skipped.size(), u.skipped.size() == 1 ? "" : "s");
  }
  o.detail = u.errors.empty() ? counts : u.errors.front();
  fact.status = o.status;
  fact.status_detail = o.detail;
  store::Store::Transaction tx(store);
  if (auto stored = store::find_artifact(store, shown)) {
    store::forget_artifact(store, stored->id);
  }
  o.id = store::add_artifact(store, fact);
  {
    store::FactWriter writer(store, o.id);
    const PieceSet* pieces = piece_set(path);
    for (const auto& e : u.errors) {
      store::ProblemFact p;
      p.severity = "error";
      p.code = pieces && e == pieces->missing ? "missing-piece" : "unreadable";
      p.message = e;
      writer.add(p);
    }
    if (pieces) {
      writer.add(pieces_notice(*pieces, codec, false));
    }
  }
  tx.commit();
  bundles.push_back(o);
  return members;
}

std::vector<Target> expand(store::Store& store, std::vector<Target> targets, Scratch& scratch,
                           const IngestOptions& options, int depth,
                           std::vector<ArtifactOutcome>& bundles,
                           std::map<std::string, fs::path>& disk_of) {
  std::vector<Target> out;
  for (auto& t : targets) {
    std::optional<BundleFormat> format;
    std::error_code ec;
    if (t.first.skipped.empty() && !options.forced_kind && fs::is_regular_file(t.first.path, ec)) {
      format = bundle_format(t.first.path);
    }
    if (!format) {
      out.push_back(std::move(t));
      continue;
    }
    std::vector<Target> members = open_bundle(store, t.first.path, t.second, format->format,
                                              format->codec, scratch, depth, bundles, disk_of);
    members = expand(store, std::move(members), scratch, options, depth + 1, bundles, disk_of);
    for (auto& m : members) {
      out.push_back(std::move(m));
    }
  }
  return out;
}

}  // namespace

std::optional<BundleFormat> bundle_format(const fs::path& path) {
  io::Head head;
  try {
    head = io::read_head(path, 1024);
  } catch (const Error&) {
    return std::nullopt;  // reading it says what is wrong
  }
  std::string codec(io::codec_name(head.codec));
  std::string_view b = head.bytes;
  if (b.starts_with(std::string_view("PK\x03\x04", 4)) ||
      b.starts_with(std::string_view("PK\x05\x06", 4))) {
    return BundleFormat{"zip", codec};
  }
  if (b.starts_with(std::string_view("7z\xBC\xAF\x27\x1C", 6))) {
    return BundleFormat{"7z", codec};
  }
  // ustar (POSIX) or GNU tar; a pg_dump tar archive starts with its toc.dat.
  if (b.size() >= 263 && b.substr(257, 5) == "ustar" && !b.starts_with("toc.dat")) {
    return BundleFormat{"tar", codec};
  }
  return std::nullopt;
}

Scratch::~Scratch() {
  if (!m_root.empty()) {
    std::error_code ec;
    fs::remove_all(m_root, ec);
  }
}

fs::path Scratch::next_folder() {
  if (m_root.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "dbautopsy-bundles-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw Error(fmt::format("cannot make a scratch folder to unpack archives in {}: {}",
                              fs::temp_directory_path().string(),
                              std::error_code(errno, std::generic_category()).message()));
    }
    m_root = tmpl;
  }
  fs::path p = m_root / std::to_string(++m_count);
  fs::create_directory(p);
  return p;
}

std::vector<Target> expand_bundles(store::Store& store, std::vector<Target> targets,
                                   Scratch& scratch, const IngestOptions& options,
                                   std::vector<ArtifactOutcome>& bundles,
                                   std::map<std::string, fs::path>& disk_of) {
  return expand(store, std::move(targets), scratch, options, 1, bundles, disk_of);
}

}  // namespace dbautopsy::cli
