#!/usr/bin/env python3
"""A stderr log across a reload that changed log_line_prefix, with lines in the old prefix
after the change.

fixtures/logs/reload/ was written by one real PostgreSQL 15 (fixtures/generate/logs/
pg_reload.sh): reload.log (stderr), reload.csv and reload.json at once. The server began with
the prefix '%m [%p] %q%u@%d '; `ALTER SYSTEM SET log_line_prefix = '%t [%p]: [%l-1]
user=%u,db=%d,app=%a,client=%h '` and `SELECT pg_reload_conf()` ran while a session of
etl_user on league slept in the middle of one query string. The postmaster announced the new
prefix (`parameter "log_line_prefix" changed to ...`), and then that session, which had not
reloaded yet, wrote its WARNING, ERROR and STATEMENT lines in the old prefix. Checked with
`dbautopsy ingest`:

1. Every entry is read: the stderr log gives the jsonlog's entries, one for one and in the
   same order, with the same pid, user, database, severity and message (and application, on
   the lines whose prefix has %a).
2. The entries in the old prefix after the announcing line are read with the old prefix: user
   etl_user, database league, the pid they were written with, and the format of the lines
   before the reload.
3. The problems are one notice `log-prefix-changed` on the announcing line, and nothing else
   (no `log-unmatched-line`).
"""
import argparse
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ANNOUNCE = 'parameter "log_line_prefix" changed to'
OLD_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC \[(\d+)\] (\S*)@(\S*) ")

failures = []


def fail(msg):
    failures.append(msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    args = ap.parse_args()
    folder = args.fixtures / "logs" / "reload"

    truth = [json.loads(t) for t in
             (folder / "reload.json").read_text(encoding="utf-8").splitlines()]
    lines = (folder / "reload.log").read_text(encoding="utf-8").splitlines()
    announce = [n for n, text in enumerate(lines, 1) if ANNOUNCE in text]
    if len(announce) != 1:
        sys.exit(f"fixture: reload.log announces a new prefix {len(announce)} times")
    announce = announce[0]
    old_after = {n: OLD_LINE.match(text) for n, text in enumerate(lines, 1)
                 if n > announce and OLD_LINE.match(text)}
    if not old_after:
        sys.exit("fixture: reload.log has no line in the old prefix after the reload")

    with tempfile.TemporaryDirectory() as d:
        store = Path(d) / "reload.db"
        run = subprocess.run([args.dbautopsy, "ingest", "--store", str(store),
                              str(folder / "reload.log")], capture_output=True, text=True)
        if run.returncode not in (0, 1, 2):
            sys.exit(f"dbautopsy ingest reload.log exited {run.returncode}:\n{run.stderr}")
        db = sqlite3.connect(store)
        db.row_factory = sqlite3.Row
        art = db.execute("SELECT kind, status, status_detail FROM artifact").fetchone()
        events = [dict(r) for r in db.execute(
            "SELECT line, pid, coalesce(user_name, '') AS user, coalesce(database_name, '') AS db, "
            "coalesce(application, '') AS app, severity, message, format FROM log_event "
            "ORDER BY line")]
        problems = [dict(r) for r in db.execute(
            "SELECT severity, code, line, message FROM problem ORDER BY id")]
        db.close()

    if (art["kind"], art["status"]) != ("pg-log-stderr", "ok"):
        fail(f"reload.log: read as {art['kind']} {art['status']} ({art['status_detail']})")

    # 1. every entry, as the jsonlog has it
    if len(events) != len(truth):
        fail(f"reload.log: {len(events)} log entries, the jsonlog has {len(truth)}")
    for n, (want, have) in enumerate(zip(truth, events), 1):
        expect = {"pid": want["pid"], "user": want.get("user", ""), "db": want.get("dbname", ""),
                  "severity": want["error_severity"], "message": want["message"]}
        if "%a" in have["format"]:
            expect["app"] = want.get("application_name", "")
        got = {k: have[k] for k in expect}
        if got != expect:
            fail(f"reload.log entry {n} (line {have['line']}): {got}, the jsonlog has {expect}")

    # 2. the old prefix's lines after the reload
    by_line = {e["line"]: e for e in events}
    old_format = by_line[1]["format"] if 1 in by_line else None
    entries_after = 0
    for n, m in sorted(old_after.items()):
        if lines[n - 1][m.end():].startswith(("CONTEXT:", "STATEMENT:", "DETAIL:", "HINT:")):
            continue  # a line of the entry above
        entries_after += 1
        e = by_line.get(n)
        if e is None:
            fail(f"reload.log line {n} (old prefix after the reload): no log entry: "
                 f"{lines[n - 1]!r}")
            continue
        want = (int(m.group(1)), m.group(2), m.group(3), old_format)
        got = (e["pid"], e["user"], e["db"], e["format"])
        if got != want or want[1:3] != ("etl_user", "league"):
            fail(f"reload.log line {n} (old prefix after the reload): pid, user, database, "
                 f"format {got}, expected {want}")
    if entries_after < 2:
        fail(f"fixture: {entries_after} entries in the old prefix after the reload, the "
             "workload writes a WARNING and an ERROR")

    # 3. the problems
    changed = [p for p in problems if p["code"] == "log-prefix-changed"]
    if [(p["severity"], p["line"]) for p in changed] != [("notice", announce)]:
        fail(f"reload.log: log-prefix-changed problems {changed}, expected one notice on line "
             f"{announce}")
    for p in problems:
        if p["code"] != "log-prefix-changed":
            fail(f"reload.log: problem {p['severity']} {p['code']} line {p['line']}: "
                 f"{p['message']}")

    for f in failures[:40]:
        print("FAIL:", f)
    if len(failures) > 40:
        print(f"... and {len(failures) - 40} more")
    if failures:
        sys.exit(1)
    print(f"ok: {len(events)} entries across the prefix reload, {entries_after} in the old "
          "prefix after it")


if __name__ == "__main__":
    main()
