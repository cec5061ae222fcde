#!/usr/bin/env python3
"""Every form of a django_migrations export is read as the server returned the table.

fixtures/migration_exports/ holds one real django_migrations table (Django 3.2 `migrate` on
PostgreSQL 15) exported every way an investigator may receive it
(fixtures/generate/migration_exports.sh): COPY TO STDOUT in text and CSV, with and without a
header, in the table's column order, reordered and a subset; \\copy to a file; psql aligned,
-A, -A -F ',', --csv, -t, -At, -x, -x -A; pg_dump --data-only (COPY, --inserts,
--column-inserts); JSON (json_agg, row_to_json lines, the rows inside an object, jsonb_pretty);
applied without a zone or a fraction, under other time zones and
DateStyles; CRLF line ends, a UTF-8 byte order mark, trailing blank lines, one record whose
line is not ended.

For each file of expected.tsv, `dbautopsy ingest FILE --store X` then `dbautopsy query` of
migration_record must give exactly its rows (app, name, applied as the server renders it in
ISO), and the store holds no error for it. Each file of refused.tsv must be refused with an
error problem naming its line and saying what was expected, and no record may hold a time
read from it.

Usage: check_migration_exports.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

RECORDS = "SELECT app, name, applied_at FROM migration_record ORDER BY app, name"
PROBLEMS = ("SELECT a.path, p.line, p.severity, p.message FROM problem p "
            "JOIN artifact a ON a.id = p.artifact_id ORDER BY p.line")
ARTIFACTS = "SELECT path, kind, status FROM artifact"


def query(exe, store, sql):
    r = subprocess.run([exe, "query", "--store", str(store), "--format", "json", sql],
                       check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def ingest(exe, path, store):
    r = subprocess.run([exe, "ingest", "--store", str(store), str(path)],
                       capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def iso_as_postgres(applied):
    """JSON's ISO 8601 (`2026-04-02T14:30:03.26+00:00`, as json_agg and row_to_json write a
    timestamptz, and the reader keeps it) as DateStyle ISO writes the same text
    (`2026-04-02 14:30:03.26+00`): the same instant, written the way expected.tsv is."""
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T(.*?)([+-]\d{2})(?::(\d{2}))?", applied or "")
    if not m:
        return applied
    return f"{m[1]} {m[2]}{m[3]}" + (f":{m[4]}" if m[4] and m[4] != "00" else "")


def tsv(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:] if line]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    a = ap.parse_args()
    root = a.fixtures / "migration_exports"
    expected = defaultdict(list)
    for row in tsv(root / "expected.tsv"):
        expected[row["file"]].append([row["app"], row["name"], row["applied"] or None])
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, want) in enumerate(sorted(expected.items())):
            store = Path(tmp) / f"{i}.db"
            rc, out = ingest(a.dbautopsy, root / name, store)
            if rc not in (0, 1):
                failures.append(f"{name}: ingest exited {rc}: {out.strip()[:300]}")
                continue
            got = [[r["app"], r["name"], iso_as_postgres(r["applied_at"])]
                   for r in query(a.dbautopsy, store, RECORDS)]
            errors = [p for p in query(a.dbautopsy, store, PROBLEMS)
                      if p["severity"] == "error"]
            kinds = query(a.dbautopsy, store, ARTIFACTS)
            if got != want:
                wrong = [f"{w} != {g}" for w, g in zip(want, got) if w != g][:3]
                failures.append(
                    f"{name} ({', '.join(k['kind'] for k in kinds)}): {len(got)} records, "
                    f"{len(want)} expected; first differences: {wrong}; "
                    f"errors: {[p['message'][:160] for p in errors][:2]}")
            elif errors:
                failures.append(f"{name}: read right but with errors: "
                                f"{[p['message'][:160] for p in errors][:2]}")
            else:
                print(f"ok    {name}: {len(got)} records")
        for j, row in enumerate(tsv(root / "refused.tsv")):
            name = row["file"]
            store = Path(tmp) / f"refused{j}.db"
            rc, out = ingest(a.dbautopsy, root / name, store)
            errors = [p for p in query(a.dbautopsy, store, PROBLEMS)
                      if p["severity"] == "error"]
            timed = [r for r in query(a.dbautopsy, store, RECORDS) if r["applied_at"]]
            hit = [p for p in errors
                   if str(p["line"]) == row["line"] and row["message"] in p["message"]
                   and name in p["path"]]
            if not hit:
                failures.append(f"{name}: no error at line {row['line']} saying "
                                f"'{row['message']}'; errors: "
                                f"{[(p['line'], p['message'][:160]) for p in errors][:3]}")
            elif timed:
                failures.append(f"{name}: refused, yet {len(timed)} records hold a time: "
                                f"{timed[:2]}")
            else:
                print(f"ok    {name}: refused at line {row['line']}: {hit[0]['message']}")
    for f in failures:
        print(f"FAIL  {f}")
    print(f"{len(expected)} read, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
