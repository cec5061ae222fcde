#!/usr/bin/env python3
"""A case of many logs: bounded time and memory, the findings of one.

The case is made in a temporary folder from fixtures/cases/league_incident (real pg_dump
files, the real server log of its ETL run): its two dumps and its ETL log, and --copies
copies of its server log (logs/pg_1.log, logs/pg_2.log, ...), as a folder of rotated logs
gives them. Its server log holds one batch loop (log.repeated-batch).

Checks: `investigate` ends by itself within --max-seconds with exit 0, no sanitizer report and
a peak RSS under --max-rss-mb, and finds what it finds with one copy: the same rules and
subjects (a finding is one per rule and subject, whichever logs show it), log.repeated-batch
among them. A search that looked for the end of each loop's run from the loop's last entry
to the end of all the entries read every later log for each log's loop: 500 copies took 52 s
in that rule, 1 s since it stays within the loop's own log.

Usage: check_many_logs.py --dbautopsy PATH --fixtures DIR [--copies N] [--max-seconds S]
                          [--max-rss-mb M]
"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from measured import bounded, copies_arguments, finish, measure  # noqa: E402

CASE = "cases/league_incident"


def main():
    a = copies_arguments(400)
    failures = []
    src = Path(a.fixtures) / CASE
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        case = tmp / "case"
        (case / "logs").mkdir(parents=True)
        for name in ("before.sql.gz", "after.sql.gz", "etl.log"):
            shutil.copy(src / name, case / name)
        runs = {}
        for copies in (1, a.copies):
            for n in range(1, copies + 1):
                shutil.copy(src / "postgresql.log", case / "logs" / f"pg_{n}.log")
            rc, out, err, rss, cpu, wall = measure(
                [str(Path(a.dbautopsy).resolve()), "investigate", str(case), "--store",
                 str(tmp / f"case{copies}.db"), "--format", "json", "--fail-on", "never"],
                a.max_seconds)
            print(f"investigate of league_incident with {copies} copies of its server log: "
                  f"exit {rc}, {rss:.0f} MiB peak, {cpu:.1f} s CPU, {wall:.1f} s wall")
            failures += bounded(f"{copies} copies", rc, err, rss, a.max_seconds, a.max_rss_mb)
            if rc == 0:
                runs[copies] = sorted(json.dumps([f["rule"], f["subject"]], sort_keys=True)
                                      for f in json.loads(out)["findings"])
        if len(runs) == 2:
            one, many = runs[1], runs[a.copies]
            if not any('"log.repeated-batch"' in f for f in one):
                failures.append("one copy: no log.repeated-batch finding")
            if many != one:
                failures.append(f"{a.copies} copies find other findings than one: "
                                f"{sorted(set(many) - set(one))[:3]} more, "
                                f"{sorted(set(one) - set(many))[:3]} fewer")
            print(f"{len(one)} findings either way")
    return finish(failures)


if __name__ == "__main__":
    sys.exit(main())
