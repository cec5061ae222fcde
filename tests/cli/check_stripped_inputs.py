#!/usr/bin/env python3
"""A case whose dump or log a user edited before sending it says what the original case says.

fixtures/stripped_inputs/ (fixtures/generate/stripped_inputs.sh) holds real inputs of fixture
cases as users pass them on after an edit, each dump checked on PostgreSQL 15 to restore to
the database of the dump it was made from (forms.tsv lists them):

  - crlf: saved with Windows line ends. The server reads COPY's "\\r\\n" as the line end, so
    no value may keep a carriage return (before, the last column of every COPY row did:
    django_migrations.applied came out as "...+00\\r" in messages, and a row compared
    with the same row of a dump with Unix line ends differed);
  - cut_at_data: cut in two at the first "-- Data for Name" comment: the tables in one file,
    the data and then the keys, indexes and foreign keys in the other, without a header
    (before, those ALTER TABLE statements were "not applied" and every key, index and
    foreign key of the Django apps was reported missing);
  - nocomments_cut_at_copy: comment lines removed (`grep -v '^--'`) and cut at the first
    COPY, so that the second file starts with `COPY public.django_migrations (...) FROM
    stdin;` (before, it was read as a django_migrations CSV export whose header was that
    line, and failed);
  - cut_at_copy: cut at the first COPY, the first file ending with that table's "-- Data for
    Name" comment (before, the second file was of no kind, and the first one's comment made
    that table an empty one);
  - sections_data_with_post: pg_dump's own form of the same two parts, --section=pre-data and
    --section=data --section=post-data (before, as cut_at_copy);
  - sqlmigrate_bare: the `manage.py sqlmigrate` outputs without their comments and BEGIN; /
    COMMIT; (the migration files left out of both runs, so that they are the only word on what
    each migration does) (before, bare SQL starting with CREATE TABLE was read as a pg_dump
    script without its header: a snapshot of each migration's tables, and the drift checks
    skipped);
  - log_without_time: the ETL's Python log with the time cut off each line ('INFO league.etl:
    ...', as a container's log shows it when it keeps the time apart) (before, a file of no
    kind: the ETL failures it logs were lost).

Each form replaces its file in a copy of the case (forms.tsv's `drop` files, other copies of
the same dump, are left out of both runs): `investigate` must give the original's findings
(rule, severity, subject, cause, and the message where forms.tsv's `same` says `messages`: a
log without times cannot say when its entries were logged), read every file of the form as
forms.tsv's kind in full, and write no error or warning about it.

Usage: check_stripped_inputs.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def investigate(exe, case, work, keys):
    store = work / "facts.db"
    out = work / "report"
    r = subprocess.run([exe, "investigate", str(case), "--store", str(store), "--out", str(out)],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        return None, None, None, f"exit {r.returncode}: {r.stderr.strip()[-600:]}"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    findings = sorted(
        json.dumps({k: f.get(k) for k in keys}, sort_keys=True) for f in report["findings"])

    def query(sql):
        q = subprocess.run([exe, "query", "--store", str(store), "--format", "json", sql],
                           check=True, capture_output=True, text=True)
        return json.loads(q.stdout)

    artifacts = {a["path"]: (a["kind"], a["status"])
                 for a in query("SELECT path, kind, status FROM artifact")}
    problems = [(p["path"], f"{p['path']}: {p['severity']} {p['code']}: {p['message'][:200]}")
                for p in query("SELECT a.path, p.severity, p.code, p.message FROM problem p "
                               "JOIN artifact a ON a.id = p.artifact_id "
                               "WHERE p.severity IN ('error', 'warning')")]
    return findings, artifacts, problems, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    a = ap.parse_args()
    forms_dir = a.fixtures / "stripped_inputs"
    with open(forms_dir / "forms.tsv", newline="", encoding="utf-8") as f:
        forms = list(csv.DictReader(f, delimiter="\t"))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for form in forms:
            name = form["form"]
            drop = [d for d in form["drop"].split(",") if d]
            source = a.fixtures / "cases" / form["case"]
            original = tmp / f"{name}-original"
            shutil.copytree(source, original,
                            ignore=shutil.ignore_patterns(".dbautopsy", *drop))
            edited = tmp / f"{name}-edited"
            shutil.copytree(original, edited,
                            ignore=shutil.ignore_patterns(form["replaces"]))
            shutil.copytree(forms_dir / name, edited, dirs_exist_ok=True)
            added = sorted(p.relative_to(forms_dir / name).as_posix()
                           for p in (forms_dir / name).rglob("*") if p.is_file())
            (tmp / f"work-{name}-original").mkdir()
            (tmp / f"work-{name}-edited").mkdir()
            keys = ["rule", "severity", "subject", "cause"]
            if form["same"] == "messages":
                keys.append("message")
            want, _, _, err = investigate(a.dbautopsy, original, tmp / f"work-{name}-original",
                                          keys)
            if err or len(want) < 3:
                failures.append(f"{name}: the original case {form['case']}: "
                                f"{err or f'{len(want)} findings'}")
                continue
            got, artifacts, problems, err = investigate(a.dbautopsy, edited,
                                                        tmp / f"work-{name}-edited", keys)
            if err:
                failures.append(f"{name}: {err}")
                continue
            if got != want:
                lost = [f for f in want if f not in got]
                new = [f for f in got if f not in want]
                failures.append(f"{name}: findings differ ({len(lost)} lost, {len(new)} new); "
                                f"lost {[x[:300] for x in lost[:2]]}, new "
                                f"{[x[:300] for x in new[:2]]}")
            for p in added:
                if artifacts.get(p) != (form["kind"], "ok"):
                    failures.append(f"{name}: {p} read as {artifacts.get(p)}, not as "
                                    f"{form['kind']} in full")
            about = [text for path, text in problems if path in added]
            if about:
                failures.append(f"{name}: {len(about)} errors and warnings about its files, "
                                f"first {about[:2]}")
            print(f"{name} ({form['case']}, {', '.join(added)}): {len(got)} findings")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
