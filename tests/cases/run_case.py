#!/usr/bin/env python3
"""Runs `dbautopsy investigate` over one fixture case and compares with its expected.json.

The findings must equal the expected ones exactly: rule and the subject keys (the nine of the
contract, and `database`: null, or missing in the expectation, for one database), nothing
missing and nothing extra (an extra finding fails as surely as a missing one). Where the
expectation gives metrics (data.duplicate-rows: rows, distinct_rows), they must match too;
where it names the finding another belongs with ("same_cause_as"), both are in one cause.
The case folder is not written: the fact store goes to a temporary folder. With
`--without NAME`, the case is investigated from a copy that lacks that file or folder (e.g.
`sqlmigrate`: the same findings must come from the migration .py files alone).
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


SUBJECT_KEYS = {"schema", "table", "column", "index", "constraint", "migration", "row_id",
                "value", "suggested_value", "database"}


def key(finding):
    # null subject values sort as "" so that keys compare; an expectation without the
    # `database` key (one database) means null
    subject = dict(finding["subject"])
    subject.setdefault("database", None)
    return (finding["rule"], tuple(sorted((k, v if v is not None else "")
                                          for k, v in subject.items())))


def show(k):
    rule, subject = k
    return rule + " " + ", ".join(f"{s}={v}" for s, v in subject if v != "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--case", required=True, help="the case folder")
    ap.add_argument("--without", action="append", default=[],
                    help="investigate a copy of the case without this file or folder")
    ap.add_argument("--whole-seconds", action="store_true",
                    help="investigate a copy whose django_migrations.csv gives whole seconds "
                         "(an export with to_char(applied, 'YYYY-MM-DD HH24:MI:SS')); the "
                         "expectation's \"whole_seconds\" says what the causes then say")
    args = ap.parse_args()
    case = Path(args.case)
    expected = json.loads((case / "expected.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        if args.without or args.whole_seconds:
            copy = Path(tmp) / case.name
            shutil.copytree(case, copy, ignore=shutil.ignore_patterns(".dbautopsy"))
            if args.whole_seconds:
                csv = copy / "django_migrations.csv"
                text = csv.read_text()
                stripped = re.sub(r"(\d{2}:\d{2}:\d{2})\.\d+", r"\1", text)
                if stripped == text:
                    sys.exit(f"{case.name}: django_migrations.csv has no fractions of a second")
                csv.write_text(stripped)
            for name in args.without:
                gone = copy / name
                if not gone.exists():
                    sys.exit(f"{case.name} has no {name}")
                shutil.rmtree(gone) if gone.is_dir() else gone.unlink()
            case = copy
        cmd = [args.dbautopsy, "investigate", str(case), "--store", str(Path(tmp) / "facts.db"),
               "--format", "json", "--fail-on", "never"]
        cmd += expected.get("options", [])
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stderr)
            sys.exit(f"dbautopsy exited with {run.returncode}")
        got = json.loads(run.stdout)

    failures = []
    for field in ("tool", "version", "inputs", "findings", "causes", "databases"):
        if field not in got:
            failures.append(f"the report has no '{field}'")
    expected_keys = {key(f): f for f in expected["findings"]}
    got_keys = {}
    for f in got["findings"]:
        if set(f["subject"]) != SUBJECT_KEYS:
            failures.append(f"{f['id']}: subject keys are {sorted(f['subject'])}")
        if not f.get("cause") or f["cause"] not in {c["id"] for c in got["causes"]}:
            failures.append(f"{f['id']}: not attached to a cause")
        if not f.get("evidence"):
            failures.append(f"{f['id']} {f['rule']}: no evidence")
        got_keys[key(f)] = f
    for k in sorted(set(expected_keys) - set(got_keys)):
        failures.append("missing: " + show(k))
    for k in sorted(set(got_keys) - set(expected_keys)):
        failures.append("extra:   " + show(k) + "  -- " + got_keys[k]["message"])
    for k in sorted(set(expected_keys) & set(got_keys)):
        want = expected_keys[k].get("metrics") or {}
        have = got_keys[k].get("metrics") or {}
        for m, v in want.items():
            if have.get(m) != v:
                failures.append(f"{show(k)}: metric {m} is {have.get(m)}, expected {v}")
    # A finding the generator knows to belong with another ("same_cause_as": a log's
    # missing-object errors and the drift finding that explains them, the backup loop and the
    # duplicated table it wrote) must be in that finding's cause.
    for k, want in expected_keys.items():
        other = want.get("same_cause_as")
        if not other or k not in got_keys:
            continue
        ok = key({"rule": other["rule"], "subject": {**{s: None for s in (
            "schema", "table", "column", "index", "constraint", "migration", "row_id", "value",
            "suggested_value")}, **other["subject"]}})
        if ok not in got_keys:
            failures.append(f"{show(k)}: the finding it goes with is not there: {show(ok)}")
        elif got_keys[ok]["cause"] != got_keys[k]["cause"]:
            failures.append(f"{show(k)}: in cause {got_keys[k]['cause']}, not in "
                            f"{got_keys[ok]['cause']} with {show(ok)}")
    # A case whose generator knows the whole fault is one story ("one_cause": a faked
    # migration and the faked repair of it) must get one cause whose narrative names every
    # object and migration of its findings.
    if expected.get("one_cause") and got["findings"]:
        causes = {f["cause"] for f in got["findings"]}
        if len(causes) != 1:
            failures.append(f"one cause expected, the findings are in {sorted(causes)}")
        else:
            cause = next(c for c in got["causes"] if c["id"] in causes)
            text = cause["summary"] + " " + cause.get("narrative", "")
            for f in got["findings"]:
                for k in ("column", "index", "constraint", "migration"):
                    v = f["subject"].get(k)
                    if v and v not in text:
                        failures.append(f"cause {cause['id']} does not name {k} {v}")
    # What the generator knows of the story that the causes must say ("cause_says": e.g. both
    # explanations of a column dropped by hand), and what they must not ("cause_never_says":
    # e.g. calling a normal deploy the mark of --fake): over every cause's summary and
    # narrative.
    said = " ".join(c["summary"] + " " + (c.get("narrative") or "") for c in got["causes"])
    story = expected.get("whole_seconds", {}) if args.whole_seconds else expected
    if args.whole_seconds and not story:
        failures.append("the expectation has no \"whole_seconds\"")
    for text in story.get("cause_says", []):
        if text not in said:
            failures.append(f"no cause says {text!r}")
    for text in story.get("cause_never_says", []):
        if text in said:
            failures.append(f"a cause says {text!r}, which it must not")
    # How the dumps were grouped into databases ("databases": the dumps of each, and its
    # name), when the expectation says.
    if "databases" in expected:
        want = sorted((d.get("database") or "", sorted(d["dumps"])) for d in expected["databases"])
        have = sorted((d.get("database") or "", sorted(d["dumps"])) for d in got["databases"])
        if want != have:
            failures.append(f"databases: {have}, expected {want}")
    print(f"{case.name}: {len(got['findings'])} findings in {len(got['causes'])} causes, "
          f"{len(expected['findings'])} expected")
    for f in failures:
        print("FAIL:", f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
