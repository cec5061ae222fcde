#!/usr/bin/env python3
"""Times dbautopsy's data statistics against `wc -l` and the naive ways to count distinct
rows, on the same dump, in one process (run by data_speed.sh, which makes the dump).

wc -l and dbautopsy run in alternation, `runs` times; the slow references (sort | uniq -c,
and loading the dump into PostgreSQL then count(DISTINCT ...)) run `naive_runs` times. Each
figure is the median wall time. Before every run the dump is read into the page cache
(warm), or evicted from it with --cold. dbautopsy's peak RSS is taken from every one of its
runs (wait4), and its answer is read back from its store and checked against PostgreSQL's
exact count (and sort's).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import evict, run_rusage  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--table", required=True, help="schema.table of the big COPY section")
    ap.add_argument("--copy-line", type=int, required=True, help="line of its COPY statement")
    ap.add_argument("--rows", type=int, required=True, help="rows of the COPY section")
    ap.add_argument("--fields", required=True, help="cut -f list of the non-surrogate columns")
    ap.add_argument("--data-columns", required=True, help="the same columns, for count(DISTINCT)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--naive-runs", type=int, default=1)
    ap.add_argument("--exact-cap", type=int)
    ap.add_argument("--cold", action="store_true")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--psql", required=True)
    ap.add_argument("--pg-host", required=True)
    ap.add_argument("--pg-port", required=True)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="dbautopsy-data-bench-")
    store = os.path.join(tmp, "facts.db")
    schema, table = args.table.split(".")
    env = dict(os.environ, LC_ALL="C")

    def prepare():
        if args.cold:
            evict([args.dump])
        else:
            subprocess.run(["cat", args.dump], stdout=subprocess.DEVNULL, check=True)

    def psql(db, *more, capture=False):
        cmd = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", args.pg_host, "-p",
               args.pg_port, "-U", "postgres", "-d", db, *more]
        if capture:
            return subprocess.run(cmd + ["-At"], check=True, stdout=subprocess.PIPE,
                                  text=True).stdout
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        return None

    def wc():
        return run_rusage(["wc", "-l", args.dump])[0]

    rss = []

    def ingest():
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(store + suffix):
                os.remove(store + suffix)
        cmd = [args.dbautopsy, "ingest", "--store", store]
        if args.exact_cap is not None:
            cmd += ["--exact-cap", str(args.exact_cap)]
        elapsed, kib = run_rusage(cmd + [args.dump])
        rss.append(kib)
        return elapsed

    # The COPY rows are cut out by line number (tail | head), the cheapest way there is; a
    # user would more likely reach for sed or awk, which are slower.
    sort_cmd = (f"tail -n +{args.copy_line + 1} '{args.dump}' | head -n {args.rows} | "
                f"cut -f{args.fields} | sort -S 1G --parallel=2 -T '{tmp}' | uniq -c | wc -l")
    sort_distinct = []

    def sort_uniq():
        start = time.perf_counter()
        out = subprocess.run(sort_cmd, shell=True, check=True, stdout=subprocess.PIPE,
                             text=True, env=env).stdout
        elapsed = time.perf_counter() - start
        sort_distinct.append(int(out.strip()))
        return elapsed

    count_sql = (f"SELECT count(*), count(DISTINCT ({args.data_columns})) "
                 f"FROM {schema}.{table}")
    pg_counts = []
    pg_parts = []

    def postgres():
        db = f"bench_{len(pg_parts)}"
        psql("postgres", "-c", f"CREATE DATABASE {db}")
        start = time.perf_counter()
        psql(db, "-f", args.dump)
        loaded = time.perf_counter()
        out = psql(db, "-c", count_sql, capture=True)
        done = time.perf_counter()
        psql("postgres", "-c", f"DROP DATABASE {db}")
        rows, distinct = (int(x) for x in out.strip().split("|"))
        pg_counts.append((rows, distinct))
        pg_parts.append((loaded - start, done - loaded))
        return done - start

    fast = {"wc -l": wc, "dbautopsy ingest": ingest}
    slow = {} if args.skip_naive else {"sort | uniq -c": sort_uniq,
                                       "psql -f + count(DISTINCT)": postgres}
    times = {name: [] for name in list(fast) + list(slow)}
    for i in range(max(args.runs, 0 if args.skip_naive else args.naive_runs)):
        cases = dict(fast) if i < args.runs else {}
        if i < args.naive_runs:
            cases.update(slow)
        for name, fn in cases.items():
            prepare()
            times[name].append(fn())
    med = {name: statistics.median(v) for name, v in times.items() if v}

    # dbautopsy's answer, from the store of its last run.
    query = ("SELECT rows, distinct_rows, distinct_method, repeated_rows, ignored_columns, "
             f"top_rows FROM table_stats WHERE schema_name = '{schema}' "
             f"AND table_name = '{table}'")
    out = subprocess.run([args.dbautopsy, "query", "--store", store, "--format", "json", query],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    stats = json.loads(out)[0]

    size = os.path.getsize(args.dump)
    print(f"dump: {size / 1e9:.2f} GB, {args.table}: {args.rows:,} rows in one COPY section "
          f"({args.dump})")
    print(f"{os.cpu_count()} CPUs; page cache {'cold (evicted before every run)' if args.cold else 'warm'}; "
          f"median of {args.runs} alternating runs of wc -l and dbautopsy"
          + ("" if args.skip_naive else f", {args.naive_runs} of each naive reference"))
    print(f"sort: LC_ALL=C sort -S 1G --parallel=2\n")
    for name, t in med.items():
        extra = ""
        if name == "dbautopsy ingest":
            extra = f"   peak RSS {statistics.median(rss) / 1024:.0f} MiB (max {max(rss) / 1024:.0f})"
        if name.startswith("psql"):
            load = statistics.median(p[0] for p in pg_parts)
            count = statistics.median(p[1] for p in pg_parts)
            extra = f"   (load {load:.1f} s + count {count:.1f} s)"
        print(f"  {name:<28} {t:8.2f} s  {size / t / 1e9:6.2f} GB/s{extra}")
    d = med["dbautopsy ingest"]
    print()
    goals = []
    r = d / med["wc -l"]
    print(f"  dbautopsy / wc -l                 {r:6.2f}x   (goal: at most 2x)")
    goals.append(r <= 2)
    for name in slow:
        r = med[name] / d
        print(f"  {name + ' / dbautopsy':<33} {r:6.1f}x   (goal: at least 10x)")
        goals.append(r >= 10)
    peak = max(rss) / 1024
    print(f"  dbautopsy peak RSS              {peak:6.0f} MiB  (goal: under 500 MB = 477 MiB)")
    goals.append(peak * 1024 * 1024 < 500e6)
    print(f"  goals {'met' if all(goals) else 'NOT met'}\n")

    print("dbautopsy's answer (dbautopsy query ... FROM table_stats):")
    print(f"  rows {stats['rows']:,}, distinct rows {stats['distinct_rows']:,} "
          f"({stats['distinct_method']}), repeated rows {stats['repeated_rows']:,}")
    print(f"  columns left out: {stats['ignored_columns']}")
    if pg_counts:
        rows, distinct = pg_counts[-1]
        err = (stats["distinct_rows"] - distinct) / distinct
        print(f"  PostgreSQL count(*) {rows:,}, count(DISTINCT) {distinct:,}: "
              f"rows {'equal' if rows == stats['rows'] else 'DIFFERENT'}, "
              f"distinct rows off by {err * 100:+.3f}%")
    if sort_distinct:
        print(f"  sort | uniq -c: {sort_distinct[-1]:,} distinct rows")
    expected = args.rows * 5 // 6
    print(f"  by construction: {args.rows:,} rows, {expected:,} distinct "
          f"({(stats['distinct_rows'] - expected) / expected * 100:+.3f}%), then a batch of "
          f"41 rows repeated")
    top = json.loads(stats["top_rows"]) if stats["top_rows"] else []
    for g in top:
        sample = repr(g["row"][:60]) if g.get("row") else "(no sample: first seen after the sketch took over)"
        print(f"  repeated {g['count']:>10,}x  line {g['line']:>10}  {sample}")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
