#!/usr/bin/env python3
"""Bad input on the command line: `dbautopsy ingest` over damaged copies of real files.

Every input is made in a temporary folder from a real fixture by a stated, scripted edit:
deterministic pseudo-random bytes, an empty file and an empty gzip, a real dump compressed
with gzip / bzip2 / xz / zstd and cut in the middle of its COPY data, a gzip with one
byte flipped, a 10 MiB statement on one line (a valid INSERT, garbage, and a 30 MiB INSERT
over the statement cap), invalid UTF-8 in a dump's COPY data and in a django_migrations
CSV, a CSV row with a column missing. For each, the checks are:

  - no crash: the process ended by itself (no signal) and printed no sanitizer report;
  - the exit status (2 for input errors, 0 when the file reads fine);
  - stderr names the file and where (a line, byte or offset) and says what is wrong;
  - the artifact's status in `dbautopsy query --store F "SELECT path, status FROM artifact"`
    and its problems (severity, code, line);
  - what was read before the damage is kept (rows counted before a cut, the statements
    after a bad one).

Then `dbautopsy investigate` over a copy of a real case folder with one damaged file added:
exit 2, the damaged file reported, and the findings of the rest exactly those of the
case's expected.json (compared as tests/cases/run_case.py compares them).

Usage: check_bad_input.py --dbautopsy PATH --fixtures DIR [--case NAME] [--only NAME...]
Exits 1 when a check fails, listing every failure.
"""
import argparse
import bz2
import gzip
import json
import lzma
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cases"))
from run_case import key, show  # noqa: E402  (the case test's own comparison)

SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:|ThreadSanitizer|MemorySanitizer")
WHERE = re.compile(r"\b(line|lines|byte|offset) \d+")

# The dump that is damaged: the league incident's "after" dump (a real pg_dump of a real
# PostgreSQL 15 database); its COPY block of practice_times_backup holds most of its bytes.
DUMP = "cases/league_incident/after.sql.gz"
BIG_TABLE = "practice_times_backup"
MARKER = "\n--\n-- PostgreSQL database dump complete"


class Checks:
    def __init__(self):
        self.failures = []
        self.current = ""

    def check(self, ok, what):
        if not ok:
            self.failures.append(f"{self.current}: {what}")
        return ok


class Tool:
    def __init__(self, exe, work):
        self.exe = exe
        self.work = Path(work)

    def run(self, args, timeout=900):
        return subprocess.run([self.exe] + args, cwd=self.work, capture_output=True, text=True,
                              errors="replace", timeout=timeout)

    def query(self, store, sql):
        r = self.run(["query", "--store", store, "--format", "json", sql])
        if r.returncode != 0:
            raise RuntimeError(f"query failed ({r.returncode}): {r.stderr}")
        return json.loads(r.stdout)


# ------------------------------------------------------------------------ the damaged files
def real_dump(fixtures):
    return gzip.decompress((fixtures / DUMP).read_bytes())


def copy_block(text):
    """(first data line, last data line) of BIG_TABLE's COPY block, 1-based."""
    lines = text.split(b"\n")
    start = next(i for i, l in enumerate(lines) if l.startswith(b"COPY public." + BIG_TABLE.encode()))
    end = next(i for i in range(start, len(lines)) if lines[i] == b"\\.")
    return start + 2, end  # data is lines start+2 .. end (1-based)


def compress(codec, data):
    if codec == "gz":
        return gzip.compress(data, mtime=0)
    if codec == "bz2":
        return bz2.compress(data, 1)  # 100k blocks: a cut file still holds whole blocks
    if codec == "xz":
        return lzma.compress(data)
    out = subprocess.run(["zstd", "-q", "-c", "-3"], input=data, capture_output=True, check=True)
    return out.stdout


def decompress_prefix(codec, data):
    """What the codec's own tool recovers from a cut file: the bytes before its error."""
    tool = {"gz": "gzip", "bz2": "bzip2", "xz": "xz", "zst": "zstd"}[codec]
    return subprocess.run([tool, "-dc"], input=data, capture_output=True).stdout


def cut_in_copy(codec, text):
    """The compressed dump cut at the middle of its compressed bytes, which must land in
    the COPY data of BIG_TABLE: (cut bytes, complete rows of BIG_TABLE before the cut)."""
    whole = compress(codec, text)
    first, last = copy_block(text)
    cut = whole[:len(whole) // 2]
    prefix = decompress_prefix(codec, cut)
    lines_before = prefix.count(b"\n")  # complete lines the real tool recovers
    if not first <= lines_before < last:
        raise RuntimeError(f"{codec}: the cut does not land in the COPY data ({lines_before} lines)")
    return cut, lines_before - first + 1


def pseudo_random(n, seed):
    rnd = random.Random(seed)
    return bytes(rnd.getrandbits(8) for _ in range(n))


def with_statement(text, statement):
    """The dump with `statement` and then a marker table inserted before its last lines."""
    s = text.decode()
    assert MARKER in s
    return s.replace(MARKER, "\n" + statement + "\nCREATE TABLE public.after_the_long_line (id "
                     "integer);\n" + MARKER, 1).encode()


def insert_line(rows):
    return ("CREATE TABLE public.long_line (id integer, v text);\nINSERT INTO public.long_line "
            "VALUES " + ", ".join("(%d, 'value %d')" % (i, i) for i in range(rows)) + ";")


# ------------------------------------------------------------------------------ the cases
def problems_of(tool, store, path):
    rows = tool.query(store, "SELECT p.severity, p.code, p.line, p.byte_offset, p.in_file, "
                             "p.message FROM problem p JOIN artifact a ON a.id = p.artifact_id "
                             f"WHERE a.path = '{path}' ORDER BY p.severity != 'error', p.id")
    return rows


def ingest_case(c, tool, name, data, expect, extra=()):
    """Writes `data` as `name`, ingests it into its own store and checks `expect`:
    rc, status, stderr (regexes), problems [(severity, code, line or None, [regexes])],
    kept [(sql, predicate, what)], where (False: stderr need not name a place)."""
    c.current = name
    path = tool.work / name
    path.write_bytes(data)
    store = name + ".facts.db"
    r = tool.run(["ingest", "--store", store, *extra, name])
    c.check(r.returncode >= 0, f"killed by signal {-r.returncode}")
    c.check(not SANITIZER.search(r.stderr), "sanitizer report:\n" + r.stderr[-3000:])
    c.check(r.returncode == expect["rc"], f"exit status {r.returncode}, expected {expect['rc']}\n"
            f"stderr: {r.stderr.strip()}")
    if expect["rc"] != 0:
        c.check(name in r.stderr, f"stderr does not name the file: {r.stderr.strip()}")
        if expect.get("where", True):
            c.check(WHERE.search(r.stderr), "stderr names no line, byte or offset: "
                    f"{r.stderr.strip()}")
    for pattern in expect.get("stderr", []):
        c.check(re.search(pattern, r.stderr), f"stderr lacks /{pattern}/: {r.stderr.strip()}")
    if r.returncode < 0:
        return
    artifacts = tool.query(store, "SELECT path, status FROM artifact")
    c.check([a["path"] for a in artifacts] == [name], f"artifacts: {artifacts}")
    status = artifacts[0]["status"] if artifacts else None
    c.check(status in expect["status"], f"status {status}, expected {expect['status']}")
    problems = problems_of(tool, store, name)
    for severity, code, line, patterns in expect.get("problems", []):
        match = [p for p in problems if p["severity"] == severity and p["code"] == code and
                 (line is None or p["line"] == line)]
        if c.check(match, f"no {severity} [{code}] at line {line}; problems: "
                   f"{[(p['severity'], p['code'], p['line'], p['message'][:160]) for p in problems]}"):
            for pattern in patterns:
                c.check(re.search(pattern, match[0]["message"]),
                        f"[{code}] message lacks /{pattern}/: {match[0]['message']}")
    for sql, predicate, what in expect.get("kept", []):
        got = tool.query(store, sql)
        c.check(predicate(got), f"{what}: {sql} -> {got}")
    return problems


def stats_rows(table):
    return f"SELECT rows FROM table_stats WHERE table_name = '{table}'"


def cases(fixtures, only):
    """(name, builder) pairs; a builder returns (file name, bytes, expectations, extra args)."""
    dump = real_dump(fixtures)
    first, last = copy_block(dump)
    full_rows = last - first + 1

    def garbage():
        return "garbage.bin", pseudo_random(100_000, 1234), {
            "rc": 2, "status": {"failed"},
            "stderr": [r"binary data \(a NUL byte at offset \d+\)", r"expects text"]}, ()

    def garbage_as_dump():
        data = pseudo_random(100_000, 1234)
        nul = data.index(0)
        return "garbage_as_dump.sql", data, {
            "rc": 2, "status": {"failed", "partial"},
            "problems": [("error", "binary-data", None, [rf"byte {nul}\b", "binary data"])]}, \
            ("--as", "pgdump-sql")

    def empty():
        return "empty.sql", b"", {"rc": 2, "status": {"failed"}, "where": False,
                                  "stderr": [r"empty file \(0 bytes\)"]}, ()

    def empty_gzip():
        return "empty.sql.gz", gzip.compress(b"", mtime=0), {
            "rc": 2, "status": {"failed"}, "where": False,
            "stderr": [r"gzip-compressed file that holds no data"]}, ()

    def truncated(codec):
        def build():
            cut, rows_before = cut_in_copy(codec, dump)
            return f"truncated.sql.{codec}", cut, {
                "rc": 2, "status": {"partial"},
                "stderr": [r"the file is truncated"],
                "problems": [
                    ("error", "unreadable", None, [r"truncated|ends before"]),
                    ("error", "truncated", None, [rf"COPY data of public\.{BIG_TABLE}",
                                                  r"\d+ rows were read"])],
                "kept": [
                    (stats_rows(BIG_TABLE), lambda g: g and g[0]["rows"] > 0,
                     "rows of the COPY block before the cut are kept"),
                    (stats_rows(BIG_TABLE), lambda g, n=rows_before: g and g[0]["rows"] >= n,
                     f"every complete row the {codec} tool itself recovers ({rows_before}) is "
                     f"read"),
                    ("SELECT count(*) n FROM db_relation WHERE kind = 'table'",
                     lambda g: g[0]["n"] >= 4, "the tables created before the cut are kept"),
                    ("SELECT byte_offset, in_file FROM problem WHERE code = 'unreadable'",
                     lambda g, size=len(cut): g and g[0]["in_file"] == 1 and
                     0 < g[0]["byte_offset"] <= size,
                     "the unreadable problem gives the offset in the compressed file")]}, ()
        return build

    def corrupt_gzip():
        data = bytearray(compress("gz", dump))
        data[len(data) // 2] ^= 0xFF
        return "corrupt.sql.gz", bytes(data), {
            "rc": 2, "status": {"partial"},
            "stderr": [r"corrupt gzip data"],
            "problems": [("error", "unreadable", None,
                          [r"corrupt gzip data", r"bytes decompressed before"])],
            "kept": [(stats_rows(BIG_TABLE), lambda g: g and g[0]["rows"] > 0,
                      "rows before the damage are kept")]}, ()

    def long_insert():
        stmt = insert_line(420_000)
        assert 10 << 20 <= len(stmt) < 16 << 20
        return "long_insert.sql", with_statement(dump, stmt), {
            "rc": 0, "status": {"ok"},
            "kept": [(stats_rows("long_line"), lambda g: g and g[0]["rows"] == 420_000,
                      "the 420,000 rows of the 10 MiB INSERT are counted"),
                     ("SELECT count(*) n FROM db_relation WHERE name = 'after_the_long_line'",
                      lambda g: g[0]["n"] == 1, "the statement after the long line is read"),
                     (stats_rows(BIG_TABLE), lambda g: g and g[0]["rows"] == full_rows,
                      "the dump's own COPY data is whole")]}, ()

    def long_garbage():
        rnd = random.Random(99)
        line = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz     ") for _ in range(10 << 20))
        text = with_statement(dump, line + ";")
        line_no = text[:text.index(line[:64].encode())].count(b"\n") + 1
        return "long_garbage.sql", text, {
            "rc": 2, "status": {"partial"},
            "stderr": [rf"line {line_no}\b"],
            "problems": [("error", "sql-syntax", line_no,
                          [r"PostgreSQL 15's parser rejects the statement at line \d+",
                           r"syntax error at or near"])],
            "kept": [("SELECT count(*) n FROM problem WHERE severity = 'error'",
                      lambda g: g[0]["n"] == 1, "one error for the one bad statement"),
                     ("SELECT max(length(message)) n FROM problem", lambda g: g[0]["n"] < 300,
                      "the message is short (not the 10 MiB statement)"),
                     ("SELECT max(length(snippet)) n FROM problem", lambda g: g[0]["n"] <= 400,
                      "the snippet is short"),
                     ("SELECT count(*) n FROM db_relation WHERE name = 'after_the_long_line'",
                      lambda g: g[0]["n"] == 1, "the statement after the bad line is read"),
                     (stats_rows(BIG_TABLE), lambda g: g and g[0]["rows"] == full_rows,
                      "the COPY data before it is whole")]}, ()

    def too_long():
        stmt = insert_line(1_200_000)
        assert len(stmt) > 20 << 20
        text = with_statement(dump, stmt)
        line_no = text[:text.index(b"INSERT INTO public.long_line")].count(b"\n") + 1
        return "too_long.sql", text, {
            "rc": 2, "status": {"partial"},
            "stderr": [rf"line {line_no}\b", r"over the 16\.0 MiB limit"],
            "problems": [("error", "statement-too-long", line_no,
                          [r"MiB, over the 16\.0 MiB limit \(--max-statement-mb\)"])],
            "kept": [("SELECT count(*) n FROM db_relation WHERE name IN ('long_line', "
                      "'after_the_long_line')", lambda g: g[0]["n"] == 2,
                      "the statements before and after the long one are read")]}, ()

    def bad_utf8_copy():
        lines = dump.split(b"\n")
        i = first + 600 - 1  # the 600th row of the COPY block
        row = bytearray(lines[i])
        col = row.index(b"\t") + 1
        row[col] = 0xFF
        lines[i] = bytes(row)
        offset = sum(len(l) + 1 for l in lines[:i]) + col
        return "bad_utf8.sql", b"\n".join(lines), {
            "rc": 0, "status": {"ok"},
            "problems": [("warning", "invalid-utf8", i + 1,
                          [rf"invalid UTF-8 in the COPY data of public\.{BIG_TABLE} at line "
                           rf"{i + 1}, byte {offset}", r"client_encoding UTF8"])],
            "kept": [(stats_rows(BIG_TABLE), lambda g: g and g[0]["rows"] == full_rows,
                      "every row is still counted")]}, ()

    def csv_rows():
        return (fixtures / "cases/django_drift/django_migrations.csv").read_bytes().split(b"\n")

    def bad_utf8_csv():
        lines = csv_rows()
        row = bytearray(lines[9])  # line 10
        at = row.index(b"_") + 1
        row[at] = 0xFF
        lines[9] = bytes(row)
        offset = sum(len(l) + 1 for l in lines[:9]) + at
        records = len([l for l in lines[1:] if l])
        return "bad_utf8.csv", b"\n".join(lines), {
            "rc": 2, "status": {"partial"},
            "stderr": [r"line 10\b", r"invalid UTF-8"],
            "problems": [("error", "csv-encoding", 10,
                          [rf"invalid UTF-8 at byte {offset}", r"expected UTF-8 text"])],
            "kept": [("SELECT count(*) n FROM migration_record", lambda g: g[0]["n"] == records - 1,
                      f"the other {records - 1} rows are read"),
                     ("SELECT min(line) lo, max(line) hi FROM migration_record",
                      lambda g: g[0]["lo"] == 2 and g[0]["hi"] == records + 1,
                      "rows before and after the bad one are read")]}, ()

    def csv_missing_column():
        lines = csv_rows()
        lines[4] = lines[4][:lines[4].rindex(b",")]  # line 5 loses its last field
        records = len([l for l in lines[1:] if l])
        return "missing_column.csv", b"\n".join(lines), {
            "rc": 2, "status": {"partial"},
            "stderr": [r"line 5\b", r"3 fields where the header \(line 1\) has 4 \(id, app, name, "
                                    r"applied\)"],
            "problems": [("error", "csv-columns", 5, [r"the row is not read"])],
            "kept": [("SELECT count(*) n FROM migration_record", lambda g: g[0]["n"] == records - 1,
                      f"the other {records - 1} rows are read"),
                     ("SELECT count(*) n FROM migration_record WHERE line IN (4, 6)",
                      lambda g: g[0]["n"] == 2, "the rows around it are read")]}, ()

    all_cases = [("garbage", garbage), ("garbage_as_dump", garbage_as_dump), ("empty", empty),
                 ("empty_gzip", empty_gzip)]
    all_cases += [(f"truncated_{c}", truncated(c)) for c in ("gz", "bz2", "xz", "zst")]
    all_cases += [("corrupt_gzip", corrupt_gzip), ("long_insert", long_insert),
                  ("long_garbage", long_garbage), ("too_long", too_long),
                  ("bad_utf8_copy", bad_utf8_copy), ("bad_utf8_csv", bad_utf8_csv),
                  ("csv_missing_column", csv_missing_column)]
    return [(n, b) for n, b in all_cases if not only or n in only]


def investigate_case(c, tool, fixtures, case):
    """A copy of a real case folder plus one damaged file: exit 2, the file reported, and
    the findings of the rest exactly the case's expected ones."""
    c.current = f"investigate {case}"
    folder = tool.work / case
    shutil.copytree(fixtures / "cases" / case, folder,
                    ignore=shutil.ignore_patterns(".dbautopsy"))
    expected = json.loads((folder / "expected.json").read_text())
    (folder / "expected.json").unlink()  # not an artifact of the case
    # The damaged file: the case's own django_migrations export, re-sent with line 5 short
    # of its last field (the same rows otherwise).
    lines = (folder / "django_migrations.csv").read_bytes().split(b"\n")
    lines[4] = lines[4][:lines[4].rindex(b",")]
    damaged = "django_migrations.resent.csv"
    (folder / damaged).write_bytes(b"\n".join(lines))
    r = tool.run(["investigate", case, "--store", "investigate.facts.db", "--format", "json",
                  "--fail-on", "never"] + expected.get("options", []))
    c.check(r.returncode >= 0 and not SANITIZER.search(r.stderr), f"crashed: {r.stderr[-3000:]}")
    c.check(r.returncode == 2, f"exit status {r.returncode}, expected 2; stderr: {r.stderr}")
    c.check(re.search(rf"{re.escape(damaged)}: partial: line 5: 3 fields", r.stderr),
            f"stderr does not report {damaged} line 5: {r.stderr.strip()}")
    try:
        got = json.loads(r.stdout)
    except json.JSONDecodeError:
        c.check(False, f"no JSON report: {r.stdout[:500]}")
        return
    c.check(any(i["path"] == damaged for i in got.get("inputs", [])),
            f"{damaged} is not among the report's inputs")
    want = {key(f) for f in expected["findings"]}
    have = {key(f) for f in got["findings"]}
    for k in sorted(want - have):
        c.check(False, "missing: " + show(k))
    for k in sorted(have - want):
        c.check(False, "extra: " + show(k))
    status = tool.query("investigate.facts.db", f"SELECT status FROM artifact WHERE path = "
                                                f"'{damaged}'")
    c.check(status == [{"status": "partial"}], f"{damaged} status: {status}")
    print(f"investigate {case} + {damaged}: exit {r.returncode}, {len(have)} findings, "
          f"{len(want)} expected")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, help="the repository's fixtures folder")
    ap.add_argument("--case", default="django_drift")
    ap.add_argument("--only", nargs="*", help="run only these input cases (and no investigate)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    fixtures = Path(args.fixtures)
    c = Checks()
    work = tempfile.mkdtemp(prefix="dbautopsy-cli-")
    try:
        tool = Tool(os.path.abspath(args.dbautopsy), work)
        for name, build in cases(fixtures, args.only):
            c.current = name
            file_name, data, expect, extra = build()
            before = len(c.failures)
            ingest_case(c, tool, file_name, data, expect, extra)
            print(f"{name:20} {file_name:24} {'ok' if len(c.failures) == before else 'FAILED'}")
            (tool.work / file_name).unlink()
        if not args.only:
            investigate_case(c, tool, fixtures, args.case)
    finally:
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    for f in c.failures:
        print("FAIL:", f)
    sys.exit(1 if c.failures else 0)


if __name__ == "__main__":
    main()
