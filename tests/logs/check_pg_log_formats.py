#!/usr/bin/env python3
"""One server, three log destinations, one set of log_event rows.

fixtures/logs/formats/ holds the stderr, csvlog and jsonlog files that one PostgreSQL 15
wrote at once (fixtures/generate/logs/pg_formats.sh: log_destination =
'stderr,csvlog,jsonlog', log_line_prefix '%m|%p|%l|%u|%d|%a|%e|%c| ', log_timezone
Asia/Kathmandu, a workload of many error kinds). Each file is ingested on its own with
`dbautopsy ingest` (its kind found from its content), and the log_event rows are compared,
with the jsonlog as the truth:

- the jsonlog rows are first checked against the JSON file read here with Python's json
  module: one row per object, every field as the object says, the timestamp turned into UTC
  with Python's zoneinfo from the zone the server ran in;
- then every other format must give the same rows in the same order: count, severity,
  SQLSTATE, timestamp, message, detail, hint, context, statement, internal query, location
  (csvlog: every field, as it carries all of them; stderr: what a log_line_prefix of this
  form and the stderr format carry).

--formats names the formats to compare (csv, json, stderr). A format named is never skipped:
if the build cannot read it, the test fails.
"""
import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

FILES = {"json": "formats.json", "csv": "formats.csv", "stderr": "formats.log"}
KINDS = {"json": "pg-log-json", "csv": "pg-log-csv", "stderr": "pg-log-stderr"}
SERVER_ZONE = ZoneInfo("Asia/Kathmandu")  # log_timezone of the generator

COLUMNS = ["line", "end_line", "ts", "ts_written", "severity", "sqlstate", "pid", "user_name",
           "database_name", "application", "client", "session", "message", "detail", "hint",
           "context", "statement", "query", "location", "template_hash", "format"]
# What each format is compared on (json is the truth).
COMPARED = {
    "csv": ["ts", "ts_written", "severity", "sqlstate", "pid", "user_name", "database_name",
            "application", "client", "session", "message", "detail", "hint", "context",
            "statement", "query", "location", "template_hash"],
    "stderr": ["ts", "severity", "sqlstate", "pid", "message", "detail", "hint", "context",
               "statement", "query", "location", "template_hash"],
}

failures = []


def fail(msg):
    failures.append(msg)


def ingest(dbautopsy, path, store):
    run = subprocess.run([dbautopsy, "ingest", "--store", str(store), str(path)],
                         capture_output=True, text=True)
    # 2 is a file dbautopsy could not read: its kind and status are checked by the caller.
    if run.returncode not in (0, 1, 2):
        sys.exit(f"dbautopsy ingest {path.name} exited {run.returncode}:\n{run.stderr}")
    db = sqlite3.connect(store)
    db.row_factory = sqlite3.Row
    art = db.execute("SELECT id, kind, status, status_detail FROM artifact").fetchone()
    rows = [dict(r) for r in db.execute(
        f"SELECT {', '.join(COLUMNS)} FROM log_event WHERE artifact_id = ? ORDER BY line",
        (art["id"],))]
    problems = [dict(r) for r in db.execute(
        "SELECT severity, code, line, message FROM problem WHERE artifact_id = ?", (art["id"],))]
    db.close()
    return dict(art), rows, problems


def utc_of(written):
    """PostgreSQL's "%Y-%m-%d %H:%M:%S.%f +HHMM" in UTC, checked against the server's zone."""
    stamp = datetime.strptime(written, "%Y-%m-%d %H:%M:%S.%f %z")
    local = stamp.replace(tzinfo=None).replace(tzinfo=SERVER_ZONE)
    if local.utcoffset() != stamp.utcoffset():
        fail(f"{written}: offset is not that of {SERVER_ZONE.key} at that time")
    u = stamp.astimezone(timezone.utc)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"


def statement_in_message(message):
    for lead in ("statement: ",):
        if message.startswith(lead):
            return message[len(lead):]
    if message.startswith("duration: ") and " ms  statement: " in message:
        return message.split(" ms  statement: ", 1)[1]
    return None


def expected_from_json(path):
    """The rows the jsonlog must give, from the file itself."""
    rows = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        o = json.loads(text)
        location = None
        if o.get("file_name"):
            location = (f"{o['func_name']}, " if o.get("func_name") else "") + \
                f"{o['file_name']}:{o['file_line_num']}"
        client = o.get("remote_host")
        if client and o.get("remote_port") is not None:
            client = f"{client}:{o['remote_port']}"
        rows.append({
            "line": number, "end_line": number, "ts": utc_of(o["timestamp"]),
            "ts_written": o["timestamp"], "severity": o["error_severity"],
            # jsonlog writes state_code only when it is not 00000
            "sqlstate": o.get("state_code", "00000"), "pid": o.get("pid"),
            "user_name": o.get("user"),
            "database_name": o.get("dbname"), "application": o.get("application_name") or None,
            "client": client, "session": o.get("session_id"), "message": o["message"],
            "detail": o.get("detail"), "hint": o.get("hint"), "context": o.get("context"),
            "statement": o.get("statement") or statement_in_message(o["message"]),
            "query": o.get("internal_query"), "location": location, "format": "pg-json",
        })
    return rows


def check_workload(rows):
    """The fixture holds what the differential test is for (a guard against a generator that
    silently stopped producing some kind of entry)."""
    states = {r["sqlstate"] for r in rows}
    for code, what in [("42P01", "missing relation"), ("42703", "missing column"),
                       ("23505", "unique violation"), ("23503", "foreign key violation"),
                       ("23502", "NOT NULL violation"), ("22012", "division by zero"),
                       ("42601", "syntax error"), ("P0001", "PL/pgSQL RAISE"),
                       ("01000", "PL/pgSQL WARNING"), ("23514", "check violation"),
                       ("22P02", "invalid input"), ("3D000", "missing database")]:
        if code not in states:
            fail(f"fixture: no {what} ({code}) entry")
    if not any(r["detail"] and r["hint"] and r["context"] for r in rows):
        fail("fixture: no entry with DETAIL, HINT and CONTEXT")
    if not any(r["query"] for r in rows):
        fail("fixture: no entry with an internal QUERY")
    if not any(r["location"] for r in rows):
        fail("fixture: no entry with a LOCATION (log_error_verbosity = verbose)")
    if not any(r["statement"] and "\n\t" in r["statement"] and r["message"].startswith("duration:")
               for r in rows):
        fail("fixture: no slow multi-line statement with tabs")
    if not any(any(ord(c) > 127 for c in r["message"]) for r in rows):
        fail("fixture: no non-ASCII message")
    if not any("\n" in r["message"] and '"' in r["message"] for r in rows):
        fail("fixture: no message with a newline and double quotes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    ap.add_argument("--formats", default="csv,json")
    args = ap.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FILES]
    if unknown or "json" not in formats:
        sys.exit(f"--formats: json (the truth) and any of csv, stderr; got {args.formats}")
    folder = args.fixtures / "logs" / "formats"

    with tempfile.TemporaryDirectory() as tmp:
        got = {}
        for f in formats:
            art, rows, problems = ingest(args.dbautopsy, folder / FILES[f], Path(tmp) / f"{f}.db")
            if art["kind"] != KINDS[f]:
                fail(f"{FILES[f]}: read as kind {art['kind']!r}, expected {KINDS[f]!r} "
                     f"({art['status_detail']})")
            if art["status"] != "ok":
                fail(f"{FILES[f]}: status {art['status']} ({art['status_detail']})")
            for p in problems:
                fail(f"{FILES[f]}: problem {p['severity']} {p['code']} line {p['line']}: "
                     f"{p['message']}")
            got[f] = rows

        truth = expected_from_json(folder / FILES["json"])
        check_workload(truth)
        if len(got["json"]) != len(truth):
            fail(f"jsonlog: {len(got['json'])} events, the file holds {len(truth)} objects")
        for want, have in zip(truth, got["json"]):
            for key, value in want.items():
                if have[key] != value:
                    fail(f"jsonlog line {want['line']}: {key} is {have[key]!r}, "
                         f"the object says {value!r}")
        if len({r["template_hash"] for r in got["json"]}) < 10:
            fail("jsonlog: fewer than 10 distinct templates (template_hash not filled?)")

        for f in formats:
            if f == "json":
                continue
            rows = got[f]
            if len(rows) != len(got["json"]):
                fail(f"{f}: {len(rows)} events, the jsonlog has {len(got['json'])}")
            for j, (a, b) in enumerate(zip(got["json"], rows)):
                for key in COMPARED[f]:
                    if a[key] != b[key]:
                        fail(f"{f} event {j + 1} (line {b['line']}; jsonlog line {a['line']}): "
                             f"{key} is {b[key]!r}, the jsonlog says {a[key]!r}")
            if f == "csv":
                # Records span lines: each starts after the previous one ends.
                for prev, cur in zip(rows, rows[1:]):
                    if cur["line"] != prev["end_line"] + 1:
                        fail(f"csv: event at line {cur['line']} does not follow the one ending "
                             f"at {prev['end_line']}")
                if not any(r["end_line"] > r["line"] for r in rows):
                    fail("csv: no record spanning lines was read")

    for f in failures[:60]:
        print("FAIL:", f)
    if len(failures) > 60:
        print(f"... and {len(failures) - 60} more")
    if failures:
        sys.exit(1)
    print(f"ok: {', '.join(formats)} give the same {len(truth)} log events")


if __name__ == "__main__":
    main()
