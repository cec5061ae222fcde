#!/usr/bin/env python3
"""Logs rotated in the middle of a loop give the findings of the whole logs.

A copy of fixtures/cases/league_incident has both of its logs (real output of the league
generator's ETL run and PostgreSQL 15 server) rotated as logrotate leaves them: the older part
renamed with `.1`, the newer one under the log's own name (etl.log.1 + etl.log,
postgresql.log.1 + postgresql.log), each cut at the first entry at or after its middle line,
so that no entry is split (the two parts together are the log byte for byte). The loop's
"copy batch ... check failed ..., retrying" lines fall on both sides, fewer than
log.repeated-batch's min_count (100) in the older part.

The findings (rule and subject) must be league_incident's: the loop is one loop. Before, the
older part's loop lines, short of min_count in their own file, were a log.etl-failure of
their own ("failures that no finding of the dumps names").

Not checked: the loop's counts. log.repeated-batch counts each file on its own (the newer
part's repeats, not the whole loop's); README "Limits" says so.

Usage: check_rotated_logs.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

LOOP = "rows copied into practice_times_backup, check failed"
ENTRY = re.compile(rb"^\d{4}-\d{2}-\d{2}[ T]")


def rotate(path):
    """path -> path.1 (older part) + path (newer part), cut at an entry at/after the middle."""
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    cut = next(i for i in range(len(lines) // 2, len(lines)) if ENTRY.match(lines[i]))
    Path(str(path) + ".1").write_bytes(b"".join(lines[:cut]))
    path.write_bytes(b"".join(lines[cut:]))
    assert Path(str(path) + ".1").read_bytes() + path.read_bytes() == data


def findings(exe, case, store):
    r = subprocess.run([exe, "investigate", "--store", str(store), "--fail-on", "never",
                        "-f", "json", str(case)], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"investigate {case.name}: exit {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)["findings"]


def key(f):
    return f["rule"], json.dumps(f["subject"], sort_keys=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        case = tmp / "rotated"
        shutil.copytree(Path(args.fixtures) / "cases" / "league_incident", case)
        for log in ("etl.log", "postgresql.log"):
            rotate(case / log)
        older = (case / "etl.log.1").read_text().count(LOOP)
        newer = (case / "etl.log").read_text().count(LOOP)
        if not (0 < older < 100 <= newer):
            print(f"FAIL: the loop's lines fall {older} / {newer}: not the rotation meant")
            return 1
        want = findings(exe, Path(args.fixtures) / "cases" / "league_incident", tmp / "a.db")
        got = findings(exe, case, tmp / "b.db")
        for k in sorted(set(map(key, want)) - set(map(key, got))):
            failures.append(f"missing: {k}")
        for f in got:
            if key(f) not in set(map(key, want)):
                failures.append(f"extra: {key(f)}: {f.get('message', '')[:200]}")
        if len(got) != len(want):
            failures.append(f"{len(got)} findings, {len(want)} from the whole logs")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print(f"ok: rotated logs ({older} + {newer} loop lines) give league_incident's "
          f"{len(want)} findings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
