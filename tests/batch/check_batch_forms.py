#!/usr/bin/env python3
"""`dbautopsy batch` over cases handed over other ways than one folder per case.

  - archives among the case folders: a cases folder holding league.zip (the files of
    fixtures/cases/league_incident, packed here with Python's zipfile), drift.tar.gz (django_drift,
    with tarfile) and a folder clean/ (django_clean) is three cases, named league, drift and
    clean; each one's counts by rule are those of its fixture's expected.json; a second run
    runs none of them again, and a changed archive re-runs that case only (before, archives
    were passed over without a word: one case);
  - a case folder given as the cases folder (`batch django_drift --out X`, the files of the
    case at its top): one case, named after the folder, with the fixture's findings, and a
    notice on stderr that says so (before, its subfolders migrations/ and sqlmigrate/ were run
    as two cases and the dump, the records and the logs were left out).

Usage: check_batch_forms.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import collections
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path


def expected_rules(fixtures, name):
    exp = json.loads((fixtures / "cases" / name / "expected.json").read_text())
    return dict(collections.Counter(f["rule"] for f in exp["findings"]))


def case_files(src):
    return sorted(p for p in src.rglob("*")
                  if p.is_file() and ".dbautopsy" not in p.relative_to(src).parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    fixtures = Path(args.fixtures).resolve()
    failures = []

    def batch(cases, out):
        return subprocess.run([exe, "batch", str(cases), "--out", str(out)], capture_output=True,
                              text=True, timeout=1200)

    def index_of(out):
        return {c["name"]: c for c in json.loads((out / "index.json").read_text())["cases"]}

    def timings(out):
        t = json.loads((out / "timings.json").read_text())
        return {c["name"]: c["ran"] for c in t["cases"]}

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cases = tmp / "cases"
        cases.mkdir()
        src = fixtures / "cases/league_incident"
        with zipfile.ZipFile(cases / "league.zip", "w", zipfile.ZIP_DEFLATED) as z:
            for f in case_files(src):
                z.write(f, f.relative_to(src).as_posix())
        src = fixtures / "cases/django_drift"
        with tarfile.open(cases / "drift.tar.gz", "w:gz") as t:
            for f in case_files(src):
                t.add(f, f.relative_to(src).as_posix())
        shutil.copytree(fixtures / "cases/django_clean", cases / "clean",
                        ignore=shutil.ignore_patterns(".dbautopsy"))
        out = tmp / "out"
        r = batch(cases, out)
        if r.returncode not in (0, 1):
            failures.append(f"batch of archives: exit {r.returncode}: {r.stderr[-1500:]}")
        else:
            got = index_of(out)
            truth = {"league": "league_incident", "drift": "django_drift", "clean": "django_clean"}
            if sorted(got) != sorted(truth):
                failures.append(f"cases {sorted(got)}, want {sorted(truth)}")
            for name, fixture in truth.items():
                x = got.get(name)
                if x is None:
                    continue
                if x["status"] != "done" or x["rules"] != expected_rules(fixtures, fixture):
                    failures.append(f"{name}: status {x['status']}, rules {x['rules']}, "
                                    f"expected.json says {expected_rules(fixtures, fixture)}")
            r2 = batch(cases, out)
            ran = timings(out)
            if r2.returncode != r.returncode or any(ran.values()):
                failures.append(f"second run: exit {r2.returncode}, ran {ran} (none expected)")
            with zipfile.ZipFile(cases / "league.zip", "a") as z:
                z.writestr("notes.txt", "a note added after the first run\n")
            batch(cases, out)
            ran = timings(out)
            if ran != {"league": True, "drift": False, "clean": False}:
                failures.append(f"after league.zip changed, ran {ran}; only league expected")

        one = tmp / "drift"
        shutil.copytree(fixtures / "cases/django_drift", one,
                        ignore=shutil.ignore_patterns(".dbautopsy"))
        out = tmp / "out_one"
        r = batch(one, out)
        if r.returncode not in (0, 1):
            failures.append(f"batch of a case folder: exit {r.returncode}: {r.stderr[-1500:]}")
        else:
            got = index_of(out)
            want = expected_rules(fixtures, "django_drift")
            if list(got) != ["drift"] or got["drift"]["rules"] != want:
                failures.append(f"batch of a case folder: cases "
                                f"{ {k: v['rules'] for k, v in got.items()} }, want one, drift, "
                                f"with {want}")
            if "read as one case" not in r.stderr:
                failures.append(f"batch of a case folder: no notice on stderr: {r.stderr!r}")

    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
