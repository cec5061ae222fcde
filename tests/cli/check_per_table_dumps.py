#!/usr/bin/env python3
"""A database state sent one table per file (`pg_dump -t TABLE` runs) is one snapshot of one
database; per-table dumps that are not one state stay apart.

Over copies of fixtures/cases/league_per_table (real pg_dump -t of each table of
league_incident's before and after databases, verified by fixtures/generate/per_table_dumps.sh
to hold together every statement and COPY block of the whole dump):

  - the flat layout, all in one folder: TABLE.before.sql.gz and TABLE.after.sql.gz: one
    database, two snapshots, league_incident's findings (the same rules and subjects as the
    case's expected.json), each finding's evidence naming the file that holds its table;
  - a second run into the same store: nothing read again, the same findings;
  - with one table's file of each state gone (polls), the others are still one state, the
    host read again without it: one database, the id remaps still found;
  - the undoing: two dumps of the same table named alike in one folder (teams.sql.gz and
    public.teams.sql.gz, the before and after teams) are two snapshots in order, not one
    state, and nothing is said to be read with another dump;
  - per-table dumps of different tables in two folders (a/teams.sql.gz, b/polls.sql.gz) are
    not one state: two databases, as before.

Usage: check_per_table_dumps.py --dbautopsy PATH --fixtures DIR
Exits 1 when a check fails, listing every failure.
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CASE = "cases/league_per_table"


def keys(findings):
    return sorted(json.dumps([f["rule"], {k: v for k, v in f["subject"].items()
                                          if k != "database"}], sort_keys=True)
                  for f in findings)


def investigate(exe, folder, store, out):
    r = subprocess.run([exe, "investigate", str(folder), "--store", str(store), "--out", str(out),
                        "--format", "json"], capture_output=True, text=True, timeout=900)
    report = out / "report.json"
    return r, json.loads(report.read_text()) if report.exists() else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    src = Path(args.fixtures).resolve() / CASE
    expected = json.loads((src / "expected.json").read_text())["findings"]
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)
        return ok

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tables = sorted(p.name[:-len(".sql.gz")] for p in (src / "before").glob("*.sql.gz"))
        check(len(tables) >= 2, f"the case has {len(tables)} per-table dumps")

        # The flat layout.
        flat = tmp / "flat"
        flat.mkdir()
        for state in ("before", "after"):
            for t in tables:
                shutil.copy(src / state / f"{t}.sql.gz", flat / f"{t}.{state}.sql.gz")
        for log in ("etl.log", "postgresql.log"):
            shutil.copy(src / log, flat / log)
        store = tmp / "flat.db"
        for run in ("first", "second"):
            r, report = investigate(exe, flat, store, tmp / f"flat-{run}")
            if not check(report is not None, f"flat, {run} run: no report ({r.stderr[-500:]})"):
                continue
            check(len(report["databases"]) == 1,
                  f"flat, {run} run: {len(report['databases'])} databases, not 1")
            check(keys(report["findings"]) == keys(expected),
                  f"flat, {run} run: findings differ from the case's expected.json")
            for f in report["findings"]:
                table = f["subject"].get("table")
                for e in f["evidence"]:
                    if table in tables and e["artifact"].endswith(".sql.gz"):
                        check(e["artifact"].startswith(f"{table}."),
                              f"flat: {f['rule']} on {table}: evidence in {e['artifact']}")
            if run == "second":
                reread = [i["path"] for i in report["inputs"] if i.get("status") not in
                          ("unchanged", "ok")]
                check(not reread, f"flat, second run: {reread}")

        # One table's file of each state gone: the rest are still one state.
        for state in ("before", "after"):
            (flat / f"polls.{state}.sql.gz").unlink()
        r, report = investigate(exe, flat, store, tmp / "flat-less")
        if check(report is not None, f"flat without polls: no report ({r.stderr[-500:]})"):
            check(len(report["databases"]) == 1,
                  f"flat without polls: {len(report['databases'])} databases, not 1")
            rules = {f["rule"] for f in report["findings"]}
            check("etl.id-remapped" in rules, f"flat without polls: no id remap ({sorted(rules)})")
            check(not any(f["subject"].get("table") == "polls" for f in report["findings"]),
                  "flat without polls: a finding on polls")

        # The undoing: two dumps of one table named alike are two states.
        same = tmp / "same"
        same.mkdir()
        shutil.copy(src / "before" / "teams.sql.gz", same / "teams.sql.gz")
        shutil.copy(src / "after" / "teams.sql.gz", same / "public.teams.sql.gz")
        r, report = investigate(exe, same, tmp / "same.db", tmp / "same-out")
        if check(report is not None, f"same table: no report ({r.stderr[-500:]})"):
            check(len(report["databases"]) == 1,
                  f"same table: {len(report['databases'])} databases, not 1")
            check(any("snapshot order: teams.sql.gz was taken before public.teams.sql.gz" in n
                      for n in report.get("notes", [])),
                  f"same table: the two teams dumps are not two snapshots ({report.get('notes')})")
        q = subprocess.run([exe, "query", "--store", str(tmp / "same.db"), "--format", "json",
                            "SELECT count(*) AS n FROM problem WHERE code = 'tables-joined'"],
                           capture_output=True, text=True, timeout=300)
        check(q.returncode == 0 and json.loads(q.stdout)[0]["n"] == 0,
              f"same table: read with another dump ({q.stdout.strip()} {q.stderr.strip()})")

        # Different tables in two folders: not one state.
        apart = tmp / "apart"
        (apart / "a").mkdir(parents=True)
        (apart / "b").mkdir()
        shutil.copy(src / "after" / "teams.sql.gz", apart / "a" / "teams.sql.gz")
        shutil.copy(src / "after" / "polls.sql.gz", apart / "b" / "polls.sql.gz")
        r, report = investigate(exe, apart, tmp / "apart.db", tmp / "apart-out")
        if check(report is not None, f"two folders: no report ({r.stderr[-500:]})"):
            check(len(report["databases"]) == 2,
                  f"two folders: {len(report['databases'])} databases, not 2")

    for f in failures:
        print(f"FAIL: {f}")
    print(f"check_per_table_dumps: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
