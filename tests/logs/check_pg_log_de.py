#!/usr/bin/env python3
"""A server writing its messages in German: errors about missing objects are still found.

fixtures/logs/de/ was written by one real PostgreSQL 15 (fixtures/generate/logs/pg_de.sh)
with lc_messages = 'de_DE.UTF-8': de.log (stderr: `FEHLER:`, `ANWEISUNG:`, no SQLSTATE),
de.csv (csvlog) and de.json (jsonlog) at once, and
league.sql, a pg_dump of the database the workload ran on. The csvlog writes the severity
translated ("FEHLER", "WARNUNG") and every message is German with »…« quotes: `Relation
»user_profile_about_item« existiert nicht`, `Spalte »nonexistent_col« existiert nicht` (for
`SELECT nonexistent_col FROM teams`), `Spalte t.missing_col existiert nicht` (for `SELECT
t.missing_col FROM teams t`). Checked with `dbautopsy ingest`, `query` and `investigate`:

1. Each file alone is read whole (status ok, as many entries as the jsonlog has objects), and
   `SELECT what, table_name, column_name FROM log_missing_object` gives exactly the three
   objects: relation user_profile_about_item, column teams.nonexistent_col, column
   teams.missing_col (the alias t is teams).
2. `investigate` of a case made of league.sql and the log (csvlog, jsonlog, stderr) reports
   `log.missing-object-error` on each of the three.
"""
import argparse
import csv
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

FILES = {"csv": "de.csv", "json": "de.json", "log": "de.log"}
KINDS = {"csv": "pg-log-csv", "json": "pg-log-json", "log": "pg-log-stderr"}
WANT = {("relation", "user_profile_about_item", None),
        ("column", "teams", "nonexistent_col"),
        ("column", "teams", "missing_col")}
SQL = "SELECT what, table_name, column_name FROM log_missing_object"

failures = []


def fail(msg):
    failures.append(msg)


def check_fixture(folder):
    """The server did write German: without it the test would prove nothing."""
    with open(folder / "de.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    missing = [r for r in rows if r[12] in ("42P01", "42703")]
    if len(missing) != 3:
        fail(f"fixture: de.csv has {len(missing)} rows of SQLSTATE 42P01/42703, expected 3")
    for r in missing:
        if r[11] != "FEHLER" or "existiert nicht" not in r[13]:
            fail(f"fixture: de.csv row {r[11]} {r[13]!r} is not a German error")
    if not any("»nonexistent_col«" in r[13] for r in missing):
        fail("fixture: de.csv has no »nonexistent_col«")
    return sum(1 for _ in (folder / "de.json").read_text(encoding="utf-8").splitlines())


def ingest(dbautopsy, path, store):
    run = subprocess.run([dbautopsy, "ingest", "--store", str(store), str(path)],
                         capture_output=True, text=True)
    if run.returncode not in (0, 1, 2):
        sys.exit(f"dbautopsy ingest {path.name} exited {run.returncode}:\n{run.stderr}")
    db = sqlite3.connect(store)
    art = db.execute("SELECT kind, status, status_detail FROM artifact").fetchone()
    events = db.execute("SELECT count(*) FROM log_event").fetchone()[0]
    db.close()
    return art, events


def missing_objects(dbautopsy, store):
    run = subprocess.run([dbautopsy, "query", "--store", str(store), "--format", "json", SQL],
                         capture_output=True, text=True)
    if run.returncode != 0:
        fail(f"dbautopsy query {SQL!r}: exit {run.returncode}: {run.stderr.strip()}")
        return []
    return [(r["what"], r["table_name"], r["column_name"]) for r in json.loads(run.stdout)]


def check_investigate(dbautopsy, folder, tmp, log):
    case = tmp / f"case_{log}"
    case.mkdir()
    shutil.copy(folder / "league.sql", case / "league.sql")
    shutil.copy(folder / log, case / log)
    out = tmp / f"out_{log}"
    run = subprocess.run([dbautopsy, "investigate", str(case), "--out", str(out), "--store",
                          str(tmp / f"case_{log}.db"), "-q"], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        fail(f"investigate league.sql + {log}: exit {run.returncode}: {run.stderr}")
        return
    findings = json.loads((out / "report.json").read_text())["findings"]
    have = {(f["subject"]["table"], f["subject"]["column"]) for f in findings
            if f["rule"] == "log.missing-object-error"}
    for _, table, column in sorted(WANT, key=str):
        if (table, column) not in have:
            fail(f"investigate league.sql + {log}: no log.missing-object-error on "
                 f"{table}{'.' + column if column else ''}; it reports {sorted(have, key=str)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    args = ap.parse_args()
    folder = args.fixtures / "logs" / "de"
    objects = check_fixture(folder)

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for f, name in FILES.items():
            store = tmp / f"{f}.db"
            (kind, status, detail), events = ingest(args.dbautopsy, folder / name, store)
            if kind != KINDS[f] or status != "ok":
                fail(f"{name}: read as {kind} {status} ({detail}), expected {KINDS[f]} ok")
            if events != objects:
                fail(f"{name}: {events} log entries, the jsonlog has {objects}")
            got = missing_objects(args.dbautopsy, store)
            if len(got) != len(WANT) or set(got) != WANT:
                fail(f"{name}: log_missing_object gives {sorted(got, key=str)}, expected "
                     f"{sorted(WANT, key=str)}")
        for log in FILES.values():
            check_investigate(args.dbautopsy, folder, tmp, log)

    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("ok: a German server's stderr log, csvlog and jsonlog give the missing relation and "
          "both missing columns of teams")


if __name__ == "__main__":
    main()
