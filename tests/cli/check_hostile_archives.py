#!/usr/bin/env python3
"""Hostile pg_dump archives: bounded memory, a clear error, the rest of the archive read.

Each archive is made on the fly in a temporary folder (never committed) from a real one of
fixtures/pgdump (pg_dump 15 -Fc, -Ft and -Fd of the kitchen_sink database): this script reads
its header and TOC (the layout of pg_backup_archiver.c's WriteHead / WriteToc) to find the
field it patches, so no offset is hard-coded.

  toc-2^31          the TOC's entry count patched to 2^31 (out of pg_dump's int)
  toc-2^31-1        ... to 2^31 - 1 (an int, but more entries than the file has bytes)
  offset-past-end   a TABLE DATA entry's data offset patched to 1 TiB past the end
  string-2^31-1     a TOC entry's definition length patched to 2^31 - 1
  string-2^30-1     ... to 2^30 - 1 (under the largest field, over what the file holds)
  zlib-bomb         a TABLE DATA entry's block replaced by a zlib stream of --bomb-mb MiB
                    (its own first row repeated) from about a thousandth of that: stopped by
                    --max-ratio; read in full with --max-ratio 0; stopped by --max-decoded-mb
  dir-gzip-bomb     the same table's .dat.gz of a directory archive, likewise
  tar-gnu-longname  a tar rewritten by Python's tarfile in GNU format with an extra member
                    whose name has 10,000 characters (a ././@LongLink record)
  tar-pax-path      likewise in pax format (a `path` record)
  tar-long-data     a data member renamed to 10,000 characters (pax): pg_dump's reader
                    knows only the 100-byte name, so the member is missing
  tar-toc-string    toc.dat's size patched to 1 TiB (base 256) and a TOC string's length to
                    2^30 - 1: nothing is allocated by either
  tar-size-longer   a data member's size field patched to claim 1 GiB more than it has
  tar-size-shorter  ... to claim 100 bytes less than it has
  tar-size-2^80     ... to 2^80 bytes, in the base-256 form of GNU tar

For each: the run ends by itself (exit 0 or 2, no signal, no sanitizer report), the child's
peak RSS (wait4) stays under its bound, stderr names the file, the byte offset and what was
wrong (and the --max-* option for a limit), the artifact's status is as expected, and the
store holds what the archive has besides the damage: every relation of the TOC when the TOC
was read, and the data of the other tables.

Usage: check_hostile_archives.py --dbautopsy PATH --fixtures DIR [--only NAME...]
                                 [--bomb-mb N]
"""
import argparse
import gzip
import io
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from measured import SANITIZER, finish, measure  # noqa: E402

CUSTOM = "pgdump/kitchen_sink.custom.dump"
TAR = "pgdump/kitchen_sink.tar"
DIRECTORY = "pgdump/kitchen_sink.dir"
MIB = 1 << 20


# --- reading a custom archive's header and TOC ------------------------------------------

class Reader:
    def __init__(self, data):
        self.d = data
        self.pos = 0
        self.int_size = 4
        self.off_size = 8

    def byte(self):
        self.pos += 1
        return self.d[self.pos - 1]

    def integer(self):
        at = self.pos
        sign = self.byte()
        v = int.from_bytes(self.d[self.pos:self.pos + self.int_size], "little")
        self.pos += self.int_size
        return at, (-v if sign else v)

    def string(self):
        at, n = self.integer()
        s = None
        if n >= 0:
            s = self.d[self.pos:self.pos + n].decode()
            self.pos += n
        return at, s

    def offset(self):
        at = self.pos
        flag = self.byte()
        v = int.from_bytes(self.d[self.pos:self.pos + self.off_size], "little")
        self.pos += self.off_size
        return at, flag, v


def read_toc(data):
    """Returns (position of the entry count, [entry dict]) of a custom archive: each entry
    with its dump id, desc, tag, the positions of its definition's length and of its data
    offset, and the offset."""
    r = Reader(data)
    assert data[:5] == b"PGDMP", "not a custom archive"
    r.pos = 5
    vmaj, vmin, _ = r.byte(), r.byte(), r.byte()
    r.int_size, r.off_size = r.byte(), r.byte()
    fmt = r.byte()
    assert fmt in (1, 3), "not the custom format, nor a tar or directory archive's toc.dat"
    if vmin >= 15:
        r.byte()
    else:
        r.integer()
    for _ in range(7):
        r.integer()
    for _ in range(3):
        r.string()
    count_at, count = r.integer()
    entries = []
    for _ in range(count):
        e = {}
        _, e["id"] = r.integer()
        r.integer()
        r.string()
        r.string()
        _, e["tag"] = r.string()
        _, e["desc"] = r.string()
        r.integer()
        e["defn_at"], e["defn"] = r.string()
        r.string()
        e["copy_at"], e["copy"] = r.string()
        _, e["ns"] = r.string()
        r.string()
        if vmin >= 14:
            r.string()
        if vmin >= 16:
            r.integer()
        r.string()
        r.string()
        while r.string()[1] is not None:
            pass
        if fmt == 1:
            e["offset_at"], e["flag"], e["offset"] = r.offset()
        else:
            _, e["file"] = r.string()
        entries.append(e)
    return r, count_at, entries


def int_field(value, int_size=4):
    return bytes([1 if value < 0 else 0]) + abs(value).to_bytes(int_size, "little")


def patched(data, at, new):
    return data[:at] + new + data[at + len(new):]


def table_data(entries):
    """The TABLE DATA entry with the most data of the custom archive."""
    rows = [e for e in entries if e["desc"] == "TABLE DATA" and e["flag"] == 2]
    return rows[0]


def block_rows(data, r, e):
    """The decompressed data of a custom archive's block (zlib chunks)."""
    r.pos = e["offset"]
    assert r.byte() == 1
    _, dump_id = r.integer()
    assert dump_id == e["id"]
    z = zlib.decompressobj()
    out = b""
    while True:
        _, n = r.integer()
        if n == 0:
            break
        out += z.decompress(data[r.pos:r.pos + n])
        r.pos += n
    return out


# pg_dump ends every table's data so.
END = b"\\.\n\n\n"


def bomb_rows(row, mib):
    """How many times bomb_stream repeats `row`."""
    per_piece = MIB // len(row)
    pieces = -(-(mib * MIB) // (per_piece * len(row)))
    return pieces * per_piece


def bomb_stream(row, mib):
    """A zlib stream of `row` repeated to `mib` MiB, in pieces, then the end of the data."""
    z = zlib.compressobj(9)
    piece = row * (MIB // len(row))
    done = 0
    while done < mib * MIB:
        yield z.compress(piece)
        done += len(piece)
    yield z.compress(END) + z.flush()


def first_row(rows):
    line = rows.split(b"\n", 1)[0] + b"\n"
    assert not line.startswith(b"\\."), "the table has no rows"
    return line


# --- the inputs ---------------------------------------------------------------------------

def custom_data(fixtures):
    data = (Path(fixtures) / CUSTOM).read_bytes()
    r, count_at, entries = read_toc(data)
    return data, r, count_at, entries


def make_toc_count(value):
    def make(case, fixtures, a):
        data, r, count_at, _ = custom_data(fixtures)
        (case / "toc.dump").write_bytes(patched(data, count_at, int_field(value, r.int_size)))
        return case / "toc.dump"
    return make


def make_offset_past_end(case, fixtures, a):
    data, r, _, entries = custom_data(fixtures)
    e = table_data(entries)
    new = bytes([2]) + (len(data) + (1 << 40)).to_bytes(r.off_size, "little")
    (case / "offset.dump").write_bytes(patched(data, e["offset_at"], new))
    return case / "offset.dump"


def make_string(value):
    def make(case, fixtures, a):
        data, r, _, entries = custom_data(fixtures)
        e = next(e for e in entries if e["desc"] == "TABLE")
        (case / "string.dump").write_bytes(patched(data, e["defn_at"],
                                                   int_field(value, r.int_size)))
        return case / "string.dump"
    return make


def make_zlib_bomb(case, fixtures, a):
    data, r, _, entries = custom_data(fixtures)
    e = table_data(entries)
    row = first_row(block_rows(data, r, e))
    a.bomb_rows = bomb_rows(row, a.bomb_mb)
    block = bytearray(b"\x01" + int_field(e["id"], r.int_size))
    for piece in bomb_stream(row, a.bomb_mb):
        for i in range(0, len(piece), 1 << 16):
            chunk = piece[i:i + (1 << 16)]
            block += int_field(len(chunk), r.int_size) + chunk
    block += int_field(0, r.int_size)
    new = bytes([2]) + len(data).to_bytes(r.off_size, "little")
    path = case / "bomb.dump"
    path.write_bytes(patched(data, e["offset_at"], new) + block)
    return path


def make_dir_bomb(case, fixtures, a):
    data, r, _, entries = custom_data(fixtures)
    tag = table_data(entries)["tag"]
    folder = case / "bomb.dir"
    shutil.copytree(Path(fixtures) / DIRECTORY, folder)
    # The directory archive's own TOC names the table's file.
    _, _, dir_entries = read_toc((folder / "toc.dat").read_bytes())
    name = next(e["file"] for e in dir_entries if e["desc"] == "TABLE DATA" and e["tag"] == tag)
    target = folder / (name + ".gz")
    row = first_row(gzip.decompress(target.read_bytes()))
    a.bomb_rows = bomb_rows(row, a.bomb_mb)
    with open(target, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        crc = 0
        piece = row * (MIB // len(row))
        done = 0
        while done < a.bomb_mb * MIB:
            f.write(z.compress(piece))
            crc = zlib.crc32(piece, crc)
            done += len(piece)
        f.write(z.compress(END) + z.flush())
        crc = zlib.crc32(END, crc)
        done += len(END)
        f.write(struct.pack("<II", crc, done & 0xFFFFFFFF))
    return folder


LONG = "n" * 10_000


def rewrite_tar(src, dst, fmt, extra=False, rename=None):
    with tarfile.open(src) as t, tarfile.open(dst, "w", format=fmt) as out:
        for m in t.getmembers():
            body = t.extractfile(m).read()
            name = m.name
            if rename and name == rename:
                name = LONG
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mtime = m.mtime
            info.mode = m.mode
            out.addfile(info, io.BytesIO(body))
            if extra and m.name == "toc.dat":
                info = tarfile.TarInfo(LONG + ".dat")
                info.size = len(body)
                out.addfile(info, io.BytesIO(body))
    # The long names are there in the form asked for.
    raw = Path(dst).read_bytes()
    record = (b"././@LongLink" if fmt == tarfile.GNU_FORMAT else
              b" path=" + LONG.encode())
    assert record in raw and LONG.encode() in raw, "tarfile wrote no long name record"


def tar_data_member(fixtures):
    with tarfile.open(Path(fixtures) / TAR) as t:
        return max((m for m in t.getmembers() if re.fullmatch(r"\d+\.dat", m.name)),
                   key=lambda m: m.size)


def make_tar_long(fmt, **kw):
    def make(case, fixtures, a):
        path = case / "long.tar"
        if "rename" in kw:
            kw2 = dict(kw, rename=tar_data_member(fixtures).name)
        else:
            kw2 = kw
        rewrite_tar(Path(fixtures) / TAR, path, fmt, **kw2)
        return path
    return make


def tar_checksum(h):
    h = h[:148] + b" " * 8 + h[156:]
    return sum(h)


def make_tar_size(how):
    def make(case, fixtures, a):
        data = bytearray((Path(fixtures) / TAR).read_bytes())
        member = tar_data_member(fixtures)
        at = member.offset
        h = bytes(data[at:at + 512])
        assert h[:len(member.name)] == member.name.encode()
        if how == "2^80":
            size = b"\x80" + (1 << 80).to_bytes(11, "big")
        else:
            new = member.size + (1 << 30) if how == "longer" else member.size - 100
            size = b"%011o\0" % new
        h = h[:124] + size + h[136:]
        h = h[:148] + b"%06o\0 " % tar_checksum(h) + h[156:]
        data[at:at + 512] = h
        path = case / "size.tar"
        path.write_bytes(bytes(data))
        return path
    return make


def make_tar_toc_string(case, fixtures, a):
    """toc.dat's size patched to 1 TiB and a TOC string's length to 2^30 - 1: neither may be
    allocated."""
    data = bytearray((Path(fixtures) / TAR).read_bytes())
    with tarfile.open(Path(fixtures) / TAR) as t:
        toc = t.getmember("toc.dat")
    h = bytes(data[toc.offset:toc.offset + 512])
    h = h[:124] + b"\x80" + (1 << 40).to_bytes(11, "big") + h[136:]
    h = h[:148] + b"%06o\0 " % tar_checksum(h) + h[156:]
    data[toc.offset:toc.offset + 512] = h
    body = bytes(data[toc.offset_data:toc.offset_data + toc.size])
    r, _, entries = read_toc(body)
    e = next(e for e in entries if e["desc"] == "TABLE")
    at = toc.offset_data + e["defn_at"]
    data[at:at + 1 + r.int_size] = int_field((1 << 30) - 1, r.int_size)
    path = case / "toc.tar"
    path.write_bytes(bytes(data))
    return path


# name -> (maker, extra options, expected status, stderr regex, memory bound MiB, predicate
# on the store, seconds)
def cases(a):
    bytes_at = r"byte \d+"
    return {
        "toc-2^31": (make_toc_count(1 << 31), [], "partial",
                     rf"toc\.dump.*{bytes_at}.*2147483648, out of range", 100, None),
        "toc-2^31-1": (make_toc_count((1 << 31) - 1), [], "partial",
                       rf"toc\.dump.*TOC announces 2147483647 entries.*{bytes_at}", 100, None),
        "offset-past-end": (make_offset_past_end, [], "partial",
                            rf"offset\.dump.*{bytes_at}", 100, "other-tables"),
        "string-2^31-1": (make_string((1 << 31) - 1), [], "partial",
                          rf"string\.dump.*definition.*{bytes_at}.*2147483647 bytes", 100, None),
        "string-2^30-1": (make_string((1 << 30) - 1), [], "partial",
                          rf"string\.dump.*{bytes_at}.*definition.*1073741823 bytes", 100, None),
        "zlib-bomb": (make_zlib_bomb, [], "partial",
                      r"bomb\.dump.*expands more than 250 times.*--max-ratio.*\(at byte \d+\)", 300,
                      "bomb-cut"),
        "zlib-bomb-no-ratio": (make_zlib_bomb, ["--max-ratio", "0"], "ok", None, 300,
                               "bomb-whole"),
        "zlib-bomb-decoded": (make_zlib_bomb, ["--max-ratio", "0", "--max-decoded-mb", "100"],
                              "partial", r"bomb\.dump.*more than 100 MiB \(--max-decoded-mb\).*"
                              r"\(at byte \d+\)", 300, "bomb-cut"),
        "dir-gzip-bomb": (make_dir_bomb, [], "partial",
                          r"bomb\.dir.*expands more than 250 times.*\d+\.dat\.gz.*--max-ratio.*"
                          r"\(at byte \d+ of \d+\.dat\.gz\)",
                          300, "bomb-cut"),
        "dir-gzip-bomb-no-ratio": (make_dir_bomb, ["--max-ratio", "0"], "ok", None, 300,
                                   "bomb-whole"),
        "tar-gnu-longname": (make_tar_long(tarfile.GNU_FORMAT, extra=True), [], "ok", None, 100,
                             "all-tables"),
        "tar-pax-path": (make_tar_long(tarfile.PAX_FORMAT, extra=True), [], "ok", None, 100,
                         "all-tables"),
        "tar-long-data": (make_tar_long(tarfile.PAX_FORMAT, rename=True), [], "partial",
                          rf"long\.tar.*no member \d+\.dat.*{bytes_at}", 100, "other-tables"),
        "tar-toc-string": (make_tar_toc_string, [], "partial",
                           rf"toc\.tar.*{bytes_at}.*definition.*1073741823 bytes", 100, None),
        "tar-size-longer": (make_tar_size("longer"), [], "partial",
                            rf"size\.tar.*{bytes_at}.*size of \d+ bytes, past the end", 100,
                            "other-tables"),
        "tar-size-shorter": (make_tar_size("shorter"), [], "partial",
                             rf"size\.tar.*ends at {bytes_at}.*without the \\\. line", 100,
                             "other-tables"),
        "tar-size-2^80": (make_tar_size("2^80"), [], "partial",
                          rf"size\.tar.*{bytes_at}.*size of \d{{20}} bytes, past the end", 100,
                          "other-tables"),
    }


def query(exe, store, sql):
    q = subprocess.run([exe, "query", "--store", str(store), "--format", "csv", sql],
                       capture_output=True, text=True, errors="replace")
    return q.stdout.splitlines()[1:]


def facts(exe, store):
    """(tables in db_relation, {table: (rows, complete)} of table_stats)."""
    rels = query(exe, store, "SELECT count(*) FROM db_relation WHERE kind = 'table'")
    stats = {}
    for line in query(exe, store, "SELECT schema_name || '.' || table_name, rows, complete "
                                  "FROM table_stats"):
        name, rows, complete = line.rsplit(",", 2)
        stats[name] = (int(rows), int(complete))
    return int(rels[0]) if rels else 0, stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--bomb-mb", type=int, default=512)
    # Added to every memory bound: a sanitizer build's own memory (AddressSanitizer's shadow
    # and its quarantine of freed blocks, up to 256 MiB) is not dbautopsy's. 0 for a normal
    # build, where the bounds hold as written.
    ap.add_argument("--rss-slack-mb", type=int, default=0)
    a = ap.parse_args()
    if a.bomb_mb < 128:
        ap.error("--bomb-mb: give at least 128 (the limits are checked past 64 MiB, and "
                 "--max-decoded-mb 100 must be crossed)")
    exe = str(Path(a.dbautopsy).resolve())
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(f"{name}: {what}")
        return ok

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # What the sound archive yields, to compare with.
        base = {}
        for fmt, rel in (("custom", CUSTOM), ("tar", TAR), ("dir", DIRECTORY)):
            store = tmp / f"base-{fmt}.db"
            subprocess.run([exe, "ingest", "--store", str(store), str(Path(a.fixtures) / rel)],
                           capture_output=True, check=True)
            base[fmt] = facts(exe, store)
        _, _, _, entries = custom_data(a.fixtures)
        bomb_table = table_data(entries)["ns"] + "." + table_data(entries)["tag"]
        for name, (make, opts, status, says, mem_mb, what) in cases(a).items():
            if a.only and name not in a.only:
                continue
            case = tmp / name
            case.mkdir()
            target = make(case, a.fixtures, a)
            store = case / "facts.db"
            rc, _, err, rss, _, secs = measure([exe, "ingest", "--store", str(store), *opts,
                                                str(target)], 600, case)
            print(f"{name}: exit {rc}, {rss:.0f} MiB peak, {secs:.1f} s")
            if not check(rc in (0, 2), f"exit {rc} (a crash or the time bound): {err[-1500:]}"):
                continue
            check(not SANITIZER.search(err), f"sanitizer report: {err[-3000:]}")
            bound = mem_mb + a.rss_slack_mb
            check(rss <= bound, f"peak memory {rss:.0f} MiB over the bound {bound} MiB")
            if says:
                check(re.search(says, err) is not None, f"stderr does not say /{says}/: "
                                                        f"{err[-1500:]}")
            else:
                check(rc == 0, f"exit {rc}: {err[-1500:]}")
            got = query(exe, store, "SELECT status FROM artifact")
            check(got == [status], f"status {got}, expected {status}")
            fmt = ("tar" if name.startswith("tar") else
                   "dir" if name.startswith("dir") else "custom")
            want_tables, want_stats = base[fmt]
            tables, stats = facts(exe, store)
            if what in ("all-tables", "other-tables", "bomb-cut", "bomb-whole"):
                check(tables == want_tables, f"{tables} tables, expected {want_tables}")
            if what == "all-tables":
                check(stats == want_stats, f"table_stats {stats}, expected {want_stats}")
            if what == "other-tables":
                same = {t for t in want_stats if stats.get(t) == want_stats[t]}
                check(len(same) == len(want_stats) - 1,
                      f"{len(same)} tables' data as in the sound archive, expected all but "
                      f"one: {sorted(set(want_stats) - same)}")
            if what in ("bomb-cut", "bomb-whole"):
                others = {t: v for t, v in stats.items() if t != bomb_table}
                check(others == {t: v for t, v in want_stats.items() if t != bomb_table},
                      "the other tables' data differ from the sound archive's")
                rows, complete = stats.get(bomb_table, (0, -1))
                if what == "bomb-whole":
                    check(complete == 1 and rows == a.bomb_rows,
                          f"{bomb_table}: {rows} rows, complete {complete}: expected all "
                          f"{a.bomb_rows} rows")
                else:
                    check(complete == 0 and 0 < rows < a.bomb_rows,
                          f"{bomb_table}: {rows} rows, complete {complete}: expected the rows "
                          "before the limit, marked incomplete")
    return finish(failures)


if __name__ == "__main__":
    sys.exit(main())
