#!/usr/bin/env python3
"""Damaged csvlog and jsonlog files: clear problems, no crash, what was read is kept.

Every input is made in a temporary folder from the real logs of fixtures/logs/formats (one
PostgreSQL 15's csvlog and jsonlog) by a stated edit:

  - a gzip of the jsonlog cut in the middle: status partial, the problem names the byte
    offset in the file, every line before the cut is an event;
  - the csvlog cut inside a quoted field of its last record: partial, an error naming the
    line where the record starts, every record before it kept;
  - pseudo-random bytes read with --as pg-log-csv and --as pg-log-json: status failed, no
    crash, a problem saying what was expected;
  - a 10 MiB message in one csvlog record and in one jsonlog line (under the 16 MiB cap: read
    whole), and a 20 MiB one (over it: one warning naming the line, the rest read);
  - invalid UTF-8 in a csvlog message and a jsonlog line: read with U+FFFD, a warning naming
    the line;
  - stderr lines spliced into a csvlog: counted, the first listed with their line numbers.
"""
import argparse
import gzip
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def ingest(exe, path, store, kind=None):
    args = [exe, "ingest", "--store", str(store)] + (["--as", kind] if kind else []) + [str(path)]
    run = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=600)
    check(run.returncode >= 0, f"{path.name}: killed by signal {-run.returncode}")
    db = sqlite3.connect(store)
    art = db.execute("SELECT id, kind, status, status_detail FROM artifact WHERE path LIKE ?",
                     (f"%{path.name}",)).fetchone()
    if art is None:
        failures.append(f"{path.name}: not ingested ({run.stderr.strip()})")
        return None
    events = db.execute("SELECT count(*) FROM log_event WHERE artifact_id = ?",
                        (art[0],)).fetchone()[0]
    problems = db.execute("SELECT severity, code, line, byte_offset, message FROM problem "
                          "WHERE artifact_id = ?", (art[0],)).fetchall()
    db.close()
    return {"kind": art[1], "status": art[2], "detail": art[3], "events": events,
            "problems": problems, "stderr": run.stderr}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    args = ap.parse_args()
    folder = args.fixtures / "logs" / "formats"
    csv_text = (folder / "formats.csv").read_bytes()
    json_text = (folder / "formats.json").read_bytes()
    json_lines = json_text.splitlines(keepends=True)
    csv_events = len(json_lines)  # the same server entries (pg_log_formats checks it)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        n = [0]

        def run(name, data, kind=None):
            n[0] += 1
            p = tmp / name
            p.write_bytes(data)
            return ingest(args.dbautopsy, p, tmp / f"s{n[0]}.db", kind)

        # A truncated gzip: the jsonlog repeated to be larger than the decoder's buffers.
        big = b"".join(json_lines) * 40
        gz = gzip.compress(big, mtime=0)
        r = run("cut.json.gz", gz[: len(gz) // 2])
        if r:
            check(r["kind"] == "pg-log-json", f"cut.json.gz: kind {r['kind']}")
            check(r["status"] == "partial", f"cut.json.gz: status {r['status']}")
            check(r["events"] > 0, "cut.json.gz: nothing kept before the cut")
            check(r["events"] < 40 * len(json_lines), "cut.json.gz: more events than lines read")
            errs = [p for p in r["problems"] if p[0] == "error"]
            check(any(p[3] is not None for p in errs),
                  f"cut.json.gz: no error with a byte offset: {r['problems']}")

        # The csvlog cut inside the quoted message of its last record.
        last_start = csv_text.rstrip(b"\n").rfind(b"\n") + 1
        quote = csv_text.index(b',"', csv_text.index(b",LOG,", last_start)) + 5
        r = run("cut.csv", csv_text[:quote])
        if r:
            check(r["status"] == "partial", f"cut.csv: status {r['status']}")
            check(r["events"] == csv_events - 1, f"cut.csv: {r['events']} events kept")
            line = csv_text[:last_start].count(b"\n") + 1
            check(any(p[0] == "error" and p[1] == "pg-csv-truncated" and p[2] == line
                      for p in r["problems"]), f"cut.csv: no truncation error at line {line}")

        # Garbage, forced to each kind.
        rnd = random.Random(10)
        garbage = bytes(rnd.randrange(256) for _ in range(200_000))
        for kind in ("pg-log-csv", "pg-log-json"):
            r = run(f"garbage.{kind}", garbage, kind)
            if r:
                check(r["status"] == "failed", f"garbage as {kind}: status {r['status']}")
                check(r["events"] == 0, f"garbage as {kind}: {r['events']} events")
                check(any(p[0] == "error" and ("expected" in p[4] or "no jsonlog" in p[4])
                          for p in r["problems"]), f"garbage as {kind}: {r['problems'][:3]}")

        # A 10 MiB message (read whole) and a 20 MiB one (over the cap) in each format.
        for size, read in ((10 << 20, True), (20 << 20, False)):
            filler = "é" * (size // 2)
            rec = ('2026-12-05 05:48:14.039 +0545,"u","d",1,,s.1,1,,2026-12-05 05:48:13 +0545,,0,'
                   f'LOG,00000,"{filler}",,,,,,,,,"","client backend",,0\n').encode()
            r = run(f"long{size >> 20}.csv", csv_text + rec + csv_text)
            if r:
                check(r["kind"] == "pg-log-csv", f"long csv: kind {r['kind']}")
                check(r["status"] == "ok", f"long csv {size >> 20} MiB: status {r['status']}")
                want = 2 * csv_events + (1 if read else 0)
                check(r["events"] == want, f"long csv {size >> 20} MiB: {r['events']} events")
                check(read or any(p[1] == "pg-csv-record" and "longer than" in p[4]
                                  for p in r["problems"]), "long csv: no warning")
            obj = json.loads(json_lines[0])
            obj["message"] = filler
            line = (json.dumps(obj, ensure_ascii=False) + "\n").encode()
            r = run(f"long{size >> 20}.json", json_text + line + json_text)
            if r:
                check(r["status"] == "ok", f"long json {size >> 20} MiB: status {r['status']}")
                want = 2 * len(json_lines) + (1 if read else 0)
                check(r["events"] == want, f"long json {size >> 20} MiB: {r['events']} events")
                check(read or any(p[1] == "pg-json-line" and p[2] == len(json_lines) + 1
                                  for p in r["problems"]), "long json: no warning")

        # Invalid UTF-8.
        bad_csv = csv_text.replace(b"database system is ready", b"database \xff\xfe is ready", 1)
        r = run("utf8.csv", bad_csv)
        if r:
            check(r["events"] == csv_events, f"utf8.csv: {r['events']} events")
            check(any(p[1] == "pg-csv-utf8" and p[0] == "warning" for p in r["problems"]),
                  f"utf8.csv: {r['problems']}")
        bad_json = json_text.replace(b"database system is ready", b"database \xff is ready", 1)
        r = run("utf8.json", bad_json)
        if r:
            check(r["events"] == len(json_lines), f"utf8.json: {r['events']} events")
            check(any(p[1] == "pg-json-utf8" and p[0] == "warning" for p in r["problems"]),
                  f"utf8.json: {r['problems']}")

        # stderr lines spliced into a csvlog, after its first record.
        first_end = csv_text.index(b"\n") + 1
        spliced = csv_text[:first_end] + b"pg_ctl: could not start server\n" \
            b"Examine the log output.\n" + csv_text[first_end:]
        r = run("spliced.csv", spliced)
        if r:
            check(r["events"] == csv_events, f"spliced.csv: {r['events']} events")
            lines = sorted(p[2] for p in r["problems"] if p[1] == "pg-csv-record")
            check(lines == [2, 3], f"spliced.csv: problems at lines {lines}, expected [2, 3]")
            check(r["status"] == "ok", f"spliced.csv: status {r['status']}")

    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("ok: damaged csvlog and jsonlog files")


if __name__ == "__main__":
    main()
