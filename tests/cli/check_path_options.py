#!/usr/bin/env python3
"""--store and --rules-dir however a user writes them.

`investigate DIR` keeps its fact store in DIR/.dbautopsy/facts.db. Over a copy of
fixtures/cases/league_incident investigated so, `report`, `query`, `analyze` and `timeline`
must read that store whether --store names the file, the case folder or its .dbautopsy
folder, relative (plain, ./, with a trailing slash, through ..) or absolute, or through a
symbolic link to the case folder: the same findings, the same answer, the same timeline as
with the file itself. Before, only `timeline` took the case folder, and the others stopped
with "cannot open fact store DIR: disk I/O error".

A folder that holds no store is an error naming the store it looked for.

After `investigate case.zip` (the same case zipped) and `investigate ks.dir` (a pg_dump
directory archive alone), whose stores are .dbautopsy/case.zip.facts.db and
.dbautopsy/ks.dir.facts.db beside them, --store names that one file the same ways (plain, ./,
absolute, ../, through a link to it, ks.dir/) for report, query, analyze (with --before
naming a member by its path in the archive) and timeline; an SQLite file given as --store is
still that store.

--rules-dir DIR reads every .sql rule in DIR and its subfolders: a rule kept as the built-in
ones are (DIR/<family>/<name>.sql) must find what it finds at DIR's top, through DIR, DIR/,
./DIR and the absolute path; before, the rules of subfolders were passed over without a word.
A folder with no rule at all is an error naming it.

Usage: check_path_options.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


def run(exe, *args, cwd):
    return subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True)


def findings(out):
    return sorted((f["rule"], json.dumps(f["subject"], sort_keys=True))
                  for f in json.loads(out)["findings"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        case = work / "case"
        shutil.copytree(Path(args.fixtures) / "cases" / "league_incident", case)
        os.symlink("case", work / "link")
        (work / "sub").mkdir()
        (work / "empty").mkdir()
        r = run(exe, "investigate", "--fail-on", "never", "-f", "json", "case", cwd=work)
        if r.returncode != 0:
            print(f"FAIL: investigate: exit {r.returncode}: {r.stderr}")
            return 1
        want = findings(r.stdout)
        store = "case/.dbautopsy/facts.db"
        sql = "SELECT kind, count(*) FROM artifact GROUP BY kind ORDER BY kind"
        want_query = run(exe, "query", "--store", store, "--format", "json", sql, cwd=work).stdout
        want_timeline = run(exe, "timeline", "--store", store, "--kind", "dump", cwd=work).stdout
        if not want or not json.loads(want_query) or "dump" not in want_timeline:
            print("FAIL: the store of the case gives no findings, inputs or dumps")
            return 1
        forms = [("case", work), ("case/", work), ("./case", work), ("case/.dbautopsy", work),
                 ("case/.dbautopsy/", work), (str(case), work), (str(case / ".dbautopsy"), work),
                 ("../case", work / "sub"), ("link", work), ("link/", work)]
        for form, cwd in forms:
            what = f"--store {form} (in {cwd.relative_to(work.parent)})"
            r = run(exe, "report", "--store", form, "-f", "json", "--fail-on", "never", cwd=cwd)
            if r.returncode != 0:
                failures.append(f"report {what}: exit {r.returncode}: {r.stderr.strip()}")
            elif findings(r.stdout) != want:
                failures.append(f"report {what}: other findings")
            r = run(exe, "query", "--store", form, "--format", "json", sql, cwd=cwd)
            if r.returncode != 0 or r.stdout != want_query:
                failures.append(f"query {what}: exit {r.returncode}: {r.stderr.strip()}"
                                f"{'' if r.returncode else ' other answer'}")
            r = run(exe, "timeline", "--store", form, "--kind", "dump", cwd=cwd)
            if r.returncode != 0 or r.stdout != want_timeline:
                failures.append(f"timeline {what}: exit {r.returncode}: {r.stderr.strip()}")
        # analyze writes the store again; then report must still give the same findings.
        r = run(exe, "analyze", "--store", "case", cwd=work)
        if r.returncode != 0:
            failures.append(f"analyze --store case: exit {r.returncode}: {r.stderr.strip()}")
        else:
            r = run(exe, "report", "--store", store, "-f", "json", "--fail-on", "never", cwd=work)
            if findings(r.stdout) != want:
                failures.append("analyze --store case: other findings afterwards")
        # A folder without a store: an error that names the store looked for, no new store.
        for command in (["report"], ["query", "--format", "json", "SELECT 1"], ["analyze"]):
            r = run(exe, command[0], "--store", "empty", *command[1:], cwd=work)
            if r.returncode == 0 or "empty/.dbautopsy/facts.db" not in r.stderr:
                failures.append(f"{command[0]} --store empty: exit {r.returncode}, "
                                f"stderr {r.stderr.strip()!r}: the store looked for is not named")
            if (work / "empty" / ".dbautopsy").exists():
                failures.append(f"{command[0]} --store empty: made a store")
                shutil.rmtree(work / "empty" / ".dbautopsy")
        # The one file `investigate FILE` was given stands for its store.
        with zipfile.ZipFile(work / "case.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(case.iterdir()):
                if f.is_file() and "expected" not in f.name:
                    z.write(f, f.name)
        os.symlink("case.zip", work / "link.zip")
        r = run(exe, "investigate", "--fail-on", "never", "-f", "json", "case.zip", cwd=work)
        zipped = r.stdout.replace("case.zip/", "")
        if r.returncode != 0 or findings(zipped) != want:
            failures.append(f"investigate case.zip: exit {r.returncode}: {r.stderr.strip()}")
        zip_query = "SELECT kind, count(*) FROM artifact GROUP BY kind ORDER BY kind"
        want_zip_query = run(exe, "query", "--store", ".dbautopsy/case.zip.facts.db", "--format",
                             "json", zip_query, cwd=work).stdout
        zip_forms = [("case.zip", work), ("./case.zip", work), (str(work / "case.zip"), work),
                     ("../case.zip", work / "sub"), ("link.zip", work)]
        for form, cwd in zip_forms:
            what = f"--store {form} (in {cwd.relative_to(work.parent)}) after investigate case.zip"
            r = run(exe, "report", "--store", form, "-f", "json", "--fail-on", "never", cwd=cwd)
            if r.returncode != 0 or findings(r.stdout.replace("case.zip/", "")) != want:
                failures.append(f"report {what}: exit {r.returncode}: {r.stderr.strip()}")
            r = run(exe, "query", "--store", form, "--format", "json", zip_query, cwd=cwd)
            if r.returncode != 0 or r.stdout != want_zip_query or "bundle" not in r.stdout:
                failures.append(f"query {what}: exit {r.returncode}: {r.stderr.strip()}")
            r = run(exe, "timeline", "--store", form, "--kind", "dump", cwd=cwd)
            if r.returncode != 0 or "case.zip/before.sql.gz" not in r.stdout:
                failures.append(f"timeline {what}: exit {r.returncode}: {r.stderr.strip()}")
        r = run(exe, "analyze", "--store", "case.zip", "--before", "before.sql.gz", "--after",
                "after.sql.gz", cwd=work)
        if r.returncode != 0:
            failures.append(f"analyze --store case.zip --before <member>: exit {r.returncode}: "
                            f"{r.stderr.strip()}")
        shutil.copytree(Path(args.fixtures) / "pgdump" / "kitchen_sink.dir", work / "ks.dir")
        r = run(exe, "investigate", "--fail-on", "never", "ks.dir/", cwd=work)
        for form in ("ks.dir", "ks.dir/", "./ks.dir"):
            r = run(exe, "query", "--store", form, "--format", "csv",
                    "SELECT kind FROM artifact", cwd=work)
            if r.returncode != 0 or r.stdout.split() != ["kind", "pgdump-dir"]:
                failures.append(f"query --store {form} after investigate ks.dir/: exit "
                                f"{r.returncode}: {r.stdout.strip()} {r.stderr.strip()}")
        # A store file given as itself is still that store.
        r = run(exe, "query", "--store", ".dbautopsy/case.zip.facts.db", "--format", "json",
                zip_query, cwd=work)
        if r.returncode != 0 or r.stdout != want_zip_query:
            failures.append("query --store .dbautopsy/case.zip.facts.db: not that store")
        forms += zip_forms
        # --rules-dir: one rule that finds the teams table, at the top or in a family folder.
        rule = ("-- id: local.teams-seen\n-- severity: info\n-- title: teams is there\n"
                "-- rationale: a test rule\n-- remedy: none\n"
                "SELECT t.schema_name AS schema, t.name AS \"table\", 'teams is there' AS message"
                "\n  FROM current_table t WHERE t.name = 'teams'\n")
        (work / "top").mkdir()
        (work / "top" / "teams-seen.sql").write_text(rule)
        (work / "family" / "local").mkdir(parents=True)
        (work / "family" / "local" / "teams-seen.sql").write_text(rule)
        for form in ["top", "family", "family/", "./family", str(work / "family")]:
            r = run(exe, "analyze", "--store", store, "--rules-dir", form, cwd=work)
            if r.returncode != 0:
                failures.append(f"analyze --rules-dir {form}: exit {r.returncode}: "
                                f"{r.stderr.strip()}")
                continue
            r = run(exe, "report", "--store", store, "-f", "json", "--fail-on", "never", cwd=work)
            got = [f for f in json.loads(r.stdout)["findings"] if f["rule"] == "local.teams-seen"]
            if len(got) != 1:
                failures.append(f"--rules-dir {form}: {len(got)} findings of its rule, not 1")
        r = run(exe, "analyze", "--store", store, "--rules-dir", "empty", cwd=work)
        if r.returncode == 0 or "empty" not in r.stderr:
            failures.append(f"--rules-dir empty: exit {r.returncode}, stderr {r.stderr.strip()!r}:"
                            " a folder without rules must be an error naming it")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print(f"ok: {len(forms)} forms of --store give the case's store (a folder's or one file's) "
          "to report, query and timeline; analyze takes the case folder; a folder without a store is named; "
          "--rules-dir reads rules in subfolders, and a folder without rules is an error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
