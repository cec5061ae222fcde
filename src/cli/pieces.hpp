// Dumps handed over in pieces: `split -l 1000000 prod.sql prod.sql.` (prod.sql.aa,
// prod.sql.ab, ...), `split -b`, `split -n`, `split -d` (.00 .01, or x00 x01), `split
// --additional-suffix=.sql` (prod_aa.sql), pieces of a compressed file (`split -b 50M
// prod.sql.gz prod.sql.gz.part-`), and 7-Zip's and HJSplit's .001 .002 .003. The pieces of one
// file are one artifact, read as their concatenation in order (io/pieces.hpp); an archive of
// case files in pieces (case.zip.001, case.tar.gz.part-aa) is read as the folder it holds.
//
// Pieces are known by name and by content together: files of one folder whose names are one
// stem, then consecutive suffixes of split (aa, ab, ... yz, zaaa, ...; aaa, aab, ...; 00, 01,
// ... 89, 9000, ...; 000, 001, ...; from 0 or 1), then one same rest (`--additional-suffix`);
// the first is a compressed file, an archive of case files (bundle.hpp), or a pg_dump file that
// starts as pg_dump writes one (its header comment, an archive's signature), and none of the others
// starts as a file of its own does (a compression format's magic number, a pg_dump header or
// archive, a zip, 7z, tar or SQLite file). A first piece that is a whole plain dump (its last lines
// are pg_dump's closing comment) is no first piece: two dumps with names like pieces stay two.
//
// The artifact is shown as `<first piece>..<last suffix>` (prod.sql.aa..ad, x00..03,
// prod_aa.sql..ad.sql); its lines are those of the file the pieces were cut from. A piece
// missing between two others is an error of the artifact (partial): the pieces before the gap
// are read, and those after it are named as not read.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/bundle.hpp"
#include "store/facts.hpp"

namespace dbautopsy::cli {

// What ingest_path needs to know of a file in pieces (registered under its first piece).
struct PieceSet {
  std::vector<std::filesystem::path> read;      // the pieces read, in order
  std::vector<std::filesystem::path> not_read;  // the pieces after a missing one
  std::string missing;                          // the pieces missing, and where (empty: none)
  // Why the last piece read seems cut short (a plain dump without pg_dump's closing comment),
  // or empty.
  std::string truncated;
};

// Each set of targets that are the pieces of one file becomes one target (at the place of its
// first piece), registered with io::set_pieces; other targets are kept as they are.
std::vector<Target> join_pieces(std::vector<Target> targets);

// The pieces a target of join_pieces stands for (nullptr: a file in one piece).
const PieceSet* piece_set(const std::filesystem::path& path);

// The notice of an artifact read from pieces (code `pieces`): each piece's name, size and
// SHA-256, and where it falls in the file: its bytes (of the `codec` file), or with `lines`
// (text) the lines it holds ("from within line 178 to within line 353" where split -b cut
// lines in two), so that a line of the artifact is found in its piece.
store::ProblemFact pieces_notice(const PieceSet& set, const std::string& codec, bool lines);

}  // namespace dbautopsy::cli
