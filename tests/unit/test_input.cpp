// The input layer: codecs found by magic bytes, decompression on a thread ahead of the reader,
// truncated and corrupt data reported with a file offset, line reading with long lines.
// The compressed fixtures were made by the real gzip/bzip2/xz/zstd tools
// (fixtures/generate/codecs.sh).

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "base/error.hpp"
#include "io/digest.hpp"
#include "io/input.hpp"
#include "io/line_reader.hpp"
#include "io/pieces.hpp"
#include "support.hpp"

using namespace dbautopsy;
using dbautopsy::test::source_root;
using dbautopsy::test::TempDir;

namespace {

std::filesystem::path fixture(const std::string& name) {
  return source_root() / "fixtures/io" / name;
}

std::string slurp_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads a whole stream through InputStream::read in chunks of `chunk` bytes.
std::string read_all(io::InputStream& in, size_t chunk = 65536) {
  std::string out;
  std::string buf(chunk, '\0');
  for (;;) {
    size_t got = in.read(buf.data(), buf.size());
    if (got == 0) {
      return out;
    }
    out.append(buf.data(), got);
  }
}

}  // namespace

TEST_CASE("codecs are detected by magic bytes, not by name") {
  TempDir dir;
  // A gzip file with a misleading name, and a plain file named .gz.
  auto disguised = dir.path() / "notes.txt";
  std::filesystem::copy_file(fixture("lines.txt.gz"), disguised);
  auto plain = dir.write("really-plain.gz", "just text\n");
  CHECK(io::InputStream(disguised).codec() == io::Codec::gzip);
  CHECK(io::InputStream(plain).codec() == io::Codec::none);
  CHECK(io::InputStream(fixture("lines.txt.bz2")).codec() == io::Codec::bzip2);
  CHECK(io::InputStream(fixture("lines.txt.xz")).codec() == io::Codec::xz);
  CHECK(io::InputStream(fixture("lines.txt.zst")).codec() == io::Codec::zstd);
}

TEST_CASE("every codec decompresses to exactly the original bytes") {
  const std::string original = slurp_file(fixture("lines.txt"));
  REQUIRE(original.size() > 400000);
  for (const char* name : {"lines.txt", "lines.txt.gz", "lines.txt.bz2", "lines.txt.xz",
                           "lines.txt.zst", "two-members.txt.gz", "two-frames.txt.zst"}) {
    INFO(name);
    io::InputStream in(fixture(name));
    CHECK(read_all(in, 7919) == original);
    CHECK(in.offset() == original.size());
    CHECK(in.file_offset() == std::filesystem::file_size(fixture(name)));
  }
}

TEST_CASE("a truncated compressed file is an error naming the file and the offset") {
  TempDir dir;
  for (const char* name : {"lines.txt.gz", "lines.txt.bz2", "lines.txt.xz", "lines.txt.zst"}) {
    INFO(name);
    std::string whole = slurp_file(fixture(name));
    for (size_t keep : {whole.size() / 2, whole.size() - 4}) {
      auto cut = dir.write(std::string("cut-") + name, whole.substr(0, keep));
      io::InputStream in(cut);
      std::string got;
      try {
        got = read_all(in);
        FAIL("no error for a file truncated to " << keep << " bytes");
      } catch (const InputError& e) {
        CHECK(e.where().file == cut.string());
        REQUIRE(e.where().offset.has_value());
        CHECK(*e.where().offset == keep);
        CHECK(e.where().offset_in_file);
        CHECK_THAT(e.what(), Catch::Contains("truncated"));
      }
    }
  }
}

TEST_CASE("data delivered before a truncation is a correct prefix of the original") {
  TempDir dir;
  const std::string original = slurp_file(fixture("lines.txt"));
  std::string whole = slurp_file(fixture("lines.txt.gz"));
  auto cut = dir.write("cut.gz", whole.substr(0, whole.size() / 2));
  io::InputStream in(cut);
  std::string got;
  std::string buf(4096, '\0');
  try {
    for (;;) {
      size_t n = in.read(buf.data(), buf.size());
      if (n == 0) {
        break;
      }
      got.append(buf.data(), n);
    }
  } catch (const InputError&) {
  }
  CHECK(got.size() > 0);
  CHECK(original.compare(0, got.size(), got) == 0);
}

TEST_CASE("concatenated gzip files read whole; a corrupt later member keeps the earlier ones") {
  TempDir dir;
  const std::string original = slurp_file(fixture("lines.txt"));
  const std::string member = slurp_file(fixture("lines.txt.gz"));
  // `cat a.gz b.gz > c.gz`: gzip -dc gives both, one after the other.
  auto twice = dir.write("twice.gz", member + member);
  {
    io::InputStream in(twice);
    CHECK(read_all(in, 100003) == original + original);
    CHECK(in.file_offset() == 2 * member.size());
  }
  // The second member's deflate data damaged: the first member's bytes all come out, then
  // an error naming the file and an offset inside the second member.
  std::string damaged = member + member;
  damaged[member.size() + member.size() / 2] ^= 0x55;
  auto bad = dir.write("damaged.gz", damaged);
  io::InputStream in(bad);
  std::string got;
  std::string buf(65536, '\0');
  try {
    for (;;) {
      size_t n = in.read(buf.data(), buf.size());
      if (n == 0) {
        break;
      }
      got.append(buf.data(), n);
    }
    FAIL("no error for a damaged second member");
  } catch (const InputError& e) {
    CHECK(e.where().file == bad.string());
    REQUIRE(e.where().offset.has_value());
    CHECK(*e.where().offset > member.size());
    CHECK(*e.where().offset <= damaged.size());
    CHECK(e.where().offset_in_file);
    CHECK_THAT(e.what(), Catch::Contains("corrupt gzip data"));
  }
  REQUIRE(got.size() >= original.size());
  CHECK(got.compare(0, original.size(), original) == 0);
  CHECK((original + original).compare(0, got.size(), got) == 0);
  // Nothing more after the error.
  CHECK(in.read(buf.data(), buf.size()) == 0);
}

// A zstd skippable frame (RFC 8878, 3.1.2): a magic number 0x184D2A50 to 0x184D2A5F, the
// payload's size, the payload; decoders pass over it. zstd's command line does not write
// one, so the frame is put together here, around the real tool's frame.
std::string skippable_frame(unsigned nibble, const std::string& payload, uint32_t declared) {
  std::string f;
  for (uint32_t v : {0x184D2A50u + nibble, declared}) {
    for (int i = 0; i < 4; ++i) {
      f.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
  }
  return f + payload;
}

TEST_CASE("zstd: frames and skippable frames read whole; a corrupt or cut frame is an error") {
  TempDir dir;
  const std::string original = slurp_file(fixture("lines.txt"));
  const std::string frame = slurp_file(fixture("lines.txt.zst"));
  const std::string skip = skippable_frame(0, "dbautopsy", 9);
  {
    // Skippable frames before, between and after two frames (`cat` of .zst files).
    std::string bytes = frame + skip + frame + skippable_frame(15, "", 0) + skip;
    auto path = dir.write("skippable.zst", bytes);
    io::InputStream in(path);
    CHECK(in.codec() == io::Codec::zstd);
    CHECK(read_all(in, 100003) == original + original);
    CHECK(in.file_offset() == bytes.size());
  }
  {
    // A file that starts with a skippable frame is zstd too, as for `zstd -d`.
    auto path = dir.write("skip-first.zst", skippable_frame(7, "x", 1) + frame);
    io::InputStream in(path);
    CHECK(in.codec() == io::Codec::zstd);
    CHECK(read_all(in) == original);
    CHECK(io::detect_codec(std::string_view("\x5a\x2a\x4d\x18", 4)) == io::Codec::zstd);
    CHECK(io::detect_codec(std::string_view("\x60\x2a\x4d\x18", 4)) == io::Codec::none);
  }
  {
    // A skippable frame cut short: the file ends inside it.
    std::string bytes = frame + skippable_frame(1, "short", 100);
    auto path = dir.write("cut-skippable.zst", bytes);
    io::InputStream in(path);
    std::string got;
    std::string buf(65536, '\0');
    try {
      for (size_t n; (n = in.read(buf.data(), buf.size())) > 0;) {
        got.append(buf.data(), n);
      }
      FAIL("no error for a cut skippable frame");
    } catch (const InputError& e) {
      REQUIRE(e.where().offset.has_value());
      CHECK(*e.where().offset == bytes.size());
      CHECK_THAT(e.what(), Catch::Contains("truncated"));
    }
    CHECK(got == original);
  }
  {
    // The second frame damaged: the first frame's bytes all come out, then an error with an
    // offset inside the second frame (libzstd gives where the input of the call that failed
    // began: here the second frame's start, the file being smaller than one call's input).
    std::string damaged = frame + frame;
    damaged[frame.size() + frame.size() / 2] ^= 0x55;
    auto bad = dir.write("damaged.zst", damaged);
    io::InputStream in(bad);
    std::string got;
    std::string buf(65536, '\0');
    try {
      for (size_t n; (n = in.read(buf.data(), buf.size())) > 0;) {
        got.append(buf.data(), n);
      }
      FAIL("no error for a damaged second frame");
    } catch (const InputError& e) {
      CHECK(e.where().file == bad.string());
      REQUIRE(e.where().offset.has_value());
      CHECK(*e.where().offset >= frame.size());
      CHECK(*e.where().offset <= frame.size() + frame.size() / 2);
      CHECK(e.where().offset_in_file);
      CHECK_THAT(e.what(), Catch::Contains("corrupt zstd data"));
    }
    REQUIRE(got.size() >= original.size());
    CHECK((original + original).compare(0, got.size(), got) == 0);
    CHECK(in.read(buf.data(), buf.size()) == 0);
  }
}

TEST_CASE("garbage after a gzip magic number is reported as corrupt data") {
  TempDir dir;
  auto bad = dir.write("bad.gz", std::string("\x1f\x8b\x08\x00garbage garbage garbage", 27));
  io::InputStream in(bad);
  CHECK_THROWS_AS(read_all(in), InputError);
}

TEST_CASE("missing files and folders are input errors") {
  TempDir dir;
  CHECK_THROWS_AS(io::InputStream(dir.path() / "nope"), InputError);
  CHECK_THROWS_AS(io::InputStream(dir.path()), InputError);
}

TEST_CASE("read_head sniffs the start of a compressed file without reading it all") {
  io::Head head = io::read_head(fixture("lines.txt.xz"), 100);
  CHECK(head.codec == io::Codec::xz);
  CHECK(head.bytes.size() == 100);
  CHECK(head.bytes.substr(0, 7) == "1\tline ");
  CHECK_FALSE(head.whole_file);
}

TEST_CASE("the line reader numbers lines and keeps a missing final newline") {
  TempDir dir;
  auto p = dir.write("t.txt", "first\r\nsecond\n\nlast");
  io::InputStream in(p);
  io::LineReader reader(in);
  io::Line line;
  std::vector<std::pair<std::string, uint64_t>> got;
  while (reader.next(line)) {
    CHECK(line.complete);
    got.emplace_back(std::string(line.text), line.number);
  }
  REQUIRE(got.size() == 4);
  CHECK(got[0].first == "first\r");
  CHECK(got[2].first.empty());
  CHECK(got[3] == std::make_pair(std::string("last"), uint64_t{4}));
}

TEST_CASE("a last line without its newline, longer than the lines before it, is kept whole") {
  // The lines read before it are moved out of the buffer when it is refilled at the end of the
  // data; the last line's text must be taken from where it was moved to.
  for (size_t buffer : {size_t{4} << 20, size_t{16}}) {
    TempDir dir;
    auto p = dir.write("t.txt", "a\nbcdefghij");
    io::InputStream in(p);
    io::LineReader reader(in, buffer);
    io::Line line;
    std::vector<std::string> got;
    while (reader.next(line)) {
      got.emplace_back(line.text);
    }
    REQUIRE(got.size() == 2);
    CHECK(got[0] == "a");
    CHECK(got[1] == "bcdefghij");
    CHECK_FALSE(line.has_newline);
  }
}

TEST_CASE("a line longer than the buffer arrives in pieces with one line number") {
  TempDir dir;
  std::string long_line(1000, 'x');
  auto p = dir.write("t.txt", "a\n" + long_line + "\nb\n");
  io::InputStream in(p);
  io::LineReader reader(in, 64);  // a tiny buffer
  io::Line line;
  std::string rebuilt;
  int pieces = 0;
  std::vector<std::string> whole;
  while (reader.next(line)) {
    if (line.number == 2) {
      ++pieces;
      CHECK(line.text.size() <= 64);
      CHECK(line.first_piece == (pieces == 1));
      rebuilt += line.text;
      if (line.complete) {
        whole.push_back(rebuilt);
      }
    } else {
      whole.emplace_back(line.text);
    }
  }
  CHECK(pieces > 10);
  REQUIRE(whole.size() == 3);
  CHECK(whole[1] == long_line);
  CHECK(whole[2] == "b");
}

TEST_CASE("line offsets are decompressed byte offsets, across buffer refills") {
  TempDir dir;
  io::InputStream in(fixture("lines.txt.gz"));
  io::LineReader reader(in, 1000);
  io::Line line;
  const std::string original = slurp_file(fixture("lines.txt"));
  uint64_t n = 0;
  while (reader.next(line)) {
    ++n;
    REQUIRE(line.complete);
    REQUIRE(original.compare(line.offset, line.text.size(), line.text) == 0);
  }
  CHECK(n == 8000);
}

TEST_CASE("sha256 of a file") {
  TempDir dir;
  auto p = dir.write("abc", "abc");
  CHECK(io::sha256_file(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("a large plain file, read ahead on a thread: the same bytes, offsets and lines") {
  // From 16 MiB on a plain file's reads run on a thread ahead of the reader (input.cpp);
  // below, in the reader's own calls. Both must give the file as it is.
  TempDir dir;
  for (size_t size : {(size_t{16} << 20) - 1, size_t{16} << 20, (size_t{16} << 20) + 1234567}) {
    INFO("size " << size);
    std::string content;
    content.reserve(size);
    uint64_t lines = 0;
    for (uint64_t i = 0; content.size() < size; ++i) {
      std::string line = std::to_string(i * 7919) + "\t" + std::string(i % 300, 'a' + i % 26);
      content += line;
      content += '\n';
    }
    content.resize(size);  // the last line may lack its newline
    for (char c : content) {
      lines += c == '\n';
    }
    const auto path = dir.write("plain-" + std::to_string(size) + ".txt", content);
    for (size_t chunk : {size_t{7919}, (size_t{4} << 20) + 1}) {
      io::InputStream in(path);
      CHECK(in.codec() == io::Codec::none);
      CHECK(read_all(in, chunk) == content);
      CHECK(in.offset() == size);
      CHECK(in.file_offset() == size);
      char probe = 0;
      CHECK(in.read(&probe, 1) == 0);  // the end stays the end
    }
    io::InputStream in(path);
    io::LineReader reader(in, 1 << 20);
    io::Line line;
    uint64_t count = 0;
    uint64_t last_offset = 0;
    while (reader.next(line)) {
      ++count;
      last_offset = line.offset;
    }
    CHECK(count == lines + (content.back() == '\n' ? 0 : 1));
    CHECK(last_offset == content.rfind('\n', size - 2) + 1);
    io::Head head = io::read_head(path);
    CHECK(head.bytes == content.substr(0, 64 * 1024));
    CHECK_FALSE(head.whole_file);
  }
}

namespace {

// Reads through `in` until its end, its error or `limit` bytes, then finishes its digest.
std::string digest_after_reading(io::InputStream& in, size_t limit, size_t chunk = 65536) {
  std::string buf(chunk, '\0');
  size_t total = 0;
  try {
    while (total < limit) {
      size_t got = in.read(buf.data(), std::min(buf.size(), limit - total));
      if (got == 0) {
        break;
      }
      total += got;
    }
  } catch (const InputError&) {
  }
  return in.finish_sha256();
}

// A plain text of `size` bytes, lines of varied length.
std::string text_of(size_t size) {
  std::string content;
  content.reserve(size + 400);
  for (uint64_t i = 0; content.size() < size; ++i) {
    content += std::to_string(i * 7919) + "\t" + std::string(i % 300, 'a' + i % 26) + "\n";
  }
  content.resize(size);
  return content;
}

}  // namespace

TEST_CASE("the SHA-256 of a file read through InputStream is that of the file as stored") {
  // The digest is fed by the thread that reads the file (the decoding / read-ahead thread) or
  // by the reader's own reads; whatever was not read is read by finish_sha256(). Every codec,
  // read in full, in part, or not at all.
  TempDir dir;
  std::vector<std::filesystem::path> files;
  for (const char* name : {"lines.txt", "lines.txt.gz", "lines.txt.bz2", "lines.txt.xz",
                           "lines.txt.zst", "two-members.txt.gz", "two-frames.txt.zst"}) {
    files.push_back(fixture(name));
  }
  files.push_back(dir.write("big.txt", text_of((size_t{16} << 20) + 12345)));  // read ahead
  files.push_back(dir.write("small.txt", "abc"));
  for (const auto& path : files) {
    const std::string expected = io::sha256_file(path);
    for (size_t limit : {SIZE_MAX, size_t{100000}, size_t{1}, size_t{0}}) {
      INFO(path.filename().string() << " read up to " << limit << " bytes");
      io::InputStream in(path, true);
      CHECK(digest_after_reading(in, limit, 7919) == expected);
      char probe = 0;
      CHECK(in.read(&probe, 1) == 0);  // the reader is done with the file
    }
  }
  TempDir again;
  auto abc = again.write("abc", "abc");
  io::InputStream in(abc, true);
  CHECK(digest_after_reading(in, SIZE_MAX) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("the SHA-256 of an empty file, read through InputStream") {
  TempDir dir;
  auto empty = dir.write("empty.sql", "");
  io::InputStream in(empty, true);
  CHECK(in.codec() == io::Codec::none);
  char probe = 0;
  CHECK(in.read(&probe, 1) == 0);
  CHECK(in.finish_sha256() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("the SHA-256 of a truncated or corrupt compressed file covers all its bytes") {
  TempDir dir;
  for (const char* name : {"lines.txt.gz", "lines.txt.bz2", "lines.txt.xz", "lines.txt.zst"}) {
    std::string whole = slurp_file(fixture(name));
    std::string corrupt = whole;
    corrupt[corrupt.size() / 3] ^= 0x55;
    for (const auto& [what, bytes] :
         {std::pair<std::string, std::string>{"half", whole.substr(0, whole.size() / 2)},
          {"less 4", whole.substr(0, whole.size() - 4)},
          {"corrupt", corrupt},
          {"trailing garbage", whole + "garbage after the data"}}) {
      INFO(name << " " << what);
      auto path = dir.write(std::string("x-") + name, bytes);
      io::InputStream in(path, true);
      bool failed = false;
      std::string buf(4096, '\0');
      try {
        while (in.read(buf.data(), buf.size()) > 0) {
        }
      } catch (const InputError& e) {
        failed = true;
        CHECK(e.where().file == path.string());
      }
      if (what != "trailing garbage") {
        CHECK(failed);
      }
      CHECK(in.finish_sha256() == io::sha256_file(path));
    }
  }
}

TEST_CASE("the SHA-256 of a compressed file whose reading stopped at a decode limit") {
  TempDir dir;
  const io::DecodeLimits saved = io::decode_limits();
  io::DecodeLimits limits;
  limits.ratio_floor_bytes = 0;
  limits.max_ratio = 0;
  limits.max_decoded_bytes = 100000;
  io::set_decode_limits(limits);
  for (const char* name : {"lines.txt.gz", "lines.txt.xz", "lines.txt.zst"}) {
    INFO(name);
    io::InputStream in(fixture(name), true);
    std::string buf(4096, '\0');
    bool stopped = false;
    try {
      while (in.read(buf.data(), buf.size()) > 0) {
      }
    } catch (const InputError& e) {
      stopped = true;
      CHECK_THAT(e.what(), Catch::Contains("--max-decoded-mb"));
    }
    CHECK(stopped);
    CHECK(in.offset() < slurp_file(fixture("lines.txt")).size());
    CHECK(in.finish_sha256() == io::sha256_file(fixture(name)));
  }
  io::set_decode_limits(saved);
}

TEST_CASE("finish_sha256 needs an InputStream opened to hash") {
  io::InputStream in(fixture("lines.txt"));
  CHECK_THROWS_AS(in.finish_sha256(), std::logic_error);
}

TEST_CASE("byte order marks: UTF-8's is dropped, UTF-16 text is read as UTF-8") {
  // fixtures/io/encodings: one UTF-8 text and iconv's UTF-16 of it (fixtures/generate/
  // encodings.sh), with every UTF-16 range: ASCII, Latin-1, the BMP, surrogate pairs.
  const auto dir = source_root() / "fixtures/io/encodings";
  const std::string expected = slurp_file(dir / "text.txt");
  REQUIRE(expected.size() > 65536);
  REQUIRE(expected.find("\xF0\x9F\x98\x80") != std::string::npos);  // U+1F600, a pair
  struct Form {
    const char* file;
    io::ByteOrderMark bom;
  };
  for (const Form& form : {Form{"text.txt", io::ByteOrderMark::none},
                           Form{"text.utf8bom.txt", io::ByteOrderMark::utf8},
                           Form{"text.utf16le.txt", io::ByteOrderMark::utf16le},
                           Form{"text.utf16be.txt", io::ByteOrderMark::utf16be},
                           Form{"text.utf16le.txt.gz", io::ByteOrderMark::utf16le}}) {
    INFO(form.file);
    // Any size of read: a pair of surrogates or an odd byte may end a read of the file.
    for (size_t chunk : {size_t{65536}, size_t{7}, size_t{1}}) {
      INFO("reads of " << chunk << " bytes");
      io::InputStream in(dir / form.file);
      CHECK(read_all(in, chunk) == expected);
      CHECK(in.byte_order_mark() == form.bom);
    }
    io::Head head = io::read_head(dir / form.file, 100);
    CHECK(head.bytes == expected.substr(0, 100));
    // Lines and their numbers are the text's.
    io::InputStream in(dir / form.file);
    io::LineReader lines(in);
    io::Line line;
    uint64_t n = 0;
    std::string last;
    while (lines.next(line)) {
      ++n;
      last.assign(line.text);
    }
    CHECK(n == 1200);
    CHECK(last ==
          "1200\tINSERT INTO teams_team VALUES (1200, 'caf\xC3\xA9 \xC3\xB1', "
          "'\xE2\x82\xAC \xE6\xBC\xA2\xE5\xAD\x97', '\xF0\x9F\x98\x80 \xF0\x9D\x84\x9E')");
    // The file's SHA-256 is that of its bytes as stored, mark and all.
    io::InputStream hashed(dir / form.file, /*sha256=*/true);
    read_all(hashed);
    CHECK(hashed.finish_sha256() == io::sha256_file(dir / form.file));
  }
}

TEST_CASE("UTF-16 that pairs nothing, ends on an odd byte or is only a mark") {
  TempDir dir;
  auto read = [&](const std::string& name, std::string_view bytes) {
    io::InputStream in(dir.write(name, bytes));
    return read_all(in, 3);
  };
  const std::string fffd = "\xEF\xBF\xBD";
  // A low surrogate alone, a high one followed by a letter, a high one at the end.
  CHECK(read("lone.txt", std::string_view("\xFF\xFE\x00\xDC"
                                          "a\x00"
                                          "\x3D\xD8"
                                          "b\x00"
                                          "\x3D\xD8",
                                          12)) == fffd + "a" + fffd + "b" + fffd);
  // A pair across two reads of the file: the first (4,096 bytes, for the mark) and the next
  // (64 KiB) end at byte 69,632, inside the pair.
  {
    std::string bytes = "\xFF\xFE";
    for (int i = 0; i < 34814; ++i) {
      bytes += std::string_view("a\x00", 2);
    }
    bytes += std::string_view(
        "\x3D\xD8\x00\xDE"
        "b\x00",
        6);  // U+1F600, b
    REQUIRE(bytes.size() == 69636);
    CHECK(read("pair.txt", bytes) == std::string(34814, 'a') + "\xF0\x9F\x98\x80" + "b");
  }
  // An odd last byte.
  CHECK(read("odd.txt", std::string_view("\xFE\xFF\x00"
                                         "a\x00",
                                         5)) == "a" + fffd);
  // Only a mark; a mark of the other order in the middle is the text's (U+FEFF).
  CHECK(read("mark.txt", "\xFF\xFE").empty());
  CHECK(read("utf8mark.txt", "\xEF\xBB\xBF").empty());
  CHECK(read("inner.txt", std::string_view("\xFF\xFE"
                                           "a\x00\xFF\xFE",
                                           6)) == "a\xEF\xBB\xBF");
  // Not a mark: two bytes of one, or a mark later in the file.
  CHECK(read("short.txt", "\xEF\xBB") == "\xEF\xBB");
  CHECK(read("late.txt", "a\xEF\xBB\xBF") == "a\xEF\xBB\xBF");
  CHECK(read("empty.txt", "").empty());
}

TEST_CASE("a file in pieces reads, and hashes, as the pieces joined") {
  // Pieces as `split -b` cuts a file: of every codec (only the first piece has the magic
  // number), and a plain file large enough to be read ahead on a thread.
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> wholes;
  for (const char* name : {"lines.txt", "lines.txt.gz", "lines.txt.bz2", "lines.txt.xz",
                           "lines.txt.zst", "two-members.txt.gz"}) {
    wholes.emplace_back(name, slurp_file(fixture(name)));
  }
  wholes.emplace_back("big.txt", text_of((size_t{16} << 20) + 12345));
  for (const auto& [name, whole] : wholes) {
    INFO(name);
    const std::string original = name == "big.txt" ? whole : slurp_file(fixture("lines.txt"));
    std::vector<std::filesystem::path> pieces;
    const size_t size = whole.size() / 3 + 1;
    for (size_t at = 0, n = 0; at < whole.size(); at += size, ++n) {
      pieces.push_back(dir.write(name + ".a" + char('a' + n), whole.substr(at, size)));
    }
    REQUIRE(pieces.size() == 3);
    io::set_pieces(pieces.front(), pieces);
    {
      io::InputStream in(pieces.front(), true);
      CHECK(in.file_size() == whole.size());
      CHECK(read_all(in, 7919) == original);
      CHECK(in.finish_sha256() == io::sha256_file(dir.write(name + ".whole", whole)));
    }
    CHECK(io::sha256_file(pieces.front()) == io::sha256_file(dir.path() / (name + ".whole")));
    auto digests = io::digest_pieces(pieces);
    REQUIRE(digests.size() == 3);
    CHECK(digests[1].sha256 == io::sha256_file(pieces[1]));
    CHECK(digests[0].size + digests[1].size + digests[2].size == whole.size());
    // Without the last piece: a compressed stream ends inside the last piece read, named.
    io::set_pieces(pieces.front(), {pieces[0], pieces[1]});
    io::InputStream cut(pieces.front());
    if (cut.codec() == io::Codec::none) {
      CHECK(read_all(cut) == original.substr(0, 2 * size));
    } else {
      try {
        read_all(cut);
        FAIL("no error without the last piece");
      } catch (const InputError& e) {
        CHECK_THAT(e.what(), Catch::Contains(pieces[1].filename().string()));
        CHECK_THAT(e.what(), Catch::Contains("truncated"));
      }
    }
  }
}
