#!/usr/bin/env python3
"""Database names in every form pg_dumpall writes them.

fixtures/dumpall/names.sql is a real pg_dumpall of a cluster whose databases are named
plain_name, Shop, dot.name, "shop floor", it's, a"b, back\\slash and ünïcode: pg_dumpall
reaches them with `\\connect name`, `\\connect "Name"` and `\\connect -reuse-previous=on
"dbname='...'"`. fixtures/dumpall/names.expected.json says, from the server, which table
each one holds. Checks that `ingest` puts each table in its database (db_relation.db), and
that `investigate` reports exactly those databases.

Usage: check_dumpall_names.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    args = ap.parse_args()
    dump = args.fixtures / "dumpall" / "names.sql"
    truth = json.loads((args.fixtures / "dumpall" / "names.expected.json").read_text("utf-8"))
    want = sorted((d["database"], t) for d in truth for t in d["tables"])
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "s.db"
        subprocess.run([args.dbautopsy, "ingest", "--store", str(store), str(dump)], check=True,
                       stdout=subprocess.DEVNULL)
        out = subprocess.run([args.dbautopsy, "query", "--store", str(store), "--format", "json",
                              "SELECT db, name FROM db_relation WHERE kind = 'table' "
                              "AND schema_name = 'public'"],
                             check=True, capture_output=True, text=True).stdout
        have = sorted((r["db"], r["name"]) for r in json.loads(out))
        if have != want:
            failures.append(f"tables by database: {have}, expected {want}")
        case = Path(tmp) / "case"
        case.mkdir()
        (case / dump.name).write_bytes(dump.read_bytes())
        report = Path(tmp) / "report.json"
        run = subprocess.run([args.dbautopsy, "investigate", "--format", "json", "--output",
                              str(report), str(case)], capture_output=True, text=True)
        if run.returncode not in (0, 1):
            failures.append(f"investigate exited {run.returncode}: {run.stderr}")
        else:
            got = sorted(d.get("database") for d in json.loads(report.read_text("utf-8"))["databases"])
            names = sorted(d["database"] for d in truth)
            if got != names:
                failures.append(f"investigate's databases: {got}, expected {names}")
    for f in failures:
        print("FAIL " + f)
    if not failures:
        print(f"ok   {len(want)} tables in {len(truth)} databases, each in its own")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
