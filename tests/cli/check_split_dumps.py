#!/usr/bin/env python3
"""A data-only dump read with the columns its schema-only dump declares, however the two
are given, and read again without them once that dump is gone.

Over copies of fixtures/cases/league_split_dumps (real pg_dump --schema-only and --data-only
of one database; practice_times_backup holds a loop: 8,200 rows, 41 distinct without the id
a sequence gives, as the case's expected.json says, verified on the real database):

  - `ingest` of both in one run, in both orders, and in two runs (data first, then schema:
    the data-only dump of the earlier run is read again): the loop table's distinct rows
    leave out the id, which table_stats says is declared in the schema-only dump; the
    data-only dump's line says it was read again with that dump's columns;
  - `ingest` again: both unchanged, nothing read again, the same figures;
  - the paths written as ./x and absolute;
  - the undoing: `investigate` of the case folder finds data.duplicate-rows; a second run
    reads nothing again and finds it again; with the schema-only dump deleted from the
    folder, the data-only dump is read again without it (the id counts again: every row is
    distinct) and the finding is gone; with it put back, the finding is back;
  - a schema-only dump whose table has other columns than the COPY (a column added by a
    scripted edit of the copy) gives no columns: the rows are counted as they are;
  - two dumps declaring the table with other defaults (the id's nextval default removed from
    one copy by a scripted edit) are ambiguous: no columns are taken from either.

Usage: check_split_dumps.py --dbautopsy PATH --fixtures DIR
Exits 1 when a check fails, listing every failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CASE = "cases/league_split_dumps"
TABLE = "practice_times_backup"


class Checks:
    def __init__(self):
        self.failures = []
        self.current = ""

    def check(self, ok, what):
        if not ok:
            self.failures.append(f"{self.current}: {what}")
        return ok


def run(exe, *args, cwd=None):
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def stats(exe, store):
    r = run(exe, "query", "--store", str(store), "--format", "json",
            f"SELECT s.rows, s.distinct_rows, s.ignored_columns, a.path FROM table_stats s "
            f"JOIN artifact a ON a.id = s.artifact_id WHERE s.table_name = '{TABLE}' "
            f"AND a.path LIKE '%data%'")
    if r.returncode != 0:
        return None
    rows = json.loads(r.stdout)
    return rows[0] if len(rows) == 1 else rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    fixtures = Path(args.fixtures).resolve()
    expected = json.loads((fixtures / CASE / "expected.json").read_text())
    loop = [f for f in expected["findings"] if f["rule"] == "data.duplicate-rows"]
    assert len(loop) == 1
    rows, distinct = loop[0]["metrics"]["rows"], loop[0]["metrics"]["distinct_rows"]
    assert distinct < rows
    c = Checks()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        case = tmp / "case"
        shutil.copytree(fixtures / CASE, case)
        (case / "expected.json").unlink()

        def hinted(st, why):
            ok = c.check(isinstance(st, dict), f"{why}: table_stats of {TABLE}: {st}")
            if ok:
                c.check(st["rows"] == rows, f"{why}: rows {st['rows']}, expected {rows}")
                c.check(st["distinct_rows"] == distinct,
                        f"{why}: distinct rows {st['distinct_rows']}, expected {distinct} "
                        "(the id left out)")
                c.check("declared in" in (st["ignored_columns"] or "")
                        and "after-schema.sql" in st["ignored_columns"],
                        f"{why}: ignored_columns {st['ignored_columns']!r} does not say where the "
                        "id is declared")

        def unhinted(st, why):
            if c.check(isinstance(st, dict), f"{why}: table_stats of {TABLE}: {st}"):
                c.check(st["distinct_rows"] == rows,
                        f"{why}: distinct rows {st['distinct_rows']}, expected {rows} (nothing "
                        "left out)")

        for order in (("after-schema.sql", "after-data.sql"), ("after-data.sql", "after-schema.sql")):
            c.current = f"ingest {' '.join(order)}"
            store = tmp / f"one-run-{order[0]}.db"
            r = run(exe, "ingest", "--store", str(store), *order, cwd=case)
            c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
            listed = [l for l in r.stdout.splitlines() if l.startswith("  ")]
            data_line = [l for l in listed if "after-data.sql" in l]
            c.check(len(data_line) == 1 and "read again with the columns after-schema.sql" in data_line[0],
                    f"the data-only dump's line does not say it was read again: {data_line}")
            hinted(stats(exe, store), c.current)
            c.current += ", again"
            r = run(exe, "ingest", "--store", str(store), *order, cwd=case)
            lines = [l for l in r.stdout.splitlines() if l.startswith("  ") and "after-" in l]
            c.check(len(lines) == 2 and all(l.split()[0] == "unchanged" for l in lines),
                    f"not both unchanged: {lines}")
            hinted(stats(exe, store), c.current)

        c.current = "ingest after-data.sql, then ingest after-schema.sql"
        store = tmp / "two-runs.db"
        run(exe, "ingest", "--store", str(store), "after-data.sql", cwd=case)
        unhinted(stats(exe, store), c.current + " (data alone)")
        r = run(exe, "ingest", "--store", str(store), "after-schema.sql", cwd=case)
        c.check(any(l.startswith("  ") and "after-data.sql" in l and "read again" in l
                    for l in r.stdout.splitlines()),
                f"the earlier data-only dump is not listed as read again: {r.stdout}")
        hinted(stats(exe, store), c.current)

        for form in (("./after-schema.sql", "./after-data.sql"),
                     (str(case / "after-schema.sql"), str(case / "after-data.sql"))):
            c.current = f"ingest {' '.join(form)}"
            store = tmp / f"form-{len(form[0])}.db"
            r = run(exe, "ingest", "--store", str(store), *form, cwd=case)
            c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr}")
            st = stats(exe, store)
            if c.check(isinstance(st, dict), f"table_stats: {st}"):
                c.check(st["distinct_rows"] == distinct, f"distinct rows {st['distinct_rows']}")

        def findings(store):
            r = run(exe, "investigate", str(case), "--store", str(store), "--format", "json")
            c.check(r.returncode in (0, 1), f"investigate exit {r.returncode}: {r.stderr}")
            try:
                report = json.loads(r.stdout)
            except json.JSONDecodeError:
                c.check(False, f"no JSON report: {r.stdout[:200]}")
                return []
            return [f for f in report["findings"]
                    if f["rule"] == "data.duplicate-rows" and f["subject"]["table"] == TABLE]

        # before.sql.gz declares the loop table with the same columns too: the undoing is
        # tried on a folder holding only the pair (and the logs).
        (case / "before.sql.gz").unlink()
        store = tmp / "investigate.db"
        c.current = "investigate"
        c.check(len(findings(store)) == 1, "no data.duplicate-rows on the loop table")
        hinted(stats(exe, store), c.current)
        c.current = "investigate, second run"
        c.check(len(findings(store)) == 1, "no data.duplicate-rows on the loop table")
        hinted(stats(exe, store), c.current)
        c.current = "investigate, after-schema.sql deleted"
        kept = tmp / "after-schema.sql"
        shutil.move(str(case / "after-schema.sql"), kept)
        c.check(findings(store) == [], "data.duplicate-rows without the schema-only dump")
        unhinted(stats(exe, store), c.current)
        c.current = "investigate, after-schema.sql back"
        shutil.copy(kept, case / "after-schema.sql")
        c.check(len(findings(store)) == 1, "no data.duplicate-rows on the loop table")
        hinted(stats(exe, store), c.current)

        # The schema-only dump with a column the COPY does not have.
        schema = (case / "after-schema.sql").read_text()
        anchor = f"CREATE TABLE public.{TABLE} (\n"
        assert anchor in schema
        other = tmp / "other"
        other.mkdir()
        shutil.copy(case / "after-data.sql", other / "after-data.sql")
        (other / "after-schema.sql").write_text(schema.replace(anchor, anchor + "    extra text,\n"))
        c.current = "a schema-only dump with another column list"
        store = tmp / "other.db"
        run(exe, "ingest", "--store", str(store), "after-schema.sql", "after-data.sql", cwd=other)
        unhinted(stats(exe, store), c.current)

        # Two schema-only dumps that disagree on the id's default.
        lines = schema.splitlines(keepends=True)
        default = [l for l in lines if l.startswith(f"ALTER TABLE ONLY public.{TABLE} ALTER COLUMN id SET DEFAULT")]
        assert len(default) == 1, default
        (other / "after-schema.sql").write_text(schema)
        (other / "other-schema.sql").write_text(schema.replace(default[0], ""))
        c.current = "two schema-only dumps that disagree"
        store = tmp / "disagree.db"
        run(exe, "ingest", "--store", str(store), "after-schema.sql", "other-schema.sql",
            "after-data.sql", cwd=other)
        unhinted(stats(exe, store), c.current)

    for f in c.failures:
        print(f"FAIL: {f}")
    print(f"check_split_dumps: {len(c.failures)} failures")
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
