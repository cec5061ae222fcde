#!/usr/bin/env python3
"""--option RULE.NAME=VALUE however a user writes it, and `explain RULE`, --format, --fail-on,
--kind and --as likewise.

Over fixtures/cases/django_drift (one hand-made table public.profile_export_tmp, reported as
drift.unexplained-table; one migration file never applied, user_profile.0021_userprofile_timezone,
reported as migration.pending), analysed once per form with `analyze --option`:
  - every form of a table name below must allow the table (no finding) and no note may say it
    matched nothing: as stored, schema-qualified, in another case (PostgreSQL folds unquoted
    names), in double quotes, as a glob (with a bracket range in upper case), in a list with
    spaces, the option's and the rule's names in another case or with `_` for `-`, the rule as
    the path of its file, spaces around `=`;
  - every form of a migration (app.name, the name's unique prefix as `manage.py migrate` takes
    it, the app alone, app:name, `app name`, the file's path, with `.py`, a list) must allow it;
  - a name that matches nothing keeps its finding and is said in a note (before, such a value
    was silently without effect: `ALLOW=`, `allow =x`, `x, y` all allowed nothing);
  - a misspelt option, an option of a rule that has none, a prefix two migrations share, a
    number that is not one (`2,5`, `abc`, `1.5` for a count) are usage errors (exit 2) that say
    what was expected; numbers are stored as numbers (`1e3` is 1000), the last of two holds.

Usage: check_rule_options.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TABLE = "profile_export_tmp"
ALLOW_TABLE = [
    ("drift.unexplained-table.allow", "profile_export_tmp"),
    ("drift.unexplained-table.allow", "public.profile_export_tmp"),
    ("drift.unexplained-table.allow", "PROFILE_EXPORT_TMP"),
    ("drift.unexplained-table.allow", "Public.Profile_Export_Tmp"),
    ("drift.unexplained-table.allow", '"profile_export_tmp"'),
    ("drift.unexplained-table.allow", '"public"."profile_export_tmp"'),
    ("drift.unexplained-table.allow", "PROFILE_[D-F]*"),
    ("drift.unexplained-table.allow", "profile_*, spatial_ref_sys"),
    ("drift.unexplained-table.allow", "spatial_ref_sys profile_export_tmp"),
    ("drift.unexplained-table.allow", " profile_export_tmp "),
    ("drift.unexplained-table.ALLOW", "profile_export_tmp"),
    ("Drift.Unexplained_Table.allow", "profile_export_tmp"),
    ("drift/unexplained-table.allow", "profile_export_tmp"),
    ("drift.unexplained-table.allow ", "profile_export_tmp"),
]
# (value, table finding expected, note expected)
KEEP_TABLE = [
    ('"PROFILE_EXPORT_TMP"', True),  # quoted: that name exactly, and none has it
    ("nothing_like_it", True),
    ("test_schema.*", False),  # matches tables, not this one: no note
]
MIGRATION = "user_profile.0021_userprofile_timezone"
ALLOW_MIGRATION = [
    "user_profile.0021_userprofile_timezone", "user_profile.0021", "user_profile",
    "user_profile:0021", "user_profile 0021", "user_profile/migrations/0021_userprofile_timezone.py",
    "user_profile.0021_userprofile_timezone.py", "USER_PROFILE.0021", "user_profile.*_timezone",
    "teams.0001, user_profile.0021", "teams.0001 user_profile.0021",
]
ERRORS = [
    ("drift.unexplained-table.alow=x", "has no option alow"),
    ("drift.column-missing.allow=x", "takes no options"),
    ("drift.nothing.allow=x", "no rule drift.nothing"),
    ("migration.pending.allow=user_profile.002", "more than one migration of user_profile"),
    ("data.duplicate-rows.min_ratio=2,5", "a decimal point, not a comma"),
    ("data.duplicate-rows.min_ratio=abc", "expected a number"),
    ("data.duplicate-rows.min_excess=1.5", "expected a whole number"),
    ("drift.unexplained-table.allow=", "no value"),
]
EXPLAIN = ["drift.column-missing", "DRIFT.COLUMN-MISSING", "drift/column-missing.sql",
           "rules/drift/column-missing.sql", "column-missing", "drift.column_missing"]


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
        shutil.copytree(Path(args.fixtures) / "cases/django_drift", case,
                        ignore=shutil.ignore_patterns(".dbautopsy"))
        store = tmp / "facts.db"
        r = subprocess.run([exe, "investigate", str(case), "--store", str(store), "-q",
                            "--format", "json"], capture_output=True, text=True, timeout=600)
        if r.returncode not in (0, 1):
            print(f"investigate: exit {r.returncode}: {r.stderr}")
            return 1

        def analyse(*options):
            cmd = [exe, "analyze", "--store", str(store)]
            for o in options:
                cmd += ["--option", o]
            a = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            if a.returncode != 0:
                return None, a
            rep = subprocess.run([exe, "report", "--store", str(store), "--format", "json"],
                                 capture_output=True, text=True, timeout=600)
            return json.loads(rep.stdout), a

        def count(report, rule, key, value):
            return sum(1 for f in report["findings"]
                       if f["rule"] == rule and f["subject"][key] == value)

        base, _ = analyse()
        if count(base, "drift.unexplained-table", "table", TABLE) != 1 or \
                count(base, "migration.pending", "migration", MIGRATION) != 1:
            print("the fixture no longer reports the table and the migration this test needs")
            return 1

        for key, value in ALLOW_TABLE:
            rep, a = analyse(f"{key}={value}")
            if rep is None:
                failures.append(f"{key}={value}: exit {a.returncode}: {a.stderr.strip()}")
                continue
            if count(rep, "drift.unexplained-table", "table", TABLE):
                failures.append(f"{key}={value}: {TABLE} still reported")
            notes = [n for n in a.stdout.splitlines() if "names no" in n]
            if any("profile" in n.lower() for n in notes):
                failures.append(f"{key}={value}: a note says it matched nothing: {notes}")
            if ("spatial_ref_sys" in value) != bool(notes):
                failures.append(f"{key}={value}: spatial_ref_sys, which no table has, must be "
                                f"the one note: {notes}")
        for value, note in KEEP_TABLE:
            rep, a = analyse(f"drift.unexplained-table.allow={value}")
            if rep is None or count(rep, "drift.unexplained-table", "table", TABLE) != 1:
                failures.append(f"allow={value}: {TABLE} must stay reported")
            if note != ("names no table" in (a.stdout if a else "")):
                failures.append(f"allow={value}: note expected {note}: {a.stdout if a else ''}")

        for value in ALLOW_MIGRATION:
            rep, a = analyse(f"migration.pending.allow={value}")
            if rep is None:
                failures.append(f"pending.allow={value}: exit {a.returncode}: {a.stderr.strip()}")
                continue
            if count(rep, "migration.pending", "migration", MIGRATION):
                failures.append(f"pending.allow={value}: {MIGRATION} still reported")
            if "names no" in a.stdout:
                failures.append(f"pending.allow={value}: note: {a.stdout}")
        rep, a = analyse("migration.pending.allow=user_profile.0099")
        if rep is None or count(rep, "migration.pending", "migration", MIGRATION) != 1 or \
                "`user_profile.0099` names no migration file" not in a.stdout:
            failures.append(f"pending.allow=user_profile.0099: finding kept and a note expected: "
                            f"{a.stdout if a else ''}")

        for option, said in ERRORS:
            rep, a = analyse(option)
            if rep is not None or a.returncode != 2 or said not in a.stderr:
                failures.append(f"{option}: expected exit 2 saying `{said}`, got exit "
                                f"{a.returncode}: {a.stderr.strip()}")

        # numbers: stored as numbers, the last of two holds
        rep, a = analyse("data.duplicate-rows.min_excess=1e3", "data.duplicate-rows.min-ratio= 2.5 ",
                         "data.duplicate-rows.min_ratio=3")
        q = subprocess.run([exe, "query", "--store", str(store), "--format", "json",
                            "SELECT rule, name, value FROM rule_option ORDER BY name"],
                           capture_output=True, text=True, timeout=600)
        rows = [tuple(r.values()) if isinstance(r, dict) else tuple(r)
                for r in json.loads(q.stdout or "[]")]
        want = [("data.duplicate-rows", "min_excess", "1000"), ("data.duplicate-rows", "min_ratio", "3")]
        if rows != want:
            failures.append(f"number options stored as {rows}, expected {want}")

        for written in EXPLAIN:
            e = subprocess.run([exe, "explain", written], capture_output=True, text=True, timeout=60)
            if e.returncode != 0 or not e.stdout.startswith("drift.column-missing  (error)"):
                failures.append(f"explain {written}: exit {e.returncode}: {e.stderr.strip()}")

        # options that take one of a few words: any case, `_` for `-`, the usual other names
        for opts, want_exit in [(["--format", "JSON"], None), (["--format", "markdown"], None),
                                (["--format", "Txt"], None), (["--format", "htm"], None),
                                (["--fail-on", "ERROR"], 1), (["--fail-on", "warn"], 1),
                                (["--fail-on", "none"], 0), (["--fail-on", "NEVER"], 0)]:
            rep = subprocess.run([exe, "report", "--store", str(store), *opts],
                                 capture_output=True, text=True, timeout=600)
            if rep.returncode == 2 or (want_exit is not None and rep.returncode != want_exit):
                failures.append(f"report {' '.join(opts)}: exit {rep.returncode}: "
                                f"{rep.stderr.strip()}")
        rep = subprocess.run([exe, "report", "--store", str(store), "--format", "pdf"],
                             capture_output=True, text=True, timeout=600)
        if rep.returncode != 2 or "use text, json, md, html, sql or sarif" not in rep.stderr:
            failures.append(f"--format pdf: a usage error listing the formats expected, got "
                            f"exit {rep.returncode}: {rep.stderr.strip()}")
        for cmd in (["timeline", "--kind", "Migrations", "--format", "CSV"],
                    ["query", "--format", "JSON", "SELECT 1 AS one"]):
            q = subprocess.run([exe, cmd[0], "--store", str(store), *cmd[1:]],
                               capture_output=True, text=True, timeout=600)
            if q.returncode != 0:
                failures.append(f"{' '.join(cmd)}: exit {q.returncode}: {q.stderr.strip()}")
        one = tmp / "one.db"
        q = subprocess.run([exe, "ingest", "--store", str(one), "--as", "PGDUMP_SQL",
                            str(case / "schema.sql")], capture_output=True, text=True, timeout=600)
        if q.returncode != 0 or "pgdump-sql" not in q.stdout:
            failures.append(f"ingest --as PGDUMP_SQL: exit {q.returncode}: {q.stderr.strip()}")

    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
