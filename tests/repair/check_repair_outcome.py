#!/usr/bin/python3
"""What a case's repair must and must not do, as its generator knows it.

    check_repair_outcome.py --dbautopsy BIN --case DIR [--without NAME] [--root ROOT --port N]

The case's expected.json holds a "repair_outcome" (written by the generator from the real
databases, e.g. fixtures/generate/partial_index.sh, fixtures/generate/unrecorded_run.sh):

  findings      for a finding (rule, and subject keys that must match): the text its
                `repair` must contain ("repair_contains") and must not ("repair_lacks"), what
                its message must contain ("message_contains"), and the places one of its
                evidence entries must name ("evidence_one_of": artifact and line; several when
                the case may be read without some of its files)
  script_never  regular expressions no uncommented line of the --repair script may match
                (what must not be re-created)
  after_repair  with --port: the case's current dump is restored into a real PostgreSQL 15,
                the --repair script runs with ON_ERROR_STOP, then each query must print
                exactly "expect" (an index's definition as on the reference database, an
                object still absent)

`--without NAME` investigates a copy of the case lacking that file or folder (sqlmigrate:
the migration .py files alone). Exit status: 0 pass, 1 fail, 77 no PostgreSQL server (with
--port) and neither $CI nor $DBAUTOPSY_REQUIRE_ALL set.
"""
import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from locate import required  # noqa: E402
from pgcluster import Cluster, find_bindir  # noqa: E402

SKIP = 77


def matches(finding, check):
    return finding["rule"] == check["rule"] and all(
        finding["subject"].get(k) == v for k, v in check["subject"].items())


def check_findings(got, checks):
    problems = []
    for check in checks:
        label = check["rule"] + " " + " ".join(f"{k}={v}" for k, v in check["subject"].items())
        found = [f for f in got["findings"] if matches(f, check)]
        if len(found) != 1:
            problems.append(f"{label}: {len(found)} findings match, expected 1")
            continue
        f = found[0]
        repair = f.get("repair") or ""
        for text in check.get("repair_contains", []):
            if text not in repair:
                problems.append(f"{label}: its repair lacks {text!r}:\n{repair}")
        for text in check.get("repair_lacks", []):
            if text in repair:
                problems.append(f"{label}: its repair has {text!r}:\n{repair}")
        for text in check.get("message_contains", []):
            if text not in f["message"]:
                problems.append(f"{label}: its message lacks {text!r}: {f['message']}")
        places = check.get("evidence_one_of")
        if places and not any(e.get("artifact") == p["artifact"] and e.get("line") == p["line"]
                              for e in f.get("evidence", []) for p in places):
            problems.append(f"{label}: no evidence at any of "
                            f"{[p['artifact'] + ':' + str(p['line']) for p in places]}: "
                            f"{[(e.get('artifact'), e.get('line')) for e in f.get('evidence', [])]}")
    return problems


def check_script(script, patterns):
    problems = []
    for n, line in enumerate(script.splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("--"):
            continue
        for p in patterns:
            if re.search(p, text):
                problems.append(f"repair script line {n} matches {p!r}: {text}")
    return problems


def run_repair(args, case, store, repair, after):
    bindir = find_bindir()
    if bindir is None:
        print("repair outcome: no PostgreSQL server binaries")
        return None
    with sqlite3.connect(store) as db:
        row = db.execute("SELECT a.path FROM snapshot s JOIN artifact a ON a.id = "
                         "coalesce(s.data_artifact_id, s.artifact_id) "
                         "WHERE s.role = 'current'").fetchone()
    if not row:
        return ["no current snapshot"]
    scratch = Path(tempfile.mkdtemp(prefix="dbautopsy-repair-outcome-"))
    os.chmod(scratch, 0o755)
    cluster = Cluster(Path(args.root) / "fixtures" / "generate" / "lib" / "pg_cluster.sh",
                      bindir, scratch, args.port, "outcome")
    problems = []
    try:
        cluster.start()
        cluster.sql("postgres", "CREATE DATABASE repaired TEMPLATE template0")
        plain = scratch / "current.sql"
        with open(plain, "wb") as out:
            subprocess.run(["bash", "-c", 'zcat -f "$1"', "_", str(case / row[0])], stdout=out,
                           check=True)
        r = subprocess.run(cluster.psql_args("repaired") + ["-q", "-f", str(plain)],
                           capture_output=True, text=True)
        if "ERROR" in r.stderr:
            return [f"restoring {row[0]} failed:\n{r.stderr[:2000]}"]
        shutil.copy(repair, scratch / "repair.sql")
        r = subprocess.run(cluster.psql_args("repaired") + ["-v", "ON_ERROR_STOP=1", "-q", "-f",
                                                            str(scratch / "repair.sql")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"the repair script failed:\n{r.stderr}")
        for q in after:
            have = cluster.sql("repaired", q["sql"]).strip()
            if have != q["expect"]:
                problems.append(f"after the repair, {q['sql']}\n    gives {have!r}\n    "
                                f"expected {q['expect']!r}")
        print(f"after the repair: {len(after)} queries checked")
    finally:
        cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("--without", action="append", default=[])
    ap.add_argument("--root", help="the source tree (for fixtures/generate/lib/pg_cluster.sh)")
    ap.add_argument("--port", type=int, help="run the repair on a throwaway cluster there")
    args = ap.parse_args()
    case = Path(args.case)
    outcome = json.loads((case / "expected.json").read_text())["repair_outcome"]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as tmp:
        if args.without:
            copy = Path(tmp) / case.name
            shutil.copytree(case, copy, ignore=shutil.ignore_patterns(".dbautopsy"))
            for name in args.without:
                gone = copy / name
                if not gone.exists():
                    sys.exit(f"{case.name} has no {name}")
                shutil.rmtree(gone) if gone.is_dir() else gone.unlink()
            case = copy
        store, repair = Path(tmp) / "facts.db", Path(tmp) / "repair.sql"
        run = subprocess.run([args.dbautopsy, "investigate", str(case), "--store", str(store),
                              "--format", "json", "--fail-on", "never", "--repair", str(repair)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stderr)
            sys.exit(f"dbautopsy exited with {run.returncode}")
        got = json.loads(run.stdout)
        problems = check_findings(got, outcome.get("findings", []))
        problems += check_script(repair.read_text(), outcome.get("script_never", []))
        print(f"{case.name}: {len(outcome.get('findings', []))} findings' repairs, "
              f"{len(outcome.get('script_never', []))} patterns over the repair script")
        if args.port and outcome.get("after_repair"):
            if not args.root:
                sys.exit("--port needs --root")
            more = run_repair(args, case, store, repair, outcome["after_repair"])
            if more is None:
                if required():
                    problems.append("no PostgreSQL server, and $CI or $DBAUTOPSY_REQUIRE_ALL "
                                    "is set")
                elif not problems:
                    return SKIP
            else:
                problems += more
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
