#!/usr/bin/env python3
"""A Django history of many migrations: bounded time and memory, the same findings per app.

The case is made in a temporary folder from fixtures/cases/django_drift (real Django
migrations, a real pg_dump): its dump, its migrations and its django_migrations export, plus
--copies copies of its `user_profile` app (21 migrations) under new app labels
(user_profile_1, user_profile_2, ...: every `user_profile` word of the files renamed, so each
copy has its own tables, dependencies and foreign keys), each copy's migrations recorded as
applied as the original's are. The dump has none of the copies' tables.

Checks: `investigate` ends by itself within --max-seconds with exit 0, no sanitizer report and
a peak RSS under --max-rss-mb; and every copy has the findings of the first (rule, migration,
schema, table and column, the copy's label replaced), which are not none (some of a copy's
tables are the original's: `db_table` names them, and the copy adds its own foreign key). A
rule whose work grows with the whole history for each object it checks makes a history of
1,300 migrations take minutes (an expected object's presence, a never-run alteration and the
intents were views that each look-up computed again: 335 s for 60 copies before they were
tables, 9 s after).

Usage: check_many_migrations.py --dbautopsy PATH --fixtures DIR [--copies N]
                                [--max-seconds S] [--max-rss-mb M]
"""
import csv
import json
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from measured import bounded, copies_arguments, finish, measure  # noqa: E402

CASE = "cases/django_drift"
APP = "user_profile"


def make_case(folder, fixtures, copies):
    src = Path(fixtures) / CASE
    shutil.copy(src / "full.sql.gz", folder / "full.sql.gz")
    shutil.copytree(src / "migrations", folder / "migrations")
    word = re.compile(r"\b" + APP + r"\b")
    for n in range(1, copies + 1):
        label = f"{APP}_{n}"
        target = folder / "migrations" / label
        target.mkdir()
        for f in sorted((src / "migrations" / APP).iterdir()):
            (target / f.name).write_text(word.sub(label, f.read_text()))
    with open(src / "django_migrations.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    app, ident = header.index("app"), header.index("id")
    next_id = max(int(r[ident]) for r in body) + 1
    extra = []
    for n in range(1, copies + 1):
        for r in body:
            if r[app] == APP:
                copy = list(r)
                copy[app] = f"{APP}_{n}"
                copy[ident] = str(next_id)
                next_id += 1
                extra.append(copy)
    with open(folder / "django_migrations.csv", "w", newline="") as f:
        csv.writer(f).writerows([header] + body + extra)


def per_copy(findings, copies):
    """Each copy's findings, as rule, migration, schema, table and column with the copy's
    label written as {app}. Index and constraint names are left out: Django derives them
    from a hash of the table's and columns' names, so each copy's differ."""
    out = {n: Counter() for n in range(1, copies + 1)}
    label = re.compile(r"\b" + APP + r"_(\d+)(?=[._]|\b)")
    for f in findings:
        subject = {k: f["subject"].get(k) for k in ("migration", "schema", "table", "column")}
        text = json.dumps([f["rule"], subject], sort_keys=True)
        found = {int(m) for m in label.findall(text)}
        if len(found) == 1:
            n = found.pop()
            if n in out:
                out[n][label.sub("{app}", text)] += 1
    return out


def main():
    a = copies_arguments(60)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        case = tmp / "case"
        case.mkdir()
        make_case(case, a.fixtures, a.copies)
        rc, out, err, rss, cpu, wall = measure(
            [str(Path(a.dbautopsy).resolve()), "investigate", str(case), "--store",
             str(tmp / "case.db"), "--format", "json", "--fail-on", "never"], a.max_seconds)
        print(f"investigate of django_drift with {a.copies} copies of {APP} "
              f"({21 * a.copies} more migrations): exit {rc}, {rss:.0f} MiB peak, "
              f"{cpu:.1f} s CPU, {wall:.1f} s wall")
        failures += bounded("investigate", rc, err, rss, a.max_seconds, a.max_rss_mb)
        if rc == 0:
            copies = per_copy(json.loads(out)["findings"], a.copies)
            first = copies[1]
            if not first:
                failures.append(f"no finding names {APP}_1, the first copy")
            for n, found in copies.items():
                if found != first:
                    failures.append(f"{APP}_{n} has other findings than {APP}_1: "
                                    f"{sorted((found - first).elements())[:3]} more, "
                                    f"{sorted((first - found).elements())[:3]} fewer")
                    break
            rules = Counter(json.loads(t)[0] for t in first.elements())
            print(f"each copy: {sum(first.values())} findings: "
                  + ", ".join(f"{n} {r}" for r, n in sorted(rules.items())))
    return finish(failures)


if __name__ == "__main__":
    sys.exit(main())
