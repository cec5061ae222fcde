#!/usr/bin/python3
"""The repair scripts dbautopsy writes, run for real against PostgreSQL 15.

dbautopsy never runs a repair; this test does, on a throwaway cluster, so that what the
README promises of them is checked rather than believed. For each case:

  1. `dbautopsy investigate CASE --repair R.sql` writes the repair script;
  2. the case's current dump (the snapshot dbautopsy judged) is restored into a fresh
     database, and R.sql is run with ON_ERROR_STOP: every statement must succeed;
  3. each `UPDATE ...; -- expect N rows` must report UPDATE N, and every check query
     (`SELECT count(*) ...; -- expect N`) must return N;
  4. R.sql is run a second time: it must succeed again and change nothing (every UPDATE
     touches 0 rows) -- the scripts are promised to be safe to run twice;
  5. verify.sql (from --out) returns one row per active check before the repair and none
     after it (but for repairs that declined, below);
  6. the repaired database is dumped with the real pg_dump and investigated again with the
     case's other artifacts (migrations, django_migrations export, ...): every finding
     whose repair was SQL must be gone, no new finding may appear, and a de-duplicated copy
     of a looping table must hold exactly the distinct rows dbautopsy counted.

Findings whose repair is advice only (comments: a table nobody owns, a pending migration)
may stay, and so may one whose guarded repair declined with a NOTICE naming its column
(values that would not fit a narrower type, NULLs with no value to fill them): the script
must not lose data to make a finding go away. They are listed.

Exit status: 0 all cases pass, 1 a case fails, 77 no PostgreSQL server here and neither
$CI nor $DBAUTOPSY_REQUIRE_ALL is set.
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

PORT = 55414
SKIP = 77
EXPECT = re.compile(r"; -- expect (\d+)(?: rows?)?\b")
NOTICE = re.compile(r"NOTICE:\s+(.*)$")


def statements(script):
    """(kind, expected count or None) for every UPDATE and SELECT of the script, in order:
    a repair script writes one statement per line (or several, `;`-separated, none of them
    a DO block), the expectation in a trailing `-- expect N` comment of the line's last."""
    out = []
    for line in script.splitlines():
        text = line.strip()
        if not text or text.startswith("--"):
            continue
        m = EXPECT.search(text)
        body = text[:m.start() + 1] if m else text.split(" -- ")[0]
        parts = [body] if body.startswith("DO $$") else \
            [s.strip() for s in body.split(";") if s.strip()]
        for i, part in enumerate(parts):
            kind = part.split()[0].upper()
            if kind in ("UPDATE", "SELECT"):
                last = i == len(parts) - 1
                out.append((kind, int(m.group(1)) if m and last else None))
    return out


def investigate(dbautopsy, folder, store, repair=None, out=None):
    cmd = [dbautopsy, "investigate", str(folder), "--store", str(store), "--format", "json",
           "--fail-on", "never"]
    if repair:
        cmd += ["--repair", str(repair)]
    if out:
        cmd += ["--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"investigate {folder}: exit {r.returncode}\n{r.stderr}")
    return json.loads(r.stdout)


def key(f):
    s = f["subject"]
    return (f["rule"], s["schema"], s["table"], s["column"], s["index"], s["constraint"],
            s["migration"], s["row_id"])


def executable(repair):
    """Whether a repair holds SQL, not only advice in comments."""
    return any(line.strip() and not line.strip().startswith("--")
               for line in (repair or "").splitlines())


def run_script(cluster, db, script):
    """Runs the script; returns its output lines and the NOTICEs it raised."""
    r = subprocess.run(cluster.psql_args(db) + ["-v", "ON_ERROR_STOP=1", "-A", "-t", "-f",
                                                str(script)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"the repair script failed:\n{r.stderr}")
    notices = [m.group(1) for line in r.stderr.splitlines() if (m := NOTICE.search(line))]
    return r.stdout.splitlines(), notices


def check_case(args, cluster, scratch, name):
    case = Path(args.cases) / name
    work = scratch / name
    work.mkdir()
    problems = []
    store = work / "facts.db"
    repair = work / "repair.sql"
    before = investigate(args.dbautopsy, case, store, repair, work / "out")
    verify = work / "out" / "verify.sql"
    if (work / "out" / "repair.sql").read_text() != repair.read_text():
        problems.append(f"{name}: --out's repair.sql differs from --repair's")
    findings = {key(f): f for f in before["findings"]}

    with sqlite3.connect(store) as db:
        row = db.execute("SELECT a.path FROM snapshot s JOIN artifact a ON a.id = "
                         "coalesce(s.data_artifact_id, s.artifact_id) "
                         "WHERE s.role = 'current'").fetchone()
        dumps = {p for (p,) in db.execute("SELECT path FROM artifact WHERE kind LIKE 'pgdump%'")}
    if not row:
        return [f"{name}: no current snapshot"]
    current = case / row[0]

    db_name = "repair_" + name
    cluster.sql("postgres", f'DROP DATABASE IF EXISTS "{db_name}"')
    cluster.sql("postgres", f'CREATE DATABASE "{db_name}" TEMPLATE template0')
    plain = work / "current.sql"
    with open(plain, "wb") as out:
        subprocess.run(["bash", "-c", 'zcat -f "$1"', "_", str(current)], stdout=out, check=True)
    r = subprocess.run(cluster.psql_args(db_name) + ["-q", "-f", str(plain)],
                       capture_output=True, text=True)
    if "ERROR" in r.stderr:
        return [f"{name}: restoring {row[0]} failed:\n{r.stderr[:2000]}"]

    # verify.sql before the repair: every active check finds its fault (a check that
    # cannot fail proves nothing).
    active = [l for l in verify.read_text().splitlines() if l.startswith("SELECT ")]
    try:
        failing, _ = run_script(cluster, db_name, verify)
    except RuntimeError as e:
        return [f"{name}: verify.sql before the repair: {e}"]
    if len(failing) != len(active):
        problems.append(f"{name}: verify.sql before the repair returned {len(failing)} rows "
                        f"for {len(active)} checks")

    # Runs 1 and 2.
    plan = statements(repair.read_text())
    want_updates = [n for kind, n in plan if kind == "UPDATE"]
    want_checks = [n for kind, n in plan if kind == "SELECT"]
    notices = []
    for attempt in (1, 2):
        try:
            out, notices = run_script(cluster, db_name, repair)
        except RuntimeError as e:
            return [f"{name}: run {attempt}: {e}"]
        updates = [int(line.split()[1]) for line in out if re.fullmatch(r"UPDATE \d+", line)]
        counts = [int(line) for line in out if re.fullmatch(r"\d+", line)]
        want = [None if n is None and attempt == 1 else (n if attempt == 1 else 0)
                for n in want_updates]
        if len(updates) != len(want) or any(w is not None and u != w
                                            for u, w in zip(updates, want)):
            problems.append(f"{name}: run {attempt}: UPDATEs touched {updates}, expected {want}")
        if len(counts) != len(want_checks) or any(w is not None and c != w
                                                  for c, w in zip(counts, want_checks)):
            problems.append(f"{name}: run {attempt}: checks returned {counts}, expected "
                            f"{want_checks}")
        print(f"{name}: run {attempt}: ok (UPDATEs {updates}, checks {counts}, "
              f"{len(notices)} notices)")

    def declined(f):
        s = f["subject"]
        column = ".".join(x for x in (s["schema"], s["table"], s["column"]) if x)
        return any(n.startswith(column + " ") for n in notices)

    # verify.sql after: no rows, but for repairs that declined (a NOTICE naming the column).
    try:
        failing, _ = run_script(cluster, db_name, verify)
    except RuntimeError as e:
        return problems + [f"{name}: verify.sql after the repair: {e}"]
    for row in failing:
        fid = row.split("|")[0]
        f = next((f for f in before["findings"] if f["id"] == fid), None)
        if f is None or not declined(f):
            problems.append(f"{name}: verify.sql after the repair: {row}")
    print(f"{name}: verify.sql: {len(active)} checks, {len(failing)} rows after the repair")

    # Investigate the repaired database with the case's other artifacts.
    again = work / "repaired-case"
    again.mkdir()
    for p in case.rglob("*"):
        rel = p.relative_to(case)
        if p.is_file() and rel.as_posix() not in dumps and rel.name != "expected.json" \
                and ".dbautopsy" not in rel.parts:
            (again / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, again / rel)
    with open(again / "repaired.sql", "wb") as out:
        subprocess.run([str(cluster.bindir / "pg_dump"), "-h", str(cluster.dir / "sock"),
                        "-p", str(cluster.port), "-U", "postgres", db_name],
                       stdout=out, check=True)
    after = investigate(args.dbautopsy, again, work / "facts-after.db")
    remaining = {key(f): f for f in after["findings"]}

    for k, f in findings.items():
        if k in remaining and executable(f.get("repair")) and \
                f["rule"] != "data.duplicate-rows" and not declined(f):
            problems.append(f"{name}: {f['rule']} {k[1:]} is still there after its repair")
    for k, f in remaining.items():
        if k not in findings:
            problems.append(f"{name}: new finding after the repair: {f['rule']} {k[1:]}: "
                            f"{f['message']}")
    for f in before["findings"]:
        if f["rule"] == "data.duplicate-rows":
            s = f["subject"]
            copy = cluster.sql(db_name, f'SELECT count(*) FROM "{s["schema"]}".'
                                        f'"{s["table"]}_dedup"').strip()
            if int(copy) != f["metrics"]["distinct_rows"]:
                problems.append(f"{name}: {s['table']}_dedup holds {copy} rows, dbautopsy "
                                f"counted {f['metrics']['distinct_rows']} distinct")
    kept = sorted(f"{f['rule']} {'.'.join(x for x in k[1:] if x)}"
                  for k, f in remaining.items() if k in findings)
    print(f"{name}: after the repair {len(remaining)} of {len(findings)} findings remain"
          + "".join(f"\n    {k}" for k in kept))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--port", type=int, default=PORT,
                    help="the throwaway cluster's port (default %(default)s)")
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    args.dbautopsy = str(Path(args.dbautopsy).resolve())
    bindir = find_bindir()
    if bindir is None:
        print("repair test: no PostgreSQL server binaries")
        return 1 if required() else SKIP
    scratch = Path(tempfile.mkdtemp(prefix="dbautopsy-repair-"))
    os.chmod(scratch, 0o755)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = Cluster(Path(args.root) / "fixtures" / "generate" / "lib" / "pg_cluster.sh",
                      bindir, scratch, args.port, "repair")
    problems = []
    try:
        cluster.start()
        for name in args.names:
            try:
                problems += check_case(args, cluster, scratch, name)
            except (RuntimeError, subprocess.CalledProcessError) as e:
                problems.append(f"{name}: {e}")
    finally:
        cluster.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
