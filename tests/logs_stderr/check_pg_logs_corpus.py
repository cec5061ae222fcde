#!/usr/bin/env python3
"""Every PostgreSQL stderr-form log of the shared corpus (pg_logs) is read.

Ingests the stderr-form logs of corpus/pg_logs (plain, behind syslog, behind Heroku's
logplex; gzip and bzip2 as they come) in one `dbautopsy ingest` run and checks, per file:
kind pg-log-stderr, status ok, the number of log entries equal to the number counted here
independently (lines whose first severity marker is a primary severity: LOG, ERROR,
WARNING, ...; not DETAIL/HINT/CONTEXT/STATEMENT/QUERY/LOCATION lines, not tab-indented
continuations), and lines matching no entry only where listed below, each with why. The
corpus files in other forms (csvlog, jsonlog, cloud envelopes, pgbouncer) are listed too:
they must not be taken for stderr logs; PgBouncer's are read by their own kind, every line an
entry with its time, level, pid and connection as parsed here.
"""
import argparse
import bz2
from datetime import datetime, timedelta
import gzip
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from locate import cannot_run, corpus_dir  # noqa: E402

STDERR = [
    "elastic-beats/postgresql-10-default.log",
    "elastic-beats/postgresql-11.4.log",
    "elastic-beats/postgresql-12-default.log",
    "elastic-beats/postgresql-9.5-multi-core.log",
    "elastic-beats/postgresql-9.6-debian-with-slowlog.log",
    "elastic-beats/postgresql-ubuntu-9.5.log",
    "pgbadger/begin_end.log",
    "pgbadger/light.postgres.log.bz2",
    "pgbadger/logplex.gz",
    "pgbadger/multiline_param.log",
    "pgbadger/pg-syslog.1.bz2",
    "pgbadger/pg-syslog.2.gz",
    "pgbadger/pg-timezones.log",
    "pgbadger/pg_rawcsv.log",
    "pgbadger/pg_vacuums.log.gz",
    "pgbadger/postgresql_param_range.log",
    "pgbadger/queryid.log.gz",
    "pgbadger/rds.log.bz2",
    "pgbadger/stmt_type.log",
    "pgbadger/tempfile_only.log.gz",
]

# Lines that are no log entry, by file: a test on the line's text, and why.
UNMATCHED = {
    "pgbadger/pg_rawcsv.log": (
        lambda l: l in ("pg_ctl: could not start server", "Examine the log output."),
        "pg_ctl's own messages, written into the server's log file when it failed to start"),
    "pgbadger/pg-syslog.1.bz2": (
        lambda l: " systemd[1]: " in l,
        "systemd's lines, of another program in the same syslog"),
    "pgbadger/pg-syslog.2.gz": (
        lambda l: " systemd[1]: " in l,
        "systemd's lines, of another program in the same syslog"),
    "pgbadger/queryid.log.gz": (
        lambda l: l == "" or l.startswith("        LIMIT 1000"),
        "pgBadger's test file has blank lines and statement lines whose leading tab became "
        "spaces: PostgreSQL writes neither"),
}

# Corpus logs in other forms: read by other kinds, never as stderr.
OTHER_FORMS = {
    "elastic-beats/postgresql-11-autovacuum.csv.log": "csvlog",
    "elastic-beats/postgresql-11-multi-line.csv.log": "csvlog",
    "elastic-beats/postgresql-11-parse-bind.csv.log": "csvlog",
    "elastic-beats/postgresql-13-error-code.csv.log": "csvlog",
    "elastic-beats/postgresql-13.csv.log": "csvlog",
    "pgbadger/anonymize.log": "csvlog",
    "pgbadger/csv_statement_without_duration.log": "csvlog",
    "pgbadger/weeknumber.log": "csvlog",
    "pgbadger/cloudsql.log.gz": "Cloud SQL JSON",
    "pgbadger/cnpg.log.gz": "CloudNativePG JSON",
    "pgbadger/pg_vacuums.json.gz": "jsonlog",
    "pgbadger/pgbouncer.log.gz": "PgBouncer's log (kind pgbouncer-log)",
    "pgbadger/pgbouncer.1.21.log.gz": "PgBouncer's log (kind pgbouncer-log)",
}

# PgBouncer's line (src/util.c's log_generic): time[ zone] pid or [pid], level, message; a
# client's (C-) or server's (S-) line names its connection, db/user@host:port.
PGBOUNCER = re.compile(r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})(?: (?P<zone>[A-Z]+))? "
                       r"(?:\[(?P<pid>\d+)\]|(?P<pid2>\d+)) (?P<level>LOG|WARNING|ERROR|FATAL) "
                       r"(?:[CS]-0x[0-9a-f]+: (?P<db>[^/ ]*)/(?P<user>[^@ ]*)@(?P<client>\S+?) )?")
ZONES = {"UTC": 0, "CET": 1}  # the corpus files' zones (December: CET, not CEST)

PRIMARY = {"LOG", "ERROR", "WARNING", "FATAL", "PANIC", "NOTICE", "INFO", "DEBUG", "DEBUG1",
           "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5"}
SECONDARY = {"DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION"}
MARKER = re.compile(r"(?<![A-Za-z0-9])([A-Z]+[0-9]?):\s")
SYSLOG = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ \S+\[\d+\]: (?:\[\d+-(\d+)\] ?)?(.*)$")
LOGPLEX = re.compile(r"^\d{4}-\d\d-\d\dT\S+ .*?app\[postgres\.\d+\]:? (?:\[[A-Z]+\] )?"
                     r"\[\d+-(\d+)\] ?(.*)$")


def read_lines(path):
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    elif path.suffix == ".bz2":
        raw = bz2.decompress(raw)
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [l[:-1] if l.endswith("\r") else l for l in lines]


def count(lines, name):
    """Entries and lines of no entry, counted from the text alone."""
    envelope = SYSLOG if "syslog" in name else LOGPLEX if "logplex" in name else None
    entries, stray = 0, []
    for n, line in enumerate(lines, 1):
        inner, chunk = line, 1
        if envelope:
            m = envelope.match(line)
            if not m:
                stray.append((n, line))
                continue
            chunk = int(m.group(1) or 1)
            inner = m.group(2)
        if inner.startswith("\t") or inner.startswith("#011"):
            continue  # a continuation
        words = [m.group(1) for m in MARKER.finditer(inner)
                 if m.group(1) in PRIMARY or m.group(1) in SECONDARY]
        if not words:
            if envelope and chunk > 1:
                continue  # a long line that syslog split
            stray.append((n, line))
            continue
        if words[0] in PRIMARY:
            entries += 1
    return entries, stray


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--root", required=True)
    a = ap.parse_args()
    corpus = corpus_dir(a.root)
    base = corpus / "pg_logs"
    if not base.is_dir():
        cannot_run(f"the corpus has no pg_logs folder ({base})")
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    present = {str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()}
    check(present == set(STDERR) | set(OTHER_FORMS),
          f"corpus files not listed here: {sorted(present - set(STDERR) - set(OTHER_FORMS))}; "
          f"listed but missing: {sorted(set(STDERR) | set(OTHER_FORMS) - present)}")

    def ingest(store, names):
        r = subprocess.run([a.dbautopsy, "ingest", "--store", str(store),
                            *[str(base / n) for n in names]], capture_output=True, text=True)
        db = sqlite3.connect(store)
        arts = {}
        for aid, path, kind, status, detail in db.execute(
                "SELECT id, path, kind, status, status_detail FROM artifact"):
            arts[str(Path(path).resolve().relative_to(base.resolve()))] = (aid, kind, status,
                                                                          detail)
        return r, db, arts

    with tempfile.TemporaryDirectory() as tmp:
        # The other forms first: whatever reads them (or nothing, exit 2), not this reader.
        _, odb, others = ingest(Path(tmp) / "others.db", sorted(OTHER_FORMS))
        for name, form in OTHER_FORMS.items():
            check(others[name][1] != "pg-log-stderr", f"{name} ({form}) taken for a stderr log")
        # PgBouncer's logs are read by their own kind: every line an entry, its time in UTC
        # and the connection's database, user and client as parsed here independently.
        for name in ("pgbadger/pgbouncer.log.gz", "pgbadger/pgbouncer.1.21.log.gz"):
            aid, kind, status, detail = others[name]
            check(kind == "pgbouncer-log" and status == "ok",
                  f"{name}: kind {kind}, status {status}: {detail}")
            expected = []
            for line in read_lines(base / name):
                m = PGBOUNCER.match(line)
                check(m is not None, f"{name}: a line PgBouncer did not write: {line[:100]}")
                if m is None:
                    continue
                when = datetime.strptime(m["time"], "%Y-%m-%d %H:%M:%S.%f") - timedelta(
                    hours=ZONES[m["zone"] or "UTC"])
                expected.append((when.strftime("%Y-%m-%dT%H:%M:%S.") +
                                 f"{when.microsecond // 1000:03d}Z", m["level"],
                                 int(m["pid"] or m["pid2"]), m["db"], m["user"], m["client"]))
            got = odb.execute("SELECT ts, severity, pid, database_name, user_name, client "
                              "FROM log_event WHERE artifact_id = ? ORDER BY line",
                              (aid,)).fetchall()
            check(len(got) == len(expected),
                  f"{name}: {len(got)} entries, {len(expected)} lines")
            bad = [(g, e) for g, e in zip(got, expected) if tuple(g) != e]
            check(not bad, f"{name}: {len(bad)} entries differ, first: {bad[:1]}")
            print(f"{name}: {len(got)} entries of {kind}, "
                  f"{sum(1 for e in expected if e[3] is not None)} naming their connection")
        r, db, arts = ingest(Path(tmp) / "facts.db", STDERR)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            print(f"FAIL: dbautopsy ingest exited {r.returncode}")
            return 1
        total = 0
        for name in STDERR:
            aid, kind, status, detail = arts[name]
            check(kind == "pg-log-stderr", f"{name}: kind {kind}")
            check(status == "ok", f"{name}: status {status}: {detail}")
            lines = read_lines(base / name)
            entries, stray = count(lines, name)
            events = db.execute("SELECT count(*) FROM log_event WHERE artifact_id = ?",
                                (aid,)).fetchone()[0]
            total += events
            check(events == entries, f"{name}: {events} entries read, {entries} counted")
            check(db.execute("SELECT count(*) FROM log_event WHERE artifact_id = ? AND "
                             "(template_hash IS NULL OR severity IS NULL)",
                             (aid,)).fetchone()[0] == 0, f"{name}: events without template")
            check(db.execute("SELECT count(*) FROM log_event WHERE artifact_id = ? AND ts IS NULL "
                             "AND ts_written IS NOT NULL", (aid,)).fetchone()[0] == 0
                  or "syslog" in name, f"{name}: times not converted to UTC")
            unmatched = {ln for (ln,) in db.execute(
                "SELECT line FROM problem WHERE artifact_id = ? AND code = 'log-unmatched-line'",
                (aid,))}
            m = re.search(r"([\d,]+) lines matched no entry", detail or "")
            said = int(m.group(1).replace(",", "")) if m else 0
            test, why = UNMATCHED.get(name, (lambda l: False, ""))
            listed = {n for n, l in enumerate(lines, 1) if test(l)}
            check({n for n, _ in stray} == listed,
                  f"{name}: lines of no entry counted here {[n for n, _ in stray][:10]} are not "
                  f"the listed ones {sorted(listed)[:10]} ({why})")
            check(said == len(listed), f"{name}: {said} lines said unmatched, {len(listed)} listed")
            check(unmatched == set(sorted(listed)[:10]),
                  f"{name}: unmatched lines reported {sorted(unmatched)}, listed "
                  f"{sorted(listed)[:10]}")
            check(db.execute("SELECT count(*) FROM problem WHERE artifact_id = ? AND code NOT IN "
                             "('log-unmatched-line', 'log-unmatched-lines')",
                             (aid,)).fetchone()[0] == 0, f"{name}: other problems")

    if failures:
        for f in failures:
            print("FAIL:", f)
        return 1
    print(f"ok: {len(STDERR)} stderr logs, {total} entries; {len(OTHER_FORMS)} other forms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
