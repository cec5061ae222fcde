#!/usr/bin/python3
"""What a terminal shows: the text report fits 100 columns, and the progress line appears on
stderr only when it is a terminal -- never under --quiet, a CI variable, TERM=dumb or a pipe --
and leaves the report itself unchanged.

Exit status: 0 pass, 1 a check failed.
"""
import argparse
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = ["django_drift", "league_incident", "cluster_dumpall", "django_hotfixes",
         "input_nothing_usable", "django_dropped_column"]
CI_VARS = ("CI", "CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "JENKINS_URL")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in CI_VARS}
    env.update(TERM="xterm", DBAUTOPSY_PROGRESS_AFTER_MS="0")
    env.update(extra)
    return env


def on_terminal(cmd, env):
    """Runs cmd with a pseudo-terminal as stdin, stdout and stderr; returns what it wrote and
    its exit status."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(cmd[0], cmd, env)
    out = b""
    while True:
        try:
            ready, _, _ = select.select([fd], [], [], 600)
        except InterruptedError:
            continue
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return out, os.waitstatus_to_exitcode(status)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    cases = Path(args.fixtures) / "cases"
    problems = []
    work = Path(tempfile.mkdtemp(prefix="dbautopsy-terminal-"))
    try:
        # 1. The text report fits 100 columns (code points), whatever the inputs' names.
        for name in CASES:
            r = subprocess.run([args.dbautopsy, "investigate", str(cases / name), "--store",
                                str(work / f"{name}.db"), "--fail-on", "never"],
                               capture_output=True, text=True, env=clean_env())
            if r.returncode != 0:
                problems.append(f"{name}: exit {r.returncode}: {r.stderr[-500:]}")
                continue
            wide = [l for l in r.stdout.splitlines() if len(l) > 100]
            for l in wide[:3]:
                problems.append(f"{name}: a line of {len(l)} columns: {l[:120]}...")
            print(f"{name}: {len(r.stdout.splitlines())} lines, widest "
                  f"{max(len(l) for l in r.stdout.splitlines())} columns")
            if "\r" in r.stderr or "\x1b" in r.stderr:
                problems.append(f"{name}: progress output on a pipe: {r.stderr[:200]!r}")

        # 2. The progress line: on a terminal, and only there.
        case = cases / "league_incident_full"  # the largest case: 14 MB of gzip
        expected = work / "expected.json"
        subprocess.run([args.dbautopsy, "investigate", str(case), "--store", str(work / "p0.db"),
                        "--format", "json", "--output", str(expected), "--fail-on", "never"],
                       check=True, env=clean_env(), capture_output=True)
        runs = [("terminal", [], {}, True),
                ("--quiet", ["--quiet"], {}, False),
                ("-q", ["-q"], {}, False),
                ("CI=true", [], {"CI": "true"}, False),
                ("TERM=dumb", [], {"TERM": "dumb"}, False)]
        for i, (label, flags, env, shown) in enumerate(runs, 1):
            report = work / f"report{i}.json"
            out, status = on_terminal(
                [args.dbautopsy, "investigate", str(case), "--store", str(work / f"p{i}.db"),
                 "--format", "json", "--output", str(report), "--fail-on", "never"] + flags,
                clean_env(**env))
            has = b"\r\x1b[K[" in out
            print(f"investigate on a terminal, {label}: exit {status}, progress "
                  f"{'shown' if has else 'not shown'}")
            if status != 0:
                problems.append(f"{label}: exit {status}: {out[-300:]!r}")
            if has != shown:
                problems.append(f"{label}: progress {'missing' if shown else 'shown'}: "
                                f"{out[:300]!r}")
            if shown and has:
                if b"after.sql.gz" not in out or b" of 13.9 MiB" not in out:
                    problems.append(f"{label}: the line names neither the file nor the total: "
                                    f"{out[:300]!r}")
                if not out.endswith(b"\r\x1b[K"):
                    problems.append(f"{label}: the progress line is not cleared at the end: "
                                    f"{out[-200:]!r}")
                lines = [l for l in out.split(b"\r\x1b[K") if l]
                if any(len(l.decode()) > 99 for l in lines):
                    problems.append(f"{label}: a progress line wider than 99 columns")
            if report.read_bytes() != expected.read_bytes():
                problems.append(f"{label}: the report differs from the one written without a "
                                f"terminal")
        # ingest prints what each file gave after the progress line is gone.
        out, status = on_terminal([args.dbautopsy, "ingest", "--store", str(work / "i.db"),
                                   str(case / "after.sql.gz")], clean_env())
        tail = out.split(b"\r\x1b[K")[-1]
        print(f"ingest on a terminal: exit {status}, after the progress line: {tail[:80]!r}")
        if not tail.startswith(b"Ingested into "):
            problems.append(f"ingest: its listing does not follow the cleared progress line: "
                            f"{out[-400:]!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
