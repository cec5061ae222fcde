#!/usr/bin/env python3
"""Every ETL log of the shared corpus (corpus/etl_logs: Airflow 2.x task and scheduler logs)
is read as a Python log, to the end, with every line placed.

Ingests the folder in one `dbautopsy ingest` run and checks, per file: kind app-log-python,
status ok, no problem at all, and as many log_event rows as the file has entries -- counted
here independently, as the lines that start with Airflow's prefix
`[YYYY-MM-DDTHH:MM:SS.fff+ZZZZ] {file.py:N} LEVEL - `; every other line (traceback frames,
the source lines Python's warnings print, blank lines) belongs to the entry before it, so the
entries' line ranges must cover the file without a gap. Tracebacks are counted the same way
(lines that are exactly `Traceback (most recent call last):` and start a traceback of their
entry), and each event's time must be its prefix's time in UTC.
"""
import argparse
import datetime
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from locate import corpus_dir  # noqa: E402

PREFIX = re.compile(
    r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})([+-]\d{4})\] \{[^}]+:\d+\} ([A-Z]+) - ")


def utc(stamp, millis, zone):
    t = datetime.datetime.strptime(stamp + zone, "%Y-%m-%dT%H:%M:%S%z")
    t = t.astimezone(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "." + millis + "Z"


def expected_of(path):
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    starts, times, levels, tracebacks = [], [], [], 0
    for number, line in enumerate(lines, 1):
        m = PREFIX.match(line)
        if m:
            starts.append(number)
            times.append(utc(m.group(1), m.group(2), m.group(3)))
            levels.append(m.group(4))
        elif line == "Traceback (most recent call last):":
            tracebacks += 1
    return {"lines": len(lines), "starts": starts, "times": times, "levels": levels,
            "tracebacks": tracebacks}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    corpus = corpus_dir(args.root) / "etl_logs"
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    if len(files) < 11:
        print(f"FAIL: expected the 11 Airflow logs under {corpus}, found {len(files)}")
        return 1
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "facts.db"
        run = subprocess.run([args.dbautopsy, "ingest", "--store", str(store), str(corpus)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(run.stdout, run.stderr)
            print("FAIL: ingest exited with", run.returncode)
            return 1
        db = sqlite3.connect(store)
        for path in files:
            name = str(path)
            row = db.execute("SELECT id, kind, status FROM artifact WHERE path = ?",
                             (name,)).fetchone()
            if row is None:
                failures.append(f"{name}: not in the store")
                continue
            artifact, kind, status = row
            want = expected_of(path)
            problems = db.execute("SELECT line, severity, message FROM problem WHERE "
                                  "artifact_id = ?", (artifact,)).fetchall()
            events = db.execute("SELECT line, end_line, ts, severity, traceback IS NOT NULL "
                                "FROM log_event WHERE artifact_id = ? ORDER BY line",
                                (artifact,)).fetchall()
            got_starts = [e[0] for e in events]
            covered = all(events[i][1] + 1 == events[i + 1][0] for i in range(len(events) - 1))
            checks = [
                (kind == "app-log-python", f"kind {kind}, expected app-log-python"),
                (status == "ok", f"status {status}"),
                (not problems, f"problems {problems[:3]}"),
                (len(events) == len(want["starts"]),
                 f"{len(events)} events, the file has {len(want['starts'])} entries"),
                (got_starts == want["starts"], "entries start on other lines than the prefixes"),
                (bool(events) and events[0][0] == 1 and events[-1][1] == want["lines"] and covered,
                 "the entries' line ranges do not cover the file"),
                ([e[2] for e in events] == want["times"], "times differ from the prefixes' UTC"),
                ([e[3] for e in events] == want["levels"], "levels differ"),
                (sum(e[4] for e in events) == want["tracebacks"],
                 f"{sum(e[4] for e in events)} tracebacks, the file has {want['tracebacks']}"),
            ]
            bad = [why for ok, why in checks if not ok]
            if bad:
                failures.append(f"{name}: " + "; ".join(bad))
            else:
                print(f"ok  {path.relative_to(corpus)}: {len(events)} entries, "
                      f"{want['tracebacks']} tracebacks")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
