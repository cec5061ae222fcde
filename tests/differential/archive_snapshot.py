#!/usr/bin/python3
"""A pg_dump archive beside plain dumps of the same database is one snapshot, not two.

fixtures/cases/django_drift holds full.sql.gz and schema.sql (plain pg_dump) and prod.dump
(pg_dump -Fc of the same database, made by PostgreSQL 15 in
fixtures/generate/django/generate.sh). `dbautopsy investigate` must report the case's
expected findings (expected.json) exactly once in each of these folders:

  * the case as it is (plain dumps and the archive);
  * the archive alone (plain dumps removed): the archive gives the same findings;
  * the plain dumps alone (archive removed);
  * the case plus the script PostgreSQL 15's `pg_restore --verbose` makes of the archive
    (its "-- Started on" names the zone, the archive's creation time does not).

In every folder the archive is read (status ok) and every dump read belongs to one
snapshot. Exit 77 (skip) without pg_restore, unless $CI is "true".
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from pgcluster import find_bindir  # noqa: E402

SKIP = 77


def finding_keys(findings):
    # An expectation without subject.database (one database) means null.
    return sorted(json.dumps([f["rule"], {"database": None, **f["subject"]}], sort_keys=True)
                  for f in findings)


def investigate(dbautopsy, folder, store):
    run = subprocess.run([dbautopsy, "investigate", str(folder), "--store", str(store),
                          "--format", "json", "--fail-on", "never"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"dbautopsy investigate {folder.name} exited {run.returncode}: "
                           f"{run.stderr.strip()}")
    return json.loads(run.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    case = Path(args.root) / "fixtures" / "cases" / "django_drift"
    expected = finding_keys(json.loads((case / "expected.json").read_text())["findings"])
    bindir = find_bindir()
    pg_restore = bindir / "pg_restore" if bindir else None
    if pg_restore is None or not pg_restore.exists():
        print("archive_snapshot: no PostgreSQL 15 pg_restore (apt-get install postgresql-15)")
        return 1 if os.environ.get("CI") == "true" else SKIP

    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folders = {}
        for name, drop in (("as given", []), ("archive alone", ["full.sql.gz", "schema.sql"]),
                           ("plain dumps alone", ["prod.dump"]), ("with pg_restore -v", [])):
            folder = tmp / name.replace(" ", "_")
            shutil.copytree(case, folder)
            for f in drop:
                (folder / f).unlink()
            folders[name] = folder
        restored = folders["with pg_restore -v"] / "restored.sql"
        subprocess.run([str(pg_restore), "--verbose", "-f", str(restored),
                        str(case / "prod.dump")], check=True, capture_output=True)
        if "-- Started on " not in restored.read_text(encoding="utf-8"):
            failures.append("pg_restore --verbose wrote no '-- Started on' line")

        for name, folder in folders.items():
            store = tmp / (folder.name + ".db")
            report = investigate(args.dbautopsy, folder, store)
            got = finding_keys(report["findings"])
            if got != expected:
                failures.append(f"{name}: {len(got)} findings, expected {len(expected)} "
                                f"({len(set(got) - set(expected))} extra, "
                                f"{len(set(expected) - set(got))} missing)")
            db = sqlite3.connect(store)
            dumps = {p: (k, s) for p, k, s in db.execute(
                "SELECT path, kind, status FROM artifact WHERE kind LIKE 'pgdump-%'")}
            if "prod.dump" in dumps and dumps["prod.dump"] != ("pgdump-custom", "ok"):
                failures.append(f"{name}: prod.dump is {dumps['prod.dump']}, expected "
                                "pgdump-custom/ok")
            snapshots = db.execute("SELECT role, artifacts FROM snapshot").fetchall()
            ids = {str(i) for (i,) in db.execute(
                "SELECT id FROM artifact WHERE kind LIKE 'pgdump-%' AND status = 'ok'")}
            if len(snapshots) != 1 or set(snapshots[0][1].split(",")) != ids:
                failures.append(f"{name}: snapshots {snapshots}, expected one holding the "
                                f"dumps {sorted(ids)} ({sorted(dumps)})")
            print(f"{name}: {len(got)} findings; dumps {sorted(dumps)}; "
                  f"snapshots {[s[0] for s in snapshots]}")

    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
