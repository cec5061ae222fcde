// A file handed over in pieces (`split -l/-b/-n`, 7-Zip's and HJSplit's .001 .002 ...) is read
// as the concatenation of its pieces, in order: the command that found the pieces registers
// them under the path of the first, and from then on that path stands for the whole file to
// InputStream (and so read_head), sha256_file and the pg_dump archive reader. The SHA-256 of
// the whole is that of the concatenation: the SHA-256 of the file before it was cut.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dbautopsy::io {

// Registers `pieces` (the first one first) as one file, under the path of the first.
void set_pieces(const std::filesystem::path& first, std::vector<std::filesystem::path> pieces);
// The pieces of a path registered so, in order; nullopt for any other path.
std::optional<std::vector<std::filesystem::path>> pieces_of(const std::filesystem::path& path);

// Where byte `offset` of pieces of these sizes, joined, falls: the piece and the byte in it (an
// offset past the end falls in the last piece, at or past its end).
struct PiecePosition {
  size_t index = 0;
  uint64_t offset = 0;
};
PiecePosition piece_position(const std::vector<uint64_t>& sizes, uint64_t offset);

// One piece as stored: its size, SHA-256 and the line feeds it holds.
struct PieceDigest {
  std::filesystem::path path;
  uint64_t size = 0;
  std::string sha256;
  uint64_t newlines = 0;
  bool ends_line = true;  // empty, or its last byte is a line feed
};
// Reads every piece of a registered path (throws InputError naming a piece that cannot be read).
std::vector<PieceDigest> digest_pieces(const std::vector<std::filesystem::path>& pieces);

}  // namespace dbautopsy::io
