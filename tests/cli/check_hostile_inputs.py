#!/usr/bin/env python3
"""Bounded resources on hostile input.

Each input is made on the fly in a temporary folder (streamed, never held in memory, never
committed) from real fixtures, and ingested beside a real, sound dump
(fixtures/cases/league_clean/before.sql.gz). For each, the checks are:

  - the run ends by itself within its time bound (no crash: no signal, no sanitizer report);
  - the child's peak resident memory (os.wait4's ru_maxrss, of that process alone) stays
    under the bound;
  - the hostile file's own outcome: a clear error naming the file, where (byte offset or
    line) and the limit, when it is one; its status;
  - the sound dump beside it is read in full (status ok, its tables in the store).

Inputs (the sizes are arguments so that a slow build -- a sanitizer's -- can use smaller
ones; the defaults cross every limit):

  gzip-bomb     a real dump's first lines, then gzip members of blank lines: --bomb-gb GiB
                decoded (default 10) from about a thousandth of that (gzip cannot do
                better than 1032:1); stopped at --max-ratio (250) after 64 MiB decoded.
  long-line     a PostgreSQL stderr log (real lines of a fixture) with one line of
                --line-mb MiB (default 1024).
  csv-field     a django_migrations CSV export whose third record's name is --field-mb MiB
                (default 1024).
  copy-row      a real dump's COPY block with one row of --row-mb MiB (default 2048).
  nested-py     a migration .py whose operations list is nested 10,000 levels deep.
  nested-sql    a dump whose view is SELECT 1 inside 10,000 parentheses.

Usage: check_hostile_inputs.py --dbautopsy PATH --fixtures DIR [--only NAME...] [sizes]
"""
import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from measured import SANITIZER, measure  # noqa: E402

SOUND = "cases/league_clean/before.sql.gz"
MIB = 1 << 20


class Checks:
    def __init__(self):
        self.failures = []
        self.current = ""

    def check(self, ok, what):
        if not ok:
            self.failures.append(f"{self.current}: {what}")
        return ok


def write_repeated(f, chunk, total):
    """Writes `chunk` repeated up to `total` bytes."""
    left = total
    while left > 0:
        piece = chunk if left >= len(chunk) else chunk[:left]
        f.write(piece)
        left -= len(piece)


def sound_dump_lines(fixtures, n):
    with gzip.open(Path(fixtures) / SOUND, "rt") as f:
        return [next(f) for _ in range(n)]


# --- the inputs ---------------------------------------------------------------------------

def make_gzip_bomb(path, fixtures, a):
    header = "".join(sound_dump_lines(fixtures, 20)).encode()
    block = zlib.compressobj(9, zlib.DEFLATED, 31)
    member = block.compress(b"\n" * (64 * MIB)) + block.flush()
    with open(path, "wb") as f:
        f.write(gzip.compress(header))
        for _ in range(a.bomb_gb * 16):
            f.write(member)


def make_long_line(path, fixtures, a):
    real = (Path(fixtures) / "cases/django_drift/postgresql.log").read_text().splitlines(True)
    with open(path, "w") as f:
        f.writelines(real[:40])
        prefix = real[0].split("ERROR:")[0]
        f.write(prefix + "LOG:  ")
        write_repeated(f, "x" * MIB, a.line_mb * MIB)
        f.write("\n")
        f.writelines(real[40:80])


def make_csv_field(path, fixtures, a):
    real = (Path(fixtures) / "cases/django_drift/django_migrations.csv").read_text()
    lines = real.splitlines(True)
    with open(path, "w") as f:
        f.writelines(lines[:3])
        f.write("3,teams,")
        write_repeated(f, "n" * MIB, a.field_mb * MIB)
        f.write(",2025-11-03 09:12:06.500+00\n")
        f.writelines(lines[3:])


def make_copy_row(path, fixtures, a):
    with gzip.open(Path(fixtures) / SOUND, "rt") as src, open(path, "w") as f:
        done = False
        for line in src:
            f.write(line)
            if not done and line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;"):
                ncols = line[line.index("(") + 1:line.index(")")].count(",") + 1
                f.write("\t".join(["1"] + ["v"] * (ncols - 2)) + "\t")
                write_repeated(f, "r" * MIB, a.row_mb * MIB)
                f.write("\n")
                done = True


def make_nested_py(path, fixtures, a):
    depth = 10_000
    with open(path, "w") as f:
        f.write("from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
                "    dependencies = []\n    operations = ")
        f.write("[" * depth + "]" * depth + "\n")


def make_nested_sql(path, fixtures, a):
    depth = 10_000
    lines = sound_dump_lines(fixtures, 20)
    with open(path, "w") as f:
        f.writelines(lines)
        f.write("\nCREATE VIEW public.deep AS SELECT " + "(" * depth + "1" + ")" * depth +
                " AS x;\n")


# name -> (maker, file name, expected status of the hostile file, what stderr must say
# (regex), memory bound MiB, time bound s)
INPUTS = {
    "gzip-bomb": (make_gzip_bomb, "bomb.sql.gz", "partial",
                  r"bomb\.sql\.gz.*expands more than 250 times.*--max-ratio", 400, 300),
    "long-line": (make_long_line, "postgresql.log", None, None, 600, 600),
    "csv-field": (make_csv_field, "django_migrations.csv", None, None, 600, 600),
    "copy-row": (make_copy_row, "big_row.sql", None, None, 600, 900),
    "nested-py": (make_nested_py, "0001_deep.py", None, r"0001_deep\.py.*(deep|nest)", 400, 120),
    "nested-sql": (make_nested_sql, "deep.sql", None, r"deep\.sql.*(deep|nest|stack|memory exhausted)", 400,
                   120),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--bomb-gb", type=int, default=10)
    ap.add_argument("--line-mb", type=int, default=1024)
    ap.add_argument("--field-mb", type=int, default=1024)
    ap.add_argument("--row-mb", type=int, default=2048)
    a = ap.parse_args()
    exe = str(Path(a.dbautopsy).resolve())
    c = Checks()
    for name, (make, fname, status, says, mem_mb, seconds) in INPUTS.items():
        if a.only and name not in a.only:
            continue
        c.current = name
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            case = tmp / "case"
            case.mkdir()
            if name == "nested-py":
                (case / "teams" / "migrations").mkdir(parents=True)
                target = case / "teams" / "migrations" / fname
            else:
                target = case / fname
            make(target, a.fixtures, a)
            store = tmp / "facts.db"
            sound = (Path(a.fixtures) / SOUND).resolve()
            rc, out, err, rss, _, secs = measure(
                [exe, "ingest", "--store", str(store), str(target), str(sound)], seconds, tmp)
            print(f"{name}: {target.stat().st_size} bytes, exit {rc}, {rss:.0f} MiB peak, "
                  f"{secs:.1f} s")
            if not c.check(rc in (0, 2), f"exit {rc} (a crash or the time bound): "
                                         f"{err[-1500:]}"):
                continue
            c.check(not SANITIZER.search(err), f"sanitizer report: {err[-3000:]}")
            c.check(rss <= mem_mb, f"peak memory {rss:.0f} MiB over the bound {mem_mb} MiB")
            if says:
                c.check(re.search(says, err) is not None,
                        f"stderr does not say /{says}/: {err[-1500:]}")
            q = subprocess.run([exe, "query", "--store", str(store), "--format", "csv",
                                "SELECT path, status FROM artifact ORDER BY path"],
                               capture_output=True, text=True, errors="replace")
            statuses = dict(line.rsplit(",", 1) for line in q.stdout.splitlines()[1:])
            c.check(statuses.get(str(sound)) == "ok", f"the sound dump: {statuses}")
            if status:
                c.check(statuses.get(str(target)) == status,
                        f"status {statuses.get(str(target))}, expected {status}")
            q = subprocess.run([exe, "query", "--store", str(store), "--format", "csv",
                                "SELECT count(*) FROM db_relation r JOIN artifact a ON "
                                f"a.id = r.artifact_id WHERE a.path = '{sound}'"],
                               capture_output=True, text=True)
            c.check(q.stdout.splitlines()[-1:] != ["0"], "the sound dump's tables are missing")
    if c.failures:
        print(f"{len(c.failures)} failures:", file=sys.stderr)
        for f in c.failures:
            print("  " + f, file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
