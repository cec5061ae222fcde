#!/usr/bin/env python3
"""Logs rotated in the middle of a loop give the findings of the whole logs.

Copies of fixtures/cases/league_incident have both of their logs (real output of the league
generator's ETL run and PostgreSQL 15 server) rotated, each part cut at an entry (the parts
together are the log byte for byte), the loop's lines falling in several parts:

  - as logrotate leaves them: the older part renamed with `.1`, the newer one under the log's
    own name (etl.log.1 + etl.log, postgresql.log.1 + postgresql.log), cut at the first entry
    at or after the middle line; the older part holds fewer loop lines than
    log.repeated-batch's min_count (100);
  - the older part gzipped, named by logrotate's dateext (etl.log-20261205.gz) or number
    (postgresql.log.1.gz);
  - in three parts each short of min_count: etl.log.2 + etl.log.1 + etl.log, and the server's
    log as PostgreSQL's own rotation names them (log_filename
    'postgresql-%Y-%m-%d_%H%M%S.log', each part named by the time of its first entry).

The findings (rule, subject and metrics: the loop's repeats, first and last time, rows
claimed) must be league_incident's: the loop is one loop. Before, each file was a log of its
own: with two parts the older part's loop lines were a log.etl-failure of their own and the
counts were the newer part's; with three, no file repeated the loop enough and it was not
found at all.

A log beside a gzip copy of itself (etl.log and etl.log.gz) is no rotation: the two cover the
same times, and the loop is counted once, not twice.

Usage: check_rotated_logs.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LOOP = "rows copied into practice_times_backup, check failed"
ENTRY = re.compile(rb"^\d{4}-\d{2}-\d{2}[ T]")


def parts(path, n):
    """The log's bytes in n parts, each cut at the first entry at or after its share of lines."""
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    cuts = [0]
    for k in range(1, n):
        cuts.append(next(i for i in range(len(lines) * k // n, len(lines))
                         if ENTRY.match(lines[i])))
    cuts.append(len(lines))
    out = [b"".join(lines[a:b]) for a, b in zip(cuts, cuts[1:])]
    assert b"".join(out) == data
    return out


def rotate(path, n=2):
    """logrotate's names: path.(n-1) ... path.1 (older parts), path (the newest)."""
    pieces = parts(path, n)
    path.unlink()
    for k, piece in enumerate(pieces):
        age = n - 1 - k
        Path(str(path) + (f".{age}" if age else "")).write_bytes(piece)


def rotate_by_time(path, n):
    """PostgreSQL's names (postgresql-%Y-%m-%d_%H%M%S.log), from each part's first entry."""
    pieces = parts(path, n)
    path.unlink()
    for piece in pieces:
        m = re.match(rb"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})", piece)
        name = "postgresql-{}-{}-{}_{}{}{}.log".format(*(g.decode() for g in m.groups()))
        (path.parent / name).write_bytes(piece)


def findings(exe, case, store):
    r = subprocess.run([exe, "investigate", "--store", str(store), "--fail-on", "never",
                        "-f", "json", str(case)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"investigate {case.name}: exit {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)["findings"]


def key(f):
    return f["rule"], json.dumps(f["subject"], sort_keys=True)


def loop_lines(case):
    return [sum(LOOP in line for line in p.read_text().splitlines())
            for p in sorted(case.glob("etl.log*"), key=lambda p: p.name, reverse=True)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    source = Path(args.fixtures) / "cases" / "league_incident"
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        want = findings(exe, source, tmp / "whole.db")
        want_metrics = {key(f): f.get("metrics") for f in want}
        variants = {}
        two = tmp / "two"
        shutil.copytree(source, two)
        rotate(two / "etl.log")
        rotate(two / "postgresql.log")
        variants["logrotate, two parts"] = two
        three = tmp / "three"
        shutil.copytree(source, three)
        rotate(three / "etl.log", 3)
        rotate_by_time(three / "postgresql.log", 3)
        variants["three parts, PostgreSQL's names"] = three
        dated = tmp / "dated"
        shutil.copytree(source, dated)
        for log, older_name in (("etl.log", "etl.log-20261205.gz"),
                                ("postgresql.log", "postgresql.log.1.gz")):
            older, newer = parts(dated / log, 2)
            (dated / log).write_bytes(newer)
            with gzip.open(dated / older_name, "wb") as g:
                g.write(older)
        variants["older part dated or numbered, gzipped"] = dated
        copies = tmp / "copies"
        shutil.copytree(source, copies)
        for log in ("etl.log", "postgresql.log"):
            with open(copies / log, "rb") as f, gzip.open(copies / f"{log}.gz", "wb") as g:
                g.write(f.read())
        lines = {name: loop_lines(variants[name])
                 for name in ("logrotate, two parts", "three parts, PostgreSQL's names")}
        variants["each log beside its gzip copy"] = copies
        if not (0 < lines["logrotate, two parts"][0] < 100 and
                all(0 < n < 100 for n in lines["three parts, PostgreSQL's names"])):
            print(f"FAIL: the loop's lines fall {lines}: not the rotations meant")
            return 1
        for name, case in variants.items():
            got = findings(exe, case, tmp / f"{case.name}.db")
            for k in sorted(set(want_metrics) - set(map(key, got))):
                failures.append(f"{name}: missing: {k}")
            for f in got:
                k = key(f)
                if k not in want_metrics:
                    failures.append(f"{name}: extra: {k}: {f.get('message', '')[:200]}")
                elif f["rule"] == "log.repeated-batch":
                    m, w = f.get("metrics") or {}, want_metrics[k] or {}
                    for field in ("repeats", "first_seen", "last_seen", "rows_claimed", "killed"):
                        if m.get(field) != w.get(field):
                            failures.append(f"{name}: {k[0]} {field} {m.get(field)}, "
                                            f"the whole log's {w.get(field)}")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print(f"ok: rotated logs (loop lines per file {lines}) give league_incident's "
          f"{len(want)} findings and the loop's counts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
