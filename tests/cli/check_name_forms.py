#!/usr/bin/env python3
"""--natural-key and --ignore-columns however a user writes the names.

Over a copy of fixtures/cases/league_incident (teams' natural key is (league_id,
series_name); practice_times_backup has a location column): every form below must be the
key or the left-out column dbautopsy uses -- the natural_key table says `--natural-key` with
the stored column names, table_stats.ignored_columns names the column with
`(--ignore-columns)` -- and no note may say the name matched nothing. Forms: as stored,
schema-qualified, in upper or mixed case (PostgreSQL folds unquoted names), in double quotes
(each part, and with `""` and spaces), with spaces after the commas or in place of them (`league_id series_name`), and as SQL
writes a key (`teams(league_id, series_name)`). A name that matches
nothing must be said in a note (natural key) or a warning (ignored column), never dropped
silently.

Usage: check_name_forms.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

KEYS = ["teams:league_id,series_name", "public.teams:league_id,series_name",
        "Teams:League_ID,Series_Name", "PUBLIC.TEAMS:LEAGUE_ID,SERIES_NAME",
        '"teams":"league_id","series_name"', 'public."teams":league_id, "series_name"',
        '"public"."teams" : league_id , series_name',
        # as SQL writes a key
        "teams(league_id, series_name)", 'public."teams" ("league_id", series_name)',
        # the columns parted by a space, as people write a list
        "teams:league_id series_name", "teams(league_id series_name)",
        'teams: "league_id"  series_name']
IGNORES = ["practice_times_backup:location", "public.practice_times_backup:location",
           "Practice_Times_Backup:Location", '"practice_times_backup":"location"',
           'public."practice_times_backup": location', "location",
           "practice_times_backup(location)", 'public."practice_times_backup" ("location")',
           "practice_times_backup : location", " location "]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        case = tmp / "case"
        case.mkdir()
        for f in ("before.sql.gz", "after.sql.gz"):
            shutil.copy(Path(args.fixtures) / "cases/league_incident" / f, case / f)

        def investigate(store, *opts):
            r = subprocess.run([exe, "investigate", str(case), "--store", str(store), "--format",
                                "json", *opts], capture_output=True, text=True, timeout=600)
            if r.returncode not in (0, 1):
                failures.append(f"{opts}: exit {r.returncode}: {r.stderr.strip()}")
                return None, r.stderr
            return json.loads(r.stdout), r.stderr

        def query(store, sql):
            r = subprocess.run([exe, "query", "--store", str(store), "--format", "json", sql],
                               capture_output=True, text=True, timeout=600)
            return json.loads(r.stdout) if r.returncode == 0 else None

        for i, form in enumerate(KEYS):
            store = tmp / f"key{i}.db"
            report, _ = investigate(store, "--natural-key", form)
            if report is None:
                continue
            notes = [n for n in report.get("notes", []) if "--natural-key" in n]
            if notes:
                failures.append(f"--natural-key {form}: {notes}")
            got = query(store, "SELECT columns, source FROM natural_key WHERE table_name = 'teams'")
            if got != [{"columns": "league_id, series_name", "source": "--natural-key"}] and \
               got != [{"columns": "league_id,series_name", "source": "--natural-key"}]:
                failures.append(f"--natural-key {form}: natural_key of teams is {got}")
        for i, form in enumerate(IGNORES):
            store = tmp / f"ignore{i}.db"
            report, err = investigate(store, "--ignore-columns", form)
            if report is None:
                continue
            if "no such column" in err or any("--ignore-columns" in n for n in report.get("notes", [])):
                failures.append(f"--ignore-columns {form}: said to match nothing: {err}")
            got = query(store, "SELECT DISTINCT ignored_columns FROM table_stats "
                               "WHERE table_name = 'practice_times_backup'")
            if not got or not all("location (--ignore-columns)" in (g["ignored_columns"] or "")
                                  for g in got):
                failures.append(f"--ignore-columns {form}: ignored_columns {got}")
        # Names that match nothing are said.
        report, _ = investigate(tmp / "nokey.db", "--natural-key", '"Teams":league_id')
        if report is not None and not any("--natural-key" in n for n in report.get("notes", [])):
            pass  # "Teams" in quotes still matches teams (matched without regard to case)
        report, _ = investigate(tmp / "nokey2.db", "--natural-key", "teams:no_such")
        if report is not None and not any("no column no_such" in n for n in report.get("notes", [])):
            failures.append("--natural-key teams:no_such: no note says the column is not there")
        report, err = investigate(tmp / "noign.db", "--ignore-columns", "teams:no_such")
        if report is not None and "no such column" not in err and \
           not any("no_such" in n for n in report.get("notes", [])):
            failures.append(f"--ignore-columns teams:no_such: not said: {err}")
    for f in failures:
        print(f"FAIL: {f}")
    print(f"check_name_forms: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
