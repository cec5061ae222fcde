#!/usr/bin/env python3
"""A pg_dump with very many tiny tables: bounded time and memory, every table in the store.

The dump is made on the fly in a temporary folder (streamed, never committed) from a real
pg_dump's statements: the preamble of fixtures/cases/league_clean/before.sql.gz, then the
TOC entries of its table --table (default `leagues`) -- the table, its data and its primary
key, or with --everything every entry named after the table (its sequence, the sequence's
OWNED BY, the column DEFAULT, setval, other constraints, indexes) -- repeated --tables times
under new names (leagues_1, leagues_2, ...), in pg_dump's order: each entry of the table for
every copy, then the next (every CREATE TABLE, then every table's data, its COPY with the
first row, ..., then every primary key). `--table polls --everything` gives tables with a
serial id: a sequence each.

Checks: the ingest ends by itself within its time bound, with exit 0, no sanitizer report
and a peak resident memory (wait4's ru_maxrss of that process alone) under --max-rss-mb;
the store then holds exactly --tables relations, --tables primary keys and --tables
table_stats rows of one row each for the dump, and its artifact status is ok.

With --slope-from N, a dump of N tables is read too, and the memory that each table
beyond N adds, (peak(--tables) - peak(N)) / (--tables - N), must stay under
--max-kib-per-table: the figure that says what a dump of a million tables needs without
reading one (the fixed part, SQLite's page cache filling up, counts in the slope, so it
errs on the high side).

With --investigate-tables N, `investigate` runs on a case folder holding a dump of N tables:
it must end within --max-investigate-seconds with exit 0, a JSON report without findings
(one row a table, no Django history) and no sanitizer report, under --max-investigate-rss-mb
(default --max-rss-mb).

With --history-tables N, a store holds a dump of N tables beside a Django history (the
migrations and django_migrations export of --history, a fixture case) that creates none of
them: `analyze` must end within --max-analyze-seconds, and every table is a
drift.unexplained-table finding (a rule looking an expected object up in the dump's objects
through a view that SQLite cannot search by an index reads every one of them each time: 24.6
s of analysis for 20,000 tables before the current snapshot's objects were kept in tables).

Usage: check_many_tables.py --dbautopsy PATH --fixtures DIR [--tables N] [--max-rss-mb M]
                            [--max-seconds S] [--keep DIR]
                            [--slope-from N --max-kib-per-table K]
                            [--investigate-tables N --max-investigate-seconds S
                             --max-investigate-rss-mb M]
                            [--history DIR --history-tables N --max-analyze-seconds S]
"""
import argparse
import gzip
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from measured import bounded, finish, measure  # noqa: E402

SOUND = "cases/league_clean/before.sql.gz"


def sections(text):
    """Splits a plain dump into its preamble and its TOC entries' sections (each starts with
    the "--\\n-- TOC entry" or "--\\n-- Name:" comment pg_dump writes above it)."""
    parts = re.split(r"(?m)^(?=--\n-- (?:TOC entry |Name: |Data for Name: ))", text)
    return parts[0], parts[1:]


def owned(sections_, table, everything):
    """The sections of TOC entries named after TABLE: the table, its data, and the entries
    pg_dump names `TABLE_...` or `TABLE ...` (sequence, default, constraints, indexes); or,
    without `everything`, the table, its data and its primary key."""
    t = re.escape(table)
    rest = (r"(?:[ _;])" if everything else
            r"(?:; Type: TABLE(?: DATA)?;| " + t + r"_pkey; Type: CONSTRAINT;)")
    name = re.compile(r"(?m)^-- (?:Data for )?Name: " + t + rest)
    found = [s for s in sections_ if name.search(s)]
    if not any(re.search(r"(?m)^-- Name: " + t + "; Type: TABLE;", s)
               for s in found):
        raise SystemExit(f"the fixture has no table named {table!r}")
    return found


def first_row_only(section):
    """A TABLE DATA section with the first row of its COPY only."""
    lines = section.splitlines(True)
    copy = next(i for i, line in enumerate(lines) if line.startswith("COPY "))
    end = next(i for i, line in enumerate(lines) if line.startswith("\\."))
    if copy + 2 > end:
        raise SystemExit("the fixture's table has no rows")
    return "".join(lines[:copy + 2] + lines[end:])


def make_dump(path, fixtures, n, table, everything):
    """Writes the dump; returns how many sequences each copy of the table brings."""
    with gzip.open(Path(fixtures) / SOUND, "rt") as f:
        text = f.read()
    preamble, entries = sections(text)
    parts = [first_row_only(s) if "; Type: TABLE DATA;" in s else s
             for s in owned(entries, table, everything)]
    # Every name that starts with the table's: leagues, leagues_pkey, polls_id_seq.
    own = re.compile(r"\b" + re.escape(table) + r"(?![A-Za-z0-9])")

    with open(path, "w") as out:
        out.write(preamble)
        for part in parts:
            buf = []
            for i in range(1, n + 1):
                buf.append(own.sub(f"{table}_{i}", part))
                if len(buf) == 4096:
                    out.write("".join(buf))
                    buf.clear()
            out.write("".join(buf))
        # The real dump's trailer ("-- Completed on", "PostgreSQL database dump complete").
        out.write(text[text.index("-- Completed on"):])
    return sum("; Type: SEQUENCE;" in part for part in parts)


def query(exe, store, sql):
    q = subprocess.run([exe, "query", "--store", str(store), "--format", "csv", sql],
                       capture_output=True, text=True, errors="replace")
    if q.returncode != 0:
        raise SystemExit(f"query failed: {q.stderr}")
    return q.stdout.splitlines()[1:]


def check_history(exe, a, tmp):
    """A dump of --history-tables tables and a Django history creating none of them: the
    analysis within its time bound, each table one drift.unexplained-table finding."""
    history = Path(a.history)
    case = tmp / "history"
    case.mkdir()
    dump = case / "dump.sql"
    make_dump(dump, a.fixtures, a.history_tables, a.table, a.everything)
    store = tmp / "history.db"
    paths = [str(dump), str(history / "migrations"), str(history / "django_migrations.csv")]
    rc, _, err, rss, _, _ = measure([exe, "ingest", "--store", str(store)] + paths,
                                    a.max_seconds)
    wrong = bounded("ingest with a history", rc, err, rss, a.max_seconds, a.max_rss_mb)
    if wrong:
        return wrong
    rc, _, err, rss, cpu, wall = measure([exe, "analyze", "--store", str(store)],
                                         a.max_analyze_seconds)
    print(f"analyze of {a.history_tables} tables and the history of {history.name}: exit {rc}, "
          f"{rss:.0f} MiB peak, {cpu:.1f} s CPU, {wall:.1f} s wall")
    wrong = bounded("analyze with a history", rc, err, rss, a.max_analyze_seconds,
                    a.max_investigate_rss_mb or a.max_rss_mb)
    if wrong:
        return wrong
    unexplained = query(exe, store, "SELECT count(*), count(DISTINCT subject_table) FROM finding "
                        "WHERE rule = 'drift.unexplained-table' "
                        f"AND subject_table LIKE '{a.table}\\_%' ESCAPE '\\'")
    n = a.history_tables
    if unexplained != [f"{n},{n}"]:
        return [f"drift.unexplained-table findings (findings, tables): {unexplained}, "
                f"expected {n},{n}"]
    return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--tables", type=int, default=100_000)
    ap.add_argument("--table", default="leagues",
                    help="the fixture's table to repeat")
    ap.add_argument("--everything", action="store_true",
                    help="with every entry named after the table, not only its primary key")
    ap.add_argument("--max-rss-mb", type=float, default=300)
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--keep", help="make the dump in this folder and keep it")
    ap.add_argument("--slope-from", type=int, help="also read a dump of this many tables")
    ap.add_argument("--max-kib-per-table", type=float, default=4.0)
    ap.add_argument("--investigate-tables", type=int,
                    help="also run `investigate` on a case folder holding a dump of this many "
                         "tables")
    ap.add_argument("--max-investigate-seconds", type=float, default=120)
    ap.add_argument("--max-investigate-rss-mb", type=float,
                    help="the peak RSS bound of `investigate` (default: --max-rss-mb)")
    ap.add_argument("--history", help="a fixture case folder: its migrations/ and "
                    "django_migrations.csv are read beside a dump of --history-tables tables")
    ap.add_argument("--history-tables", type=int)
    ap.add_argument("--max-analyze-seconds", type=float, default=120)
    a = ap.parse_args()
    if bool(a.history) != bool(a.history_tables):
        ap.error("--history and --history-tables go together")
    if a.slope_from is not None and not 0 < a.slope_from < a.tables:
        ap.error("--slope-from must be between 0 and --tables")
    exe = str(Path(a.dbautopsy).resolve())
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = Path(a.keep) if a.keep else tmp
        dump = folder / f"tables_{a.tables}.sql"
        t0 = time.monotonic()
        per = make_dump(dump, a.fixtures, a.tables, a.table, a.everything)
        print(f"made {dump.name}: {dump.stat().st_size} bytes in {time.monotonic() - t0:.1f} s")
        store = tmp / "facts.db"
        rc, _, err, rss, cpu, wall = measure([exe, "ingest", "--store", str(store), str(dump)],
                                             a.max_seconds)
        print(f"ingest of {a.tables} tables: exit {rc}, {rss:.0f} MiB peak, {cpu:.1f} s CPU, "
              f"{wall:.1f} s wall")
        failures += bounded("ingest", rc, err, rss, a.max_seconds, a.max_rss_mb)
        if rc == 0:
            status = query(exe, store, "SELECT status FROM artifact")
            if status != ["ok"]:
                failures.append(f"artifact status {status}, expected ok")
            n = str(a.tables)
            rels = query(exe, store, "SELECT count(*), count(DISTINCT name) FROM db_relation "
                         f"WHERE kind = 'table' AND name LIKE '{a.table}\\_%' ESCAPE '\\'")
            if rels != [f"{n},{n}"]:
                failures.append(f"db_relation holds {rels}, expected {n} distinct tables")
            keys = query(exe, store, "SELECT count(*) FROM db_constraint WHERE kind = 'p'")
            if keys != [n]:
                failures.append(f"db_constraint holds {keys} primary keys, expected {n}")
            # Each serial id's sequence, owned by its column, with its setval.
            seqs = query(exe, store, "SELECT count(*), count(owned_by_table), "
                         "count(last_value), count(DISTINCT name) FROM db_sequence")
            want = f"{per * a.tables},{per * a.tables},{per * a.tables},{per * a.tables}"
            if seqs != [want]:
                failures.append(f"db_sequence holds {seqs} (sequences, owned, set, distinct), "
                                f"expected {want}")
            stats = query(exe, store, "SELECT count(*), sum(rows) FROM table_stats")
            if stats != [f"{n},{n}"]:
                failures.append(f"table_stats holds {stats} (tables, rows), expected {n},{n}")
        if a.slope_from is not None:
            small = folder / f"tables_{a.slope_from}.sql"
            make_dump(small, a.fixtures, a.slope_from, a.table, a.everything)
            store2 = tmp / "facts_small.db"
            rc2, _, err2, rss2, cpu2, _ = measure(
                [exe, "ingest", "--store", str(store2), str(small)], a.max_seconds)
            slope = (rss - rss2) * 1024 / (a.tables - a.slope_from)
            print(f"ingest of {a.slope_from} tables: exit {rc2}, {rss2:.0f} MiB peak, "
                  f"{cpu2:.1f} s CPU; each table beyond takes {slope:.2f} KiB: a million tables "
                  f"would take about {rss2 + slope * (1_000_000 - a.slope_from) / 1024:.0f} MiB")
            if rc2 != 0:
                failures.append(f"exit {rc2} for {a.slope_from} tables: {err2[-2000:]}")
            if slope > a.max_kib_per_table:
                failures.append(f"each table takes {slope:.2f} KiB, over the bound "
                                f"{a.max_kib_per_table} KiB")
        if a.investigate_tables:
            # The whole analysis, rules included: a rule that looks up each table's columns
            # by a subquery over a view is quadratic in the number of tables, and so was the
            # search for the parent table an `..._id` column names (each column against every
            # table: 46 s for 20,000 tables with a serial id, 6.5 minutes for 30,000).
            case = tmp / "case"
            case.mkdir()
            make_dump(case / "dump.sql", a.fixtures, a.investigate_tables, a.table, a.everything)
            rc3, out3, err3, rss3, cpu3, wall3 = measure(
                [exe, "investigate", str(case), "--store", str(tmp / "case.db"), "--format",
                 "json", "--fail-on", "never"], a.max_investigate_seconds)
            print(f"investigate of {a.investigate_tables} tables: exit {rc3}, {rss3:.0f} MiB "
                  f"peak, {cpu3:.1f} s CPU, {wall3:.1f} s wall")
            wrong = bounded("investigate", rc3, err3, rss3, a.max_investigate_seconds,
                            a.max_investigate_rss_mb or a.max_rss_mb)
            failures += wrong
            if not wrong:
                report = json.loads(out3)
                rules = sorted({f["rule"] for f in report["findings"]})
                if rules:
                    failures.append(f"investigate: findings of {rules} in a dump of tables "
                                    f"with one row each and no Django history")
        if a.history:
            failures += check_history(exe, a, tmp)
    return finish(failures)


if __name__ == "__main__":
    sys.exit(main())
