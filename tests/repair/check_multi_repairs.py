#!/usr/bin/python3
"""The repair scripts of cases whose dumps show several databases (or name their one
database: a pg_dumpall of one user database), run for real against PostgreSQL 15.

A repair script of several databases has one part per database, each in a transaction of
its own: a database the dumps name is reached with `\\connect NAME`, one they do not name
runs only when psql is given `-v repair_database_N=1` (and is connected to it). For each
case:

  1. `dbautopsy investigate CASE --repair R.sql` writes the script, and its JSON report says
     which databases there are (`databases`: name and dumps);
  2. the databases are restored on a throwaway cluster: a pg_dumpall file as pg_dumpall's
     script restores itself (psql on `postgres`; on a fresh cluster the only error is that
     the role postgres exists), a dump of a database without a name into a database of its
     own;
  3. verify.sql (from --out) is run the same way and returns one row per active check; R.sql
     is run with ON_ERROR_STOP -- once from `postgres` (the named parts connect
     themselves), and once in each unnamed database with its variable -- twice over: every
     statement must succeed both times; verify.sql then returns no row;
  4. every database is dumped again with the real pg_dump / pg_dumpall, under the names of
     the original dumps, and the case investigated again with its other artifacts: every
     finding whose repair was SQL must be gone, and no new finding may appear.

Exit status: 0 all cases pass, 1 a case fails, 77 no PostgreSQL server here and neither
$CI nor $DBAUTOPSY_REQUIRE_ALL is set.
"""
import argparse
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from locate import required  # noqa: E402
from pgcluster import Cluster, find_bindir  # noqa: E402

PORT = 55494
SKIP = 77


def key(f):
    s = f["subject"]
    return (f["rule"],) + tuple(s.get(k) for k in (
        "database", "schema", "table", "column", "index", "constraint", "migration", "row_id"))


def executable(repair):
    return any(line.strip() and not line.strip().startswith("--")
               for line in (repair or "").splitlines())


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


def plain(path):
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def psql(cluster, db, args, stdin=None):
    r = subprocess.run(cluster.psql_args(db) + args, input=stdin, capture_output=True)
    return r.returncode, r.stderr.decode(errors="replace")


def run_verify(cluster, databases, unnamed, verify):
    """verify.sql run as the repair is: from postgres for the named databases (its \\connect
    lines), in each unnamed one with its variable. Returns the rows of faults still there."""
    runs = [("postgres", [])] if any(d["database"] for d in databases) else []
    runs += [(db, ["-v", f"repair_database_{i}=1"]) for i, (db, _) in unnamed.items()]
    rows = []
    for db, extra in runs:
        r = subprocess.run(cluster.psql_args(db) + ["-v", "ON_ERROR_STOP=1", "-q", "-A", "-t",
                                                    "-f", str(verify)] + extra,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"verify.sql in {db} failed:\n{r.stderr[:2000]}")
        rows += [l for l in r.stdout.splitlines() if l.strip()]
    return rows


def check_case(args, cluster, scratch, name):
    case = Path(args.cases) / name
    work = scratch / name
    work.mkdir()
    repair = work / "repair.sql"
    before = investigate(args.dbautopsy, case, work / "facts.db", repair, work / "out")
    verify = work / "out" / "verify.sql"
    if (work / "out" / "repair.sql").read_text() != repair.read_text():
        return [f"{name}: --out's repair.sql differs from --repair's"]
    databases = before["databases"]
    if len(databases) < 2 and not (databases and databases[0]["database"]):
        return [f"{name}: {len(databases)} database(s); this test is for cases with several, "
                "or one the dumps name"]
    problems = []
    script = repair.read_text()
    unnamed = {}  # part number -> (database created here, its dump)
    restored_all = set()
    for i, d in enumerate(databases, 1):
        if d["database"]:
            for dump in d["dumps"]:
                if dump in restored_all:
                    continue
                restored_all.add(dump)
                rc, err = psql(cluster, "postgres", ["-q", "-o", "/dev/null", "-f", "-"],
                               plain(case / dump))
                bad = [l for l in err.splitlines() if "ERROR" in l
                       and 'role "postgres" already exists' not in l]
                if bad:
                    return [f"{name}: restoring {dump} failed:\n" + "\n".join(bad[:20])]
        else:
            db = f"repair_{name}_{i}"
            cluster.sql("postgres", f'CREATE DATABASE "{db}" TEMPLATE template0')
            dump = d["dumps"][-1]
            rc, err = psql(cluster, db, ["-q", "-o", "/dev/null", "-f", "-"], plain(case / dump))
            if "ERROR" in err:
                return [f"{name}: restoring {dump} failed:\n{err[:2000]}"]
            unnamed[i] = (db, dump)
            if f"repair_database_{i}=1" not in script:
                problems.append(f"{name}: the script has no part for database {i} ({dump})")
    # verify.sql before the repair: every active check finds its fault.
    active = [l for l in verify.read_text().splitlines() if l.startswith("SELECT ")]
    failing = run_verify(cluster, databases, unnamed, verify)
    if len(failing) != len(active):
        problems.append(f"{name}: verify.sql before the repair returned {len(failing)} rows "
                        f"for {len(active)} active checks")
    for attempt in (1, 2):
        runs = [("postgres", [])] if any(d["database"] for d in databases) else []
        runs += [(db, ["-v", f"repair_database_{i}=1"]) for i, (db, _) in unnamed.items()]
        for db, extra in runs:
            rc, err = psql(cluster, db, ["-v", "ON_ERROR_STOP=1", "-q", "-A", "-t", "-f",
                                         str(repair)] + extra)
            if rc != 0:
                return [f"{name}: run {attempt} in {db} failed:\n{err[:2000]}"]
        print(f"{name}: run {attempt}: ok ({len(runs)} psql run(s))")
    failing = run_verify(cluster, databases, unnamed, verify)
    problems += [f"{name}: verify.sql after the repair: {row}" for row in failing]
    print(f"{name}: verify.sql: {len(active)} checks, {len(failing)} rows after the repair")

    again = work / "repaired-case"
    again.mkdir()
    dumps = {p for d in databases for p in d["dumps"]}
    for p in case.rglob("*"):
        rel = p.relative_to(case)
        if p.is_file() and rel.as_posix() not in dumps and rel.name != "expected.json" \
                and ".dbautopsy" not in rel.parts:
            (again / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, again / rel)
    sock = ["-h", str(cluster.dir / "sock"), "-p", str(cluster.port), "-U", "postgres"]
    if len(restored_all) > 1:
        return problems + [f"{name}: several pg_dumpall files; this test restores one"]
    for dump in restored_all:
        # The cluster dumped again by the real pg_dumpall (it holds the named databases and
        # the unnamed ones restored here, which the grouping tells apart by their names).
        with open(again / (dump[:-3] if dump.endswith(".gz") else dump), "wb") as out:
            subprocess.run([str(cluster.bindir / "pg_dumpall")] + sock, stdout=out, check=True)
    for i, (db, dump) in unnamed.items():
        with open(again / (dump[:-3] if dump.endswith(".gz") else dump), "wb") as out:
            subprocess.run([str(cluster.bindir / "pg_dump")] + sock + [db], stdout=out,
                           check=True)
    after = investigate(args.dbautopsy, again, work / "facts-after.db")
    if len(after["databases"]) != len(databases):
        problems.append(f"{name}: the repaired dumps show {len(after['databases'])} databases, "
                        f"not {len(databases)}")
    findings = {key(f): f for f in before["findings"]}
    remaining = {key(f): f for f in after["findings"]}
    for k, f in findings.items():
        if k in remaining and executable(f.get("repair")) and f["rule"] != "data.duplicate-rows":
            problems.append(f"{name}: {f['rule']} {k[1:]} is still there after its repair")
    for k, f in remaining.items():
        if k not in findings:
            problems.append(f"{name}: new finding after the repair: {f['rule']} {k[1:]}: "
                            f"{f['message']}")
    print(f"{name}: after the repair {len(remaining)} of {len(findings)} findings remain")
    for d in databases:
        if d["database"]:
            cluster.sql("postgres", f'DROP DATABASE IF EXISTS "{d["database"]}"')
    for db, _ in unnamed.values():
        cluster.sql("postgres", f'DROP DATABASE IF EXISTS "{db}"')
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--port", type=int, default=PORT)
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    args.dbautopsy = str(Path(args.dbautopsy).resolve())
    bindir = find_bindir()
    if bindir is None:
        print("multi-database repair test: no PostgreSQL server binaries")
        return 1 if required() else SKIP
    scratch = Path(tempfile.mkdtemp(prefix="dbautopsy-multi-repair-"))
    os.chmod(scratch, 0o755)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = Cluster(Path(args.root) / "fixtures" / "generate" / "lib" / "pg_cluster.sh",
                      bindir, scratch, args.port, "multi-repair")
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
