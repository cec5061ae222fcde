#!/usr/bin/env python3
"""The stderr reader under every common log_line_prefix, against the server's own truth.

fixtures/logs/prefixes/ holds one real PostgreSQL 15 server's stderr log under eleven
log_line_prefix settings (prefixes.json: PostgreSQL's default, Debian's, RDS's, pgBadger's
recommended ones, an empty prefix, epoch times, padded escapes, session and transaction ids,
backend type, session start time beside the log time), each beside the jsonlog the server
wrote at the same time (fixtures/generate/logs/pg_prefixes.sh). Each stderr file is ingested
twice -- its prefix detected from the lines, and given with --pg-prefix -- and its log_event
rows are compared with the jsonlog's entries, read here with the json module: the same
number, and in the same order (per process where the prefix has %p) the same severity,
message, detail, hint, context, statement; and what the prefix carries: the time in UTC (%m
and %n to the millisecond, %t to the second; none without a time), the pid, the SQLSTATE
(%e), user, database and application.
"""
import argparse
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path


# Prefixes the detection does not find from the lines (the user gives them with --pg-prefix):
# there the detected run must not pass for a sound reading -- it refuses the file, or says
# which lines it could not read.
KNOWN_UNDETECTED = {
    "[%p] %m %e %-10u %10d| ": "padded user and database: their width varies with the names",
    "%m %c %x %v %b ": "the backend type is one or two words of free text, the vxid is empty "
                       "before a session starts",
}


def carries(real, derived):
    """Whether a derived prefix reads every field the real one writes (and a time as precise)."""
    def fields(spec):
        got = set(re.findall(r"%-?[0-9]*([a-zA-Z])", spec))
        return {"time-ms" if c in "mn" else "time-s" if c in "ts" else c for c in got
                if c in "mntsudaepl"}
    return fields(real) <= fields(derived)


def truth(path):
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        j = json.loads(line)
        # "2026-12-05 19:25:58.939 CET": the zone of the server (Europe/Berlin) in winter.
        date, time, zone = j["timestamp"].split(" ")
        assert zone == "CET", j["timestamp"]
        local = datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M:%S.%f")
        u = (local.replace(tzinfo=timezone.utc) - (datetime(2000, 1, 1, 1) - datetime(2000, 1, 1)))
        out.append({"json_line": n, "pid": j["pid"], "severity": j["error_severity"],
                    "sqlstate": j.get("state_code", "00000"), "utc": u,
                    "message": j["message"], "detail": j.get("detail"), "hint": j.get("hint"),
                    "context": j.get("context"), "statement": j.get("statement"),
                    "user_name": j.get("user"), "database_name": j.get("dbname"),
                    "application": j.get("application_name")})
    return out


def ingest(exe, store, log, extra):
    r = subprocess.run([exe, "ingest", "--store", str(store), *extra, str(log)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None, [f"ingest exited {r.returncode}: {r.stderr.strip()}"]
    db = sqlite3.connect(store)
    db.row_factory = sqlite3.Row
    art = db.execute("SELECT id, kind, status, status_detail FROM artifact").fetchone()
    problems = []
    if art["kind"] != "pg-log-stderr" or art["status"] != "ok":
        problems.append(f"kind {art['kind']}, status {art['status']}: {art['status_detail']}")
    problems += [f"problem {p[0]} {p[1]}: {p[2]}" for p in db.execute(
        "SELECT severity, code, message FROM problem WHERE artifact_id = ?", (art["id"],))]
    rows = [dict(r) for r in db.execute(
        "SELECT * FROM log_event WHERE artifact_id = ? ORDER BY line", (art["id"],))]
    return rows, problems


def compare(name, prefixes, rows, want, fail):
    """prefixes: the file's own prefix, then the one a reload at its end changed it to."""
    if len(rows) != len(want):
        fail(f"{name}: {len(rows)} events, the jsonlog has {len(want)}")
        return
    # Processes write to the two files independently, so entries of different processes may
    # come in another order: each jsonlog entry goes with the first row left of its message
    # (and its pid, where the row has one).
    used, pairs = set(), []
    for w in want:
        match = next((i for i, g in enumerate(rows) if i not in used and g["message"] == w["message"]
                      and g["pid"] in (None, w["pid"])), None)
        if match is None:
            fail(f"{name}: no row for json line {w['json_line']}: {w['message']!r}")
            continue
        used.add(match)
        pairs.append((rows[match], w))
    pairs.sort(key=lambda p: p[0]["line"])
    seen_next = False
    for g, w in pairs:
        where = f"{name}: line {g['line']} (json line {w['json_line']})"
        prefix = g["format"].removeprefix("pg-stderr:")
        if prefix not in prefixes:
            fail(f"{where}: read with {prefix!r}, not one of {prefixes}")
            continue
        # The file's prefix until the reload's announcement, the next one from there on.
        if seen_next and prefix != prefixes[-1]:
            fail(f"{where}: read with {prefix!r} after the change to {prefixes[-1]!r}")
        seen_next = seen_next or (len(prefixes) > 1 and prefix == prefixes[1])
        # an escape, with or without padding (%-10u)
        has = lambda *escapes: any(re.search("%-?[0-9]*" + e[1], prefix)  # noqa: E731
                                   for e in escapes)
        for f in ("severity", "message", "detail", "hint", "context"):
            if g[f] != w[f]:
                fail(f"{where} {f}: {g[f]!r} != {w[f]!r}")
        if w["statement"] is not None and g["statement"] != w["statement"]:
            fail(f"{where} statement: {g['statement']!r} != {w['statement']!r}")
        if w["statement"] is None and g["statement"] is not None and not w["message"].endswith(
                g["statement"]):
            fail(f"{where} statement {g['statement']!r} is not the end of the message")
        # %m and %n to the millisecond, %t to the second (stored with .000); none without.
        if has("%m", "%n"):
            ts = w["utc"].strftime("%Y-%m-%dT%H:%M:%S.") + f"{w['utc'].microsecond // 1000:03d}Z"
        elif has("%t"):
            ts = w["utc"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
        else:
            ts = None
        if g["ts"] != ts:
            fail(f"{where} ts: {g['ts']!r} != {ts!r}")
        if g["pid"] != (w["pid"] if has("%p") else None):
            fail(f"{where} pid: {g['pid']!r}, the jsonlog's {w['pid']!r}")
        if g["sqlstate"] != (w["sqlstate"] if has("%e") else None):
            fail(f"{where} sqlstate: {g['sqlstate']!r} != {w['sqlstate']!r}")
        for f, esc in (("user_name", "%u"), ("database_name", "%d"), ("application", "%a")):
            if has(esc) and w[f] is not None and g[f] != w[f]:
                fail(f"{where} {f}: {g[f]!r} != {w[f]!r}")
            if not has(esc) and g[f] is not None:
                fail(f"{where} {f}: {g[f]!r}, but the prefix has no {esc}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True)
    a = ap.parse_args()
    fixture = Path(a.root) / "fixtures" / "logs" / "prefixes"
    cases = json.loads((fixture / "prefixes.json").read_text(encoding="utf-8"))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, case in enumerate(cases, 1):
            prefix = case["log_line_prefix"]
            want = truth(fixture / case["truth"])
            # The workload gave what the comparison is meant to cover.
            states = {w["sqlstate"] for w in want}
            if not {"42P01", "23505", "01000"} <= states or not any(
                    w["hint"] and w["context"] for w in want):
                failures.append(f"{case['file']}: the workload's errors are not all there")
            for how, extra in (("detected", []), ("given", ["--pg-prefix", prefix])):
                name = f"{case['file']} ({prefix!r}, {how})"
                rows, problems = ingest(a.dbautopsy, Path(tmp) / f"{n}-{how}.db",
                                        fixture / case["file"], extra)
                if how == "detected" and prefix in KNOWN_UNDETECTED:
                    said = [p for p in problems if "log-prefix-changed" not in p]
                    if not said:
                        failures.append(f"{name}: read without a word, though the detection "
                                        f"is known not to find this prefix")
                    else:
                        print(f"known: {name}: {KNOWN_UNDETECTED[prefix]}; said: {said[0][:120]}")
                    continue
                # The reload to the next prefix is at the end of each file but the last.
                prefixes = [prefix] + ([cases[n]["log_line_prefix"]] if n < len(cases) else [])
                for p in problems:
                    if not p.startswith("problem notice log-prefix-changed"):
                        failures.append(f"{name}: {p}")
                if rows and how == "detected" and rows[0]["format"] != f"pg-stderr:{prefix}":
                    # derived from the lines: another spelling is fine if it reads every field
                    derived = rows[0]["format"].removeprefix("pg-stderr:")
                    if not carries(prefix, derived):
                        failures.append(f"{name}: detected as {derived!r}, which misses fields")
                    prefixes[0] = derived
                if rows is not None:
                    compare(name, prefixes, rows, want, failures.append)
    for f in failures[:80]:
        print("FAIL:", f)
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print(f"ok: {len(cases)} prefixes, each detected and given, agree with the jsonlog")
    return 0


if __name__ == "__main__":
    sys.exit(main())
