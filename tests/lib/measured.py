"""Running dbautopsy as a child whose peak memory and time a test bounds."""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import NamedTuple

# A sanitizer's report in a child's stderr.
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|"
                       r"runtime error:")


class Run(NamedTuple):
    status: int  # exit code; minus the signal's number when one ended it
    out: str
    err: str
    rss_mib: float  # this child's own peak (wait4), not the largest of every child so far
    cpu_s: float  # user + system
    wall_s: float


def measure(args, timeout, cwd=None):
    """Runs args, killed after `timeout` seconds; output goes through files, not pipes, so a
    child that writes much cannot block."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(args, cwd=cwd, stdout=out, stderr=err)
        timer = threading.Timer(timeout, lambda: p.send_signal(signal.SIGKILL))
        timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(p.returncode, out.read().decode(errors="replace"),
                   err.read().decode(errors="replace"), usage.ru_maxrss / 1024,
                   usage.ru_utime + usage.ru_stime, time.monotonic() - start)


def bounded(what, rc, err, rss, max_seconds, max_rss_mb):
    """The failures of one measured run: its exit, a sanitizer report, its peak memory."""
    wrong = []
    if rc != 0:
        wrong.append(f"{what}: exit {rc} (a crash, an error or the time bound {max_seconds} s): "
                     f"{err[-2000:]}")
    if SANITIZER.search(err):
        wrong.append(f"{what}: sanitizer report: {err[-3000:]}")
    if rss > max_rss_mb:
        wrong.append(f"{what}: peak memory {rss:.0f} MiB over the bound {max_rss_mb} MiB")
    return wrong


def finish(failures):
    """Prints the failures (on stderr) or "all checks passed"; the script's exit status."""
    if failures:
        print(f"{len(failures)} failures:", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


def copies_arguments(default_copies):
    """The arguments of a test that makes a case of many copies of a fixture case's files
    (tests/cli/CMakeLists.txt's add_copies_test)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--copies", type=int, default=default_copies)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--max-rss-mb", type=float, default=300)
    return ap.parse_args()
