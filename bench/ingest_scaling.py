#!/usr/bin/env python3
"""Ingest time and peak RSS against dump size: `dbautopsy ingest` of each dump, best of
`runs` (wall seconds, the CPU seconds of that run, and the largest peak RSS of all runs),
printed as a table and plotted (python3-matplotlib) into a small PNG."""
import argparse
import os
import shutil
import subprocess
import tempfile
import time


def measure(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    rc = os.waitstatus_to_exitcode(status)
    if rc != 0:
        raise subprocess.CalledProcessError(rc, cmd)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--png", required=True)
    ap.add_argument("--title", default="dbautopsy ingest of a plain pg_dump")
    ap.add_argument("dumps", nargs="+")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="dbautopsy-scaling-")
    store = os.path.join(tmp, "facts.db")
    points = []
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, load average {load:.1f} at the start; best of {args.runs}, "
          f"page cache warm where the file fits\n")
    print(f"{'dump':<28}{'GB':>7}{'wall s':>9}{'cpu s':>9}{'GB/s':>7}{'peak RSS MiB':>14}")
    for dump in args.dumps:
        size = os.path.getsize(dump) / 1e9
        subprocess.run(["cat", dump], stdout=subprocess.DEVNULL, check=True)
        best = None
        rss = 0.0
        for _ in range(args.runs):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(store + suffix):
                    os.remove(store + suffix)
            m = measure([args.dbautopsy, "ingest", "--store", store, dump])
            best = m if best is None or m[0] < best[0] else best
            rss = max(rss, m[2])
        points.append((size, best[0], best[1], rss))
        print(f"{os.path.basename(dump):<28}{size:7.2f}{best[0]:9.2f}{best[1]:9.2f}"
              f"{size / best[0]:7.2f}{rss:14.1f}")
    shutil.rmtree(tmp)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = [p[0] for p in points]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
    ax.plot(sizes, [p[1] for p in points], "o-", label="wall s (best)")
    ax.plot(sizes, [p[2] for p in points], "s--", label="CPU s (that run)")
    ax.set_xlabel("dump size (GB)")
    ax.set_ylabel("seconds")
    ax.grid(True, alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot(sizes, [p[3] for p in points], "^:", color="tab:red", label="peak RSS MiB")
    ax2.axhline(150, color="tab:red", alpha=0.3, linewidth=1)
    ax2.set_ylabel("peak RSS (MiB)")
    ax2.set_ylim(0, 200)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left", fontsize=8)
    ax.set_title(args.title, fontsize=10)
    fig.tight_layout()
    fig.savefig(args.png)
    print(f"\nplot: {args.png}")


if __name__ == "__main__":
    main()
