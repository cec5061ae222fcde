#!/usr/bin/env python3
"""Which dumps are of one database, and how every report says so.

Over the real fixture cases:

  - dumps of one database stay one database: league_incident (before / after of one
    database) and django_drift (a schema-only dump, a full dump and a -Fc archive of one
    moment) each give one entry in the JSON `databases`, holding all their dumps, grouped by
    what they have in common; their text, Markdown and repair script say nothing of
    databases (one database reads as before);
  - cluster_dumpall (pg_dumpall of shop, league, clean) gives three named databases; every
    finding's subject.database is one of them; the text report lists them under
    "Databases: 3" and puts [name] before each finding's subject, the Markdown report has a
    "## Databases" table, and the repair script reaches each database that has something to
    repair with \\connect NAME in a transaction of its own; `report --store` gives the same
    `databases` as `investigate` (they come from the store, not from the run);
  - unrelated_dumps: two databases without a name, each of one dump, told apart although the
    file names say before / after; the repair script guards each part with
    `\\if :{?repair_database_N}`; with --before before.sql.gz --after after.sql.gz the user's
    word puts them in one database again (and its grouped_by says so), and --before naming no
    dump still exits 2, listing the dumps.

Usage: check_databases.py --dbautopsy PATH --fixtures DIR
Exits 1 when a check fails, listing every failure.
"""
import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path


class Checks:
    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)
        return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    cases = Path(args.fixtures).resolve() / "cases"
    c = Checks()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = [0]

        def run(case, *extra, fmt="json", repair=None):
            n[0] += 1
            store = tmp / f"s{n[0]}.db"
            cmd = [exe, "investigate", str(cases / case), "--store", str(store), "--fail-on",
                   "never", "--format", fmt] + list(extra)
            if repair:
                cmd += ["--repair", str(repair)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            return r, store

        # One database, several dumps.
        for case, dumps in (("league_incident", ["after.sql.gz", "before.sql.gz"]),
                            ("django_drift", ["full.sql.gz", "prod.dump", "schema.sql"])):
            r, _ = run(case, repair=tmp / f"{case}.sql")
            doc = json.loads(r.stdout)
            dbs = doc["databases"]
            c.check(len(dbs) == 1 and sorted(dbs[0]["dumps"]) == dumps
                    and dbs[0]["database"] is None,
                    f"{case}: one database of {dumps}: {dbs}")
            c.check(len(dbs) == 1 and "in common" in dbs[0]["grouped_by"],
                    f"{case}: grouped by what the dumps have in common")
            c.check(all(f["subject"]["database"] is None for f in doc["findings"]),
                    f"{case}: subject.database is null")
            text, _ = run(case, fmt="text")
            md, _ = run(case, fmt="md")
            c.check("Databases:" not in text.stdout and "## Databases" not in md.stdout,
                    f"{case}: text and Markdown say nothing of databases")
            script = (tmp / f"{case}.sql").read_text()
            c.check("\\connect" not in script and "\\if" not in script
                    and script.count("BEGIN;") == 1, f"{case}: one transaction, no \\connect")

        # pg_dumpall of three databases.
        r, store = run("cluster_dumpall", repair=tmp / "cluster.sql")
        doc = json.loads(r.stdout)
        names = sorted(d["database"] for d in doc["databases"])
        c.check(names == ["clean", "league", "shop"], f"cluster_dumpall: databases {names}")
        per = {}
        for f in doc["findings"]:
            per[f["subject"]["database"]] = per.get(f["subject"]["database"], 0) + 1
        c.check(set(per) == {"shop", "league"}, f"cluster_dumpall: findings per database {per}")
        again = subprocess.run([exe, "report", "--store", str(store), "--format", "json",
                                "--fail-on", "never"], capture_output=True, text=True)
        c.check(again.returncode == 0 and json.loads(again.stdout)["databases"] == doc["databases"],
                "cluster_dumpall: report --store gives the same databases")
        text, _ = run("cluster_dumpall", fmt="text")
        c.check("Databases: 3, each analysed on its own" in text.stdout,
                "cluster_dumpall: the text report lists the databases")
        c.check(re.search(r"etl\.orphaned-reference\s+\[league\] public\.", text.stdout)
                is not None and re.search(r"migration\.faked\s+\[shop\] ", text.stdout)
                is not None, "cluster_dumpall: text findings name their database")
        md, _ = run("cluster_dumpall", fmt="md")
        c.check("## Databases" in md.stdout and "| `shop` | `cluster.sql.gz` |" in md.stdout,
                "cluster_dumpall: the Markdown report has the databases table")
        script = (tmp / "cluster.sql").read_text()
        c.check("\\connect shop\nBEGIN;" in script and "\\connect league\nBEGIN;" in script
                and "\\connect clean" not in script and script.count("COMMIT;") == 2,
                "cluster_dumpall: \\connect and a transaction for each database to repair")
        for cause in doc["causes"]:
            c.check(re.match(r"database (shop|league): ", cause["summary"]) is not None,
                    f"cluster_dumpall: cause {cause['id']} names its database")

        # Two unrelated dumps.
        r, _ = run("unrelated_dumps", repair=tmp / "unrelated.sql")
        doc = json.loads(r.stdout)
        dbs = sorted((d["dumps"], d["database"]) for d in doc["databases"])
        c.check(dbs == [(["after.sql.gz"], None), (["before.sql.gz"], None)],
                f"unrelated_dumps: two unnamed databases: {dbs}")
        c.check(all("a database of its own" in d["grouped_by"] for d in doc["databases"]),
                "unrelated_dumps: each says it is a database of its own")
        script = (tmp / "unrelated.sql").read_text()
        c.check("\\if :{?repair_database_1}" in script and "\\if :{?repair_database_2}" in script
                and script.count("\\endif") == 2 and "\\connect" not in script,
                "unrelated_dumps: each part runs only under its psql variable")
        r, _ = run("unrelated_dumps", "--before", "before.sql.gz", "--after", "after.sql.gz")
        doc = json.loads(r.stdout)
        c.check(r.returncode == 0 and len(doc["databases"]) == 1
                and "--before / --after" in doc["databases"][0]["grouped_by"],
                "unrelated_dumps --before/--after: one database, as the user says")
        r, _ = run("unrelated_dumps", "--before", "nothing.sql.gz")
        c.check(r.returncode == 2 and "after.sql.gz, before.sql.gz" in r.stderr,
                "unrelated_dumps --before naming no dump: exit 2")

    if c.failures:
        print(f"{len(c.failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
