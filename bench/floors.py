#!/usr/bin/env python3
"""dbautopsy's dump ingestion against its physical floors, in one run.

Every artifact's SHA-256 is evidence, so a plain dump cannot be ingested faster than the
fastest SHA-256 of its bytes (`openssl dgst -sha256`), and a compressed one no faster than
its codec's own command-line decompressor. For each pair the best of `runs` alternating
runs is kept (wall seconds, and the CPU seconds, user + system, of that run: on a shared
machine the best run is the one least disturbed), and the ratio is printed against its goal
with "met" or "NOT met".

It also checks that the fast paths give the same facts: the table_stats and db_relation
rows of every compressed copy's store, and of `investigate`'s, must equal the plain
ingest's. A difference makes the script exit 1.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time


def measure(cmd, shell=False):
    """(wall s, cpu s, peak RSS KiB) of one run; output to /dev/null."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, shell=shell, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    rc = os.waitstatus_to_exitcode(status)
    # investigate exits 1 when it has findings: that is an answer, not a failure.
    if rc not in (0, 1) or (rc == 1 and not isinstance(cmd, list)):
        raise subprocess.CalledProcessError(rc, cmd)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def fresh(store):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(store + suffix):
            os.remove(store + suffix)
    return store


FACTS = {
    "table_stats": "SELECT db, schema_name, table_name, source, columns, rows, bytes, complete, "
                   "distinct_rows, repeated_rows, distinct_method, ignored_columns, "
                   "distinct_without_first, top_rows, stored_rows FROM table_stats "
                   "ORDER BY section, schema_name, table_name",
    "db_relation": "SELECT db, schema_name, name, kind, persistence FROM db_relation "
                   "ORDER BY schema_name, name",
}


def facts(dbautopsy, store):
    out = {}
    for name, sql in FACTS.items():
        res = subprocess.run([dbautopsy, "query", "--store", store, "--format", "json", sql],
                             check=True, capture_output=True, text=True)
        out[name] = json.loads(res.stdout)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--plain", required=True)
    ap.add_argument("--gzip")
    ap.add_argument("--zstd")
    ap.add_argument("--xz")
    ap.add_argument("--bzip2")
    ap.add_argument("--table", default="public.events", help="the COPY table for awk")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--awk-runs", type=int, default=1)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="dbautopsy-floors-")
    db = args.dbautopsy

    def ingest(path, store):
        return lambda: [db, "ingest", "--store", fresh(os.path.join(tmp, store)), path]

    # investigate reads a case folder: one holding the plain dump (a hard link to it; to the
    # file itself when bench/out holds a symbolic link to the dump, since os.link links the
    # symbolic link, and investigate does not follow a link that leads out of its folder).
    case = os.path.join(tmp, "case")
    os.mkdir(case)
    os.link(os.path.realpath(args.plain), os.path.join(case, os.path.basename(args.plain)))

    def investigate(path, store):
        return lambda: [db, "investigate", "--store", fresh(os.path.join(tmp, store)),
                        "--format", "json", "--output", os.path.join(tmp, "report.json"), case]

    # (label, floor label, floor command, dbautopsy command, goal, store, kind)
    # kind "le": dbautopsy time <= goal x floor; "ge": floor time >= goal x dbautopsy time.
    plan = [("plain", "openssl dgst -sha256", lambda: ["openssl", "dgst", "-sha256", args.plain],
             "ingest", ingest(args.plain, "plain.db"), 1.15, "plain.db", "le")]
    for codec, tool, goal in (("gzip", "igzip -dc", 1.2), ("zstd", "zstd -dc", 1.1),
                              ("xz", "xz -dc", 1.1), ("bzip2", "lbzip2 -dc", 1.1)):
        path = getattr(args, codec)
        if path:
            plan.append((codec, tool, (lambda t=tool, p=path: t.split() + [p]),
                         "ingest", ingest(path, codec + ".db"), goal, codec + ".db", "le"))
    plan.append(("plain", "ingest", ingest(args.plain, "plain-ref.db"), "investigate",
                 investigate(args.plain, "investigate.db"), 1.1, "investigate.db", "le"))

    size = os.path.getsize(args.plain)
    print(f"plain dump: {size / 1e9:.3f} GB, {os.path.basename(args.plain)}")
    for codec in ("gzip", "zstd", "xz", "bzip2"):
        p = getattr(args, codec)
        if p:
            print(f"{codec + ' copy:':<12}{os.path.getsize(p) / 1e9:.3f} GB, {os.path.basename(p)}")
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.1f} at the start; best of "
          f"{args.runs} alternating runs ({args.awk_runs} of awk), page cache warm\n", flush=True)
    paths = [p for p in (args.plain, args.gzip, args.zstd, args.xz, args.bzip2) if p]
    subprocess.run(["cat"] + paths, stdout=subprocess.DEVNULL, check=True)

    rows = []
    failed = False
    print(f"{'':<34}{'wall s':>8}{'cpu s':>8}{'RSS MiB':>9}   {'floor':<22}{'wall s':>8}"
          f"{'cpu s':>8}   {'ratio':>7}  goal", flush=True)

    def show(row):
        name, d, floor_name, f, ratio, goal, met = row
        print(f"{name:<34}{d[0]:8.2f}{d[1]:8.2f}{d[2] / 1024:9.1f}   {floor_name:<22}{f[0]:8.2f}"
              f"{f[1]:8.2f}   {ratio:6.2f}x  {goal:<7} {'met' if met else 'NOT met'}", flush=True)
    for label, floor_name, floor_cmd, what, cmd, goal, store, kind in plan:
        best_floor = best = None
        for _ in range(args.runs):
            f = measure(floor_cmd())
            d = measure(cmd())
            best_floor = f if best_floor is None or f[0] < best_floor[0] else best_floor
            best = d if best is None or d[0] < best[0] else best
        ratio = best[0] / best_floor[0]
        met = ratio <= goal
        rows.append((f"{what} ({label})", best, floor_name, best_floor, ratio, f"<= {goal}x", met))
        show(rows[-1])

    # investigate against awk | sort | uniq -c over the same COPY rows.
    awk = (f"LC_ALL=C awk '/^COPY {args.table.replace('.', '[.]')} /{{c=1;next}} "
           f"/^\\\\[.]$/{{c=0}} c' '{args.plain}' | LC_ALL=C sort | LC_ALL=C uniq -c | "
           f"LC_ALL=C sort -rn | head -n 20")
    best_awk = None
    for _ in range(args.awk_runs):
        a = measure(awk, shell=True)
        best_awk = a if best_awk is None or a[0] < best_awk[0] else best_awk
    inv = next(r for r in rows if r[0].startswith("investigate"))[1]
    speedup = best_awk[0] / inv[0]
    rows.append(("awk|sort|uniq -c / investigate", best_awk, "investigate", inv, speedup,
                 ">= 10x", speedup >= 10))
    show(rows[-1])
    peak = max(r[1][2] for r in rows[:-1]) / 1024
    print(f"\npeak RSS of dbautopsy: {peak:.1f} MiB (goal < 150 MiB: "
          f"{'met' if peak < 150 else 'NOT met'})")

    # The fast paths' facts against the plain path's.
    ref = facts(db, os.path.join(tmp, "plain.db"))
    for _, _, _, _, _, _, store, _ in plan:
        if store == "plain.db":
            continue
        got = facts(db, os.path.join(tmp, store))
        same = got == ref
        failed |= not same
        n = sum(len(v) for v in got.values())
        print(f"facts of {store:<16} (table_stats, db_relation: {n} rows) "
              f"{'equal the plain ingest' if same else 'DIFFER from the plain ingest'}")
    shutil.rmtree(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
