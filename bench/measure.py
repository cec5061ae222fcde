#!/usr/bin/env python3
"""Times dbautopsy against reference commands on the same files, in one process.

Each measurement runs the commands in alternation, `runs` times, and reports the median
wall time; dbautopsy's peak RSS is the rusage of that one process, as wait4 returns it (no
GNU time needed). "cold" runs first evict the files from the page cache (posix_fadvise
DONTNEED), so the disk is read as in a first look at a customer's dump; "warm" runs read
from the page cache.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def evict(paths):
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)


def run(cmd, shell=False):
    """Wall seconds of one run."""
    start = time.perf_counter()
    subprocess.run(cmd, shell=shell, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def run_rusage(cmd, shell=False, stdout=subprocess.DEVNULL):
    """Wall seconds and peak RSS (KiB) of one run: the rusage that wait4 returns for the
    child (for a shell pipeline, that of its largest process)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, shell=shell, stdout=stdout)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return elapsed, usage.ru_maxrss


def rss_of(cmd):
    """Peak RSS (KiB) of one process."""
    return run_rusage(cmd)[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--plain", required=True)
    ap.add_argument("--gzip", required=True)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="dbautopsy-bench-")
    store = os.path.join(tmp, "facts.db")

    def ingest(path):
        def cmd():
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(store + suffix):
                    os.remove(store + suffix)
            return [args.dbautopsy, "ingest", "--store", store, path]
        return cmd

    cases = {
        "wc -l (plain)": lambda: ["wc", "-l", args.plain],
        "dbautopsy ingest (plain)": ingest(args.plain),
        "sha256sum (plain)": lambda: ["sha256sum", args.plain],
        "zcat | wc -l (gzip)": lambda: f"zcat '{args.gzip}' | wc -l",
        "dbautopsy ingest (gzip)": ingest(args.gzip),
    }
    size = os.path.getsize(args.plain)
    gz = os.path.getsize(args.gzip)
    print(f"plain dump: {size / 1e9:.2f} GB, {args.plain}")
    print(f"gzip copy:  {gz / 1e9:.3f} GB")
    print(f"{os.cpu_count()} CPUs; median of {args.runs} alternating runs\n")
    results = {}
    for mode in ("warm", "cold"):
        times = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, make in cases.items():
                cmd = make()
                if mode == "cold":
                    evict([args.plain, args.gzip])
                else:
                    subprocess.run(["cat", args.plain, args.gzip], stdout=subprocess.DEVNULL)
                elapsed = run(cmd, shell=isinstance(cmd, str))
                times[name].append(elapsed)
        results[mode] = {name: statistics.median(v) for name, v in times.items()}

    rss_plain = rss_of(ingest(args.plain)())
    rss_gzip = rss_of(ingest(args.gzip)())
    for mode in ("warm", "cold"):
        r = results[mode]
        print(f"{mode} page cache:")
        for name, t in r.items():
            print(f"  {name:<28} {t:7.2f} s   {size / t / 1e9:5.2f} GB/s")
        print(f"  ratio ingest/wc -l (plain)          {r['dbautopsy ingest (plain)'] / r['wc -l (plain)']:.2f}x")
        print(f"  ratio ingest/sha256sum (plain)      {r['dbautopsy ingest (plain)'] / r['sha256sum (plain)']:.2f}x")
        print(f"  ratio ingest/(zcat | wc -l) (gzip)  {r['dbautopsy ingest (gzip)'] / r['zcat | wc -l (gzip)']:.2f}x\n")
    print(f"dbautopsy peak RSS: plain {rss_plain / 1024:.1f} MiB, gzip {rss_gzip / 1024:.1f} MiB")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
