#!/usr/bin/env python3
"""A server logging in India's time ("... IST"), a log cut inside a line, and errors about a
missing column that name no table, or the table's alias.

fixtures/logs/ist/ was written by one real PostgreSQL 15 (fixtures/generate/logs/pg_ist.sh):
ist.log (stderr, log_line_prefix '%m [%p] %q%u@%d '), ist.csv and ist.json at once, with
log_timezone = 'Asia/Kolkata'; league.sql is a pg_dump of the database the workload ran on;
ist.cut.log is `head -c` of ist.log, cut inside a line. Checked with `dbautopsy ingest` and
`dbautopsy investigate`:

1. IST is India's +05:30: every log_event.ts of the stderr log, the csvlog and the jsonlog is
   the jsonlog's wall-clock time read in Asia/Kolkata (Python's zoneinfo), so the three agree
   to the millisecond; the stderr log has a notice `log-time-zone` saying IST is ambiguous and
   read as India's, and no other problem.
2. ist.cut.log is `partial`, with an error `log-truncated` on its last line (the one without a
   newline); the entries before the cut are those of the whole log.
3. `column "nonexistent_col" does not exist` (no table named) and `column t.missing_col does
   not exist` (t is the alias of `FROM teams t`): in every format, the column's log_entity
   has name `teams`, and no relation entity is the alias `t`. `investigate` of a case made of
   league.sql and the log (stderr, then jsonlog) reports `log.missing-object-error` on table
   teams for both columns, and no finding on a table `t`.
"""
import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

SERVER_ZONE = ZoneInfo("Asia/Kolkata")  # log_timezone of the generator
FILES = {"stderr": "ist.log", "csv": "ist.csv", "json": "ist.json"}
KINDS = {"stderr": "pg-log-stderr", "csv": "pg-log-csv", "json": "pg-log-json"}
COLUMNS = {"nonexistent_col", "missing_col"}

failures = []


def fail(msg):
    failures.append(msg)


def ingest(dbautopsy, path, store):
    run = subprocess.run([dbautopsy, "ingest", "--store", str(store), str(path)],
                         capture_output=True, text=True)
    if run.returncode not in (0, 1, 2):
        sys.exit(f"dbautopsy ingest {path.name} exited {run.returncode}:\n{run.stderr}")
    db = sqlite3.connect(store)
    db.row_factory = sqlite3.Row
    art = dict(db.execute("SELECT id, kind, status, status_detail FROM artifact").fetchone())
    events = [dict(r) for r in db.execute(
        "SELECT id, line, ts, ts_written, severity, sqlstate, message FROM log_event "
        "WHERE artifact_id = ? ORDER BY line", (art["id"],))]
    problems = [dict(r) for r in db.execute(
        "SELECT severity, code, line, message FROM problem WHERE artifact_id = ? ORDER BY id",
        (art["id"],))]
    entities = [dict(r) for r in db.execute(
        "SELECT e.line, e.message, le.kind, le.name, le.value FROM log_entity le "
        "JOIN log_event e ON e.id = le.event_id WHERE le.artifact_id = ? "
        "AND le.kind IN ('column', 'relation', 'table') ORDER BY e.line, le.n", (art["id"],))]
    db.close()
    return art, events, problems, entities


def utc_of(written):
    """"2026-12-07 00:32:49.520 IST" read in the server's log_timezone, in UTC."""
    stamp, zone = written.rsplit(" ", 1)
    if zone != "IST":
        fail(f"jsonlog timestamp {written!r} is not written in IST")
    local = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=SERVER_ZONE)
    u = local.astimezone(timezone.utc)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"


def check_times(got, truth):
    for f, (art, events, problems, _) in got.items():
        if art["kind"] != KINDS[f]:
            fail(f"{FILES[f]}: read as {art['kind']!r}, expected {KINDS[f]!r}")
        if art["status"] != "ok":
            fail(f"{FILES[f]}: status {art['status']} ({art['status_detail']})")
        if len(events) != len(truth):
            fail(f"{FILES[f]}: {len(events)} events, the jsonlog holds {len(truth)} objects")
        for n, (want, have) in enumerate(zip(truth, events), 1):
            if have["ts"] != want["ts"]:
                fail(f"{FILES[f]} event {n} (line {have['line']}, written "
                     f"{have['ts_written']!r}): ts {have['ts']!r}, the jsonlog's instant in "
                     f"Asia/Kolkata is {want['ts']!r}")
            if have["message"] != want["message"]:
                fail(f"{FILES[f]} event {n}: message {have['message']!r}, "
                     f"jsonlog {want['message']!r}")
    art, events, problems, _ = got["stderr"]
    zone = [p for p in problems if p["code"] == "log-time-zone"]
    if len(zone) != 1:
        fail(f"ist.log: {len(zone)} problems log-time-zone, expected one notice; problems: "
             f"{problems}")
    for p in zone:
        if p["severity"] != "notice" or "IST" not in p["message"] or \
                "India" not in p["message"] or "ambiguous" not in p["message"]:
            fail(f"ist.log: log-time-zone is {p['severity']} {p['message']!r}, expected a "
                 "notice that IST is ambiguous and read as India's")
    for p in problems:
        if p["code"] != "log-time-zone":
            fail(f"ist.log: problem {p['severity']} {p['code']} line {p['line']}: "
                 f"{p['message']}")


def check_cut(dbautopsy, folder, tmp, whole_events):
    path = folder / "ist.cut.log"
    data = path.read_bytes()
    if data.endswith(b"\n"):
        fail("fixture: ist.cut.log ends in a newline (not cut inside a line)")
    last_line = data.count(b"\n") + 1
    art, events, problems, _ = ingest(dbautopsy, path, tmp / "cut.db")
    if art["kind"] != "pg-log-stderr":
        fail(f"ist.cut.log: read as {art['kind']!r}")
    if art["status"] != "partial":
        fail(f"ist.cut.log: status {art['status']!r} ({art['status_detail']}), "
             "expected partial")
    cut = [p for p in problems if p["code"] == "log-truncated"]
    if [(p["severity"], p["line"]) for p in cut] != [("error", last_line)]:
        fail(f"ist.cut.log: log-truncated problems {cut}, expected one error on line "
             f"{last_line}, the last line")
    for p in problems:
        if p["severity"] == "error" and p["code"] != "log-truncated":
            fail(f"ist.cut.log: problem {p['severity']} {p['code']} line {p['line']}: "
                 f"{p['message']}")
    # Every entry before the cut one is read as in the whole log.
    complete = events[:-1]
    if not complete:
        fail("ist.cut.log: no entry read before the cut")
    for have, want in zip(complete, whole_events):
        if (have["line"], have["ts"], have["message"]) != \
                (want["line"], want["ts"], want["message"]):
            fail(f"ist.cut.log line {have['line']}: {have['ts']} {have['message']!r}, the "
                 f"whole log has {want['ts']} {want['message']!r}")


def check_entities(got):
    for f, (_, events, _, entities) in got.items():
        errors = [e for e in events if e["severity"] == "ERROR" and
                  "column" in e["message"] and "does not exist" in e["message"]]
        if len(errors) != 4:
            fail(f"{FILES[f]}: {len(errors)} errors about a missing column, the workload "
                 "made 4")
        for e in errors:
            cols = [x for x in entities if x["line"] == e["line"] and x["kind"] == "column"]
            if [(c["name"], c["value"]) for c in cols] not in \
                    [[("teams", c)] for c in COLUMNS]:
                fail(f"{FILES[f]} line {e['line']} ({e['message']!r}): column entities "
                     f"{[(c['name'], c['value']) for c in cols]}, expected the column of "
                     "table teams")
            for x in entities:
                if x["line"] == e["line"] and x["kind"] in ("relation", "table") and \
                        x["value"] == "t":
                    fail(f"{FILES[f]} line {e['line']}: the alias t is read as a "
                         f"{x['kind']}")


def check_investigate(dbautopsy, folder, tmp, log):
    case = tmp / f"case_{log}"
    case.mkdir()
    shutil.copy(folder / "league.sql", case / "league.sql")
    shutil.copy(folder / log, case / log)
    out = tmp / f"out_{log}"
    run = subprocess.run([dbautopsy, "investigate", str(case), "--out", str(out), "--store",
                          str(tmp / f"case_{log}.db"), "-q"], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        fail(f"investigate league.sql + {log}: exit {run.returncode}: {run.stderr}")
        return
    findings = json.loads((out / "report.json").read_text())["findings"]
    missing = [f for f in findings if f["rule"] == "log.missing-object-error"]
    have = {(f["subject"]["table"], f["subject"]["column"]) for f in missing}
    for col in sorted(COLUMNS):
        if ("teams", col) not in have:
            fail(f"investigate league.sql + {log}: no log.missing-object-error on "
                 f"teams.{col}; it reports {sorted(have, key=str)}")
    for f in missing:
        if f["subject"]["table"] == "t":
            fail(f"investigate league.sql + {log}: a finding on the alias as table t: "
                 f"{f['message']}")
    if ("user_profile_about_item", None) not in have:
        fail(f"investigate league.sql + {log}: the missing relation user_profile_about_item "
             "has no finding")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    args = ap.parse_args()
    folder = args.fixtures / "logs" / "ist"

    truth = []
    for text in (folder / "ist.json").read_text(encoding="utf-8").splitlines():
        o = json.loads(text)
        truth.append({"ts": utc_of(o["timestamp"]), "message": o["message"]})
    if not any("t.missing_col" in t["message"] for t in truth) or \
            not any('"nonexistent_col"' in t["message"] for t in truth):
        fail("fixture: the jsonlog lacks the errors about t.missing_col and nonexistent_col")

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        got = {f: ingest(args.dbautopsy, folder / name, tmp / f"{f}.db")
               for f, name in FILES.items()}
        check_times(got, truth)
        check_cut(args.dbautopsy, folder, tmp, got["stderr"][1])
        check_entities(got)
        for log in ("ist.log", "ist.json"):
            check_investigate(args.dbautopsy, folder, tmp, log)

    for f in failures[:60]:
        print("FAIL:", f)
    if len(failures) > 60:
        print(f"... and {len(failures) - 60} more")
    if failures:
        sys.exit(1)
    print(f"ok: {len(truth)} events in IST agree in stderr, csvlog and jsonlog; the cut log is "
          "partial; missing columns are teams'")


if __name__ == "__main__":
    main()
