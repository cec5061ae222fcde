#!/usr/bin/env python3
"""Servers writing their messages in other languages: every entry read, missing objects found.

fixtures/logs/languages/ holds, per language (French, Russian, Japanese, Spanish, Korean), the
three logs one real PostgreSQL 15 server wrote at once with lc_messages in that language
(fixtures/generate/logs/pg_languages.sh): LANG.log (stderr, prefix '%m [%p] %q%u@%d ', no
SQLSTATE), LANG.csv (csvlog: translated severities such as ERREUR, ОШИБКА) and LANG.json
(jsonlog: severities in English, the truth here). expected.json lists the objects the
workload's statements miss, each checked by the generator against the SQLSTATE the server
gave it. For every language:

1. Each file alone is read whole: status ok, no problem, as many entries as the jsonlog.
2. The stderr log's and the csvlog's entries equal the jsonlog's, in order: the severity in
   English (`level`: the jsonlog's error_severity), message, detail, hint, context and
   statement; the stderr log's severity is the word the server wrote (the csvlog's).
3. `SELECT what, table_name, column_name FROM log_missing_object` gives exactly the expected
   objects from each file: the relation, the schema-qualified relation, the column named
   without its table, the one through an alias, and the column of ALTER TABLE.
4. `investigate` of the stderr log alone reports log.missing-object-error on each.
"""
import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

FIELDS = ("message", "detail", "hint", "context", "statement")
SQL = "SELECT what, table_name, column_name FROM log_missing_object"

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
    art = db.execute("SELECT kind, status, status_detail FROM artifact").fetchone()
    problems = [r["message"] for r in db.execute("SELECT message FROM problem")]
    entries = [dict(r) for r in db.execute(
        "SELECT severity, level, message, detail, hint, context, statement FROM log_event "
        "ORDER BY id")]
    db.close()
    return art, problems, entries


def missing_objects(dbautopsy, store, name):
    run = subprocess.run([dbautopsy, "query", "--store", str(store), "--format", "json", SQL],
                         capture_output=True, text=True)
    if run.returncode != 0:
        fail(f"{name}: dbautopsy query: exit {run.returncode}: {run.stderr.strip()}")
        return []
    return sorted((r["what"], r["table_name"], r["column_name"]) for r in json.loads(run.stdout))


def jsonlog_truth(path):
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        o = json.loads(line)
        out.append({"level": o["error_severity"], "message": o.get("message"),
                     "detail": o.get("detail"), "hint": o.get("hint"),
                     "context": o.get("context"), "statement": o.get("statement")})
    return out


def compare(name, got, truth):
    if len(got) != len(truth):
        fail(f"{name}: {len(got)} entries, the jsonlog has {len(truth)}")
        return
    for i, (g, t) in enumerate(zip(got, truth), 1):
        if g["level"] != t["level"]:
            fail(f"{name}: entry {i}: level {g['level']!r} (severity {g['severity']!r}), the "
                 f"jsonlog says {t['level']!r}")
        for f in FIELDS:
            if (g[f] or None) != (t[f] or None):
                fail(f"{name}: entry {i}: {f} {g[f]!r}, the jsonlog has {t[f]!r}")


def check_investigate(dbautopsy, log, tmp, want):
    case = tmp / f"case_{log.stem}"
    case.mkdir()
    (case / log.name).write_bytes(log.read_bytes())
    out = tmp / f"out_{log.stem}"
    run = subprocess.run([dbautopsy, "investigate", str(case), "--out", str(out), "--store",
                          str(tmp / f"case_{log.stem}.db"), "-q"], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        fail(f"investigate {log.name}: exit {run.returncode}: {run.stderr}")
        return
    findings = json.loads((out / "report.json").read_text())["findings"]
    have = {(f["subject"]["table"], f["subject"]["column"]) for f in findings
            if f["rule"] == "log.missing-object-error"}
    for _, table, column in want:
        if (table, column) not in have:
            fail(f"investigate {log.name}: no log.missing-object-error on {table}"
                 f"{'.' + column if column else ''}; it reports {sorted(have, key=str)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    args = ap.parse_args()
    folder = args.fixtures / "logs" / "languages"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for lang, exp in expected.items():
            truth = jsonlog_truth(folder / f"{lang}.json")
            if len(truth) != exp["entries"]:
                fail(f"{lang}.json: {len(truth)} entries, expected.json says {exp['entries']}")
            want = sorted((o["what"], o["table"], o["column"]) for o in exp["missing_objects"])
            words = {}
            for ext, kind in (("log", "pg-log-stderr"), ("csv", "pg-log-csv"),
                              ("json", "pg-log-json")):
                name = f"{lang}.{ext}"
                store = tmp / f"{lang}_{ext}.db"
                (k, status, detail), problems, entries = ingest(args.dbautopsy, folder / name,
                                                                store)
                if k != kind or status != "ok":
                    fail(f"{name}: read as {k} {status} ({detail}), expected {kind} ok")
                for p in problems:
                    fail(f"{name}: problem: {p}")
                compare(name, entries, truth)
                words[ext] = [e["severity"] for e in entries]
                got = [(w, t.split(".")[-1], c) for w, t, c in
                       missing_objects(args.dbautopsy, store, name)]
                if sorted(got) != want:
                    fail(f"{name}: log_missing_object gives {got}, expected {want}")
            if words["log"] != words["csv"]:
                fail(f"{lang}: the stderr log's severities {words['log']} are not the "
                     f"csvlog's {words['csv']}")
            check_investigate(args.dbautopsy, folder / f"{lang}.log", tmp, want)

    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print(f"ok: {len(expected)} languages: each log read whole as its jsonlog says, and the "
          "missing objects found in each")


if __name__ == "__main__":
    main()
