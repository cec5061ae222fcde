#!/usr/bin/env python3
"""The stderr reader against the server's own truth.

fixtures/logs/pg_stderr holds what one real PostgreSQL 15 server wrote, at the same time, as
stderr (postgresql.log, with the log_line_prefix of log_line_prefix.txt) and as jsonlog
(postgresql.json); fixtures/generate/logs/pg_stderr.sh made them. This test ingests the
stderr file with `dbautopsy ingest` twice -- prefix detected from the lines, and given with
--pg-prefix -- and compares its log_event rows with the jsonlog entries read here with the
json module: same number, and per process in the same order the same severity, SQLSTATE,
time (converted to UTC here with zoneinfo, from the zone each entry was written in), message,
detail, hint, context, internal query, statement and location; user, database and
application where the jsonlog has them. It also checks that the workload produced the errors
it was meant to (from the jsonlog side), so that the comparison covers them.
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

# The zones the fixture's server ran in, by the abbreviation PostgreSQL writes for them.
ZONES = {"-03": ZoneInfo("America/Sao_Paulo"), "CET": ZoneInfo("Europe/Berlin"),
         "CEST": ZoneInfo("Europe/Berlin")}

FIELDS = ["severity", "sqlstate", "ts", "ts_written", "message", "detail", "hint", "context",
          "query", "statement", "location", "user_name", "database_name", "application"]


def utc(written):
    date, time, zone = written.split(" ")
    local = datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M:%S.%f").replace(
        tzinfo=ZONES[zone])
    u = local.astimezone(timezone.utc)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"


def expected_events(path):
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        j = json.loads(line)
        location = None
        if "func_name" in j or "file_name" in j:
            location = f"{j.get('func_name')}, {j.get('file_name')}:{j.get('file_line_num')}"
        out.append({
            "pid": j["pid"],
            "severity": j["error_severity"],
            # jsonlog leaves state_code out when the error code is 0, which %e writes 00000.
            "sqlstate": j.get("state_code", "00000"),
            "ts": utc(j["timestamp"]),
            "ts_written": j["timestamp"],
            "message": j["message"],
            "detail": j.get("detail"),
            "hint": j.get("hint"),
            "context": j.get("context"),
            "query": j.get("internal_query"),
            "statement": j.get("statement"),
            "location": location,
            "user_name": j.get("user"),
            "database_name": j.get("dbname"),
            "application": j.get("application_name"),
            "json_line": n,
        })
    return out


def ingest(exe, store, log, extra):
    r = subprocess.run([exe, "ingest", "--store", str(store), *extra, str(log)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr, file=sys.stderr)
        raise SystemExit(f"FAIL: dbautopsy ingest exited {r.returncode}")
    db = sqlite3.connect(store)
    db.row_factory = sqlite3.Row
    art = db.execute("SELECT id, kind, status, status_detail FROM artifact").fetchone()
    events = [dict(r) for r in db.execute(
        "SELECT * FROM log_event WHERE artifact_id = ? ORDER BY line", (art["id"],))]
    problems = [dict(r) for r in db.execute(
        "SELECT severity, code, line, message FROM problem WHERE artifact_id = ?", (art["id"],))]
    return dict(art), events, problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True)
    a = ap.parse_args()
    fixture = Path(a.root) / "fixtures" / "logs" / "pg_stderr"
    prefix = (fixture / "log_line_prefix.txt").read_text(encoding="utf-8").rstrip("\n")
    expected = expected_events(fixture / "postgresql.json")
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    # The workload gave what the comparison is meant to cover.
    states = {e["sqlstate"] for e in expected}
    for code in ["42P01", "42703", "23505", "23503", "23502", "22012", "42601", "22P02", "P0001",
                 "01000", "28000"]:
        check(code in states, f"the jsonlog has no entry with SQLSTATE {code}")
    check(any(e["hint"] and e["detail"] and e["context"] for e in expected),
          "no entry with DETAIL, HINT and CONTEXT")
    check(any(e["location"] for e in expected), "no verbose entry (LOCATION)")
    check(any(e["message"].startswith("duration: ") and "\n" in e["message"] for e in expected),
          "no multi-line statement logged with its duration")
    check(any(e["statement"] and "\t" in e["statement"] for e in expected),
          "no statement with tabs")
    check(any(not e["message"].isascii() for e in expected), "no non-ASCII message")
    check({w["ts_written"].split(" ")[2] for w in expected} >= {"-03", "CET"},
          "the zone did not change during the run")

    with tempfile.TemporaryDirectory() as tmp:
        runs = {}
        for name, extra in [("detected", []), ("given", ["--pg-prefix", prefix])]:
            art, events, problems = ingest(a.dbautopsy, Path(tmp) / f"{name}.db",
                                           fixture / "postgresql.log", extra)
            runs[name] = events
            check(art["kind"] == "pg-log-stderr", f"{name}: kind {art['kind']}")
            check(art["status"] == "ok", f"{name}: status {art['status']}: {art['status_detail']}")
            check(not problems, f"{name}: problems {problems}")
            formats = {e["format"] for e in events}
            check(formats == {f"pg-stderr:{prefix}"}, f"{name}: formats {formats}")
            check(len(events) == len(expected),
                  f"{name}: {len(events)} events, the jsonlog has {len(expected)}")

            # Per process, in order (the two files interleave processes independently).
            def by_pid(rows):
                out = {}
                for r in rows:
                    out.setdefault(r["pid"], []).append(r)
                return out
            got, want = by_pid(events), by_pid(expected)
            check(sorted(got) == sorted(want), f"{name}: pids {sorted(got)} vs {sorted(want)}")
            for pid, wrows in want.items():
                grows = got.get(pid, [])
                for g, w in zip(grows, wrows):
                    for f in FIELDS:
                        gv, wv = g[f], w[f]
                        if f == "statement" and wv is None and gv is not None:
                            # A statement logged in the message (duration / statement: lines)
                            # is taken out of it; the jsonlog leaves it in the message only.
                            check(w["message"].endswith(gv),
                                  f"{name}: line {g['line']}: statement {gv!r} not from the "
                                  f"message {w['message']!r}")
                            continue
                        if f in ("user_name", "database_name", "application") and wv is None:
                            continue
                        check(gv == wv, f"{name}: line {g['line']} (json line {w['json_line']}) "
                                        f"{f}: {gv!r} != {wv!r}")
        check([{k: v for k, v in e.items() if k != "id" and k != "artifact_id"}
               for e in runs["detected"]] ==
              [{k: v for k, v in e.items() if k != "id" and k != "artifact_id"}
               for e in runs["given"]], "the detected and the given prefix read differently")

    if failures:
        for f in failures[:60]:
            print("FAIL:", f)
        print(f"{len(failures)} failures")
        return 1
    print(f"ok: {len(expected)} entries agree with the jsonlog")
    return 0


if __name__ == "__main__":
    sys.exit(main())
