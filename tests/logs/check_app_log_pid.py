#!/usr/bin/env python3
"""Python logging layouts with the process id in brackets, read by `dbautopsy ingest`.

fixtures/logs/app/python_pid.log and python_pid_level_brackets.log were written by the real
`logging` module of /usr/bin/python3 (fixtures/generate/logs/app_log.py) with the formatters

    %(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s
    %(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s

dotted logger names (etl.import, etl.backup, etl.stats) and really raised exceptions logged
with their tracebacks. expected_app.json holds, for every record, what the handler saw: its
level, logger, first message line, whether it has a traceback, and its process id.

Each file alone is read as a Python log (status ok, no warning or error), with as many entries
and tracebacks as were written, and every log_event has pid = the record's process id, logger =
its dotted name, severity = its level, and a message that is the record's own (the first line,
without the pid or the logger before it).
"""
import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

FILES = ["python_pid.log", "python_pid_level_brackets.log"]

failures = []


def fail(msg):
    failures.append(msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    args = ap.parse_args()
    app = args.fixtures / "logs" / "app"
    expected = json.loads((app / "expected_app.json").read_text(encoding="utf-8"))

    with tempfile.TemporaryDirectory() as d:
        for name in FILES:
            want = expected[name]
            entries = want["entries"]
            if not entries or any("process" not in e for e in entries):
                sys.exit(f"fixture: expected_app.json has no process ids for {name}")
            if not any("." in e["logger"] for e in entries) or want["tracebacks"] == 0:
                sys.exit(f"fixture: {name} has no dotted logger or no traceback")
            store = Path(d) / f"{name}.db"
            run = subprocess.run([args.dbautopsy, "ingest", "--store", str(store),
                                  str(app / name)], capture_output=True, text=True)
            if run.returncode not in (0, 1, 2):
                sys.exit(f"dbautopsy ingest {name} exited {run.returncode}:\n{run.stderr}")
            db = sqlite3.connect(store)
            kind, status, detail = db.execute(
                "SELECT kind, status, status_detail FROM artifact").fetchone()
            events = db.execute(
                "SELECT line, pid, logger, severity, message, traceback IS NOT NULL "
                "FROM log_event ORDER BY line").fetchall()
            problems = db.execute("SELECT severity, code, line, message FROM problem "
                                  "WHERE severity IN ('warning', 'error')").fetchall()
            db.close()
            if (kind, status) != ("app-log-python", "ok"):
                fail(f"{name}: read as {kind} {status} ({detail})")
            for p in problems:
                fail(f"{name}: problem {p}")
            if len(events) != want["events"]:
                fail(f"{name}: {len(events)} log entries, {want['events']} were written")
            if sum(e[5] for e in events) != want["tracebacks"]:
                fail(f"{name}: {sum(e[5] for e in events)} tracebacks, "
                     f"{want['tracebacks']} were written")
            for e, w in zip(events, entries):
                line, pid, logger, severity, message, traceback = e
                got = (pid, logger, severity, (message or "").split("\n")[0], bool(traceback))
                exp = (w["process"], w["logger"], w["level"], w["message"], w["traceback"])
                if got != exp:
                    fail(f"{name} line {line}: pid, logger, level, message, traceback {got}, "
                         f"written {exp}")

    for f in failures[:40]:
        print("FAIL:", f)
    if len(failures) > 40:
        print(f"... and {len(failures) - 40} more")
    if failures:
        sys.exit(1)
    print(f"ok: {', '.join(FILES)}: pid, dotted logger and message of every record")


if __name__ == "__main__":
    main()
