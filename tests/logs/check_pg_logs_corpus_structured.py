#!/usr/bin/env python3
"""Every csvlog and JSON PostgreSQL log of the shared corpus is read whole.

Ingests the csvlog files (Elastic Beats' PostgreSQL 11 and 13 samples, pgBadger's
csv_statement_without_duration.log, anonymize.log and weeknumber.log, csvlogs despite their
names) and the JSON ones (pgBadger's jsonlog pg_vacuums.json.gz,
Cloud SQL's cloudsql.log.gz, CloudNativePG's cnpg.log.gz) in one `dbautopsy ingest` run and
checks, per file: the kind found from the content, status ok, and the number of log events
and their severities and messages against what this script reads from the file itself with
Python's csv, gzip and json modules:

- csvlog: one event per CSV record (a record may span lines);
- jsonlog: one event per line;
- CloudNativePG: one event per line (a `record` is a server entry, other lines are the
  operator's own);
- Cloud SQL: one event per line, except the lines that continue the entry before them: a
  payload that starts with a tab (a message of several lines) or a DETAIL / HINT / CONTEXT /
  STATEMENT / QUERY / LOCATION line of the same process.

Known oddities of the sources, and what is expected of them:
- pgbadger/csv_statement_without_duration.log has 25 columns, a width PostgreSQL never writes
  (the pgBadger report it comes from dropped one of PostgreSQL 14's two last columns): read by
  its first 24 columns, with one notice.
- pgbadger/pg_rawcsv.log is, despite its name, a stderr log (pgBadger's test feeds it with
  --format stderr): it must not be read as csvlog.
"""
import argparse
import csv
import gzip
import io
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from locate import corpus_dir  # noqa: E402

CSV_FILES = [
    "elastic-beats/postgresql-11-autovacuum.csv.log",
    "elastic-beats/postgresql-11-multi-line.csv.log",
    "elastic-beats/postgresql-11-parse-bind.csv.log",
    "elastic-beats/postgresql-13-error-code.csv.log",
    "elastic-beats/postgresql-13.csv.log",
    "pgbadger/csv_statement_without_duration.log",
    "pgbadger/anonymize.log",
    "pgbadger/weeknumber.log",
]
JSON_FILES = {
    "pgbadger/pg_vacuums.json.gz": "jsonlog",
    "pgbadger/cloudsql.log.gz": "cloudsql",
    "pgbadger/cnpg.log.gz": "cnpg",
}
NOT_CSV = ["pgbadger/pg_rawcsv.log"]
# The notices a file is expected to have (code), and nothing else.
EXPECTED_PROBLEMS = {"pgbadger/csv_statement_without_duration.log": ["pg-csv-layout"]}

FIELD = re.compile(r"^\[(\d+)\]: \[\d+-\d+\] .*?\b(DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION):  ")
PRIMARY = re.compile(r"^\[(\d+)\]: \[\d+-\d+\] .*?\b([A-Z]+[1-5]?):  (.*)$", re.S)


def read_text(path):
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def expected_csv(path):
    records = [r for r in csv.reader(io.StringIO(read_text(path), newline=""))
               if r != [] and r != [""]]
    return [(r[11], r[13]) for r in records]


def expected_json(path, shape):
    out = []
    pid = None
    for line in read_text(path).splitlines():
        if not line.strip():
            continue
        o = json.loads(line)
        if shape == "jsonlog":
            out.append((o["error_severity"], o["message"]))
        elif shape == "cnpg":
            if "record" in o:
                out.append((o["record"]["error_severity"], o["record"]["message"]))
            else:
                out.append((None, None))  # the operator's line: counted, not compared
        else:
            payload = o["textPayload"]
            m = FIELD.match(payload)
            if out and (payload.startswith("\t") or (m and m.group(1) == pid)):
                if payload.startswith("\t") and out[-1][2] == "message":
                    sev, msg, last = out[-1]
                    out[-1] = (sev, msg + "\n" + payload[1:], last)
                elif m:
                    out[-1] = (out[-1][0], out[-1][1], "field")
                continue
            p = PRIMARY.match(payload)
            if p:
                pid = p.group(1)
                out.append((p.group(2), p.group(3), "message"))
            else:
                pid = None
                out.append((o.get("severity"), payload, "message"))
    if shape == "cloudsql":
        out = [(s, m) for s, m, _ in out]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True, type=Path)
    args = ap.parse_args()
    corpus = corpus_dir(args.root) / "pg_logs"
    failures = []
    files = CSV_FILES + list(JSON_FILES) + NOT_CSV
    for rel in files:
        if not (corpus / rel).is_file():
            failures.append(f"{rel}: missing from the corpus")
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        sys.exit(1)

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "facts.db"
        run = subprocess.run([args.dbautopsy, "ingest", "--store", str(store),
                              *[str(corpus / rel) for rel in files]],
                             capture_output=True, text=True)
        # 2: a file of no kind the build reads (pg_rawcsv.log, a stderr log, until the stderr
        # reader is there); each file's outcome is checked below.
        if run.returncode not in (0, 1, 2):
            sys.exit(f"dbautopsy ingest exited {run.returncode}:\n{run.stderr}")
        db = sqlite3.connect(store)
        arts = {Path(p).resolve(): (i, k, s, d) for i, p, k, s, d in db.execute(
            "SELECT id, path, kind, status, status_detail FROM artifact")}
        total = 0
        for rel in files:
            path = (corpus / rel).resolve()
            if path not in arts:
                failures.append(f"{rel}: not ingested")
                continue
            aid, kind, status, detail = arts[path]
            if rel in NOT_CSV:
                if kind == "pg-log-csv":
                    failures.append(f"{rel}: a stderr log read as csvlog")
                continue
            want_kind = "pg-log-csv" if rel in CSV_FILES else "pg-log-json"
            if kind != want_kind:
                failures.append(f"{rel}: kind {kind}, expected {want_kind} ({detail})")
                continue
            if status != "ok":
                failures.append(f"{rel}: status {status} ({detail})")
            codes = sorted(c for (c,) in db.execute(
                "SELECT code FROM problem WHERE artifact_id = ?", (aid,)))
            if codes != sorted(EXPECTED_PROBLEMS.get(rel, [])):
                failures.append(f"{rel}: problems {codes}, expected "
                                f"{EXPECTED_PROBLEMS.get(rel, [])}")
            want = expected_csv(corpus / rel) if rel in CSV_FILES else \
                expected_json(corpus / rel, JSON_FILES[rel])
            have = list(db.execute("SELECT severity, message FROM log_event WHERE artifact_id = ? "
                                   "ORDER BY line", (aid,)))
            total += len(have)
            if len(have) != len(want):
                failures.append(f"{rel}: {len(have)} events, the file holds {len(want)}")
            bad = [(i, w, h) for i, (w, h) in enumerate(zip(want, have))
                   if w != (None, None) and tuple(w) != tuple(h)]
            for i, w, h in bad[:3]:
                failures.append(f"{rel}: event {i + 1} is {h!r}, the file says {w!r}")
            if len(bad) > 3:
                failures.append(f"{rel}: {len(bad)} events differ in all")
            missing_ts = db.execute("SELECT count(*) FROM log_event WHERE artifact_id = ? AND "
                                    "(ts IS NULL OR ts NOT LIKE '____-__-__T__:__:__.___Z')",
                                    (aid,)).fetchone()[0]
            if missing_ts:
                failures.append(f"{rel}: {missing_ts} events without a UTC timestamp")
        db.close()
    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print(f"ok: {len(files) - len(NOT_CSV)} structured logs, {total} events")


if __name__ == "__main__":
    main()
