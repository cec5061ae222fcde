#!/usr/bin/env python3
"""The migration history as customers send it besides a django_migrations CSV, through the
command line, over the real outputs of fixtures/django_inputs (fixtures/generate/django/
inputs.sh: Django 3.2 and PostgreSQL 15's psql):

1. django_migrations printed by psql with `\\pset linestyle unicode`, `\\pset border 2` and
   both: `dbautopsy ingest` finds each to be a django_migrations export from its content
   (kind django-migrations-psql), status ok, no problem, and reads every row as
   expected_records.tsv gives it (id, app, name, applied as written under that export's
   TimeZone).
2. `manage.py showmigrations` in its default list form (`showmigrations`, and `showmigrations
   -v 2`) in place of a django_migrations export: a case of the database's pg_dump without
   django_migrations' rows (records/full.no_migration_rows.sql.gz), the showmigrations file
   and the project's migration files (those of fixtures/cases/django_drift, the same
   project). The apps were migrated interleaved (user_profile 0001-0005, teams 0001-0002,
   user_profile 0006-0007, teams 0003, teams 0001 depending on user_profile 0002), which the
   list form, grouped by app, does not show: `investigate` must give no
   migration.out-of-order, and with -v 2 every record's applied_at is the "(applied at ...)"
   time, django_migrations.applied in UTC to the second.

Usage: check_django_history_forms.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

failures = []


def fail(msg):
    failures.append(msg)


def expected_records(fixtures, form):
    rows = []
    lines = (fixtures / "django_inputs" / "expected_records.tsv").read_text().splitlines()
    for line in lines[1:]:
        cells = line.split("\t")
        if cells[0] == form:
            rows.append((int(cells[1]) if cells[1] else None, cells[2], cells[3], cells[4]))
    if len(rows) != 28:
        fail(f"fixture: expected_records.tsv has {len(rows)} rows of form {form}, not 28")
    return rows


def check_psql_forms(dbautopsy, fixtures, tmp):
    for form in ("psql_unicode", "psql_border2", "psql_unicode_border2"):
        path = fixtures / "django_inputs" / "records" / f"django_migrations.{form}.txt"
        store = tmp / f"{form}.db"
        run = subprocess.run([dbautopsy, "ingest", "--store", str(store), str(path)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            fail(f"ingest {path.name}: exit {run.returncode}: {run.stdout}{run.stderr}")
        db = sqlite3.connect(store)
        art = db.execute("SELECT id, kind, status, status_detail FROM artifact").fetchone()
        if art is None:
            fail(f"ingest {path.name}: no artifact")
            continue
        if art[1] != "django-migrations-psql" or art[2] != "ok":
            fail(f"{path.name}: kind {art[1]!r}, status {art[2]!r} ({art[3]}); expected a "
                 "django-migrations-psql export read in full")
        problems = db.execute("SELECT severity, code, line, message FROM problem").fetchall()
        for p in problems:
            fail(f"{path.name}: problem {p}")
        got = db.execute("SELECT CAST(record_id AS INTEGER), app, name, applied_at "
                         "FROM migration_record ORDER BY line").fetchall()
        db.close()
        want = expected_records(fixtures, form)
        if got != want:
            fail(f"{path.name}: {len(got)} records, expected the {len(want)} of "
                 f"expected_records.tsv; first difference: "
                 f"{next(((g, w) for g, w in zip(got, want) if g != w), None)}")


def check_showmigrations_case(dbautopsy, fixtures, tmp, name, with_times):
    inputs = fixtures / "django_inputs"
    case = tmp / f"case_{name}"
    case.mkdir()
    shutil.copy(inputs / "records" / "full.no_migration_rows.sql.gz", case)
    shutil.copy(inputs / "showmigrations" / name, case)
    shutil.copytree(fixtures / "cases" / "django_drift" / "migrations", case / "migrations")
    out, store = tmp / f"out_{name}", tmp / f"{name}.db"
    run = subprocess.run([dbautopsy, "investigate", str(case), "--out", str(out), "--store",
                          str(store), "-q"], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        fail(f"investigate with {name}: exit {run.returncode}: {run.stderr}")
        return
    report = json.loads((out / "report.json").read_text())
    for f in report["findings"]:
        if f["rule"] == "migration.out-of-order":
            fail(f"investigate with {name}: {f['rule']} {f['subject'].get('migration')}: "
                 f"{f['message']}")
    db = sqlite3.connect(store)
    kinds = dict(db.execute("SELECT path, kind FROM artifact").fetchall())
    records = db.execute(
        "SELECT r.app || '.' || r.name, r.applied_at, r.source FROM migration_record r").fetchall()
    db.close()
    if kinds.get(name) != "django-showmigrations":
        fail(f"investigate with {name}: read as {kinds.get(name)!r}, not django-showmigrations")
    # The dump holds no django_migrations rows: the 28 records are showmigrations' alone.
    if sorted(r[2] for r in records) != ["showmigrations"] * 28:
        fail(f"investigate with {name}: records {sorted(set(r[2] for r in records))} "
             f"({len(records)}), expected the 28 of showmigrations")
    if with_times:
        want = {f"{r[1]}.{r[2]}": r[3][:19] for r in expected_records(fixtures, "csv")}
        got = {r[0]: r[1] for r in records}
        if got != want:
            bad = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
            fail(f"investigate with {name}: applied_at of {len(bad)} records is not the "
                 f"'(applied at ...)' time, e.g. {bad[:3]}: "
                 f"{[(got.get(k), want.get(k)) for k in bad[:3]]}")
    elif any(r[1] is not None for r in records):
        fail(f"investigate with {name}: applied_at filled though the file gives no time")


def check_fixture_interleaves(fixtures):
    """The database's history interleaves apps (the ids), and the list form does not show it."""
    ids = {f"{app}.{name}": i for i, app, name, _ in expected_records(fixtures, "csv")}
    if not (ids["user_profile.0002_userprofile_public_id"] < ids["teams.0001_initial"] <
            ids["user_profile.0006_populate_public_id"]):
        fail("fixture: teams 0001 is not recorded between user_profile 0002 and 0006")
    dep = (fixtures / "cases" / "django_drift" / "migrations" / "teams" /
           "0001_initial.py").read_text()
    if "('user_profile', '0002_userprofile_public_id')" not in dep:
        fail("fixture: teams 0001 does not depend on user_profile 0002")
    text = (fixtures / "django_inputs" / "showmigrations" / "showmigrations.txt").read_text()
    if not text.index("\nteams\n") < text.index("\nuser_profile\n"):
        fail("fixture: showmigrations does not list teams before user_profile")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    args = ap.parse_args()
    check_fixture_interleaves(args.fixtures)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        check_psql_forms(args.dbautopsy, args.fixtures, tmp)
        check_showmigrations_case(args.dbautopsy, args.fixtures, tmp, "showmigrations.txt",
                                  False)
        check_showmigrations_case(args.dbautopsy, args.fixtures, tmp, "showmigrations.v2.txt",
                                  True)
    for f in failures[:60]:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("ok: psql's unicode and border 2 tables read in full; showmigrations' list form "
          "gives no out-of-order, and its -v 2 times")


if __name__ == "__main__":
    main()
