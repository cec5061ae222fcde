#!/usr/bin/env python3
"""Missing-object errors in the logs, explained by the dump alone when no migration files are given.

From the real files of fixtures/cases/django_drift (generated with Django 3.2 on PostgreSQL 15;
its expected.json, verified against that database, says which tables sit in test_schema and
which column a faked migration never added), two cases without the migrations folder and
without the sqlmigrate outputs:
  - the dump and the server log only;
  - the dump, the django_migrations export, the server log and the application log.
In both, each table of expected.json's drift.table-in-wrong-schema findings must be a
log.missing-object-error in a cause that says the dump has those relations only in schema
test_schema, each carrying the move to public commented out (no migration says it belongs
there); teams_teammembership.left_at, the column expected.json reports missing, must be in the
cause of objects the dump lacks too, its message saying the table has no such column. Before,
all of them were "missing objects in the logs that no finding of the dumps explains", the dump
may be older than the log -- while the dump showed where they were.

Usage: check_logs_without_migrations.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

VARIANTS = {"dump_and_log": ["full.sql.gz", "postgresql.log"],
            "dump_records_logs": ["full.sql.gz", "django_migrations.csv", "postgresql.log",
                                  "app.log"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    src = Path(args.fixtures) / "cases/django_drift"
    truth = json.loads((src / "expected.json").read_text())["findings"]
    moved = sorted(f["subject"]["table"] for f in truth
                   if f["rule"] == "drift.table-in-wrong-schema"
                   and f["subject"]["schema"] == "test_schema")
    never = [(f["subject"]["table"], f["subject"]["column"]) for f in truth
             if f["rule"] == "drift.column-missing"]
    failures = []
    if len(moved) != 12 or never != [("teams_teammembership", "left_at")]:
        print(f"expected.json no longer holds what this test needs: {moved} {never}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for variant, files in VARIANTS.items():
            case = Path(tmp) / variant
            case.mkdir()
            for f in files:
                shutil.copy(src / f, case / f)
            r = subprocess.run([exe, "investigate", str(case), "--store", str(Path(tmp) / f"{variant}.db"),
                                "--format", "json"], capture_output=True, text=True, timeout=600)
            if r.returncode not in (0, 1):
                failures.append(f"{variant}: exit {r.returncode}: {r.stderr.strip()}")
                continue
            rep = json.loads(r.stdout)
            causes = {c["id"]: c for c in rep["causes"]}
            logs = {(f["subject"]["table"], f["subject"]["column"]): f for f in rep["findings"]
                    if f["rule"] == "log.missing-object-error"}
            for table in moved:
                f = logs.get((table, None))
                if f is None:
                    failures.append(f"{variant}: no log.missing-object-error for {table}")
                    continue
                summary = causes[f["cause"]]["summary"]
                if "exist only in schema test_schema" not in summary:
                    failures.append(f"{variant}: {table} in cause {summary!r}")
                if "only in schema test_schema" not in f["message"]:
                    failures.append(f"{variant}: {table}: message {f['message']!r}")
                repair = f.get("repair") or ""
                lines = [x for x in repair.splitlines() if x.strip()]
                if not lines or any(not x.lstrip().startswith("--") for x in lines) or \
                        f"ALTER TABLE test_schema.{table} SET SCHEMA public;" not in repair:
                    failures.append(f"{variant}: {table}: the move must be there, commented out: "
                                    f"{repair!r}")
            for table, column in never:
                f = logs.get((table, column))
                if f is None:
                    failures.append(f"{variant}: no log.missing-object-error for {table}.{column}")
                    continue
                summary = causes[f["cause"]]["summary"]
                if "that the dump lacks too" not in summary or \
                        f"has no column {column} either" not in f["message"]:
                    failures.append(f"{variant}: {table}.{column}: cause {summary!r}, "
                                    f"message {f['message']!r}")
            stray = [k for k, f in logs.items()
                     if "no finding of the dumps explains" in causes[f["cause"]]["summary"]]
            if stray:
                failures.append(f"{variant}: still unexplained: {stray}")
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
